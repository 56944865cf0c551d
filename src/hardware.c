/* Accelerators and systems: peaks, the GEMM efficiency model, memory-bound kernel time (DESIGN.md §3.2-3.3).
 *
 * GEMM model. A GEMM of (m x k)·(k x n), `batch` copies, runs as output tiles spread over the SMs in waves.
 * Achieved fraction of dense peak =
 *     gemm_max                          (large, well-shaped GEMM; per family, see data/accelerators/)
 *   x tile efficiency                   (best of the tile shapes cuBLAS/CUTLASS offer: wave quantization over
 *                                        n_sm SMs and padding of partial tiles, times the tile's own
 *                                        intrinsic efficiency — small tiles reuse less data per FLOP)
 *   x k / (k + k_half)                  (main-loop pipeline fill: short reductions cannot hide prologue and
 *                                        epilogue)
 * and the time is the larger of that compute time and the HBM roofline (operands + result once), plus a
 * per-kernel overhead. Tile shapes and intrinsic efficiencies follow CUTLASS's default SM80/SM90 tile
 * configurations (256x128, 128x128, 128x64, 64x64 threadblock tiles); the relative efficiencies are this
 * project's estimate (documented in docs/model.md) and are common to every family.
 */
#include "scaleplan.h"

#include <math.h>
#include <string.h>
#include <strings.h>

static const char *dtype_names[SP_NDTYPE] = {"fp32", "tf32", "bf16", "fp16", "fp8",
                                             "int8", "int4", "fp4", "mxfp8", "nvfp4"};
/* Bytes per element, scale factors included where the format carries them per block:
 *   mxfp8: 1 B + one 1-byte E8M0 scale per 32 elements (OCP Microscaling Formats (MX) Specification v1.0, 2023,
 *          §5: block size 32, shared 8-bit exponent) = 1.03125;
 *   nvfp4: 0.5 B + one 1-byte E4M3 scale per 16 elements (NVIDIA, "Introducing NVFP4 for Efficient and Accurate
 *          Low-Precision Inference", developer blog 2025-06; NVIDIA "Pretraining Large Language Models with
 *          NVFP4", arXiv 2509.25149 §2) = 0.5625; the per-tensor fp32 scale is negligible;
 *   fp8 (tensor-wise) and fp4 (MXFP4 tensor cores) carry no per-element overhead here; the recipe's scales are
 *          charged on the cast (sp_quant_cast_bytes). */
static const double dtype_bytes[SP_NDTYPE] = {4, 4, 2, 2, 1, 1, 0.5, 0.5, 1.0 + 1.0 / 32, 0.5 + 1.0 / 16};

const char *sp_dtype_name(sp_dtype d) { return (unsigned)d < SP_NDTYPE ? dtype_names[d] : "?"; }
double sp_dtype_bytes(sp_dtype d) { return (unsigned)d < SP_NDTYPE ? dtype_bytes[d] : 2; }

int sp_dtype_is_quantized(sp_dtype d) { return d == SP_FP8 || d == SP_MXFP8 || d == SP_NVFP4 || d == SP_FP4; }

sp_dtype sp_dtype_high(sp_dtype d) { return sp_dtype_is_quantized(d) ? SP_BF16 : d; }

sp_status sp_dtype_parse(const char *s, sp_dtype *out, sp_error *err)
{
    for (int i = 0; i < SP_NDTYPE; i++)
        if (strcasecmp(s, dtype_names[i]) == 0) {
            *out = (sp_dtype)i;
            return SP_OK;
        }
    if (strcasecmp(s, "nf4") == 0) {
        *out = SP_INT4;
        return SP_OK;
    }
    return sp_fail(err, SP_EINVAL,
                   "unknown precision '%s'; allowed fp32, tf32, bf16, fp16, fp8, mxfp8, nvfp4, int8, int4, fp4", s);
}

static const char *recipe_names[SP_FP8_NRECIPE] = {"default", "delayed", "current", "blockwise", "rowwise"};

const char *sp_fp8_recipe_name(sp_fp8_recipe r) { return (unsigned)r < SP_FP8_NRECIPE ? recipe_names[r] : "?"; }

