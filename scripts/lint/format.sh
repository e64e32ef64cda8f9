#!/usr/bin/env bash
# Formatting: Prettier for the TypeScript/JavaScript tree, clang-format for native/.
# Usage: scripts/lint/format.sh check|write. `npm run lint` runs `check`; `npm run format` runs
# `write`. clang-format comes from Debian (`apt-get install clang-format`, as .ci/run does).
set -euo pipefail
cd "$(dirname "$0")/../.."
mode="${1:-check}"
prettier=scripts/lint/node_modules/.bin/prettier
mapfile -t native < <(git ls-files 'native/*.cc' 'native/*.h' 'native/*.cu' 'native/*.cuh')
command -v clang-format >/dev/null || { echo "format: clang-format not found (apt-get install clang-format)" >&2; exit 1; }
case "$mode" in
  check)
    "$prettier" --check --log-level warn lib test scripts bench examples
    clang-format --dry-run -Werror "${native[@]}"
    echo "format: prettier and clang-format clean"
    ;;
  write)
    "$prettier" --write --log-level warn lib test scripts bench examples
    clang-format -i "${native[@]}"
    ;;
  *) echo "usage: $0 check|write" >&2; exit 2 ;;
esac
