// The one boundary to the native addon: loads it once, types every call it exports, and decides what this platform can do.
import path from 'node:path';
import nodeGypBuild from 'node-gyp-build';

import { AppendOnlyError } from './errors';

/** What the addon reads of a file: its flags and its filesystem, through one open of the path. */
export interface FileState {
  /** The platform's own flag word: FS_IOC_GETFLAGS on Linux, st_flags on BSD; 0 where the filesystem keeps none. */
  flags: number;
  appendOnly: boolean;
  immutable: boolean;
  /** false when the filesystem keeps no such flags (the others are then false and 0). */
  supported: boolean;
  /** 'ext4', 'tmpfs', 'apfs', ..., or 'unknown (0x...)' for a filesystem the addon does not name. */
  filesystem: string;
}

export type ContainerRuntime = 'docker' | 'podman' | 'kubernetes' | 'containerd' | 'lxc' | 'systemd-nspawn';

/** What this process may do here, as the addon's probe finds it (src/probe_linux.cc on Linux). */
export interface ProcessFacts {
  /** Linux: CapEff has CAP_LINUX_IMMUTABLE. macOS/FreeBSD: true, the owner may set UF_APPEND. */
  hasCapability: boolean;
  /** Inside a user namespace, where the capability does not count. */
  userNamespace: boolean;
  inContainer: boolean;
  containerRuntime: ContainerRuntime | null;
}

/** The container signals the probe gathers, given as texts to parseProcText('container', ...); null where missing. */
export interface ContainerSignals {
  dockerEnv: boolean;
  containerEnv: boolean;
  systemdContainer: string | null;
  pid1Environ: string | null;
  cgroup: string | null;
  mountinfo: string | null;
  kubernetesServiceHost: string | null;
}

/** A path as the addon takes it: a string, or a Buffer of its bytes. */
export type NativePath = string | Buffer;

/**
 * The verifier's fast path (src/scan.h): returns [consumedBytes, lines, nextSeq, prevHex]. With a scanner
 * (recordScanner), its keys check signatures and its helper thread hashes; without one, signed records are
 * taken on their hash alone and a helper thread serves this call only.
 */
export type ScanRecords = (view: Buffer, from: number, to: number, expectedSeq: number, prev: string, stopSeq: number, scanner?: NativeRecordScanner) => [number, number, number, string];

/**
 * The same over an open file (src/scan.h ScanFile): the lines that start in [position, limit), read and
 * scanned off the main thread. Resolves to [consumedBytes, lines, nextSeq, prevHex, more]; `more` is false
 * when it stopped before the limit (a line it does not take, the end of the file).
 */
export type ScanFile = (scanner: NativeRecordScanner, fd: number, position: number, limit: number, expectedSeq: number, prev: string, stopSeq: number) => Promise<[number, number, number, string, boolean]>;

/** One verification's scanner (recordScanner): the keys it checks signatures with, and its helper thread. Opaque. */
export type NativeRecordScanner = { readonly __nativeRecordScanner: unique symbol };

/** A signing key's inner and outer SHA-256 states, held by the addon (hmacKey). Opaque. */
export type NativeHmacKey = { readonly __nativeHmacKey: unique symbol };

/**
 * The log's record encoder (src/engine.cc): the line, newline included, byte for byte as encodeRecord in
 * lib/log/format.ts writes it; `type` null for data, `keyId` and `key` null for an unsigned record.
 * The record's hash is the 64 characters before the closing '"}\n'.
 */
export type EncodeRecord = (seq: number, ts: string, prev: string, type: string | null, keyId: string | null, dataJson: string, key: NativeHmacKey | null) => string;

/**
 * Folds one leaf into a compact range's stack (lib/checkpoint/merkle.ts): 8 words at leaf[at], or 64
 * lowercase hex digits, hashed as a leaf first unless isLeafHash, pushed on `count` roots of a tree of
 * `size` leaves. Returns the new count; -1, the range unchanged, for a text that is not 64 hex digits.
 */
export type FoldLeaf = (stack: Int32Array, count: number, size: number, leaf: Int32Array | string, at: number, isLeafHash: boolean) => number;

