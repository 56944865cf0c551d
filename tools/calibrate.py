#!/usr/bin/env python3
"""Fit the efficiency factors of each (hardware family x software stack) pair on the visible validation rows.

Usage:  python3 tools/calibrate.py [--write] [--pairs FAMILY:STACK[,FAMILY:STACK...]]
        (from the repository root, after `make all`)

One calibration per (family x stack), never per row (docs/calibration.md). For each pair below, the rows of
data/validation/*.csv that ran on that stack (column `software`) on an accelerator of that family (system ->
accelerator -> `family`) are the fit set, less the rows that cannot inform a kernel efficiency:
  - rows whose precision the source did not state (the efficiency is per precision);
  - fine-tuning rows (SFT / LoRA: a different workload, predicted through the finetune model);
  - rows `validate` does not evaluate.
A stack preset derived from another ("base": "megatron-core", e.g. the per-release presets
megatron-core-25.09 .. megatron-core-26.08 of the Megatron-Bridge tables) is fitted as its base: its rows join the
base stack's fit set and it inherits the base's factors, never gets its own (a release preset carries the facts
that release's recipes set, not a fitted efficiency: fitting per release would tune per row in disguise); a
derived preset that states its own "efficiency" is refused.
The factors (data/software/STACK.json "efficiency".FAMILY: gemm, fp8_gemm, attn, mem; 1 = the accelerator file's
curve) are fitted by coordinate descent over a grid (0.30..1.30, step 0.02) within cited bounds (BOUNDS below),
run to a fixed point from fixed starts (descend, calibrate), minimising the MAPE of step time over the fit set
with `scaleplan validate --data-dir` on a copy
of data/. A factor is fitted only when the fit set has rows that depend on it (gemm: at least 5 16-bit rows of
dense models -- MoE rows carry dispatch and grouped-GEMM costs a GEMM factor must not absorb; fp8_gemm:
FP8/MXFP8/NVFP4 rows); otherwise it stays at its prior. With --write the factors go into data/software/*.json (the
result table of docs/calibration.md is updated by hand from the printout); without it the script only prints.
--pairs fits (and with --write writes) only the named pairs, e.g. --pairs hopper:llm-foundry: the pairs' fit sets
are disjoint (a row belongs to one family and one root stack), so one pair's fit never depends on whether another
pair was refitted, and a pair whose refit is not adopted keeps the factors in place (docs/calibration.md, "Which
fits are written").
"""
import csv
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "scaleplan")
CSVS = ["data/validation/training_runs.csv", "data/validation/training_runs_megatron_core.csv"]
KEYS = ["gemm", "fp8_gemm", "attn", "mem", "moe_gemm"]
GRID = [round(0.30 + 0.02 * i, 2) for i in range(51)]
MAX_SWEEPS = 50

