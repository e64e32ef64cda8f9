#!/usr/bin/env bash
# Mutation testing, one Stryker run per module (stryker.config.mjs lists them and their
# focused test commands). Usage: scripts/mutation.sh [module ...]; no argument = all modules.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json
mods=("$@")
[ ${#mods[@]} -gt 0 ] || mods=(metrics npy safetensors quant-kmeans quant-balanced quant-codes quant-rvq protocol features)
for m in "${mods[@]}"; do
  echo "== mutation: $m"
  QARM_MUTATION_MODULE="$m" npx stryker run stryker.config.mjs
done
