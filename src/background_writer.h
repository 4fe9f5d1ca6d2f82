// A thread that writes the log's buffers while the main thread encodes the next ones. No N-API in it.
#ifndef FSAO_BACKGROUND_WRITER_H_
#define FSAO_BACKGROUND_WRITER_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace fsao {

// One buffer to write whole to a descriptor, and how that went.
struct WriteJob {
  int fd = -1;
  std::string bytes;
  // Run on the writer's thread before the write (encoding more records into `bytes`); may be empty.
  std::function<void(WriteJob*)> prepare;
  // Set by the writer; read once done.
  size_t written = 0;
  int error = 0;  // errno of the write that failed (a Win32 error code on Windows), or 0
  bool done = false;
};

// Prepares the job, then writes every byte of `job->bytes` to its fd on this thread, looping over short
// writes and EINTR.
void WriteJobNow(WriteJob* job);

// Runs jobs one after another, in the order given, on one thread started at the first job. Destroying
// it writes what was queued, then stops the thread.
class BackgroundWriter {
 public:
  BackgroundWriter() = default;
  BackgroundWriter(const BackgroundWriter&) = delete;
  BackgroundWriter& operator=(const BackgroundWriter&) = delete;
  ~BackgroundWriter();

  // Queues the job; false when no thread can be had (RLIMIT_NPROC, a cgroup's pids.max): the caller
  // then writes it itself.
  bool Submit(const std::shared_ptr<WriteJob>& job);
  // Blocks until the job is done.
  void Wait(const std::shared_ptr<WriteJob>& job);

 private:
  void Run();

  std::mutex mutex_;
  std::condition_variable queued_;
  std::condition_variable finished_;
  std::deque<std::shared_ptr<WriteJob>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace fsao

#endif  // FSAO_BACKGROUND_WRITER_H_
