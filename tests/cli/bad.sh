#!/bin/sh
# Every bad input in tests/bad/ through the command named in tests/bad/EXPECTED: exit 2, nothing on stdout,
# exactly the expected line on stderr. Also checks that no file in tests/bad/ is left without a case.
. tests/cli/_lib.sh
TAB=$(printf '\t')
n=0
while IFS="$TAB" read -r file args want; do
    case "$file" in '#'*|'') continue;; esac
    n=$((n + 1))
    name="bad_$n:$file"
    [ -e "tests/bad/$file" ] || { echo "not ok $name: tests/bad/$file does not exist"; continue; }
    # FILE stands for tests/bad/FILE; arguments never contain spaces, so word splitting is safe here
    set -f
    # shellcheck disable=SC2086
    set -- $(printf '%s\n' "$args" | sed "s|FILE|tests/bad/$file|g")
    set +f
    $RUN "$@" >"$TMP/out" 2>"$TMP/err"; rc=$?
    got=$(cat "$TMP/err")
    if [ $rc -ne 2 ]; then echo "not ok $name: exit $rc, want 2; stderr: $(head -c 300 "$TMP/err")"; continue; fi
    if [ -s "$TMP/out" ]; then echo "not ok $name: partial output on stdout"; continue; fi
    if [ "$(wc -l < "$TMP/err")" -ne 1 ]; then echo "not ok $name: stderr is not exactly one line: $got"; continue; fi
    if [ "$got" != "$want" ]; then echo "not ok $name: stderr differs"; echo "   got: $got"; echo "  want: $want"; continue; fi
    echo "ok $name"
done < tests/bad/EXPECTED
# completeness: every file in tests/bad/ has at least one case
for f in tests/bad/*; do
    b=$(basename "$f")
    [ "$b" = EXPECTED ] && continue
    if cut -f1 tests/bad/EXPECTED | grep -qx -- "$b"; then echo "ok listed:$b"; else echo "not ok listed:$b: no case in tests/bad/EXPECTED"; fi
done
# absurd but valid: huge products of GPUs x batch x sequence length stay finite (no overflow, no NaN/Inf)
expect_out huge_products 'DOES NOT FIT' -- train --model tests/bad/model_small.json --system dgx-h100 --gpus 1073741824 --global-batch 1073741824 --seq-len 16777216
expect_out huge_products_json '"step_time_s":[0-9]' -- train --json --model tests/bad/model_small.json --system dgx-h100 --gpus 1073741824 --global-batch 1073741824 --seq-len 16777216
# unknown keys: ignored in model files (Hugging Face configs carry dozens), rejected in system files (typos)
printf '{"num_hidden_layers": 4, "hidden_size": 512, "num_attention_heads": 8, "vocab_size": 1000, "rope_scaling": {"type": "yarn"}}' > "$TMP/hf.json"
expect_out unknown_model_key_ignored 'step time' -- train --model "$TMP/hf.json" --system dgx-h100 --gpus 8
