// The verifier's fast path, with the SHA-256 of the OpenSSL that Node itself ships.
#include "scan.h"

#include <openssl/sha.h>

#ifdef _WIN32
#include <uv.h>
#else
#include <unistd.h>
#endif

#include <atomic>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace fsao {
namespace {

constexpr char kSeq[] = "{\"seq\":";
constexpr char kTs[] = ",\"ts\":\"";
constexpr char kPrev[] = "\",\"prev\":\"";
constexpr char kData[] = "\",\"data\":";
constexpr char kKeyId[] = "\",\"keyId\":\"";
constexpr char kSig[] = ",\"sig\":\"";
constexpr char kHash[] = ",\"hash\":\"";
template <size_t N>
constexpr size_t Length(const char (&)[N]) {
  return N - 1;
}
constexpr size_t kTsLength = 24;                                // 2026-11-22T10:00:00.000Z
constexpr size_t kSuffixBytes = Length(kHash) + 64 + 2;         // ,"hash":"<64>"}
constexpr size_t kSigFieldBytes = Length(kSig) + 64 + 1;        // ,"sig":"<64>"
constexpr size_t kMaxKeyIdBytes = 64;
// lib/log/format.ts MAX_RECORD_BYTES: the reader never parses a longer line.
constexpr size_t kMaxRecordBytes = 1024 * 1024;

// The first lines of a scan are checked on the calling thread alone, so that where damage stops the
// scan among them (short runs of records between damaged lines) no thread is woken for nothing.
constexpr size_t kProbeBytes = 8 * 1024;
// Below this many bytes after the probe, a second thread costs more than it saves.
constexpr size_t kParallelBytes = 64 * 1024;
// The threads take stretches of about this size in turn: small enough that neither waits long for the
// other at the end of a chunk, large enough that taking one costs nothing next to scanning it.
constexpr size_t kStretchBytes = 16 * 1024;
// ScanFile's threads read and scan blocks of this size: read into a buffer that stays in the core's
// cache (a 2 MiB L2 here), where the copy out of the page cache and the scan after it cost less than
// through a larger one (measured: 64 KiB and 1 MiB blocks both slower).
constexpr size_t kBlockBytes = 256 * 1024;
// One ScanFile takes at most this many blocks (1 GiB), whatever limit it is given.
constexpr uint64_t kMaxBlocks = 4096;
// A block's last line is read on past the block to its end: first this much (a record's usual length),
// then twice as much each time.
constexpr size_t kExtendBytes = 4 * 1024;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsLowerHex(const char* text, size_t length) {
  for (size_t i = 0; i < length; ++i) {
    if (!IsDigit(text[i]) && !(text[i] >= 'a' && text[i] <= 'f')) return false;
  }
  return true;
}

// [A-Za-z0-9._:-], the characters lib/log/format.ts KEY_ID_PATTERN allows.
bool IsKeyIdChar(char c) {
  return IsDigit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '.' || c == '_' || c == ':' || c == '-';
}

// Eight bytes of a line as one word, byte i in bits 8i to 8i + 7 wherever the platform keeps it.
uint64_t Word(const char* bytes) {
  uint64_t word = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  std::memcpy(&word, bytes, 8);
#else
  for (int i = 7; i >= 0; --i) word = (word << 8) | static_cast<unsigned char>(bytes[i]);
#endif
  return word;
}

constexpr uint64_t kEveryByte = 0x0101010101010101ULL;

// The same strict form as the JavaScript parser, \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z, eight bytes at a
// time: the punctuation compared under a mask, the digits found by the high bit of (c ^ '0') + 0x76, which
// is clear exactly for c in '0'..'9' when c ^ '0' is below 0x80 too (a carry into the next byte only
// leaves from a byte that fails already).
bool IsTimestamp(const char* ts) {
  static const char kShape[] = "0000-00-00T00:00:00.000Z";
  uint64_t wrong = 0;
  for (size_t i = 0; i < kTsLength; i += 8) {
    uint64_t digits = 0;  // 0xff in each byte that must be a digit
    for (size_t j = 0; j < 8; ++j) {
      if (kShape[i + j] == '0') digits |= uint64_t{0xff} << (8 * j);
    }
    const uint64_t word = Word(ts + i);
    const uint64_t t = word ^ (0x30 * kEveryByte);
    wrong |= ((t | (t + 0x76 * kEveryByte)) & digits & (0x80 * kEveryByte)) | ((word ^ Word(kShape + i)) & ~digits);
  }
  return wrong == 0;
}

// The four bytes of x in the even bytes of the result (bytes 0, 2, 4 and 6).
uint64_t Spread(uint32_t x) {
  uint64_t word = x;
  word = (word | (word << 16)) & 0x0000ffff0000ffffULL;
  return (word | (word << 8)) & 0x00ff00ff00ff00ffULL;
}

// Whether `hex` (64 bytes of a line) is the lowercase hex of `digest`, which settles that it is hex too.
// Four digest bytes at a time: their nibbles spread over the bytes of a word, high nibble first, each
// turned into its digit ('0' + n, and 39 more from 'a' on) with no branch.
bool DigestIs(const unsigned char* digest, const char* hex) {
  uint64_t wrong = 0;
  for (int i = 0; i < 32; i += 4) {
    const uint32_t bytes = digest[i] | (digest[i + 1] << 8) | (digest[i + 2] << 16) | (static_cast<uint32_t>(digest[i + 3]) << 24);
    const uint64_t nibbles = Spread((bytes >> 4) & 0x0f0f0f0f) | (Spread(bytes & 0x0f0f0f0f) << 8);
    const uint64_t letters = ((nibbles + 6 * kEveryByte) >> 4) & kEveryByte;
    wrong |= (nibbles + 0x30 * kEveryByte + letters * 39) ^ Word(hex + 2 * i);
  }
  return wrong == 0;
}

// SHA256_Init/Update/Final, deprecated since OpenSSL 3.0 but still the fastest way to hash one record:
// measured on record-sized lines with OpenSSL 3.0 (bench/sha256_bench.cc), EVP_Digest* with a reused
// context and a fetched digest runs at about 0.7x their speed, and the one-shot SHA256(), which looks
// the algorithm up on every call, at about 0.35x. The deprecation warning is silenced here only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
bool HashIs(const char* bytes, size_t length, const char* hex) {
  SHA256_CTX context;
  SHA256_Init(&context);
  SHA256_Update(&context, bytes, length);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256_Final(digest, &context);
  return DigestIs(digest, hex);
}
#pragma GCC diagnostic pop

bool SignatureIs(const HmacKey* key, const char* bytes, size_t length, const char* hex) {
  unsigned char digest[32];
  HmacSha256(key, reinterpret_cast<const unsigned char*>(bytes), length, digest);
  return DigestIs(digest, hex);
}

// A data record's fields, found by position.
struct Record {
  double seq;
  const char* prev;      // 64 bytes, not yet known to be hex: only compared with a hash that is
  const char* key_id;    // nullptr for an unsigned record
  size_t key_id_length;
  size_t signed_bytes;   // the signature covers the line's first signed_bytes
  const char* sig;       // 64 bytes, not yet known to be hex
  size_t hashed_bytes;   // the hash covers the line's first hashed_bytes
  const char* hash;      // 64 bytes, not yet known to be hex
};

// One line without its newline, read as parseLine (lib/log/format.ts) reads it: true for a data record
// (no type field) that parseLine would return, apart from the hex of prev, sig and hash, which the caller
// settles by comparing them with hex it computed. Anything parseLine refuses is refused here.
bool ParseDataRecord(const char* line, size_t length, Record* out) {
  // The shortest record: the fixed fields, a seq of one digit, one byte of data, the hash.
  constexpr size_t kFixedHeader = Length(kTs) + kTsLength + Length(kPrev) + 64 + Length(kData);
  if (length > kMaxRecordBytes || length < Length(kSeq) + 1 + kFixedHeader + 1 + kSuffixBytes) return false;
  if (std::memcmp(line, kSeq, Length(kSeq)) != 0) return false;
  size_t at = Length(kSeq);
  // (0|[1-9]\d{0,15}): at most 16 digits, whose value below 10^16 this computes with one rounding (the
  // product of a 15-digit value and 10 is exact in a double), as Number() rounds it.
  double seq = 0;
  const size_t digits_start = at;
  while (IsDigit(line[at]) && at - digits_start < 16) seq = seq * 10 + (line[at++] - '0');
  const size_t digits = at - digits_start;
  if (digits == 0 || (digits > 1 && line[digits_start] == '0')) return false;
  if (length < at + kFixedHeader + 1 + kSuffixBytes) return false;

  if (std::memcmp(line + at, kTs, Length(kTs)) != 0 || !IsTimestamp(line + at + Length(kTs))) return false;
  at += Length(kTs) + kTsLength;
  if (std::memcmp(line + at, kPrev, Length(kPrev)) != 0) return false;
  const char* prev = line + at + Length(kPrev);
  at += Length(kPrev) + 64;
  const char* key_id = nullptr;
  size_t key_id_length = 0;
  if (std::memcmp(line + at, kData, Length(kData)) == 0) {
    at += Length(kData);
  } else if (std::memcmp(line + at, kKeyId, Length(kKeyId)) == 0) {  // a type field falls here: not ours
    at += Length(kKeyId);
    key_id = line + at;
    while (at < length && key_id_length < kMaxKeyIdBytes && IsKeyIdChar(line[at])) {
      ++at;
      ++key_id_length;
    }
    if (key_id_length == 0 || length < at + Length(kData) || std::memcmp(line + at, kData, Length(kData)) != 0) return false;
    at += Length(kData);
  } else {
    return false;
  }
  const size_t data_start = at;

  const size_t hash_start = length - kSuffixBytes;
  if (std::memcmp(line + hash_start, kHash, Length(kHash)) != 0 || line[length - 2] != '"' || line[length - 1] != '}') {
    return false;
  }
  size_t data_end = hash_start;
  const char* sig = nullptr;
  if (key_id != nullptr) {
    if (hash_start <= data_start + kSigFieldBytes) return false;  // no data left before the signature
    const size_t sig_start = hash_start - kSigFieldBytes;
    if (std::memcmp(line + sig_start, kSig, Length(kSig)) != 0 || line[hash_start - 1] != '"') return false;
    sig = line + sig_start + Length(kSig);
    data_end = sig_start;
  }
  if (data_end <= data_start) return false;

  *out = {seq, prev, key_id, key_id_length, data_end, sig, hash_start, line + hash_start + Length(kHash)};
  return true;
}

// Chains a scanned stretch to the records accepted before it. True when the whole stretch was
// accepted, so that the next one may follow.
bool Chain(const Stretch& stretch, ScanState* state, ScanResult* result) {
  if (stretch.lines > 0) {
    if (stretch.first_seq != state->expected_seq || std::memcmp(stretch.first_prev, state->prev, 64) != 0) return false;
    result->lines += stretch.lines;
    result->consumed = stretch.accepted_end;
    state->expected_seq = stretch.last_seq + 1;
    std::memcpy(state->prev, stretch.last_hash, 64);
  }
  return stretch.accepted_end == stretch.end;
}

// The first line start at or after `at`, within data[0, whole), which ends with a newline.
size_t LineStartFrom(const char* data, size_t at, size_t whole) {
  if (at == 0) return 0;
  if (at >= whole) return whole;
  const void* newline = std::memchr(data + at - 1, '\n', whole - (at - 1));
  return static_cast<size_t>(static_cast<const char*>(newline) - data) + 1;
}

// Reads up to `length` bytes at `offset`, fewer only where the file ends. A read that fails counts as the
// end: the scan stops there, and the JavaScript reader, reading on from there, meets the error and reports it.
size_t ReadAt(int file, char* into, size_t length, uint64_t offset, bool* end) {
  size_t got = 0;
  while (got < length) {
#ifdef _WIN32
    // libuv's read without a callback is synchronous and touches no loop; it takes the CRT descriptor Node gives.
    uv_fs_t request;
    uv_buf_t buffer = uv_buf_init(into + got, static_cast<unsigned int>(length - got));
    const int64_t read = uv_fs_read(nullptr, &request, file, &buffer, 1, static_cast<int64_t>(offset + got), nullptr);
    uv_fs_req_cleanup(&request);
#else
    const ssize_t read = pread(file, into + got, length - got, static_cast<off_t>(offset + got));
    if (read < 0 && errno == EINTR) continue;
#endif
    if (read <= 0) {
      *end = true;
      break;
    }
    got += static_cast<size_t>(read);
  }
  return got;
}

// One block of a ScanFile, in file offsets: the lines that start in it and the run of records at their
// start, whose ends are copied out of the buffer the block was read into.
struct Block {
  bool empty = true;      // no line starts in it (past the end of the file, or inside a long line)
  bool complete = false;  // every line that starts in it was read to its newline
  bool end_of_file = false;
  uint64_t begin = 0;
  uint64_t end = 0;
  uint64_t accepted_end = 0;
  size_t lines = 0;
  double first_seq = 0;
  double last_seq = 0;
  char first_prev[64];
  char last_hash[64];
};

}  // namespace

