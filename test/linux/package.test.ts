// The published shape: npm pack yields dist/ and the host's prebuild, and the tarball installs and
// loads from prebuilds/ with no compiler anywhere on PATH.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ROOT, makeTempDir, removeTree } from './helpers';

const NPM_CLI = process.env.npm_execpath?.endsWith('npm-cli.js')
  ? process.env.npm_execpath
  : realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim());

const HOST = `${process.platform}-${process.arch}`;

let work: string;
let tarball: string;
let packedFiles: string[];
let consumer: string;
let bareBin: string;

function npm(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const result = spawnSync(process.execPath, [NPM_CLI, ...args], { cwd, env, encoding: 'utf8', timeout: 240_000 });
  if (result.status !== 0) throw new Error(`npm ${args.join(' ')} exited ${result.status}:\n${result.stderr}`);
  return result.stdout;
}

// A PATH holding node and sh only: no cc, c++, make or python3, so node-gyp cannot build anything.
function makeBareBin(): string {
  const bin = join(work, 'bin');
  mkdirSync(bin);
  symlinkSync(process.execPath, join(bin, 'node'));
  symlinkSync('/bin/sh', join(bin, 'sh'));
  return bin;
}

// The project's files as a clean clone has them (plus files not yet committed), without build/, dist/ or
// prebuilds/: packing rebuilds the addon, and must not do it under the other test files' feet.
function cleanCopy(): string {
  const copy = join(work, 'source');
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
  for (const file of files.split('\0').filter((name) => name !== '' && existsSync(join(ROOT, name)))) {
    cpSync(join(ROOT, file), join(copy, file));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  return copy;
}

beforeAll(() => {
  work = makeTempDir();
  // prepack compiles dist/ and runs prebuildify for this host.
  const output = npm(['pack', '--json', '--pack-destination', work], cleanCopy());
  // The prepack scripts print to the same stdout: the JSON report starts at the last line that is "[".
  const report = output.slice(output.search(/^\[$(?![\s\S]*^\[$)/m));
  const [packed] = JSON.parse(report) as [
    { filename: string; files: { path: string }[] },
  ];
  tarball = join(work, packed.filename);
  packedFiles = packed.files.map((file) => file.path);

  bareBin = makeBareBin();
  consumer = join(work, 'consumer');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  const env = { ...process.env, PATH: bareBin, npm_config_nodedir: '', PREBUILDS_ONLY: '1' };
  npm(['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], consumer, env);
}, 300_000);

afterAll(() => removeTree(work));

describe('the packed tarball', () => {
  it('holds dist/, the sources to rebuild from, and the prebuild for this host', () => {
    expect(packedFiles).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'binding.gyp',
        'dist/index.js',
        'dist/index.d.ts',
        'src/addon.cc',
        'src/flags_linux.cc',
        'src/flags_bsd.cc',
        `prebuilds/${HOST}/fs-append-only.node`,
      ]),
    );
    expect(packedFiles.filter((file) => /^(test|lib|bench|build|node_modules|\.github|\.ci)\//.test(file))).toEqual([]);
  });

  it('the bare PATH really has no compiler', () => {
    for (const tool of ['cc', 'c++', 'gcc', 'make', 'python3']) {
      const found = spawnSync('/bin/sh', ['-c', `command -v ${tool}`], { env: { PATH: bareBin }, encoding: 'utf8' });
      expect({ tool, found: found.stdout }).toEqual({ tool, found: '' });
      expect(found.status).not.toBe(0);
    }
  });

  it('installs without compiling and loads the addon from prebuilds/', () => {
    const installed = join(consumer, 'node_modules', 'fs-append-only');
    expect(existsSync(join(installed, 'build'))).toBe(false);
    const file = join(work, 'consumer.log');
    writeFileSync(file, 'x\n');
    const script = `
      const api = require('fs-append-only');
      const loadedFrom = require('node-gyp-build').resolve(require('path').dirname(require.resolve('fs-append-only/package.json')));
      const set = api.protectAppendOnlySync(process.argv[1]);
      const read = api.isAppendOnlySync(process.argv[1]);
      const cleared = api.unprotectAppendOnlySync(process.argv[1]);
      console.log(JSON.stringify({ loadedFrom, set, read, cleared, method: api.platformSupportInfo().method }));`;
    const result = spawnSync(process.execPath, ['-e', script, '--', file], {
      cwd: consumer,
      env: { PATH: bareBin, PREBUILDS_ONLY: '1' },
      encoding: 'utf8',
    });
    expect(result.stderr).toBe('');
    const outcome = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(outcome).toMatchObject({ set: true, read: true, cleared: true, method: 'ioctl' });
    expect(outcome.loadedFrom).toBe(join(realpathSync(installed), 'prebuilds', HOST, 'fs-append-only.node'));
  });

  it('type-checks a consumer against the shipped .d.ts, and its types catch misuse', () => {
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const compilerOptions = {
      strict: true,
      module: 'nodenext',
      moduleResolution: 'nodenext',
      target: 'ES2022',
      noEmit: true,
      typeRoots: [join(ROOT, 'node_modules', '@types')],
      types: ['node'],
    };
    writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['good.ts'] }));
    writeFileSync(
      join(consumer, 'good.ts'),
      `import { protectAppendOnly, isAppendOnlySync, getFileAttributesSync, platformSupportInfo, AppendOnlyError,
         type PlatformSupportInfo, type FileAttributes } from 'fs-append-only';
       export async function check(path: string): Promise<boolean> {
         const info: PlatformSupportInfo = platformSupportInfo({ path: '/tmp' });
         const attributes: FileAttributes = getFileAttributesSync(new URL('file:///tmp/x'));
         try { return (await protectAppendOnly(path, { strict: true })) && isAppendOnlySync(Buffer.from(path)) && info.supported && attributes.appendOnly; }
         catch (error) { if (error instanceof AppendOnlyError) { const code: string = error.code; return code === 'EPERM'; } throw error; }
       }`,
    );
    const good = spawnSync(process.execPath, [tsc, '-p', consumer], { encoding: 'utf8' });
    expect(good.stdout + good.stderr).toBe('');
    expect(good.status).toBe(0);

    writeFileSync(join(consumer, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['bad.ts'] }));
    writeFileSync(
      join(consumer, 'bad.ts'),
      `import { isAppendOnlySync, protectAppendOnly } from 'fs-append-only';
       export const wrongResult: string = isAppendOnlySync('/tmp/x');
       export const wrongPath = protectAppendOnly(42);`,
    );
    const bad = spawnSync(process.execPath, [tsc, '-p', consumer], { encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toContain("Type 'boolean' is not assignable to type 'string'");
    expect(bad.stdout).toContain("Argument of type 'number' is not assignable");
  });
});