# BOUNDS: a factor may not claim a kernel rate that published microbenchmarks rule out, whatever the rows want.
# A factor that ends at its bound is reported as such, with the rows that pull it there: the model lacks (or
# overprices) a cost those rows carry, and the bound keeps that cost out of the kernel rates. Bounds are fractions
# of the peak, converted to factors of the accelerator files' curves and snapped inward onto GRID.
# mem (memory-bound kernels, fraction of HBM peak; the Hopper and Blackwell files both hold 0.85):
#   upper 0.92: STREAM-like copies reach ~90 % of HBM (the cap this script has held since its first version);
#     the fastest fused normalisation measured, cuDNN RMSNorm forward on B200 at 65536x4096 fp16, 158 us for
#     1.07 GB = 6.8 of 8 TB/s, 85 % (pytorch/pytorch#159682, its B200 performance matrix);
#   lower 0.75: the slowest fused kernel of the Megatron-Core/TE lineage measured on its own, Apex's fast
#     LayerNorm backward (the kernel TE's layernorm descends from) at 1163 GB/s of A100-40GB's 1555 GB/s, the
#     forward at 1258 GB/s, 81 % (NVIDIA/apex#1037); PyTorch's eager RMSNorm on B200 at 65536x4096, 167 us, 80 %
#     (pytorch/pytorch#159682). A fit below 0.75 would credit memory-bound kernels with less bandwidth than
#     every measured training kernel reaches (the 56-60 % descents of docs/calibration.md).
# gemm, moe_gemm, fp8_gemm (upper only): the Maximum Achievable Matmul FLOP/s of the family's best part
#   (stas00/ml-engineering compute/accelerator/README.md, "Maximum Achievable Matmul FLOPS comparison table",
#   cuBLAS through PyTorch, best shape) over the curve at such a shape (k = 16384): Hopper BF16 80.3 % (H100 SXM)
#   / (0.78 x 16384/16480) = 1.04; Hopper FP8 73.4 % (H200) / 0.77 (the FP8 curve at the prior's shape, PRIORS)
#   = 0.95; Blackwell BF16 77.6 % (B200) / (0.75 x 16384/16512) = 1.04, FP8 76.3 % / 0.744 = 1.03 (FP8 runs the
#   16-bit curve at twice the peak). A grouped expert GEMM is no faster than the dense one: moe_gemm as gemm.
# attn (upper only): the fastest attention kernel measured on the family over the file's cudnn class (the rate a
#   factor of 1 gives; causal BF16, head dim 128, forward, the direction with the larger gain): Hopper cuDNN 9.19
#   on H200, 0.666 of the BF16 peak against the file's 0.545 = 1.22 (NVIDIA/cudnn-frontend@df73764
#   benchmark/sdpa_benchmark_training results, as docs/calibration.md cites them); Blackwell FlashAttention-4 on
#   B200, 1613 TFLOP/s = 0.717 of 2.25 PFLOP/s against the file's 0.656 = 1.09 (Zadouri et al. 2026,
#   arXiv:2603.05451). A factor above it would price attention faster than any kernel measured on the part.
# attn (lower, Megatron-Core only: its attention is Transformer Engine's cuDNN fused attention, the kernel the
#   files' cudnn class measures; llm-foundry's FlashAttention 1/2 mix has no such measurement): the slowest cuDNN
#   release measured on the family, times the rate at 4k tokens (the shortest sequence of the fit rows) over the
#   8k-16k plateau the files hold. Blackwell: B200 cuDNN 9.13, 0.556 / 0.448 forward / backward against the file's
#   0.656 / 0.532 = 0.85 / 0.84 (cudnn-frontend@0b1577c B200 artifacts, docs/calibration.md "cuDNN release per
#   stack preset"), x 0.857 (GB200 cuDNN 9.22 llama3.1 forward 1408 TFLOP/s at 4k vs 1574/1708 at 8k/16k;
#   backward 1148 vs 1332/1328: 0.863) = 0.72. Hopper: the file is the oldest measured release (cuDNN 9.1, the
#   FlashAttention-3 paper), x 0.88 (H200 cuDNN 9.19 fwd+bwd per FLOP at 4k vs 8k, cudnn-frontend@3929da2e) = 0.88.
#   Below it the factor would price attention slower than every measured release at the rows' shortest sequence.
ATTN_LO = {("blackwell", "megatron-core"): 0.72, ("hopper", "megatron-core"): 0.88}
HBM_FRAC = 0.85
MEM_PEAK = (0.75, 0.92)
GEMM_HI = {"hopper": {"gemm": 1.04, "moe_gemm": 1.04, "fp8_gemm": 0.95, "attn": 1.22},
           "blackwell": {"gemm": 1.04, "moe_gemm": 1.04, "fp8_gemm": 1.03, "attn": 1.09}}


def bounds(fam, key, stack):
    """(lo, hi) of a factor on GRID: the cited bounds above, snapped inward (within half a grid step)."""
    lo, hi = GRID[0], GRID[-1]
    if key == "attn":
        lo = ATTN_LO.get((fam, stack), lo)
    if key == "mem":
        lo, hi = MEM_PEAK[0] / HBM_FRAC, MEM_PEAK[1] / HBM_FRAC
    elif key in GEMM_HI.get(fam, {}):
        hi = GEMM_HI[fam][key]
    return (min(v for v in GRID if v >= lo - 0.01), max(v for v in GRID if v <= hi + 0.01))

QUANTIZED = {"fp8", "mxfp8", "nvfp4", "fp4", "int8"}

