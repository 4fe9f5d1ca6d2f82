#!/usr/bin/env node
// fs-append-only: the command-line tool, a thin layer over the public API.
import { randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, fchmodSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

import {
  AppendOnlyLog,
  type Head,
  type LogKey,
  type VerifyReport,
  checkInclusion,
  clearImmutableSync,
  formatProof,
  generateCheckpointKey,
  getFileAttributesSync,
  parseCheckpointBody,
  parseProof,
  proveInclusion,
  readLog,
  verifyCheckpoint,
  platformSupportInfo,
  protectAppendOnlySync,
  pruneLog,
  setImmutableSync,
  unprotectAppendOnlySync,
  verifyLog,
} from './index';
import { leafHash, verifyInclusion } from './checkpoint/merkle';
import { parseVerifierKey } from './checkpoint/note';
import { readLinesBackward } from './log/backward';
import { openLog } from './log/lines';
import { recordOf } from './log/reader';
import { listSegments } from './log/segments';
import { readTail } from './log/tail';

const USAGE = `Usage: fs-append-only <command> [arguments]

  info [--path DIR] [--json]        can this process protect files here? (exit 1 when not)
  protect <file>...                 set the append-only flag
  unprotect <file>...               clear it
  seal <file>...                    set the immutable flag
  unseal <file>...                  clear it
  status <file>... [--json]         show the flags and the filesystem
  append <log> [json] [--key id=FILE]
                                    append one JSON value, or one per line from stdin
  verify <log>... [--key id=FILE]... [--anchor SEQ:HASH] [--since SEQ:HASH[:OFFSET]] [--json]
         [--checkpoint-key KEY]... [--checkpoint FILE]
                                    exit 0 intact, 1 tampered, 2 usage or I/O error
  tail <log> [-n N]                 the last N records as stored (default 10)
  head <log> [--json]               the last record's SEQ:HASH, an anchor to keep elsewhere
  prune <dir> --before SEQ|DATE [--key id=FILE]
                                    remove sealed segments older than that, after a prune record
  keygen <name> [--out FILE]        a checkpoint key pair: the signer goes to FILE (mode 0600,
                                    default ./<name with / as ->.key), the verifier to stdout
  checkpoint <log> --signer FILE [--key id=FILE]
                                    sign the tree of the records so far, append it, print the note
  prove <log> <seq> [--size N]      a c2sp.org/tlog-proof@v1 of record <seq> against the log's latest
                                    checkpoint record that covers it (or the one of N records)
  check-proof <file>|- --vkey KEY... --hash HEX
                                    check a proof for the record with that hash (exit 0 ok, 1 not)
  demo                              see it work in a temporary directory
  --version                         the version of fs-append-only

A <log> is a log file or the directory of a segmented log (its segments read as one chain; after a
prune, the tree of the removed records comes from the prune record). A key FILE holds the secret's bytes (one trailing newline is ignored). A KEY is a checkpoint
verifier key (<name>+<hash>+<base64>, as keygen prints) or @FILE, a file of them one a line. With
--checkpoint-key, verify checks every checkpoint record and names the last good one; --checkpoint
checks a note kept elsewhere against the log. With several files, each output line starts with its
file's name and the exit status is the worst of them.`;

class UsageError extends Error {}

const OPTIONS = {
  json: { type: 'boolean' },
  key: { type: 'string', multiple: true },
  anchor: { type: 'string', multiple: true },
  since: { type: 'string', multiple: true },
  path: { type: 'string', multiple: true },
  before: { type: 'string', multiple: true },
  n: { type: 'string', short: 'n', multiple: true },
  out: { type: 'string', multiple: true },
  signer: { type: 'string', multiple: true },
  size: { type: 'string', multiple: true },
  vkey: { type: 'string', multiple: true },
  hash: { type: 'string', multiple: true },
  'checkpoint-key': { type: 'string', multiple: true },
  checkpoint: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

type OptionName = keyof typeof OPTIONS;
type StringOption = Exclude<OptionName, 'json' | 'help' | 'version'>;
type Values = { json?: boolean; help?: boolean; version?: boolean } & { [name in StringOption]?: string[] };

const flagName = (name: string): string => (name === 'n' ? '-n' : `--${name}`);

interface Command {
  /** The options it takes besides --help and --version. */
  options: readonly OptionName[];
  /** How many positional arguments it takes. */
  minimum: number;
  maximum: number;
  /** What the first one is, for "needs a ..." */
  needs?: string;
  /** What it takes, for "... takes ..., not also" when that is not one of `needs`. */
  takes?: string;
  run(positionals: string[], values: Values): Promise<number>;
}

const write = (text: string): boolean => process.stdout.write(`${text}\n`);

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' ').trim();

function isUsageError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return error instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_'));
}

