#!/bin/sh
# No output can hold NaN or Inf, and every --json output parses (issue 24). A seeded generator draws command
# lines of every command from pools of valid values (presets, plan degrees, lengths, precisions, budgets that
# span 1e18..1e30 FLOP); each must either succeed with finite numbers only (text, JSON or CSV), or be refused as
# an infeasible combination (exit 2, one line on stderr, nothing on stdout). Anything else fails: a crash, an exit
# code other than 0 or 2, "nan"/"inf" in the output, JSON that jansson rejects (tests/json_assert.c; jansson refuses
# NaN/Infinity tokens).
# SP_AUDIT_SEED and SP_AUDIT_N pick another sample (default seed 24, 300 lines; 80 under the sanitizers).
. tests/cli/_lib.sh

SEED=${SP_AUDIT_SEED:-24}
N=${SP_AUDIT_N:-300}
case $BIN in *asan*) N=${SP_AUDIT_N:-80} ;; esac
JSONCHECK=${SP_BUILD:-build}/tests/json_assert
[ -x "$JSONCHECK" ] || { echo "not ok audit_random: $JSONCHECK not built (make all builds it)"; exit 0; }

printf 'N,D,loss\n1e8,2e9,3.2\n2e8,4e9,3.0\n4e8,8e9,2.8\n8e8,1.6e10,2.65\n1.6e9,3.2e10,2.5\n3.2e9,6.4e10,2.4\n6.4e9,1.3e11,2.3\n' >"$TMP/fit.csv"
head -3 data/validation/training_runs.csv >"$TMP/runs.csv" 2>/dev/null || head -3 ../shared/validation/training_runs.csv >"$TMP/runs.csv"

