// The verifier's fast path, with the SHA-256 of the OpenSSL that Node itself ships.
#include "scan.h"

#include <openssl/sha.h>

#include <cstring>
#include <system_error>
#include <thread>
#include <vector>

namespace fsao {
namespace {

constexpr char kSeq[] = "{\"seq\":";
constexpr char kTs[] = ",\"ts\":\"";
constexpr char kPrev[] = "\",\"prev\":\"";
constexpr char kData[] = "\",\"data\":";
constexpr char kHash[] = ",\"hash\":\"";
constexpr size_t kTsLength = 24;  // 2026-11-22T10:00:00.000Z
constexpr size_t kSuffixBytes = sizeof(kHash) - 1 + 64 + 2;  // ,"hash":"<64>"}
// Below this many lines a second thread costs more than it saves.
constexpr size_t kParallelLines = 256;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

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

struct CheckedLine {
  const char* start;
  size_t hashed;     // bytes covered by the hash
  const char* hash;  // its hash field: 64 bytes, found to be hex only when they equal the computed digest
};

// One line without its newline: true when it is a plain data record whose seq and prev continue the
// chain. Its hash is checked afterwards, in parallel with the other lines', byte for byte against the
// lowercase hex of the computed digest, which also settles that the field is hex: a line whose hash is
// not ends the accepted run there, and so does every line chained to it.
bool Continues(const char* line, size_t length, const ScanState& state, CheckedLine* out) {
  const size_t suffix = kSuffixBytes;
  if (length < 40 + suffix || std::memcmp(line, kSeq, sizeof(kSeq) - 1) != 0) return false;
  size_t at = sizeof(kSeq) - 1;
  double seq = 0;
  const size_t digits_start = at;
  while (at < length && IsDigit(line[at]) && at - digits_start < 16) seq = seq * 10 + (line[at++] - '0');
  const size_t digits = at - digits_start;
  if (digits == 0 || (digits > 1 && line[digits_start] == '0')) return false;
  if (seq != state.expected_seq || seq == state.stop_seq) return false;

  if (length < at + 7 + kTsLength + 10 + 64 + 9 + suffix) return false;
  if (std::memcmp(line + at, kTs, 7) != 0 || !IsTimestamp(line + at + 7)) return false;
  at += 7 + kTsLength;
  if (std::memcmp(line + at, kPrev, 10) != 0 || std::memcmp(line + at + 10, state.prev, 64) != 0) return false;
  at += 10 + 64;
  if (std::memcmp(line + at, kData, 9) != 0) return false;  // a type or keyId field: not a plain record
  const size_t data_start = at + 9;

  const size_t hash_start = length - suffix;
  const char* hash = line + hash_start + sizeof(kHash) - 1;
  if (hash_start <= data_start || std::memcmp(line + hash_start, kHash, sizeof(kHash) - 1) != 0 ||
      line[length - 2] != '"' || line[length - 1] != '}') {
    return false;
  }

  *out = {line, hash_start, hash};
  return true;
}

// SHA256_Init/Update/Final, deprecated since OpenSSL 3.0 but still the fastest way to hash one record:
// measured on record-sized lines with OpenSSL 3.0 (bench/sha256_bench.cc), EVP_Digest* with a reused
// context and a fetched digest runs at about 0.7x their speed, and the one-shot SHA256(), which looks
// the algorithm up on every call, at about 0.35x. The deprecation warning is silenced here only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
void Sha256(const char* data, size_t length, unsigned char* digest) {
  SHA256_CTX context;
  SHA256_Init(&context);
  SHA256_Update(&context, data, length);
  SHA256_Final(digest, &context);
}
#pragma GCC diagnostic pop

bool HashMatches(const CheckedLine& line) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  Sha256(line.start, line.hashed, digest);
  char computed[64];
  ToHex(digest, computed);
  return std::memcmp(computed, line.hash, 64) == 0;
}

// The index of the first line in [begin, end) whose hash does not match, or end.
size_t FirstMismatch(const std::vector<CheckedLine>& lines, size_t begin, size_t end) {
  for (size_t i = begin; i < end; ++i) {
    if (!HashMatches(lines[i])) return i;
  }
  return end;
}

}  // namespace

ScanResult ScanRecords(const char* data, size_t length, ScanState* state) {
  // First the cheap, sequential part: structure, seq and prev, trusting each line's own hash field.
  std::vector<CheckedLine> lines;
  ScanState next = *state;
  size_t at = 0;
  while (at < length) {
    const void* newline = std::memchr(data + at, '\n', length - at);
    if (newline == nullptr) break;
    const size_t line_length = static_cast<const char*>(newline) - (data + at);
    CheckedLine line;
    if (!Continues(data + at, line_length, next, &line)) break;
    lines.push_back(line);
    std::memcpy(next.prev, line.hash, 64);
    next.expected_seq += 1;
    at += line_length + 1;
  }

  // Then the hashes, which depend on nothing but their own line: half on another thread when one can
  // be had. Starting a thread throws std::system_error when the process may create no more tasks
  // (RLIMIT_NPROC, a cgroup's pids.max; C++ [thread.thread.constr]); let out of here, that exception
  // would cross N-API's C boundary and end the process. This thread then hashes them all.
  size_t half = lines.size();
  size_t second_bad = lines.size();
  std::thread helper;
  if (lines.size() >= kParallelLines) {
    half = lines.size() / 2;
    try {
      helper = std::thread([&lines, half, &second_bad] { second_bad = FirstMismatch(lines, half, lines.size()); });
    } catch (const std::system_error&) {
      half = lines.size();
    }
  }
  const size_t first_bad = FirstMismatch(lines, 0, half);
  if (helper.joinable()) helper.join();
  const size_t bad = first_bad < half ? first_bad : second_bad;

  ScanResult result;
  result.lines = bad;
  if (bad > 0) {
    const CheckedLine& last = lines[bad - 1];
    result.consumed = static_cast<size_t>(last.start - data) + last.hashed + kSuffixBytes + 1;
    std::memcpy(state->prev, last.hash, 64);
    state->expected_seq += static_cast<double>(bad);
  }
  return result;
}

}  // namespace fsao
