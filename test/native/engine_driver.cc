// Runs the writer engine with no Node and no V8 noise, for valgrind: records encoded and signed on the
// background writer's thread (as RecordBuffer stages them) and on this one, written in order, a write
// to a bad descriptor, and the writer destroyed with jobs queued. memcheck finds leaks and bad reads,
// helgrind races between the two threads. The file is then checked line by line.
#include <fcntl.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "../../src/background_writer.h"
#include "../../src/engine.h"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace {

void Expect(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "unexpected: %s\n", what);
    std::exit(1);
  }
}

constexpr char kTimestamp[] = "2026-11-23T10:00:00.000Z";

// Encodes `count` records after `prev` into `out`; returns the last hash.
std::string EncodeRun(uint64_t first_seq, std::string prev, size_t count, const fsao::HmacKey* key, std::string* out) {
  for (size_t i = 0; i < count; ++i) {
    const std::string data = "{\"i\":" + std::to_string(first_seq + i) + ",\"text\":\"" + std::string(i % 300, 'x') + "\"}";
    fsao::RecordInput record;
    record.seq = first_seq + i;
    record.ts = {kTimestamp, sizeof(kTimestamp) - 1};
    record.prev = {prev.data(), prev.size()};
    record.type = {nullptr, 0};
    record.key_id = key == nullptr ? fsao::Text{nullptr, 0} : fsao::Text{"k1", 2};
    record.data_json = {data.data(), data.size()};
    record.key = key;
    fsao::EncodeRecord(record, out);
    prev.assign(out->data() + out->size() - 67, 64);
  }
  return prev;
}

std::string Hex(const unsigned char* digest) {
  static const char kDigits[] = "0123456789abcdef";
  std::string hex;
  for (int i = 0; i < 32; ++i) {
    hex += kDigits[digest[i] >> 4];
    hex += kDigits[digest[i] & 15];
  }
  return hex;
}

// Every line's hash covers its bytes before ,"hash":" and its prev is the line before's hash.
size_t CheckChain(const std::string& path) {
  FILE* file = std::fopen(path.c_str(), "r");
  Expect(file != nullptr, "the log opens");
  std::string prev(64, '0');
  size_t lines = 0;
  char* line = nullptr;
  size_t capacity = 0;
  ssize_t length;
  while ((length = getline(&line, &capacity, file)) > 0) {
    const std::string text(line, static_cast<size_t>(length) - 1);
    const size_t hash_at = text.rfind(",\"hash\":\"");
    Expect(hash_at != std::string::npos, "a hash field");
    unsigned char digest[32];
    SHA256(reinterpret_cast<const unsigned char*>(text.data()), hash_at, digest);
    Expect(text.compare(hash_at + 9, 64, Hex(digest)) == 0, "the hash matches");
    Expect(text.find("\"prev\":\"" + prev + "\"") != std::string::npos, "prev is the line before's hash");
    prev = Hex(digest);
    lines += 1;
  }
  std::free(line);
  std::fclose(file);
  return lines;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const std::string path = std::string(argv[1]) + "/audit.log";
  const int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_APPEND | O_TRUNC, 0600);
  Expect(fd >= 0, "the log is created");
  const unsigned char secret[] = "a secret of at least sixteen bytes";
  fsao::HmacKey* key = fsao::NewHmacKey(secret, sizeof(secret) - 1);

  std::string prev(64, '0');
  uint64_t seq = 1;
  {
    fsao::BackgroundWriter writer;
    for (int round = 0; round < 40; ++round) {
      // Records encoded here, then more encoded on the writer's thread after them, with a copy of the key.
      auto job = std::make_shared<fsao::WriteJob>();
      job->fd = fd;
      prev = EncodeRun(seq, prev, 50, round % 2 == 0 ? key : nullptr, &job->bytes);
      seq += 50;
      std::shared_ptr<fsao::HmacKey> copy(fsao::CopyHmacKey(key), fsao::DeleteHmacKey);
      auto staged_hash = std::make_shared<std::string>();
      const uint64_t staged_seq = seq;
      const std::string staged_prev = prev;
      job->prepare = [copy, staged_hash, staged_seq, staged_prev](fsao::WriteJob* writing) {
        *staged_hash = EncodeRun(staged_seq, staged_prev, 70, copy.get(), &writing->bytes);
      };
      Expect(writer.Submit(job), "the job is queued");
      writer.Wait(job);
      Expect(job->error == 0 && job->written == job->bytes.size(), "the job is written whole");
      prev = *staged_hash;
      seq += 70;
    }
    // A bad descriptor: the error, nothing written.
    auto bad = std::make_shared<fsao::WriteJob>();
    bad->fd = -1;
    bad->bytes = "never";
    Expect(writer.Submit(bad), "the bad job is queued");
    writer.Wait(bad);
    Expect(bad->error == EBADF && bad->written == 0, "EBADF, nothing written");
    // Jobs left queued: the writer's destruction writes them first.
    for (int i = 0; i < 5; ++i) {
      auto job = std::make_shared<fsao::WriteJob>();
      job->fd = fd;
      prev = EncodeRun(seq, prev, 10, nullptr, &job->bytes);
      seq += 10;
      Expect(writer.Submit(job), "a last job is queued");
    }
  }
  fsao::DeleteHmacKey(key);
  close(fd);
  Expect(CheckChain(path) == seq - 1, "every record is in the file, in chain order");
  std::printf("engine driver: %llu records\n", static_cast<unsigned long long>(seq - 1));
  return 0;
}
