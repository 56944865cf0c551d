#!/bin/sh
# scaleplan sweep: spec errors at file:line:col, the example sweep, resume after a kill, and MPI ranks
# (docs/sweep.md). Each case names its rule.
. tests/cli/_lib.sh
EX=examples/sweep-h100-codesign.json

# The example: every point has a plan (216 = 3 x 2 x 4 x 3 x 3 grid levels), summary with front and sensitivities.
expect_out sweep_example 'points: ok 216 constraint 0' -- sweep $EX
expect_out sweep_json '^\{.*"pareto":\[[0-9].*"effects":\[\{"field":.*"points":\[\{"index":0,' -- sweep $EX --json
# Rule: --plot draws the Pareto front and the axis effects (gnuplot) into the named file.
expect_out sweep_plot 'best point' -- sweep tests/sweep/small.json --plot "$TMP/front.svg"
[ -s "$TMP/front.svg" ] && echo "ok sweep_plot_file" || echo "not ok sweep_plot_file: no SVG written"
expect_out sweep_lhs_csv '^23,ok,' -- sweep tests/sweep/small.json --csv

# Rule: a software axis applies each training stack (data/software) to the point's search, and a duration workload
# trains for that time: time_s is the duration exactly and the objective 'tokens' ranks by the tokens trained in it.
expect_out sweep_software_axis '^0,ok,megatron-core,32,.*,604800,' -- sweep examples/sweep-stacks-7d.json --csv
# Rule: a sweep point's plan columns are the search's: its schedule, expert TP and EP folding beside the degrees.
expect_out sweep_plan_columns '^index,status,axis:software,axis:gpus,gpus,global_batch,seq_len,tp,pp,dp,cp,ep,vpp,schedule,micro_batch,recompute,sequence_parallel,zero,etp,ep_fold,dtype,' -- sweep examples/sweep-stacks-7d.json --csv
expect_out sweep_duration_best 'best point #[0-9]* \{"software":"[a-z-]*","gpus":128\}: objective -[0-9.e+]* tokens \(negated\)' -- sweep examples/sweep-stacks-7d.json
# llm-foundry has no tensor parallelism (data/software/llm-foundry.json): its points' plans keep TP 1.
expect_out sweep_software_limits '^6,ok,llm-foundry,32,32,256,8192,1,' -- sweep examples/sweep-stacks-7d.json --csv
# Rule: a serving sweep's point is serve --search on the point's system and stack at the target rate: a deployment
# meeting the SLOs, its $/M tokens and J/token (serving columns), and a front over P99 TPOT x $/M tokens x J/token.
$BIN sweep examples/sweep-serve-slo.json --out "$TMP/serve1.csv" >/dev/null 2>"$TMP/err"
if head -2 "$TMP/serve1.csv" | grep -q '^index,status,axis:system,axis:software,gpus,replicas,tp,pp,ep,prefill_gpus,weights,kv_dtype,rate_requests_per_s' &&
   [ "$(grep -c ',ok,' "$TMP/serve1.csv")" -eq 6 ]; then echo "ok sweep_serve_points"
