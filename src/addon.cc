// N-API glue: argument checks, a promise form (AsyncWorker) and a sync form of every platform call.
#include <napi.h>

#include <cstring>
#include <functional>
#include <string>
#include <utility>

#include "errors.h"
#include "flags.h"
#include "scan.h"

namespace fsao {
namespace {

template <typename Value>
using Operation = std::function<OsResult(Value*)>;

template <typename Value>
using ToJs = Napi::Value (*)(Napi::Env, const Value&);

// Runs one platform call on the libuv pool. Inputs are copied in the constructor and Execute()
// touches no N-API: it runs off the JavaScript thread.
template <typename Value>
class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, std::string path, Operation<Value> operation, ToJs<Value> to_js)
      : Napi::AsyncWorker(env, "fs-append-only"),
        deferred_(Napi::Promise::Deferred::New(env)),
        path_(std::move(path)),
        operation_(std::move(operation)),
        to_js_(to_js) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override { result_ = operation_(&value_); }

  void OnOK() override {
    Napi::Env env = Env();
    if (result_.error != 0) {
      deferred_.Reject(MakeSystemError(env, result_, path_).Value());
    } else {
      deferred_.Resolve(to_js_(env, value_));
    }
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::string path_;
  Operation<Value> operation_;
  ToJs<Value> to_js_;
  Value value_{};
  OsResult result_;
};

template <typename Value>
Napi::Value Run(const Napi::CallbackInfo& info, bool sync, std::string path, Operation<Value> operation,
                ToJs<Value> to_js) {
  Napi::Env env = info.Env();
  if (sync) {
    Value value{};
    OsResult result = operation(&value);
    if (result.error != 0) throw MakeSystemError(env, result, path);
    return to_js(env, value);
  }
  auto* worker = new PromiseWorker<Value>(env, std::move(path), std::move(operation), to_js);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// The facade hands paths over as strings, or as Buffers when the caller gave bytes (so non-UTF-8
// names survive), and has validated them; these checks only guard the addon against direct misuse.
std::string PathArgument(const Napi::CallbackInfo& info) {
  std::string path;
  if (info.Length() >= 1 && info[0].IsString()) {
    path = info[0].As<Napi::String>().Utf8Value();
  } else if (info.Length() >= 1 && info[0].IsBuffer()) {
    Napi::Buffer<char> buffer = info[0].As<Napi::Buffer<char>>();
    path.assign(buffer.Data(), buffer.Length());
  } else {
    throw Napi::TypeError::New(info.Env(), "path must be a string or a Buffer");
  }
  if (path.empty() || std::memchr(path.data(), '\0', path.size()) != nullptr) {
    throw Napi::TypeError::New(info.Env(), "path must be non-empty and contain no NUL byte");
  }
  return path;
}

Napi::Value FlagsToJs(Napi::Env env, const FileFlags& flags) {
  Napi::Object object = Napi::Object::New(env);
  object.Set("flags", Napi::Number::New(env, flags.raw));
  object.Set("appendOnly", Napi::Boolean::New(env, flags.append_only));
  object.Set("immutable", Napi::Boolean::New(env, flags.immutable));
  object.Set("supported", Napi::Boolean::New(env, flags.supported));
  return object;
}

Napi::Value StringToJs(Napi::Env env, const std::string& text) { return Napi::String::New(env, text); }

Napi::Value ReadFlagsCall(const Napi::CallbackInfo& info, bool sync) {
  std::string path = PathArgument(info);
  return Run<FileFlags>(
      info, sync, path, [path](FileFlags* out) { return ReadFlags(path, out); }, FlagsToJs);
}

// readStateSync(path) -> 1 (append-only) | 2 (immutable): a number, not an object, for isAppendOnly.
Napi::Value ReadStateSync(const Napi::CallbackInfo& info) {
  std::string path = PathArgument(info);
  FileFlags flags;
  OsResult result = ReadFlags(path, &flags);
  if (result.error != 0) throw MakeSystemError(info.Env(), result, path);
  return Napi::Number::New(info.Env(), (flags.append_only ? 1 : 0) | (flags.immutable ? 2 : 0));
}

struct ChangeArguments {
  uint32_t mask;
  bool on;
  bool system_flags;
};

ChangeArguments ChangeArgumentsOf(const Napi::CallbackInfo& info) {
  if (info.Length() < 4 || !info[1].IsNumber() || !info[2].IsBoolean() || !info[3].IsBoolean()) {
    throw Napi::TypeError::New(info.Env(), "changeFlags(path, mask, on, systemFlags)");
  }
  return {info[1].As<Napi::Number>().Uint32Value() & (kAppendOnly | kImmutable), info[2].As<Napi::Boolean>().Value(),
          info[3].As<Napi::Boolean>().Value()};
}

// changeFlagsSync(path, mask, on, systemFlags): the protect/unprotect hot path, so no result object.
Napi::Value ChangeFlagsSync(const Napi::CallbackInfo& info) {
  std::string path = PathArgument(info);
  const ChangeArguments arguments = ChangeArgumentsOf(info);
  FileFlags after;
  OsResult result = ChangeFlags(path, arguments.mask, arguments.on, arguments.system_flags, &after);
  if (result.error != 0) throw MakeSystemError(info.Env(), result, path);
  return info.Env().Undefined();
}

// changeFlags(path, mask, on, systemFlags) -> Promise<flags>
Napi::Value ChangeFlagsCall(const Napi::CallbackInfo& info, bool sync) {
  std::string path = PathArgument(info);
  const auto [mask, on, system_flags] = ChangeArgumentsOf(info);
  return Run<FileFlags>(
      info, sync, path,
      [path, mask, on, system_flags](FileFlags* out) { return ChangeFlags(path, mask, on, system_flags, out); },
      FlagsToJs);
}

Napi::Value FilesystemNameCall(const Napi::CallbackInfo& info, bool sync) {
  std::string path = PathArgument(info);
  return Run<std::string>(
      info, sync, path, [path](std::string* out) { return FilesystemName(path, out); }, StringToJs);
}

// lockSync(fd, mode): mode 0 waits for an exclusive lock, 1 tries without waiting (false when another
// holds it), 2 unlocks. `fd` is a file descriptor as node:fs hands it out (on Windows a C runtime fd). Sync only: the log keeps its critical section within one JavaScript tick.
Napi::Value LockSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    throw Napi::TypeError::New(env, "lockSync(fd, mode)");
  }
  const int fd = info[0].As<Napi::Number>().Int32Value();
  const int mode = info[1].As<Napi::Number>().Int32Value();
  if (mode < 0 || mode > 2) throw Napi::RangeError::New(env, "lock mode must be 0, 1 or 2");
  bool acquired = false;
  OsResult result = LockFile(fd, static_cast<LockMode>(mode), &acquired);
  if (result.error != 0) throw MakeSystemError(env, result, "fd " + std::to_string(fd));
  return Napi::Boolean::New(env, acquired);
}

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

