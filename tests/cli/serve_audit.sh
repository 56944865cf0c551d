#!/bin/sh
# Acceptance audit of issue 19 (scaleplan serve): the gaps it found, each with its rule and an exact value.
. tests/cli/_lib.sh
B=$RUN
# get KEY FILE: the first value of KEY in a one-line JSON file
get() { grep -o "\"$1\":[^,}]*" "$2" | head -1 | cut -d: -f2; }

# Rule: --search calibrates the stack once, per candidate's family. It was calibrated for --system (dgx-h100) too, so
# every Hopper candidate ran at 0.6 x 0.6: the search's layout must be priced exactly as `serve` prices it alone, at
# the target rate for MLPerf's minimum server duration (600 s: 20 req/s x 600 = 12,000 requests).
$B serve --search --model llama3-8b --workload mlperf-llama3.1-8b --rate 20 --candidates dgx-h100 --json > "$TMP/s.json" 2>&1
$B serve --model llama3-8b --workload mlperf-llama3.1-8b --rate 20 --dtype fp8 --kv-dtype fp8 --requests 12000 --json > "$TMP/d.json" 2>&1
d="$(get ttft_p99_s "$TMP/d.json") $(get tpot_p99_s "$TMP/d.json") $(get usd_per_million_tokens "$TMP/d.json")"
s="$(get ttft_p99_s "$TMP/s.json") $(get tpot_p99_s "$TMP/s.json") $(get usd_per_million_tokens "$TMP/s.json") $(get system "$TMP/s.json") $(get gpus "$TMP/s.json" | tail -1)"
if [ "$s" = "$d \"dgx-h100\" 1" ] && grep -q '"best":{"system":"dgx-h100","gpus":1,"tp":1,"pp":1,"ep":1,"prefill_gpus":0,"weights":"fp8"' "$TMP/s.json"; then echo "ok serve_search_priced_as_serve"; else echo "not ok serve_search_priced_as_serve: search '$s', serve '$d'"; fi
# Rule: --kernel-factor replaces the family calibration for every candidate: Hopper's factor is 0.6, so --kernel-factor
# 0.6 gives the identical search, and 1 a different one.
$B serve --search --kernel-factor 0.6 --model llama3-8b --workload mlperf-llama3.1-8b --rate 20 --candidates dgx-h100 --json > "$TMP/k.json" 2>&1
$B serve --search --kernel-factor 1 --model llama3-8b --workload mlperf-llama3.1-8b --rate 20 --candidates dgx-h100 --json > "$TMP/k1.json" 2>&1
if cmp -s "$TMP/k.json" "$TMP/s.json" && ! cmp -s "$TMP/k1.json" "$TMP/s.json"; then echo "ok serve_search_kernel_factor"; else echo "not ok serve_search_kernel_factor"; fi
# Rule: the search's verdict is a 600 s steady state. Llama-3-70B at 20 req/s on two H100s (TP 2, fp8) passed the
# bisection's 800-request runs (P99 TTFT 0.2 s) but over 600 s its P99 TTFT is 27 s: dgx-h100's best layout needs 4.
expect_out serve_search_steady 'dgx-h100 x4 tp2 fp8 +\+150 % \$/M tokens' -- serve --search --model llama3-70b --workload mlperf-llama2-70b --rate 20
# Rule: without --requests an MLPerf workload runs the benchmark's sample count (what --validate runs) and a trace
# is replayed once (its rows), not 2,000 requests.
expect_json serve_default_mlperf 'requests=13368@0' -- serve --model llama3-8b --workload mlperf-llama3.1-8b --rate 1 --json
printf 'arrival_s,prompt_tokens,output_tokens\n0,100,20\n0.5,2000,50\n1.0,300,10\n' > "$TMP/t.csv"
expect_json serve_default_trace 'requests=3@0' -- serve --model llama3-8b --trace "$TMP/t.csv" --json
expect_json serve_trace_requests 'requests=7@0' -- serve --model llama3-8b --trace "$TMP/t.csv" --requests 7 --json
# Rule: --rate where arrivals are not drawn at a rate is refused, not ignored.
expect_fail serve_rate_closed 2 '^scaleplan serve: error: --rate 3: the arrivals are a closed loop of users' -- serve --model llama3-8b --arrival closed:4 --rate 3
expect_fail serve_rate_offline 2 "^scaleplan serve: error: --rate 3: the arrivals are offline" -- serve --model llama3-8b --workload mlperf-llama3.1-8b --scenario offline --rate 3
expect_fail serve_rate_trace 2 "^scaleplan serve: error: --rate 3: the arrivals are the trace's arrival_s" -- serve --model llama3-8b --trace "$TMP/t.csv" --rate 3
# Rule: one-token outputs have no TPOT: n/a in the text and the search table, null in JSON, never nan.
printf '{"name":"one","arrival":"poisson","prompt":{"dist":"fixed","mean":200},"output":{"dist":"fixed","mean":1}}' > "$TMP/one.json"
expect_out serve_tpot_na 'TPOT \(s\) +n/a +n/a +n/a +n/a$' -- serve --model llama3-8b --workload "$TMP/one.json" --rate 4 --requests 100
expect_out serve_tpot_null '"tpot_p50_s":null,"tpot_p90_s":null,"tpot_p99_s":null,"tpot_mean_s":null' -- serve --model llama3-8b --workload "$TMP/one.json" --rate 4 --requests 100 --json
expect_out serve_search_tpot_na 'dgx-h100 x1 tp1 fp8 .* n/a$' -- serve --search --model llama3-8b --workload "$TMP/one.json" --tpot-p99 10ms --rate 5 --candidates dgx-h100 --requests 100
# Rule: requests/s counts each request by the share of its output produced in the window, as the tokens are: with
# every output 100 tokens, requests_per_s x 100 = throughput_tokens_per_s (exactly, to rounding).
printf '{"name":"f","arrival":"poisson","prompt":{"dist":"fixed","mean":300},"output":{"dist":"fixed","mean":100}}' > "$TMP/f.json"
$B serve --model llama3-8b --workload "$TMP/f.json" --rate 30 --requests 3000 --json > "$TMP/f.out" 2>&1
awk -v r="$(get requests_per_s "$TMP/f.out")" -v t="$(get throughput_tokens_per_s "$TMP/f.out")" 'BEGIN { x = r * 100 / t; exit !(t > 0 && x > 1 - 1e-12 && x < 1 + 1e-12) }' \
    && echo "ok serve_requests_per_s_window" || echo "not ok serve_requests_per_s_window: $(head -c 300 "$TMP/f.out")"