sp_status sp_fp8_recipe_parse(const char *s, sp_fp8_recipe *out, sp_error *err)
{
    for (int i = 0; i < SP_FP8_NRECIPE; i++)
        if (strcasecmp(s, recipe_names[i]) == 0) {
            *out = (sp_fp8_recipe)i;
            return SP_OK;
        }
    if (strcasecmp(s, "tensorwise") == 0) { /* Megatron-Core's name for delayed tensor-wise scaling */
        *out = SP_FP8_DELAYED;
        return SP_OK;
    }
    return sp_fail(err, SP_EINVAL, "unknown fp8 recipe '%s'; allowed delayed (tensorwise), current, blockwise, rowwise", s);
}

/* Cast of a 16-bit tensor to d: read 2 B, write sp_dtype_bytes(d), plus per recipe (fp8 only):
 *   default:   one fp32 scale per 128 elements, the figure the step has always charged (DeepSeek-V3 §3.3.2's 1x128
 *              tiles; tensor-wise scaling costs the same single pass);
 *   delayed:   amax fused into the cast kernel, scale from the history: no extra traffic (Transformer Engine
 *              DelayedScaling);
 *   current:   the amax must be known before casting: one more read of the 2-byte input (Transformer Engine
 *              Float8CurrentScaling);
 *   blockwise: one fp32 scale per 1x128 tile (DeepSeek-V3 §3.3.2; Transformer Engine Float8BlockScaling);
 *   rowwise:   torchao's axiswise dynamic scaling: the row's amax before the cast, as current (one more read of
 *              the 2-byte input; the fp32 scale per row of K >= 1024 elements, <= 0.004 B each, is not charged).
 * MX formats carry their block scales in sp_dtype_bytes; their scales are computed in the same pass. */
double sp_quant_cast_bytes(sp_dtype d, sp_fp8_recipe r)
{
    double b = 2.0 + sp_dtype_bytes(d);
    if (d != SP_FP8)
        return b;
    switch (r) {
    case SP_FP8_DELAYED:
        return b;
    case SP_FP8_CURRENT:
    case SP_FP8_ROWWISE:
        return b + 2.0;
    default: /* default, blockwise */
        return b + 4.0 / 128;
    }
}

/* NVFP4 training (Transformer Engine's NVFP4BlockScaling, the recipe Megatron-Core's --fp4-recipe nvfp4 builds;
 * NVIDIA/TransformerEngine@f031cf87bd (v2.14) transformer_engine/common/recipe/__init__.py:394-475): every GEMM
 * (fprop, dgrad, wgrad) runs in NVFP4; inputs and output gradients are quantized with a 16x16 random Hadamard
 * transform on their column-wise (wgrad) copy, gradients with stochastic rounding, weights with 16x16 2D block
 * scales. Each operand is quantized once into both layouts from its 16-bit tensor (the docstring: "both versions
 * are computed from the high precision input"), the per-tensor fp32 scale needing the amax first:
 * transformer_engine/pytorch/csrc/quantizer.cpp NVFP4Quantizer::quantize_impl (v2.14): one amax kernel
 * (nvte_hadamard_transform_amax for RHT operands, :2297; nvte_compute_amax_with_config for weights, :2317: read 2 B)
 * then one cast writing the row-wise and the column-wise (Hadamard-transformed) copies
 * (nvte_quantize_with_hadamard_transform, :2375; nvte_quantize_v2 for weights, :2398: read 2 B, write 2 x 0.5625 B).
 * 2 + 2 + 2 x 0.5625 = 5.125 B per element, charged once per operand (no backward re-layout: the wgrad copy is
 * made in the same pass). TE v2.12 (NeMo 26.02) ran the row-wise cast and the fused column-wise RHT cast as two
 * kernels (v2.12 quantizer.cpp:1556-1557 nvte_quantize_v2 on the row-wise output, :1632
 * nvte_hadamard_transform_cast_fusion_columnwise), reading each Hadamard operand once more: 7.125 B, priced where
 * the stack's release says so (sp_nvfp4_split_cast_extra_bytes, plan.nvfp4_split); weights have no Hadamard
 * transform and one cast in both releases (v2.12 :1639). */
#define QUANT_AMAX_READ_BYTES 2.0
double sp_nvfp4_dual_cast_bytes(void)
{
    return QUANT_AMAX_READ_BYTES + 2.0 + 2 * sp_dtype_bytes(SP_NVFP4);
}

double sp_nvfp4_split_cast_extra_bytes(void) { return 2.0; /* the 16-bit operand read by the second pass */ }