/** Every error is one line on stderr; with several files it starts with the file's name. */
function reportError(error: unknown, file?: string): void {
  const message = oneLine(error instanceof Error ? error.message : String(error));
  const hint = isUsageError(error) ? ' (fs-append-only --help shows the usage)' : '';
  process.stderr.write(`fs-append-only: ${file !== undefined ? `${file}: ` : ''}${message}${hint}\n`);
}

function errorJson(error: unknown): { code: string | undefined; message: string } {
  const code = (error as { code?: unknown }).code;
  return { code: typeof code === 'string' ? code : undefined, message: oneLine(error instanceof Error ? error.message : String(error)) };
}

/** One option given at most once: a second --anchor must not silently replace the first. */
function once(values: Values, name: StringOption): string | undefined {
  const given = values[name];
  if (given !== undefined && given.length > 1) throw new UsageError(`${flagName(name)} may be given only once`);
  return given?.[0];
}

function readKey(spec: string): LogKey {
  const equals = spec.indexOf('=');
  if (equals < 1) throw new UsageError(`--key takes id=path-to-secret, not "${spec}"`);
  const secret = readFileSync(spec.slice(equals + 1));
  const trimmed = secret[secret.length - 1] === 0x0a ? secret.subarray(0, -1) : secret;
  return { id: spec.slice(0, equals), secret: trimmed };
}

