# Compares two outputs: the same text around the numbers, every number equal within a relative 1e-10 (10
# significant digits); wall times, plan rates and thread counts are ignored. Exit 1 and one line when they differ.
import re, sys
IGN = re.compile(r'"(wall_time_s|plans_per_s|threads|elapsed_s|wall_s)"\s*:\s*[-0-9.eE+]+')
NUM = re.compile(r'-?\d+\.?\d*(?:[eE][-+]?\d+)?')
def norm(s): return IGN.sub('"IGN":0', s)
def cmp(a, b, tol=1e-10):
    a, b = norm(a), norm(b)
    ta, tb = NUM.split(a), NUM.split(b)
    na, nb = NUM.findall(a), NUM.findall(b)
    if ta != tb or len(na) != len(nb):
        return "text differs"
    worst = 0.0
    for x, y in zip(na, nb):
        fx, fy = float(x), float(y)
        if fx == fy: continue
        d = abs(fx - fy) / max(abs(fx), abs(fy))
        worst = max(worst, d)
    return None if worst <= tol else "numbers differ (worst rel %.3g)" % worst
r = cmp(open(sys.argv[1]).read(), open(sys.argv[2]).read())
if r: print(r); sys.exit(1)
