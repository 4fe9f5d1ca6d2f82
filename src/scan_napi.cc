// N-API glue of the verifier's scanner (scan.cc): arguments checked, the scan run, its state returned.
#include "scan_napi.h"

#include <cstring>
#include <string>

#include "scan.h"

namespace fsao {
namespace {

// scanRecords(buffer, from, to, expectedSeq, prevHex, stopSeq) -> [consumedBytes, lines, nextSeq, prevHex]
Napi::Value ScanRecordsSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 6 || !info[0].IsBuffer() || !info[1].IsNumber() || !info[2].IsNumber() || !info[3].IsNumber() ||
      !info[4].IsString() || !info[5].IsNumber()) {
    throw Napi::TypeError::New(env, "scanRecords(buffer, from, to, expectedSeq, prevHex, stopSeq)");
  }
  Napi::Buffer<char> buffer = info[0].As<Napi::Buffer<char>>();
  const int64_t from = info[1].As<Napi::Number>().Int64Value();
  const int64_t to = info[2].As<Napi::Number>().Int64Value();
  const std::string prev = info[4].As<Napi::String>().Utf8Value();
  if (from < 0 || to < from || static_cast<size_t>(to) > buffer.Length() || prev.size() != 64) {
    throw Napi::RangeError::New(env, "scanRecords: bad range or prev");
  }
  ScanState state;
  state.expected_seq = info[3].As<Napi::Number>().DoubleValue();
  std::memcpy(state.prev, prev.data(), 64);
  state.stop_seq = info[5].As<Napi::Number>().DoubleValue();
  ScanResult result = ScanRecords(buffer.Data() + from, static_cast<size_t>(to - from), &state);
  Napi::Array out = Napi::Array::New(env, 4);
  out.Set(0u, Napi::Number::New(env, static_cast<double>(result.consumed)));
  out.Set(1u, Napi::Number::New(env, static_cast<double>(result.lines)));
  out.Set(2u, Napi::Number::New(env, state.expected_seq));
  out.Set(3u, Napi::String::New(env, state.prev, 64));
  return out;
}

}  // namespace

void RegisterScan(Napi::Env env, Napi::Object exports) {
  exports.Set("scanRecords", Napi::Function::New<ScanRecordsSync>(env, "scanRecords"));
}

}  // namespace fsao
