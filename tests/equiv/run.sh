#!/bin/sh
# Equivalence harness for refactors that must not change results (issue 17): runs every line of cases.txt with a
# baseline binary and a new one on the same presets and compares the outputs: the same text, and every number
# equal to 10 significant digits (cmp.py; wall times and thread counts ignored). Searches run with --threads 1 (the
# pruned/evaluated counts of a multi-threaded search depend on timing; the answer does not).
# usage: sh tests/equiv/run.sh BASE_BIN NEW_BIN [DATA_DIR]   (e.g. main built into /tmp/base vs build/scaleplan)
BASE=$1
NEW=$2
DATA=${3:-$(dirname "$0")/../../data}
[ -x "$BASE" ] && [ -x "$NEW" ] || { echo "usage: $0 BASE_BIN NEW_BIN [DATA_DIR]" >&2; exit 2; }
HERE=$(dirname "$0")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
printf '{"experts":[{"name":"coder","model":"llama2-7b","share":3},{"name":"chat","model":"llama2-7b","share":1,"count":40},{"name":"big","model":"llama3-70b","share":2}]}' > "$TMP/coe.json"
i=0
fail=0
while IFS= read -r line; do
    i=$((i + 1))
    args=$(DATA=$DATA TMP=$TMP eval "echo \"$line\"")
    sh -c "$BASE $args --data-dir $DATA" > "$TMP/$i.base" 2>&1
    rb=$?
    sh -c "$NEW $args --data-dir $DATA" > "$TMP/$i.new" 2>&1
    rn=$?
    if [ $rb != $rn ]; then
        echo "FAIL $i exit $rb vs $rn: $line"
        fail=1
    elif ! r=$(python3 "$HERE/cmp.py" "$TMP/$i.base" "$TMP/$i.new"); then
        echo "FAIL $i $r: $line"
        fail=1
    fi
done < "$HERE/cases.txt"
[ $fail = 0 ] && echo "equivalent: $i cases"
exit $fail
