// The verifier's scanner as N-API calls (scan_napi.cc), registered on the addon's exports.
#ifndef FSAO_SCAN_NAPI_H_
#define FSAO_SCAN_NAPI_H_

#include <napi.h>

namespace fsao {

// Adds scanRecords, scanFile, recordScanner and closeRecordScanner (lib/binding.ts) to `exports`.
void RegisterScan(Napi::Env env, Napi::Object exports);

}  // namespace fsao

#endif  // FSAO_SCAN_NAPI_H_