# Rule: the search says why each other system loses: its GPUs and their price, and what one replica carries (H100
# carries more than MI300X here but costs $2.50 against $2.00 per GPU-hour at one GPU each).
expect_out serve_search_best '^best: mi300x-8 x1 tp1 fp8, 1 GPU at \$2.00/h; one replica of 1 carries 56.9 req/s within the SLOs$' -- serve --search --model llama3-8b --workload mlperf-llama3.1-8b --rate 20 --candidates dgx-h100,mi300x-8
expect_out serve_search_why 'dgx-h100 x1 tp1 fp8 +\+25 % \$/M tokens, \+5 % J/token vs the best \(1 GPU at \$2.50/h; one replica of 1 carries 87.9 req/s\)$' -- serve --search --model llama3-8b --workload mlperf-llama3.1-8b --rate 20 --candidates dgx-h100,mi300x-8
expect_json serve_search_price 'best.usd_per_gpu_hour=2@0' 'candidates.2.usd_per_gpu_hour=2.5@0' 'candidates.2.system=~dgx-h100' -- serve --search --model llama3-8b --workload mlperf-llama3.1-8b --rate 20 --candidates dgx-h100,mi300x-8 --json
# Rule: the throughput-latency curve of --plot spans 0.15..1.2 x the deployment's capacity (its offline rate), so it
# reaches the knee wherever --rate is (at 0.25..1.5 x 8 req/s, far below one H100's capacity, it was flat).
$B serve --model llama3-8b --rate 8 --requests 500 --plot "$TMP/p.svg" > /dev/null 2>&1
grep -q 'throughput vs P99 latency (0.15-1.2 x capacity)' "$TMP/p.svg" && echo "ok serve_plot_capacity" || echo "not ok serve_plot_capacity"
# Rule: an open-loop run is measured past its warm-up (the run's P99 E2E), so a stable run reads its steady state,
# rate x mean output: Llama-2-70B on 8 H100s (TP 2, fp8, trt-llm) at 88.77 req/s over MLPerf's 24,576 requests reads
# 25,118.7 tokens/s and 87.9 requests/s (measured from the first arrival it read 23,554 and 84.4).
expect_json serve_window_warmup 'throughput_tokens_per_s=25118.706@1e-6' 'requests_per_s=87.89@1e-3' -- serve --model llama2-70b --gpus 8 --tp 2 --dtype fp8 --kv-dtype fp8 --workload mlperf-llama2-70b --rate 88.77 --software trt-llm --json
