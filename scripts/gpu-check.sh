#!/usr/bin/env bash
# The one command a session with a GPU runs (see docs/cuda.md, "GPU check in one call"): it unpacks the bundle made
# by scripts/gpu-pack.sh (or uses the local node/dist/builds when run without one), then
#   1. records the environment (nvidia-smi, node, python/torch, cuBLAS found or not),
#   2. runs the GPU test suite (npm run test:cuda, i.e. mocha --config test/cuda/.mocharc.json),
#   3. runs the GPU benchmark (bench/cuda/run.js),
# writing every log and the benchmark table to $OUT (the device tool's folder) or
# ./gpu-results. Each step's exit code goes to summary.txt; a failing step does not stop the
# next. Budget: tests ~1-2 min, benchmark ~2-3 min on an H200.
set -uo pipefail
cd "$(dirname "$0")/.."
RES="${OUT:-gpu-results}"
mkdir -p "$RES"
if [ $# -ge 1 ] && [ -f "$1" ]; then
  mkdir -p /tmp/qarm-gpu && tar -xJf "$1" -C /tmp/qarm-gpu && tar -xf /tmp/qarm-gpu/tree.tar -C .
  export PATH="/tmp/qarm-gpu/bin:$PATH"
fi
# cuBLAS: PyTorch's wheel ships it (nvidia-cublas); point the run-time loader at it.
if [ -z "${QARM_CUBLAS:-}" ]; then
  lib=$(python3 -c "import nvidia.cublas, os, glob; d = os.path.join(list(nvidia.cublas.__path__)[0], 'lib'); print((sorted(glob.glob(d + '/libcublas.so*')) or [''])[0])" 2>/dev/null)
  if [ -n "$lib" ]; then
    export QARM_CUBLAS="$lib" LD_LIBRARY_PATH="$(dirname "$lib")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
fi
{
  date -u; uname -a; nvidia-smi || true; echo "node $(node --version)"
  python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.is_available())" || true
  echo "QARM_CUBLAS=${QARM_CUBLAS:-<none>}"
  node -e "import('./dist/index.js').then(q => console.log('devices', q.devices(), q.cuda.isAvailable() ? q.cuda.deviceInfo() : q.cuda.unavailableReason(), q.cuda.isAvailable() ? q.cuda.gemmBackend() : ''))"
} > "$RES/env.txt" 2>&1
cat "$RES/env.txt"
: > "$RES/summary.txt"
# A GPU that qarm does not see would make every GPU test skip quietly: flag it loudly.
if nvidia-smi -L > /dev/null 2>&1 && ! node -e "import('./dist/index.js').then(q => process.exit(q.cuda.isAvailable() ? 0 : 1))"; then
  echo "ERROR: nvidia-smi sees a GPU but qarm found no CUDA device (see env.txt); the GPU tests below will skip" | tee -a "$RES/summary.txt"
fi
step() {
  local name=$1; shift
  echo "== $name: $*"
  "$@" > "$RES/$name.log" 2>&1
  local rc=$?
  echo "$name rc=$rc" | tee -a "$RES/summary.txt"
  tail -n 25 "$RES/$name.log"
}
step test-cuda node node_modules/mocha/bin/mocha.js --config test/cuda/.mocharc.json
step bench-cuda node bench/cuda/run.js --out "$RES"
cat "$RES/summary.txt"
