// The log's hot hashing on the SHA-256 of the OpenSSL that Node itself ships: records and Merkle leaves.
#include "engine.h"

#include <openssl/sha.h>

#include <cstring>

namespace fsao {

// SHA256_Init/Update/Final are deprecated since OpenSSL 3.0 but are still the fastest interface for
// record-sized input (src/scan.cc says by how much); the warning is silenced around their use only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

struct HmacKey {
  SHA256_CTX inner;
  SHA256_CTX outer;
};

namespace {

constexpr size_t kBlockBytes = 64;
constexpr size_t kDigestBytes = SHA256_DIGEST_LENGTH;

void ToHex(const unsigned char* digest, char* out) {
  static const char kDigits[] = "0123456789abcdef";
  for (size_t i = 0; i < kDigestBytes; ++i) {
    out[2 * i] = kDigits[digest[i] >> 4];
    out[2 * i + 1] = kDigits[digest[i] & 15];
  }
}

void Append(std::string* out, const char* bytes, size_t length) { out->append(bytes, length); }
void Append(std::string* out, const Text& text) { out->append(text.data, text.length); }

template <size_t N>
void AppendLiteral(std::string* out, const char (&literal)[N]) {
  out->append(literal, N - 1);
}

// The decimal digits of a number, as JavaScript's String(n) writes a safe integer.
void AppendDecimal(std::string* out, uint64_t value) {
  char digits[20];
  size_t at = sizeof(digits);
  do {
    digits[--at] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  Append(out, digits + at, sizeof(digits) - at);
}

void WordsToBytes(const int32_t* words, unsigned char* out) {
  for (size_t i = 0; i < 8; ++i) {
    const uint32_t word = static_cast<uint32_t>(words[i]);
    out[4 * i] = static_cast<unsigned char>(word >> 24);
    out[4 * i + 1] = static_cast<unsigned char>(word >> 16);
    out[4 * i + 2] = static_cast<unsigned char>(word >> 8);
    out[4 * i + 3] = static_cast<unsigned char>(word);
  }
}

// The hash's 8 words are the state's 8 words: no digest bytes to convert back.
void StateToWords(const SHA256_CTX& context, int32_t* out) {
  for (size_t i = 0; i < 8; ++i) out[i] = static_cast<int32_t>(context.h[i]);
}

// SHA-256(0x00 || 32 bytes), RFC 9162 2.1.1, on words. The message is always one block: the data, then
// the padding of a 33-byte message (0x80, zeros, 264 as a 64-bit length), compressed straight with
// SHA256_Transform, which saves a third of the time SHA256_Update and SHA256_Final spend padding.
void LeafWords(const int32_t* data, int32_t* out) {
  unsigned char block[kBlockBytes] = {0};
  WordsToBytes(data, block + 1);
  block[33] = 0x80;
  block[62] = 264 >> 8;
  block[63] = 264 & 0xff;
  SHA256_CTX context;
  SHA256_Init(&context);
  SHA256_Transform(&context, block);
  StateToWords(context, out);
}

// SHA-256(0x01 || left || right): two blocks, the second holding the last byte of `right`, then the
// padding of a 65-byte message (520 bits).
void NodeWords(const int32_t* left, const int32_t* right, int32_t* out) {
  unsigned char message[2 * kBlockBytes] = {0};
  message[0] = 0x01;
  WordsToBytes(left, message + 1);
  WordsToBytes(right, message + 1 + kDigestBytes);
  message[65] = 0x80;
  message[126] = 520 >> 8;
  message[127] = 520 & 0xff;
  SHA256_CTX context;
  SHA256_Init(&context);
  SHA256_Transform(&context, message);
  SHA256_Transform(&context, message + kBlockBytes);
  StateToWords(context, out);
}

}  // namespace

HmacKey* NewHmacKey(const unsigned char* secret, size_t length) {
  // RFC 2104: a key longer than a block is hashed first; the block is the key padded with zeros.
  unsigned char block[kBlockBytes] = {0};
  if (length > kBlockBytes) {
    SHA256_CTX context;
    SHA256_Init(&context);
    SHA256_Update(&context, secret, length);
    SHA256_Final(block, &context);
  } else if (length > 0) {
    std::memcpy(block, secret, length);
  }
  unsigned char pad[kBlockBytes];
  auto* key = new HmacKey;
  for (size_t i = 0; i < kBlockBytes; ++i) pad[i] = block[i] ^ 0x36;
  SHA256_Init(&key->inner);
  SHA256_Update(&key->inner, pad, kBlockBytes);
  for (size_t i = 0; i < kBlockBytes; ++i) pad[i] = block[i] ^ 0x5c;
  SHA256_Init(&key->outer);
  SHA256_Update(&key->outer, pad, kBlockBytes);
  return key;
}

void DeleteHmacKey(HmacKey* key) { delete key; }

HmacKey* CopyHmacKey(const HmacKey* key) { return new HmacKey(*key); }

void HmacSha256(const HmacKey* key, const unsigned char* bytes, size_t length, unsigned char* digest) {
  SHA256_CTX context = key->inner;
  SHA256_Update(&context, bytes, length);
  SHA256_Final(digest, &context);
  context = key->outer;
  SHA256_Update(&context, digest, kDigestBytes);
  SHA256_Final(digest, &context);
}

void EncodeRecord(const RecordInput& record, std::string* out) {
  const size_t start = out->size();
  AppendLiteral(out, "{\"seq\":");
  AppendDecimal(out, record.seq);
  AppendLiteral(out, ",\"ts\":\"");
  Append(out, record.ts);
  AppendLiteral(out, "\",\"prev\":\"");
  Append(out, record.prev);
  out->push_back('"');
  if (record.type.data != nullptr) {
    AppendLiteral(out, ",\"type\":\"");
    Append(out, record.type);
    out->push_back('"');
  }
  if (record.key != nullptr) {
    AppendLiteral(out, ",\"keyId\":\"");
    Append(out, record.key_id);
    out->push_back('"');
  }
  AppendLiteral(out, ",\"data\":");
  Append(out, record.data_json);

  if (record.key != nullptr) {
    // sig = HMAC over the bytes so far: inner hash from the key's state, then the outer over its digest.
    unsigned char digest[kDigestBytes];
    HmacSha256(record.key, reinterpret_cast<const unsigned char*>(out->data()) + start, out->size() - start, digest);
    char sig[2 * kDigestBytes];
    ToHex(digest, sig);
    AppendLiteral(out, ",\"sig\":\"");
    Append(out, sig, sizeof(sig));
    out->push_back('"');
  }

  unsigned char digest[kDigestBytes];
  SHA256_CTX context;
  SHA256_Init(&context);
  SHA256_Update(&context, out->data() + start, out->size() - start);
  SHA256_Final(digest, &context);
  char hash[2 * kDigestBytes];
  ToHex(digest, hash);
  AppendLiteral(out, ",\"hash\":\"");
  Append(out, hash, sizeof(hash));
  AppendLiteral(out, "\"}\n");
}

size_t FoldRecordHash(int32_t* stack, size_t count, uint64_t size, const int32_t* leaf) {
  int32_t leaf_hash[8];
  LeafWords(leaf, leaf_hash);
  return FoldLeafHash(stack, count, size, leaf_hash);
}

size_t FoldLeafHash(int32_t* stack, size_t count, uint64_t size, const int32_t* leaf_hash) {
  std::memcpy(stack + 8 * count, leaf_hash, 8 * sizeof(int32_t));
  count += 1;
  // One merge per trailing 1 bit of the old size: the new leaf completes that many perfect subtrees.
  for (uint64_t rest = size; (rest & 1) == 1; rest >>= 1) {
    int32_t* left = stack + 8 * (count - 2);
    NodeWords(left, left + 8, left);
    count -= 1;
  }
  return count;
}

namespace {

// A byte's value as a lowercase hex digit, or -1.
struct HexTable {
  int8_t value[256];
  constexpr HexTable() : value() {
    for (int i = 0; i < 256; ++i) value[i] = -1;
    for (int i = 0; i < 10; ++i) value['0' + i] = static_cast<int8_t>(i);
    for (int i = 0; i < 6; ++i) value['a' + i] = static_cast<int8_t>(10 + i);
  }
};
constexpr HexTable kHex;

constexpr char kHashField[] = ",\"hash\":\"";
constexpr size_t kHashFieldBytes = sizeof(kHashField) - 1;
// ,"hash":"<64 hex>"}
constexpr size_t kRecordTailBytes = kHashFieldBytes + 2 * kDigestBytes + 2;

// The record hash ending a line (bytes [line, end), the newline excluded) as 8 words; false when the
// line does not end as a record does.
bool RecordHashOf(const unsigned char* line, const unsigned char* end, int32_t* out) {
  if (static_cast<size_t>(end - line) < kRecordTailBytes || end[-1] != '}' || end[-2] != '"') return false;
  const unsigned char* tail = end - kRecordTailBytes;
  if (std::memcmp(tail, kHashField, kHashFieldBytes) != 0) return false;
  const unsigned char* digits = tail + kHashFieldBytes;
  int bad = 0;
  for (size_t i = 0; i < 8; ++i) {
    uint32_t word = 0;
    for (size_t j = 0; j < 8; ++j) {
      const int value = kHex.value[digits[8 * i + j]];
      bad |= value;
      word = (word << 4) | static_cast<uint32_t>(value & 15);
    }
    out[i] = static_cast<int32_t>(word);
  }
  return bad >= 0;
}

}  // namespace

uint64_t CountRecordLines(const unsigned char* bytes, size_t length) {
  uint64_t records = 0;
  const unsigned char* end = bytes + length;
  int32_t leaf[8];
  for (const unsigned char* line = bytes; line < end;) {
    const void* found = std::memchr(line, '\n', static_cast<size_t>(end - line));
    if (found == nullptr) break;
    const auto* newline = static_cast<const unsigned char*>(found);
    if (RecordHashOf(line, newline, leaf)) records += 1;
    line = newline + 1;
  }
  return records;
}

uint64_t FoldRecordLines(int32_t* stack, uint64_t size, const unsigned char* bytes, size_t length) {
  size_t count = 0;
  for (uint64_t rest = size; rest != 0; rest >>= 1) count += static_cast<size_t>(rest & 1);
  const unsigned char* end = bytes + length;
  const unsigned char* line = bytes;
  int32_t leaf[8];
  while (line < end) {
    const void* found = std::memchr(line, '\n', static_cast<size_t>(end - line));
    if (found == nullptr) break;
    const auto* newline = static_cast<const unsigned char*>(found);
    if (RecordHashOf(line, newline, leaf)) {
      count = FoldRecordHash(stack, count, size, leaf);
      size += 1;
    }
    line = newline + 1;
  }
  return size;
}

#pragma GCC diagnostic pop

}  // namespace fsao
