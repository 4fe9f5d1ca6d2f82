// The verifier's fast path: walks complete lines while they are data records the JavaScript verifier
// would accept without a finding (valid, chained and, when keys are given, signed by one of them). No
// N-API in it. Anything else (a recovery, seal, prune or checkpoint record, a seq to stop at, damage, a
// signature that does not verify) stops the walk, and the JavaScript verifier takes that line, so every
// finding is made in one place.
#ifndef FS_APPEND_ONLY_SCAN_H
#define FS_APPEND_ONLY_SCAN_H

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine.h"

namespace fsao {

struct ScanState {
  double expected_seq;  // the seq the next record must have
  char prev[64];        // the hash (hex) the next record's prev must be
  double stop_seq;      // stop before the record with this seq (an anchor); 0 for none
};

struct ScanResult {
  uint64_t consumed = 0;  // bytes of whole lines accepted, from the start
  size_t lines = 0;
  // ScanFile only: every line up to the limit was taken, and more of the file may follow.
  bool more = false;
};

// What one stretch of whole lines holds: the run of lines at its start that are records chained to
// each other, and the ends of that run, which are chained to the stretches around it afterwards.
struct Stretch {
  size_t begin = 0;
  size_t end = 0;
  size_t accepted_end = 0;  // == end when every line of the stretch was accepted
  size_t lines = 0;
  double first_seq = 0;
  const char* first_prev = nullptr;
  double last_seq = 0;
  const char* last_hash = nullptr;
};

// One verification's scanner: the keys signatures are checked with, and a helper thread started on the
// first long scan and kept until Close() or destruction. One scan at a time.
class RecordScanner {
 public:
  // With check_signatures (keys were given) every record must be signed by a key added here; without,
  // a signed record is taken on its hash alone, as the JavaScript verifier takes it without keys.
  explicit RecordScanner(bool check_signatures);
  ~RecordScanner();
  RecordScanner(const RecordScanner&) = delete;
  RecordScanner& operator=(const RecordScanner&) = delete;

  // Takes ownership of `key`. An id given twice keeps the last key.
  void AddKey(const std::string& id, HmacKey* key);

  // Scans data[0, length). On return `state` holds the last accepted record's successor and hash.
  ScanResult Scan(const char* data, size_t length, ScanState* state);

  // Scans the lines of the open file `file` (a descriptor, as libuv and Node number them) that start in [position, limit), position being a line start,
  // reading them itself: both threads read blocks of the file and scan them, so no chunk passes through
  // JavaScript and neither thread waits for the other between chunks. At most 1 GiB from position per
  // call. `more` is false when it stopped before the limit (a line it does not take, the end of the file,
  // a read that failed).
  ScanResult ScanFile(int file, uint64_t position, uint64_t limit, ScanState* state);

  // Stops the helper thread (a later scan starts another when it needs one).
  void Close();

 private:
  class Task;
  class MemoryTask;
  class FileTask;
  struct Key {
    std::string id;
    HmacKey* key;
  };

  Stretch ScanStretch(const char* data, size_t begin, size_t end, double stop_seq) const;
  const HmacKey* FindKey(const char* id, size_t length) const;
  // Runs `task` on this thread and the helper, when one can be had; returns once both are done with it.
  void RunShared(Task* task);
  bool StartHelper();
  void HelperLoop();

  const bool check_signatures_;
  // Few, and looked up only when a record's key id differs from the one before: a list serves.
  std::vector<Key> keys_;

  std::vector<Stretch> stretches_;
  std::vector<char> block_buffers_[2];  // ScanFile's, one for each thread
  std::thread helper_;
  bool helper_failed_ = false;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  Task* task_ = nullptr;      // offered to the helper, until it takes it (or the caller takes it back)
  bool helper_busy_ = false;  // the helper holds a task
  bool stop_ = false;
};

}  // namespace fsao

#endif
