// The published shape: the tarball holds exactly dist/, the sources, the docs and the host's prebuild
// (made as the release workflow makes it, then packed), installs and loads from prebuilds/ with no
// compiler anywhere on PATH, works with pino and winston as a user writes it, and its types compile in
// strict consumers.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type LogRecord, readLog, verifyLog } from '../../lib/index';
import { ROOT, makeTempDir, removeTree } from './helpers';

const NPM_CLI = process.env.npm_execpath?.endsWith('npm-cli.js')
  ? process.env.npm_execpath
  : realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim());

const HOST = `${process.platform}-${process.arch}`;
// The release workflow builds Linux binaries with --tag-libc; this test makes the host's the same way.
const PREBUILD = `prebuilds/${HOST}/fs-append-only.glibc.node`;

let work: string;
let source: string;
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

function filesUnder(root: string, dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)));
}

beforeAll(() => {
  work = makeTempDir();
  source = cleanCopy();
  // As the release workflow does: the prebuild first (prepack builds only dist/), then the tarball.
  npm(['run', 'build:prebuilds', '--', '--tag-libc'], source);
  const output = npm(['pack', '--json', '--pack-destination', work], source);
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
  // pino 9 and 10 and winston, the versions users install, from the registry.
  const loggers = ['pino9@npm:pino@9', 'pino10@npm:pino@10', 'winston@3'];
  npm(['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, ...loggers], consumer, env);
}, 300_000);

afterAll(() => removeTree(work));

describe('the packed tarball', () => {
  it('holds exactly dist/ (lib/ compiled), the sources to rebuild from, the docs and the prebuild for this host', () => {
    const compiled = filesUnder(source, 'lib')
      .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
      .flatMap((file) => {
        const base = file.replace(/^lib\//, 'dist/').replace(/\.ts$/, '');
        return [`${base}.js`, `${base}.d.ts`];
      });
    const expected = ['package.json', 'README.md', 'LICENSE', 'binding.gyp', 'prebuilds/README.md', PREBUILD, ...filesUnder(source, 'src'), ...compiled];
    expect([...packedFiles].sort()).toEqual([...new Set(expected)].sort());
    expect(packedFiles).toEqual(
      expect.arrayContaining(['dist/index.js', 'dist/integrations/pino.js', 'dist/integrations/winston.d.ts', 'src/addon.cc']),
    );
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
    expect(outcome.loadedFrom).toBe(join(realpathSync(installed), PREBUILD));
  });

  async function records(path: string): Promise<LogRecord[]> {
    const all: LogRecord[] = [];
    for await (const record of readLog(path)) all.push(record);
    return all;
  }

  function runConsumer(file: string, text: string, args: string[]): { status: number | null; stderr: string } {
    writeFileSync(join(consumer, file), text);
    const result = spawnSync(process.execPath, [file, ...args], {
      cwd: consumer,
      env: { PATH: bareBin, PREBUILDS_ONLY: '1' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: result.status, stderr: result.stderr };
  }

  it('works as pino.transport({ target: "fs-append-only/pino" }) and as a destination, from ESM, with pino 9 and 10', async () => {
    const script = `
      import { appendOnlyDestination } from 'fs-append-only/pino';
      const [name, mode, path] = process.argv.slice(2);
      const { default: pino } = await import(name);
      const key = { id: 'k1', secret: 'c'.repeat(32) };
      const stream = mode === 'transport'
        ? pino.transport({ target: 'fs-append-only/pino', options: { path, key } })
        : appendOnlyDestination({ path, key });
      const logger = pino(stream);
      const go = () => {
        for (let i = 0; i < 100; i++) logger.info({ i }, 'hello');
        process.exit(0);
      };
      if (mode === 'transport') go(); else stream.once('ready', go);`;
    for (const name of ['pino9', 'pino10']) {
      for (const mode of ['transport', 'destination']) {
        const path = join(work, `${name}-${mode}.log`);
        expect(runConsumer('pino-use.mjs', script, [name, mode, path])).toEqual({ status: 0, stderr: '' });
        expect(await verifyLog(path, { keys: { k1: 'c'.repeat(32) } })).toMatchObject({ status: 'intact', records: 100 });
        expect((await records(path))[99]!.data).toMatchObject({ level: 30, i: 99, msg: 'hello' });
      }
    }
  });

  it('works as a winston transport', async () => {
    const path = join(work, 'winston.log');
    const script = `
      const winston = require('winston');
      const { AppendOnlyTransport } = require('fs-append-only/winston');
      const logger = winston.createLogger({ transports: [new AppendOnlyTransport({ path: process.argv[2] })] });
      for (let i = 0; i < 100; i++) logger.info('hello', { i });
      logger.on('finish', () => process.exit(0));
      logger.end();`;
    expect(runConsumer('winston-use.cjs', script, [path])).toEqual({ status: 0, stderr: '' });
    expect(await verifyLog(path)).toMatchObject({ status: 'intact', records: 100 });
    expect((await records(path))[99]!.data).toEqual({ i: 99, level: 'info', message: 'hello' });
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
       import winston from 'winston';
       import { AppendOnlyTransport } from 'fs-append-only/winston';
       export const logger = winston.createLogger({ transports: [new AppendOnlyTransport({ path: '/tmp/w.log', level: 'info', durability: 'none' })] });
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
       import { AppendOnlyTransport } from 'fs-append-only/winston';
       export const wrongResult: string = isAppendOnlySync('/tmp/x');
       export const wrongPath = protectAppendOnly(42);
       export const wrongDurability = new AppendOnlyTransport({ path: '/tmp/w.log', durability: 'fast' });`,
    );
    const bad = spawnSync(process.execPath, [tsc, '-p', consumer], { encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toContain("Type 'boolean' is not assignable to type 'string'");
    expect(bad.stdout).toContain("Argument of type 'number' is not assignable");
    expect(bad.stdout).toContain(`Type '"fast"' is not assignable to type`);
  });
});

// What a TypeScript user gets from npm today: TypeScript 5, 6 and 7 (the Go port, published as
// typescript@7), each in a project that pins the oldest @types/node this package supports and in one
// that never installed @types/node. The consumers' tsconfig sets no "types": TypeScript 6 and 7 then
// load no @types package unless a declaration file asks for it.
const TYPESCRIPT_MAJORS = [5, 6, 7] as const;

const CONSUMER_TS = `
  import {
    AppendOnlyError, AppendOnlyLog, platformSupportInfo, protectAppendOnly, verifyLog,
    type AppendOnlyErrorDetails, type PlatformSupportInfo, type VerifyReport,
  } from 'fs-append-only';
  import { appendOnlyDestination, appendOnlyTransport, type AppendOnlyTransportOptions } from 'fs-append-only/pino';

  export async function logTo(path: string): Promise<void> {
    const options: AppendOnlyTransportOptions = { path, key: { id: 'k1', secretFile: '/etc/audit-key' }, durability: 'none' };
    const destination = appendOnlyDestination({ path, protect: true });
    destination.write('{"msg":"hello"}\\n');
    destination.flushSync();
    destination.end();
    (await appendOnlyTransport(options)).end();
  }

  export async function audit(file: string): Promise<string> {
    const info: PlatformSupportInfo = platformSupportInfo({ path: file });
    const log = await AppendOnlyLog.open(file);
    await log.append({ actor: 'alice', action: 'export' });
    await log.close();
    try {
      if (info.supported) await protectAppendOnly(new URL(\`file://\${file}\`));
    } catch (error) {
      if (error instanceof AppendOnlyError) return error.code;
      throw error;
    }
    const report: VerifyReport = await verifyLog(file);
    const details: AppendOnlyErrorDetails = { code: 'E_AUDIT', fix: 'look' };
    return report.status === 'intact' ? info.platform : new AppendOnlyError('tampered', details).message;
  }
`;

describe('the shipped types, in strict consumers', () => {
  let projects: { withNode: string; withoutNode: string };

  beforeAll(() => {
    const env = { ...process.env, npm_config_cache: join(work, 'npm-cache') };
    const install = (name: string, extra: string[]): string => {
      const dir = join(work, name);
      mkdirSync(dir);
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true }));
      const typescripts = TYPESCRIPT_MAJORS.map((major) => `typescript${major}@npm:typescript@${major}`);
      npm(['install', '--no-audit', '--no-fund', '--ignore-scripts', tarball, ...typescripts, ...extra], dir, env);
      const compilerOptions = { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true };
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['esm.mts', 'commonjs.cts'] }));
      writeFileSync(join(dir, 'esm.mts'), CONSUMER_TS);
      writeFileSync(join(dir, 'commonjs.cts'), CONSUMER_TS);
      return dir;
    };
    projects = { withNode: install('types-with-node', ['@types/node@20']), withoutNode: install('types-without-node', []) };
  }, 120_000);

  function tsc(dir: string, major: number): { version: string; output: string; status: number | null } {
    const bin = join(dir, 'node_modules', `typescript${major}`, 'bin', 'tsc');
    const version = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8' }).stdout.trim();
    const result = spawnSync(process.execPath, [bin, '-p', dir], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    return { version, output: result.stdout + result.stderr, status: result.status };
  }

  for (const major of TYPESCRIPT_MAJORS) {
    it(`compiles under TypeScript ${major} with @types/node 20 installed`, () => {
      const result = tsc(projects.withNode, major);
      expect(result.version).toMatch(new RegExp(`^Version ${major}\\.`));
      expect(result).toMatchObject({ output: '', status: 0 });
    });

    it(`compiles under TypeScript ${major} in a project that never installed @types/node`, () => {
      const result = tsc(projects.withoutNode, major);
      expect(result.version).toMatch(new RegExp(`^Version ${major}\\.`));
      expect(result).toMatchObject({ output: '', status: 0 });
    });
  }

  it('leaves winston-transport out when the project does not use winston (an optional peer)', () => {
    expect(existsSync(join(projects.withoutNode, 'node_modules', 'winston-transport'))).toBe(false);
  });

  it('brings @types/node along as a peer, keeping the version a project already has', () => {
    const version = (dir: string): string =>
      (JSON.parse(readFileSync(join(dir, 'node_modules', '@types', 'node', 'package.json'), 'utf8')) as { version: string }).version;
    expect(version(projects.withNode)).toMatch(/^20\./);
    expect(existsSync(join(projects.withNode, 'node_modules', 'fs-append-only', 'node_modules', '@types'))).toBe(false);
    expect(version(projects.withoutNode)).toMatch(/^\d+\./);
  });
});
