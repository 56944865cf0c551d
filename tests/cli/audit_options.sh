#!/bin/sh
# Every option of every command refuses the values it cannot use (issue 24): zero, negative, NaN, Inf, absurdly
# large, a wrong unit, a wrong type, an empty string. Rule checked for each refusal: exit 2, nothing on stdout,
# exactly one line on stderr that names the option (--NAME) and says what is allowed ("allowed", "expected",
# "must", "needs", "such as", "not a ...").
#
# The option list is not written here: it is read from each command's `--help` (the lines after "options:"),
# so a new option is covered the day it is added. What is written here is, per command, one fast command line
# that succeeds (BASE) and the few (command, option, value) triples that are legitimate uses (ALLOWED, each with
# its reason). Any other triple must be refused. A flag must refuse `--flag=VALUE`.
. tests/cli/_lib.sh

# two rows each of the validation sets (copied from ../shared/validation/training_runs.csv and
# training_energy.csv, whose sources they name)
cat >"$TMP/runs.csv" <<'EOF'
id,model,n_layers,d_model,n_heads,n_kv_heads,ffn_dim,ffn_type,seq_len,vocab,moe_experts,moe_topk,system,n_gpus,tp,pp,dp,ep,cp,vpp,zero_stage,global_batch,micro_batch,recompute,seq_parallel,precision,measured_step_time_s,measured_mfu,measured_tflops_per_gpu,tflops_counts_recompute,source,software,model_config
NAR21-T1-1,GPT-1.7B (Megatron weak-scaling),24,2304,24,,9216,,2048,51200,,,dgx-a100-80g,32,1,1,32,,,1,0,512,16,full,0,fp16,,,137,1,"Narayanan et al. 2021 'Efficient Large-Scale LM Training on GPU Clusters Using Megatron-LM' (SC21, arXiv:2104.04473) Table 1; numbers also in NVIDIA/Megatron-LM@50a4b5fa02:images/cases_april2021.png; ",megatron-lm-2021,
NAR21-T1-2,GPT-3.6B (Megatron weak-scaling),30,3072,32,,12288,,2048,51200,,,dgx-a100-80g,64,2,1,32,,,1,0,512,16,full,0,fp16,,,138,1,"Narayanan et al. 2021 'Efficient Large-Scale LM Training on GPU Clusters Using Megatron-LM' (SC21, arXiv:2104.04473) Table 1; numbers also in NVIDIA/Megatron-LM@50a4b5fa02:images/cases_april2021.png; ",megatron-lm-2021,
EOF
cat >"$TMP/energy.csv" <<'EOF'
id,model,params_B,hardware,n_chips,chip_tdp_W,avg_system_power_per_chip_W,train_days,accelerator_hours,total_flops,energy_MWh,pue,grid_kgCO2e_per_kWh,tCO2e,tCO2e_net_or_market,cost_usd,source,confidence,notes
PATT21-Evolved,Evolved Transformer NAS,0.064,TPU v2,200,280,208,6.8,32640,2.91e+21,7.5,1.1,0.431,3.2,3.2,,Patterson et al. 2021 'Carbon Emissions and Large Neural Network Training' (arXiv:2104.10350) Table 4,high,"measured perf 24.8 TFLOP/s per chip; datacenter Google (US); run Dec 2018; formula KWh = hours x chips x avg power x PUE / 1000; avg power includes memory, NIC, fans, host CPU"
PATT21-T5-11B,T5-11B,11,TPU v3,512,450,310,20,245760,4.05e+22,85.7,1.12,0.545,46.7,46.7,,Patterson et al. 2021 'Carbon Emissions and Large Neural Network Training' (arXiv:2104.10350) Table 4,high,"measured perf 45.6 TFLOP/s per chip; datacenter Google Taiwan; run Sep 2019; formula KWh = hours x chips x avg power x PUE / 1000; avg power includes memory, NIC, fans, host CPU"
EOF
printf 'N,D,loss\n1e8,2e9,3.2\n2e8,4e9,3.0\n4e8,8e9,2.8\n8e8,1.6e10,2.65\n1.6e9,3.2e10,2.5\n3.2e9,6.4e10,2.4\n6.4e9,1.3e11,2.3\n' > "$TMP/fit.csv"