// Work both threads share: each calls Run() and takes pieces of it in turn until none is left.
class RecordScanner::Task {
 public:
  virtual ~Task() = default;
  // `thread` is 0 on the calling thread, 1 on the helper.
  virtual void Run(int thread) = 0;

 protected:
  // Claims the next piece; false when none is left, or only pieces after one found not taken whole.
  bool Claim(size_t* piece) {
    *piece = next_.fetch_add(1, std::memory_order_relaxed);
    return *piece < count_ && *piece <= failed_.load(std::memory_order_relaxed);
  }
  // Piece k stops the walk: the pieces after it need no scan, as none of their lines can be taken.
  void Failed(size_t k) {
    size_t failed = failed_.load(std::memory_order_relaxed);
    while (k < failed && !failed_.compare_exchange_weak(failed, k, std::memory_order_relaxed)) {
    }
  }
  explicit Task(size_t count) : count_(count), next_(0), failed_(count) {}

  const size_t count_;

 private:
  std::atomic<size_t> next_;
  std::atomic<size_t> failed_;
};

// The stretches of data[begin, whole) the threads take in turn: stretch k starts at the first line
// start at or after begin + k * kStretchBytes.
class RecordScanner::MemoryTask : public Task {
 public:
  MemoryTask(const RecordScanner& scanner, const char* data, size_t begin, size_t whole, size_t count, double stop_seq, Stretch* stretches)
      : Task(count), scanner_(scanner), data_(data), begin_(begin), whole_(whole), stop_seq_(stop_seq), stretches_(stretches) {}

