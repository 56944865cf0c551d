#!/bin/sh
# Compares `scaleplan limits --mode epoch2024 --csv` with every point of
# shared/validation/epoch2024_reference_points.csv (the authors' sweeps). Prints a markdown report.
#   sh docs/make_limits_validation.sh [../shared/validation/epoch2024_reference_points.csv]
BIN=${SP_BIN:-build/scaleplan}
REF=${1:-../shared/validation/epoch2024_reference_points.csv}
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
run() { # setting-name, scaleplan options...
    name=$1; shift
    "$BIN" limits --csv "$@" | tail -n +2 | awk -F, -v s="$name" '{print s "," $3 "," $9 "," $10 "," $2}' >> "$TMP/ours.csv"
}
run "base|V100 SXM" --gpu v100
run "base|A100 SXM" --gpu a100
run "base|H100 SXM" --gpu h100
run "base_sparse|V100 SXM" --gpu v100 --moe
run "base_sparse|A100 SXM" --gpu a100 --moe
run "base_sparse|H100 SXM" --gpu h100 --moe
run "grand_dense|H100 SXM Low Latency" --gpu h100-low-latency
run "grand_dense|H100 SXM Global NVLink" --gpu h100-global-nvlink
run "grand_dense|H100 SXM Global NVLink and LL" --gpu h100-global-nvlink-ll
run "grand_dense|H100 SXM Infinite Network and LL" --gpu h100-infinite-ll
run "grand_sparse|H100 SXM Low Latency" --gpu h100-low-latency --moe
run "grand_sparse|H100 SXM Global NVLink" --gpu h100-global-nvlink --moe
run "grand_sparse|H100 SXM Global NVLink and LL" --gpu h100-global-nvlink-ll --moe
run "grand_sparse|H100 SXM Infinite Network and LL" --gpu h100-infinite-ll --moe
run "batch|No scaling" --gpu h100 --batch-rule fixed:4Mi
run "batch|DeepSeek scaling" --gpu h100 --batch-rule deepseek
awk -F, 'NR==FNR {key=$1 "," $2; u[key]=$3; n[key]=$4; c[key]=$5; next}
    FNR==1 {next}
    {key=$1 "," $2; tot[$1]++; all++
     if (!(key in u)) {miss[$1]++; worst[$1]=worst[$1] " " $2 "(missing)"; next}
     du=u[key]-$9; if (du<0) du=-du; ok=(du<=0.02); rn=n[key]/($10+0); same=(rn>0.999 && rn<1.001)
     if (ok) okc[$1]++; if (same) samec[$1]++; if (ok && same) {both[$1]++; allboth++}
     if (du>wd[$1]) {wd[$1]=du; wk[$1]=sprintf("C=%s: U %.3f vs %.3f, GPUs %s vs %s", $7, u[key], $9, n[key], $10)}
    }
    END {
     print "| setting | reference points | U within 0.02 | same GPU count | both | worst point (ours vs reference) |"
     print "|---|---:|---:|---:|---:|---|"
     for (s in tot) printf "| %s | %d | %d | %d | %d | %s |\n", s, tot[s], okc[s], samec[s], both[s], (wd[s] > 0 ? wk[s] : "exact") (miss[s] ? ";" worst[s] : "")
     printf "\n**All settings: %d of %d points (%.1f %%) with utilization within 0.02 and the same cluster size.**\n", allboth, all, 100*allboth/all
    }' "$TMP/ours.csv" "$REF"
