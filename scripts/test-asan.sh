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
# LeakSanitizer is on: it checks at exit, when Node's and V8's own allocations are still
# reachable from their globals, so they are not reported (checked on this machine: plain node,
# and the tensor, io, ops, nn, embedding, gemm, quant and grad suites, exit clean; a leak from a
# preloaded test library is reported). A leak in the addon therefore fails the run like any
# other ASan/UBSan finding. If some Node version does report its own allocations, suppress those
# frames only (a LSAN_OPTIONS=suppressions= file naming node/v8 functions), never the addon's.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1:detect_odr_violation=0:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export QARM_SANITIZED=1
export QARM_ADDON_PATH="$PWD/$addon"
LD_PRELOAD="$libasan $libubsan" node node_modules/mocha/bin/mocha.js "$@"
