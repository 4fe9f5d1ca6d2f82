// N-API glue of the log's engine (engine.cc): record encoding and signing keys, and the Merkle folds.
#include "engine_napi.h"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace fsao {
namespace {

// What hmacKey() returns is tagged, so encodeRecord() takes no other External for one.
constexpr napi_type_tag kHmacKeyTag = {0x8f3c2a61d04b4e7eULL, 0xa5b1c9e27d3f6012ULL};

// hmacKey(secret: Buffer) -> External: the key's inner and outer SHA-256 states, computed once per key.
Napi::Value HmacKeyCall(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsBuffer()) throw Napi::TypeError::New(env, "hmacKey(secret: Buffer)");
  Napi::Buffer<unsigned char> secret = info[0].As<Napi::Buffer<unsigned char>>();
  HmacKey* key = NewHmacKey(secret.Data(), secret.Length());
  Napi::External<HmacKey> external = Napi::External<HmacKey>::New(env, key, [](Napi::Env, HmacKey* data) { DeleteHmacKey(data); });
  external.TypeTag(&kHmacKeyTag);
  return external;
}

// Reused between calls on one thread: the text of a record's fields, and its line.
struct EncodeScratch {
  std::vector<char> text;
  std::string line;
};
thread_local EncodeScratch encode_scratch;

// encodeRecord(seq, ts, prev, type | null, keyId | null, dataJson, key | null) -> the line, newline
// included, exactly as lib/log/format.ts writes it; its hash is the 64 characters before '"}\n'.
// Called once a record: the arguments are read with the fewest N-API calls that still check them all.
Napi::Value EncodeRecordCall(const Napi::CallbackInfo& info) {
  static const char kUsage[] = "encodeRecord(seq, ts, prev, type, keyId, dataJson, key)";
  Napi::Env env = info.Env();
  double seq = 0;
  if (info.Length() < 7 || napi_get_value_double(env, info[0], &seq) != napi_ok) throw Napi::TypeError::New(env, kUsage);
  if (!(seq >= 0 && seq <= 9007199254740991.0) || std::floor(seq) != seq) {
    throw Napi::RangeError::New(env, "encodeRecord: seq must be a safe integer >= 0");
  }
  napi_valuetype key_type;
  napi_valuetype type_type;
  if (napi_typeof(env, info[6], &key_type) != napi_ok || napi_typeof(env, info[3], &type_type) != napi_ok) {
    throw Napi::TypeError::New(env, kUsage);
  }
  HmacKey* key = nullptr;
  if (key_type != napi_null) {
    if (key_type != napi_external || !info[6].As<Napi::External<HmacKey>>().CheckTypeTag(&kHmacKeyTag)) {
      throw Napi::TypeError::New(env, "encodeRecord: key must come from hmacKey() or be null");
    }
    key = info[6].As<Napi::External<HmacKey>>().Data();
  }

  // ts, prev, type, keyId, dataJson: strings; type may be null, keyId is read only for a signed record.
  // The UTF-16 length costs nothing and bounds the UTF-8 length at three bytes a unit, so each string
  // is written once, as Node writes it (a lone surrogate becomes U+FFFD, as in Buffer.from).
  constexpr size_t kFields = 5;
  const napi_value values[kFields] = {info[1], info[2], info[3], info[4], info[5]};
  const bool present[kFields] = {true, true, type_type != napi_null, key != nullptr, true};
  size_t bounds[kFields] = {0, 0, 0, 0, 0};
  size_t total = 0;
  for (size_t i = 0; i < kFields; ++i) {
    if (!present[i]) continue;
    size_t units = 0;
    if (napi_get_value_string_utf16(env, values[i], nullptr, 0, &units) != napi_ok) throw Napi::TypeError::New(env, kUsage);
    bounds[i] = 3 * units + 1;
    total += bounds[i];
  }
  EncodeScratch& scratch = encode_scratch;
  if (scratch.text.size() < total) scratch.text.resize(total);
  Text texts[kFields] = {};
  size_t at = 0;
  for (size_t i = 0; i < kFields; ++i) {
    if (!present[i]) continue;
    char* buffer = scratch.text.data() + at;
    size_t written = 0;
    if (napi_get_value_string_utf8(env, values[i], buffer, bounds[i], &written) != napi_ok) {
      throw Napi::TypeError::New(env, kUsage);
    }
    texts[i] = {buffer, written};
    at += bounds[i];
  }

  RecordInput record;
  record.seq = static_cast<uint64_t>(seq);
  record.ts = texts[0];
  record.prev = texts[1];
  record.type = texts[2];
  record.key_id = texts[3];
  record.data_json = texts[4];
  record.key = key;
  scratch.line.clear();
  EncodeRecord(record, &scratch.line);
  napi_value line;
  if (napi_create_string_utf8(env, scratch.line.data(), scratch.line.size(), &line) != napi_ok) {
    throw Napi::Error::New(env, "encodeRecord: the line could not be made a string");
  }
  // Shrink a buffer that a huge record grew, so one record does not pin its size for the thread's life.
  if (scratch.text.size() > (1u << 22)) std::vector<char>().swap(scratch.text);
  if (scratch.line.capacity() > (1u << 22)) std::string().swap(scratch.line);
  return Napi::Value(env, line);
}

