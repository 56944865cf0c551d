"""Benchmark: calls per second of scaleplan.train(...) from Python against sp_call from C (bench/call.c), i.e.
the package's calling overhead (request to JSON text, the extension call, JSON text to dicts). Run after
`make python`: python3 bench/python_calls.py (docs/performance.md records the result)."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import scaleplan  # noqa: E402

kw = dict(model="gpt3-175b", system="dgx-a100-80g", gpus=1024, tp=8, pp=8, global_batch=1536)
n, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < 1.0:
    scaleplan.train(**kw)
    n += 1
t = time.perf_counter() - t0
print("scaleplan.train from Python: %d calls in %.2f s = %.0f calls/s (%.1f us per call)" % (n, t, n / t, 1e6 * t / n))