/* Per-tensor FP8 (delayed or current scaling) on an accelerator whose FP8 GEMMs take any layout (Blackwell): one
 * row-wise copy serves fprop, dgrad and wgrad. Transformer Engine's Float8Quantizer and Float8CurrentScalingQuantizer
 * drop the transposed copy when nvte_is_non_tn_fp8_gemm_supported() (NVIDIA/TransformerEngine@v2.7
 * transformer_engine/pytorch/csrc/quantizer.cpp:124-135 and :188-189, unchanged through v2.14 :252-265; the
 * capability is compute capability 10.x/11.x or >= 13, pytorch/utils.py is_non_tn_fp8_gemm_supported). */
static int fp8_tensorwise_any_layout(int any_layout, sp_dtype d, sp_fp8_recipe r)
{
    return d == SP_FP8 && any_layout && (r == SP_FP8_DELAYED || r == SP_FP8_CURRENT);
}

/* MXFP8 (Transformer Engine's MXFP8BlockScaling): the 1x32 block scales run along the reduction dimension, so an
 * operand that two GEMMs reduce along different dimensions is quantized into a row-wise and a column-wise copy,
 * both quantized independently from the 16-bit data (TransformerEngine@d0067d0da docs/features/low_precision_training/
 * mxfp8/mxfp8.rst:83-91) by one kernel (v2.7 transformer_engine/common/util/cast_kernels.cuh:1050-1056 and :1154-1160,
 * ScalingType::BIDIMENSIONAL: cast_mxfp8_2D_kernel with row- and column-wise scaling): read 2 B, write 1 + 1/32 B
 * per copy, nothing re-laid out in backward. An operand with one consumer (a frozen base) gets its row-wise copy. */
double sp_quant_operand_bytes(int any_layout, sp_dtype d, sp_fp8_recipe r, int wgrad)
{
    (void)any_layout;
    if (d == SP_NVFP4)
        return sp_nvfp4_dual_cast_bytes();
    if (d == SP_MXFP8)
        return 2.0 + (wgrad ? 2.0 : 1.0) * sp_dtype_bytes(SP_MXFP8);
    return sp_quant_cast_bytes(d, r);
}

/* The saved per-tensor FP8 input re-laid out transposed for the weight-gradient GEMM where FP8 GEMMs are TN only
 * (Hopper: read 1, write 1); none where they take any layout, and none for MXFP8/NVFP4 (column-wise copy made in
 * the forward cast). */
double sp_quant_relayout_bytes(int any_layout, sp_dtype d, sp_fp8_recipe r)
{
    if (d == SP_MXFP8 || d == SP_NVFP4 || fp8_tensorwise_any_layout(any_layout, d, r))
        return 0;
    return 2.0;
}

/* One weight cast: read 2 B, write the copies fprop (row-wise) and dgrad (W^T) need: per-tensor FP8 1 + 1 transposed
 * (one copy on any-layout hardware); MXFP8 both block-scaled copies; NVFP4 amax + both copies. */
double sp_quant_weight_bytes(int any_layout, sp_dtype d, sp_fp8_recipe r)
{
    if (d == SP_NVFP4 || d == SP_MXFP8)
        return sp_quant_operand_bytes(any_layout, d, r, 1);
    return fp8_tensorwise_any_layout(any_layout, d, r) ? 3.0 : 4.0;
}

double sp_accel_peak(const sp_accel *a, sp_dtype d)
{
    /* Fall back to a wider type when a dtype has no tensor-core path (e.g. V100 has no bf16/fp8). Plans are
     * checked first (sp_accel_dtype_check): only bf16 <-> fp16 is taken silently; the rest keeps callers that
     * skip the check (serving estimates) from dividing by zero. */
    static const sp_dtype fallback[SP_NDTYPE] = {SP_FP32, SP_FP32, SP_FP16, SP_BF16, SP_BF16,
                                                 SP_BF16, SP_INT8, SP_FP8, SP_FP8, SP_FP4};
    for (int i = 0; i < 5; i++) {
        if (a->peak[d] > 0)
            return a->peak[d];
        d = fallback[d];
    }
    return a->peak[SP_FP32] > 0 ? a->peak[SP_FP32] : 1e12;
}

