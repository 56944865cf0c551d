"""The BF16 layers a Megatron-Bridge performance run keeps under its quantized precision, read from a clone of
NVIDIA-NeMo/Megatron-Bridge at the release's tag (shared by tools/bridge_recipe_facts.py and tools/bridge_ultra.py).

Megatron-Core runs a layer's GEMMs unquantized when first_last_layers_bf16 is set and the layer is among the first
num_layers_at_start_in_bf16 or the last num_layers_at_end_in_bf16 (NVIDIA/Megatron-LM@d98e8a64ddf3
megatron/core/fp8_utils.py:711-727, fp4_utils.py:247-263); Megatron-Bridge's MixedPrecisionConfig carries the three
fields (defaults False, 0, 0) into the model config (src/megatron/bridge/training/mixed_precision.py,
update_config_with_precision_overrides). The value is read, not assumed: every line of the release's performance
scripts (scripts/performance, src/megatron/bridge/perf_recipes) that could turn BF16 layers on (a mixed-precision
function call, first_last_layers_bf16 = True, a count > 0) is found with git grep and must be one of
  - the FP8 current-scaling branch of get_precision_config / _perf_precision, which turns them off again on the next
    lines ("Disable BF16 Transformer layers in the performance config");
  - a Nemotron-3 Super NVFP4 setting (set_nemotron_3_super_common_configs, _nemotron_3_super_nvfp4_precision): its
    counts are read from those lines or from the mixed-precision function they call;
  - a GPT-OSS-20B setting (no validation row has that model);
anything else stops the tool with the line it does not know, so a new release that sets BF16 layers elsewhere is not
silently read as none.
"""
import functools
import re
import subprocess

MB = "NVIDIA-NeMo/Megatron-Bridge"
# release -> tag (docs/releases/software-versions.md and the first tag whose docs carry the release's table)
TAGS = {"25.09": "v0.1.0rc3", "25.11": "v0.2.0", "26.02": "v0.3.0", "26.02.01": "v0.3.1", "26.04": "v0.4.0",
        "26.04.01": "v0.4.2", "26.06": "v0.5.0", "26.06.01": "v0.5.1", "26.08": "v0.6.0"}
PERF = ["scripts/performance", "src/megatron/bridge/perf_recipes"]
MP = "src/megatron/bridge/training/mixed_precision.py"
SETTER = (r"first_last_layers_bf16 *= *True|num_layers_at_(start|end)_in_bf16 *= *[1-9]|"
          r"[a-z0-9_]*bf16_with_fp8_current_scaling_mixed\(\)|nemotron_3_super_bf16_with_nvfp4_mixed\(\)")
COUNT = re.compile(r"num_layers_at_(start|end)_in_bf16 *= *([0-9]+)")


@functools.lru_cache(maxsize=None)
def git(repo, *args):
    return subprocess.run(["git", "-C", repo] + list(args), capture_output=True, text=True).stdout


def short(repo, ref):
    return git(repo, "rev-parse", "--short=12", ref + "^{commit}").strip()


def enclosing_def(lines, i):
    """(name, first line index) of the function holding line i"""
    for j in range(i, -1, -1):
        m = re.match(r"\s*def ([A-Za-z0-9_]+)", lines[j])
        if m:
            return m.group(1), j
    return "", 0


def def_body(lines, j):
    """the lines of the function starting at index j (until the next line at its indentation or less)"""
    ind = len(lines[j]) - len(lines[j].lstrip())
    k = j + 1
    while k < len(lines) and (not lines[k].strip() or len(lines[k]) - len(lines[k].lstrip()) > ind):
        k += 1
    while k > j + 1 and not lines[k - 1].strip():
        k -= 1
    return k


def dataclass_default(repo, ref, field):
    m = re.search(r"^\s*%s: int = ([0-9]+)" % field, git(repo, "show", ref + ":" + MP), re.M)
    if not m:
        raise SystemExit("bridge_precision.py: %s:%s has no default of %s" % (ref, MP, field))
    return int(m.group(1))


def counts(repo, ref, text_lines, lo, hi, where):
    """(start, end, citation) set by lines [lo, hi) of a file: their own counts, or those of the mixed-precision
    function they call (the dataclass defaults for what neither sets)"""
    got = {}
    for k in range(lo, hi):
        m = COUNT.search(text_lines[k])
        if m:
            got[m.group(1)] = int(m.group(2))
        call = re.search(r"(nemotron_3_super_bf16_with_nvfp4_mixed)\(\)", text_lines[k])
        if call:
            mp = git(repo, "show", ref + ":" + MP).splitlines()
            j = [i for i, s in enumerate(mp) if re.match(r"def %s\(" % call.group(1), s)][0]
            e = def_body(mp, j)
            s, en, _ = counts(repo, ref, mp, j + 1, e, "")
            got.setdefault("start", s)
            got.setdefault("end", en)
            where += " -> %s:%d-%d %s" % (MP, j + 1, e, call.group(1))
    start = got.get("start", dataclass_default(repo, ref, "num_layers_at_start_in_bf16"))
    end = got.get("end", dataclass_default(repo, ref, "num_layers_at_end_in_bf16"))
    return start, end, where


@functools.lru_cache(maxsize=None)
def hits(repo, ref):
    """every line of the release's performance scripts that could set BF16 layers, checked against the known ones:
    [(kind, path, line index, lines of the file)]"""
    out = []
    for h in git(repo, "grep", "-n", "-E", SETTER, ref, "--", *PERF).splitlines():
        _, path, ln, text = h.split(":", 3)
        if re.match(r"\s*(from|import) ", text):
            continue
        lines = git(repo, "show", ref + ":" + path).splitlines()
        i = int(ln) - 1
        name, _ = enclosing_def(lines, i)
        if name in ("get_precision_config", "_perf_precision") and "current_scaling_mixed()" in text:
            if not any("first_last_layers_bf16 = False" in s for s in lines[i + 1:i + 4]):
                raise SystemExit("bridge_precision.py: %s:%s:%s: FP8 current scaling keeps its BF16 layers" %
                                 (ref, path, ln))
            continue
        if "nemotron_3_super" in name:
            out.append(("super", path, i, lines))
        elif "gpt_oss_20b" in name:
            continue  # GPT-OSS-20B: no validation row of this model
        else:
            raise SystemExit("bridge_precision.py: %s:%s:%s: unknown BF16-layer setting in %s: %s" %
                             (ref, path, ln, name or "module scope", text.strip()))
    return out


def bf16_layers(repo, rel, model, precision):
    """('START,END' or '', citation) for a row of the release's table"""
    if rel not in TAGS:
        raise SystemExit("bridge_precision.py: release %s has no tag" % rel)
    ref = TAGS[rel]
    found = hits(repo, ref)
    if not (model.startswith("Nemotron-3-Super") and precision == "nvfp4"):
        return "", ""
    for _, path, i, lines in found:
        name, j = enclosing_def(lines, i)
        body = lines[j:def_body(lines, j)]
        if "nvfp4" not in name and not any('== "nvfp4"' in s for s in body):
            continue
        s, e, where = counts(repo, ref, lines, i, min(i + 3, def_body(lines, j)),
                             "%s@%s:%s:%d %s" % (MB, short(repo, ref), path, i + 1, name))
        return ("%d,%d" % (s, e) if s or e else ""), where
    return "", ""
