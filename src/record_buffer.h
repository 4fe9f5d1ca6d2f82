// The writer's pending records in native memory (record_buffer.cc), as an N-API class.
#ifndef FSAO_RECORD_BUFFER_H_
#define FSAO_RECORD_BUFFER_H_

#include <napi.h>

namespace fsao {

// Adds the RecordBuffer class (lib/binding.ts NativeRecordBuffer) to `exports`.
void RegisterRecordBuffer(Napi::Env env, Napi::Object exports);

}  // namespace fsao

#endif  // FSAO_RECORD_BUFFER_H_