/** SEQ:HASH, and for --since also :OFFSET and, in a directory log, :SEGMENT (as head --json gives them). */
function parseHead(spec: string, name: string): Head & { offset?: number; segment?: string } {
  const [seq, hash, offset, segment, extra] = spec.split(':');
  const sinceOnly = name !== 'since' && offset !== undefined;
  if (
    extra !== undefined ||
    sinceOnly ||
    !/^\d+$/.test(seq ?? '') ||
    !/^[0-9a-f]{64}$/.test(hash ?? '') ||
    (offset !== undefined && !/^\d+$/.test(offset)) ||
    (segment !== undefined && !/^\d{16}\.jsonl$/.test(segment))
  ) {
    throw new UsageError(`--${name} takes SEQ:HASH${name === 'since' ? '[:OFFSET[:SEGMENT]]' : ''} (HASH: 64 hex digits), not "${spec}"`);
  }
  const head: Head & { offset?: number; segment?: string } = { seq: Number(seq), hash: hash! };
  if (offset !== undefined) head.offset = Number(offset);
  if (segment !== undefined) head.segment = segment;
  return head;
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${where} is not JSON: ${(error as Error).message}`);
  }
}

/**
 * Runs a per-file command on each file in turn, as chattr does: an error on one file is reported on its
 * own line and the others still run. The exit status is the worst one.
 */
async function eachFile(files: string[], run: (file: string, prefix: string) => Promise<number>, onError?: (file: string, error: unknown) => void): Promise<number> {
  let worst = 0;
  for (const file of files) {
    const several = files.length > 1;
    let status: number;
    try {
      status = await run(file, several ? `${file}: ` : '');
    } catch (error) {
      reportError(error, several ? file : undefined);
      onError?.(file, error);
      status = 2;
    }
    worst = Math.max(worst, status);
  }
  return worst;
}

// stdin lines are appended without waiting for each (the writer commits the appends of one event-loop
// turn with one write and one fdatasync), but no more than this many at once, so memory stays bounded.
const MAX_IN_FLIGHT = 4096;

/** Which stdin lines reached the log, for the message that reports a failure. */
class Appended {
  issued = 0; // non-empty lines handed to append()
  count = 0; // of those, acknowledged
  firstLine = 0;
  lastLine = 0;
  firstSeq = 0;
  lastSeq = 0;

  acknowledge(line: number, seq: number): void {
    if (this.count === 0 || line < this.firstLine) [this.firstLine, this.firstSeq] = [line, seq];
    if (this.count === 0 || line > this.lastLine) [this.lastLine, this.lastSeq] = [line, seq];
    this.count += 1;
  }

  /** `issuedBefore`: how many non-empty lines were handed to append() before the failing line. */
  describe(failingLine: number, issuedBefore: number): string {
    if (this.count === 0) return 'nothing was appended';
    const seqs = this.count === 1 ? `seq ${this.firstSeq}` : `seq ${this.firstSeq} to ${this.lastSeq}`;
    if (this.count !== issuedBefore || this.lastLine > failingLine) {
      // A failed write: some of the lines around the failing one were not acknowledged.
      return `${this.count} non-empty lines from line ${this.firstLine} to ${this.lastLine} were appended (${seqs}), the others were not acknowledged`;
    }
    if (this.count === 1) return `line ${this.firstLine} was appended (${seqs})`;
    const which = this.lastLine - this.firstLine + 1 === this.count ? 'lines' : `the ${this.count} non-empty lines of lines`;
    return `${which} ${this.firstLine} to ${this.lastLine} were appended (${seqs})`;
  }
}

interface Failure {
  line: number;
  issuedBefore: number;
  error: unknown;
}

async function appendLines(log: AppendOnlyLog): Promise<void> {
  const appended = new Appended();
  let failure: Failure | null = null;
  let inFlight: Promise<void>[] = [];
  let lineNumber = 0;
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    // An append refused at once (a value too large) has reported itself by now: its handler ran as a
    // microtask before this iteration resumed.
    if (failure !== null) break;
    lineNumber += 1;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      failure = { line: lineNumber, issuedBefore: appended.issued, error: new Error(`is not JSON: ${(error as Error).message}`) };
      break;
    }
    const number = lineNumber;
    const issuedBefore = appended.issued++;
    inFlight.push(
      log.append(value).then(
        (head) => appended.acknowledge(number, head.seq),
        (error: unknown) => {
          if (failure === null || number < failure.line) failure = { line: number, issuedBefore, error };
        },
      ),
    );
    if (inFlight.length >= MAX_IN_FLIGHT) {
      await Promise.all(inFlight);
      inFlight = [];
    }
  }
  await Promise.all(inFlight);
  if (failure !== null) {
    const { line, issuedBefore, error } = failure as Failure;
    const message = (error as Error).message;
    const what = message.startsWith('is not JSON') ? message : `could not be appended: ${message}`;
    throw new Error(`stdin line ${line} ${what}; ${appended.describe(line, issuedBefore)}`);
  }
}

async function append(positionals: string[], values: Values): Promise<number> {
  const [path, text] = positionals as [string, string | undefined];
  const keySpec = once(values, 'key');
  const key = keySpec !== undefined ? readKey(keySpec) : undefined;
  // Parsed before the log is opened: a bad value must not create the file.
  const value = text !== undefined ? parseJson(text, 'the value') : undefined;
  const log = await AppendOnlyLog.open(path, key ? { key } : {});
  try {
    if (text === undefined) await appendLines(log);
    else await log.append(value);
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
  if (report.segments.length > 0) {
    const sealed = report.segments.filter((segment) => segment.sealed).length;
    lines.push(`${report.segments.length} segments (${sealed} sealed)${report.startsMidChain ? `, starting at seq ${report.startsMidChain.seq}` : ''}${report.pruned.length > 0 ? `, ${report.pruned.length} pruned` : ''}`);
  } else if (report.startsMidChain) {
    lines.push(`starts mid-chain at seq ${report.startsMidChain.seq} (a segment read on its own)`);
  }
  for (const entry of report.tampered) {
    const where = entry.file !== undefined ? `${entry.file} line ${entry.line}` : `line ${entry.line}`;
    lines.push(`  ${where}${entry.seq !== undefined ? ` (seq ${entry.seq})` : ''}: ${entry.reason}: ${entry.detail}`);
  }
  if (report.tamperedEntries > report.tampered.length) lines.push(`  ... ${report.tamperedEntries - report.tampered.length} more lines`);
  for (const recovery of report.recovered) lines.push(`  recovered torn bytes at line ${recovery.line} (${recovery.length} bytes, closed by seq ${recovery.seq})`);
  if (report.tornTail) lines.push(`  torn tail: ${report.tornTail.length} bytes at offset ${report.tornTail.offset} (a crash; the next open recovers it)`);
  if (report.unknownKeyIds.length > 0) lines.push(`  unknown key ids: ${report.unknownKeyIds.join(', ')}`);
  return lines;
}

/** The lines of a text file, one trailing newline ignored: a key file written by hand or by echo. */
function readTextFile(file: string): string {
  const text = readFileSync(file, 'utf8');
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

/** --checkpoint-key and --vkey: verifier keys, each given as the key or as @FILE holding them one a line. */
function readVerifierKeys(specs: readonly string[], flag: string): string[] {
  const keys: string[] = [];
  for (const spec of specs) {
    const from = spec.startsWith('@') ? spec.slice(1) : null;
    const given = from === null ? [spec] : readTextFile(from).split('\n').map((line) => line.trim()).filter((line) => line !== '');
    if (from !== null && given.length === 0) throw new UsageError(`${flag} @${from}: the file holds no key`);
    for (const key of given) {
      const where = from === null ? flag : `${flag} @${from}`;
      // Never echo a signer key: it is a secret given by mistake.
      if (key.startsWith('PRIVATE+KEY+')) throw new UsageError(`${where} is given a signer key: give its verifier key (keygen printed it)`);
      try {
        parseVerifierKey(key);
      } catch {
        throw new UsageError(`${where} takes a verifier key (<name>+<8 hex>+<base64>, as keygen prints) or @FILE, not "${key.length > 120 ? `${key.slice(0, 120)}...` : key}"`);
      }
      keys.push(key);
    }
  }
  return keys;
}

function describeCheckpointRecord(report: VerifyReport): string {
  const last = report.checkpoint;
  return last === null ? 'no checkpoint record verified' : `last good checkpoint: seq ${last.seq}, ${last.size} records, root ${last.root}`;
}

async function verify(files: string[], values: Values): Promise<number> {
  const anchor = once(values, 'anchor');
  const since = once(values, 'since');
  const keptFile = once(values, 'checkpoint');
  if (files.length > 1 && (anchor !== undefined || since !== undefined || keptFile !== undefined)) {
    const flag = anchor !== undefined ? '--anchor' : since !== undefined ? '--since' : '--checkpoint';
    throw new UsageError(`${flag} names a ${flag === '--checkpoint' ? 'tree' : 'record'} of one log: give one file with it`);
  }
  const checkpointKeys = readVerifierKeys(values['checkpoint-key'] ?? [], '--checkpoint-key');
  if (keptFile !== undefined && checkpointKeys.length === 0) throw new UsageError('--checkpoint needs at least one --checkpoint-key to verify the note with');
  const kept = keptFile !== undefined ? readFileSync(keptFile, 'utf8') : undefined;
  const keyList = (values.key ?? []).map(readKey);
  const options = {
    ...(keyList.length > 0 ? { keys: Object.fromEntries(keyList.map((key) => [key.id, key.secret])) } : {}),
    ...(anchor !== undefined ? { anchor: parseHead(anchor, 'anchor') } : {}),
    ...(since !== undefined ? { since: parseHead(since, 'since') } : {}),
    ...(checkpointKeys.length > 0 ? { checkpointKeys } : {}),
  };
  const reports: object[] = [];
  const status = await eachFile(
    files,
    async (file, prefix) => {
      const report = await verifyLog(file, { ...options, ...(values.json ? {} : { onProgress: progressBar(file) }) });
      let status = report.ok ? 0 : 1;
      const lines = describeReport(report);
      if (checkpointKeys.length > 0) lines.push(describeCheckpointRecord(report));
      let keptReport: object | undefined;
      if (kept !== undefined) {
        const result = await verifyCheckpoint(file, kept, { keys: checkpointKeys });
        keptReport = result;
        const pruned = result.prunedSize !== undefined ? ` (records 1 to ${result.prunedSize} were pruned: their part is the prune record's tree)` : '';
        if (result.ok) lines.push(`checkpoint ${keptFile}: ok, the log's first ${result.size} records are its tree${pruned}`);
        else {
          status = 1;
          lines.push(`checkpoint ${keptFile}: ${result.reason}${result.seq !== undefined ? ` at seq ${result.seq}` : ''}: ${result.detail}`);
        }
      }
      if (values.json) {
        const json = keptReport !== undefined ? { ...report, keptCheckpoint: keptReport } : report;
        reports.push(files.length > 1 ? { file, ...json } : json);
      } else lines.forEach((line) => write(`${prefix}${line}`));
      return status;
    },
    (file, error) => reports.push({ file, error: errorJson(error) }),
  );
  if (values.json && (files.length > 1 || reports.length > 0)) write(JSON.stringify(files.length > 1 ? reports : reports[0], null, 2));
  return status;
}