  void Run(int) override {
    size_t k;
    while (Claim(&k)) {
      const Stretch stretch = scanner_.ScanStretch(data_, Boundary(k), Boundary(k + 1), stop_seq_);
      stretches_[k] = stretch;
      if (stretch.accepted_end != stretch.end) Failed(k);
    }
  }

 private:
  size_t Boundary(size_t k) const { return k >= count_ ? whole_ : LineStartFrom(data_, begin_ + k * kStretchBytes, whole_); }

  const RecordScanner& scanner_;
  const char* const data_;
  const size_t begin_;
  const size_t whole_;
  const double stop_seq_;
  Stretch* const stretches_;
};

// The blocks of a file from `position` the threads read and scan in turn: block k holds the lines that
// start in [position + k * kBlockBytes, position + (k + 1) * kBlockBytes), the last one those up to `limit`.
class RecordScanner::FileTask : public Task {
 public:
  FileTask(RecordScanner& scanner, int file, uint64_t position, uint64_t limit, size_t count, double stop_seq, Block* blocks)
      : Task(count), scanner_(scanner), file_(file), position_(position), limit_(limit), stop_seq_(stop_seq), blocks_(blocks) {}

  void Run(int thread) override {
    std::vector<char>& buffer = scanner_.block_buffers_[thread];
    size_t k;
    while (Claim(&k)) {
      Block& block = blocks_[k];
      block = ScanBlock(k, &buffer);
      if (block.end_of_file || (!block.empty && (!block.complete || block.accepted_end != block.end))) Failed(k);
    }
  }

