#!/bin/sh
# The 1 -> N rank speed-up of `scaleplan sweep` on examples/sweep-bench-1000.json (docs/performance.md): each rank
# count run REPS times (default 2), the fastest wall time kept (on a shared machine the slower runs measure the
# neighbours), outputs compared byte for byte with the single-process run. Usage: sh bench/sweep_ranks.sh [N...]
BIN=${SP_BIN:-build/scaleplan}
SPEC=${SPEC:-examples/sweep-bench-1000.json}
REPS=${REPS:-2}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
command -v mpirun >/dev/null || { echo "mpirun not installed: make deps"; exit 1; }
# best time of the sweep itself (--timing: after MPI start-up, before the summary) over REPS runs, and the CPU
# seconds (user + system, all ranks and mpirun) of that run
best() {
    b=""
    for r in $(seq "$REPS"); do
        /usr/bin/time -f "cpu %U %S" "$@" --timing >/dev/null 2>"$TMP/err" || { echo "failed: $*: $(cat "$TMP/err")" >&2; exit 1; }
        d=$(sed -n 's/.* in \([0-9.]*\) s:.*/\1/p' "$TMP/err")
        c=$(awk '/^cpu /{print $2 + $3}' "$TMP/err")
        b=$(echo "$d $c $b" | awk '{if ($3 == "" || $1 < $3) print $1, $2; else print $3, $4}')
    done
    echo "$b"
}
set -- ${*:-1 2}
r1=$(best "$BIN" sweep "$SPEC" --out "$TMP/one.csv")
t1=${r1% *}
echo "1 process (no MPI): sweep $t1 s wall, ${r1#* } s CPU"
for n in "$@"; do
    rn=$(best mpirun --oversubscribe -np "$n" "$BIN" sweep "$SPEC" --out "$TMP/mpi$n.csv")
    tn=${rn% *}
    same=$(cmp -s "$TMP/one.csv" "$TMP/mpi$n.csv" && echo identical || echo DIFFERENT)
    echo "$n rank(s): sweep $tn s wall, ${rn#* } s CPU (all processes, with MPI start-up); speed-up $(echo "$t1 $tn" | awk '{printf "%.2f", $1 / $2}') over 1 process; output $same"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
