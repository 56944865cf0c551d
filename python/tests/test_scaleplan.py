"""The Python package against the command-line tool: same JSON for every command, same error messages,
identical results from several threads. Run by `make check` (python/tests, pytest)."""
import csv
import json
import os
import re
import subprocess
import threading

import pytest

import scaleplan

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("SP_BIN", os.path.join(ROOT, "build", "scaleplan"))
if not os.path.isabs(BIN):
    BIN = os.path.join(ROOT, BIN)


def _registered():
    """The commands the library's sp_call serves (its message for an unknown command lists them)."""
    try:
        scaleplan.call("--list--")
    except scaleplan.InputError as e:
        return set(x.strip() for x in str(e).split("commands:")[1].split(","))
    return set()


REGISTERED = _registered()


def need(cmd):
    if cmd not in REGISTERED:
        pytest.skip("'%s' is not served by sp_call yet (the CLI still formats it itself)" % cmd)


def cli(*args):
    """Runs the CLI from the repository root; returns (exit code, stdout, stderr)."""
    p = subprocess.run([BIN, *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                       env=dict(os.environ, SCALEPLAN_DATA=scaleplan.data_dir()))
    return p.returncode, p.stdout, p.stderr


def cli_json(*args):
    rc, out, err = cli(*args, "--json")
    assert rc == 0, err
    return json.loads(out)


def argv(kw):
    """Keyword arguments -> CLI options (the rule the package documents: '_' -> '-', True -> a flag)."""
    out = []
    for k, v in kw.items():
        opt = "--" + k.replace("_", "-")
        if v is True:
            out.append(opt)
        elif v is not False and v is not None:
            out += [opt, str(v)]
    return out


GPT3 = dict(model="gpt3-175b", system="dgx-a100-80g", gpus=1024, tp=8, pp=8, global_batch=1536)

# (command, keyword arguments) pairs: each must give the CLI's --json result exactly
CASES = [
    ("train", GPT3),
    ("train", dict(model="llama3-70b", system="dgx-h100", gpus=512, tp=8, pp=4, global_batch=1024, seq_len=8192,
                   sp=True, recompute="selective", tokens="15T")),
    ("train", dict(model="mixtral-8x7b", system="dgx-h100", gpus=64, tp=2, ep=8, global_batch=256, seq_len=4096)),
    ("search", dict(model="llama3-70b", system="dgx-h100", gpus=256, global_batch=512, seq_len=4096, top=5)),
    ("infer", dict(model="llama3-70b", system="dgx-h100", gpus=8, tp=8, batch=16, prompt=1024, output=256)),
    ("infer", dict(model="llama3-70b", fit_hardware=True, latency_ms=30, candidates="h100,h200")),
    ("law", dict(compute="1e24")),
    ("limits", dict(mode="epoch2024", to="1e27")),
    ("limits", dict(mode="epoch2024", compare="h100,a100+moe+ll", to="1e28")),
    ("limits", dict(to="3e26", threads=1)),  # full mode; one search thread: plans_evaluated is deterministic
    ("limits", dict(to="1e26", threads=1, software="megatron-core")),  # full mode's plans run a training stack
    ("infer", dict(model="llama3-70b", system="dgx-h100", gpus=4, tp=4, weights="fp8", software="vllm")),  # serving stack
    ("forecast", dict(assumptions="epoch-2030", year=2030, lab_share=0.3)),
    ("finetune", dict(model="llama3-8b", system="dgx-h100", gpus=8, method="lora", global_batch=64)),
    ("train", dict(model="llama2-7b", system="dgx-h100", gpus=8, global_batch=32, seq_len=4096, doc_len=200.5,
                   doc_len_cv=0.436)),  # packed sequences: plan doc_len / doc_len_cv as the other plan knobs
]


# what differs between two runs of the same search: its own timing
VOLATILE = {"wall_time_s", "plans_per_s", "elapsed_s"}


def stable(x):
    if isinstance(x, dict):
        return {k: stable(v) for k, v in x.items() if k not in VOLATILE}
    if isinstance(x, list):
        return [stable(v) for v in x]
    return x


@pytest.mark.parametrize("cmd,kw", CASES, ids=[c[0] + str(i) for i, c in enumerate(CASES)])
def test_same_json_as_cli(cmd, kw):
    """Rule: a command's dict equals the CLI's --json for the same inputs, key for key and value for value."""
    need(cmd)
    got = scaleplan.call(cmd, **kw)
    want = cli_json(cmd, *argv(kw))
    assert stable(got) == stable(want)


def test_train_value():
    """The README's example: GPT-3 175B on 1024 A100-80GB, TP 8 x PP 8 x DP 16, global batch 1536."""
    r = scaleplan.train(**GPT3)
    assert r["step_time_s"] == cli_json("train", *argv(GPT3))["step_time_s"]
    assert 5 < r["step_time_s"] < 60


def test_search_returns_plans():
    """search() returns the ranked plans, best first."""
    plans = scaleplan.search(model="llama3-70b", system="dgx-h100", gpus=256, global_batch=512, seq_len=4096, top=5)
    assert isinstance(plans, list) and len(plans) == 5


def test_model_as_dict_equals_preset():
    """Rule: a model given as the dict of its preset file gives the same result as the preset's name."""
    with open(os.path.join(scaleplan.data_dir(), "models", "llama3-8b.json")) as f:
        cfg = json.load(f)
    kw = dict(system="dgx-h100", gpus=8, global_batch=64, seq_len=4096)
    a = scaleplan.train(model="llama3-8b", **kw)
    b = scaleplan.train(model=cfg, **kw)
    assert a["step_time_s"] == b["step_time_s"]


def test_system_as_modified_dict():
    """A modified system dict is used as given: doubling the scale-out bandwidth never slows a plan down."""
    with open(os.path.join(scaleplan.data_dir(), "systems", "dgx-h100.json")) as f:
        sysd = json.load(f)
    kw = dict(model="llama3-70b", gpus=512, tp=8, pp=4, global_batch=1024, seq_len=4096)
    base = scaleplan.train(system=sysd, **kw)["step_time_s"]
    assert base == scaleplan.train(system="dgx-h100", **kw)["step_time_s"]


BAD = [
    ("train", dict(model="no-such-model")),
    ("train", dict(tp=3, gpus=1024)),
    ("train", dict(recompute="sometimes")),
    ("train", dict(model="/nonexistent/config.json")),
    ("infer", dict(model="llama3-70b", system="dgx-h100", prompt=0)),
    ("law", dict(compute="-1")),
    ("limits", dict(mode="epoch2024", to="1e24")),
    ("limits", dict(mode="paper")),
    ("limits", dict(mode="epoch2024", compare="h100+fast")),
    ("limits", dict(mode="epoch2024", latency_scale=0)),
    ("limits", dict(mode="epoch2024", software="megatron-core")),
    ("infer", dict(model="llama3-8b", software="megatron-core")),
    ("train", dict(model="llama2-7b", seq_len=4096, doc_len=5000)),
]


@pytest.mark.parametrize("cmd,kw", BAD, ids=[c[0] + str(i) for i, c in enumerate(BAD)])
def test_errors_carry_cli_message(cmd, kw):
    """Rule: a bad input raises a scaleplan.Error whose message is the one line the CLI prints (exit 2)."""
    need(cmd)
    with pytest.raises(scaleplan.Error) as e:
        scaleplan.call(cmd, **kw)
    rc, out, err = cli(cmd, *argv(kw))
    assert rc == 2 and out == ""
    assert str(e.value) in err, (str(e.value), err)
    assert "\n" not in str(e.value)


def test_limits_reproduces_the_paper():
    """scaleplan.limits: the paper's H100 baseline (reference §5.1: linear regime to 2.05e28 FLOP, latency wall at
    2.71e31), the same dict as the CLI's --json, and a range without sweep points raising with the CLI's line."""
    r = scaleplan.limits(mode="epoch2024", gpu="h100")
    assert float("%.3g" % r["linear_regime_end_flop"]) == 2.05e28
    assert float("%.3g" % r["latency_wall_flop"]) == 2.71e31
    assert r["max_utilization"] == 0.7 and r["sweep_end"] == "latency wall"
    assert stable(r) == stable(cli_json("limits", "--mode", "epoch2024", "--gpu", "h100"))
    with pytest.raises(scaleplan.InputError) as e:
        scaleplan.limits(mode="epoch2024", to=1e24)
    assert str(e.value).startswith("--to 1e+24: below the smallest run of the sweep")


# validate and fit read tables of measurements: paths are given absolute so the CLI (run from the repository
# root) and the package name the same files in their results and messages
VAL = os.path.join(ROOT, "data", "validation")
RUNS = os.path.join(VAL, "training_runs.csv")
CHIN = os.path.join(VAL, "chinchilla_points.csv")
GADRE = os.path.join(ROOT, "tests", "gadre2024", "rpj_c4val.csv")
CHIN_COLS = dict(n="N_params", d="D_tokens", loss="loss", drop_if="excluded_as_outlier_by_epoch=y")


def test_validate_same_json_as_cli():
    """Rule: validate(path) and validate([paths]) are the CLI's --json for those files."""
    core = os.path.join(VAL, "training_runs_megatron_core.csv")
    assert scaleplan.validate(RUNS) == cli_json("validate", RUNS)
    assert scaleplan.validate([RUNS, core]) == cli_json("validate", RUNS, core)


def test_validate_rows_equal_file():
    """Rule: runs given as dicts (csv.DictReader's rows) are predicted exactly as the file's rows are."""
    with open(RUNS) as f:
        rows = list(csv.DictReader(f))[:12]
    got = scaleplan.validate(rows)
    want = {r["id"]: r for r in cli_json("validate", RUNS)["rows"]}
    assert len(got["rows"]) == 12
    for r in got["rows"]:
        assert r["predicted_step_time_s"] == want[r["id"]]["predicted_step_time_s"]
        assert r["error_pct"] == want[r["id"]]["error_pct"]


def test_fit_same_json_as_cli():
    """Rule: fit(path, ...) is the CLI's --json; a prediction may be "N,D" text or an (N, D) pair."""
    got = scaleplan.fit(CHIN, predict=["70B,1.4T", (405e9, 15e12)], **CHIN_COLS)
    want = cli_json("fit", CHIN, *argv(CHIN_COLS), "--predict", "70B,1.4T", "--predict", "405B,15T")
    assert got == want


def test_fit_points_equal_file():
    """Rule: (N, D, loss) tuples fit the same law as the CSV they were read from."""
    with open(GADRE) as f:
        pts = [(float(r["N"]), float(r["D"]), float(r["loss_c4_val"])) for r in csv.DictReader(f) if r["split"] == "fit"]
    got = scaleplan.fit(pts, form="gadre")
    assert got == cli_json("fit", GADRE, "--loss", "loss_c4_val", "--drop-if", "split=holdout", "--form", "gadre")


TABLE_BAD = [
    (lambda: scaleplan.validate("/nonexistent/runs.csv"), ["validate", "/nonexistent/runs.csv"], scaleplan.FileError),
    (lambda: scaleplan.validate(os.path.join(ROOT, "tests", "validate", "none.csv")),
     ["validate", os.path.join(ROOT, "tests", "validate", "none.csv")], scaleplan.InputError),
    (lambda: scaleplan.fit("/nonexistent.csv"), ["fit", "/nonexistent.csv"], scaleplan.FileError),
    (lambda: scaleplan.fit(CHIN), ["fit", CHIN], scaleplan.InputError),
    (lambda: scaleplan.fit(GADRE, form="hoffmann"), ["fit", GADRE, "--form", "hoffmann"], scaleplan.InputError),
    (lambda: scaleplan.fit(GADRE, loss="loss_c4_val", predict="7B"), ["fit", GADRE, "--loss", "loss_c4_val",
                                                                      "--predict", "7B"], scaleplan.InputError),
]


@pytest.mark.parametrize("fn,args,cls", TABLE_BAD, ids=[c[1][0] + str(i) for i, c in enumerate(TABLE_BAD)])
def test_table_errors_carry_cli_message(fn, args, cls):
    """Rule: a bad file or option raises the error class of its status with the CLI's one line (exit 2)."""
    with pytest.raises(cls) as e:
        fn()
    rc, out, err = cli(*args)
    assert rc == 2 and out == ""
    assert str(e.value) in err, (str(e.value), err)
    assert "\n" not in str(e.value)


def test_inline_rows_errors_name_row_and_column():
    """Rule: a bad cell of an inline row is named rows:N (N from 1) and its column, as a file's FILE:LINE."""
    row = dict(id="MY-1", n_layers="four", system="dgx-h100", n_gpus=8, global_batch=32, measured_step_time_s=1.0)
    with pytest.raises(scaleplan.InputError) as e:
        scaleplan.validate([row])
    assert str(e.value) == "no row could be evaluated (first reason: rows:1: column 'n_layers': 'four' is not an integer)"
    with pytest.raises(scaleplan.InputError) as e:
        scaleplan.fit([(1e8, 2e9, 3.2), (2e8, 4e9, "x")])
    assert str(e.value) == "points:2: column 'loss': 'x' is not a finite number"


def test_error_classes():
    """An unknown preset is bad input: InputError, which is also a ValueError."""
    with pytest.raises(scaleplan.InputError):
        scaleplan.train(model="no-such-model")
    with pytest.raises(ValueError):
        scaleplan.train(model="no-such-model")


def test_threads_identical():
    """Rule: four searches from four Python threads at once equal the same search alone."""
    kw = dict(model="gpt3-175b", system="dgx-a100-80g", gpus=1024, global_batch=1536, top=10)
    alone = scaleplan.search(**kw)
    got = [None] * 4

    def run(i):
        got[i] = scaleplan.search(**kw)

    ts = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for g in got:
        assert stable(g) == stable(alone)


def test_sweep_rows():
    """sweep() runs the product of the list-valued arguments; failing points carry their message."""
    rows = scaleplan.sweep(scaleplan.train, model="llama3-8b", system="dgx-h100", gpus=[8, 16], tp=[1, 3],
                           global_batch=64, seq_len=4096)
    if hasattr(rows, "to_dict"):
        rows = rows.to_dict("records")
    assert len(rows) == 4
    assert sum(1 for r in rows if isinstance(r.get("error"), str)) == 2  # tp 3 does not divide the heads


def test_docs_example_runs():
    """docs/python.md's worked example runs as written (so it never rots)."""
    with open(os.path.join(ROOT, "docs", "python.md")) as f:
        text = f.read()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks
    env = {}
    for b in blocks:
        exec(compile(b, "docs/python.md", "exec"), env)
