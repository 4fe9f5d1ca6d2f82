// The background writer: one thread, jobs in order, a condition variable for whoever waits on one.
#include "background_writer.h"

#include <cerrno>
#include <system_error>

#ifdef _WIN32
#include <io.h>
#else
#include <unistd.h>
#endif

namespace fsao {

void WriteJobNow(WriteJob* job) {
  if (job->prepare) job->prepare(job);
  const char* bytes = job->bytes.data();
  const size_t length = job->bytes.size();
  size_t done = 0;
  while (done < length) {
#ifdef _WIN32
    const size_t rest = length - done;
    const int result = _write(job->fd, bytes + done, rest > (1u << 30) ? (1u << 30) : static_cast<unsigned int>(rest));
#else
    const ssize_t result = write(job->fd, bytes + done, length - done);
#endif
    if (result < 0) {
      if (errno == EINTR) continue;
      job->error = errno;
      break;
    }
    done += static_cast<size_t>(result);
  }
  job->written = done;
}

BackgroundWriter::~BackgroundWriter() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    queued_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

bool BackgroundWriter::Submit(const std::shared_ptr<WriteJob>& job) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!thread_.joinable()) {
    // Starting a thread throws std::system_error when the process may create no more tasks; let out of
    // here, it would cross N-API's C boundary and end the process.
    try {
      thread_ = std::thread([this] { Run(); });
    } catch (const std::system_error&) {
      return false;
    }
  }
  queue_.push_back(job);
  queued_.notify_one();
  return true;
}

void BackgroundWriter::Wait(const std::shared_ptr<WriteJob>& job) {
  std::unique_lock<std::mutex> lock(mutex_);
  finished_.wait(lock, [&job] { return job->done; });
}

void BackgroundWriter::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    queued_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    // Queued jobs are written even when stopping: they hold records already chained.
    if (queue_.empty()) return;
    std::shared_ptr<WriteJob> job = queue_.front();
    queue_.pop_front();
    lock.unlock();
    WriteJobNow(job.get());
    lock.lock();
    job->done = true;
    finished_.notify_all();
  }
}

}  // namespace fsao
