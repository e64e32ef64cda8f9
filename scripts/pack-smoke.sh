#!/usr/bin/env bash
# Packs qarm with its prebuilt binary, installs the tarball into an empty project with no
# compiler on PATH, and runs a smoke test (import, nearest, one ranker step).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

prebuilt=prebuilds/linux-x64/qarm.node
if [ ! -f "$prebuilt" ] || [ "$(find native binding.gyp -newer "$prebuilt" | head -1)" ]; then npm run prebuild; fi
tarball=$(npm pack --silent --pack-destination "$work" | tail -1)
echo "tarball: $tarball ($(du -h "$work/$tarball" | cut -f1))"

# A PATH holding node, npm and sh only: no cc, c++, g++, make or python.
bin="$work/bin"
mkdir -p "$bin"
ln -s "$(command -v node)" "$bin/node"
ln -s "$(command -v npm)" "$bin/npm"
ln -s "$(command -v sh)" "$bin/sh"   # npm runs lifecycle scripts through sh
for tool in cc gcc g++ c++ make python3; do
  if PATH="$bin" command -v "$tool" >/dev/null 2>&1; then echo "compiler tool $tool still on PATH" >&2; exit 1; fi
done

app="$work/app"
mkdir -p "$app"
cd "$app"
echo '{ "name": "qarm-smoke", "version": "1.0.0", "private": true, "type": "module" }' > package.json
start=$(date +%s%N)
PATH="$bin" npm install --no-audit --no-fund --loglevel=error "$work/$tarball"
end=$(date +%s%N)
echo "install time without a compiler: $(( (end - start) / 1000000 )) ms"
cp "$root/scripts/smoke.mjs" .
PATH="$bin" node smoke.mjs
