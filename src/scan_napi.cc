// N-API glue of the verifier's scanner (scan.cc): arguments checked, the scan run, its state returned.
#include "scan_napi.h"

#include <cstring>
#include <string>

#include "scan.h"

namespace fsao {
namespace {

// What recordScanner() returns is tagged, so the scan calls take no other External for one.
const napi_type_tag kScannerTag = {0x5c7a1e0d93b24f61ULL, 0xa8e3f2c4b6d05719ULL};

// A scanner, and whether a scan of a file is under way with it on a libuv thread: a scanner serves one
// scan at a time, and a close asked for meanwhile waits for that scan to end. Touched on the main thread only.
struct ScannerHandle {
  explicit ScannerHandle(bool check_signatures) : scanner(check_signatures) {}
  RecordScanner scanner;
  bool busy = false;
  bool close_asked = false;
};

// recordScanner(keys: [id, secret][] | null) -> External: one verification's scanner. With keys, every
// record it accepts is signed by one of them; the keys' HMAC states are computed here, once.
Napi::Value RecordScannerCall(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage = "recordScanner(keys: [id: string, secret: Buffer][] | null)";
  if (info.Length() < 1 || !(info[0].IsNull() || info[0].IsArray())) throw Napi::TypeError::New(env, usage);
  auto* handle = new ScannerHandle(info[0].IsArray());
  Napi::External<ScannerHandle> external =
      Napi::External<ScannerHandle>::New(env, handle, [](Napi::Env, ScannerHandle* data) { delete data; });
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
      handle->scanner.AddKey(id.As<Napi::String>().Utf8Value(), NewHmacKey(bytes.Data(), bytes.Length()));
    }
  }
  return external;
}

ScannerHandle* HandleOf(const Napi::Value& value) {
  if (value.Type() != napi_external) return nullptr;
  Napi::External<ScannerHandle> external = value.As<Napi::External<ScannerHandle>>();
  return external.CheckTypeTag(&kScannerTag) ? external.Data() : nullptr;
}

// closeRecordScanner(scanner): ends its helper thread now rather than when it is collected (once the scan
// of a file under way, if any, is done).
Napi::Value CloseRecordScannerCall(const Napi::CallbackInfo& info) {
  ScannerHandle* handle = info.Length() < 1 ? nullptr : HandleOf(info[0]);
  if (handle == nullptr) throw Napi::TypeError::New(info.Env(), "closeRecordScanner(scanner)");
  if (handle->busy) {
    handle->close_asked = true;
  } else {
    handle->scanner.Close();
  }
  return info.Env().Undefined();
}

// The chain state the scans take: expectedSeq, prevHex and stopSeq, from info[first].
ScanState StateArgument(const Napi::CallbackInfo& info, size_t first) {
  const std::string prev = info[first + 1].As<Napi::String>().Utf8Value();
  if (prev.size() != 64) throw Napi::RangeError::New(info.Env(), "scan: prev must be 64 characters");
  ScanState state;
  state.expected_seq = info[first].As<Napi::Number>().DoubleValue();
  std::memcpy(state.prev, prev.data(), 64);
  state.stop_seq = info[first + 2].As<Napi::Number>().DoubleValue();
  return state;
}

// [consumedBytes, lines, nextSeq, prevHex] (, more)
Napi::Array ResultValue(Napi::Env env, const ScanResult& result, const ScanState& state, bool with_more) {
  Napi::Array out = Napi::Array::New(env, with_more ? 5 : 4);
  out.Set(0u, Napi::Number::New(env, static_cast<double>(result.consumed)));
  out.Set(1u, Napi::Number::New(env, static_cast<double>(result.lines)));
  out.Set(2u, Napi::Number::New(env, state.expected_seq));
  out.Set(3u, Napi::String::New(env, state.prev, 64));
  if (with_more) out.Set(4u, Napi::Boolean::New(env, result.more));
  return out;
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
  ScannerHandle* handle = nullptr;
  if (info.Length() > 6 && !info[6].IsUndefined()) {
    handle = HandleOf(info[6]);
    if (handle == nullptr) throw Napi::TypeError::New(env, usage);
    if (handle->busy) throw Napi::Error::New(env, "scanRecords: the scanner is scanning a file");
  }
  Napi::Buffer<char> buffer = info[0].As<Napi::Buffer<char>>();
  const int64_t from = info[1].As<Napi::Number>().Int64Value();
  const int64_t to = info[2].As<Napi::Number>().Int64Value();
  if (from < 0 || to < from || static_cast<size_t>(to) > buffer.Length()) throw Napi::RangeError::New(env, "scanRecords: bad range");
  ScanState state = StateArgument(info, 3);
  const char* data = buffer.Data() + from;
  const size_t length = static_cast<size_t>(to - from);
  ScanResult result;
  if (handle != nullptr) {
    result = handle->scanner.Scan(data, length, &state);
  } else {
    RecordScanner once(false);
    result = once.Scan(data, length, &state);
  }
  return ResultValue(env, result, state, false);
}