/** The default file for a signer key: its name with each / as -, in the current directory. */
const keyFileOf = (name: string): string => `${name.replaceAll('/', '-')}.key`;

async function keygen(positionals: string[], values: Values): Promise<number> {
  const name = positionals[0]!;
  let pair: { signer: string; verifier: string };
  try {
    pair = generateCheckpointKey(name);
  } catch {
    throw new UsageError(`a key name must be non-empty, with no spaces and no '+', not ${JSON.stringify(name)}`);
  }
  const out = once(values, 'out') ?? keyFileOf(name);
  // wx: an existing file is never overwritten (a signer lost is a log that can no longer be checkpointed
  // under its key); 0600 set on the descriptor as well, whatever the umask.
  let fd: number;
  try {
    fd = openSync(out, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`EEXIST: ${out} exists; keygen never overwrites a key file (give another --out)`);
    throw error;
  }
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, `${pair.signer}\n`);
  } finally {
    closeSync(fd);
  }
  write(pair.verifier);
  return 0;
}

async function checkpoint(positionals: string[], values: Values): Promise<number> {
  const signerFile = once(values, 'signer');
  if (signerFile === undefined) throw new UsageError('checkpoint needs --signer FILE (a signer key, as keygen writes)');
  const signer = readTextFile(signerFile);
  const keySpec = once(values, 'key');
  const key = keySpec !== undefined ? readKey(keySpec) : undefined;
  let log: AppendOnlyLog;
  try {
    log = await AppendOnlyLog.open(positionals[0]!, { checkpoints: { signer }, ...(key ? { key } : {}) });
  } catch (error) {
    // The library's message for a bad signer names the option; here it is the file.
    if ((error as { code?: unknown }).code === 'ERR_INVALID_ARG_VALUE' && /checkpoints\.signer/.test((error as Error).message)) {
      throw new UsageError(`--signer ${signerFile} does not hold a signer key (PRIVATE+KEY+<name>+<8 hex>+<base64>, as keygen writes)`);
    }
    throw error;
  }
  let note: string;
  try {
    ({ note } = await log.checkpoint());
  } finally {
    await log.close();
  }
  process.stdout.write(note);
  return 0;
}

