#!/usr/bin/env node
// fs-append-only: the command-line tool, a thin layer over the public API.
import { randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

import {
  AppendOnlyLog,
  type Head,
  type LogKey,
  type VerifyReport,
  clearImmutableSync,
  getFileAttributesSync,
  platformSupportInfo,
  protectAppendOnlySync,
  readLog,
  setImmutableSync,
  unprotectAppendOnlySync,
  verifyLog,
} from './index';
import { readTail } from './log/tail';

const USAGE = `Usage: fs-append-only <command> [arguments]

  info [--path DIR] [--json]        can this process protect files here? (exit 1 when not)
  protect <file>                    set the append-only flag
  unprotect <file>                  clear it
  seal <file>                       set the immutable flag
  unseal <file>                     clear it
  status <file>                     show the flags and the filesystem
  append <log> [json] [--key id=FILE]
                                    append one JSON value, or one per line from stdin
  verify <log> [--key id=FILE]... [--anchor SEQ:HASH] [--since SEQ:HASH[:OFFSET]] [--json]
                                    exit 0 intact, 1 tampered, 2 usage or I/O error
  tail <log> [-n N]                 the last N records (default 10)
  head <log> [--json]               the last record's SEQ:HASH, an anchor to keep elsewhere
  demo                              see it work in a temporary directory

A key FILE holds the secret's bytes (one trailing newline is ignored).`;

class UsageError extends Error {}

const write = (text: string): boolean => process.stdout.write(`${text}\n`);

function readKey(spec: string): LogKey {
  const equals = spec.indexOf('=');
  if (equals < 1) throw new UsageError(`--key takes id=path-to-secret, not "${spec}"`);
  const secret = readFileSync(spec.slice(equals + 1));
  const trimmed = secret[secret.length - 1] === 0x0a ? secret.subarray(0, -1) : secret;
  return { id: spec.slice(0, equals), secret: trimmed };
}

function parseHead(spec: string, name: string): Head & { offset?: number } {
  const [seq, hash, offset, extra] = spec.split(':');
  if (extra !== undefined || !/^\d+$/.test(seq ?? '') || !/^[0-9a-f]{64}$/.test(hash ?? '') || (offset !== undefined && !/^\d+$/.test(offset))) {
    throw new UsageError(`--${name} takes SEQ:HASH${name === 'since' ? '[:OFFSET]' : ''} (HASH: 64 hex digits), not "${spec}"`);
  }
  return offset === undefined ? { seq: Number(seq), hash: hash! } : { seq: Number(seq), hash: hash!, offset: Number(offset) };
}

function needFile(positionals: string[], command: string): string {
  const file = positionals[0];
  if (file === undefined) throw new UsageError(`${command} needs a file`);
  return file;
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${where} is not JSON: ${(error as Error).message}`);
  }
}

async function append(positionals: string[], keys: string[]): Promise<number> {
  const path = needFile(positionals, 'append');
  const key = keys.length > 0 ? readKey(keys[keys.length - 1]!) : undefined;
  const values: unknown[] = [];
  if (positionals[1] !== undefined) values.push(parseJson(positionals[1], 'the value'));
  const log = await AppendOnlyLog.open(path, key ? { key } : {});
  try {
    if (values.length === 0) {
      let lineNumber = 0;
      for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
        lineNumber += 1;
        if (line.trim() !== '') await log.append(parseJson(line, `stdin line ${lineNumber}`));
      }
    } else {
      await log.append(values[0]);
    }
  } finally {
    await log.close();
  }
  const head = log.head;
  write(head === null ? 'nothing appended' : `${head.seq}:${head.hash}`);
  return 0;
}

function progressBar(path: string): ((read: number, total: number) => void) | undefined {
  const large = 64 * 1024 * 1024;
  if (!process.stderr.isTTY || statSync(path).size < large) return undefined;
  let last = 0;
  return (read, total) => {
    const now = Date.now();
    if (now - last < 200 && read < total) return;
    last = now;
    const share = total === 0 ? 1 : Math.min(1, read / total);
    const filled = Math.round(share * 30);
    process.stderr.write(`\rverifying [${'#'.repeat(filled)}${' '.repeat(30 - filled)}] ${(share * 100).toFixed(0)}% of ${(total / 1e6).toFixed(0)} MB`);
    if (read >= total) process.stderr.write('\n');
  };
}

function describeReport(report: VerifyReport): string[] {
  const lines = [`${report.status}: ${report.records} records${report.head ? `, head ${report.head.seq}:${report.head.hash}` : ''}`];
  if (!report.signaturesChecked) lines.push('signatures not checked (no --key given)');
  for (const entry of report.tampered) {
    lines.push(`  line ${entry.line}${entry.seq !== undefined ? ` (seq ${entry.seq})` : ''}: ${entry.reason}: ${entry.detail}`);
  }
  if (report.tamperedEntries > report.tampered.length) lines.push(`  ... ${report.tamperedEntries - report.tampered.length} more lines`);
  for (const recovery of report.recovered) lines.push(`  recovered torn bytes at line ${recovery.line} (${recovery.length} bytes, closed by seq ${recovery.seq})`);
  if (report.tornTail) lines.push(`  torn tail: ${report.tornTail.length} bytes at offset ${report.tornTail.offset} (a crash; the next open recovers it)`);
  if (report.unknownKeyIds.length > 0) lines.push(`  unknown key ids: ${report.unknownKeyIds.join(', ')}`);
  return lines;
}

async function verify(positionals: string[], values: Record<string, unknown>): Promise<number> {
  const path = needFile(positionals, 'verify');
  const keys = Object.fromEntries((values.key as string[]).map(readKey).map((key) => [key.id, key.secret]));
  const report = await verifyLog(path, {
    ...((values.key as string[]).length > 0 ? { keys } : {}),
    ...(values.anchor !== undefined ? { anchor: parseHead(values.anchor as string, 'anchor') } : {}),
    ...(values.since !== undefined ? { since: parseHead(values.since as string, 'since') } : {}),
    ...(values.json ? {} : { onProgress: progressBar(path) }),
  });
  if (values.json) write(JSON.stringify(report, null, 2));
  else describeReport(report).forEach((line) => write(line));
  return report.ok ? 0 : 1;
}

async function tail(positionals: string[], count: string | undefined): Promise<number> {
  const path = needFile(positionals, 'tail');
  const wanted = count === undefined ? 10 : Number(count);
  if (!Number.isSafeInteger(wanted) || wanted < 0) throw new UsageError(`-n takes a whole number, not "${count}"`);
  const last: unknown[] = [];
  for await (const record of readLog(path)) {
    last.push(record);
    if (last.length > wanted) last.shift();
  }
  last.forEach((record) => write(JSON.stringify(record)));
  return 0;
}

function head(positionals: string[], json: boolean): number {
  const path = needFile(positionals, 'head');
  const fd = openSync(path, 'r');
  try {
    const state = readTail(fd, statSync(path).size);
    if (state.head === null) throw new UsageError(`${path} holds no record yet`);
    write(json ? JSON.stringify({ ...state.head, offset: state.headEnd }) : `${state.head.seq}:${state.head.hash}`);
  } finally {
    closeSync(fd);
  }
  return 0;
}

function info(values: Record<string, unknown>): number {
  const support = platformSupportInfo(values.path !== undefined ? { path: values.path as string } : {});
  if (values.json) {
    write(JSON.stringify(support, null, 2));
  } else {
    write(`platform      ${support.platform} (${support.method})`);
    write(`supported     ${support.supported ? 'yes' : 'no'}`);
    write(`capability    ${support.hasCapability ? 'yes' : 'no'}${support.userNamespace ? ' (inside a user namespace)' : ''}`);
    write(`container     ${support.inContainer ? (support.containerRuntime ?? 'yes, runtime unknown') : 'no'}`);
    if (support.filesystem !== null) write(`filesystem    ${support.filesystem}`);
    write(`\n${support.notes}`);
  }
  return support.supported ? 0 : 1;
}

async function demo(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'fs-append-only-demo-'));
  const file = join(dir, 'audit.log');
  const key = { id: 'demo', secret: randomBytes(32) };
  let protectedHere = false;
  try {
    write(`1. Writing a signed, hash-chained audit log: ${file}`);
    const log = await AppendOnlyLog.open(file, { key });
    for (const event of [
      { actor: 'alice', action: 'login' },
      { actor: 'alice', action: 'export', report: 'q3-revenue' },
      { actor: 'bob', action: 'grant', role: 'admin' },
      { actor: 'bob', action: 'logout' },
    ]) {
      const { seq, hash } = await log.append(event);
      write(`   seq ${seq}  ${hash.slice(0, 16)}...  ${JSON.stringify(event)}`);
    }
    await log.close();

    const support = platformSupportInfo({ path: dir });
    if (support.supported) {
      protectedHere = protectAppendOnlySync(file);
      write('2. Protected it with the append-only flag (as chattr +a). Now an overwrite:');
      try {
        writeFileSync(file, 'forged history\n');
        write('   the overwrite went through: the flag did not hold here');
      } catch (error) {
        write(`   refused by the kernel: ${(error as NodeJS.ErrnoException).code}`);
      }
    } else {
      write(`2. The OS cannot protect it here, so no overwrite is tried. ${support.notes}`);
    }

    const intact = await verifyLog(file, { keys: { demo: key.secret } });
    write(`3. verifyLog: ${intact.status}, ${intact.records} records, signatures checked`);

    const copy = join(dir, 'tampered.log');
    copyFileSync(file, copy);
    writeFileSync(copy, readFileSync(copy, 'utf8').replace('"role":"admin"', '"role":"user "'));
    const tampered = await verifyLog(copy, { keys: { demo: key.secret } });
    write('4. A copy with one value edited ("admin" -> "user "):');
    describeReport(tampered).forEach((line) => write(`   ${line}`));
    return tampered.ok ? 1 : 0;
  } finally {
    if (protectedHere) unprotectAppendOnlySync(file);
    rmSync(dir, { recursive: true, force: true });
    write('5. Cleaned up.');
  }
}

async function attribute(command: string, positionals: string[]): Promise<number> {
  const file = needFile(positionals, command);
  const change: Record<string, (path: string) => boolean> = {
    protect: (path) => protectAppendOnlySync(path, { strict: true }),
    unprotect: unprotectAppendOnlySync,
    seal: (path) => setImmutableSync(path, { strict: true }),
    unseal: clearImmutableSync,
  };
  if (command !== 'status') change[command]!(file);
  const attributes = getFileAttributesSync(file);
  write(`${file}: ${attributes.appendOnly ? 'append-only' : 'not append-only'}, ${attributes.immutable ? 'immutable' : 'not immutable'} (${attributes.filesystem})`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      key: { type: 'string', multiple: true, default: [] },
      anchor: { type: 'string' },
      since: { type: 'string' },
      path: { type: 'string' },
      n: { type: 'string', short: 'n' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') {
    write(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  switch (command) {
    case 'info':
      return info(values);
    case 'protect':
    case 'unprotect':
    case 'seal':
    case 'unseal':
    case 'status':
      return attribute(command, rest);
    case 'append':
      return append(rest, values.key);
    case 'verify':
      return verify(rest, values);
    case 'tail':
      return tail(rest, values.n);
    case 'head':
      return head(rest, values.json);
    case 'demo':
      return demo();
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // One line: some messages (node:util parseArgs's) span several.
    const message = (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ');
    process.stderr.write(`fs-append-only: ${message}${error instanceof UsageError || (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? '\nRun fs-append-only --help for usage.' : ''}\n`);
    process.exitCode = 2;
  },
);
