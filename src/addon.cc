// N-API glue: argument checks, a promise form (AsyncWorker) and a sync form of the platform calls.
#include <napi.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "engine_napi.h"
#include "errors.h"
#include "flags.h"
#include "proc_parse.h"
#include "record_buffer.h"
#include "scan_napi.h"

namespace fsao {
namespace {

// What a file's attributes read gives: its flags and its filesystem, from one open of the path.
struct Attributes {
  FileFlags flags;
  std::string filesystem;
};

struct Nothing {};

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
Napi::Value Queue(Napi::Env env, std::string path, Operation<Value> operation, ToJs<Value> to_js) {
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

Napi::Value AttributesToJs(Napi::Env env, const Attributes& attributes) {
  Napi::Object object = Napi::Object::New(env);
  object.Set("flags", Napi::Number::New(env, attributes.flags.raw));
  object.Set("appendOnly", Napi::Boolean::New(env, attributes.flags.append_only));
  object.Set("immutable", Napi::Boolean::New(env, attributes.flags.immutable));
  object.Set("supported", Napi::Boolean::New(env, attributes.flags.supported));
  object.Set("filesystem", Napi::String::New(env, attributes.filesystem));
  return object;
}

Napi::Value NothingToJs(Napi::Env env, const Nothing&) { return env.Undefined(); }

OsResult ReadAttributes(const std::string& path, Attributes* out) {
  return ReadFlags(path, &out->flags, &out->filesystem);
}

// readAttributes(path) -> Promise<{ flags, appendOnly, immutable, supported, filesystem }>
Napi::Value ReadAttributesCall(const Napi::CallbackInfo& info) {
  std::string path = PathArgument(info);
  return Queue<Attributes>(
      info.Env(), path, [path](Attributes* out) { return ReadAttributes(path, out); }, AttributesToJs);
}

Napi::Value ReadAttributesSync(const Napi::CallbackInfo& info) {
  std::string path = PathArgument(info);
  Attributes attributes;
  OsResult result = ReadAttributes(path, &attributes);
  if (result.error != 0) throw MakeSystemError(info.Env(), result, path);
  return AttributesToJs(info.Env(), attributes);
}

// readStateSync(path) -> 1 (append-only) | 2 (immutable): a number, not an object, for isAppendOnly.
Napi::Value ReadStateSync(const Napi::CallbackInfo& info) {
  std::string path = PathArgument(info);
  FileFlags flags;
  OsResult result = ReadFlags(path, &flags, nullptr);
  if (result.error != 0) throw MakeSystemError(info.Env(), result, path);
  return Napi::Number::New(info.Env(), (flags.append_only ? 1 : 0) | (flags.immutable ? 2 : 0));
}

struct ChangeArguments {
  uint32_t mask;
  bool on;
  bool system_flags;
};

// (target, mask, on, systemFlags), the target checked by the caller.
ChangeArguments ChangeArgumentsOf(const Napi::CallbackInfo& info, const char* usage) {
  if (info.Length() < 4 || !info[1].IsNumber() || !info[2].IsBoolean() || !info[3].IsBoolean()) {
    throw Napi::TypeError::New(info.Env(), usage);
  }
  return {info[1].As<Napi::Number>().Uint32Value() & (kAppendOnly | kImmutable), info[2].As<Napi::Boolean>().Value(),
          info[3].As<Napi::Boolean>().Value()};
}

// changeFlags(path, mask, on, systemFlags) -> Promise<undefined>. The platform layer read the flags back:
// resolving means done.
Napi::Value ChangeFlagsCall(const Napi::CallbackInfo& info) {
  std::string path = PathArgument(info);
  const auto [mask, on, system_flags] = ChangeArgumentsOf(info, "changeFlags(path, mask, on, systemFlags)");
  return Queue<Nothing>(
      info.Env(), path,
      [path, mask, on, system_flags](Nothing*) { return ChangeFlags(path, mask, on, system_flags); }, NothingToJs);
}

Napi::Value ChangeFlagsSync(const Napi::CallbackInfo& info) {
  std::string path = PathArgument(info);
  const auto [mask, on, system_flags] = ChangeArgumentsOf(info, "changeFlagsSync(path, mask, on, systemFlags)");
  OsResult result = ChangeFlags(path, mask, on, system_flags);
  if (result.error != 0) throw MakeSystemError(info.Env(), result, path);
  return info.Env().Undefined();
}

int FdArgument(const Napi::CallbackInfo& info, const char* usage) {
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), usage);
  const double fd = info[0].As<Napi::Number>().DoubleValue();
  if (!(fd >= 0 && fd <= 2147483647.0) || fd != static_cast<double>(static_cast<int>(fd))) {
    throw Napi::RangeError::New(info.Env(), "fd must be an integer >= 0");
  }
  return static_cast<int>(fd);
}

// changeFlagsFdSync(fd, mask, on, systemFlags): the flag lands on the file the fd holds open, wherever
// its path now leads. Errors name no path, as Node's fd calls do.
Napi::Value ChangeFlagsFdSync(const Napi::CallbackInfo& info) {
  static const char kUsage[] = "changeFlagsFdSync(fd, mask, on, systemFlags)";
  const int fd = FdArgument(info, kUsage);
  const auto [mask, on, system_flags] = ChangeArgumentsOf(info, kUsage);
  OsResult result = ChangeFlagsFd(fd, mask, on, system_flags);
  if (result.error != 0) throw MakeSystemError(info.Env(), result);
  return info.Env().Undefined();
}

// filesystemNameSync(path): statfs on the path, for a directory the facade will try the flag in.
Napi::Value FilesystemNameSync(const Napi::CallbackInfo& info) {
  std::string path = PathArgument(info);
  std::string name;
  OsResult result = FilesystemName(path, &name);
  if (result.error != 0) throw MakeSystemError(info.Env(), result, path);
  return Napi::String::New(info.Env(), name);
}

Napi::Value RuntimeToJs(Napi::Env env, const char* runtime) {
  return runtime != nullptr ? Napi::String::New(env, runtime) : env.Null();
}

// probeProcessSync() -> { hasCapability, userNamespace, inContainer, containerRuntime }
Napi::Value ProbeProcessSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ProcessFacts facts;
  ProbeProcess(&facts);
  Napi::Object object = Napi::Object::New(env);
  object.Set("hasCapability", Napi::Boolean::New(env, facts.has_capability));
  object.Set("userNamespace", Napi::Boolean::New(env, facts.user_namespace));
  object.Set("inContainer", Napi::Boolean::New(env, facts.in_container));
  object.Set("containerRuntime", RuntimeToJs(env, facts.container_runtime));
  return object;
}