 private:
  Block ScanBlock(size_t k, std::vector<char>* buffer) const {
    Block block;
    const uint64_t start = position_ + k * kBlockBytes;
    // From the byte before, which says whether a line starts at `start` (position is a line start).
    const uint64_t from = k == 0 ? start : start - 1;
    const uint64_t block_end = start + kBlockBytes < limit_ ? start + kBlockBytes : limit_;
    const size_t owned = static_cast<size_t>(block_end - from);  // lines starting before here are this block's
    if (buffer->size() < owned) buffer->resize(owned);
    size_t got = ReadAt(file_, buffer->data(), owned, from, &block.end_of_file);
    const char* data = buffer->data();
    size_t first = 0;
    if (k > 0) {
      const void* newline = std::memchr(data, '\n', got);
      if (newline == nullptr) return block;
      first = static_cast<size_t>(static_cast<const char*>(newline) - data) + 1;
    }
    if (first >= owned || first >= got) return block;
    block.empty = false;

    // The last line that starts in the block, read on to its newline: at most a record's length past the
    // start of that line, as a longer line is no record.
    size_t whole = 0;  // the end of the lines read whole
    const void* after = got >= owned ? std::memchr(data + owned - 1, '\n', got - (owned - 1)) : nullptr;
    if (after != nullptr) {
      whole = static_cast<size_t>(static_cast<const char*>(after) - data) + 1;
      block.complete = true;
    } else {
      size_t last_start = got;  // where the cut line starts
      while (last_start > first && data[last_start - 1] != '\n') --last_start;
      for (size_t step = kExtendBytes; !block.end_of_file && got - last_start <= kMaxRecordBytes; step *= 2) {
        if (buffer->size() < got + step) buffer->resize(got + step);
        data = buffer->data();
        const size_t more = ReadAt(file_, buffer->data() + got, step, from + got, &block.end_of_file);
        const void* newline = std::memchr(data + got, '\n', more);
        got += more;
        if (newline != nullptr) {
          whole = static_cast<size_t>(static_cast<const char*>(newline) - data) + 1;
          block.complete = true;
          block.end_of_file = false;  // past the block's lines: the next block finds the end, if it is there
          break;
        }
      }
      if (!block.complete) whole = last_start;  // cut by the end of the file, or too long to be a record
    }

    const Stretch stretch = scanner_.ScanStretch(data, first, whole, stop_seq_);
    block.begin = from + first;
    block.end = from + whole;
    block.accepted_end = from + stretch.accepted_end;
    block.lines = stretch.lines;
    if (stretch.lines > 0) {
      block.first_seq = stretch.first_seq;
      block.last_seq = stretch.last_seq;
      std::memcpy(block.first_prev, stretch.first_prev, 64);
      std::memcpy(block.last_hash, stretch.last_hash, 64);
    }
    return block;
  }