/**
 * Folds every record line of bytes[start, end) into a compact range's stack (lib/checkpoint/merkle.ts) in
 * one call: `size` leaves before, popcount(size) roots on the stack. A record line is a complete line
 * ending `,"hash":"` + 64 lowercase hex digits + `"}`; other lines, and bytes after the last newline, are
 * skipped. Returns the new size.
 */
export type FoldRecordLines = (stack: Int32Array, size: number, bytes: Uint8Array, start: number, end: number) => number;

/**
 * The writer's pending records in native memory (src/record_buffer.cc): each push encodes, chains and
 * signs one record as encodeRecord does, stamped with the time (or `fixedTimestamp`), and returns its
 * hash; `state` is kept equal to [pending bytes, pending records, bytes of the last write settled].
 */
export interface NativeRecordBuffer {
  push(seq: number, prev: string | null, type: string | null, keyId: string | null, dataJson: string, key: NativeHmacKey | null): string;
  /** push() of data record `seq`, after the data record pushed last and with its key. */
  pushNext(seq: number, dataJson: string): string;
  /** Takes back the records after the first `records`, which end at `bytes`. */
  truncate(bytes: number, records: number): void;
  /** Folds the pending records into a compact range's stack (as foldRecordLines); returns the new size. */
  fold(stack: Int32Array, size: number): number;
  /** How many records of the last write lie whole in its first `bytes` bytes. */
  wholeLines(bytes: number): number;
  /** A copy of the pending bytes. */
  copy(): Buffer;
  /**
   * Hands every pending byte to the background writer and starts an empty pending buffer; with `jsons`,
   * the records seq, seq + 1, ... of that data are encoded there first, chained on `prev` (null: the
   * record pushed last), signed with `key`.
   */
  startWrite(fd: number, seq?: number, prev?: string | null, jsons?: string[], keyId?: string | null, key?: NativeHmacKey | null): void;
  /**
   * Waits for that write; returns the hashes of the records encoded from jsons (64 hex digits each). A
   * failure is a system error with `written` bytes and those `hashes`.
   */
  settle(): string;
  /** startWrite() and settle(). */
  write(fd: number, seq?: number, prev?: string | null, jsons?: string[], keyId?: string | null, key?: NativeHmacKey | null): string;
  clear(): void;
}

export interface NativeBinding {
  readAttributes(path: NativePath): Promise<FileState>;
  readAttributesSync(path: NativePath): FileState;
  /** The append-only (1) and immutable (2) bits only, for the calls that need no more. */
  readStateSync(path: NativePath): number;
  /** Resolves once the flags were changed and read back as asked. */
  changeFlags(path: NativePath, mask: number, on: boolean, systemFlags: boolean): Promise<void>;
  /** Throws on failure; the flags were read back and found as asked. */
  changeFlagsSync(path: NativePath, mask: number, on: boolean, systemFlags: boolean): void;
  /** The same on an open file (FS_IOC_SETFLAGS on the fd; fchflags on BSD). Its errors carry no path. */
  changeFlagsFdSync(fd: number, mask: number, on: boolean, systemFlags: boolean): void;
  /** statfs(2) on the path. */
  filesystemNameSync(path: NativePath): string;
  probeProcessSync(): ProcessFacts;
  /** The probe's parsers on given texts, for tests: the CapEff mask, a uid_map, the container signals. */
  parseProcText(kind: 'status', text: string): bigint | null;
  parseProcText(kind: 'uid_map', text: string): boolean;
  parseProcText(kind: 'container', signals: ContainerSignals): Pick<ProcessFacts, 'inContainer' | 'containerRuntime'>;
  /**
   * The log's cross-process lock on an fd (flock(2); LockFileEx on Windows): mode 0 waits for an
   * exclusive lock, 1 tries (false when held elsewhere), 2 unlocks.
   */
  lockSync(fd: number, mode: 0 | 1 | 2): boolean;
  /** Absent, as are the three below, when the policy turns the native scan off (FS_APPEND_ONLY_NATIVE_SCAN=0). */
  scanRecords?: ScanRecords;
  scanFile?: ScanFile;
  /** Keys given (null: signatures are not checked) once per verification; the scanner keeps a helper thread until closed. */
  recordScanner?: (keys: [id: string, secret: Buffer][] | null) => NativeRecordScanner;
  closeRecordScanner?: (scanner: NativeRecordScanner) => void;
  /** Absent when the policy turns native record encoding off (FS_APPEND_ONLY_NATIVE_ENCODE=0). */
  encodeRecord?: EncodeRecord;
  hmacKey?: (secret: Buffer) => NativeHmacKey;
  /** Absent when the policy turns native record encoding off (FS_APPEND_ONLY_NATIVE_ENCODE=0). */
  RecordBuffer?: new (state: Int32Array, fixedTimestamp: string | null) => NativeRecordBuffer;
  /** Absent when the policy turns the native Merkle hashing off (FS_APPEND_ONLY_NATIVE_MERKLE=0). */
  foldLeaf?: FoldLeaf;
  /** The batch fold of written record lines; absent under FS_APPEND_ONLY_NATIVE_MERKLE=0. */
  foldRecordLines?: FoldRecordLines;
  /** How lockSync locks; 'none' where it throws ENOTSUP. */
  readonly lockMethod: 'flock' | 'LockFileEx' | 'none';
  readonly APPEND_ONLY: number;
  readonly IMMUTABLE: number;
}