# one command line per output line; the pools are the valid values a user would type
awk -v seed="$SEED" -v n="$N" -v tmp="$TMP" 'function pick(s,   a, k) { k = split(s, a, " "); return a[int(rand() * k) + 1] }
BEGIN {
    srand(seed)
    models = "llama3-8b llama3-70b llama2-7b mixtral-8x7b gpt3-175b gpt3-6.7b bert-base qwen3-30b-a3b mpt-7b gptj-6b"
    systems = "dgx-h100 dgx-a100-80g dgx-a100-40g hgx-h200 dgx-b200 mi300x-8 a10-node l40s-node dgx-b300 gb300-nvl72 mi325x-8"
    stacks = "megatron-core megatron-lm-2021 deepspeed megatron-deepspeed torchtitan maxtext llm-foundry"
    for (i = 0; i < n; i++) {
        c = int(rand() * 14); j = rand() < 0.4 ? " --json" : ""
        if (c == 0)
            l = "train --model " pick(models) " --system " pick(systems) " --gpus " pick("1 8 64 512 4096") " --tp " pick("1 2 8") \
                " --pp " pick("1 1 2 4") " --micro-batch " pick("1 2 4") " --recompute " pick("none selective full") " --zero " pick("0 1 3") \
                " --dtype " pick("bf16 bf16 fp8") " --seq-len " pick("512 2048 8192 32768") " --tokens " pick("1e9 1e12 15T") \
                (rand() < 0.3 ? " --software " pick(stacks) : "") j
        else if (c == 1)
            l = "infer --model " pick(models) " --system " pick(systems) " --batch " pick("1 8 64 512") " --prompt " pick("1 128 2048 32768") \
                " --output " pick("1 16 1024") " --weights " pick("bf16 fp8 int8 int4") " --kv " pick("bf16 fp8") " --tp " pick("1 2 8") \
                (rand() < 0.2 ? " --max-batch" : "") (rand() < 0.2 ? " --inflight" : "") j
        else if (c == 2) {
            q = int(rand() * 5)
            l = "law --law " pick("chinchilla epoch kaplan")
            if (q == 0) l = l " --compute " pick("1e18 1e21 1e24 3e25 1e27 1e30") " --batch-rule " pick("epoch kaplan deepseek")
            else if (q == 1) l = l " --n " pick("1e8 7e9 70B 1T") " --d " pick("1e9 1.4T 15T")
            else if (q == 2) l = l " --n " pick("1e8 7e9 70B") " --tokens-per-param " pick("1 20 200 2000")
            else if (q == 3) l = l " --target-loss " pick("1.9 2.0 2.2 2.5 3") " --d " pick("1e10 1e12 1e13")
            else l = l " --target-loss " pick("1.9 2.0 2.2 2.5") " --served-tokens " pick("1e9 1e12 1e14")
            l = l j
        } else if (c == 3)
            l = "finetune --model " pick(models) " --system " pick(systems) " --method " pick("full lora qlora") " --tokens " pick("1e6 1e9") \
                " --gpus " pick("1 8 16") " --seq-len " pick("512 2048 4096") j
        else if (c == 4)
            l = "distill --teacher " pick("llama3-70b gpt3-175b mixtral-8x7b") " --student " pick("llama3-8b llama2-7b gpt3-6.7b") \
                " --tokens " pick("1e9 1e11") " --system " pick(systems) " --gpus " pick("8 64 512") " --tp " pick("1 4 8") " --zero " pick("1 3") \
                (rand() < 0.3 ? " --online" : "") j
        else if (c == 5)
            l = "shape --system " pick(systems) " --params " pick("1e8 1e9 7e9 70e9") " --batch " pick("1 8 64") (rand() < 0.3 ? " --moe" : "") j
        else if (c == 6)
            l = "search --model " pick("llama3-8b llama2-7b gpt3-6.7b bert-base mpt-7b") " --system " pick(systems) " --gpus " pick("8 16 64") \
                " --global-batch " pick("8 64 256") " --seq-len " pick("1024 2048 4096") " --top 3" (rand() < 0.3 ? " --csv" : j)
        else if (c == 7)
            l = "limits --mode epoch2024 --gpu " pick("h100 a100 v100") " --to " pick("1e26 1e28 1e30") (rand() < 0.3 ? " --moe" : "") \
                (rand() < 0.3 ? " --csv" : j)
        else if (c == 8)
            l = "fit " tmp "/fit.csv --bootstrap " pick("0 2") " --threads 1" j
        else if (c == 9)
            l = "report famous" j
        else if (c == 12)
            l = "forecast --assumptions " pick("default epoch-2030 villalobos-2024") " --from " pick("2024 2026 2030") " --to " pick("2035 2050 2100") \
                (rand() < 0.3 ? " --compute-growth " pick("1 2 4.2 10") : "") (rand() < 0.3 ? " --flops-growth " pick("0.9 1 1.35 3") : "") j
        else if (c == 13)
            l = "model " pick(models " deepseek-v3 gemma3-27b llama4-scout bloom-176b") " --seq-len " pick("1 2048 131072") " --kv-dtype " pick("bf16 fp8") j
        else if (c == 10)
            l = "validate " tmp "/runs.csv" j
        else
            l = "serve --model " pick("llama3-8b llama2-7b mixtral-8x7b llama3-70b") " --system " pick(systems) " --tp " pick("1 2 8") \
                " --rate " pick("0.5 2 20 1e4") " --requests " pick("20 100") " --workload " pick("sharegpt arxiv-summarization") (rand() < 0.3 ? " --csv" : j)
        print l
    }
}' >"$TMP/lines"

i=0
while read -r line; do
    i=$((i + 1))
    # shellcheck disable=SC2086
    $RUN $line >"$TMP/out" 2>"$TMP/err"
    rc=$?
    name="audit_random_$i ($line)"
    if [ $rc -eq 2 ]; then
        if [ -s "$TMP/out" ] || [ "$(wc -l <"$TMP/err")" -ne 1 ]; then echo "not ok $name: refusal with output or not one line"; else echo "ok $name (refused)"; fi
        continue
    fi
    if [ $rc -ne 0 ]; then echo "not ok $name: exit $rc: $(head -c 300 "$TMP/err")"; continue; fi
    if grep -Eqi '(^|[^a-z])(nan|-?inf(inity)?)([^a-z]|$)' "$TMP/out"; then
        echo "not ok $name: NaN/Inf in output: $(grep -Eim1 '(^|[^a-z])(nan|-?inf(inity)?)([^a-z]|$)' "$TMP/out" | head -c 200)"; continue; fi
    case $line in *--json*)
        if ! why=$("$JSONCHECK" "$TMP/out"); then echo "not ok $name: $why"; continue; fi ;;
    esac
    echo "ok $name"
done <"$TMP/lines"