# Priors: where the search starts, from published microbenchmarks (docs/calibration.md gives the sources).
# hopper x megatron-core fp8_gemm: the Hopper FP8 curve (0.82) was fitted to tile-lang's hand-written FP8 GEMM
#   (1523 of 1979 TFLOP/s at 8192^2 x 16384); cuBLAS FP8 through PyTorch reaches 70.9 % of peak on H100 SXM
#   (stas00/ml-engineering, compute/accelerator/README.md, "Maximum Achievable Matmul FLOPS comparison table"),
#   i.e. 0.709 / 0.77 = 0.92 of the curve.
# blackwell x megatron-core fp8_gemm: B200 has no FP8 curve (FP8 ran on the BF16 curve at twice the peak); MAMF
#   FP8 76.3 % vs BF16 77.6 % on B200 SXM (same table): the same curve, factor 1.
PRIORS = {
    ("hopper", "llm-foundry"): {"gemm": 1.0, "fp8_gemm": 0.92, "attn": 1.0, "mem": 1.0, "moe_gemm": 1.0},
    ("hopper", "megatron-core"): {"gemm": 1.0, "fp8_gemm": 0.92, "attn": 1.0, "mem": 1.0, "moe_gemm": 1.0},
    ("blackwell", "megatron-core"): {"gemm": 1.0, "fp8_gemm": 1.0, "attn": 1.0, "mem": 1.0, "moe_gemm": 1.0},
}


def load_json(path):
    with open(path) as f:
        return json.load(f)


def accel_family(name):
    d = load_json(os.path.join(ROOT, "data", "accelerators", name + ".json"))
    if "family" in d:
        return d["family"]
    return accel_family(d["base"]) if "base" in d else ""


def system_family(name):
    d = load_json(os.path.join(ROOT, "data", "systems", name + ".json"))
    while "accelerator" not in d:
        d = load_json(os.path.join(ROOT, "data", "systems", d["base"] + ".json"))
    return accel_family(d["accelerator"])


@functools.lru_cache(maxsize=None)
def fit_stack(name, seen=()):
    """The stack whose factors a row's `software` uses: the root of the preset's "base" chain."""
    path = os.path.join(ROOT, "data", "software", name + ".json")
    if not name or not os.path.exists(path):
        return name
    d = load_json(path)
    if "base" not in d:
        return name
    if "efficiency" in d:
        sys.exit("calibrate.py: %s derives from %s and states its own efficiency; a derived preset inherits its "
                 "base's factors (docs/calibration.md)" % (path, d["base"]))
    if d["base"] in seen:
        sys.exit("calibrate.py: %s: circular base" % path)
    return fit_stack(d["base"], seen + (name,))


def is_finetune(row):
    m = row.get("model", "").lower()
    return "(sft)" in m or "(lora)" in m


def fit_rows(fam, stack):
    rows, header = [], None
    fams = {}
    for path in CSVS:
        with open(os.path.join(ROOT, path)) as f:
            r = csv.DictReader(f)
            for row in r:
                if fit_stack(row.get("software", "")) != stack or not row.get("precision") or is_finetune(row):
                    continue
                sysname = row["system"]
                if sysname not in fams:
                    fams[sysname] = system_family(sysname)
                if fams[sysname] != fam:
                    continue
                if header is None:
                    header = r.fieldnames
                rows.append({k: row.get(k, "") for k in header})
    return header, rows


@functools.lru_cache(maxsize=None)
def config_is_moe(model_config):
    """Whether a model named by the CSV's model_config has routed experts, as scaleplan itself reads the model
    (`scaleplan model --json` layer kinds): a hybrid such as Nemotron-3 Super states its experts only there."""
    out = subprocess.run([BIN, "model", model_config, "--json", "--data-dir", os.path.join(ROOT, "data")],
                         capture_output=True, text=True)
    if out.returncode != 0:
        return False
    return any(k.get("ffn") == "moe" for k in json.loads(out.stdout).get("layer_kinds", []))


def is_moe(row):
    """MoE rows fit only moe_gemm: the experts column, or the model the row's model_config names."""
    if row.get("moe_experts"):
        return True
    return bool(row.get("model_config")) and config_is_moe(row["model_config"])