else echo "not ok sweep_serve_points: $(head -c 300 "$TMP/serve1.csv") $(head -c 200 "$TMP/err")"; fi
expect_out sweep_serve_summary 'Pareto front \(P99 TPOT x \$/M tokens x J/token\)' -- sweep examples/sweep-serve-slo.json
expect_out sweep_serve_json '"workload":"serve".*"deployment":\{"replicas":' -- sweep examples/sweep-serve-slo.json --json
head -c 700 "$TMP/serve1.csv" > "$TMP/serve_cut.csv"
$BIN sweep examples/sweep-serve-slo.json --out "$TMP/serve_cut.csv" --resume >/dev/null 2>"$TMP/err"
if cmp -s "$TMP/serve1.csv" "$TMP/serve_cut.csv"; then echo "ok sweep_serve_resume"; else echo "not ok sweep_serve_resume: $(head -c 300 "$TMP/err")"; fi
# Rule: workload keys and axes that do not belong to the spec's kind are refused at their place.
printf '{"base": {"model": "llama3-8b", "system": "dgx-h100", "gpus": 8, "global_batch": 8},\n "axes": [{"field": "software", "values": ["megatron-core", "nemo9"]}]}\n' > "$TMP/bad6.json"
expect_fail sweep_bad_software 2 'bad6.json:2:61: axes.0.values.1: ' -- sweep "$TMP/bad6.json"
printf '{"base": {"model": "llama3-8b", "system": "dgx-h100", "gpus": 8, "global_batch": 8},\n "axes": [{"field": "rate", "values": [1, 2]}]}\n' > "$TMP/bad7.json"
expect_fail sweep_bad_rate_axis 2 "bad7.json:2:21: axes.0.field: 'rate' needs a serving sweep" -- sweep "$TMP/bad7.json"
printf '{"base": {"model": "llama3-8b", "system": "dgx-h100", "gpus": 8, "global_batch": 8, "tokens": "1T"},\n "objective": "tokens",\n "axes": [{"field": "gpus", "values": [8]}]}\n' > "$TMP/bad8.json"
expect_fail sweep_bad_tokens_obj 2 "bad8.json:2:15: objective: 'tokens' .* needs base.duration" -- sweep "$TMP/bad8.json"
printf '{"base": {"model": "llama3-8b", "system": "dgx-h100", "gpus": 8, "workload": "mlperf-llama3.1-8b", "rate": 5,\n  "global_batch": 8},\n "axes": [{"field": "gpus", "values": [8]}]}\n' > "$TMP/bad9.json"
expect_fail sweep_bad_serve_key 2 "bad9.json:2:19: base.global_batch: 'global_batch' is a training workload's" -- sweep "$TMP/bad9.json"
printf '{"base": {"model": "llama3-8b", "system": "dgx-h100", "gpus": 8, "workload": "mlperf-llama3.1-8b", "rate": 5},\n "axes": [{"field": "workload", "values": ["mlperf-llama3.1-8b", "sharegpt"]}]}\n' > "$TMP/bad11.json"
expect_fail sweep_bad_workload_level 2 "bad11.json:2:66: axes.0.values.1: workload 'sharegpt' .* no open-loop arrivals with P99 SLOs" -- sweep "$TMP/bad11.json"
printf '{"base": {"model": "llama3-8b", "system": "dgx-h100", "gpus": 8, "workload": "mlperf-llama3.1-8b", "rate": 5,\n  "scenario": "offline"},\n "axes": [{"field": "gpus", "values": [8]}]}\n' > "$TMP/bad10.json"
expect_fail sweep_bad_serve_offline 2 "bad10.json:1:78: base.workload: .*offline is not one" -- sweep "$TMP/bad10.json"
# serving sweeps refuse the run constraints by name (a point carries a rate: no run cost or time); power/price apply
printf '{"base": {"model": "llama3-8b", "system": "dgx-h100", "gpus": 8, "workload": "mlperf-llama3.1-8b", "rate": 5},\n "constraints": {"max_cost_usd": 100},\n "objective": "usd_per_mtok", "axes": [{"field": "gpus", "values": [8]}]}\n' > "$TMP/bad12.json"
expect_fail sweep_serve_max_cost_refused 2 "bad12.json:2:34: constraints.max_cost_usd: a serving sweep's points are deployments carrying a rate, with no run cost to bound; allowed in a serving sweep: max_rack_power_w" -- sweep "$TMP/bad12.json"
printf '{"base": {"model": "llama3-8b", "system": "dgx-h100", "gpus": 8, "workload": "mlperf-llama3.1-8b", "rate": 5},\n "constraints": {"max_time": "1h"},\n "objective": "usd_per_mtok", "axes": [{"field": "gpus", "values": [8]}]}\n' > "$TMP/bad13.json"
expect_fail sweep_serve_max_time_refused 2 "bad13.json:2:30: constraints.max_time: .* no run time to bound" -- sweep "$TMP/bad13.json"
printf '{"base": {"model": "llama3-8b", "system": "dgx-h100", "gpus": 8, "workload": "mlperf-llama3.1-8b", "rate": 5},\n "constraints": {"max_accel_price_usd": 1000},\n "objective": "usd_per_mtok", "axes": [{"field": "gpus", "values": [8]}]}\n' > "$TMP/serve_price.json"
$BIN sweep "$TMP/serve_price.json" --out "$TMP/serve_price.csv" >/dev/null 2>"$TMP/err"
if grep -q ',constraint,.*accelerator price .* over max_accel_price_usd 1000' "$TMP/serve_price.csv"; then echo "ok sweep_serve_price_constraint"
else echo "not ok sweep_serve_price_constraint: $(head -c 300 "$TMP/serve_price.csv") $(head -c 200 "$TMP/err")"; fi

