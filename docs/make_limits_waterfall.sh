#!/bin/sh
# Regenerates the waterfall table in docs/limits.md ("From paper to practice, one assumption at a time") from
# `scaleplan limits --waterfall` (H100, dense, 3 months). Run from the repository root after `make`.
set -e
BIN=${SP_BIN:-build/scaleplan}
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.md"' EXIT
"$BIN" limits --waterfall > "$tmp"
awk -v f="$tmp" '/<!-- waterfall:begin -->/ { print; while ((getline l < f) > 0) print l; skip = 1; next }
                 /<!-- waterfall:end -->/ { skip = 0 } !skip' docs/limits.md > "$tmp.md"
cp "$tmp.md" docs/limits.md
echo "docs/limits.md: waterfall table regenerated"