sp_status sp_accel_dtype_check(const sp_accel *a, sp_dtype d, sp_error *err)
{
    if ((unsigned)d >= SP_NDTYPE)
        return sp_fail(err, SP_EINVAL, "precision %d is not a dtype", (int)d);
    if (a->peak[d] > 0 || (d == SP_BF16 && a->peak[SP_FP16] > 0) || (d == SP_FP16 && a->peak[SP_BF16] > 0))
        return SP_OK;
    char have[160] = "";
    size_t w = 0;
    for (int i = 0; i < SP_NDTYPE && w < sizeof have - 12; i++)
        if (a->peak[i] > 0)
            w += (size_t)snprintf(have + w, sizeof have - w, "%s%s", w ? ", " : "", dtype_names[i]);
    return sp_fail(err, SP_EINVAL, "precision %s: accelerator '%s' has no %s peak; its precisions: %s", dtype_names[d],
                   a->name, dtype_names[d], w ? have : "none");
}

typedef struct {
    double tm, tn, intrinsic;
    int im, in; /* tm, tn as 64 << im, 64 << in */
} tile_cfg;

/* Threadblock tiles (rows x cols of the output) and their efficiency relative to the largest tile. */
static const tile_cfg tiles[] = {
    {256, 128, 1.00, 2, 1}, {128, 256, 1.00, 1, 2}, {128, 128, 0.94, 1, 1}, {128, 64, 0.84, 1, 0}, {64, 64, 0.68, 0, 0}};

/* ceil(x) for 0 <= x; exact (truncation is exact below 2^52), and cheaper than libm's where ceil is not a
 * single instruction (baseline x86-64) */
static inline double ceil_pos(double x)
{
    if (!(x < 4503599627370496.0))
        return ceil(x);
    double i = (double)(long long)x;
    return i < x ? i + 1 : i;
}

static double gemm_eff_curve(const sp_accel *a, double gmax, double k_half, double m, double n, double k,
                             double batch)
{
    if (m <= 0 || n <= 0 || k <= 0 || batch <= 0)
        return gmax;
    double sms = a->n_sm > 0 ? a->n_sm : 108;
    /* tiles along m and n for tile sides 64, 128, 256 (multiplying by a power of two's inverse is exact) */
    double rm[3] = {ceil_pos(m * (1.0 / 64)), ceil_pos(m * (1.0 / 128)), ceil_pos(m * (1.0 / 256))};
    double rn[3] = {ceil_pos(n * (1.0 / 64)), ceil_pos(n * (1.0 / 128)), ceil_pos(n * (1.0 / 256))};
    double best = 0;
    for (size_t i = 0; i < sizeof tiles / sizeof tiles[0]; i++) {
        double tm = tiles[i].tm, tn = tiles[i].tn;
        double rows = rm[tiles[i].im], cols = rn[tiles[i].in];
        double nt = rows * cols * batch;
        double waves = ceil_pos(nt / sms);
        double wave_eff = nt / (waves * sms);
        double pad_eff = (m * n) / (rows * tm * cols * tn);
        double e = tiles[i].intrinsic * wave_eff * pad_eff;
        if (e > best)
            best = e;
    }
    double kh = k_half > 0 ? k_half : 64;
    return gmax * best * (k / (k + kh));
}

double sp_gemm_eff(const sp_accel *a, double m, double n, double k, double batch)
{
    return gemm_eff_curve(a, a->eff.gemm_max, a->eff.gemm_k_half, m, n, k, batch);
}

/* FP8 GEMMs (and the other scaled formats: mxfp8, nvfp4, fp4) have their own curve where the accelerator file gives
 * one (efficiency.fp8_gemm_max/k_half): at twice
 * the BF16 rate the fixed prologue/epilogue and the scaling of partial sums weigh more, so short reductions lose
 * more (data/accelerators/h100-sxm.json cites the measurements). Without those fields FP8 uses the BF16 curve. */
static double gemm_eff_dtype(const sp_accel *a, sp_dtype d, double m, double n, double k, double batch)
{
    /* MXFP8 and NVFP4 where the accelerator file measured them below the per-tensor FP8 curve (b200.json: MXFP8's
     * block-scaled kernels; b300.json: Blackwell Ultra's NVFP4) */
    double rel = d == SP_NVFP4 && a->eff.nvfp4_gemm_rel > 0   ? a->eff.nvfp4_gemm_rel
                 : d == SP_MXFP8 && a->eff.mxfp8_gemm_rel > 0 ? a->eff.mxfp8_gemm_rel
                                                               : 1;
    if (sp_dtype_is_quantized(d) && a->eff.fp8_gemm_max > 0 && a->peak[d] > 0)
        return rel * gemm_eff_curve(a, a->eff.fp8_gemm_max,
                                    a->eff.fp8_gemm_k_half > 0 ? a->eff.fp8_gemm_k_half : a->eff.gemm_k_half, m, n, k,
                                    batch);
    return rel * sp_gemm_eff(a, m, n, k, batch);
}

