// The verifier's fast path, with the SHA-256 of the OpenSSL that Node itself ships.
#include "scan.h"

#include <openssl/sha.h>

#include <cstring>

namespace fsao {
namespace {

constexpr char kSeq[] = "{\"seq\":";
constexpr char kTs[] = ",\"ts\":\"";
constexpr char kPrev[] = "\",\"prev\":\"";
constexpr char kData[] = "\",\"data\":";
constexpr char kHash[] = ",\"hash\":\"";
constexpr size_t kTsLength = 24;  // 2026-11-22T10:00:00.000Z

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f'); }

bool AllHex(const char* text) {
  for (int i = 0; i < 64; ++i) {
    if (!IsHex(text[i])) return false;
  }
  return true;
}

// The same strict form as the JavaScript parser: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z
bool IsTimestamp(const char* ts) {
  static const char kShape[] = "0000-00-00T00:00:00.000Z";
  for (size_t i = 0; i < kTsLength; ++i) {
    if (kShape[i] == '0' ? !IsDigit(ts[i]) : ts[i] != kShape[i]) return false;
  }
  return true;
}

void ToHex(const unsigned char* digest, char* out) {
  static const char kDigits[] = "0123456789abcdef";
  for (int i = 0; i < 32; ++i) {
    out[2 * i] = kDigits[digest[i] >> 4];
    out[2 * i + 1] = kDigits[digest[i] & 15];
  }
}

// One line without its newline: true when it is a plain data record that continues the chain.
bool Accept(const char* line, size_t length, ScanState* state) {
  const size_t suffix = sizeof(kHash) - 1 + 64 + 2;  // ,"hash":"<64>"}
  if (length < 40 + suffix || std::memcmp(line, kSeq, sizeof(kSeq) - 1) != 0) return false;
  size_t at = sizeof(kSeq) - 1;
  double seq = 0;
  const size_t digits_start = at;
  while (at < length && IsDigit(line[at]) && at - digits_start < 16) seq = seq * 10 + (line[at++] - '0');
  const size_t digits = at - digits_start;
  if (digits == 0 || (digits > 1 && line[digits_start] == '0')) return false;
  if (seq != state->expected_seq || seq == state->stop_seq) return false;

  if (length < at + 7 + kTsLength + 10 + 64 + 9 + suffix) return false;
  if (std::memcmp(line + at, kTs, 7) != 0 || !IsTimestamp(line + at + 7)) return false;
  at += 7 + kTsLength;
  if (std::memcmp(line + at, kPrev, 10) != 0 || std::memcmp(line + at + 10, state->prev, 64) != 0) return false;
  at += 10 + 64;
  if (std::memcmp(line + at, kData, 9) != 0) return false;  // a type or keyId field: not a plain record
  const size_t data_start = at + 9;

  const size_t hash_start = length - suffix;
  const char* hash = line + hash_start + sizeof(kHash) - 1;
  if (hash_start <= data_start || std::memcmp(line + hash_start, kHash, sizeof(kHash) - 1) != 0 ||
      line[length - 2] != '"' || line[length - 1] != '}' || !AllHex(hash)) {
    return false;
  }

  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(line), hash_start, digest);
  char computed[64];
  ToHex(digest, computed);
  if (std::memcmp(computed, hash, 64) != 0) return false;

  std::memcpy(state->prev, hash, 64);
  state->expected_seq = seq + 1;
  return true;
}

}  // namespace

ScanResult ScanRecords(const char* data, size_t length, ScanState* state) {
  ScanResult result;
  while (result.consumed < length) {
    const char* line = data + result.consumed;
    const void* newline = std::memchr(line, '\n', length - result.consumed);
    if (newline == nullptr) break;
    const size_t line_length = static_cast<const char*>(newline) - line;
    if (!Accept(line, line_length, state)) break;
    result.consumed += line_length + 1;
    result.lines += 1;
  }
  return result;
}

}  // namespace fsao