def run_validate(tmp, csv_path):
    out = subprocess.run([BIN, "validate", csv_path, "--csv", "--data-dir", tmp], capture_output=True, text=True)
    errs = {}
    for row in csv.DictReader(out.stdout.splitlines()):
        errs[row["id"]] = float(row["error_pct"])
    return errs


def set_factors(tmp, stack, fam, factors):
    path = os.path.join(tmp, "software", stack + ".json")
    d = load_json(path)
    d.setdefault("efficiency", {})[fam] = dict(factors)
    d.setdefault("sources", {}).setdefault("efficiency", "tools/calibrate.py")
    with open(path, "w") as f:
        json.dump(d, f, indent=2)


def mape(errs):
    return sum(abs(e) for e in errs.values()) / len(errs) if errs else float("nan")


def write_csv(tmp, name, header, rows):
    path = os.path.join(tmp, "validation", name)
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header)
        w.writeheader()
        w.writerows(rows)
    return path


class Objective:
    """MAPE of step time over one CSV as a function of the free factors, memoised (validate is deterministic, so
    a point is evaluated once); `calls` counts the validate runs."""

    def __init__(self, tmp, stack, fam, csv_path):
        self.tmp, self.stack, self.fam, self.csv_path = tmp, stack, fam, csv_path
        self.cache, self.calls = {}, 0

    def __call__(self, x):
        key = tuple(sorted(x.items()))
        if key not in self.cache:
            set_factors(self.tmp, self.stack, self.fam, x)
            self.cache[key] = mape(run_validate(self.tmp, self.csv_path))
            self.calls += 1
        return self.cache[key]


def snap(fam, k, v, stack):
    lo, hi = bounds(fam, k, stack)
    return min((g for g in GRID if lo <= g <= hi), key=lambda g: (abs(g - v), g))


def neighbours(fam, x, free, stack):
    """Every point one grid step away along one or two free factors at once (the moves coordinate descent cannot
    make: two factors trading against each other), in a fixed order."""
    step = {}
    for k in free:
        lo, hi = bounds(fam, k, stack)
        step[k] = [round(x[k] + d, 2) for d in (-0.02, 0.02) if lo - 1e-9 <= round(x[k] + d, 2) <= hi + 1e-9]
    for i, a in enumerate(free):
        for va in step[a]:
            yield dict(x, **{a: va})
            for b in free[i + 1:]:
                for vb in step[b]:
                    yield dict(x, **{a: va, b: vb})


def descend(f, fam, x, free):
    """Coordinate descent to a fixed point: each sweep scans every in-bounds grid value of each free factor in turn
    and keeps a strict improvement (ties keep the current point, so the result does not depend on scan order
    beyond the first strict minimum); when a sweep moves nothing, every pair move of one grid step is tried and the
    best strict improvement taken, and the sweeps resume. Stops when neither moves: the point is a minimum over
    its whole 1- and 2-factor grid neighbourhood. Returns (x, sweeps)."""
    x = {k: (snap(fam, k, v, f.stack) if k in free else v) for k, v in x.items()}
    best, sweeps = f(x), 0
    while sweeps < MAX_SWEEPS:
        sweeps += 1
        moved = False
        for k in free:
            lo, hi = bounds(fam, k, f.stack)
            for v in GRID:
                if lo <= v <= hi and v != x[k]:
                    y = dict(x, **{k: v})
                    m = f(y)
                    if m < best - 1e-9:
                        best, x, moved = m, y, True
        if moved:
            continue
        cand = min(((f(y), i, y) for i, y in enumerate(neighbours(fam, x, free, f.stack))), default=None,
                   key=lambda t: (t[0], t[1]))
        if cand is None or cand[0] >= best - 1e-9:
            break
        best, x = cand[0], cand[2]
    return x, sweeps


