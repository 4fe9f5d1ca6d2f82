// N-API glue of the verifier's scanner (scan.cc): arguments checked, the scan run, its state returned.
#include "scan_napi.h"

#include <cstring>
#include <string>

#include "scan.h"

namespace fsao {
namespace {

// What recordScanner() returns is tagged, so scanRecords() takes no other External for one.
const napi_type_tag kScannerTag = {0x5c7a1e0d93b24f61ULL, 0xa8e3f2c4b6d05719ULL};

// recordScanner(keys: [id, secret][] | null) -> External: one verification's scanner. With keys, every
// record it accepts is signed by one of them; the keys' HMAC states are computed here, once.
Napi::Value RecordScannerCall(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage = "recordScanner(keys: [id: string, secret: Buffer][] | null)";
  if (info.Length() < 1 || !(info[0].IsNull() || info[0].IsArray())) throw Napi::TypeError::New(env, usage);
  auto* scanner = new RecordScanner(info[0].IsArray());
  Napi::External<RecordScanner> external =
      Napi::External<RecordScanner>::New(env, scanner, [](Napi::Env, RecordScanner* data) { delete data; });
  external.TypeTag(&kScannerTag);
  if (info[0].IsArray()) {
    Napi::Array keys = info[0].As<Napi::Array>();
    for (uint32_t i = 0; i < keys.Length(); ++i) {
      Napi::Value entry = keys.Get(i);
      if (!entry.IsArray()) throw Napi::TypeError::New(env, usage);
      Napi::Array pair = entry.As<Napi::Array>();
      Napi::Value id = pair.Get(0u);
      Napi::Value secret = pair.Get(1u);
      if (!id.IsString() || !secret.IsBuffer()) throw Napi::TypeError::New(env, usage);
      Napi::Buffer<unsigned char> bytes = secret.As<Napi::Buffer<unsigned char>>();
      scanner->AddKey(id.As<Napi::String>().Utf8Value(), NewHmacKey(bytes.Data(), bytes.Length()));
    }
  }
  return external;
}

RecordScanner* ScannerOf(const Napi::Value& value) {
  if (value.Type() != napi_external) return nullptr;
  Napi::External<RecordScanner> external = value.As<Napi::External<RecordScanner>>();
  return external.CheckTypeTag(&kScannerTag) ? external.Data() : nullptr;
}

// closeRecordScanner(scanner): ends its helper thread now rather than when it is collected.
Napi::Value CloseRecordScannerCall(const Napi::CallbackInfo& info) {
  RecordScanner* scanner = info.Length() < 1 ? nullptr : ScannerOf(info[0]);
  if (scanner == nullptr) throw Napi::TypeError::New(info.Env(), "closeRecordScanner(scanner)");
  scanner->Close();
  return info.Env().Undefined();
}

// scanRecords(buffer, from, to, expectedSeq, prevHex, stopSeq, scanner?) -> [consumedBytes, lines, nextSeq, prevHex]
// Without a scanner: no keys (signed records are taken on their hash alone), and a helper thread for this call only.
Napi::Value ScanRecordsSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage = "scanRecords(buffer, from, to, expectedSeq, prevHex, stopSeq, scanner?)";
  if (info.Length() < 6 || !info[0].IsBuffer() || !info[1].IsNumber() || !info[2].IsNumber() || !info[3].IsNumber() ||
      !info[4].IsString() || !info[5].IsNumber()) {
    throw Napi::TypeError::New(env, usage);
  }
  RecordScanner* scanner = nullptr;
  if (info.Length() > 6 && !info[6].IsUndefined()) {
    scanner = ScannerOf(info[6]);
    if (scanner == nullptr) throw Napi::TypeError::New(env, usage);
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
  const char* data = buffer.Data() + from;
  const size_t length = static_cast<size_t>(to - from);
  ScanResult result;
  if (scanner != nullptr) {
    result = scanner->Scan(data, length, &state);
  } else {
    RecordScanner once(false);
    result = once.Scan(data, length, &state);
  }
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
  exports.Set("recordScanner", Napi::Function::New<RecordScannerCall>(env, "recordScanner"));
  exports.Set("closeRecordScanner", Napi::Function::New<CloseRecordScannerCall>(env, "closeRecordScanner"));
}

}  // namespace fsao