  RecordScanner& scanner_;
  const int file_;
  const uint64_t position_;
  const uint64_t limit_;
  const double stop_seq_;
  Block* const blocks_;
};

RecordScanner::RecordScanner(bool check_signatures) : check_signatures_(check_signatures) {}

RecordScanner::~RecordScanner() {
  Close();
  for (const Key& key : keys_) DeleteHmacKey(key.key);
}

void RecordScanner::AddKey(const std::string& id, HmacKey* key) {
  for (Key& existing : keys_) {
    if (existing.id == id) {
      DeleteHmacKey(existing.key);
      existing.key = key;
      return;
    }
  }
  keys_.push_back({id, key});
}

const HmacKey* RecordScanner::FindKey(const char* id, size_t length) const {
  for (const Key& key : keys_) {
    if (key.id.size() == length && std::memcmp(key.id.data(), id, length) == 0) return key.key;
  }
  return nullptr;
}

// Scans the whole lines of data[begin, end) on this thread: the run of records at its start that are
// chained to each other, whose seq is not stop_seq, whose hash matches and, with keys, whose signature is
// one of theirs. The first record's seq and prev are chained to what comes before later (Chain).
Stretch RecordScanner::ScanStretch(const char* data, size_t begin, size_t end, double stop_seq) const {
  Stretch stretch;
  stretch.begin = begin;
  stretch.end = end;
  stretch.accepted_end = begin;
  // The key of the record before: a log is signed by one key at a time.
  const char* key_id = nullptr;
  size_t key_id_length = 0;
  const HmacKey* key = nullptr;
  size_t at = begin;
  while (at < end) {
    const char* line = data + at;
    const size_t length = static_cast<size_t>(static_cast<const char*>(std::memchr(line, '\n', end - at)) - line);
    Record record;
    if (!ParseDataRecord(line, length, &record) || record.seq == stop_seq) break;
    if (stretch.lines > 0 && (record.seq != stretch.last_seq + 1 || std::memcmp(record.prev, stretch.last_hash, 64) != 0)) break;
    // The checks that cost no hash first: a log whose every record is signed by a key not given stops here.
    if (record.key_id == nullptr) {
      if (check_signatures_) break;  // 'unsigned'
    } else if (check_signatures_) {
      if (key == nullptr || record.key_id_length != key_id_length || std::memcmp(record.key_id, key_id, key_id_length) != 0) {
        key = FindKey(record.key_id, record.key_id_length);
        key_id = record.key_id;
        key_id_length = record.key_id_length;
        if (key == nullptr) break;  // 'unknown-key'
      }
    } else if (!IsLowerHex(record.sig, 64)) {
      break;  // not a record of this format
    }
    if (!HashIs(line, record.hashed_bytes, record.hash)) break;
    if (check_signatures_ && !SignatureIs(key, line, record.signed_bytes, record.sig)) break;  // 'bad-signature'
    if (stretch.lines == 0) {
      stretch.first_seq = record.seq;
      stretch.first_prev = record.prev;
    }
    stretch.last_seq = record.seq;
    stretch.last_hash = record.hash;
    stretch.lines += 1;
    at += length + 1;
    stretch.accepted_end = at;
  }
  return stretch;
}