# Rule: a spec error names file:line:col of the offending value and its path in the spec, exit 2, one line.
printf '{"base": {"model": "llama3-8b", "system": "dgx-h100", "gpus": 8, "global_batch": 8},\n "axes": [\n  {"field": "system.tiers[0].size", "values": [8, 0]}]}\n' > "$TMP/bad1.json"
expect_fail sweep_bad_value 2 "bad1.json:3:51: axes.0.values.1: system.tiers\[0\].size: .*'size' = 0 is out of range" -- sweep "$TMP/bad1.json"
printf '{"base": {"model": "llama3-8b", "system": "dgx-h100", "gpus": 8, "global_batch": 8},\n "axes": [{"field": "accelerator.hbm_bandwidth", "values": [1e12]}]}\n' > "$TMP/bad2.json"
expect_fail sweep_bad_field 2 "bad2.json:2:61: axes.0.values.0: .*unknown accelerator field 'hbm_bandwidth'" -- sweep "$TMP/bad2.json"
printf '{"base": {"model": "llama3-8b", "system": "dgx-h100", "gpus": 8, "global_batch": 8},\n "design": {"type": "lhs"},\n "axes": [{"field": "gpus", "values": [8]}]}\n' > "$TMP/bad3.json"
expect_fail sweep_bad_design 2 'bad3.json:2:12: design: a lhs design needs "points"' -- sweep "$TMP/bad3.json"
printf '{"base": {"model": "llama3-8b",\n  "system": "dgx-h100" "gpus": 8}}\n' > "$TMP/bad4.json"
expect_fail sweep_bad_syntax 2 'bad4.json:2:29: ' -- sweep "$TMP/bad4.json"
printf '{"base": {"model": "llama3-8b", "system": "dgx-h100", "gpus": 8, "global_batch": 8},\n "axes": [{"field": "gpus", "values": [8]}],\n "objectve": "time"}\n' > "$TMP/bad5.json"
expect_fail sweep_bad_key 2 "bad5.json:3:14: objectve: unknown key 'objectve'" -- sweep "$TMP/bad5.json"
expect_fail sweep_resume_noout 2 'needs --out' -- sweep $EX --resume

# Rule: --resume continues a killed sweep from what was written and ends with the same bytes as an uninterrupted
# run (a row cut in the middle by the kill is dropped and recomputed).
$BIN sweep $EX --out "$TMP/full.csv" >/dev/null 2>&1
head -c 20000 "$TMP/full.csv" > "$TMP/cut.csv"
$BIN sweep $EX --out "$TMP/cut.csv" --resume >/dev/null 2>"$TMP/err"
if cmp -s "$TMP/full.csv" "$TMP/cut.csv"; then echo "ok sweep_resume_cut"; else echo "not ok sweep_resume_cut: $(head -c 300 "$TMP/err")"; fi
# A real kill midway: SIGKILL once 40 rows are on disk (or after 10 s).
$BIN sweep $EX --out "$TMP/killed.csv" >/dev/null 2>&1 &
pid=$!
for i in $(seq 1000); do
    [ "$(cat "$TMP/killed.csv" 2>/dev/null | wc -l)" -ge 40 ] && break
    sleep 0.01
done
kill -KILL $pid 2>/dev/null
wait $pid 2>/dev/null
rows=$(wc -l < "$TMP/killed.csv")
$BIN sweep $EX --out "$TMP/killed.csv" --resume >/dev/null 2>"$TMP/err"
if cmp -s "$TMP/full.csv" "$TMP/killed.csv"; then echo "ok sweep_resume_kill ($rows lines written before the kill)"
else echo "not ok sweep_resume_kill: $(head -c 300 "$TMP/err")"; fi
# Rule: resuming into another spec's output is refused.
expect_fail sweep_resume_other 2 'written by another sweep specification' -- sweep tests/sweep/small.json --out "$TMP/full.csv" --resume

# Rule: 2 MPI ranks write the same bytes as one process (skipped, with the reason, without Open MPI).
if ! command -v mpirun >/dev/null 2>&1; then
    echo "ok sweep_mpi # SKIP mpirun not installed (make deps installs openmpi-bin libopenmpi-dev)"
elif ! grep -q MPI_Init "$BIN" 2>/dev/null; then
    echo "ok sweep_mpi # SKIP $BIN was built without MPI (mpicc was not found at build time)"
