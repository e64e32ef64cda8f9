#!/usr/bin/env bash
# Renders a qarm report.html in headless Chromium (Debian `chromium`) and saves a full-page
# screenshot, to check the self-contained report by eye. Not part of `npm test`.
#   scripts/render-report.sh [report.html] [out.png]
# Without arguments it renders a report of synthetic numbers (test/fixtures/pipeline).
# Needs: apt-get install -y chromium
set -euo pipefail
cd "$(dirname "$0")/.."
html="${1:-}"
png="${2:-}"
if [[ -z "$html" ]]; then
  html="$(mktemp -d)/report.html"
  node --input-type=module -e "
    import { writeFileSync } from 'node:fs';
    import * as q from './dist/index.js';
    import { fakeResults } from './test/fixtures/pipeline/fake-results.js';
    writeFileSync('$html', q.pipeline.renderReport(fakeResults()));"
fi
png="${png:-${html%.html}.png}"
browser="$(command -v chromium || command -v chromium-browser || true)"
if [[ -z "$browser" ]]; then echo "chromium not found (apt-get install -y chromium)" >&2; exit 2; fi
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
  --user-data-dir="$profile" --hide-scrollbars --window-size=1340,${HEIGHT:-4200} \
  --screenshot="$(realpath -m "$png")" "file://$(realpath "$html")" >/dev/null 2>&1
test -s "$png"
echo "$png"
