// The background writer: one thread, jobs in order, a condition variable for whoever waits on one.
#include "background_writer.h"

#include <cerrno>
#include <system_error>

#ifdef _WIN32
#include <uv.h>
#include <windows.h>
#else
#include <unistd.h>
#endif

namespace fsao {

void WriteJobNow(WriteJob* job) {
  if (job->prepare) job->prepare(job);
  const char* bytes = job->bytes.data();
  const size_t length = job->bytes.size();
  size_t done = 0;
#ifdef _WIN32
  // The fd is node:fs's, from libuv's C runtime, not this addon's (built with its own, /MT): write to the
  // Windows handle behind it (as src/lock_win.cc locks it), and report a Win32 error code, which is what
  // uv_translate_sys_error takes there. The handle was opened for appending: each write lands at the end.
  const HANDLE handle = reinterpret_cast<HANDLE>(uv_get_osfhandle(job->fd));
  if (handle == INVALID_HANDLE_VALUE) {
    job->error = ERROR_INVALID_HANDLE;
    return;
  }
  while (done < length) {
    const size_t rest = length - done;
    DWORD written = 0;
    if (!WriteFile(handle, bytes + done, rest > (1u << 30) ? (1u << 30) : static_cast<DWORD>(rest), &written, nullptr)) {
      job->error = static_cast<int>(GetLastError());
      break;
    }
    done += written;
  }
#else
  while (done < length) {
    const ssize_t result = write(job->fd, bytes + done, length - done);
    if (result < 0) {
      if (errno == EINTR) continue;
      job->error = errno;
      break;
    }
    done += static_cast<size_t>(result);
  }
#endif
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