else
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" timeout 300 mpirun --oversubscribe -np 2 $BIN sweep $EX --out "$TMP/mpi2.csv" >"$TMP/mpi.out" 2>"$TMP/err"
    if cmp -s "$TMP/full.csv" "$TMP/mpi2.csv"; then echo "ok sweep_mpi_2ranks"; else echo "not ok sweep_mpi_2ranks: $(head -c 400 "$TMP/err")"; fi
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" timeout 300 mpirun --oversubscribe -np 3 $BIN sweep tests/sweep/small.json --out "$TMP/mpi3.csv" >/dev/null 2>"$TMP/err"
    $BIN sweep tests/sweep/small.json --out "$TMP/one.csv" >/dev/null 2>&1
    if cmp -s "$TMP/one.csv" "$TMP/mpi3.csv"; then echo "ok sweep_mpi_3ranks"; else echo "not ok sweep_mpi_3ranks: $(head -c 400 "$TMP/err")"; fi
    # Rule: a serving sweep is byte-identical under 2 ranks too.
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" timeout 300 mpirun --oversubscribe -np 2 $BIN sweep examples/sweep-serve-slo.json --out "$TMP/mpis.csv" >/dev/null 2>"$TMP/err"
    if cmp -s "$TMP/serve1.csv" "$TMP/mpis.csv"; then echo "ok sweep_mpi_serve_2ranks"; else echo "not ok sweep_mpi_serve_2ranks: $(head -c 400 "$TMP/err")"; fi
    # Rule: --resume under 2 ranks continues a cut file to the same bytes.
    head -c 30000 "$TMP/full.csv" > "$TMP/mcut.csv"
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" timeout 300 mpirun --oversubscribe -np 2 $BIN sweep $EX --out "$TMP/mcut.csv" --resume >/dev/null 2>"$TMP/err"
    if cmp -s "$TMP/full.csv" "$TMP/mcut.csv"; then echo "ok sweep_mpi_resume"; else echo "not ok sweep_mpi_resume: $(head -c 400 "$TMP/err")"; fi
fi
# Rule: a range axis's level that cannot be built is named where the spec writes it: its min, its max, or the axis for
# a level between them (not axes.N.values.K, which the spec does not have).
printf '{"name":"t","base":{"model":"llama3-8b","system":"dgx-h100","gpus":64,"global_batch":256,"seq_len":4096},"axes":[{"field": "accelerator.hbm_bw", "min": -1, "max": 3e12, "steps": 3}]}\n' > "$TMP/rmin.json"
expect_fail sweep_range_min_path 2 "rmin.json:1:[0-9]*: axes.0.min: accelerator.hbm_bw: .*'hbm_bw' = -1 is out of range" -- sweep "$TMP/rmin.json"
printf '{"name":"t","base":{"model":"llama3-8b","system":"dgx-h100","gpus":64,"global_batch":256,"seq_len":4096},"axes":[{"field": "gpus", "min": 8, "max": 2e9, "steps": 3}]}\n' > "$TMP/rmax.json"
expect_fail sweep_range_max_path 2 "rmax.json:1:[0-9]*: axes.0.max: expected a whole number in 1..1073741824" -- sweep "$TMP/rmax.json"
# Rule: search.schedules narrows every point's schedules (absent: all, a stack keeps its own); a bad one is named.
printf '{"name":"t","base":{"model":"llama3-70b","system":"dgx-h100","gpus":512,"global_batch":1024,"seq_len":8192},"axes":[{"field":"gpus","values":[256,512]}],"search":{"schedules":["1f1b"]}}\n' > "$TMP/s1f1b.json"
expect_out sweep_schedules_1f1b '^1,ok,512,512,1024,8192,[0-9]+,[0-9]+,[0-9]+,[0-9]+,[0-9]+,[0-9]+,(1f1b|interleaved),' -- sweep "$TMP/s1f1b.json" --csv
printf '{"name":"t","base":{"model":"llama3-70b","system":"dgx-h100","gpus":512,"global_batch":1024,"seq_len":8192},"axes":[{"field":"gpus","values":[256,512]}],"search":{"schedules":["1f1b","zb-h2"]}}\n' > "$TMP/sbad.json"
expect_fail sweep_schedules_bad 2 'sbad.json:1:[0-9]*: search.schedules.1: expected one of 1f1b, interleaved, zb-h1, zb-v, dualpipe' -- sweep "$TMP/sbad.json"