function wholeNumber(text: string, what: string, minimum: number): number {
  const number = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < minimum) throw new UsageError(`${what} is a whole number of at least ${minimum}, not "${text}"`);
  return number;
}

/** The checkpoint text of a signed note, its signatures not checked: prove only picks which note to prove against. */
function checkpointOfNote(note: string): { size: number; root: Buffer } | null {
  const split = note.lastIndexOf('\n\n');
  if (split < 0) return null;
  try {
    return parseCheckpointBody(note.slice(0, split + 1));
  } catch {
    return null;
  }
}

async function prove(positionals: string[], values: Values): Promise<number> {
  const [path, seqText] = positionals as [string, string];
  const seq = wholeNumber(seqText, "prove's seq", 1);
  const sizeText = once(values, 'size');
  const wanted = sizeText !== undefined ? wholeNumber(sizeText, "--size's N", 1) : undefined;
  if (wanted !== undefined && wanted < seq) throw new UsageError(`record ${seq} is not in a tree of ${wanted} records`);
  // The log's own checkpoint records: the latest that covers the record, or the one of that size.
  let chosen: { note: string; size: number; root: Buffer } | null = null;
  for await (const record of readLog(path)) {
    if (record.type !== 'checkpoint') continue;
    const note = (record.data as { note?: unknown } | null)?.note;
    if (typeof note !== 'string') continue;
    const body = checkpointOfNote(note);
    if (body === null) continue;
    if (wanted !== undefined ? body.size === wanted : body.size >= seq) chosen = { note, ...body };
  }
  if (chosen === null) {
    throw new Error(
      wanted !== undefined
        ? `${path} holds no checkpoint record of ${wanted} records`
        : `${path} holds no checkpoint record that covers record ${seq} (make one with fs-append-only checkpoint)`,
    );
  }
  const proof = await proveInclusion(path, seq, { size: chosen.size });
  // A proof that would not check is refused here: the records are not the tree the note signs.
  const hashes = proof.hashes.map((hash) => Buffer.from(hash, 'base64'));
  if (!verifyInclusion(proof.index, chosen.size, leafHash(Buffer.from(proof.recordHash, 'hex')), hashes, chosen.root)) {
    throw new Error(`the first ${chosen.size} records of ${path} are not the tree its checkpoint record signs: the log was changed (fs-append-only verify says more)`);
  }
  process.stdout.write(formatProof({ index: proof.index, hashes: proof.hashes }, chosen.note));
  return 0;
}

