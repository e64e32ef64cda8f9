#!/usr/bin/env bash
# Writes MovieLens latest-small (100,004 ratings, 671 users, 9,066 movies; title, year, genres)
# as a qarm dataset folder:
#
#   scripts/movielens.sh OUT_DIR        (e.g. local-data/movielens: git-ignored and not packed by npm;
#                                       never under data/, which npm packs)
#
# The data ships inside Debian's r-cran-dslabs package; when Rscript or the package is missing it
# is installed with apt-get (apt-get update first if the plain install fails; run as root or with
# sudo available). Rscript exports the table, scripts/convert-movielens.mjs writes the folder
# (format and item text there). The folder is built next to OUT_DIR and renamed into place, so
# OUT_DIR is either the old folder or the complete new one.
#
# Terms: MovieLens data may be used for research but not redistributed. Never commit, bundle or
# publish the output folder.
set -euo pipefail
if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: scripts/movielens.sh OUT_DIR" >&2
  exit 2
fi
OUT="${1%/}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# npm packs data/ (package.json "files"): MovieLens must never land there.
case "$(realpath -m "$OUT")/" in
  "$ROOT/data/"*) echo "movielens: $OUT is under $ROOT/data, which npm packs; MovieLens may not be redistributed (use e.g. local-data/movielens)" >&2; exit 2 ;;
esac

have_dslabs() {
  command -v Rscript >/dev/null 2>&1 && Rscript -e 'quit(status = if (requireNamespace("dslabs", quietly = TRUE)) 0 else 1)' >/dev/null 2>&1
}
if ! have_dslabs; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "movielens: installing r-cran-dslabs with apt-get" >&2
  if ! $SUDO apt-get install -y r-cran-dslabs; then
    $SUDO apt-get update
    $SUDO apt-get install -y r-cran-dslabs
  fi
  have_dslabs || { echo "movielens: Rscript cannot load dslabs after installing r-cran-dslabs" >&2; exit 1; }
fi

mkdir -p "$(dirname "$OUT")"
TMP="$(mktemp -d "$(dirname "$OUT")/.movielens.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
Rscript --vanilla - "$TMP/ratings.csv" <<'R'
out <- commandArgs(trailingOnly = TRUE)[1]
suppressPackageStartupMessages(library(dslabs))
data(movielens, package = "dslabs")
m <- movielens
m$genres <- as.character(m$genres)
m$timestamp <- format(m$timestamp, scientific = FALSE, trim = TRUE)
write.csv(m[, c("movieId", "title", "year", "genres", "userId", "rating", "timestamp")], out, row.names = FALSE, fileEncoding = "UTF-8")
R
node "$ROOT/scripts/convert-movielens.mjs" "$TMP/ratings.csv" "$TMP/dataset" >&2
rm -f "$TMP/ratings.csv"
cat > "$TMP/dataset/README.md" <<'TXT'
MovieLens latest-small (GroupLens, https://grouplens.org/datasets/movielens/), as shipped in the
R package dslabs, converted by qarm's scripts/movielens.sh. Research use only: do not
redistribute, commit or bundle this folder.
TXT
OLD=""
if [ -e "$OUT" ]; then
  OLD="$TMP/old"
  mv "$OUT" "$OLD"
fi
mv "$TMP/dataset" "$OUT"
echo "movielens: wrote $OUT ($(cat "$OUT/counts.json" | tr -d '\n' | sed 's/  */ /g'))"
