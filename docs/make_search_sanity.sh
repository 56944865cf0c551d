#!/bin/sh
# For every Megatron row of training_runs.csv: the authors' plan (predicted by `validate`) vs the best plan
# `search` finds for the same model, GPU count and batch. Prints a markdown table. Usage:
#   sh docs/make_search_sanity.sh [data/validation/training_runs.csv]
set -e
BIN=${SP_BIN:-build/scaleplan}
CSV=${1:-data/validation/training_runs.csv}
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
"$BIN" validate "$CSV" --csv > "$TMP/v.csv"
echo "| id | GPUs | authors' plan (TP/PP/DP, vpp, mb, recompute) | predicted s | best plan found (TP/PP/DP/CP, vpp, mb, recompute, SP, ZeRO) | predicted s | gain % | best with ZeRO-1 (Megatron distributed optimizer) | gain % |"
echo "|---|---:|---|---:|---|---:|---:|---|---:|"
awk -F, 'NR>1 && ($1 ~ /^NAR21-|^KOR22-|^MLM20-/) {print}' "$CSV" | while IFS=, read -r id model L h a kv f fty s V E K sys n tp pp dp ep cp vpp z gb mb rc spar prec rest; do
    [ -n "$kv" ] || kv=$a; [ -n "$f" ] || f=$((4*h)); [ -n "$vpp" ] || vpp=1; [ -n "$rc" ] || rc=full; [ -n "$mb" ] || mb=-
    printf '{"model_type":"gpt2","num_hidden_layers":%s,"hidden_size":%s,"num_attention_heads":%s,"intermediate_size":%s,"vocab_size":%s,"max_position_embeddings":%s}\n' "$L" "$h" "$a" "$f" "$V" "$s" > "$TMP/m.json"
    pred=$(awk -F, -v id="$id" '$1==id {print $3}' "$TMP/v.csv")
    dt=${prec:-bf16}
    best=$("$BIN" search --model "$TMP/m.json" --system "$sys" --gpus "$n" --global-batch "$gb" --seq-len "$s" --dtype "$dt" --top 1 --csv | sed -n 2p)
    meg=$("$BIN" search --model "$TMP/m.json" --system "$sys" --gpus "$n" --global-batch "$gb" --seq-len "$s" --dtype "$dt" --top 1 --csv --fix zero=1 2>/dev/null | sed -n 2p)
    if [ -z "$best" ]; then echo "| $id | $n | $tp/$pp/$dp, $vpp, $mb, $rc | $pred | (no feasible plan) | | | | |"; continue; fi
    printf '%s,%s\n' "$best" "${meg:-,,,,,,,,,,,,,,}" | awk -F, -v id="$id" -v n="$n" -v plan="$tp/$pp/$dp, $vpp, $mb, $rc" -v pred="$pred" \
      '{printf "| %s | %s | %s | %.4g | %s/%s/%s/%s, %s, %s, %s, %s, %s | %.4g | %.1f | %s/%s/%s/%s, %s, %s, %s, %s: %.4g s | %.1f |\n", id, n, plan, pred, $1, $2, $3, $4, $6, $7, $8, ($9 ? "SP" : "-"), $10, $11, 100*(pred-$11)/pred, $16, $17, $18, $19, $21, $22, $23, ($24 ? "SP" : "-"), $26, 100*(pred-$26)/pred}'
done
