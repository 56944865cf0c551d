"""scaleplan: plan frontier-scale AI training and serving from first principles.

Every function here runs one scaleplan command inside the C library (libscaleplan, compiled into the extension
module ``scaleplan._scaleplan``) and returns the same JSON object the command-line tool prints for ``--json``,
as Python dicts and lists: one source of truth, no model code in Python.

Arguments are the command-line options with ``-`` written as ``_``: ``train(model="llama3-70b",
system="dgx-h100", gpus=512, tp=8, pp=4, global_batch=1024, seq_len=8192, sp=True, tokens="15T")``. Values
may carry units as strings (``"15T"``, ``"80GiB"``, ``"90d"``). A model or a system is a preset name, a path
to a JSON file (a Hugging Face ``config.json`` works for models), or a dict with that file's content.

Errors raise :class:`Error` subclasses carrying the one-line message the command-line tool prints.
The GIL is released while the library computes; calls from several threads run concurrently.
"""
from __future__ import annotations

import itertools
import json
import os
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Union

from . import _scaleplan

__all__ = [
    "Error", "InputError", "FileError", "ParseError", "InfeasibleError", "ConvergenceError",
    "call", "train", "search", "infer", "serve", "law", "fit", "limits", "validate", "presets", "model",
    "forecast", "finetune", "sweep", "data_dir", "version",
]

__version__ = _scaleplan.version()


class Error(Exception):
    """A scaleplan command failed; ``str(e)`` is the one-line message the CLI prints, ``e.status`` its code."""

    status = 1

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


class InputError(Error, ValueError):
    """Bad input: a value out of range, an unknown name, a plan that does not factor (exit code 2 in the CLI)."""


class FileError(Error, OSError):
    """A file could not be read."""


class ParseError(Error, ValueError):
    """Malformed JSON or CSV input."""


class InfeasibleError(Error):
    """A well-formed request with no feasible answer (for example nothing fits in memory)."""


class ConvergenceError(Error):
    """A numerical method did not converge."""


# sp_status codes (include/scaleplan.h) -> exception classes
_ERRORS = {2: InputError, 3: FileError, 4: ParseError, 5: Error, 6: InfeasibleError, 7: ConvergenceError}

def _find_data() -> str:
    """SCALEPLAN_DATA if set; the installed package's copy of data/; in a source tree (make python builds the
    extension in place), the repository's data/."""
    if os.environ.get("SCALEPLAN_DATA"):
        return os.environ["SCALEPLAN_DATA"]
    here = os.path.dirname(os.path.abspath(__file__))
    packaged = os.path.join(here, "data")
    return packaged if os.path.isdir(packaged) else os.path.join(os.path.dirname(os.path.dirname(here)), "data")


_DATA_DIR = _find_data()


def data_dir() -> str:
    """The folder of presets the library reads (the package's copy of the repository's data/)."""
    return _DATA_DIR


def version() -> str:
    """The library's version."""
    return __version__


def _jsonable(v: Any) -> Any:
    if hasattr(v, "item") and callable(v.item):  # numpy scalars
        return v.item()
    if isinstance(v, os.PathLike):
        return os.fspath(v)
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    return v


def call(command: str, **options: Any) -> Any:
    """Runs ``scaleplan COMMAND`` with the given options and returns its JSON result as Python objects.

    ``call("train", model="gpt3-175b", gpus=1024)`` is ``scaleplan train --model gpt3-175b --gpus 1024 --json``.
    Options whose value is None are left out (the command's default applies).
    """
    req = {k: _jsonable(v) for k, v in options.items() if v is not None}
    status, text = _scaleplan.call(_DATA_DIR, command, json.dumps(req, allow_nan=False))
    if status != 0:
        raise _ERRORS.get(status, Error)(text, status)
    return json.loads(text)


def train(model: Any = None, system: Any = None, gpus: Optional[int] = None, **plan: Any) -> Dict[str, Any]:
    """Step time, MFU, memory, time breakdown, days, energy and cost of one model + cluster + parallel plan.

    Plan knobs are ``train``'s options: tp, pp, dp, cp, ep, vpp, micro_batch, global_batch, seq_len,
    recompute, sp, zero, dtype, tokens, ...
    """
    return call("train", model=model, system=system, gpus=gpus, **plan)


def search(model: Any = None, system: Any = None, gpus: Optional[int] = None, **options: Any) -> List[Dict[str, Any]]:
    """The best parallel plans, best first (each a dict like ``train``'s result plus its plan)."""
    r = call("search", model=model, system=system, gpus=gpus, **options)
    if isinstance(r, dict):
        for key in ("plans", "top"):
            if isinstance(r.get(key), list):
                return r[key]
    return r


def infer(model: Any = None, system: Any = None, **options: Any) -> Dict[str, Any]:
    """Serving one batch: memory, TTFT, time per output token, throughput, $/M tokens, J/token.

    fit_hardware=True, latency_ms=X: the cheapest candidate system, TP and weight precision meeting X ms per
    output token; coe="experts.json": a composition of experts on the system's memory tiers (docs/api.md)."""
    return call("infer", model=model, system=system, **options)


def serve(model: Any = None, system: Any = None, **options: Any) -> Dict[str, Any]:
    """Request-level serving simulation at SLOs: throughput, goodput, TTFT/TPOT/E2E percentiles, cost."""
    return call("serve", model=model, system=system, **options)


def law(**options: Any) -> Dict[str, Any]:
    """Scaling laws: loss L(N, D), compute-optimal N and D for a budget, smallest model for a loss, ..."""
    return call("law", **options)


def _no_nan(row: Mapping) -> Dict[str, Any]:
    """A row for the request: NaN (pandas' empty cell) becomes None (an empty cell)."""
    return {str(k): (None if isinstance(v, float) and v != v else v) for k, v in row.items()}


