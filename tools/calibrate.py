#!/usr/bin/env python3
"""Fit the efficiency factors of each (hardware family x software stack) pair on the visible validation rows.

Usage:  python3 tools/calibrate.py [--write]      (from the repository root, after `make all`)

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
curve) start from the priors below and are fitted by coordinate descent over a grid (0.50..1.30, step 0.02),
two sweeps, minimising the MAPE of step time over the fit set with `scaleplan validate --data-dir` on a copy
of data/. A factor is fitted only when the fit set has rows that depend on it (gemm: at least 5 16-bit rows of
dense models -- MoE rows carry dispatch and grouped-GEMM costs a GEMM factor must not absorb; fp8_gemm:
FP8/MXFP8/NVFP4 rows); otherwise it stays at its prior. With --write the factors go into data/software/*.json and
the result table into docs/calibration.md; without it the script only prints.
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
# memory-bound kernels: at most 0.92 of HBM bandwidth once multiplied by the families' 0.85 (STREAM-like copies on
# H100/B200 reach ~90 %: a factor that would claim more is absorbing something else)
MAX = {"mem": 1.08}
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


def descend(tmp, stack, fam, x, free, csv_path):
    set_factors(tmp, stack, fam, x)
    best = mape(run_validate(tmp, csv_path))
    for _ in range(2):
        for k in free:
            for v in GRID:
                if v > MAX.get(k, 9):
                    continue
                y = dict(x)
                y[k] = v
                set_factors(tmp, stack, fam, y)
                m = mape(run_validate(tmp, csv_path))
                if m < best - 1e-9:
                    best, x = m, y
    return x


def calibrate(tmp, fam, stack):
    """Two stages: the dense rows fit the GEMM, attention and memory-bound factors; then the MoE rows, with those
    fixed, fit only the grouped expert GEMM factor (so MoE-only costs do not leak into the dense kernels)."""
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
    x = dict(PRIORS[(fam, stack)])
    set_factors(tmp, stack, fam, {k: 1.0 for k in KEYS})
    before = run_validate(tmp, all_path)
    if dense:
        x = descend(tmp, stack, fam, x, free, dense_path)
    if moe:
        x = descend(tmp, stack, fam, x, ["moe_gemm"], moe_path)
        free = free + ["moe_gemm"]
    set_factors(tmp, stack, fam, x)
    after = run_validate(tmp, all_path)
    return {"family": fam, "stack": stack, "n": len(after), "n_dense": len(dense), "n_moe": len(moe), "free": free,
            "factors": x, "mape_before": mape(before), "mape_after": mape(after)}


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


def main():
    write = "--write" in sys.argv[1:]
    tmp = tempfile.mkdtemp(prefix="sp-calibrate-")
    try:
        data = os.path.join(tmp, "data")
        shutil.copytree(os.path.join(ROOT, "data"), data)
        results = [calibrate(data, fam, stack) for (fam, stack) in PRIORS]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for r in results:
        print("%-10s x %-14s n=%3d (%3d dense, %3d MoE)  fitted %-35s %s  MAPE %.2f %% -> %.2f %%" % (
            r["family"], r["stack"], r["n"], r["n_dense"], r["n_moe"], ",".join(r["free"]),
            " ".join("%s=%.2f" % (k, r["factors"][k]) for k in KEYS), r["mape_before"], r["mape_after"]))
    if write:
        write_results(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
