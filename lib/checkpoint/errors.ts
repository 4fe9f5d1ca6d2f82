// The failures of notes, checkpoints and proofs, as AppendOnlyErrors with a cause and a fix.
import { AppendOnlyError } from '../errors';

export type CheckpointErrorCode =
  | 'ERR_INVALID_NOTE' // not a signed note: bad UTF-8, a control character, no signature block, a bad signature line
  | 'ERR_UNVERIFIED_NOTE' // well formed, but no key the caller trusts signed it
  | 'ERR_INVALID_NOTE_SIGNATURE' // a trusted key's signature on it does not verify
  | 'ERR_INVALID_CHECKPOINT' // a verified note whose text is not a tlog checkpoint
  | 'ERR_INVALID_PROOF'; // not a tlog-proof text, or a proof of the wrong shape

const FIXES: Record<CheckpointErrorCode, string> = {
  ERR_INVALID_NOTE: 'Pass the note exactly as it was signed (UTF-8, lines ending in \\n alone, a blank line before the signatures)',
  ERR_UNVERIFIED_NOTE: "Pass the verifier key of the log that signed it (its name must match the signature line's)",
  ERR_INVALID_NOTE_SIGNATURE: 'The note was changed after it was signed, or signed by another key of the same name: do not trust it',
  ERR_INVALID_CHECKPOINT: 'Pass a checkpoint: origin, tree size and base64 root hash on three lines',
  ERR_INVALID_PROOF: 'Pass the proof as it was produced (c2sp.org/tlog-proof@v1 text, or the object proveInclusion returned)',
};

export function checkpointError(code: CheckpointErrorCode, reason: string): AppendOnlyError {
  const fix = FIXES[code];
  return new AppendOnlyError(`${code}: ${reason}. ${fix}.`, { code, fix });
}
