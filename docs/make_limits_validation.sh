#!/bin/sh
# Compares `scaleplan limits --mode epoch2024 --csv` with every point of
# data/validation/epoch2024_reference_points.csv (the authors' sweeps). Prints a markdown report: per setting
# the rows, rows with utilization within 0.02, with the same GPU count, with the same whole plan (TP split, PP,
# interleave, DP, EP, microbatches), with the same run length (months, 2 decimals in the file), and the worst row.
#   sh docs/make_limits_validation.sh [data/validation/epoch2024_reference_points.csv]
BIN=${SP_BIN:-build/scaleplan}
REF=${1:-data/validation/epoch2024_reference_points.csv}
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
run() { # reference setting name, scaleplan options...
    name=$1; shift
    "$BIN" limits --mode epoch2024 --csv "$@" > "$TMP/one.csv" || exit 1
    # drop the header and our (quoted) setting name: compute,d_model,L,S,params,B,months,U,N,tpm,tpf,pp,v,zb,dp,ep,mb
    tail -n +2 "$TMP/one.csv" | sed 's/^"[^"]*",//' | awk -F, -v s="$name" '{print s "," $0}' >> "$TMP/ours.csv"
}
run "base|V100 SXM" --gpu v100
run "base|A100 SXM" --gpu a100
run "base|H100 SXM" --gpu h100
run "base_sparse|V100 SXM" --gpu v100 --moe
run "base_sparse|A100 SXM" --gpu a100 --moe
run "base_sparse|H100 SXM" --gpu h100 --moe
run "grand_dense|H100 SXM Low Latency" --gpu h100 --latency-scale 0.1
run "grand_dense|H100 SXM Global NVLink" --gpu h100 --flat-network
run "grand_dense|H100 SXM Global NVLink and LL" --gpu h100 --flat-network --latency-scale 0.1
run "grand_dense|H100 SXM Infinite Network and LL" --gpu h100 --flat-network --bandwidth-scale inf --latency-scale 0.1
run "grand_sparse|H100 SXM Low Latency" --gpu h100 --latency-scale 0.1 --moe
run "grand_sparse|H100 SXM Global NVLink" --gpu h100 --flat-network --moe
run "grand_sparse|H100 SXM Global NVLink and LL" --gpu h100 --flat-network --latency-scale 0.1 --moe
run "grand_sparse|H100 SXM Infinite Network and LL" --gpu h100 --flat-network --bandwidth-scale inf --latency-scale 0.1 --moe
run "batch|No scaling" --gpu h100 --batch-rule fixed:4Mi
run "batch|DeepSeek scaling" --gpu h100 --batch-rule deepseek
awk -F, 'NR==FNR {key=$1 "," $3; seen[key]=1; u[key]=$9; n[key]=$10; mo[key]=$8
                  plan[key]=$11 "x" $12 "," $13 "," $14 "," $16 "," $17 "," $18; ours[$1]++; next}
    FNR==1 {next}
    {s=$1; key=s "," $2; tot[s]++; all++; if (!(s in order)) {order[s]=++ns; names[ns]=s}
     if (!(key in seen)) {miss[s]++; note[s]=note[s] " d_model " $2 " missing;"; next}
     found[s]++
     du=u[key]-$9; if (du<0) du=-du; ok=(du<=0.02); if (ok) {okc[s]++; allok++}
     rn=n[key]/($10+0); same=(rn>0.999 && rn<1.001); if (same) {samec[s]++; allsame++}
     p=$11 "," $12 "," $13 "," $14 "," $15 "," $16; if (plan[key]==p) {planc[s]++; allplan++}
     dm=mo[key]-$8; if (dm<0) dm=-dm; if (dm<=0.0051) {moc[s]++; allmo++}
     if (ok && same) allboth++
     if (du>=wd[s]) {wd[s]=du; wk[s]=sprintf("d_model %s: U %.4f vs %.4f, GPUs %s vs %s", $2, u[key], $9, n[key], $10)}
    }
    END {
     print "| setting | reference rows | U within 0.02 | same GPU count | same plan | same months | largest U difference |"
     print "|---|---:|---:|---:|---:|---:|---|"
     for (i=1; i<=ns; i++) {s=names[i]
       printf "| %s | %d | %d | %d | %d | %d | %s%s%s |\n", s, tot[s], okc[s], samec[s], planc[s], moc[s], (wd[s] > 0.00005 ? wk[s] : "none (U equal to the 4 printed digits)"), (miss[s] ? ";" note[s] : ""), (ours[s] != tot[s] ? sprintf("; %d points here", ours[s]) : "")}
     printf "\n**All settings: %d of %d rows (%.1f %%) with utilization within 0.02 and the same cluster size; %d (%.1f %%) with the same whole plan; %d with the same run length.**\n", allboth, all, 100*allboth/all, allplan, 100*allplan/all, allmo
    }' "$TMP/ours.csv" "$REF"
