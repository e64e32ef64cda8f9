#!/usr/bin/env bash
# Builds the addon with AddressSanitizer + UndefinedBehaviorSanitizer into build-asan/ and
# runs the test suite against it. Any sanitizer report fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
# node-gyp always builds into ./build, so the sanitizer build runs in a side folder that
# links to the sources, leaving the normal build alone.
src=build-asan/src
addon="$src/build/Release/qarm.node"
if [ ! -f "$addon" ] || [ -n "${QARM_ASAN_REBUILD:-}" ] || [ "$(find native binding.gyp -newer "$addon" | head -1)" ]; then
  mkdir -p "$src"
  ln -sfn ../../native "$src/native"
  ln -sfn ../../binding.gyp "$src/binding.gyp"
  (cd "$src" && npx node-gyp rebuild -j "${JOBS:-2}" -- -Dqarm_sanitize=1 >/dev/null)
fi
npx tsc -p tsconfig.json
libasan=$(g++ -print-file-name=libasan.so)
libubsan=$(g++ -print-file-name=libubsan.so)
# Node itself is not instrumented: leak checking would report V8's own allocations, so it is off;
# every other ASan/UBSan finding aborts with a non-zero exit.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:detect_odr_violation=0:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export QARM_SANITIZED=1
export QARM_ADDON_PATH="$PWD/$addon"
LD_PRELOAD="$libasan $libubsan" node node_modules/mocha/bin/mocha.js "$@"
