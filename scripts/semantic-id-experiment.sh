#!/usr/bin/env bash
# Issue 14's test runs: `qarm run` with 5 seeds on the bundled Online Retail year, the 2009-2010
# year and MovieLens latest-small (per-user split), each with the data-efficiency curve; copies
# each results.json to bench/results/semantic-ids/<name>.json and writes the tables to
# bench/results/semantic-ids/tables.md. Every setting comes from the defaults (chosen on the
# bundled validation split, docs/decisions.md) or bench/configs/movielens.json; test is read once
# per dataset. Needs `npm run build`; makes the 2009-2010 and MovieLens folders when missing.
#
#   bash scripts/semantic-id-experiment.sh [bundled|2009-2010|movielens ...]
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/results/semantic-ids
work=${QARM_EXPERIMENT_DIR:-/tmp/qarm-semantic-ids}
mkdir -p "$out" "$work"
fractions=1,0.5,0.25,0.1
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(bundled 2009-2010 movielens)
for name in "${names[@]}"; do
  case "$name" in
    bundled) args=() ;;
    2009-2010)
      [ -f "$work/or0910/interactions.csv" ] || node scripts/convert-online-retail.mjs ../shared/data/online-retail-ii-2009-2010 "$work/or0910"
      args=(--data "$work/or0910") ;;
    movielens)
      [ -f local-data/movielens/interactions.csv ] || bash scripts/movielens.sh local-data/movielens
      args=(--data local-data/movielens --config bench/configs/movielens.json) ;;
    *) echo "unknown dataset '$name'" >&2; exit 2 ;;
  esac
  node dist/cli.js run "${args[@]}" --seeds 5 --train-fraction "$fractions" --no-progress --out "$work/$name"
  cp "$work/$name/results.json" "$out/$name.json"
done
node scripts/semantic-id-tables.mjs "$out"/bundled.json "$out"/2009-2010.json "$out"/movielens.json > "$out/tables.md"