def pullers(tmp, stack, fam, x, k, csv_path, rows):
    """The rows that pull factor k past its bound: their |error| drops most one grid step beyond it."""
    lo, hi = bounds(fam, k, stack)
    if x[k] not in (lo, hi) or (lo, hi) == (GRID[0], GRID[-1]):
        return None
    side = "lower" if x[k] == lo else "upper"
    beyond = round(x[k] + (-0.02 if side == "lower" else 0.02), 2)
    set_factors(tmp, stack, fam, x)
    at = run_validate(tmp, csv_path)
    set_factors(tmp, stack, fam, dict(x, **{k: beyond}))
    past = run_validate(tmp, csv_path)
    gain = sorted(((abs(at[i]) - abs(past[i]), i) for i in at if i in past), reverse=True)
    names = {r["id"]: "%s/%s" % (r.get("model", ""), r.get("system", "")) for r in rows}
    top = ["%s %s %+.1f%%" % (i, names.get(i, ""), at[i]) for g, i in gain[:5] if g > 0]
    return "%s at its %s bound %.2f; beyond it (%.2f) these rows improve most: %s" % (
        k, side, x[k], beyond, "; ".join(top))


def fit_stage(tmp, stack, fam, starts, free, csv_path):
    """Descend from every start; keep the lowest MAPE (ties: the earlier start). The factors in place are
    descended from too but never chosen: the result depends only on the fixed starts, so it does not depend on
    what was written before; if the descent from the factors in place finds a lower point, the log says so (the
    fixed starts missed a basin). Returns (x, log)."""
    f = Objective(tmp, stack, fam, csv_path)
    runs = []
    for name, x0 in starts:
        x, sweeps = descend(f, fam, dict(x0), free)
        runs.append((f(x), len(runs), name, x, sweeps))
    best = min((r for r in runs if r[2] != "in place"), key=lambda r: (r[0], r[1]))
    for r in runs:
        if r[2] == "in place" and r[0] < best[0] - 1e-9:
            print("calibrate.py: warning: %s x %s: the descent from the factors in place reaches %.3f %% < %.3f %%"
                  % (fam, stack, r[0], best[0]), file=sys.stderr)
    log = ["from %s: %s (%.2f %%, %d sweeps)" % (name, "/".join("%.2f" % x[k] for k in free), m, sw)
           for m, _, name, x, sw in runs]
    log.append("%d validate runs" % f.calls)
    return best[3], log


def calibrate(tmp, fam, stack):
    """Two stages: the dense rows fit the GEMM, attention and memory-bound factors; then the MoE rows, with those
    fixed, fit only the grouped expert GEMM factor (so MoE-only costs do not leak into the dense kernels). Each
    stage descends to a fixed point (descend) from every fixed start -- the priors, the accelerator files' curves
    (all 1), each free factor at the quarter points of its bounds -- and keeps the best: the result does not
    depend on the factors in place, so a rerun after --write returns the same factors."""
    header, rows = fit_rows(fam, stack)
    dense = [r for r in rows if not is_moe(r)]
    moe = [r for r in rows if is_moe(r)]
    all_path = write_csv(tmp, "calibrate_all.csv", header, rows)
    dense_path = write_csv(tmp, "calibrate_dense.csv", header, dense)
    moe_path = write_csv(tmp, "calibrate_moe.csv", header, moe)
    dense16 = [r for r in dense if r["precision"] not in QUANTIZED]
    quant = [r for r in dense if r["precision"] in QUANTIZED]
    free = [k for k in ("gemm", "fp8_gemm", "attn", "mem")
            if (k != "gemm" or len(dense16) >= 5) and (k != "fp8_gemm" or quant)]
    placed = load_json(os.path.join(tmp, "software", stack + ".json")).get("efficiency", {}).get(fam)
    starts = [("priors", dict(PRIORS[(fam, stack)]))]
    if placed:
        starts.append(("in place", dict(PRIORS[(fam, stack)], **placed)))
    starts.append(("curves", {k: 1.0 for k in KEYS}))
    # and a fixed spread: each free factor at the quarter points of its bounds, the others at the priors (the
    # Blackwell dense fit has two basins, attn ~0.86 and ~1.06, which the three starts above do not all reach)
    for k in free:
        lo, hi = bounds(fam, k, stack)
        for q in (0.125, 0.375, 0.625, 0.875):
            starts.append(("%s=%.2f" % (k, snap(fam, k, lo + q * (hi - lo), stack)),
                           dict(PRIORS[(fam, stack)], **{k: snap(fam, k, lo + q * (hi - lo), stack)})))
    set_factors(tmp, stack, fam, {k: 1.0 for k in KEYS})
    before = run_validate(tmp, all_path)
    inplace = None
    if placed:
        set_factors(tmp, stack, fam, dict(PRIORS[(fam, stack)], **placed))
        inplace = mape(run_validate(tmp, all_path))
    x, log = dict(PRIORS[(fam, stack)]), []
    if dense:
        x, log = fit_stage(tmp, stack, fam, starts, free, dense_path)
    notes = [pullers(tmp, stack, fam, x, k, dense_path, dense) for k in free]
    if moe:
        x, mlog = fit_stage(tmp, stack, fam, [("dense fit", x)], ["moe_gemm"], moe_path)
        log += ["moe_gemm " + m for m in mlog]
        free = free + ["moe_gemm"]
        notes.append(pullers(tmp, stack, fam, x, "moe_gemm", moe_path, moe))
    set_factors(tmp, stack, fam, x)
    after = run_validate(tmp, all_path)
    return {"family": fam, "stack": stack, "n": len(after), "n_dense": len(dense), "n_moe": len(moe), "free": free,
            "factors": x, "mape_before": mape(before), "mape_after": mape(after), "mape_inplace": inplace,
            "log": log, "notes": [n for n in notes if n]}


