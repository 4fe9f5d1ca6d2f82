/* The attribute calls in C, by path, as the peer for the addon: open + FS_IOC_GETFLAGS (+ SETFLAGS) + close.
   Compiled by bench/run.js with the system compiler. Usage: attr_bench get|cycle <calls> <file>.
   Prints the microseconds per call (per set+clear cycle for "cycle"). */
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static int change(const char *path, int on) {
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -1;
  int flags = 0;
  int result = ioctl(fd, FS_IOC_GETFLAGS, &flags);
  if (result == 0 && on >= 0) {
    flags = on ? (flags | FS_APPEND_FL) : (flags & ~FS_APPEND_FL);
    result = ioctl(fd, FS_IOC_SETFLAGS, &flags);
    if (result == 0) result = ioctl(fd, FS_IOC_GETFLAGS, &flags);
  }
  close(fd);
  return result;
}

int main(int argc, char **argv) {
  if (argc != 4) return 2;
  const int cycle = strcmp(argv[1], "cycle") == 0;
  const long calls = atol(argv[2]);
  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (long i = 0; i < calls; i++) {
    if (cycle ? (change(argv[3], 1) != 0 || change(argv[3], 0) != 0) : change(argv[3], -1) != 0) {
      perror("attr_bench");
      return 1;
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &end);
  double us = (end.tv_sec - start.tv_sec) * 1e6 + (end.tv_nsec - start.tv_nsec) / 1e3;
  printf("{\"usPerCall\":%.4f}", us / calls);
  return 0;
}
