// RecordBuffer: the writer's pending records, encoded, chained and signed straight into native memory
// and written from there with write(2), so that a record costs no JavaScript string of its line, no
// UTF-8 conversion of it and no garbage; its hash is all that comes back. lib/log/record-buffer.ts
// holds the JavaScript twin (the fallback, and the reference it is tested against).
#include "record_buffer.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "background_writer.h"
#include "engine.h"
#include "engine_napi.h"
#include "errors.h"

namespace fsao {
namespace {

constexpr size_t kHashHexBytes = 64;
constexpr size_t kTimestampBytes = 24;  // 2026-11-23T10:00:00.000Z

// The time as Date.prototype.toISOString() writes it (years 0-9999), formatted once a millisecond.
class Clock {
 public:
  Text Now() {
    struct timespec now;
    timespec_get(&now, TIME_UTC);
    const int64_t ms = static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
    if (ms != last_ms_) Format(ms);
    return {text_, kTimestampBytes};
  }

 private:
  void Format(int64_t ms) {
    last_ms_ = ms;
    const time_t seconds = static_cast<time_t>(ms / 1000);
    struct tm parts;
#ifdef _WIN32
    gmtime_s(&parts, &seconds);
#else
    gmtime_r(&seconds, &parts);
#endif
    char* at = text_;
    Digits(parts.tm_year + 1900, 4, &at);
    *at++ = '-';
    Digits(parts.tm_mon + 1, 2, &at);
    *at++ = '-';
    Digits(parts.tm_mday, 2, &at);
    *at++ = 'T';
    Digits(parts.tm_hour, 2, &at);
    *at++ = ':';
    Digits(parts.tm_min, 2, &at);
    *at++ = ':';
    Digits(parts.tm_sec, 2, &at);
    *at++ = '.';
    Digits(static_cast<int>(ms % 1000), 3, &at);
    *at = 'Z';
  }

