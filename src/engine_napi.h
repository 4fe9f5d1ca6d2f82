// The log's engine as N-API calls (engine_napi.cc), registered on the addon's exports.
#ifndef FSAO_ENGINE_NAPI_H_
#define FSAO_ENGINE_NAPI_H_

#include <napi.h>

#include "engine.h"

namespace fsao {

// Adds hmacKey, encodeRecord, foldLeaf and foldRecordLines (lib/binding.ts) to `exports`.
void RegisterEngine(Napi::Env env, Napi::Object exports);

// The key inside a value hmacKey() returned; nullptr for any other value (null included).
HmacKey* HmacKeyOf(napi_env env, napi_value value);

}  // namespace fsao

#endif  // FSAO_ENGINE_NAPI_H_