double sp_gemm_time(const sp_accel *a, sp_dtype d, double m, double n, double k, double batch)
{
    if (m <= 0 || n <= 0 || k <= 0 || batch <= 0)
        return 0;
    double flops = 2.0 * m * n * k * batch;
    double eff = gemm_eff_dtype(a, d, m, n, k, batch);
    double t_c = flops / (sp_accel_peak(a, d) * eff);
    double bytes = sp_dtype_bytes(d) * (m * k + k * n + m * n) * batch;
    double t_m = bytes / (a->hbm_bw * a->eff.mem);
    return (t_c > t_m ? t_c : t_m) + a->eff.kernel_overhead_s;
}

double sp_mem_time(const sp_accel *a, double bytes)
{
    return bytes / (a->hbm_bw * a->eff.mem);
}

void sp_system_defaults(sp_system *s)
{
    if (s->pue <= 0)
        s->pue = 1.0;
    if (s->max_accels < 0)
        s->max_accels = 0;
    /* a tier's eff is never defaulted: 0 is refused by sp_system_check rather than read as 100 % */
}

sp_status sp_system_check(const sp_system *s, const char *where, sp_error *err)
{
    const sp_accel *a = &s->acc;
    if (!(a->hbm_bytes > 0 && isfinite(a->hbm_bytes)))
        return sp_fail(err, SP_EINVAL, "%s: accelerator field 'hbm_bytes' must be > 0", where);
    if (!(a->hbm_bw > 0 && isfinite(a->hbm_bw)))
        return sp_fail(err, SP_EINVAL, "%s: accelerator field 'hbm_bw' must be > 0 (bytes/s)", where);
    int anypeak = 0;
    for (int i = 0; i < SP_NDTYPE; i++) {
        if (!(a->peak[i] >= 0 && isfinite(a->peak[i])))
            return sp_fail(err, SP_EINVAL, "%s: accelerator peak for %s must be >= 0 and finite", where,
                           sp_dtype_name((sp_dtype)i));
        anypeak |= a->peak[i] > 0;
    }
    if (!anypeak)
        return sp_fail(err, SP_EINVAL, "%s: accelerator has no peak FLOP/s for any dtype", where);
    if (!(a->eff.gemm_max > 0 && a->eff.gemm_max <= 1))
        return sp_fail(err, SP_EINVAL, "%s: efficiency 'gemm_max' must be in (0, 1]", where);
    if (!(a->eff.mem > 0 && a->eff.mem <= 1))
        return sp_fail(err, SP_EINVAL, "%s: efficiency 'mem' must be in (0, 1]", where);
    if (s->n_tiers < 1)
        return sp_fail(err, SP_EINVAL, "%s: a system needs at least one network tier", where);
    for (int i = 0; i < s->n_tiers; i++) {
        const sp_tier *t = &s->tier[i];
        if (t->size < 1)
            return sp_fail(err, SP_EINVAL, "%s: tier %d ('%s') field 'size' must be >= 1", where, i, t->name);
        if (i > 0 && t->size < s->tier[i - 1].size)
            return sp_fail(err, SP_EINVAL, "%s: tier %d ('%s') is smaller than the tier inside it", where, i,
                           t->name);
        if (!(t->bw > 0 && isfinite(t->bw)))
            return sp_fail(err, SP_EINVAL, "%s: tier %d ('%s') field 'bw' must be > 0", where, i, t->name);
        if (!(t->latency_s >= 0 && isfinite(t->latency_s)))
            return sp_fail(err, SP_EINVAL, "%s: tier %d ('%s') field 'latency' must be >= 0", where, i, t->name);
        if (!(t->eff > 0 && t->eff <= 1))
            return sp_fail(err, SP_EINVAL, "%s: tier %d ('%s') field 'eff' must be in (0, 1]", where, i,
                           t->name);
        if (!(t->sharp_eff >= 0 && t->sharp_eff <= 1))
            return sp_fail(err, SP_EINVAL, "%s: tier %d ('%s') field 'sharp_eff' must be in [0, 1]", where, i,
                           t->name);
    }
    if (!(s->pue >= 1 && s->pue < 10))
        return sp_fail(err, SP_EINVAL, "%s: field 'pue' = %g; allowed 1..10", where, s->pue);
    return SP_OK;
}