std::optional<std::string> OptionalText(const Napi::Object& object, const char* name) {
  Napi::Value value = object.Get(name);
  if (value.IsString()) return value.As<Napi::String>().Utf8Value();
  if (value.IsNull() || value.IsUndefined()) return std::nullopt;
  throw Napi::TypeError::New(object.Env(), std::string(name) + " must be a string or null");
}

// parseProcText(kind, input): the probe's parsers on given texts, for tests.
//   'status', text   -> the CapEff mask as a BigInt, or null
//   'uid_map', text  -> whether it shows a user namespace
//   'container', { dockerEnv, containerEnv, systemdContainer, pid1Environ, cgroup, mountinfo,
//                  kubernetesServiceHost } -> { inContainer, containerRuntime }
Napi::Value ParseProcText(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString()) throw Napi::TypeError::New(env, "parseProcText(kind, input)");
  const std::string kind = info[0].As<Napi::String>().Utf8Value();
  if (kind == "status" || kind == "uid_map") {
    if (!info[1].IsString()) throw Napi::TypeError::New(env, "parseProcText: the text must be a string");
    const std::string text = info[1].As<Napi::String>().Utf8Value();
    if (kind == "uid_map") return Napi::Boolean::New(env, IsInUserNamespace(text));
    const std::optional<uint64_t> mask = ParseEffectiveCapabilities(text);
    return mask ? Napi::BigInt::New(env, *mask).As<Napi::Value>() : env.Null();
  }
  if (kind == "container") {
    if (!info[1].IsObject()) throw Napi::TypeError::New(env, "parseProcText: the signals must be an object");
    Napi::Object given = info[1].As<Napi::Object>();
    ContainerSignals signals;
    signals.docker_env = given.Get("dockerEnv").ToBoolean();
    signals.container_env = given.Get("containerEnv").ToBoolean();
    signals.systemd_container = OptionalText(given, "systemdContainer");
    signals.pid1_environ = OptionalText(given, "pid1Environ");
    signals.cgroup = OptionalText(given, "cgroup");
    signals.mountinfo = OptionalText(given, "mountinfo");
    signals.kubernetes_service_host = OptionalText(given, "kubernetesServiceHost");
    const ContainerInfo container = DetectContainer(signals);
    Napi::Object out = Napi::Object::New(env);
    out.Set("inContainer", Napi::Boolean::New(env, container.in_container));
    out.Set("containerRuntime", RuntimeToJs(env, container.runtime));
    return out;
  }
  throw Napi::RangeError::New(env, "parseProcText: kind must be 'status', 'uid_map' or 'container'");
}

// lockSync(fd, mode): mode 0 waits for an exclusive lock, 1 tries without waiting (false when another
// holds it), 2 unlocks. `fd` is a file descriptor as node:fs hands it out (on Windows a C runtime fd).
// Sync only: the log keeps its critical section within one JavaScript tick.
Napi::Value LockSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[1].IsNumber()) throw Napi::TypeError::New(env, "lockSync(fd, mode)");
  const int fd = FdArgument(info, "lockSync(fd, mode)");
  const int mode = info[1].As<Napi::Number>().Int32Value();
  if (mode < 0 || mode > 2) throw Napi::RangeError::New(env, "lock mode must be 0, 1 or 2");
  bool acquired = false;
  OsResult result = LockFile(fd, static_cast<LockMode>(mode), &acquired);
  if (result.error != 0) throw MakeSystemError(env, result);
  return Napi::Boolean::New(env, acquired);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("readAttributes", Napi::Function::New<ReadAttributesCall>(env, "readAttributes"));
  exports.Set("readAttributesSync", Napi::Function::New<ReadAttributesSync>(env, "readAttributesSync"));
  exports.Set("readStateSync", Napi::Function::New<ReadStateSync>(env, "readStateSync"));
  exports.Set("changeFlags", Napi::Function::New<ChangeFlagsCall>(env, "changeFlags"));
  exports.Set("changeFlagsSync", Napi::Function::New<ChangeFlagsSync>(env, "changeFlagsSync"));
  exports.Set("changeFlagsFdSync", Napi::Function::New<ChangeFlagsFdSync>(env, "changeFlagsFdSync"));
  exports.Set("filesystemNameSync", Napi::Function::New<FilesystemNameSync>(env, "filesystemNameSync"));
  exports.Set("probeProcessSync", Napi::Function::New<ProbeProcessSync>(env, "probeProcessSync"));
  exports.Set("parseProcText", Napi::Function::New<ParseProcText>(env, "parseProcText"));
  exports.Set("lockSync", Napi::Function::New<LockSync>(env, "lockSync"));
  RegisterScan(env, exports);
  RegisterEngine(env, exports);
  RegisterRecordBuffer(env, exports);
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
