#!/bin/sh
# For every Megatron row of training_runs.csv: the authors' plan (predicted by `validate`) vs the best plan
# `search` finds for the same model, GPU count and batch. Prints a markdown table. Usage:
#   sh docs/make_search_sanity.sh [data/validation/training_runs.csv]
set -e
BIN=${SP_BIN:-build/scaleplan}
CSV=${1:-data/validation/training_runs.csv}
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
"$BIN" validate "$CSV" --csv > "$TMP/v.csv"
echo "| id | GPUs | authors' plan (TP/PP/DP, vpp, mb, recompute) | predicted s | best plan found (TP/PP/DP/CP, vpp schedule, mb, recompute, SP, ZeRO) | predicted s | gain % | best with ZeRO-1 and 1F1B (Megatron distributed optimizer and schedules) | gain % |"
echo "|---|---:|---|---:|---|---:|---:|---|---:|"
awk -F, 'NR>1 && ($1 ~ /^NAR21-|^KOR22-|^MLM20-/) {print}' "$CSV" | while IFS=, read -r id model L h a kv f fty s V E K sys n tp pp dp ep cp vpp z gb mb rc spar prec rest; do
    [ -n "$kv" ] || kv=$a; [ -n "$f" ] || f=$((4*h)); [ -n "$vpp" ] || vpp=1; [ -n "$rc" ] || rc=full; [ -n "$mb" ] || mb=-
    printf '{"model_type":"gpt2","num_hidden_layers":%s,"hidden_size":%s,"num_attention_heads":%s,"intermediate_size":%s,"vocab_size":%s,"max_position_embeddings":%s}\n' "$L" "$h" "$a" "$f" "$V" "$s" > "$TMP/m.json"
    pred=$(awk -F, -v id="$id" '$1==id {print $3}' "$TMP/v.csv")
    dt=${prec:-bf16}
    best=$("$BIN" search --model "$TMP/m.json" --system "$sys" --gpus "$n" --global-batch "$gb" --seq-len "$s" --dtype "$dt" --top 1 --csv | sed -n 2p)
    meg=$("$BIN" search --model "$TMP/m.json" --system "$sys" --gpus "$n" --global-batch "$gb" --seq-len "$s" --dtype "$dt" --top 1 --csv --fix zero=1 --schedules 1f1b 2>/dev/null | sed -n 2p)
    if [ -z "$pred" ]; then echo "| $id | $n | $tp/$pp/$dp, $vpp, $mb, $rc | (not evaluated by validate) | | | | | |"; continue; fi
    if [ -z "$best" ]; then echo "| $id | $n | $tp/$pp/$dp, $vpp, $mb, $rc | $pred | (no feasible plan) | | | | |"; continue; fi
    # search CSV: tp,pp,dp,cp,ep,vpp,schedule,micro_batch,recompute,sp,zero,etp,ep_fold,dtype,step_time_s,... (19 fields)
    printf '%s,%s\n' "$best" "${meg:-,,,,,,,,,,,,,,,,,,}" | awk -F, -v id="$id" -v n="$n" -v plan="$tp/$pp/$dp, $vpp, $mb, $rc" -v pred="$pred" \
      '{printf "| %s | %s | %s | %.4g | %s/%s/%s/%s, %s %s, %s, %s, %s, %s | %.4g | %.1f | %s/%s/%s/%s, %s, %s, %s, %s: %.4g s | %.1f |\n", id, n, plan, pred, $1, $2, $3, $4, $6, $7, $8, $9, ($10 ? "SP" : "-"), $11, $15, 100*(pred-$15)/pred, $20, $21, $22, $23, $25, $27, $28, ($29 ? "SP" : "-"), $34, 100*(pred-$34)/pred}'
done