def fit(points: Any, **options: Any) -> Dict[str, Any]:
    """Fits a scaling law to your runs (``scaleplan fit``) and returns its JSON result as a dict.

    ``points`` is a CSV path, or the points themselves: dicts (or a DataFrame) with the columns N, D and loss
    (or the names given as ``n=``, ``d=``, ``loss=``), or ``(N, D, loss[, weight])`` tuples. Options are fit's:
    ``form`` (chinchilla | gadre | kaplan | auto), ``select``, ``drop_if="COLUMN=VALUE"``, ``bootstrap``,
    ``seed``, ``predict`` (``"70B,1.4T"``, a list of such strings or of ``(N, D)`` pairs), ``predict_csv``, ...
    """
    pred = options.get("predict")
    if isinstance(pred, tuple) and len(pred) == 2 and not isinstance(pred[0], (str, tuple, list)):
        options["predict"] = [pred]  # one (N, D) pair
    if isinstance(points, (str, os.PathLike)):
        return call("fit", file=os.fspath(points), **options)
    if hasattr(points, "to_dict"):  # pandas DataFrame
        points = points.to_dict("records")
    cols = [options.get("n") or "N", options.get("d") or "D", options.get("loss") or "loss",
            options.get("weight") or "weight"]
    rows = []
    for p in points:
        if isinstance(p, Mapping):
            rows.append(_no_nan(p))
            continue
        p = list(p)
        if len(p) > 3:
            options.setdefault("weight", cols[3])
        rows.append(dict(zip(cols, p)))
    return call("fit", points=rows, **options)


def limits(**options: Any) -> Dict[str, Any]:
    """Where data movement and latency end scaling: ``scaleplan limits --json`` as a dict (docs/limits.md).

    ``mode="epoch2024"`` reproduces Erdil & Schneider-Joseph (2024); the default ``"full"`` asks scaleplan's
    training model. Options as the CLI's: ``gpu="h100"`` or ``compare="h100,a100+moe+ll"`` (or ``"paper"``),
    ``duration="3mo"``, ``to=1e30`` (the lower bound as ``**{"from": 1e26}``: ``from`` is a Python keyword), ``moe=True``,
    ``batch_rule="kaplan"``, ``latency_scale=0.1``, ``bandwidth_scale="inf"``, ``flat_network=True``."""
    return call("limits", **options)


def validate(path_or_rows: Any, **options: Any) -> Dict[str, Any]:
    """Predicted vs measured step time of measured training runs (``scaleplan validate``), as a dict.

    ``path_or_rows`` is a CSV path or a list of paths (the columns of data/validation/training_runs.csv), or the
    runs themselves: a list of dicts or a DataFrame with those columns. A relative ``system`` or
    ``model_config`` path in such a row resolves against the working directory (in a file: against the file's
    folder). ``infer=True``: rows of inference_measured.csv, the serving model.
    """
    if isinstance(path_or_rows, (str, os.PathLike)):
        return call("validate", paths=[os.fspath(path_or_rows)], **options)
    if hasattr(path_or_rows, "to_dict"):  # pandas DataFrame
        path_or_rows = path_or_rows.to_dict("records")
    items = list(path_or_rows)
    if items and all(isinstance(x, (str, os.PathLike)) for x in items):
        return call("validate", paths=[os.fspath(x) for x in items], **options)
    return call("validate", rows=[_no_nan(r) if isinstance(r, Mapping) else r for r in items], **options)


def presets() -> Dict[str, Any]:
    """The shipped model, system and accelerator presets."""
    return call("presets")


def model(model: Any) -> Dict[str, Any]:
    """What scaleplan understood of a model: layer kinds, parameters by component, FLOPs and KV bytes per token."""
    return call("model", model=model)


def forecast(**options: Any) -> Dict[str, Any]:
    """The year each wall (data movement, latency, power, chips, data, cost) binds, and the largest run per year."""
    return call("forecast", **options)


def finetune(model: Any = None, system: Any = None, **options: Any) -> Dict[str, Any]:
    """Full, LoRA or QLoRA fine-tuning: trainable parameters, memory, time."""
    return call("finetune", model=model, system=system, **options)


def sweep(fn: Callable[..., Any], **axes: Any) -> Any:
    """Runs ``fn`` (e.g. :func:`train`) over the product of the list-valued keyword arguments.

    ``sweep(train, model="llama3-70b", system="dgx-h100", gpus=[256, 512], tp=[4, 8], global_batch=1024)``
    returns a pandas DataFrame (one row per point: the axes, then the result's scalar fields, nested keys
    joined by '.') when pandas is installed, else a list of dicts. A point that fails gets its message in the
    column ``error``.
    """
    names = [k for k, v in axes.items() if isinstance(v, (list, tuple, range))]
    fixed = {k: v for k, v in axes.items() if k not in names}
    rows = []
    for values in itertools.product(*(list(axes[k]) for k in names)):
        point = dict(zip(names, values))
        row: Dict[str, Any] = dict(point)
        try:
            res = fn(**fixed, **point)
            if isinstance(res, list):
                res = res[0] if res else {}
            row.update(_flatten(res))
        except Error as e:
            row["error"] = str(e)
        rows.append(row)
    try:
        import pandas  # optional
    except ImportError:
        return rows
    return pandas.DataFrame(rows)


def _flatten(obj: Any, prefix: str = "") -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            key = prefix + str(k)
            if isinstance(v, Mapping):
                out.update(_flatten(v, key + "."))
            elif not isinstance(v, list):
                out[key] = v
    return out


from .plot import plot_breakdown, plot_memory  # noqa: E402  (matplotlib is imported only when called)

__all__ += ["plot_breakdown", "plot_memory"]