template <Napi::Value (*Call)(const Napi::CallbackInfo&, bool), bool Sync>
Napi::Value Bind(const Napi::CallbackInfo& info) {
  return Call(info, Sync);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("readFlags", Napi::Function::New<Bind<ReadFlagsCall, false>>(env, "readFlags"));
  exports.Set("readFlagsSync", Napi::Function::New<Bind<ReadFlagsCall, true>>(env, "readFlagsSync"));
  exports.Set("readStateSync", Napi::Function::New<ReadStateSync>(env, "readStateSync"));
  exports.Set("changeFlags", Napi::Function::New<Bind<ChangeFlagsCall, false>>(env, "changeFlags"));
  exports.Set("changeFlagsSync", Napi::Function::New<ChangeFlagsSync>(env, "changeFlagsSync"));
  exports.Set("filesystemName", Napi::Function::New<Bind<FilesystemNameCall, false>>(env, "filesystemName"));
  exports.Set("filesystemNameSync", Napi::Function::New<Bind<FilesystemNameCall, true>>(env, "filesystemNameSync"));
  exports.Set("lockSync", Napi::Function::New<LockSync>(env, "lockSync"));
  exports.Set("scanRecords", Napi::Function::New<ScanRecordsSync>(env, "scanRecords"));
  exports.Set("method", Napi::String::New(env, FlagMethod()));
  exports.Set("lockMethod", Napi::String::New(env, LockMethod()));
  exports.Set("APPEND_ONLY", Napi::Number::New(env, kAppendOnly));
  exports.Set("IMMUTABLE", Napi::Number::New(env, kImmutable));
  return exports;
}

}  // namespace
}  // namespace fsao

// The registration macro pastes the function's name into an identifier: it cannot be qualified.
static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return fsao::Init(env, exports); }

NODE_API_MODULE(fs_append_only, InitAddon)