def write_results(results):
    by_stack = {}
    for r in results:
        by_stack.setdefault(r["stack"], []).append(r)
    for stack, rs in by_stack.items():
        path = os.path.join(ROOT, "data", "software", stack + ".json")
        d = load_json(path)
        eff = d.get("efficiency", {})
        for r in rs:
            eff[r["family"]] = r["factors"]
        d["efficiency"] = eff
        d.setdefault("sources", {})["efficiency"] = (
            "tools/calibrate.py (one fit per hardware family x stack on the visible rows of that pair; priors, "
            "fit sets and results in docs/calibration.md)")
        with open(path, "w") as f:
            json.dump(d, f, indent=2, ensure_ascii=False)
            f.write("\n")


def usage_error(msg):
    """bad arguments: one line on stderr, exit 2 (the CLI's convention)"""
    print("calibrate.py: " + msg, file=sys.stderr)
    sys.exit(2)


def parse_pairs(argv):
    """the pairs named by --pairs FAMILY:STACK[,...] (all of PRIORS without it); an unknown pair or argument is an
    error naming what is allowed"""
    allowed = ", ".join("%s:%s" % p for p in PRIORS)
    args, pairs = list(argv), list(PRIORS)
    if "--write" in args:
        args.remove("--write")
    if args[:1] == ["--pairs"] and len(args) == 2:
        pairs = [tuple(x.split(":", 1)) for x in args[1].split(",")]
        bad = [x for x in pairs if x not in PRIORS]
        if bad:
            usage_error("--pairs: unknown pair %s (allowed: %s)" % (":".join(bad[0]), allowed))
    elif args:
        usage_error("unknown argument %s (usage: [--write] [--pairs FAMILY:STACK,...]; pairs: %s)" % (args[0], allowed))
    return pairs


def main():
    write = "--write" in sys.argv[1:]
    pairs = parse_pairs(sys.argv[1:])
    tmp = tempfile.mkdtemp(prefix="sp-calibrate-")
    try:
        data = os.path.join(tmp, "data")
        shutil.copytree(os.path.join(ROOT, "data"), data)
        results = [calibrate(data, fam, stack) for (fam, stack) in pairs]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for r in results:
        print("%-10s x %-14s n=%3d (%3d dense, %3d MoE)  fitted %-35s %s  MAPE %.2f %% -> %.2f %%" % (
            r["family"], r["stack"], r["n"], r["n_dense"], r["n_moe"], ",".join(r["free"]),
            " ".join("%s=%.2f" % (k, r["factors"][k]) for k in KEYS), r["mape_before"], r["mape_after"]))
        if r["mape_inplace"] is not None:
            print("    the factors in place score this fit set %.2f %%" % r["mape_inplace"])
        for line in r["log"] + r["notes"]:
            print("    " + line)
    if write:
        write_results(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
