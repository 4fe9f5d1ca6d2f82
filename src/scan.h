// The verifier's fast path: walks complete lines while they are plain, valid, chained data records.
// No N-API in it. Anything else (a recovery or signed record, a seq to stop at, damage) stops the walk,
// and the JavaScript verifier takes that line, so every finding is made in one place.
#ifndef FS_APPEND_ONLY_SCAN_H
#define FS_APPEND_ONLY_SCAN_H

#include <cstddef>
#include <cstdint>

namespace fsao {

struct ScanState {
  double expected_seq;  // the seq the next record must have
  char prev[64];        // the hash (hex) the next record's prev must be
  double stop_seq;      // stop before the record with this seq (an anchor); 0 for none
};

struct ScanResult {
  size_t consumed = 0;  // bytes of whole lines accepted, from the start
  size_t lines = 0;
};

// Scans data[0, length). On return `state` holds the last accepted record's successor and hash.
ScanResult ScanRecords(const char* data, size_t length, ScanState* state);

}  // namespace fsao

#endif