// Starting a thread throws std::system_error when the process may create no more tasks (RLIMIT_NPROC, a
// cgroup's pids.max; C++ [thread.thread.constr]); let out of here, that exception would cross N-API's C
// boundary and end the process. This scanner then scans on the calling thread alone.
bool RecordScanner::StartHelper() {
  if (helper_.joinable()) return true;
  if (helper_failed_) return false;
  try {
    helper_ = std::thread(&RecordScanner::HelperLoop, this);
    return true;
  } catch (const std::system_error&) {
    helper_failed_ = true;
    return false;
  }
}

// The helper sleeps between tasks. Spinning for the next one instead (tried for 0.3 and 2 ms) made whole
// verifications slower: the reads of the chunks ahead, on libuv's threads, need that core.
void RecordScanner::HelperLoop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stop_ || task_ != nullptr; });
    if (stop_) return;
    Task* task = task_;
    task_ = nullptr;
    helper_busy_ = true;
    lock.unlock();
    task->Run(1);
    lock.lock();
    helper_busy_ = false;
    done_.notify_one();
  }
}

void RecordScanner::RunShared(Task* task) {
  if (!StartHelper()) {
    task->Run(0);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    task_ = task;
    wake_.notify_one();
  }
  task->Run(0);
  std::unique_lock<std::mutex> lock(mutex_);
  if (task_ == task) {
    task_ = nullptr;  // every piece was taken before the helper woke: nothing to wait for
  } else {
    done_.wait(lock, [this] { return !helper_busy_; });
  }
}

void RecordScanner::Close() {
  if (!helper_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    wake_.notify_one();
  }
  helper_.join();
  stop_ = false;
}

ScanResult RecordScanner::Scan(const char* data, size_t length, ScanState* state) {
  ScanResult result;
  size_t whole = length;  // the whole lines: up to the last newline
  while (whole > 0 && data[whole - 1] != '\n') --whole;

  const size_t probe_end = LineStartFrom(data, kProbeBytes < whole ? kProbeBytes : whole, whole);
  if (!Chain(ScanStretch(data, 0, probe_end, state->stop_seq), state, &result) || probe_end == whole) return result;

  if (whole - probe_end < kParallelBytes) {
    Chain(ScanStretch(data, probe_end, whole, state->stop_seq), state, &result);
    return result;
  }
  // Both threads parse and hash stretches of their own, taken in turn; their ends are chained here after.
  const size_t count = (whole - probe_end + kStretchBytes - 1) / kStretchBytes;
  if (stretches_.size() < count) stretches_.resize(count);
  MemoryTask task(*this, data, probe_end, whole, count, state->stop_seq, stretches_.data());
  RunShared(&task);
  for (size_t k = 0; k < count && Chain(stretches_[k], state, &result); ++k) {
  }
  return result;
}

ScanResult RecordScanner::ScanFile(int file, uint64_t position, uint64_t limit, ScanState* state) {
  ScanResult result;
  if (limit <= position) return result;
  if (limit - position > kMaxBlocks * kBlockBytes) limit = position + kMaxBlocks * kBlockBytes;
  const uint64_t count = (limit - position + kBlockBytes - 1) / kBlockBytes;
  std::vector<Block> blocks(count);
  FileTask task(*this, file, position, limit, count, state->stop_seq, blocks.data());
  RunShared(&task);

  // The blocks chained in order: each must begin where the one before ended (a line too long to be a
  // record leaves a gap), and its first record follow the last one taken.
  uint64_t at = position;
  for (const Block& block : blocks) {
    if (block.empty) {
      if (block.end_of_file) return result;
      continue;
    }
    if (block.begin != at) return result;
    if (block.lines > 0) {
      if (block.first_seq != state->expected_seq || std::memcmp(block.first_prev, state->prev, 64) != 0) return result;
      result.lines += block.lines;
      result.consumed = block.accepted_end - position;
      state->expected_seq = block.last_seq + 1;
      std::memcpy(state->prev, block.last_hash, 64);
    }
    if (!block.complete || block.accepted_end != block.end || block.end_of_file) return result;
    at = block.end;
  }
  result.more = true;
  return result;
}

}  // namespace fsao