function readInput(file: string): string {
  return file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
}

async function checkProof(positionals: string[], values: Values): Promise<number> {
  const vkeys = values.vkey ?? [];
  if (vkeys.length === 0) throw new UsageError('check-proof needs --vkey KEY (the verifier key of the checkpoint signer)');
  const keys = readVerifierKeys(vkeys, '--vkey');
  const hash = once(values, 'hash');
  if (hash === undefined) throw new UsageError("check-proof needs --hash HEX (the record's hash field)");
  if (!/^[0-9a-fA-F]{64}$/.test(hash)) throw new UsageError(`--hash takes a record's hash (64 hex digits), not "${hash}"`);
  const text = readInput(positionals[0]!);
  let result;
  try {
    result = checkInclusion(hash.toLowerCase(), text, null, keys);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_INVALID_PROOF') throw error;
    write(`not a proof: ${oneLine((error as Error).message)}`);
    return 1;
  }
  if (!result.ok) {
    write(`${result.reason}: ${oneLine(result.detail ?? '')}`);
    return 1;
  }
  const { index } = parseProof(text);
  write(`ok: record ${index + 1} is in the tree of ${result.size} records, root ${result.root}`);
  return 0;
}

/** The files of a log, last first: its segments for a directory log, else the file itself. */
function filesLastFirst(path: string): string[] {
  const segments = statSync(path).isDirectory() ? listSegments(path) : [];
  return segments.length > 0 ? segments.reverse().map((name) => join(path, name)) : [path];
}

async function tail(positionals: string[], values: Values): Promise<number> {
  const count = once(values, 'n');
  const wanted = count === undefined ? 10 : /^\d+$/.test(count) ? Number(count) : Number.NaN;
  if (!Number.isSafeInteger(wanted)) throw new UsageError(`-n takes a whole number, not "${count}"`);
  const last: Buffer[] = [];
  // From the end backwards (through the last segments of a directory log), so that the last records
  // of a large log cost what they weigh. A line counts when readLog() would give it as a record.
  for (const path of filesLastFirst(positionals[0]!)) {
    if (last.length >= wanted) break;
    const { file, size } = await openLog(path);
    try {
      for await (const line of readLinesBackward(file, size)) {
        if (recordOf(line) === null) continue;
        last.push(line.bytes);
        if (last.length >= wanted) break;
      }
    } finally {
      await file.close();
    }
  }
  // The stored lines as they are (JSON Lines, sig and hash included), so the output pipes into jq.
  const newline = Buffer.from('\n');
  process.stdout.write(Buffer.concat(last.reverse().flatMap((line) => [line, newline])));
  return 0;
}