# One fast command line per command that exits 0 (options under test replace the same option here).
base() {
    case $1 in
    train) echo "train --model llama3-8b --gpus 8 --tokens 1e9" ;;
    validate) echo "validate $TMP/runs.csv" ;;
    search) echo "search --model llama3-8b --system dgx-h100 --gpus 8 --global-batch 8 --seq-len 2048 --top 2" ;;
    law) echo "law --compute 1e24" ;;
    fit) echo "fit $TMP/fit.csv --bootstrap 2 --threads 1" ;;
    limits) echo "limits --mode epoch2024 --to 1e26" ;;
    infer) echo "infer --model llama3-8b" ;;
    shape) echo "shape --params 1e9" ;;
    validate-energy) echo "validate-energy $TMP/energy.csv" ;;
    report) echo "report famous" ;;
    finetune) echo "finetune --model llama3-8b --tokens 1e8" ;;
    distill) echo "distill --teacher llama3-8b --student llama3-8b --tokens 1e8" ;;
    presets) echo "presets" ;;
    forecast) echo "forecast --year 2030" ;;
    serve) echo "serve --model llama3-8b --requests 50 --rate 2" ;;
    sweep) echo "sweep tests/sweep/small.json" ;;
    model) echo "model llama3-8b" ;;
    *) echo "$1" ;; # a new command: tried with no arguments (the base check below says if that fails)
    esac
}

# An option that needs another one (its help says "with --OTHER") is tried on a line that has the other, so
# that its values, not only its absence of context, are checked.
printf '{"experts":[{"name":"coder","model":"llama2-7b","share":3},{"name":"chat","model":"llama2-7b","share":1}]}' >"$TMP/coe.json"
context() {
    case "$1 $2" in
    "infer latency-ms" | "infer candidates") echo "infer --model llama3-8b --fit-hardware --latency-ms 50" ;;
    "infer compare" | "infer host-bw") echo "infer --coe $TMP/coe.json" ;;
    "infer plot" | "infer csv") echo "infer --model llama3-8b --sweep batch=1..4" ;;
    "serve candidates" | "serve max-gpus") echo "serve --model llama3-8b --requests 50 --rate 2 --search --ttft-p99 2s --tpot-p99 100ms --candidates dgx-h100 --max-gpus 2" ;;
    "search rank" | "search targets" | "search base-dtype") echo "$(base search) --finetune lora" ;;
    "search all") echo "$(base search) --csv" ;;
    "limits grad-bytes" | "limits kv-heads" | "limits software") echo "limits --mode full --to 3e25" ;;
    *) base "$1" ;;
    esac
}

# Legitimate uses among the bad values: "command option value" (command * = every command), one per line.
ALLOWED='
train zero 0
train grid 0
train price-per-gpu-hour 0
train energy-price 0
fit bootstrap 0
infer output 0
forecast host-w 0
forecast network-w 0
forecast latency-alpha 0
forecast energy-usd-per-kwh 0
forecast budget-usd 0
serve prefill-gpus 0
sweep out *
serve seed 0
finetune zero 0
distill zero 0
train prune-heads 0
train prune-ffn 0
infer prune-heads 0
infer prune-ffn 0
finetune prune-heads 0
finetune prune-ffn 0
limits kv-heads 0
limits bandwidth-scale inf
search threads 0
fit threads 0
limits threads 0
fit seed 0
law served-tokens 0
* offload-layers 0
'
# why: --zero 0 is ZeRO off; infer --output 0 is a prefill-only request (cost per output token: n/a); pruning 0 is no pruning; --kv-heads 0 means as many
# KV heads as query heads (documented); --bandwidth-scale inf is the documented infinite-bandwidth what-if;
# --threads 0 is "all cores" (documented); seed 0 is a seed; --bootstrap 0 is "no confidence intervals" (the documented default); a grid
# intensity, a GPU-hour price or an energy price of 0 are real cases (carbon-free supply, owned hardware, power
# paid by someone else) whose results are simply 0; forecast: a host or network power of 0 and an energy price
# of 0 are what-ifs, --latency-alpha 0 is the closed form's documented default, --budget-usd 0 = no budget; serve --prefill-gpus 0 = no disaggregation (the default); sweep --out names the CSV file it writes, and any
# name is a file name ("CMD OPT *" = every value; not run, so nothing is written into the tree); --served-tokens 0 is the documented default; --offload-layers 0 is no activation offloading (the default).