export type LoadResult = { binding: NativeBinding; error: null } | { binding: null; error: Error };

let loaded: LoadResult | undefined;

/**
 * FS_APPEND_ONLY_NATIVE_SCAN=0 keeps the verifier on its JavaScript path, FS_APPEND_ONLY_NATIVE_ENCODE=0
 * the record encoder and FS_APPEND_ONLY_NATIVE_MERKLE=0 the Merkle tree, so that each pair of paths can
 * be run on the same input and compared. Read once, when the addon loads: the calls a switch turns off
 * are withheld from the binding.
 */
function withheldCalls(): (keyof NativeBinding)[] {
  const withheld: (keyof NativeBinding)[] = [];
  if (process.env.FS_APPEND_ONLY_NATIVE_SCAN === '0') withheld.push('scanRecords', 'scanFile', 'recordScanner', 'closeRecordScanner');
  if (process.env.FS_APPEND_ONLY_NATIVE_ENCODE === '0') withheld.push('encodeRecord', 'hmacKey', 'RecordBuffer');
  if (process.env.FS_APPEND_ONLY_NATIVE_MERKLE === '0') withheld.push('foldLeaf', 'foldRecordLines');
  return withheld;
}

/** Never throws: importing the package must work where the addon cannot load (the log does). */
export function loadBinding(): LoadResult {
  if (loaded === undefined) {
    try {
      const addon = nodeGypBuild(path.join(__dirname, '..')) as NativeBinding;
      const withheld = withheldCalls();
      if (withheld.length === 0) {
        loaded = { binding: addon, error: null };
      } else {
        const binding: Partial<NativeBinding> = { ...addon };
        for (const name of withheld) delete binding[name];
        loaded = { binding: binding as NativeBinding, error: null };
      }
    } catch (error) {
      loaded = { binding: null, error: error instanceof Error ? error : new Error(String(error)) };
    }
  }
  return loaded;
}

export function addonUnavailableFix(): string {
  return (
    'Reinstall the package where a prebuilt binary exists for this platform, or with a C++ compiler, ' +
    'make and python3 present (npm rebuild fs-append-only)'
  );
}

/** The cause, for messages: "ERR_ADDON_UNAVAILABLE: the native addon could not be loaded (...)". */
export function addonUnavailable(error: Error): string {
  return `ERR_ADDON_UNAVAILABLE: the native addon could not be loaded (${error.message})`;
}

/** The addon, or an AppendOnlyError ERR_ADDON_UNAVAILABLE naming why it could not be loaded. */
export function requireBinding(): NativeBinding {
  const result = loadBinding();
  if (result.binding !== null) return result.binding;
  const fix = addonUnavailableFix();
  throw new AppendOnlyError(`${addonUnavailable(result.error)}. ${fix}.`, {
    code: 'ERR_ADDON_UNAVAILABLE',
    fix,
    cause: result.error,
  });
}

/** How a platform changes the flags: FS_IOC_SETFLAGS, chflags(2), or not at all (Windows, ...). */
export type FlagMethod = 'ioctl' | 'chflags' | 'none';

