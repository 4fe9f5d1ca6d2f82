// The log's hot hashing, with no N-API in it: a record's line and hash (lib/log/format.ts encodeRecord)
// and the RFC 6962 leaf and node hashes a compact range folds (lib/checkpoint/merkle.ts).
#ifndef FSAO_ENGINE_H_
#define FSAO_ENGINE_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace fsao {

// HMAC-SHA256 with the key already absorbed: the SHA-256 states after the inner and outer padded key
// blocks (RFC 2104), so that signing a record costs no key schedule. Opaque outside engine.cc.
struct HmacKey;

HmacKey* NewHmacKey(const unsigned char* secret, size_t length);
void DeleteHmacKey(HmacKey* key);
// A copy that lives on its own (for a record encoded on another thread, after the caller let go of its key).
HmacKey* CopyHmacKey(const HmacKey* key);
// HMAC-SHA256(key, bytes[0, length)) into digest[0, 32). Safe to call from any thread: the key is only read.
void HmacSha256(const HmacKey* key, const unsigned char* bytes, size_t length, unsigned char* digest);

// A string as UTF-8 bytes, not owned.
struct Text {
  const char* data;
  size_t length;
};

// The fields of one record, exactly as lib/log/format.ts encodeRecord writes them. `type` is absent
// (length 0, data null) for appended data; `key_id` and `key` are both set for a signed record.
struct RecordInput {
  uint64_t seq;
  Text ts;
  Text prev;
  Text type;
  Text key_id;
  Text data_json;
  const HmacKey* key;
};

// Appends the record's line, newline included, to `out`; its hash is the 64 hex digits 67 bytes from
// the end (before '"}\n').
void EncodeRecord(const RecordInput& record, std::string* out);

// A compact range's subtree roots as JavaScript keeps them: 8 words each, every word holding 4 bytes of
// the hash big-endian, leftmost (largest) subtree first.
// Folds in one leaf whose data is a record hash (8 words at `leaf`): SHA-256(0x00 || hash) pushed on the
// stack of `count` roots of a tree of `size` leaves, then merged with its equal-sized neighbours.
// Returns the new count. `stack` holds room for count + 1 roots.
size_t FoldRecordHash(int32_t* stack, size_t count, uint64_t size, const int32_t* leaf);
// The same for a leaf already hashed (8 words of SHA-256(0x00 || data)).
size_t FoldLeafHash(int32_t* stack, size_t count, uint64_t size, const int32_t* leaf_hash);

// Folds in every record of bytes[0, length) in one call: each complete line (ending '\n') whose last
// bytes are ',"hash":"' + 64 lowercase hex digits + '"}' is a record, its hash a leaf's data; any other
// line (a '~' line, a line cut short, digits that are not lowercase hex) is skipped, as is what follows
// the last newline. `stack` holds the popcount(size) roots of a tree of `size` leaves and must have room
// for one more root than any size reached can need (54 roots below 2^53). Returns the new size.
uint64_t FoldRecordLines(int32_t* stack, uint64_t size, const unsigned char* bytes, size_t length);
// How many lines of bytes[0, length) FoldRecordLines would fold.
uint64_t CountRecordLines(const unsigned char* bytes, size_t length);

}  // namespace fsao

#endif  // FSAO_ENGINE_H_