  // `width` decimal digits of `value` (0 <= value < 10^width), zero-padded.
  static void Digits(int value, int width, char** at) {
    for (int i = width - 1; i >= 0; --i) {
      (*at)[i] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
    *at += width;
  }

  int64_t last_ms_ = -1;
  char text_[kTimestampBytes + 1] = {0};
};

// A string argument's UTF-8 bytes into `scratch` (reused), as Node writes them (a lone surrogate becomes
// U+FFFD, as in Buffer.from). Most strings fit the scratch as it is, and are read with one call; a
// string that may not have fit (V8 stops short of a character that does not) is measured by its UTF-16
// length, which bounds its UTF-8 length at three bytes a unit, and read again. False for a non-string.
bool Utf8Of(napi_env env, napi_value value, std::vector<char>* scratch, Text* out) {
  constexpr size_t kLongestCharacter = 4;
  if (scratch->size() < 1024) scratch->resize(1024);
  size_t written = 0;
  if (napi_get_value_string_utf8(env, value, scratch->data(), scratch->size(), &written) != napi_ok) return false;
  if (written + kLongestCharacter >= scratch->size()) {
    size_t units = 0;
    if (napi_get_value_string_utf16(env, value, nullptr, 0, &units) != napi_ok) return false;
    if (scratch->size() < 3 * units + 1) scratch->resize(3 * units + 1);
    if (napi_get_value_string_utf8(env, value, scratch->data(), scratch->size(), &written) != napi_ok) return false;
  }
  *out = {scratch->data(), written};
  return true;
}

// Records handed over as data only, to be encoded on the writer's thread: what push() would be given.
struct Staged {
  uint64_t first_seq = 0;
  std::string prev;
  std::string data;  // each record's data JSON, back to back
  std::vector<size_t> data_ends;
  std::unique_ptr<HmacKey, void (*)(HmacKey*)> key{nullptr, DeleteHmacKey};
  std::string key_id;
  std::string fixed_timestamp;  // empty: the clock
  // The write's line ends (the pending records' first), and the staged records' hashes, once encoded.
  std::vector<size_t> ends;
  std::string hashes;
};

// Encodes the staged records after the bytes in `out`, each chained on the one before.
void EncodeStaged(Staged* staged, std::string* out) {
  thread_local Clock clock;
  const size_t count = staged->data_ends.size();
  staged->hashes.reserve(count * kHashHexBytes);
  const Text ts = staged->fixed_timestamp.empty() ? clock.Now() : Text{staged->fixed_timestamp.data(), staged->fixed_timestamp.size()};
  size_t data_start = 0;
  for (size_t i = 0; i < count; ++i) {
    RecordInput record;
    record.seq = staged->first_seq + i;
    record.ts = ts;
    record.prev = i == 0 ? Text{staged->prev.data(), staged->prev.size()} : Text{staged->hashes.data() + (i - 1) * kHashHexBytes, kHashHexBytes};
    record.type = {nullptr, 0};
    record.key_id = {staged->key_id.data(), staged->key_id.size()};
    record.data_json = {staged->data.data() + data_start, staged->data_ends[i] - data_start};
    record.key = staged->key.get();
    EncodeRecord(record, out);
    staged->ends.push_back(out->size());
    staged->hashes.append(out->data() + out->size() - 3 - kHashHexBytes, kHashHexBytes);
    data_start = staged->data_ends[i];
  }
}

class RecordBuffer : public Napi::ObjectWrap<RecordBuffer> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "RecordBuffer",
                       {InstanceMethod<&RecordBuffer::Push>("push"), InstanceMethod<&RecordBuffer::PushNext>("pushNext"),
                        InstanceMethod<&RecordBuffer::Write>("write"),
                        InstanceMethod<&RecordBuffer::StartWrite>("startWrite"), InstanceMethod<&RecordBuffer::Settle>("settle"),
                        InstanceMethod<&RecordBuffer::Fold>("fold"), InstanceMethod<&RecordBuffer::Copy>("copy"),
                        InstanceMethod<&RecordBuffer::WholeLines>("wholeLines"),
                        InstanceMethod<&RecordBuffer::Truncate>("truncate"), InstanceMethod<&RecordBuffer::Clear>("clear")});
  }