// 64 lowercase hex digits as 8 words; false when the text is anything else. Read as UTF-16 units, so
// that no character outside Latin-1 passes for a digit by its low byte.
bool HexTextToWords(napi_env env, napi_value text, int32_t* out) {
  // Room for 65 units and the terminator: a longer text is cut to 65 and so never counts as 64.
  char16_t units[66];
  size_t length = 0;
  if (napi_get_value_string_utf16(env, text, units, 66, &length) != napi_ok || length != 64) return false;
  for (size_t i = 0; i < 8; ++i) {
    uint32_t word = 0;
    for (size_t j = 0; j < 8; ++j) {
      const char16_t c = units[8 * i + j];
      uint32_t value;
      if (c >= u'0' && c <= u'9') {
        value = static_cast<uint32_t>(c - u'0');
      } else if (c >= u'a' && c <= u'f') {
        value = static_cast<uint32_t>(c - u'a' + 10);
      } else {
        return false;
      }
      word = (word << 4) | value;
    }
    out[i] = static_cast<int32_t>(word);
  }
  return true;
}

// An Int32Array's elements, through one napi_get_typedarray_info: false for any other value.
bool Int32ArrayOf(napi_env env, napi_value value, int32_t** data, size_t* length) {
  bool is_typed_array = false;
  if (napi_is_typedarray(env, value, &is_typed_array) != napi_ok || !is_typed_array) return false;
  napi_typedarray_type type;
  void* elements = nullptr;
  if (napi_get_typedarray_info(env, value, &type, length, &elements, nullptr, nullptr) != napi_ok || type != napi_int32_array) {
    return false;
  }
  *data = static_cast<int32_t*>(elements);
  return true;
}

// foldLeaf(stack: Int32Array, count, size, leaf: Int32Array | string, at, isLeafHash) -> the new count:
// appends a leaf to a compact range's stack of `count` subtree roots (size leaves), hashing it as a leaf
// first unless it is one already (lib/checkpoint/merkle.ts keeps the stack). The leaf is 8 words at
// leaf[at], or 64 lowercase hex digits (`at` unused); -1, the range unchanged, when they are not.
// Called once a record: the arguments are read with the fewest N-API calls that still check them all.
Napi::Value FoldLeafCall(const Napi::CallbackInfo& info) {
  static const char kUsage[] = "foldLeaf(stack, count, size, leaf, at, isLeafHash)";
  Napi::Env env = info.Env();
  if (info.Length() < 6) throw Napi::TypeError::New(env, kUsage);
  int32_t* stack = nullptr;
  size_t stack_length = 0;
  double count = 0;
  double size = 0;
  bool is_leaf_hash = false;
  if (!Int32ArrayOf(env, info[0], &stack, &stack_length) || napi_get_value_double(env, info[1], &count) != napi_ok ||
      napi_get_value_double(env, info[2], &size) != napi_ok || napi_get_value_bool(env, info[5], &is_leaf_hash) != napi_ok) {
    throw Napi::TypeError::New(env, kUsage);
  }
  // The stack must hold the new leaf, and every merge needs two roots: popcount(size) <= count.
  if (!(count >= 0 && 8 * (count + 1) <= static_cast<double>(stack_length)) || !(size >= 0 && size <= 9007199254740991.0) ||
      std::floor(size) != size || std::floor(count) != count) {
    throw Napi::RangeError::New(env, "foldLeaf: bad stack, count or size");
  }
  const uint64_t whole_size = static_cast<uint64_t>(size);
  size_t ones = 0;
  for (uint64_t rest = whole_size; (rest & 1) == 1; rest >>= 1) ones += 1;
  if (ones > static_cast<size_t>(count)) throw Napi::RangeError::New(env, "foldLeaf: count does not match size");

  int32_t leaf[8];
  int32_t* words = nullptr;
  size_t words_length = 0;
  napi_valuetype leaf_type;
  if (napi_typeof(env, info[3], &leaf_type) != napi_ok) throw Napi::TypeError::New(env, kUsage);
  if (leaf_type == napi_string) {
    if (!HexTextToWords(env, info[3], leaf)) return Napi::Number::New(env, -1);
  } else if (Int32ArrayOf(env, info[3], &words, &words_length)) {
    double at = 0;
    if (napi_get_value_double(env, info[4], &at) != napi_ok) throw Napi::TypeError::New(env, kUsage);
    if (!(at >= 0 && at + 8 <= static_cast<double>(words_length)) || std::floor(at) != at) {
      throw Napi::RangeError::New(env, "foldLeaf: bad offset");
    }
    // Copied first: the leaf may sit where the stack will take it.
    std::memcpy(leaf, words + static_cast<size_t>(at), sizeof(leaf));
  } else {
    throw Napi::TypeError::New(env, kUsage);
  }
  const size_t next = is_leaf_hash ? FoldLeafHash(stack, static_cast<size_t>(count), whole_size, leaf)
                                   : FoldRecordHash(stack, static_cast<size_t>(count), whole_size, leaf);
  return Napi::Number::New(env, static_cast<double>(next));
}