async function head(positionals: string[], values: Values): Promise<number> {
  const path = positionals[0]!;
  const directory = statSync(path).isDirectory();
  // In a directory log, the last segment may hold no record yet: the head is then the seal before it.
  for (const file of filesLastFirst(path)) {
    const { file: handle, size } = await openLog(file);
    try {
      const state = readTail(handle.fd, size);
      if (state.head === null) continue;
      const segment = directory ? { segment: file.slice(file.lastIndexOf('/') + 1) } : {};
      write(values.json ? JSON.stringify({ ...state.head, offset: state.headEnd, ...segment }) : `${state.head.seq}:${state.head.hash}`);
      return 0;
    } finally {
      await handle.close();
    }
  }
  throw new Error(`${path} holds no record yet`);
}

/** --before SEQ (a whole number) or DATE (anything Date.parse reads, e.g. 2026-01-31 or an ISO time). */
function parseBefore(spec: string | undefined): number | Date {
  if (spec === undefined) throw new UsageError('prune needs --before SEQ|DATE');
  if (/^\d+$/.test(spec)) return Number(spec);
  const time = Date.parse(spec);
  if (Number.isNaN(time)) throw new UsageError(`--before takes a seq or a date, not "${spec}"`);
  return new Date(time);
}

async function prune(positionals: string[], values: Values): Promise<number> {
  const before = parseBefore(once(values, 'before'));
  const key = once(values, 'key');
  const { removed } = await pruneLog(positionals[0]!, { before, ...(key !== undefined ? { key: readKey(key) } : {}) });
  if (values.json) write(JSON.stringify({ removed }));
  else write(removed.length === 0 ? 'nothing to prune' : `removed ${removed.length} segment${removed.length === 1 ? '' : 's'}: ${removed.join(' ')}`);
  return 0;
}

async function info(_positionals: string[], values: Values): Promise<number> {
  const path = once(values, 'path');
  const support = platformSupportInfo(path !== undefined ? { path } : {});
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
  let mayBeProtected = false;
  let cleaned = false;
  // A file left append-only cannot be deleted, not even by rm -rf as root: clear the flag first.
  const cleanUp = (): void => {
    if (cleaned) return;
    cleaned = true;
    if (mayBeProtected) {
      try {
        unprotectAppendOnlySync(file);
      } catch {
        // rmSync below says what is left.
      }
    }
    rmSync(dir, { recursive: true, force: true });
    write('5. Cleaned up.');
  };
  // Ctrl-C or a kill must not leave the protected file behind; then exit as a shell reports the signal.
  const onSignal = (signal: NodeJS.Signals): void => {
    try {
      cleanUp();
    } catch (error) {
      reportError(error);
    }
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
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
      mayBeProtected = true;
      protectAppendOnlySync(file);
      write('2. Protected it with the append-only flag (as chattr +a). Now an overwrite:');
      try {
        writeFileSync(file, 'forged history\n');
        write('   the overwrite went through: the flag did not hold here');
      } catch (error) {
        write(`   refused by the kernel: ${(error as NodeJS.ErrnoException).code}`);
      }
      // Lets the tests interrupt the demo while the file is protected; not meant for anything else.
      const pause = Number(process.env.FS_APPEND_ONLY_DEMO_PAUSE_MS);
      if (pause > 0) await sleep(pause);
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
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    cleanUp();
  }
}

const CHANGE: Record<string, (path: string) => unknown> = {
  protect: (path) => protectAppendOnlySync(path, { strict: true }),
  unprotect: unprotectAppendOnlySync,
  seal: (path) => setImmutableSync(path, { strict: true }),
  unseal: clearImmutableSync,
};