  // new RecordBuffer(state: Int32Array(3), fixedTimestamp: string | null): state[0] is kept equal to the
  // pending bytes, state[1] to the pending records and state[2] to the bytes of the last write settled,
  // so that JavaScript reads them without a call.
  explicit RecordBuffer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RecordBuffer>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
        info[0].As<Napi::Int32Array>().ElementLength() < 3 || !(info[1].IsString() || info[1].IsNull())) {
      throw Napi::TypeError::New(env, "new RecordBuffer(state: Int32Array(3), fixedTimestamp: string | null)");
    }
    state_ref_ = Napi::Persistent(info[0].As<Napi::Int32Array>());
    state_ = info[0].As<Napi::Int32Array>().Data();
    if (info[1].IsString()) {
      fixed_timestamp_ = info[1].As<Napi::String>().Utf8Value();
      if (fixed_timestamp_.size() != kTimestampBytes) throw Napi::RangeError::New(env, "fixedTimestamp must be 24 characters");
    }
    Publish();
  }

 private:
  // push(seq, prev | null, type | null, keyId | null, dataJson, key | null) -> the record's hash (64 hex):
  // the record after `prev`, stamped now, appended to the pending bytes exactly as encodeRecord writes
  // it. A null prev is the hash of the record pushed last (written since or not): the writer passes the
  // head only when it did not come from here.
  Napi::Value Push(const Napi::CallbackInfo& info) {
    static const char kUsage[] = "push(seq, prev, type, keyId, dataJson, key)";
    Napi::Env env = info.Env();
    double seq = 0;
    if (info.Length() < 6 || napi_get_value_double(env, info[0], &seq) != napi_ok) throw Napi::TypeError::New(env, kUsage);
    if (!(seq >= 0 && seq <= 9007199254740991.0) || std::floor(seq) != seq) {
      throw Napi::RangeError::New(env, "push: seq must be a safe integer >= 0");
    }
    napi_valuetype type_type;
    napi_valuetype key_type;
    if (napi_typeof(env, info[2], &type_type) != napi_ok || napi_typeof(env, info[5], &key_type) != napi_ok) {
      throw Napi::TypeError::New(env, kUsage);
    }
    const HmacKey* key = nullptr;
    if (key_type != napi_null) {
      key = HmacKeyOf(env, info[5]);
      if (key == nullptr) throw Napi::TypeError::New(env, "push: key must come from hmacKey() or be null");
    }
    RecordInput record;
    record.seq = static_cast<uint64_t>(seq);
    record.key = key;
    napi_valuetype prev_type;
    if (napi_typeof(env, info[1], &prev_type) != napi_ok) throw Napi::TypeError::New(env, kUsage);
    if (prev_type == napi_null) {
      if (!has_last_hash_) throw Napi::Error::New(env, "push: no record was pushed to continue from; pass prev");
      record.prev = {last_hash_, kHashHexBytes};
    } else if (!Utf8Of(env, info[1], &prev_, &record.prev)) {
      throw Napi::TypeError::New(env, kUsage);
    }
    if (!Utf8Of(env, info[4], &data_, &record.data_json)) throw Napi::TypeError::New(env, kUsage);
    record.type = {nullptr, 0};
    if (type_type != napi_null && !Utf8Of(env, info[2], &type_, &record.type)) throw Napi::TypeError::New(env, kUsage);
    record.key_id = {nullptr, 0};
    if (key != nullptr && !Utf8Of(env, info[3], &key_id_, &record.key_id)) throw Napi::TypeError::New(env, kUsage);
    if (type_type == napi_null) {
      // What pushNext() continues with: this data record's key.
      next_key_ = key;
      next_key_id_.assign(record.key_id.data == nullptr ? "" : record.key_id.data, record.key_id.length);
      next_key_ref_ = key == nullptr ? Napi::Reference<Napi::Value>() : Napi::Persistent(info[5]);
      has_next_key_ = true;
    }
    return Append(env, &record);
  }

  // pushNext(seq, dataJson) -> the record's hash: push(seq, null, null, keyId, dataJson, key) with the key
  // of the last data record pushed, which `seq` must follow. The writer's common case, in fewer checks.
  Napi::Value PushNext(const Napi::CallbackInfo& info) {
    static const char kUsage[] = "pushNext(seq, dataJson)";
    Napi::Env env = info.Env();
    double seq = 0;
    if (info.Length() < 2 || napi_get_value_double(env, info[0], &seq) != napi_ok) throw Napi::TypeError::New(env, kUsage);
    if (!has_last_hash_ || !has_next_key_ || seq != static_cast<double>(last_seq_ + 1)) {
      throw Napi::Error::New(env, "pushNext: seq does not follow the last data record pushed; use push()");
    }
    RecordInput record;
    record.seq = last_seq_ + 1;
    record.prev = {last_hash_, kHashHexBytes};
    record.type = {nullptr, 0};
    record.key = next_key_;
    record.key_id = next_key_ == nullptr ? Text{nullptr, 0} : Text{next_key_id_.data(), next_key_id_.size()};
    if (!Utf8Of(env, info[1], &data_, &record.data_json)) throw Napi::TypeError::New(env, kUsage);
    return Append(env, &record);
  }

  // Stamps the record, encodes it after the pending bytes and returns its hash.
  Napi::Value Append(Napi::Env env, RecordInput* record) {
    record->ts = fixed_timestamp_.empty() ? clock_.Now() : Text{fixed_timestamp_.data(), fixed_timestamp_.size()};
    if (pending_.size() > (1u << 30)) throw Napi::RangeError::New(env, "push: more than 1 GiB pending; write it first");
    EncodeRecord(*record, &pending_);
    ends_.push_back(pending_.size());
    Publish();
    std::memcpy(last_hash_, pending_.data() + pending_.size() - 3 - kHashHexBytes, kHashHexBytes);
    has_last_hash_ = true;
    last_seq_ = record->seq;
    napi_value hash;
    napi_create_string_latin1(env, last_hash_, kHashHexBytes, &hash);
    return Napi::Value(env, hash);
  }

  // startWrite(fd[, seq, prev | null, jsons, keyId | null, key | null]): hands every pending byte to the
  // background writer (written on this thread when no thread can be had) and starts an empty pending
  // buffer. With `jsons`, the data of records seq, seq + 1, ... are encoded there first, after the
  // pending bytes: chained from `prev` (null: the record pushed last), stamped and signed as push()
  // does, so the main thread only hands their data over. One write at a time: settle the last first.
  Napi::Value StartWrite(const Napi::CallbackInfo& info) {
    static const char kUsage[] = "startWrite(fd[, seq, prev, jsons, keyId, key])";
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, kUsage);
    if (writing_ != nullptr) throw Napi::Error::New(env, "startWrite: the last write is not settled");
    std::shared_ptr<Staged> staged;
    if (info.Length() >= 4 && info[3].IsArray()) staged = StagedOf(info);
    auto job = std::make_shared<WriteJob>();
    job->fd = info[0].As<Napi::Number>().Int32Value();
    job->bytes.swap(pending_);
    // The next records go to the buffer the last write used: its pages are mapped and warm already.
    pending_.swap(spare_);
    if (staged != nullptr) {
      staged->ends.swap(ends_);
      job->prepare = [staged](WriteJob* writing) { EncodeStaged(staged.get(), &writing->bytes); };
      // Known again once settled.
      has_last_hash_ = false;
    } else {
      written_ends_.swap(ends_);
    }
    ForgetPending();
    BackgroundWriter* writer = env.GetInstanceData<BackgroundWriter>();
    if (writer == nullptr || !writer->Submit(job)) {
      WriteJobNow(job.get());
      job->done = true;
    }
    writing_ = job;
    writing_staged_ = staged;
    return env.Undefined();
  }

  // settle() -> the hashes (64 hex each, back to back) of the records startWrite encoded from jsons, or
  // "": waits for the write startWrite began. A failure throws a Node-style system error whose `written`
  // says how many bytes reached the file (wholeLines() then counts the records among them) and whose
  // `hashes` are those of the records encoded.
  Napi::Value Settle(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::shared_ptr<WriteJob> job = std::move(writing_);
    std::shared_ptr<Staged> staged = std::move(writing_staged_);
    writing_ = nullptr;
    writing_staged_ = nullptr;
    if (job == nullptr) return Napi::String::New(env, "");
    // Read under the writer's lock, which orders the job's outcome before this thread reads it.
    BackgroundWriter* writer = env.GetInstanceData<BackgroundWriter>();
    if (writer != nullptr) writer->Wait(job);
    state_[2] = static_cast<int32_t>(job->written);
    if (job->bytes.capacity() <= kSpareBytes) {
      spare_.swap(job->bytes);
      spare_.clear();
    }
    Napi::String hashes = Napi::String::New(env, "");
    if (staged != nullptr) {
      written_ends_.swap(staged->ends);
      napi_value made;
      napi_create_string_latin1(env, staged->hashes.data(), staged->hashes.size(), &made);
      hashes = Napi::String(env, made);
      if (job->error == 0 && staged->hashes.size() >= kHashHexBytes) {
        std::memcpy(last_hash_, staged->hashes.data() + staged->hashes.size() - kHashHexBytes, kHashHexBytes);
        has_last_hash_ = true;
        last_seq_ = staged->first_seq + staged->data_ends.size() - 1;
        // Their key was a copy: the next record names its own.
        has_next_key_ = false;
      }
    }
    if (job->error != 0) {
      OsResult result;
      result.error = job->error;
      result.syscall = "write";
      Napi::Error failure = MakeSystemError(env, result);
      failure.Value().Set("written", Napi::Number::New(env, static_cast<double>(job->written)));
      failure.Value().Set("hashes", hashes);
      throw failure;
    }
    return hashes;
  }

  // write(fd[, ...]): startWrite and settle.
  Napi::Value Write(const Napi::CallbackInfo& info) {
    StartWrite(info);
    return Settle(info);
  }

  // The staged records of startWrite(fd, seq, prev, jsons, keyId, key), read on this thread.
  std::shared_ptr<Staged> StagedOf(const Napi::CallbackInfo& info) {
    static const char kUsage[] = "startWrite(fd, seq, prev, jsons, keyId, key)";
    Napi::Env env = info.Env();
    if (info.Length() < 6 || !info[1].IsNumber()) throw Napi::TypeError::New(env, kUsage);
    const double seq = info[1].As<Napi::Number>().DoubleValue();
    Napi::Array jsons = info[3].As<Napi::Array>();
    const uint32_t count = jsons.Length();
    // The last record's seq, seq + count - 1, a safe integer: compared without rounding past 2^53.
    const double last_offset = count > 0 ? static_cast<double>(count - 1) : 0;
    if (!(seq >= 0 && seq <= 9007199254740991.0 - last_offset) || std::floor(seq) != seq) {
      throw Napi::RangeError::New(env, "startWrite: seq must be a safe integer >= 0");
    }
    auto staged = std::make_shared<Staged>();
    staged->first_seq = static_cast<uint64_t>(seq);
    if (info[2].IsNull()) {
      if (!has_last_hash_) throw Napi::Error::New(env, "startWrite: no record was pushed to continue from; pass prev");
      staged->prev.assign(last_hash_, kHashHexBytes);
    } else {
      Text prev;
      if (!Utf8Of(env, info[2], &prev_, &prev)) throw Napi::TypeError::New(env, kUsage);
      staged->prev.assign(prev.data, prev.length);
    }
    if (!info[5].IsNull()) {
      const HmacKey* key = HmacKeyOf(env, info[5]);
      Text key_id;
      if (key == nullptr) throw Napi::TypeError::New(env, "startWrite: key must come from hmacKey() or be null");
      if (!Utf8Of(env, info[4], &key_id_, &key_id)) throw Napi::TypeError::New(env, kUsage);
      staged->key.reset(CopyHmacKey(key));
      staged->key_id.assign(key_id.data, key_id.length);
    }
    staged->fixed_timestamp = fixed_timestamp_;
    staged->data_ends.reserve(count);
    for (uint32_t i = 0; i < count; ++i) {
      napi_value element;
      Text data;
      // A getter that threw: its exception is pending, and goes to the caller as it is.
      if (napi_get_element(env, jsons, i, &element) != napi_ok) throw Napi::Error::New(env);
      if (!Utf8Of(env, element, &data_, &data)) {
        throw Napi::TypeError::New(env, "startWrite: every staged record's data must be a string");
      }
      staged->data.append(data.data, data.length);
      staged->data_ends.push_back(staged->data.size());
    }
    return staged;
  }

  // fold(stack: Int32Array, size) -> the new size: the pending records folded into a compact range
  // (FoldRecordLines), before they are written: the caller folds once the write succeeded.
  Napi::Value Fold(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
        !info[1].IsNumber()) {
      throw Napi::TypeError::New(env, "fold(stack, size)");
    }
    Napi::Int32Array stack = info[0].As<Napi::Int32Array>();
    const double size = info[1].As<Napi::Number>().DoubleValue();
    if (!(size >= 0 && size + static_cast<double>(ends_.size()) <= 9007199254740991.0) || std::floor(size) != size) {
      throw Napi::RangeError::New(env, "fold: bad size");
    }
    const uint64_t whole = static_cast<uint64_t>(size);
    size_t bits = 0;
    for (uint64_t rest = whole + ends_.size(); rest != 0; rest >>= 1) bits += 1;
    if (stack.ElementLength() / 8 < bits + 1) throw Napi::RangeError::New(env, "fold: the stack is too small");
    const uint64_t next = FoldRecordLines(stack.Data(), whole, reinterpret_cast<const unsigned char*>(pending_.data()), pending_.size());
    return Napi::Number::New(env, static_cast<double>(next));
  }

  // copy() -> a Buffer of the pending bytes (for tests, and the rare caller that needs them).
  Napi::Value Copy(const Napi::CallbackInfo& info) { return Napi::Buffer<char>::Copy(info.Env(), pending_.data(), pending_.size()); }

  // wholeLines(bytes) -> how many records of the last write lie whole in its first `bytes` bytes.
  Napi::Value WholeLines(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "wholeLines(bytes)");
    const double bytes = info[0].As<Napi::Number>().DoubleValue();
    size_t count = 0;
    while (count < written_ends_.size() && static_cast<double>(written_ends_[count]) <= bytes) count += 1;
    return Napi::Number::New(env, static_cast<double>(count));
  }

  // truncate(bytes, records): takes back the records pushed after the first `records`, which must end
  // at `bytes` (the pending size before them).
  Napi::Value Truncate(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) throw Napi::TypeError::New(env, "truncate(bytes, records)");
    const double bytes = info[0].As<Napi::Number>().DoubleValue();
    const double records = info[1].As<Napi::Number>().DoubleValue();
    const bool at_a_record = records == 0 ? bytes == 0
                                          : records >= 1 && records <= static_cast<double>(ends_.size()) && std::floor(records) == records &&
                                                static_cast<double>(ends_[static_cast<size_t>(records) - 1]) == bytes;
    if (!at_a_record) throw Napi::RangeError::New(env, "truncate: not the end of a pending record");
    pending_.resize(static_cast<size_t>(bytes));
    ends_.resize(static_cast<size_t>(records));
    // The chain goes on from what the caller passes next.
    has_last_hash_ = false;
    Publish();
    return env.Undefined();
  }

  Napi::Value Clear(const Napi::CallbackInfo& info) {
    ForgetPending();
    return info.Env().Undefined();
  }

  void ForgetPending() {
    pending_.clear();
    ends_.clear();
    // One huge record must not pin its size for the writer's life.
    if (pending_.capacity() > (8u << 20)) std::string().swap(pending_);
    if (data_.size() > (1u << 22)) std::vector<char>().swap(data_);
    Publish();
  }

  void Publish() {
    state_[0] = static_cast<int32_t>(pending_.size());
    state_[1] = static_cast<int32_t>(ends_.size());
  }

  std::string pending_;
  std::vector<size_t> ends_;
  // The buffer of the last write settled, emptied, for the next records (one huge write is not kept).
  std::string spare_;
  static constexpr size_t kSpareBytes = 8u << 20;
  // The last write: the lines' ends, and the job until settled.
  std::vector<size_t> written_ends_;
  std::shared_ptr<WriteJob> writing_;
  std::shared_ptr<Staged> writing_staged_;
  Napi::Reference<Napi::Int32Array> state_ref_;
  int32_t* state_ = nullptr;
  std::string fixed_timestamp_;
  // The hash of the record pushed last: what a push with a null prev continues from.
  char last_hash_[kHashHexBytes] = {0};
  bool has_last_hash_ = false;
  uint64_t last_seq_ = 0;
  // The key of the last data record pushed, held while pushNext() may sign with it.
  const HmacKey* next_key_ = nullptr;
  std::string next_key_id_;
  Napi::Reference<Napi::Value> next_key_ref_;
  bool has_next_key_ = false;
  Clock clock_;
  // Reused for the arguments' bytes.
  std::vector<char> prev_;
  std::vector<char> data_;
  std::vector<char> type_;
  std::vector<char> key_id_;
};

}  // namespace

void RegisterRecordBuffer(Napi::Env env, Napi::Object exports) {
  // One writer thread for every log of this JavaScript environment; it finishes its jobs when the
  // environment goes.
  env.SetInstanceData<BackgroundWriter>(new BackgroundWriter);
  exports.Set("RecordBuffer", RecordBuffer::Define(env));
}

}  // namespace fsao