/** What this platform and this build can do: decided here once, read by everything else. */
export interface PlatformCapabilities {
  /** What the platform offers, whether or not the addon loaded. */
  flagMethod: FlagMethod;
  /** The append-only and immutable flags can be read and changed here and now (platform and addon). */
  flags: boolean;
  /** The log can take a cross-process lock around its appends. */
  lock: boolean;
  /** The verifier can use the addon's scanner (false too under FS_APPEND_ONLY_NATIVE_SCAN=0). */
  nativeScan: boolean;
  /** Records are encoded, hashed and signed by the addon (false too under FS_APPEND_ONLY_NATIVE_ENCODE=0). */
  nativeEncode: boolean;
  /**
   * The Merkle tree's leaves and nodes are hashed by the addon, one leaf or a whole written buffer of
   * records per call (false too under FS_APPEND_ONLY_NATIVE_MERKLE=0).
   */
  nativeMerkle: boolean;
  /** Why the addon could not be loaded; null when it was. */
  addonError: Error | null;
}

// process.platform is read on every call, not once: tests take the facade to another platform by
// redefining it before the first call.
function flagMethodOf(platform: NodeJS.Platform): FlagMethod {
  if (platform === 'linux') return 'ioctl';
  if (platform === 'darwin' || platform === 'freebsd') return 'chflags';
  return 'none';
}

export function platformCapabilities(): PlatformCapabilities {
  const flagMethod = flagMethodOf(process.platform);
  const { binding, error } = loadBinding();
  if (binding === null) return { flagMethod, flags: false, lock: false, nativeScan: false, nativeEncode: false, nativeMerkle: false, addonError: error };
  return {
    flagMethod,
    flags: flagMethod !== 'none',
    lock: binding.lockMethod !== 'none',
    nativeScan: ['scanRecords', 'scanFile', 'recordScanner', 'closeRecordScanner'].every((name) => typeof binding[name as keyof NativeBinding] === 'function'),
    // An older addon build (a stale prebuild) lacks the calls: the JavaScript paths then serve.
    nativeEncode: typeof binding.encodeRecord === 'function' && typeof binding.hmacKey === 'function',
    nativeMerkle: typeof binding.foldLeaf === 'function' && typeof binding.foldRecordLines === 'function',
    addonError: null,
  };
}

/** The addon's scanner calls where the policy allows them, for the verifier; undefined means the JavaScript path. */
export function nativeScanner(): Required<Pick<NativeBinding, 'scanRecords' | 'scanFile' | 'recordScanner' | 'closeRecordScanner'>> | undefined {
  if (!platformCapabilities().nativeScan) return undefined;
  const { scanRecords, scanFile, recordScanner, closeRecordScanner } = loadBinding().binding!;
  return { scanRecords: scanRecords!, scanFile: scanFile!, recordScanner: recordScanner!, closeRecordScanner: closeRecordScanner! };
}

/** The addon's record encoder and key maker where the policy allows them; undefined means the JavaScript path. */
export function nativeEncoder(): { encodeRecord: EncodeRecord; hmacKey: (secret: Buffer) => NativeHmacKey } | undefined {
  if (!platformCapabilities().nativeEncode) return undefined;
  const binding = loadBinding().binding!;
  return { encodeRecord: binding.encodeRecord!, hmacKey: binding.hmacKey! };
}

/** The addon's Merkle fold where the policy allows it; undefined means the JavaScript path. */
export function nativeMerkleFold(): FoldLeaf | undefined {
  return platformCapabilities().nativeMerkle ? loadBinding().binding?.foldLeaf : undefined;
}

/** The addon's batch fold of record lines where the policy allows it; undefined means the JavaScript path. */
export function nativeRecordLinesFold(): FoldRecordLines | undefined {
  return platformCapabilities().nativeMerkle ? loadBinding().binding?.foldRecordLines : undefined;
}

/** The addon's record buffer class where the policy allows native encoding; undefined means the JavaScript one. */
export function nativeRecordBufferClass(): NativeBinding['RecordBuffer'] {
  if (!platformCapabilities().nativeEncode) return undefined;
  return loadBinding().binding!.RecordBuffer;
}
