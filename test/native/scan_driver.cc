// Runs the verifier's scanner with no Node and no V8 noise, for valgrind: a signed chain scanned in memory
// (a probe, then stretches on the calling thread and the helper) and read from a file (blocks on both
// threads), whole, damaged, in bounded spans, by scanners closed and reused and by one destroyed while its
// helper waits. memcheck finds leaks and bad reads, helgrind races between the two threads.
#include <fcntl.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "../../src/engine.h"
#include "../../src/scan.h"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace {

void Expect(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "unexpected: %s\n", what);
    std::exit(1);
  }
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

const std::string kSecret(40, 's');
constexpr size_t kRecords = 2000;

// Records 1..kRecords signed with key "k1", as lib/log/format.ts writes them.
std::string SignedChain() {
  std::string text;
  std::string prev(64, '0');
  for (size_t seq = 1; seq <= kRecords; ++seq) {
    std::string body = "{\"seq\":" + std::to_string(seq) + ",\"ts\":\"2026-11-23T10:00:00.000Z\",\"prev\":\"" + prev +
                       "\",\"keyId\":\"k1\",\"data\":{\"n\":" + std::to_string(seq) + ",\"pad\":\"" + std::string(seq % 500, 'p') + "\"}";
    unsigned char digest[32];
    unsigned int length = 0;
    HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()), reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest, &length);
    body += ",\"sig\":\"" + Hex(digest) + "\"";
    SHA256(reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest);
    prev = Hex(digest);
    text += body + ",\"hash\":\"" + prev + "\"}\n";
  }
  return text;
}

fsao::ScanState Start() {
  fsao::ScanState state;
  state.expected_seq = 1;
  std::memset(state.prev, '0', 64);
  state.stop_seq = 0;
  return state;
}

fsao::RecordScanner* WithKey() {
  auto* scanner = new fsao::RecordScanner(true);
  scanner->AddKey("k1", fsao::NewHmacKey(reinterpret_cast<const unsigned char*>(kSecret.data()), kSecret.size()));
  return scanner;
}

int WriteFile(const std::string& path, const std::string& text) {
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  Expect(fd >= 0 && write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()), "the file is written");
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  Expect(argc == 2, "usage: scan_driver <dir>");
  const std::string chain = SignedChain();
  const std::string damaged = [&] {
    std::string copy = chain;
    copy[copy.size() * 3 / 4] ^= 1;
    return copy;
  }();
  const int fd = WriteFile(std::string(argv[1]) + "/signed.log", chain);
  const int damaged_fd = WriteFile(std::string(argv[1]) + "/damaged.log", damaged);

  for (int round = 0; round < 3; ++round) {
    fsao::RecordScanner* scanner = WithKey();
    fsao::ScanState state = Start();
    fsao::ScanResult result = scanner->Scan(chain.data(), chain.size(), &state);
    Expect(result.lines == kRecords && result.consumed == chain.size(), "the chain is taken in memory");
    state = Start();
    result = scanner->Scan(damaged.data(), damaged.size(), &state);
    Expect(result.lines > 0 && result.lines < kRecords, "the damaged chain stops in memory");

    state = Start();
    result = scanner->ScanFile(fd, 0, UINT64_MAX / 2, &state);
    Expect(result.lines == kRecords && result.consumed == chain.size() && !result.more, "the file is taken");
    state = Start();
    uint64_t position = 0;
    size_t lines = 0;
    for (;;) {
      result = scanner->ScanFile(fd, position, position + 100000 + round, &state);
      position += result.consumed;
      lines += result.lines;
      if (!result.more) break;
    }
    Expect(lines == kRecords && position == chain.size(), "the file is taken in spans");
    state = Start();
    result = scanner->ScanFile(damaged_fd, 0, UINT64_MAX / 2, &state);
    Expect(result.lines > 0 && result.lines < kRecords && !result.more, "the damaged file stops");

    scanner->Close();
    state = Start();
    Expect(scanner->ScanFile(fd, 0, chain.size(), &state).lines == kRecords, "a closed scanner scans again");
    delete scanner;  // its helper waits for work: the destructor ends it

    fsao::RecordScanner keyless(false);
    state = Start();
    Expect(keyless.ScanFile(fd, 0, chain.size(), &state).lines == kRecords, "without keys, signed records are taken on their hash");
  }
  close(fd);
  close(damaged_fd);
  std::printf("scan driver: %zu records, in memory and from files\n", kRecords);
  return 0;
}