NL='
'
# Known gaps, open (docs/robustness.md): refusals that do not yet name their option, reported as "# KNOWN GAP"
# until fixed.
KNOWN_GAPS=""
# allowed CMD OPT VALUE: is the triple (or "* OPT VALUE") in ALLOWED? (shell only: no process per check)
allowed() {
    case "$NL$ALLOWED$NL" in *"$NL$1 $2 $3$NL"* | *"$NL* $2 $3$NL"* | *"$NL$1 $2 *$NL"*) return 0 ;; esac
    return 1
}

# options of a command: "name" or "name=" (takes a value), from --help
options() {
    $BIN "$1" --help | sed -n '/^options:/,$p' | sed -n 's/^  --\([a-z0-9-]*\) *\(VALUE\)\{0,1\}.*/\1 \2/p' |
        awk '{ print $1 ($2 == "VALUE" ? "=" : "") }'
}

# args CMD OPT: the context line of OPT without OPT itself (the value under test replaces it)
args() { context "$1" "$2" | awk -v o="--$2" '{ for (i = 1; i <= NF; i++) { if ($i == o) { i++; continue } printf "%s ", $i } }'; }

# check CMD OPT VALUE ARGS...: runs ARGS --OPT VALUE and expects a named refusal (builtins only besides the run)
check() {
    cmd=$1; opt=$2; val=$3; shift 3
    $RUN "$@" "--$opt" "$val" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    what="$cmd --$opt '$val'"
    l1=; l2=
    { IFS= read -r l1; IFS= read -r l2; } <"$TMP/err"
    if [ $rc -ne 2 ]; then echo "not ok audit_option $what: exit $rc, want 2 (stdout: $(head -c 120 "$TMP/out" | tr '\n' ' '))"; return; fi
    if [ -s "$TMP/out" ]; then echo "not ok audit_option $what: output on stdout"; return; fi
    if [ -z "$l1" ] || [ -n "$l2" ]; then echo "not ok audit_option $what: error is not one line: $(head -c 300 "$TMP/err")"; return; fi
    case $l1 in *"--$opt"*) ;; *)
        case " $KNOWN_GAPS " in *" $cmd:$opt "*) echo "ok audit_option $what # KNOWN GAP (open, docs/robustness.md): does not name --$opt"; return ;; esac
        echo "not ok audit_option $what: error does not name --$opt: $l1"; return ;; esac
    case $l1 in
    *allowed* | *available* | *expected* | *must* | *needs* | *"such as"* | *"not a "* | *only* | *"one of"*) ;;
    *) echo "not ok audit_option $what: error does not say what is allowed: $l1"; return ;;
    esac
    echo "ok audit_option $what"
}

# The values tried. Under the sanitizers (a build-asan binary, ~5x slower to start) three of them: one per
# kind of refusal (a number out of range, a non-finite number, not a number); the normal build tries all.
VALUES="0 -1 nan inf -inf 1e300 abc 12parsecs EMPTY" # EMPTY: the empty string
case $BIN in *asan*) VALUES="0 nan 12parsecs" ;; esac

# the base lines themselves must succeed, or every refusal above would prove nothing
for cmd in $($BIN --help | sed -n 's/^  \([a-z-]*\)  .*/\1/p'); do
    b=$(base "$cmd")
    # shellcheck disable=SC2086
    if $RUN $b >/dev/null 2>"$TMP/err"; then echo "ok audit_option_base $cmd"; else
        echo "not ok audit_option_base $cmd: '$b' fails (add a BASE line in tests/cli/audit_options.sh): $(head -c 200 "$TMP/err")"; continue; fi
    for o in $(options "$cmd"); do
        case $o in
        *=)
            o=${o%=}
            line=$(args "$cmd" "$o")
            for v in $VALUES; do
                [ "$v" = EMPTY ] && v=
                # shellcheck disable=SC2086
                allowed "$cmd" "$o" "$v" || check "$cmd" "$o" "$v" $line
            done ;;
        *) # shellcheck disable=SC2086
           $RUN $(context "$cmd" "$o") "--$o=1" >"$TMP/out" 2>"$TMP/err"
           if [ $? -eq 2 ] && [ ! -s "$TMP/out" ] && grep -q -- "--$o takes no value" "$TMP/err"; then echo "ok audit_flag $cmd --$o"
           else echo "not ok audit_flag $cmd --$o=1: not refused as a flag with a value"; fi ;;
        esac
    done
done
