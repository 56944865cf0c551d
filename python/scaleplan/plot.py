"""Plot helpers for scaleplan results (matplotlib, optional: imported only when a helper is called)."""
from __future__ import annotations

from typing import Any, Mapping, Optional


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover - depends on the machine
        raise ImportError("scaleplan plots need matplotlib (Debian: apt-get install python3-matplotlib)") from e
    return plt


def _parts(result: Mapping[str, Any], key: str, skip=("total", "capacity")) -> Mapping[str, float]:
    d = result.get(key)
    if not isinstance(d, Mapping):
        raise KeyError("result has no '%s' object (is it a train result?)" % key)
    return {k: float(v) for k, v in d.items() if isinstance(v, (int, float)) and k not in skip and v}


def plot_breakdown(result: Mapping[str, Any], ax: Optional[Any] = None, path: Optional[str] = None):
    """Horizontal bar chart of where a training step's time goes (``train(...)["time_breakdown_s"]``)."""
    plt = _pyplot()
    key = "time_breakdown_s" if "time_breakdown_s" in result else "breakdown_s"
    parts = _parts(result, key)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.35 * len(parts) + 1))
    ax.barh(list(parts), list(parts.values()))
    ax.set_xlabel("seconds per step")
    ax.set_title("step time %.3g s" % float(result.get("step_time_s", sum(parts.values()))))
    if path:
        ax.figure.savefig(path, bbox_inches="tight")
    return ax


def plot_memory(result: Mapping[str, Any], ax: Optional[Any] = None, path: Optional[str] = None):
    """Stacked bar of memory per GPU by part against the device's capacity (``train(...)["memory_bytes"]``)."""
    plt = _pyplot()
    key = "memory_bytes" if "memory_bytes" in result else "memory"
    mem = result[key]
    parts = _parts(result, key)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 2))
    left = 0.0
    for name, v in parts.items():
        ax.barh([0], [v / 2**30], left=left, label=name)
        left += v / 2**30
    if "capacity" in mem:
        ax.axvline(float(mem["capacity"]) / 2**30, color="k", linestyle="--", label="capacity")
    ax.set_xlabel("GiB per GPU")
    ax.set_yticks([])
    ax.legend(fontsize="small", ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.4))
    if path:
        ax.figure.savefig(path, bbox_inches="tight")
    return ax