function attribute(command: string): (files: string[], values: Values) => Promise<number> {
  return async (files, values) => {
    const found: object[] = [];
    const status = await eachFile(
      files,
      async (file) => {
        CHANGE[command]?.(file);
        const attributes = getFileAttributesSync(file);
        if (values.json) found.push({ file, ...attributes });
        else write(`${file}: ${attributes.appendOnly ? 'append-only' : 'not append-only'}, ${attributes.immutable ? 'immutable' : 'not immutable'} (${attributes.filesystem})`);
        return 0;
      },
      (file, error) => found.push({ file, error: errorJson(error) }),
    );
    if (values.json && (files.length > 1 || status === 0)) write(JSON.stringify(files.length > 1 ? found : found[0], null, 2));
    return status;
  };
}

const MANY = Number.POSITIVE_INFINITY;

const COMMANDS: Record<string, Command> = {
  info: { options: ['path', 'json'], minimum: 0, maximum: 0, run: info },
  protect: { options: [], minimum: 1, maximum: MANY, needs: 'a file', run: attribute('protect') },
  unprotect: { options: [], minimum: 1, maximum: MANY, needs: 'a file', run: attribute('unprotect') },
  seal: { options: [], minimum: 1, maximum: MANY, needs: 'a file', run: attribute('seal') },
  unseal: { options: [], minimum: 1, maximum: MANY, needs: 'a file', run: attribute('unseal') },
  status: { options: ['json'], minimum: 1, maximum: MANY, needs: 'a file', run: attribute('status') },
  append: { options: ['key'], minimum: 1, maximum: 2, needs: 'a log', run: append },
  verify: { options: ['key', 'anchor', 'since', 'json', 'checkpoint-key', 'checkpoint'], minimum: 1, maximum: MANY, needs: 'a log', run: verify },
  tail: { options: ['n'], minimum: 1, maximum: 1, needs: 'a log', run: tail },
  head: { options: ['json'], minimum: 1, maximum: 1, needs: 'a log', run: head },
  prune: { options: ['before', 'key', 'json'], minimum: 1, maximum: 1, needs: 'a directory', run: prune },
  keygen: { options: ['out'], minimum: 1, maximum: 1, needs: 'a key name', run: keygen },
  checkpoint: { options: ['signer', 'key'], minimum: 1, maximum: 1, needs: 'a log', run: checkpoint },
  prove: { options: ['size'], minimum: 2, maximum: 2, needs: 'a log and a seq', takes: 'a log and one seq', run: prove },
  'check-proof': { options: ['vkey', 'hash'], minimum: 1, maximum: 1, needs: 'a proof file (or - for stdin)', takes: 'one proof file', run: checkProof },
  demo: { options: [], minimum: 0, maximum: 0, run: demo },
};

function version(): string {
  // dist/cli.js, and lib/cli.ts when run from source: the package.json is one directory up either way.
  return (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS }) as { values: Values; positionals: string[] };
  const [name, ...rest] = positionals;
  if (values.help || name === 'help') {
    write(USAGE);
    return 0;
  }
  if (values.version) {
    write(version());
    return 0;
  }
  if (name === undefined) throw new UsageError('a command is needed');
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) throw new UsageError(`unknown command "${name}"`);
  for (const option of Object.keys(values) as OptionName[]) {
    if (option !== 'help' && option !== 'version' && !command.options.includes(option)) {
      throw new UsageError(`${name} does not take ${flagName(option)}`);
    }
  }
  if (rest.length < command.minimum) throw new UsageError(`${name} needs ${command.needs}`);
  if (rest.length > command.maximum) {
    const takes =
      command.maximum === 0
        ? 'takes no arguments'
        : command.takes !== undefined
          ? `takes ${command.takes}`
          : command.maximum === 1
            ? `takes one ${command.needs!.slice(2)}`
            : 'takes a log and one value';
    throw new UsageError(`${name} ${takes}, not also "${rest[command.maximum]}"`);
  }
  return command.run(rest, values);
}

// Node prints a warning over several lines with a hint about --trace-warnings; the tool's lines are one each.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  process.stderr.write(`fs-append-only: warning: ${oneLine(warning.message.replace(/^fs-append-only: /, ''))}\n`);
});

// Output piped into a reader that stops early (head, jq -e) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    reportError(error);
    process.exitCode = 2;
  },
);