// foldRecordLines(stack: Int32Array, size, bytes: Uint8Array, start, end) -> the new size: folds every
// record line of bytes[start, end) into a compact range's stack (popcount(size) subtree roots) in one
// call, skipping the lines that are not records and what follows the last newline (FoldRecordLines in
// engine.cc says which lines count). Checked before anything is folded: the stack has room for every size
// reached, and the size stays a safe integer.
Napi::Value FoldRecordLinesCall(const Napi::CallbackInfo& info) {
  static const char kUsage[] = "foldRecordLines(stack, size, bytes, start, end)";
  Napi::Env env = info.Env();
  if (info.Length() < 5) throw Napi::TypeError::New(env, kUsage);
  int32_t* stack = nullptr;
  size_t stack_length = 0;
  double size = 0;
  double start = 0;
  double end = 0;
  bool is_typed_array = false;
  if (!Int32ArrayOf(env, info[0], &stack, &stack_length) || napi_get_value_double(env, info[1], &size) != napi_ok ||
      napi_is_typedarray(env, info[2], &is_typed_array) != napi_ok || !is_typed_array ||
      napi_get_value_double(env, info[3], &start) != napi_ok || napi_get_value_double(env, info[4], &end) != napi_ok) {
    throw Napi::TypeError::New(env, kUsage);
  }
  napi_typedarray_type type;
  size_t length = 0;
  void* elements = nullptr;
  if (napi_get_typedarray_info(env, info[2], &type, &length, &elements, nullptr, nullptr) != napi_ok || type != napi_uint8_array) {
    throw Napi::TypeError::New(env, kUsage);
  }
  constexpr double kMaxSafe = 9007199254740991.0;
  if (!(size >= 0 && size <= kMaxSafe) || std::floor(size) != size) throw Napi::RangeError::New(env, "foldRecordLines: bad size");
  if (!(start >= 0 && start <= end && end <= static_cast<double>(length)) || std::floor(start) != start || std::floor(end) != end) {
    throw Napi::RangeError::New(env, "foldRecordLines: bad start or end");
  }
  const auto* bytes = static_cast<const unsigned char*>(elements) + static_cast<size_t>(start);
  const size_t span = static_cast<size_t>(end) - static_cast<size_t>(start);
  const uint64_t whole_size = static_cast<uint64_t>(size);
  // Each record takes at least one byte, so no size reached exceeds size + span; past 2^53 - 1 the
  // records are counted to know.
  uint64_t bound = whole_size + span;
  if (static_cast<double>(bound) > kMaxSafe) {
    bound = whole_size + CountRecordLines(bytes, span);
    if (static_cast<double>(bound) > kMaxSafe) throw Napi::RangeError::New(env, "foldRecordLines: the size would pass 2^53 - 1");
  }
  // A size below 2^b has at most b roots; a push needs one more.
  size_t bits = 0;
  for (uint64_t rest = bound; rest != 0; rest >>= 1) bits += 1;
  if (stack_length / 8 < bits + 1) throw Napi::RangeError::New(env, "foldRecordLines: the stack is too small");
  return Napi::Number::New(env, static_cast<double>(FoldRecordLines(stack, whole_size, bytes, span)));
}

}  // namespace

HmacKey* HmacKeyOf(napi_env env, napi_value value) {
  napi_valuetype type;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external) return nullptr;
  bool tagged = false;
  if (napi_check_object_type_tag(env, value, &kHmacKeyTag, &tagged) != napi_ok || !tagged) return nullptr;
  void* data = nullptr;
  if (napi_get_value_external(env, value, &data) != napi_ok) return nullptr;
  return static_cast<HmacKey*>(data);
}

void RegisterEngine(Napi::Env env, Napi::Object exports) {
  exports.Set("hmacKey", Napi::Function::New<HmacKeyCall>(env, "hmacKey"));
  exports.Set("encodeRecord", Napi::Function::New<EncodeRecordCall>(env, "encodeRecord"));
  exports.Set("foldLeaf", Napi::Function::New<FoldLeafCall>(env, "foldLeaf"));
  exports.Set("foldRecordLines", Napi::Function::New<FoldRecordLinesCall>(env, "foldRecordLines"));
}

}  // namespace fsao