// Scans a file on the libuv pool (and the scanner's helper thread). Its inputs are copied here; the
// External is held, so the scanner outlives the scan.
class ScanFileWorker : public Napi::AsyncWorker {
 public:
  ScanFileWorker(Napi::Env env, Napi::External<ScannerHandle> external, int file, uint64_t position, uint64_t limit, ScanState state)
      : Napi::AsyncWorker(env, "fs-append-only"),
        deferred_(Napi::Promise::Deferred::New(env)),
        held_(Napi::Reference<Napi::External<ScannerHandle>>::New(external, 1)),
        handle_(external.Data()),
        file_(file),
        position_(position),
        limit_(limit),
        state_(state) {
    handle_->busy = true;
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override { result_ = handle_->scanner.ScanFile(file_, position_, limit_, &state_); }

  void OnOK() override {
    Release();
    deferred_.Resolve(ResultValue(Env(), result_, state_, true));
  }

  void OnError(const Napi::Error& error) override {
    Release();
    deferred_.Reject(error.Value());
  }

 private:
  void Release() {
    handle_->busy = false;
    if (handle_->close_asked) {
      handle_->close_asked = false;
      handle_->scanner.Close();
    }
  }

  Napi::Promise::Deferred deferred_;
  Napi::Reference<Napi::External<ScannerHandle>> held_;
  ScannerHandle* handle_;
  const int file_;
  const uint64_t position_;
  const uint64_t limit_;
  ScanState state_;
  ScanResult result_;
};

// scanFile(scanner, fd, position, limit, expectedSeq, prevHex, stopSeq) -> Promise<[consumedBytes, lines, nextSeq, prevHex, more]>
// The lines of the open file that start in [position, limit), read and scanned off the main thread.
Napi::Value ScanFileCall(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage = "scanFile(scanner, fd, position, limit, expectedSeq, prevHex, stopSeq)";
  if (info.Length() < 7 || !info[1].IsNumber() || !info[2].IsNumber() || !info[3].IsNumber() || !info[4].IsNumber() ||
      !info[5].IsString() || !info[6].IsNumber()) {
    throw Napi::TypeError::New(env, usage);
  }
  ScannerHandle* handle = HandleOf(info[0]);
  if (handle == nullptr) throw Napi::TypeError::New(env, usage);
  if (handle->busy) throw Napi::Error::New(env, "scanFile: the scanner is scanning a file");
  const double fd = info[1].As<Napi::Number>().DoubleValue();
  const double position = info[2].As<Napi::Number>().DoubleValue();
  const double limit = info[3].As<Napi::Number>().DoubleValue();
  constexpr double kMaxSafe = 9007199254740991.0;
  if (!(fd >= 0 && fd <= 2147483647.0 && fd == static_cast<int>(fd)) || !(position >= 0 && position <= kMaxSafe && position == static_cast<double>(static_cast<uint64_t>(position))) ||
      !(limit >= position && limit <= kMaxSafe)) {
    throw Napi::RangeError::New(env, "scanFile: bad fd, position or limit");
  }
  ScanState state = StateArgument(info, 4);
  auto* worker = new ScanFileWorker(env, info[0].As<Napi::External<ScannerHandle>>(), static_cast<int>(fd),
                                    static_cast<uint64_t>(position), static_cast<uint64_t>(limit), state);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace

void RegisterScan(Napi::Env env, Napi::Object exports) {
  exports.Set("scanRecords", Napi::Function::New<ScanRecordsSync>(env, "scanRecords"));
  exports.Set("scanFile", Napi::Function::New<ScanFileCall>(env, "scanFile"));
  exports.Set("recordScanner", Napi::Function::New<RecordScannerCall>(env, "recordScanner"));
  exports.Set("closeRecordScanner", Napi::Function::New<CloseRecordScannerCall>(env, "closeRecordScanner"));
}

}  // namespace fsao
