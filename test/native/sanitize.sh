#!/usr/bin/env bash
# npm run test:native-sanitize: the addon built with AddressSanitizer and UndefinedBehaviorSanitizer runs
# every call and error path; valgrind memcheck runs the platform layer in a loop. Any finding fails.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
cleanup() { chattr -R -f -a -i "$work" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build"
mkdir "$work/addon"
cp -r "$root/binding.gyp" "$root/src" "$root/package.json" "$work/addon/"
ln -s "$root/node_modules" "$work/addon/node_modules"
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
(cd "$work/addon" && CFLAGS="$flags" CXXFLAGS="$flags" LDFLAGS="-fsanitize=address,undefined" \
  "$root/node_modules/.bin/node-gyp" rebuild >"$work/build.log" 2>&1) || { cat "$work/build.log"; exit 1; }
addon="$work/addon/build/Release/fs_append_only.node"
# grep reads all of nm's output: with -q it would stop early, and pipefail would count the SIGPIPE.
nm -u "$addon" | grep __asan_init >/dev/null || { echo "the build is not instrumented"; exit 1; }

# Node itself is not instrumented, so the runtime is preloaded; its leak checker would report V8's own
# allocations at exit, so leaks are valgrind's job below.
LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)" \
ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=0" \
UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
  node "$root/test/native/exercise.js" "$addon"
LD_PRELOAD="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)" ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=0" UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" node --expose-gc "$root/test/native/exercise-engine.js" "$addon"

echo "== valgrind memcheck on the platform layer"
g++ -std=c++17 -g -O0 -o "$work/flags_driver" "$root/test/native/flags_driver.cc" \
  "$root/src/flags_linux.cc" "$root/src/probe_linux.cc" "$root/src/proc_parse.cc" "$root/src/lock_posix.cc" -I"$root/src"
mkdir "$work/files"
valgrind --quiet --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all --error-exitcode=1 \
  "$work/flags_driver" "$work/files"
echo "== valgrind memcheck and helgrind on the writer engine (encoding on the background writer's thread)"
g++ -std=c++17 -g -O0 -pthread -o "$work/engine_driver" "$root/test/native/engine_driver.cc" \
  "$root/src/engine.cc" "$root/src/background_writer.cc" -I"$root/src" -lcrypto
mkdir "$work/engine"
valgrind --quiet --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all --error-exitcode=1 \
  "$work/engine_driver" "$work/engine"
valgrind --quiet --tool=helgrind --suppressions="$root/test/native/helgrind.supp" --error-exitcode=1 \
  "$work/engine_driver" "$work/engine"
echo "== valgrind memcheck and helgrind on the verifier's scanner (stretches and file blocks on two threads)"
g++ -std=c++17 -g -O0 -pthread -o "$work/scan_driver" "$root/test/native/scan_driver.cc" \
  "$root/src/scan.cc" "$root/src/engine.cc" -I"$root/src" -lcrypto
mkdir "$work/scan"
valgrind --quiet --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all --error-exitcode=1 \
  "$work/scan_driver" "$work/scan"
valgrind --quiet --tool=helgrind --suppressions="$root/test/native/helgrind.supp" --error-exitcode=1 \
  "$work/scan_driver" "$work/scan"
echo "sanitizers: no finding"
