/* Layer ops: the builders (one per layer kind) and the pricer (ops.h, DESIGN.md §3.3-3.5, docs/model.md "Layer ops").
 *
 * Per layer and micro-batch (T = b·s/cp tokens on this GPU, TP degree t):
 *   GEMMs     QKV (T x h)·(h x (qd+2kvd)/t), output projection, MLP up (x2 when gated) and down; backward =
 *             data-gradient + weight-gradient GEMM of each, shapes transposed accordingly.
 *   attention standard (fused softmax, Megatron 2020-22): two batched GEMMs + softmax/dropout traffic over
 *             b·(a/t)·(s/cp)·s scores; flash attention: the causal half of 4·s·a·d_head FLOPs per token at the
 *             family's attention efficiency (scaled to the op's head dims by the exponent-unit roofline,
 *             attn_exp_scale), backward 2.5x forward (it recomputes the scores).
 *   memory    norms, residual adds, dropout, activation function, rotary/bias: bytes below / HBM bandwidth.
 *   TP comm   2 all-reduces (or all-gather + reduce-scatter with SP) of T·h 16-bit values forward, 2 backward.
 *   saved     the activations each op keeps for the backward pass (Korthikanti et al. 2022 §4, "Reducing Activation
 *             Recomputation", generalised to GQA, gated MLPs, MoE and recurrent mixers by counting the same
 *             tensors): a GEMM keeps its input (replicated over TP unless SP: the block inputs; sharded: the
 *             attention/MLP inner inputs), at 1 byte when the GEMMs run in FP8 (the cast the forward GEMM used:
 *             Transformer Engine saves it for the weight gradient, DeepSeek-V3 §3.3.4); the attention core keeps
 *             Q, K, V (16-bit) and, without flash, the s² scores (softmax output, dropout mask and output), which
 *             selective recompute drops; the elementwise kernels keep the norm inputs, dropout masks (1 byte) and
 *             the activation function's input; under full recompute a layer keeps only its input (the checkpoint).
 *             Recurrent mixers keep what their fused kernels save and an fp32 state per chunk.
 * Uses plan arithmetic (plan.c), the hardware curves and the collectives; never allocates.
 */
#include "ops.h"
#include "plan.h"

#include <stdint.h>
#include <math.h>
#include <string.h>

/* Bytes of an activation element: bf16/fp16 (FP8 GEMM inputs are cast per GEMM: the FP8 cast op). */
#define ACT_BYTES 2.0
/* fp32 bytes (logits for the loss, scales) */
#define FP32_BYTES 4.0
/* Share of the layer's GEMM time that hides TP communication when the stack overlaps it (Megatron-Core
 * tp_comm_overlap, Transformer Engine userbuffers): the collective is split into chunks pipelined with the GEMM
 * that consumes or produces it, and the first/last chunk and the SM share the communication kernels take do not
 * hide. 70 % is the fraction assumed in docs/model.md "One step"; a modelling constant, not fitted per row. */
#define TP_OVERLAP_SHARE 0.7
/* Flash attention with a causal mask skips the blocks above the diagonal: half of the s x s scores (Dao 2023,
 * FlashAttention-2 §3.1.1). */
#define FLASH_CAUSAL_SHARE 0.5
/* Query tile of the fused attention kernels: a query block of this many rows visits whole key blocks
 * (FlashAttention-2 forward kBlockM 128 for head dims <= 128, csrc/flash_attn/src/flash_fwd_launch_template.h;
 * FlashAttention-3 and cuDNN's SDPA use 128-row query tiles too). */
#define FLASH_TILE_Q 128.0
/* FP8 attention (plan.fp8_attention, Megatron-Bridge's fp8_dot_product_attention) under an MXFP8 recipe: Transformer
 * Engine runs cuDNN's MXFP8 FusedAttention on SM 10.x with cuDNN >= 9.21 (the 26.06+ containers ship 9.21), sliding
 * windows and softmax sinks included (NVIDIA/TransformerEngine@42b840051647 = v2.15 transformer_engine/pytorch/
 * attention/dot_product_attention/utils.py:590-602, :891-907, :1108-1117). Its rate against cuDNN's BF16 kernel on
 * the same shapes, measured by cuDNN's own benchmark on GB200 (NVIDIA/cudnn-frontend@3929da2e benchmark/
 * sdpa_benchmark_training/results, cuDNN 9.22, batch 2, causal top-left, 4096 tokens; taken for an accelerator that
 * states no ratios of its own, efficiency.mxfp8_attn, as data/accelerators/b200.json attn_kernels are), times the
 * family's BF16 rate:
 *   heads of 128 (llama3.1/gb200/llama3.1_20260424_100750.csv, 64 query / 8 KV heads): forward 1685 / 1408 TFLOP/s
 *   = 1.20, backward 1054 / 1148 = 0.92 (2k .. 32k tokens: forward 1.17 .. 1.26, backward 0.84 .. 1.16);
 *   MLA's 192 / 128 (dsv3/gb200/dsv3_20260424_101009.csv): forward 1925 / 1406 = 1.37, backward 1364 / 1057 = 1.29;
 *   a 128-token sliding band, heads of 64 (gpt_oss/gb200/gpt_oss_20260424_100011.csv): forward 161 / 161 = 1.00,
 *   backward 41 / 182 at 4096 tokens and falling as 1 / s (the ratio x s = 756, 923, 1008, 1046, 1057 tokens at
 *   2k .. 32k): the FP8 band backward's time grows with the square of the sequence, as a backward that visits every
 *   causal key block would, so its ratio is MXFP8_BAND_BWD_TOKENS / s (the 4096-token point). */
#define MXFP8_ATTN_FWD 1.20
#define MXFP8_ATTN_BWD 0.92
#define MXFP8_ATTN_MLA_FWD 1.37
#define MXFP8_ATTN_MLA_BWD 1.29
#define MXFP8_BAND_FWD 1.00
#define MXFP8_BAND_BWD_TOKENS 923.0
/* Flash attention's backward runs five s x s GEMMs (recomputed scores, dV, dP, dQ, dK) against the forward's two:
 * 2.5x the forward (Dao 2023, FlashAttention-2 §2.3.2). */
#define FLASH_BWD_RATIO 2.5
/* Kernel launches of a layer's memory-bound work. Elementwise, forward: two norms, two residual/dropout adds,
 * the activation function, rotary on Q and K and the bias/scale epilogue (8); backward: the same eight plus the
 * two norm-weight gradient reductions (10). Softmax (standard attention): scale-mask-softmax and dropout (2). */
#define ELEMENTWISE_KERNELS_FWD 8
#define ELEMENTWISE_KERNELS_BWD 10
#define SOFTMAX_KERNELS 2
/* FP8 casts (amax, scale, cast fused per tensor): forward one per GEMM input of the layer's four GEMM groups and
 * the weight cast (5); backward one per output gradient, the transposed re-layouts of the saved inputs (8). */
#define FP8_CAST_KERNELS_FWD 5
#define FP8_CAST_KERNELS_BWD 8
/* The MXFP8 LM head's quantizations (fp8_output_proj, sp_ops_lm_head): one cast kernel of its input forward, one of
 * its logits' gradient backward: TE quantizes each once per call into both layouts
 * (NVIDIA/TransformerEngine@d0067d0da6cb:transformer_engine/pytorch/module/linear.py:386-398 input_quantizer with
 * rowwise and columnwise usage; common/cast/mxfp8/quantize_mxfp8.cuh:803 one kernel writing the rowwise and
 * columnwise outputs); the weight's once-per-step cast is not counted as a kernel */
#define LM_HEAD_CAST_KERNELS_FWD 1
#define LM_HEAD_CAST_KERNELS_BWD 1
/* torchao's rowwise recipe (Float8LinearConfig.from_recipe_name("rowwise"): axiswise dynamic scaling of input,
 * weight and output gradient) casts every operand from its 16-bit tensor once per GEMM that reads it, the scale
 * running along that GEMM's reduction dimension (pytorch/ao@024fe94fd86a torchao/float8/float8_linear.py
 * manual_float8_matmul_with_args_in_hp: forward input along -1 and weight along 0 from input_hp / weight_hp_t,
 * saved in 16 bits; backward the output gradient along -1 and the weight again along -1 for grad_input, the output
 * gradient along 0 and input_hp along 0 for grad_weight): six casts, none re-laid out. The two backward GEMMs run
 * slow accumulation (Float8LinearConfig gemm_config_grad_input / _grad_weight: use_fast_accum False), for which
 * torchao calls the tensor-wise cuBLAS kernel with unit scales and rescales the 16-bit output by the row and column
 * scales afterwards, "the rowwise CUTLASS-based kernel is so slow without fast-accum" (pytorch/ao#1325, 2024-12;
 * torchao/float8/float8_ops.py addmm_float8_unwrapped post_inverse_scale; still so in 2025-05, pytorch/ao#2184: an
 * extra Triton kernel per GEMM under torch.compile): read 2 + write 2 B per element of grad_input (the input's
 * shape) and of grad_weight (the weight's). Forward kernels: the input and weight casts of the four GEMM groups
 * (8); backward: two output-gradient casts, the weight and input casts and the two rescales per group (24). */
#define FP8_ROWWISE_RESCALE_BYTES 4.0
#define FP8_ROWWISE_KERNELS_FWD 8
#define FP8_ROWWISE_KERNELS_BWD 24
/* QLoRA dequantization: one kernel per quantized weight matrix of the layer (Q, K, V, O, up, gate, down = 7). */
#define DEQUANT_KERNELS 7
/* Embedding: lookup (read) 1 pass over T·h activations; its dropout (read, write) 2 more, each pass a kernel. */
#define EMBEDDING_PASSES 1.0
#define EMBEDDING_DROPOUT_PASSES 2.0
/* MoE router, aux loss and dispatcher preprocessing as Megatron-Core runs them unfused (moe_router_fusion and
 * moe_permute_fusion default False, NVIDIA/Megatron-LM@d98e8a64ddf3:megatron/core/transformer/transformer_config.py:
 * 941-944), counted from the code (same commit, megatron/core/transformer/moe/):
 *   router  moe_utils.py:766-940 topk_routing_with_score_function, softmax/sigmoid path: the logits' fp32 cast, the
 *           score function, top-k, the probabilities' cast, and the sparse probs and routing map (zeros + scatter
 *           each): 8 kernels forward; backward the scatter's gather, the score function's and the casts' gradients: 4;
 *           each over the T x E fp32 scores (read + write);
 *   aux     router.py:804-806 and :410-440 with moe_utils.py:63 switch_load_balancing_loss_func: the aux-loss scores
 *           (score function, top-k, scatter: 3), tokens per expert (sum) all-reduced over TP x CP, the loss (sum,
 *           multiply, sum, scale) and its autograd scaler (1): 9 kernels and 1 all-reduce forward, 4 kernels
 *           backward; Megatron computes it whenever an aux-loss coefficient is set (router.py:403-408), which the
 *           MoE recipes do: counted for every MoE layer (an assumption for aux-loss-free models);
 *   preprocess  token_dispatcher.py:540-621 (alltoall): the tokens per expert (sum), the input splits (reshape +
 *           sum), the all-gather of the counts over TP x EP, the local slice, per-rank and per-TP sums (5 kernels),
 *           then five device-to-host copies and an event (token_dispatcher.py:921-960): 12 host operations, no
 *           backward. */
#define ROUTER_KERNELS_FWD 8
#define ROUTER_KERNELS_BWD 4
#define AUX_KERNELS_FWD 9
#define AUX_KERNELS_BWD 4
#define PREPROCESS_KERNELS 12
/* The same router and aux loss under moe_router_fusion (plan.moe_router_fusion; the Megatron-Bridge performance
 * scripts set it for DeepSeek-V3, Qwen3, GPT-OSS and Kimi-K2: v0.4.0 scripts/performance/configs/deepseek/
 * deepseek_llm_pretrain.py:38, configs/qwen/qwen3_llm_pretrain.py:36): Megatron-Core calls Transformer Engine's
 * fused kernels (NVIDIA/Megatron-LM@d98e8a64ddf3:megatron/core/transformer/moe/moe_utils.py:137, :838, :992), each one
 * kernel per pass over the T x E scores (NVIDIA/TransformerEngine@d0067d0da transformer_engine/pytorch/router.py):
 *   router  fused_topk_with_score_function: forward reads the logits and writes the probabilities, the routing map
 *           (1 B per score: 1/4 of an fp32 pass) and the intermediate it saves (router.py:127-144): 3.25 passes, 1
 *           kernel; backward reads the probabilities' gradient, the map and the intermediate and writes the logits'
 *           gradient (:160): 3.25 passes, 1 kernel;
 *   aux     fused_compute_score_for_moe_aux_loss (read, write scores, map, intermediate: 3.25; :367-373), the tokens
 *           per expert (the map's column sums: 0.25) and fused_moe_aux_loss (reads the scores: 1; :451-472): 4.5
 *           passes, 3 kernels; backward the loss's gradient to the scores (write 1; :481) and the score function's
 *           (read the gradient and the intermediate, write: 3; :390): 4 passes, 2 kernels. */
#define ROUTER_FUSED_PASSES 3.25
#define AUX_FUSED_PASSES_FWD 4.5
#define AUX_FUSED_PASSES_BWD 4.0
#define AUX_FUSED_KERNELS_FWD 3
#define AUX_FUSED_KERNELS_BWD 2
/* Host dispatch (docs/model.md "Host dispatch"): the CPU time of one eager kernel from the training framework,
 * NVIDIA/TransformerEngine#2053 (2025-08-11): one torch.nn.Linear forward (one GEMM kernel) costs 13.48 us of CPU
 * on a DGX H100's Xeon Platinum 8480C (a system's host_kernel overrides it: 37.08 us on Grace), and one Transformer
 * Engine Linear forward 99.66 us against torch's 37.08 us on the same GB200 host: a TE module call (GEMMs, the
 * attention kernel) costs 99.66 / 37.08 = 2.69 eager kernels of host time. */
#define HOST_KERNEL_X86_S 13.48e-6
#define TE_MODULE_KERNELS (99.66 / 37.08)
/* A grouped expert GEMM's host work per local expert, beyond its module call: Transformer Engine's GroupedLinear as
 * Megatron-Core's TEGroupedMLP runs it, counted from the code (NVIDIA/TransformerEngine@70f536662ae1 = v2.9,
 * transformer_engine/pytorch/; NVIDIA/Megatron-LM@d98e8a64ddf3), each operation priced as one eager kernel:
 *   forward   one cuBLASLt GEMM per expert (csrc/extensions/gemm.cpp te_general_grouped_gemm's loop over the
 *             experts, common/gemm/cublaslt_gemm.cu:941-963); quantized: one weight-workspace call per expert
 *             (module/grouped_linear.py:137-145; the cached FP8 weight after the first micro-batch, Megatron passing
 *             is_first_microbatch: megatron/core/extensions/transformer_engine.py:2721-2728) and the input's split
 *             quantization (grouped_linear.py:127);
 *   backward  the data- and weight-gradient GEMMs per expert (grouped_linear.py:363, :432), the placeholder weight
 *             gradient allocated per expert for Megatron's fused accumulation (grouped_linear.py:442-463
 *             torch.empty), Megatron's DDP hook per expert weight (megatron/core/distributed/
 *             distributed_data_parallel.py:553-584); quantized: the output gradient's split quantization
 *             (grouped_linear.py:316-327).
 * A split quantization is one fused kernel for all experts under delayed scaling, else one quantizer per expert
 * (csrc/extensions/cast.cpp:133-148): MXFP8 and blockwise one kernel, current scaling three (amax, scale, cast:
 * csrc/quantizer.cpp:497-535), NVFP4 three (amax, row-wise cast, the Hadamard-transformed column-wise cast:
 * quantizer.cpp:1438-1590). */
#define GROUPED_HOST_FWD 1
#define GROUPED_HOST_FWD_QUANTIZED 1
#define GROUPED_HOST_BWD 4
/* Expert output biases (models whose experts carry biases: GPT-OSS, HF mlp_bias). Transformer Engine's GroupedLinear
 * adds the first GEMM's bias in the cuBLASLt epilogue, but Megatron-Core's TEGroupedMLP asks the second for its bias
 * apart (skip_bias_add) and adds it weighted by each copy's routing probability in an eager loop over the local
 * experts: `torch.cat([t + b * p for t, b, p in zip(split(out), biases, split(probs))]).to(dtype)`
 * (NVIDIA/Megatron-LM@a329dd6da5 "Enable bias in expert mlp [gpt-oss 5/5]", 2025-09-22, megatron/core/transformer/
 * moe/experts.py TEGroupedMLP._apply_bias; the same eager path at @d98e8a64ddf3, experts.py:345-380, used whenever the
 * token counts are a host list: never under a full-iteration graph, which the code says it must not enter).
 * Per element of the routed output (rows x width), with P the probabilities' bytes: forward b*p writes P, the add reads
 * 2 + P and writes P (bf16 + P promotes to P), cat reads and writes P, and with P = 4 the cast to bf16 reads 4 and
 * writes 2; backward (autograd) the two broadcast products' gradients each multiply (read P, write P) and reduce
 * (read P): grad b over the rows, grad p over the width; the split's backward concatenates the pieces' gradients
 * (read 2, write 2); with P = 4 the cast's backward (read 2, write 4) and the add's gradient cast back to bf16 for t
 * (read 4, write 2). 16-bit probabilities (P = 2): 12 B forward, 16 B backward; fp32 (P = 4): 28 and 40. Kernels:
 * forward 2 per expert (mul, add) + cat (+ the cast); backward 4 per expert (2 mul, 2 reductions) + 2 casts per expert
 * with fp32 probabilities (t's gradient, b's gradient to the bf16 parameter) + the splits' backward for out and probs
 * (+ the cast's backward). P: the flex dispatchers hand fp32 probabilities to the experts (DeepEP and HybridEP
 * convert them: token_dispatcher.py:1136-1140, 1313-1317 `.float()` at @d98e8a64ddf3); the all-to-all and all-gather
 * dispatchers keep the router's dtype, by default the activations' (transformer_config.py:811 moe_router_dtype =
 * None; the GPT-OSS bridge and performance recipes do not set it: NVIDIA-NeMo/Megatron-Bridge@5cb3444c43f7
 * src/megatron/bridge/models/gpt_oss/gpt_oss_bridge.py:56-100, recipes/gpt_oss/gpt_oss.py). Not counted: the DDP hooks
 * of the bias parameters (host only). */
/* The fused grouped MLP's backward dGLU kernel with the bias gradient (cudnn-frontend grouped_gemm_dglu_wrapper_sm100
 * with generate_dbias, which Transformer Engine sets when the first GEMM has a bias: NVIDIA/TransformerEngine@
 * b9d690e042b1 (the 26.06.01 container's TE) transformer_engine/pytorch/ops/fused/backward_grouped_mlp.py:601 and v2.16
 * :466). cudnn-frontend 1.24.0 made that kernel ~10x slower on Blackwell (GB200, GPT-OSS-20B / DeepSeek-V3 dGeGLU
 * workloads; good 1.23.0, bad 1.24.0, still bad 1.25.0: https://github.com/NVIDIA/cudnn-frontend/issues/256,
 * 2026-05-27): under CUTLASS DSL 4.5 the dbias reduction loop compiled to heavy local-memory use. The fix
 * (https://github.com/NVIDIA/cudnn-frontend/pull/322, merged 2026-06-23, before the v1.26.0 release of 2026-07-07,
 * https://github.com/NVIDIA/cudnn-frontend/pull/353) measured the issue's shape on SM100 with DSL 4.5.0: without dbias
 * 139.392 us before and 138.960 us after, with dbias 1362.768 us before and 155.632 us after. A stack whose container
 * ships a release in [1.24.0, 1.26.0) (kernels.cudnn_frontend) runs that kernel - its GEMM (the second GEMM's data
 * gradient) and its epilogue's traffic - at the measured ratio 1362.768 / 155.632; without a bias the kernel takes the
 * other path and is not slowed. */
#define DGLU_DBIAS_SLOW_FROM 12400 /* cudnn-frontend 1.24.0 */
#define DGLU_DBIAS_FIXED_IN 12600  /* cudnn-frontend 1.26.0 */
#define DGLU_DBIAS_SLOWDOWN (1362.768 / 155.632)
#define EXPERT_BIAS_FWD_B16 12.0
#define EXPERT_BIAS_BWD_B16 16.0
#define EXPERT_BIAS_FWD_B32 28.0
#define EXPERT_BIAS_BWD_B32 40.0
#define EXPERT_BIAS_KERN_FWD 2     /* per expert: b*p, t + b*p */
#define EXPERT_BIAS_KERN_BWD 4     /* per expert: two products, two reductions */
#define EXPERT_BIAS_KERN_BWD_B32 2 /* per expert with fp32 probabilities: t's and b's gradient casts */
/* The clamped gated activation (GPT-OSS, HF swiglu_limit) in Megatron-Core's TEGroupedMLP: before its fused
 * quick-GeGLU, weighted_bias_quick_geglu_impl clamps the two halves of the first expert GEMM's output in eager
 * kernels and concatenates them, `torch.cat((x_glu.clamp(max=v), x_linear.clamp(min=-v, max=v)), -1)`
 * (NVIDIA/Megatron-LM@core_v0.17.0 megatron/core/fusions/fused_bias_geglu.py:424-433, called from
 * megatron/core/transformer/moe/experts.py:292-299 with activation_func_clamp_value, which the GPT-OSS bridge sets to
 * 7.0: NVIDIA-NeMo/Megatron-Bridge@v0.4.0 src/megatron/bridge/models/gpt_oss/gpt_oss_bridge.py; the same code in
 * core_v0.15.0 and core_v0.16.0). Per element of one half (16-bit): forward the two clamps read and write it (2 + 2
 * each) and the cat reads and writes both halves (8): 16 B, 3 kernels. Backward (autograd): the cat's gradient is
 * views; clamp(max) gives where(self <= max, grad, 0) (compare: read 2, write a 1-byte mask; where: read 1 + 2,
 * write 2: 8 B, 2 kernels), clamp(min, max) where((self >= min).logical_and_(self <= max), grad, 0) (two compares
 * 3 + 3, the and 3, where 5: 14 B, 4 kernels) (pytorch/pytorch@002ca6715ba1 torch/csrc/autograd/FunctionsManual.cpp
 * clamp_backward), each with a scalar zero tensor filled on the device (1 kernel); the chunk's gradient is the
 * concatenation of the two halves' gradients (split_with_sizes_backward: read and write both halves, 8 B, 1 kernel):
 * 30 B, 9 kernels. The fused activation then saves the clamped copy (WeightedQuickGeGLUFunction.forward
 * save_for_backward), both halves, unless moe_act recompute re-runs the whole function. */
#define CLAMP_FWD_BYTES 16.0
#define CLAMP_BWD_BYTES 30.0
#define CLAMP_KERN_FWD 3
#define CLAMP_KERN_BWD 9
/* RoPE with YaRN's concentration factor (GPT-OSS: 0.1 ln 32 + 1) where the stack's fused RoPE takes none: Megatron-
 * Core falls back to its eager rotary for any mscale != 1 (NVIDIA/Megatron-LM@core_v0.17.0 megatron/core/models/
 * common/embeddings/rope_utils.py:279-284, on core_dev_r0.15.0 since @b1c616c9c2 2025-11-05, so in every release with
 * GPT-OSS rows: Megatron-Bridge v0.2.0's pinned Megatron-LM@0d8e0714cd29 has it), once for the query and once for the
 * key: `cos_ = (cos(freqs) * mscale).to(dtype)`, the same for sin (3 small kernels each over the s x d_head table),
 * then `t * cos_ + cat((-x2, x1)) * sin_` and `cat((t, t_pass))` (rope_utils.py:73-126). Per element of q and k
 * (16-bit): forward the product with cos (read 2, write 2), the negated half (1 + 1 over the element), the
 * concatenation (2 + 2), the product with sin (2 + 2), the sum (4 + 2), the final cat (2 + 2): 24 B, 6 kernels;
 * backward (autograd) the two products' gradients (4 + 4), the negation's (2), the chunk's concatenation (4), the sum
 * of the two paths into t (6), the slice's backward (zeros 2, copy 4): 26 B, 7 kernels (pytorch/pytorch@002ca6715ba1
 * torch/csrc/autograd/FunctionsManual.cpp; the cats' backward are views). Replaces the fused kernel's read + write. */
/* Elementwise ops left to eager PyTorch (plan.eager_ops; torchtitan without torch.compile: its job config's
 * compile.enable defaults to false and its Llama code runs one kernel per tensor op), priced as the bytes beyond the
 * fused kernels' the `elementwise` op already charges (norm read + write 4 B, rotary 4 B per element of q and k,
 * gated activation 6 B per element of its output; backward twice each), per element, counted from the code
 * (pytorch/torchtitan@9dec370 torchtitan/models/norms.py RMSNorm, torchtitan/models/llama/model.py
 * apply_rotary_emb and FeedForward; the same code at 1ea476e9f and 820504e) and PyTorch's autograd formulas
 * (pytorch/pytorch@002ca6715ba1 tools/autograd/derivatives.yaml, torch/csrc/autograd/FunctionsManual.cpp):
 *   norm  `self._norm(x.float()).type_as(x) * self.weight`, `_norm: x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True)
 *         + eps)`: forward the fp32 copy (read 2, write 4), pow (4 + 4), mean (read 4), the product with the rsqrt
 *         (4 + 4), the cast back (4 + 2), the weight's product (2 + 2): 36 B, 8 kernels (add and rsqrt over the
 *         row scalars); backward the weight product's two gradients (g·w 2 + 2; g·out 2 + 2 + 2 and the sum over
 *         tokens, read 2), the cast's (2 + 4), the rsqrt product's two (g·r 4 + 4; g·x 4 + 4 + 4 and the row sum,
 *         read 4), mean's expand (write 4), pow's 2·x·g (4 + 4 + 4), the sum of x's two gradients (4 + 4 + 4), the
 *         fp32 copy's (4 + 2): 76 B, 13 kernels. Beyond the fused norm: 32 / 68 B, 7 / 12 kernels;
 *   rope  `view_as_complex(xq.float()...)`, `xq_ * freqs_cis`, `view_as_real(...).type_as(xq)` for q and for k: the
 *         fp32 copy (2 + 4), the complex product (4 + 4; the complex64 table, one row per token broadcast over heads,
 *         not charged), the cast back (4 + 2): 20 B, 3 kernels per tensor; backward the three gradients (2 + 4, 4 + 4
 *         with the conjugate table, 4 + 2): 20 B, 3 kernels. Beyond the fused rotary: 16 / 12 B per element of q
 *         and k, 5 / 5 kernels;
 *   act   `F.silu(self.w1(x)) * self.w3(x)`: silu (2 + 2) and the product (4 + 2): 10 B per element of the output,
 *         2 kernels; backward the product's two gradients (4 + 2 each; mul saves both inputs) and silu's fused
 *         backward (4 + 2): 18 B, 3 kernels. Beyond the fused gated activation: 4 / 6 B, 1 / 2 kernels (gated MLPs
 *         only: an eager GELU is one kernel, as fused). */
#define EAGER_NORM_FWD_BYTES 32.0
#define EAGER_NORM_BWD_BYTES 68.0
#define EAGER_NORM_KERN_FWD 7
#define EAGER_NORM_KERN_BWD 12
#define EAGER_ROPE_FWD_BYTES 16.0
#define EAGER_ROPE_BWD_BYTES 12.0
#define EAGER_ROPE_KERN 5
#define EAGER_ACT_FWD_BYTES 4.0
#define EAGER_ACT_BWD_BYTES 6.0
#define EAGER_ACT_KERN_FWD 1
#define EAGER_ACT_KERN_BWD 2
#define ROPE_EAGER_FWD_BYTES 24.0
#define ROPE_EAGER_BWD_BYTES 26.0
#define ROPE_EAGER_KERN_FWD 12 /* per tensor: 6 over it + 6 over the cos / sin table */
#define ROPE_EAGER_KERN_BWD 7
/* Loss: the logits cast to fp32, softmax and its gradient: 2 B read + 3 fp32 passes per logit. */
#define LOSS_BYTES_PER_LOGIT (2 * ACT_BYTES + 3 * FP32_BYTES)
/* Vocab-parallel cross-entropy all-reduces three fp32 values per token (max, sum of exponentials, target logit). */
#define LOSS_REDUCE_BYTES_PER_TOKEN (3 * FP32_BYTES)

void sp_layer_ctx_init(sp_layer_ctx *c, const sp_model *m, const sp_system *s, const sp_plan *p,
                       const sp_param_count *pc, int flash)
{
    memset(c, 0, sizeof *c);
    c->m = m;
    c->s = s;
    c->p = p;
    c->pc = pc;
    c->T = (double)p->micro_batch * p->seq_len / p->cp;
    c->t = p->tp;
    c->h = m->d_model;
    c->qd = sp_model_attn_qdim(m);
    c->kvd = sp_model_kvdim(m);
    c->d = p->dtype;
    c->d16 = sp_dtype_high(p->dtype);
    c->flash = flash;
    c->mlp_tp_ops = 1;
    c->mixer = sp_model_mixer(m, 0);
    c->ffn = sp_model_is_moe(m) ? SP_FFN_MOE : SP_FFN_DENSE;
}

void sp_layer_ctx_serving(sp_layer_ctx *c, const sp_model *m, const sp_system *s, const sp_param_count *pc, int tp,
                          double T, sp_dtype cd, double wbytes, double abytes, double eff_scale)
{
    memset(c, 0, sizeof *c);
    sp_plan_defaults(&c->plan);
    c->plan.tp = tp;
    c->plan.dtype = cd;
    c->m = m;
    c->s = s;
    c->p = &c->plan;
    c->pc = pc;
    c->T = T;
    c->t = tp;
    c->h = m->d_model;
    c->qd = sp_model_attn_qdim(m);
    c->kvd = sp_model_kvdim(m);
    c->d = c->d16 = cd; /* serving runs every GEMM in the compute dtype */
    c->flash = 1;
    c->mlp_tp_ops = 1;
    c->serving = 1;
    c->wbytes = wbytes;
    c->abytes = abytes;
    c->eff_scale = eff_scale;
}

/* ---- appending ops (a layer has at most ~35: SP_LAYER_MAX_OPS leaves room) ---- */

static inline sp_op *push(sp_layer_ops *l, const char *name, sp_op_kind kind, sp_op_part part, unsigned flags, double count)
{
    sp_op *o = &l->op[l->n < SP_LAYER_MAX_OPS ? l->n++ : SP_LAYER_MAX_OPS - 1];
    *o = (sp_op){.name = name, .kind = kind, .part = part, .flags = flags, .count = count, .rerun = l->module};
    return o;
}

static inline void gemm(sp_layer_ops *l, const char *name, unsigned flags, double count, double m, double n, double k,
                 sp_dtype d, sp_gemm_bwd bwd)
{
    sp_op *o = push(l, name, SP_OP_GEMM, SP_PART_COMPUTE, flags, count);
    o->u.gemm.m = m, o->u.gemm.n = n, o->u.gemm.k = k, o->u.gemm.batch = 1;
    o->u.gemm.dtype = d, o->u.gemm.bwd = bwd;
}

/* a serving GEMM: forward only, its `copies` run as one grouped GEMM, weights read at the storage precision */
static void serving_gemm(sp_layer_ctx *c, sp_layer_ops *l, const char *name, double copies, double m, double n,
                         double k)
{
    gemm(l, name, SP_OPF_LINEAR, 1, m, n, k, c->d, SP_BWD_NONE);
    sp_op *o = &l->op[l->n - 1];
    o->u.gemm.batch = copies;
    o->u.gemm.wbytes = c->wbytes, o->u.gemm.abytes = c->abytes, o->u.gemm.eff_scale = c->eff_scale;
}

/* a linear layer of the model: weight gradient unless the base is frozen; forward only when serving */
static inline void linear(sp_layer_ctx *c, sp_layer_ops *l, const char *name, unsigned flags, double count, double m,
                   double n, double k, sp_dtype d)
{
    if (c->serving)
        serving_gemm(c, l, name, count, m, n, k);
    else
        gemm(l, name, flags | SP_OPF_LINEAR, count, m, n, k, d, c->p->frozen_base ? SP_BWD_DATA : SP_BWD_WEIGHT);
}

static void bytes_op(sp_layer_ops *l, const char *name, sp_op_part part, unsigned flags, double fwd, double bwd,
                     double kf, double kb)
{
    sp_op *o = push(l, name, SP_OP_BYTES, part, flags, 1);
    o->u.bytes.fwd = fwd, o->u.bytes.bwd = bwd, o->u.bytes.kernels_fwd = kf, o->u.bytes.kernels_bwd = kb;
}

static sp_op *coll(sp_layer_ops *l, const char *name, sp_op_part part, double count, sp_coll kind, int ranks,
                   int stride, double bytes, double nf, double nb)
{
    sp_op *o = push(l, name, SP_OP_COLL, part, 0, count);
    o->u.coll.kind = kind, o->u.coll.ranks = ranks, o->u.coll.stride = stride, o->u.coll.bytes = bytes;
    o->u.coll.cross = 1, o->u.coll.nf = nf, o->u.coll.nb = nb;
    return o;
}

/* the ops from index `from` on that no builder tagged belong to the CUDA-graph scopes `g` (all needed to capture) */
static void tag(sp_layer_ops *l, int from, unsigned g)
{
    for (int i = from; i < l->n; i++)
        if (!l->op[i].graph)
            l->op[i].graph = g;
}

/* ---- activation memory (the `saved` bytes of the op just appended) ---- */

/* Bytes of an activation a GEMM keeps for its weight gradient: 16-bit, or the FP8 copy when the GEMMs run in a
 * scaled 8/4-bit format (counted as 1 byte for every scaled format; nvfp4 would be 0.56) */
#define SAVED_FP8_BYTES 1.0
/* Dropout mask: 1 byte per element (PyTorch bool mask; Korthikanti et al. 2022 §4.1) */
#define DROPOUT_MASK_BYTES 1.0

static inline double saved_input_bytes(const sp_layer_ctx *c)
{
    return sp_dtype_is_quantized(c->d) ? SAVED_FP8_BYTES : ACT_BYTES;
}

/* elements of a block input on this GPU: T·h, divided over TP with sequence parallelism */
static inline double block_input(const sp_layer_ctx *c)
{
    return c->p->seq_parallel && c->t > 1 ? c->T * c->h / c->t : c->T * c->h;
}

/* kept by the last op until `drop` (or the whole layer) is recomputed; with `need`, only while one of those is */
static inline void keep_as(sp_layer_ops *l, double bytes, unsigned drop, unsigned need)
{
    sp_op *o = &l->op[l->n - 1];
    if (o->n_saved < SP_OP_PIECES)
        o->saved[o->n_saved++] = (sp_saved_piece){bytes, drop | SP_RCM_LAYER, need};
}

/* kept by the last op until its own module (the builder's l->module) or the layer is recomputed */
static inline void keep(sp_layer_ops *l, double bytes)
{
    keep_as(l, bytes, l->module, 0);
}

/* kept by the last op until the attention core is recomputed (Korthikanti's selective recompute: the scores) */
static inline void keep_scores(sp_layer_ops *l, double bytes)
{
    keep_as(l, bytes, SP_RCM_CORE_ATTN, 0);
}

/* kept by the last op under full recompute: the layer's input, from which its forward is rerun */
static inline void keep_checkpoint(sp_layer_ops *l, double bytes)
{
    sp_op *o = &l->op[l->n - 1];
    if (o->n_saved < SP_OP_PIECES)
        o->saved[o->n_saved++] = (sp_saved_piece){bytes, 0, SP_RCM_LAYER};
}

/* whether the layer has torchtitan's per-op SAC piece (op_sac_saved): then, under a set with op_sac and without the
 * whole layer, only that piece counts (what the save list names is all the block keeps) */
static int op_sac_only(const sp_layer_ops *l, unsigned set)
{
    if (!(set & SP_RCM_OP_SAC) || (set & SP_RCM_LAYER))
        return 0;
    for (int i = 0; i < l->n; i++)
        for (int j = 0; j < l->op[i].n_saved; j++)
            if (l->op[i].saved[j].need & SP_RCM_OP_SAC)
                return 1;
    return 0;
}

double sp_layer_saved_set(const sp_layer_ops *l, unsigned set)
{
    double sum = 0;
    int only = op_sac_only(l, set);
    for (int i = 0; i < l->n; i++)
        for (int j = 0; j < l->op[i].n_saved; j++) {
            const sp_saved_piece *q = &l->op[i].saved[j];
            if (only ? (q->need & SP_RCM_OP_SAC) != 0 : (q->need == 0 || (q->need & set)) && !(q->drop & set))
                sum += q->bytes;
        }
    return sum;
}

void sp_layer_saved(const sp_layer_ops *l, double out[3])
{
    out[SP_RECOMPUTE_NONE] = sp_layer_saved_set(l, 0);
    out[SP_RECOMPUTE_SELECTIVE] = sp_layer_saved_set(l, l->rc_set);
    out[SP_RECOMPUTE_FULL] = sp_layer_saved_set(l, SP_RCM_ALL);
}

/* Keys a fused kernel computes per query for a causal sliding window of w keys over a context of s: the key blocks
 * from the window's start to the diagonal, w + the query tile (FlashAttention-2 csrc/flash_attn/src/
 * flash_fwd_kernel.h:90, n_block_min = (m_block·kBlockM - window_size_left) / kBlockN: the blocks left of the band
 * are skipped), at most the causal half of the context (a window as long as the context is full attention). */
static double sliding_band_keys(double w, double s)
{
    return fmin(w + FLASH_TILE_Q, FLASH_CAUSAL_SHARE * s);
}

/* Keys a fused kernel computes per query over a packed sequence of s tokens whose samples attend only within
 * themselves, as a share of the unpacked causal half s/2. NeMo's packed SFT passes the samples' boundaries
 * (cu_seqlens) to Megatron-Core as PackedSeqParams with qkv_format 'thd' (NVIDIA/NeMo@9c5c5e970940:nemo/collections/
 * nlp/models/language_modeling/megatron_gpt_model.py:1263-1288), which hands them to Transformer Engine's attention
 * (NVIDIA/Megatron-LM@d98e8a64ddf3:megatron/core/extensions/transformer_engine.py:2289); the varlen kernel runs each
 * sample as a sequence of its own, from its cu_seqlens offset over its own length (Dao-AILab/flash-attention@
 * 0251105a2fb1:csrc/flash_attn/src/block_info.h:17-19), and under the causal mask visits the key blocks up to the
 * query block's end (flash_fwd_kernel.h:91-94, n_block_max), the diagonal block whole: l/2 + FLASH_TILE_Q/2 keys per
 * query of a sample of l tokens; over the samples, weighted by their tokens, ctx/2 + FLASH_TILE_Q/2 with ctx =
 * E[l^2]/E[l] (sp_plan_attn_context). The unpacked core visits s/2 +
 * FLASH_TILE_Q/2 and is priced at s/2 keys with the family's attention efficiency measured against that count
 * (cuDNN's and FlashAttention's benchmarks count the causal half), so the packed core is priced at s/2 times the
 * ratio of the keys visited: exactly s/2 when one sample fills the sequence (ctx = s). A sample's last partial key
 * block is not counted (at most a tile per sample). */
static double packed_key_share(double ctx, double s)
{
    return ctx >= s ? 1.0 : (ctx + FLASH_TILE_Q) / (s + FLASH_TILE_Q);
}

/* ---- builders ---- */

/* FP8: the attention block's GEMM inputs (QKV or MLA down-projection input, output-projection input) and their
 * output gradients are cast */
static void attention_casts(sp_layer_ctx *c)
{
    if (!sp_dtype_is_quantized(c->d))
        return;
    double T = c->T, t = c->t, h = c->h, qd = c->qd, kvd = c->kvd;
    c->q_in += T * h + T * qd / t;
    c->q_out += T * (qd + 2 * kvd) / t + T * h;
}

/* the output projection's saved input (the core's output, sharded) and, with a gated output, the gate (16-bit) */
static void attn_out_saved(sp_layer_ctx *c, sp_layer_ops *l)
{
    keep(l, c->T * c->qd / c->t * saved_input_bytes(c) + (c->m->attn_gate ? c->T * c->qd / c->t * ACT_BYTES : 0));
}

/* torchtitan's per-op selective AC (SelectiveAC; the policy of pytorch/torchtitan@b5bcd76c6:
 * torchtitan/distributed/activation_checkpoint.py:243-281, the same rule since torchtitan@9dec370:
 * torchtitan/parallelisms/parallelize_llama.py:250-264): inside a block the outputs of mm / linear are saved except
 * every second one, counted in forward order (a Llama block runs wq, wk, wv, wo, w1, w3, w2: wk, wo and w3 are
 * recomputed; torchtitan/models/llama/model.py:189,214,253 at 9dec370), SDPA and reduce-scatter outputs are saved,
 * everything else (norms, rotary, activation, residual adds, all-gathers) is recomputed. FP8 projections count as
 * mm's too: torchao's Float8Linear multiplies its float8 tensor subclasses with torch.mm (pytorch/ao
 * torchao/float8/float8_linear.py matmul_with_hp_or_float8_args.forward), and the checkpoint policy's dispatch mode
 * sees aten.mm before the subclass turns it into torch._scaled_mm. What is re-run of a fused projection group (the
 * qkv, the gated up) is a re-run-only GEMM of the recomputed member's shape. */
static void op_sac_gemm(sp_layer_ctx *c, sp_layer_ops *l, const char *name, double n, double k)
{
    if (!(l->rc_set & SP_RCM_OP_SAC) || c->serving)
        return;
    gemm(l, name, SP_OPF_RERUN_ONLY, 1, c->T, n, k, c->d, SP_BWD_WEIGHT);
    l->op[l->n - 1].rerun = SP_RCM_OP_SAC;
}

/* What torchtitan's per-op SAC keeps of a Llama block (op_sac, the policy above), 16-bit: the block input it restarts
 * from, SDPA's output and its fp32 log-sum-exp, the two reduce-scatter outputs (SP), and the odd mm's outputs (wq,
 * wv, w1 and, gated, w2's pre-reduction output). Norm, rotary and activation outputs and the all-gathers are
 * recomputed. One piece that only op_sac needs (sp_layer_saved_set); attention + dense MLP blocks. */
static void op_sac_saved(sp_layer_ctx *c, sp_mixer mx, sp_ffn f, sp_layer_ops *l)
{
    if (!(l->rc_set & SP_RCM_OP_SAC) || c->serving || mx != SP_MIX_ATTN || f != SP_FFN_DENSE)
        return;
    const sp_model *m = c->m;
    double T = c->T, t = c->t, h = c->h, qd = c->qd, kvd = c->kvd, fd = m->ffn_dim, B = ACT_BYTES;
    double bytes = block_input(c) * B + T * qd / t * B + T * m->n_heads / t * FP32_BYTES;
    if (c->t > 1 && c->p->seq_parallel)
        bytes += 2 * block_input(c) * B;
    bytes += T * (qd + kvd + fd) / t * B + (m->gated ? T * h * B : 0);
    bytes_op(l, "sac_saved", SP_PART_MEMORY, SP_OPF_RERUN_ONLY, 0, 0, 0, 0);
    l->op[l->n - 1].rerun = 0;
    keep_as(l, bytes, 0, SP_RCM_OP_SAC);
}

/* the op_sac re-run bit of the projection just appended when it is one of the every-second mm's */
static void op_sac_mark(sp_layer_ops *l, int second)
{
    l->op[l->n - 1].rerun |= second ? SP_RCM_OP_SAC : 0;
}

void sp_ops_attention(sp_layer_ctx *c, sp_layer_ops *l)
{
    double T = c->T, t = c->t, h = c->h, qd = c->qd, kvd = c->kvd;
    l->module = 0; /* the projections: re-run only by full recompute */
    /* a gated output (Qwen3-Next) doubles the query projection: query and gate */
    double qw = (c->m->attn_gate ? 2 : 1) * qd;
    if (c->s->separate_qkv && !c->serving) { /* wq, wk, wv: three GEMMs, each reading the block input */
        linear(c, l, "q_proj", SP_OPF_TP_IN, 1, T, qw / t, h, c->d);
        keep(l, block_input(c) * saved_input_bytes(c));
        linear(c, l, "k_proj", SP_OPF_TP_IN, 1, T, kvd / t, h, c->d);
        op_sac_mark(l, 1); /* wk, the second mm */
        linear(c, l, "v_proj", SP_OPF_TP_IN, 1, T, kvd / t, h, c->d);
    } else {
        linear(c, l, "qkv", SP_OPF_TP_IN, 1, T, (qw + 2 * kvd) / t, h, c->d);
        keep(l, block_input(c) * saved_input_bytes(c));
        op_sac_gemm(c, l, "sac_k", kvd / t, h); /* wk, the second mm */
    }
    linear(c, l, "attn_out", SP_OPF_TP_OUT, 1, T, h, qd / t, c->d);
    attn_out_saved(c, l);
    op_sac_mark(l, 1); /* wo, the fourth */
    attention_casts(c);
}

/* MLA (DeepSeek-V2 §2.1): down-projections replicated over TP, up-projections sharded by heads */
void sp_ops_mla(sp_layer_ctx *c, sp_layer_ops *l)
{
    const sp_model *m = c->m;
    double T = c->T, t = c->t, h = c->h;
    double dqk = m->qk_nope_head_dim + m->qk_rope_head_dim;
    double qr = m->q_lora_rank > 0 ? m->q_lora_rank : 0;
    /* saved as dense attention's (Korthikanti's count with qd, kvd): the block input, the core's output; the
     * compressed latents are not counted apart. The block input is the output of MLA's own input norm (a separate
     * norm in Megatron-Core's MLA layer spec, NVIDIA/Megatron-LM@d98e8a64ddf3 megatron/core/models/gpt/
     * gpt_layer_specs.py:296): layernorm recompute discards it. The up-projections are what mla_up_proj re-runs. */
    l->module = 0;
    if (qr > 0) {
        linear(c, l, "q_down", 0, 1, T, qr, h, c->d);
        keep_as(l, block_input(c) * saved_input_bytes(c), SP_RCM_LAYERNORM, 0);
        l->module = SP_RCM_MLA_UP_PROJ;
        linear(c, l, "q_up", 0, 1, T, m->n_heads * dqk / t, qr, c->d);
        l->module = 0;
    } else {
        linear(c, l, "q_proj", 0, 1, T, m->n_heads * dqk / t, h, c->d);
        keep_as(l, block_input(c) * saved_input_bytes(c), SP_RCM_LAYERNORM, 0);
    }
    linear(c, l, "kv_down", 0, 1, T, m->kv_lora_rank + m->qk_rope_head_dim, h, c->d);
    l->module = SP_RCM_MLA_UP_PROJ;
    linear(c, l, "kv_up", 0, 1, T, m->n_heads * (m->qk_nope_head_dim + m->v_head_dim) / t, m->kv_lora_rank, c->d);
    l->module = 0;
    linear(c, l, "attn_out", 0, 1, T, h, m->n_heads * m->v_head_dim / t, c->d);
    attn_out_saved(c, l);
    attention_casts(c);
}

void sp_ops_mla_absorbed(sp_layer_ctx *c, sp_layer_ops *l)
{
    const sp_model *m = c->m;
    double t = c->t, h = c->h;
    double w_out = (double)m->n_heads * m->v_head_dim * h;
    double w_in = c->pc->attn_per_layer - w_out;
    l->module = 0;
    linear(c, l, "attn_in", 0, 1, c->T, w_in / (t * h), h, c->d);
    linear(c, l, "attn_out", 0, 1, c->T, h, w_out / (t * h), c->d);
}

void sp_ops_mlp(sp_layer_ctx *c, sp_layer_ops *l)
{
    const sp_model *m = c->m;
    double T = c->T, t = c->t, h = c->h, f = m->ffn_dim, mats = m->gated ? 2.0 : 1.0;
    /* the dense MLP module (mlp recompute: its input is the residual stream, the norm being fused into mlp_up in
     * Megatron-Core's TE spec, TELayerNormColumnParallelLinear with pre_mlp_layernorm IdentityOp,
     * gpt_layer_specs.py:313: the checkpoint is the norm input the layer keeps anyway) */
    l->module = SP_RCM_MLP;
    int split = m->gated && c->s->separate_gate_up && !c->serving; /* w1 and w3: two GEMMs on the same input */
    linear(c, l, split ? "mlp_gate" : "mlp_up", SP_OPF_TP_IN | SP_OPF_TP_FFN, 1, T, (split ? 1 : mats) * f / t, h,
           c->d);
    keep(l, block_input(c) * saved_input_bytes(c));
    if (split) {
        linear(c, l, "mlp_up", SP_OPF_TP_IN | SP_OPF_TP_FFN, 1, T, f / t, h, c->d);
        op_sac_mark(l, 1); /* w3, the sixth mm */
    } else if (m->gated) /* w1 is the fifth mm (saved), w3 the sixth */
        op_sac_gemm(c, l, "sac_up", f / t, h);
    linear(c, l, "mlp_down", SP_OPF_TP_OUT | SP_OPF_TP_FFN, 1, T, h, f / t, c->d);
    keep(l, T * f / t * saved_input_bytes(c));
    op_sac_mark(l, !m->gated); /* w2: the seventh (gated) or the sixth mm */
    c->f_act = f / t; /* the activation function's input: kept by the elementwise kernels */
    l->module = 0;
    if (sp_dtype_is_quantized(c->d)) {
        c->q_in += T * h + T * f / t;
        c->q_out += T * (mats + 1) * f / t;
    }
}

/* Mamba-2 chunk length: the SSD algorithm works on chunks of this many tokens (Dao & Gu 2024, arXiv:2405.21060 §6;
 * chunk_size 128 in every Nemotron-H config and mamba_ssm's default). */
#define SSD_CHUNK 128.0
/* Gated DeltaNet chunk length: flash-linear-attention's chunked gated delta rule (Yang et al. 2024,
 * arXiv:2412.06464 §3.3; fla chunk_gated_delta_rule uses 64-token chunks). */
#define GDN_CHUNK 64.0
/* Kernels of the chunked delta rule (fla: cumsum, WY representation, hidden states, output; backward about twice
 * as many). */
#define SCAN_KERNELS_FWD 5
#define SCAN_KERNELS_BWD 10
/* A depthwise causal conv1d (short kernel): one read and one write of its channels, one kernel each way. */
#define CONV_PASSES 2.0

/* Mamba-2's SSD scan as Megatron-Core trains it (megatron/core/ssm/mamba_mixer.py _ssm_training ->
 * mamba_ssm's mamba_split_conv1d_scan_combined, Triton). Kernels cited at state-spaces/mamba@e9594ce1c732:
 * mamba_ssm/ops/triton/ssd_combined.py (SSD_SRC below).
 *
 * Forward: five kernels (_mamba_chunk_scan_combined_fwd: chunk cumsum, chunk state, state passing, C·Bᵀ bmm, chunk
 * scan), four tile products per chunk: C·Bᵀ per group, the masked (C·Bᵀ∘L)·x and the read-out C·state per head
 * (ssd_chunk_scan.py:118,150), the chunk states Bᵀ·x per head (ssd_chunk_state.py:254).
 * Backward (SSD_SRC:441-509): cumsum, C·Bᵀ, chunk states and state passing recomputed, then dz, dstates, state
 * passing backward, dx, dB, dC, dCB, two bmm backward, ddA, cumsum backward. Per forward product, the backward's
 * products of the same shape class, counted from their tl.dot calls:
 *   C·Bᵀ (Q x Q x N per group): recomputed (:443) and both _bmm_chunk_bwd (:488-489, ssd_bmm.py:147)      3
 *   (C·Bᵀ∘L)·x (Q x P x Q per head): dx's (C·Bᵀ∘L)ᵀ·dout (ssd_combined.py:213), dCB = dout·xᵀ
 *     (ssd_chunk_scan.py:840), ddA's dout·xᵀ (ssd_chunk_scan.py:1158)                                         3
 *   Bᵀ·x and C·state (N x P x Q per head, two in the forward): states recomputed (:444), dstates = Cᵀ·dout
 *     (ssd_chunk_scan.py:501), dx's B·dstates (ssd_combined.py:170), dB = x·dstatesᵀ (ssd_chunk_state.py:463),
 *     dC = dout·statesᵀ (ssd_chunk_scan.py:592): five for two                                                  2.5 */
#define SSD_BWD_CB 3.0
#define SSD_BWD_DIAG 3.0
#define SSD_BWD_STATE 2.5
/* The kernels without tile products: forward chunk cumsum, state passing and the gated RMSNorm (Megatron's
 * ExtendedRMSNorm, mamba_ssm layernorm_gated.py, after the scan); backward cumsum and state passing recomputed and
 * run backward, dz (SSD_SRC:450) and the norm's backward. */
#define SSD_KERNELS_FWD 3
#define SSD_KERNELS_BWD 6
/* Passes over the inner width (16-bit) outside what the scan's rate covers (SCAN_FP32_RATE: x, dt, B, C read, y
 * written and the fp32 chunk states inside the five kernels): forward the z gate's read in the chunk scan and the
 * norm's read and write; backward _chunk_scan_bwd_dz (x, z, out, dout read, dz and dout written:
 * ssd_chunk_scan.py:1363) and the norm's backward (x, dy read, dx written). */
#define SSD_PASSES_FWD 3.0
#define SSD_PASSES_BWD 9.0
/* The conv's backward recomputes its forward (SSD_SRC:919-923: "Recompute x, B, C") before causal_conv1d's own
 * backward (x and dout read, dx written): 2 + 3 passes for the forward's 2. */
#define CONV_BWD_X 2.5

/* The SSD kernels' rate. Their tile products (tl.dot on 32-128-wide tiles) each wait on per-element fp32 work of
 * the chunk (the decays exp(dA_cs[m] - dA_cs[k]), the causal mask, dt scaling, the state recurrence), so they run
 * far below the tensor cores and follow the SMs, not the tensor peak:
 *  - H100: the five forward kernels at T = 8192, 128 heads of 64, 1 group, state 128 move 1.262e7 tokens/s
 *    (vllm-project/vllm#27299, comment of 2025-10-25, "Original" column; vLLM's copy of these kernels) = 79.8
 *    TFLOP/s of this model's products at 128-token chunks (6.32 MFLOP per token), 1.19 x H100's FP32 peak (66.9);
 *    if that benchmark ran 256-token chunks (the Granite config it matched), 106.6 TFLOP/s, 1.59 x;
 *  - Blackwell: the same Triton kernels take 369 us per Mamba layer of Nemotron-3 Nano at prefill
 *    (NVIDIA/Megatron-LM#5829, 2026-08-05 nsys; the PR's prompts are 2k-8k tokens, the profile's not stated): for
 *    an 8k-token prompt 76 TFLOP/s, 1.0 x B200's FP32 peak, i.e. Hopper's rate where the tensor peak is 2.3x
 *    Hopper's (a shorter prompt would mean a slower rate);
 *  - whole-model Mamba-2 training gains 1.51x from H200 to GB200 where cuBLAS GEMMs gain 2.44x
 *    (state-spaces/mamba#904, d_model 2048, 48 layers, seq 4096).
 * Taken as SM-bound: at most SCAN_FP32_RATE x the accelerator's FP32 (CUDA-core) peak, which scales with SM count
 * x clock; the lower reading, which the Blackwell measurement sits at. The five kernels' traffic (x, dt, B, C, y,
 * fp32 chunk states) is inside the measured rate. */
#define SCAN_FP32_RATE 1.19

/* The scan rate's floor on `flops` of SSD tile products. The rate is the Triton kernels' (mamba_ssm ssd_combined),
 * a fact of the software stack that runs them, not of the accelerator: priced where the system's stack states them
 * (data/software kernels.ssd_scan "triton": Megatron-Core's MambaMixer); a stack without them (none stated, or an
 * SSD of its own) and an accelerator without a stated FP32 peak have no floor. */
static double scan_floor(const sp_system *s, double flops)
{
    if (!s->ssd_scan_triton || s->acc.peak[SP_FP32] <= 0)
        return 0;
    return flops / (SCAN_FP32_RATE * s->acc.peak[SP_FP32]);
}

/* A recurrent mixer's chunked scan as batched GEMMs of the chunk shapes (both operands activations), backward
 * `bwd_x` products per forward one; `flags` SP_OPF_SCAN: Mamba-2's SSD, at most the scan rate. */
static void scan_gemm(sp_layer_ops *l, const char *name, unsigned flags, double batch, double m, double n, double k,
                      sp_dtype d, double bwd_x)
{
    gemm(l, name, SP_OPF_CORE | flags, 1, m, n, k, d, SP_BWD_TWICE);
    l->op[l->n - 1].u.gemm.batch = batch;
    l->op[l->n - 1].u.gemm.bwd_x = bwd_x;
}

/* The conv1d: forward one pass (above) in one kernel; backward bwd_x times its traffic in `kernels_bwd` kernels
 * (Mamba-1 and gated DeltaNet: causal_conv1d's backward, its input and weight gradients, 2x in 2; Mamba-2 under
 * Megatron-Core recomputes the forward first, CONV_BWD_X). */
static void conv_op(sp_layer_ops *l, double T, double channels, double bwd_x, double kernels_bwd)
{
    double b = T * channels * ACT_BYTES * CONV_PASSES;
    bytes_op(l, "conv1d", SP_PART_MEMORY, 0, b, bwd_x * b, 1, kernels_bwd);
}

/* Mamba-2 (Dao & Gu 2024 §6-7; Megatron-Core MambaMixer): in_proj h -> z, x, B, C, dt (column-parallel over TP:
 * heads and groups split), depthwise conv over x, B, C, the SSD scan per chunk of Q tokens: C·Bᵀ per group (Q x Q x
 * N), its masked product with x per head (Q x P x Q), the chunk states Bᵀ·x (N x P x Q) and their read-out C·state
 * (Q x P x N); the z gate and the RMSNorm; out_proj (row-parallel). */
void sp_ops_mamba2(sp_layer_ctx *c, sp_layer_ops *l)
{
    l->module = 0; /* re-run only by full recompute */
    const sp_model *m = c->m;
    double T = c->T, t = c->t, h = c->h, in = m->ssm_inner, N = m->ssm_state, P = m->ssm_head_dim;
    double H = m->ssm_heads / t, G = m->ssm_groups / t < 1 ? 1 : m->ssm_groups / t;
    double chunks = T / SSD_CHUNK, Q = SSD_CHUNK;
    linear(c, l, "mamba_in_proj", 0, 1, T, (2 * in + 2.0 * m->ssm_groups * N + m->ssm_heads) / t, h, c->d);
    keep(l, block_input(c) * saved_input_bytes(c));
    conv_op(l, T, (in + 2.0 * m->ssm_groups * N) / t, CONV_BWD_X, 2);
    scan_gemm(l, "ssd_cb", SP_OPF_SCAN, chunks * G, Q, Q, N, c->d16, SSD_BWD_CB);
    scan_gemm(l, "ssd_scan_diag", SP_OPF_SCAN, chunks * H, Q, P, Q, c->d16, SSD_BWD_DIAG);
    scan_gemm(l, "ssd_chunk_state", SP_OPF_SCAN, chunks * H, N, P, Q, c->d16, SSD_BWD_STATE);
    scan_gemm(l, "ssd_state_out", SP_OPF_SCAN, chunks * H, Q, P, N, c->d16, SSD_BWD_STATE);
    double pass = T * in / t * ACT_BYTES, proj = T * (2 * in + 2.0 * m->ssm_groups * N + m->ssm_heads) / t * ACT_BYTES;
    bytes_op(l, "ssd_elementwise", SP_PART_MEMORY, SP_OPF_CORE, SSD_PASSES_FWD * pass, SSD_PASSES_BWD * pass,
             SSD_KERNELS_FWD, SSD_KERNELS_BWD);
    /* Megatron-Core's activations are [s, b, h]; its training path transposes the in_proj output to [b, s, .] for
     * the scan and the scan's output back (NVIDIA/Megatron-LM@d98e8a64ddf3 megatron/core/ssm/mamba_mixer.py:691,
     * :727, rearrange(...).contiguous()): a copy (read + write) each when a micro-batch holds several sequences (a
     * size-1 batch dimension leaves the tensor contiguous: no copy); backward the in_proj output's gradient copied
     * back to [s, b, .] for Transformer Engine's backward GEMMs, which take contiguous gradients. */
    if (c->p->micro_batch > 1)
        bytes_op(l, "mamba_transpose", SP_PART_MEMORY, 0, 2 * (proj + pass), 2 * proj, 2, 1);
    /* what the fused kernels save (mamba_ssm ssd_combined): in_proj output z, x, B, C, dt; the conv output x, B, C;
     * y and the gated norm's input (16-bit); the fp32 state of each chunk */
    double gn = (double)m->ssm_groups * N;
    keep(l, T * ACT_BYTES * ((2 * in + 2 * gn + m->ssm_heads) + (in + 2 * gn) + 2 * in) / t +
                T * FP32_BYTES * in * N / SSD_CHUNK / t);
    linear(c, l, "mamba_out_proj", 0, 1, T, h, in / t, c->d);
    if (sp_dtype_is_quantized(c->d)) {
        c->q_in += T * h + T * in / t;
        c->q_out += T * (2 * in + 2.0 * m->ssm_groups * N + m->ssm_heads) / t + T * h;
    }
}

/* Mamba-1 (Gu & Dao 2023, arXiv:2312.00752 §3.3; transformers' JambaMambaMixer): in_proj h -> x, z (column-
 * parallel over TP: the inner channels split), depthwise conv over x, x_proj inner -> dt_rank + 2·state (row-
 * parallel: its small output all-reduced over TP), dt_proj dt_rank -> inner, the selective scan, the z gate,
 * out_proj (row-parallel). The scan is one fused kernel keeping the state in SRAM (mamba_ssm selective_scan): its
 * 9·inner·state FLOPs per token run on CUDA cores and are taken as hidden under its traffic, which is priced: u,
 * delta, z read and y written over the inner width, B and C per token; the backward recomputes the scan and moves
 * about twice the forward's traffic (3x in all). Saved for the backward: in_proj output (x, z), conv output, x_proj
 * output, delta, the scan output (16-bit). */
void sp_ops_mamba1(sp_layer_ctx *c, sp_layer_ops *l)
{
    l->module = 0; /* re-run only by full recompute */
    const sp_model *m = c->m;
    double T = c->T, t = c->t, h = c->h, in = m->ssm_inner, N = m->ssm_state, r = m->ssm_dt_rank;
    linear(c, l, "mamba_in_proj", 0, 1, T, 2 * in / t, h, c->d);
    keep(l, block_input(c) * saved_input_bytes(c));
    conv_op(l, T, in / t, 2, 2);
    linear(c, l, "mamba_x_proj", 0, 1, T, r + 2 * N, in / t, c->d);
    if (t > 1)
        coll(l, "mamba_x_proj_allreduce", SP_PART_TP, 1, SP_COLL_ALLREDUCE, (int)t, 1, T * (r + 2 * N) * ACT_BYTES, 1, 1);
    linear(c, l, "mamba_dt_proj", 0, 1, T, in / t, r, c->d);
    double b = T * ACT_BYTES * (4.0 * in / t + 2 * N);
    bytes_op(l, "selective_scan", SP_PART_MEMORY, SP_OPF_CORE, b, 3 * b, 1, 2);
    keep(l, T * ACT_BYTES * (2 * in + in + r + 2 * N + in + in) / t);
    linear(c, l, "mamba_out_proj", 0, 1, T, h, in / t, c->d);
    if (sp_dtype_is_quantized(c->d)) {
        c->q_in += T * h + 2 * T * in / t + T * r;
        c->q_out += T * 2 * in / t + T * (r + 2 * N) + T * in / t + T * h;
    }
}

/* Gated DeltaNet (Yang et al. 2024; transformers' Qwen3NextGatedDeltaNet, Megatron-Core GatedDeltaNet): in_proj
 * h -> q, k, v, z and b, a (heads split over TP), depthwise conv over q, k, v, the chunked delta rule per value
 * head and chunk of C tokens: K·Kᵀ and Q·Kᵀ (C x C x dk), the WY/attention products with V (C x dv x C, two), the
 * state read-out Q·S (C x dv x dk) and update Kᵀ·U (dk x dv x C); the gated RMSNorm; out_proj. */
void sp_ops_gdn(sp_layer_ctx *c, sp_layer_ops *l)
{
    l->module = 0; /* re-run only by full recompute */
    const sp_model *m = c->m;
    double T = c->T, t = c->t, h = c->h, dk = m->gdn_k_dim, dv = m->gdn_v_dim;
    double kd = (double)m->gdn_k_heads * dk, vd = (double)m->gdn_v_heads * dv, H = m->gdn_v_heads / t;
    double chunks = T / GDN_CHUNK, C = GDN_CHUNK;
    linear(c, l, "gdn_in_proj", 0, 1, T, (2 * kd + 2 * vd + 2.0 * m->gdn_v_heads) / t, h, c->d);
    keep(l, block_input(c) * saved_input_bytes(c));
    conv_op(l, T, (2 * kd + vd) / t, 2, 2);
    scan_gemm(l, "gdn_qk_kk", 0, 2 * chunks * H, C, C, dk, c->d16, 2);
    scan_gemm(l, "gdn_wy_values", 0, 2 * chunks * H, C, dv, C, c->d16, 2);
    scan_gemm(l, "gdn_state_out", 0, chunks * H, C, dv, dk, c->d16, 2);
    scan_gemm(l, "gdn_state_update", 0, chunks * H, dk, dv, C, c->d16, 2);
    double b = 6.0 * T * vd / t * ACT_BYTES + 2.0 * chunks * H * dk * dv * FP32_BYTES;
    bytes_op(l, "gdn_elementwise", SP_PART_MEMORY, SP_OPF_CORE, b, 2 * b, SCAN_KERNELS_FWD, SCAN_KERNELS_BWD);
    /* saved as Mamba-2's (fla's chunked delta rule): in_proj output q, k, v, z, b, a; the conv output q, k, v; the
     * output and the gated norm's input (16-bit); the fp32 state of each chunk */
    keep(l, T * ACT_BYTES * ((2 * kd + 2 * vd + 2.0 * m->gdn_v_heads) + (2 * kd + vd) + 2 * vd) / t +
                T * FP32_BYTES * m->gdn_v_heads * dk * dv / GDN_CHUNK / t);
    linear(c, l, "gdn_out_proj", 0, 1, T, h, vd / t, c->d);
    if (sp_dtype_is_quantized(c->d)) {
        c->q_in += T * h + T * vd / t;
        c->q_out += T * (2 * kd + 2 * vd + 2.0 * m->gdn_v_heads) / t + T * h;
    }
}

/* Serving: a chunked scan's batched GEMM, forward only, both operands activations (no weights read); `flags`
 * SP_OPF_SCAN: Mamba-2's SSD, at most the scan rate as in training. */
static void serving_scan(sp_layer_ctx *c, sp_layer_ops *l, const char *name, unsigned flags, double batch, double m,
                         double n, double k)
{
    if (batch <= 0)
        return;
    gemm(l, name, SP_OPF_CORE | flags, 1, m, n, k, c->d16, SP_BWD_NONE);
    sp_op *o = &l->op[l->n - 1];
    o->u.gemm.batch = batch;
    o->u.gemm.wbytes = 0, o->u.gemm.abytes = ACT_BYTES, o->u.gemm.eff_scale = 1;
}

/* Serving form of the recurrent mixers (Mamba-1, Mamba-2, gated DeltaNet) on this GPU's c->T tokens, of which
 * n_pf are prompt tokens (the chunked scan of prefill, as in training's forward) and n_dec decode tokens (one
 * recurrent step each: the sequence's fp32 state and conv window read and written, `state` bytes per sequence on
 * this GPU, heads split over TP). Projections as serving GEMMs over all c->T tokens (weights read once per step).
 * Mamba-1's selective scan (Gu & Dao 2023 §3.3: a fused kernel keeping the state in SRAM) is memory-bound on its
 * inputs and output: delta, x, z, y over the inner width and B, C per token. */
void sp_ops_recurrent_serving(sp_layer_ctx *c, sp_mixer mx, double n_dec, double n_pf, double state, sp_layer_ops *l)
{
    l->module = 0; /* re-run only by full recompute */
    const sp_model *m = c->m;
    double T = c->T, t = c->t, h = c->h, in_w, conv_ch, out_w, scan_b, passes = 6;
    if (mx == SP_MIX_MAMBA1) {
        double in = m->ssm_inner, N = m->ssm_state, r = m->ssm_dt_rank;
        linear(c, l, "mamba_in_proj", 0, 1, T, 2 * in / t, h, c->d);
        linear(c, l, "mamba_x_proj", 0, 1, T, r + 2 * N, in / t, c->d);
        linear(c, l, "mamba_dt_proj", 0, 1, T, in / t, r, c->d);
        bytes_op(l, "selective_scan", SP_PART_MEMORY, SP_OPF_CORE, n_pf * ACT_BYTES * (4.0 * in / t + 2 * N), 0, 1, 0);
        in_w = in / t, conv_ch = in / t, out_w = in / t, scan_b = 0;
    } else if (mx == SP_MIX_MAMBA2) {
        double in = m->ssm_inner, N = m->ssm_state, P = m->ssm_head_dim, Q = SSD_CHUNK, ch = n_pf / Q;
        double H = m->ssm_heads / t, G = m->ssm_groups / t < 1 ? 1 : m->ssm_groups / t;
        linear(c, l, "mamba_in_proj", 0, 1, T, (2 * in + 2.0 * m->ssm_groups * N + m->ssm_heads) / t, h, c->d);
        serving_scan(c, l, "ssd_cb", SP_OPF_SCAN, ch * G, Q, Q, N);
        serving_scan(c, l, "ssd_scan_diag", SP_OPF_SCAN, ch * H, Q, P, Q);
        serving_scan(c, l, "ssd_chunk_state", SP_OPF_SCAN, ch * H, N, P, Q);
        serving_scan(c, l, "ssd_state_out", SP_OPF_SCAN, ch * H, Q, P, N);
        in_w = in / t, conv_ch = (in + 2.0 * m->ssm_groups * N) / t, out_w = in / t;
        scan_b = 0, passes = SSD_PASSES_FWD; /* the chunk states' traffic is inside the scan rate */
    } else { /* gated DeltaNet */
        double dk = m->gdn_k_dim, dv = m->gdn_v_dim, C = GDN_CHUNK, ch = n_pf / C;
        double kd = (double)m->gdn_k_heads * dk, vd = (double)m->gdn_v_heads * dv, H = m->gdn_v_heads / t;
        linear(c, l, "gdn_in_proj", 0, 1, T, (2 * kd + 2 * vd + 2.0 * m->gdn_v_heads) / t, h, c->d);
        serving_scan(c, l, "gdn_qk_kk", 0, 2 * ch * H, C, C, dk);
        serving_scan(c, l, "gdn_wy_values", 0, 2 * ch * H, C, dv, C);
        serving_scan(c, l, "gdn_state_out", 0, ch * H, C, dv, dk);
        serving_scan(c, l, "gdn_state_update", 0, ch * H, dk, dv, C);
        in_w = vd / t, conv_ch = (2 * kd + vd) / t, out_w = vd / t;
        scan_b = 2.0 * ch * H * dk * dv * FP32_BYTES;
    }
    bytes_op(l, "conv1d", SP_PART_MEMORY, 0, T * conv_ch * ACT_BYTES * CONV_PASSES, 0, 1, 0);
    /* gating and normalisation passes over the inner width, the prefill chunk states */
    bytes_op(l, "scan_elementwise", SP_PART_MEMORY, SP_OPF_CORE, passes * T * in_w * ACT_BYTES + scan_b, 0,
             mx == SP_MIX_MAMBA2 ? SSD_KERNELS_FWD : SCAN_KERNELS_FWD, 0);
    if (n_dec > 0) /* the decode step: each sequence's state read and written once */
        bytes_op(l, "state_update", SP_PART_MEMORY, SP_OPF_CORE, 2.0 * n_dec * state, 0, 1, 0);
    linear(c, l, mx == SP_MIX_GDN ? "gdn_out_proj" : "mamba_out_proj", 0, 1, T, h, out_w, c->d);
}

/* ETP's own reduction of the routed experts' output (forward) and input gradient (backward) over the ETP group
 * (innermost on the expert side), and when ETP < TP without sequence parallelism the re-replication of the combined
 * output over the TP/ETP sub-groups that each took a slice of the TP group's tokens. Under sequence parallelism no
 * such gather runs: each TP rank routes its own T/TP tokens and the layer's output stays sequence-sharded (Megatron-
 * Core's dispatchers gather over the ETP group only, NVIDIA/Megatron-LM@core_v0.14.0:megatron/core/transformer/moe/
 * token_dispatcher.py:65-66 tp_group = expt_tp, :650-661). */
static void moe_etp(sp_layer_ctx *c, sp_layer_ops *l, double e, double Tx)
{
    const sp_model *m = c->m;
    double t = c->t, h = c->h, k = m->top_k, hr = m->moe_latent > 0 ? m->moe_latent : h;
    if (e == t)
        return;
    if (e > 1)
        coll(l, "etp_allreduce", SP_PART_TP, 1, SP_COLL_ALLREDUCE, (int)e, 1, Tx * k * hr * ACT_BYTES, 1, 1);
    if (e < t && !c->p->seq_parallel)
        coll(l, "etp_allgather", SP_PART_TP, 1, SP_COLL_ALLGATHER, (int)(t / e), (int)e, c->T * h * ACT_BYTES, 1, 1);
    if (m->n_shared_experts == 0)
        c->mlp_tp_ops = 0; /* no TP-sharded FFN left in this layer: only the attention's TP reduction */
}

/* Bytes per dispatched value. DeepSeek-V3 sends the dispatch in FP8 when its GEMMs run in FP8 (arXiv:2412.19437
 * §3.3), the default here. A stack with kernels.alltoall_dispatch_16bit sends the layer's 16-bit activations on its
 * all-to-all and all-gather dispatchers and quantizes in the expert GEMMs: Megatron-Core's MoEAlltoAllTokenDispatcher
 * permutes the MoE layer's BF16 input and hands it to all_to_all as is (NVIDIA/Megatron-LM@d98e8a64ddf3:
 * megatron/core/transformer/moe/token_dispatcher.py:669-677, 705-711; no quantization in the file at core_v0.14.0
 * .. core_v0.17.0, the Megatron Core of the 25.09 .. 26.06 releases), TE's GroupedLinear casting each expert's input
 * (fp8_casts). Megatron-Core's flex dispatchers send 16 bits too (fused_a2a.py:402 `fp8_dispatch = False`) but
 * carry a token across the network once per destination node (DeepEP, HybridEP); that deduplication is not priced,
 * so they keep the k FP8 copies here (docs/model.md "Known gaps", the EP dispatch payload). */
static double moe_dispatch_bytes(const sp_layer_ctx *c)
{
    sp_moe_dispatcher d = c->p->moe_dispatcher;
    int nccl = d == SP_DISP_ALLTOALL || d == SP_DISP_ALLGATHER;
    if (!sp_dtype_is_quantized(c->d) || (c->s->a2a_dispatch_16bit && nccl))
        return ACT_BYTES;
    return sp_dtype_bytes(c->d);
}

/* EP all-to-all: dispatch + combine of T·k token copies of h values, forward and backward. Dispatch at
 * moe_dispatch_bytes, combine in 16 bits. With node-limited routing (HF `topk_group`:
 * each token's experts lie in at most that many expert groups = nodes), a token crosses the network once per
 * destination node and fans out over the scale-up tier (DeepEP): the cross-node part carries min(k, topk_group)
 * copies instead of k (collective.c). The busiest rank's volume (Tx) sets the time. */
static void moe_alltoall(sp_layer_ctx *c, sp_layer_ops *l, double e, double Tx)
{
    const sp_model *m = c->m;
    const sp_plan *p = c->p;
    if (p->ep <= 1)
        return;
    double k = m->top_k, h = m->moe_latent > 0 ? m->moe_latent : c->h; /* LatentMoE sends the latent */
    /* unfolded with ETP = TP: EP above TP x CP; otherwise (ETP != TP, or folded) the expert layout's ETP innermost,
     * then EP (plan.c) */
    int stride = e == c->t && !p->ep_fold ? p->tp * p->cp : (int)e;
    double disp_b = moe_dispatch_bytes(c);
    double copies_out = m->topk_group > 0 && m->topk_group < k ? m->topk_group : k;
    sp_op *d = coll(l, "ep_dispatch", SP_PART_EP, 1, SP_COLL_ALLTOALL, p->ep, stride, Tx * k * h * disp_b, 1, 1);
    sp_op *b = coll(l, "ep_combine", SP_PART_EP, 1, SP_COLL_ALLTOALL, p->ep, stride, Tx * k * h * ACT_BYTES, 1, 1);
    d->u.coll.cross = b->u.coll.cross = copies_out / k;
}

/* Token permutation around the grouped expert GEMMs (Megatron-Core's MoEAlltoAllTokenDispatcher,
 * NVIDIA/Megatron-LM megatron/core/transformer/moe/token_dispatcher.py with moe_utils.py permute / unpermute /
 * sort_chunks_by_idxs): "permutation 1" gathers the k copies of each token in expert order before dispatch (read T,
 * write T·k rows); with several local experts "permutation 2" sorts the received copies by local expert (read +
 * write T·k) and is undone after the experts (read + write T·k); unpermute scatters the weighted copies back onto
 * the tokens (read T·k, write T). Memory-bound whether fused (moe_permute_fusion: one kernel each) or not; backward
 * moves the same bytes in the other direction. The busiest rank's copies (Tx) set the time.
 * The flex dispatchers (DeepEP, HybridEP) send each token once per destination rank, whatever the number of that
 * rank's experts it picked, read it straight from the layer input and reduce its returning copies inside the combine
 * kernel: no permutation 1 and no unpermute on the source side. The receiving rank holds its Td distinct tokens and
 * permutes them into expert order, one row per (token, local expert) (read Td, write Tx·k rows), and the combine
 * side undoes it, summing a token's local copies (read Tx·k, write Td): DeepEP through Megatron-Core's permute /
 * unpermute (NVIDIA/Megatron-LM@d98e8a64ddf3:megatron/core/transformer/moe/token_dispatcher.py:1424-1466,
 * _DeepepManager.get_permuted_hidden_states_by_experts, get_restored_hidden_states_by_experts), HybridEP in its own
 * permute and unpermute kernels run by dispatch_with_permute / combine_with_unpermute (deepseek-ai/DeepEP@0237ba62
 * csrc/hybrid_ep/executor/executor.cu dispatch_postprocess: permute_launcher from the dispatch buffer,
 * combine_preprocess: unpermute_launcher into the combine buffer; Megatron-Core's moe_permute_fusion_into_hybridep,
 * which would fold them into the communication kernels, is core_v0.18.0's and off by default,
 * transformer_config.py:804 there). Under uniform routing (the tables' force-balanced router) a token's k experts,
 * drawn without replacement from E, miss a rank's E/ep with probability C(E - E/ep, k) / C(E, k): Td = ep·Tx·(1 -
 * that). */
static double flex_received(const sp_layer_ctx *c, double Tx)
{
    double E = c->m->n_experts, k = c->m->top_k, ep = c->p->ep, local = E / ep, miss = 1;
    for (int i = 0; i < (int)k && miss > 0; i++)
        miss *= sp_pos(E - local - i) / (E - i);
    return ep * Tx * (1 - miss);
}

static void moe_permute(sp_layer_ctx *c, sp_layer_ops *l, double Tx, double hr, double experts_here)
{
    double k = c->m->top_k, T = c->T;
    double sorts = experts_here > 1 ? 2 : 0;
    sp_moe_dispatcher d = c->p->moe_dispatcher;
    int flex = (d == SP_DISP_HYBRIDEP || d == SP_DISP_DEEPEP) && c->p->ep > 1;
    double rows = flex ? 2 * (flex_received(c, Tx) + Tx * k) : 2 * T + 2 * Tx * k + 2 * sorts * Tx * k;
    double b = rows * hr * ACT_BYTES;
    /* kernels: permute and unpermute (2) and the two sorts; DeepEP the permute and the unpermute; HybridEP's run
     * inside its dispatch and combine calls (hybrid_ep_dispatch permutes in token_dispatch, hybrid_ep_combine
     * unpermutes in token_combine, the dispatcher's post-/pre-processing being identities:
     * NVIDIA/Megatron-LM@d98e8a64ddf3:megatron/core/transformer/moe/token_dispatcher.py:1148-1166, :1183-1188,
     * :1205-1209), so they overlap wherever the all-to-all does (SP_OPF_IN_EP: overlap_ep, sp_layer_price) */
    double kern = d == SP_DISP_HYBRIDEP ? 0 : flex ? 2 : 2 + sorts;
    bytes_op(l, "moe_permute", SP_PART_MEMORY, d == SP_DISP_HYBRIDEP ? SP_OPF_IN_EP : 0, b, b, kern, kern);
}

/* the router's score function and top-k, the aux loss and the dispatcher's preprocessing (kernel counts above),
 * memory-bound over the T x E fp32 scores; scopes moe_router and moe_preprocess */
static void moe_router_kernels(sp_layer_ctx *c, sp_layer_ops *l)
{
    const sp_model *m = c->m;
    double scores = c->T * m->n_experts * FP32_BYTES;
    int i0 = l->n;
    if (c->p->moe_router_fusion) {
        bytes_op(l, "moe_router_topk", SP_PART_MEMORY, SP_OPF_FFN, ROUTER_FUSED_PASSES * scores,
                 ROUTER_FUSED_PASSES * scores, 1, 1);
        bytes_op(l, "moe_aux_loss", SP_PART_MEMORY, SP_OPF_FFN, AUX_FUSED_PASSES_FWD * scores,
                 AUX_FUSED_PASSES_BWD * scores, AUX_FUSED_KERNELS_FWD, AUX_FUSED_KERNELS_BWD);
    } else {
        bytes_op(l, "moe_router_topk", SP_PART_MEMORY, SP_OPF_FFN, ROUTER_KERNELS_FWD * 2 * scores,
                 ROUTER_KERNELS_BWD * 2 * scores, ROUTER_KERNELS_FWD, ROUTER_KERNELS_BWD);
        bytes_op(l, "moe_aux_loss", SP_PART_MEMORY, SP_OPF_FFN, AUX_KERNELS_FWD * 2 * scores,
                 AUX_KERNELS_BWD * 2 * scores, AUX_KERNELS_FWD, AUX_KERNELS_BWD);
    }
    if (c->p->tp * c->p->cp > 1)
        coll(l, "moe_aux_allreduce", SP_PART_EP, 1, SP_COLL_ALLREDUCE, c->p->tp * c->p->cp, 1,
             m->n_experts * FP32_BYTES, 1, 0);
    tag(l, i0, SP_GRAPH_MOE_ROUTER);
    i0 = l->n;
    bytes_op(l, "moe_preprocess", SP_PART_MEMORY, 0, 0, 0, PREPROCESS_KERNELS, 0);
    tag(l, i0, SP_GRAPH_MOE_PREPROCESS);
}

/* quantization kernels one expert's split quantization launches (GROUPED_HOST_* above) */
static double split_quant_kernels(sp_dtype d, sp_fp8_recipe r)
{
    if (!sp_dtype_is_quantized(d) || (d == SP_FP8 && r == SP_FP8_DELAYED))
        return 0;
    if (d == SP_NVFP4 || (d == SP_FP8 && r == SP_FP8_CURRENT))
        return 3;
    return 1;
}

/* the host operations of one expert's run through a grouped GEMM, forward and backward (GROUPED_HOST_* above) */
static void grouped_host(const sp_layer_ctx *c, sp_op *o)
{
    int qz = sp_dtype_is_quantized(c->d);
    double qk = split_quant_kernels(c->d, c->p->fp8_recipe);
    o->host_f = GROUPED_HOST_FWD + (qz ? GROUPED_HOST_FWD_QUANTIZED : 0) + qk;
    o->host_b = GROUPED_HOST_BWD + qk;
}

/* shared experts (a dense MLP of n_shared x the expert width, TP-sharded) and the router, on all T tokens */
static void moe_shared_router(sp_layer_ctx *c, sp_layer_ops *l)
{
    const sp_model *m = c->m;
    double T = c->T, t = c->t, h = c->h, mats = m->gated ? 2.0 : 1.0, ns = m->n_shared_experts;
    if (ns > 0) { /* the shared_experts module, part of the moe module */
        double sf = (double)m->moe_ffn_dim * ns;
        l->module = SP_RCM_MOE | SP_RCM_SHARED_EXPERTS;
        linear(c, l, "shared_up", SP_OPF_FFN, 1, T, mats * sf / t, h, c->d);
        linear(c, l, "shared_down", SP_OPF_FFN, 1, T, h, sf / t, c->d);
        keep(l, T * sf / t * saved_input_bytes(c));
    }
    l->module = SP_RCM_MOE;
    linear(c, l, "router", SP_OPF_FFN, 1, T, m->n_experts, h, c->d16); /* 16-bit under FP8 (DeepSeek-V3 §3.3.1) */
}

/* LatentMoE at serving (Nemotron-3 Super, HF moe_latent_size): the router reads the h-wide token, fc1_latent_proj
 * takes it h -> latent before dispatch, the routed experts work in the latent width and fc2_latent_proj takes their
 * sum back to h. The two projections are replicated over TP: TensorRT-LLM builds them as plain `Linear` without a
 * tensor-parallel mode (NVIDIA/TensorRT-LLM tensorrt_llm/_torch/models/modeling_nemotron_h.py, NemotronHMOE), so
 * every TP rank reads both h x latent matrices and runs them on all its tokens (the experts' TP partial sums pass
 * through fc2 unchanged, being linear, and are reduced by the layer's all-reduce). The EP all-to-all carries the
 * latent. */
void sp_ops_moe_serving(sp_layer_ctx *c, int ep, double experts, double tokens, sp_layer_ops *l)
{
    l->module = 0; /* re-run only by full recompute */
    const sp_model *m = c->m;
    double t = c->t, h = c->h, fe = m->moe_ffn_dim, mats = m->gated ? 2.0 : 1.0;
    double hr = m->moe_latent > 0 ? m->moe_latent : h;
    moe_shared_router(c, l);
    if (m->moe_latent > 0) {
        serving_gemm(c, l, "latent_down", 1, c->T, hr, h);
        serving_gemm(c, l, "latent_up", 1, c->T, h, hr);
    }
    if (experts > 0) {
        serving_gemm(c, l, "experts_up", experts, tokens, mats * fe / t, hr);
        serving_gemm(c, l, "experts_down", experts, tokens, hr, fe / t);
    }
    if (ep > 1) /* dispatch and combine */
        coll(l, "ep_alltoall", SP_PART_EP, 2, SP_COLL_ALLTOALL, ep, (int)t, c->T * m->top_k * hr * c->abytes, 1, 0);
}

/* the routed experts' output bias, added per expert in Megatron-Core's eager loop (EXPERT_BIAS_* above): rows is the
 * rank's routed copies, w the output width */
static void moe_expert_bias(sp_layer_ctx *c, sp_layer_ops *l, double experts, double rows, double w)
{
    const sp_model *m = c->m;
    const sp_plan *p = c->p;
    if (!(m->mlp_bias || m->biases) || (p->cuda_graphs & SP_GRAPH_FULL_ITERATION))
        return;
    int p32 = p->moe_dispatcher == SP_DISP_DEEPEP || p->moe_dispatcher == SP_DISP_HYBRIDEP;
    double n = rows * w;
    double kf = experts * EXPERT_BIAS_KERN_FWD + 1 + p32;
    double kb = experts * (EXPERT_BIAS_KERN_BWD + (p32 ? EXPERT_BIAS_KERN_BWD_B32 : 0)) + 2 + p32;
    bytes_op(l, "expert_bias", SP_PART_MEMORY, SP_OPF_FFN, n * (p32 ? EXPERT_BIAS_FWD_B32 : EXPERT_BIAS_FWD_B16),
             n * (p32 ? EXPERT_BIAS_BWD_B32 : EXPERT_BIAS_BWD_B16), kf, kb);
}

/* the clamped activation's eager clamps and concatenation (CLAMP_* above) over the rank's routed rows, each f wide per
 * half; not under a full-iteration graph, whose recipes run the experts through Transformer Engine's op fuser, its
 * ScaledClampedQGeGLU clamping inside the fused activation (NVIDIA/Megatron-LM@core_v0.18.0 megatron/core/transformer/
 * moe/experts.py:446-460; NVIDIA-NeMo/Megatron-Bridge@5cb3444c43f7 scripts/performance/configs/gpt_oss/
 * gpt_oss_llm_pretrain.py:150-153 and 170-174 set use_transformer_engine_op_fuser with the full-iteration graph) */
static void moe_act_clamp(sp_layer_ctx *c, sp_layer_ops *l, double rows, double f)
{
    if (!(c->m->act_clamp > 0) || !c->m->gated || (c->p->cuda_graphs & SP_GRAPH_FULL_ITERATION))
        return;
    double n = rows * f;
    unsigned mod = l->module;
    l->module = SP_RCM_MOE | SP_RCM_MOE_ACT; /* inside the checkpointed activation: re-run by moe_act and moe */
    bytes_op(l, "act_clamp", SP_PART_MEMORY, SP_OPF_FFN, n * CLAMP_FWD_BYTES, n * CLAMP_BWD_BYTES, CLAMP_KERN_FWD,
             CLAMP_KERN_BWD);
    keep_as(l, 2 * n * ACT_BYTES, SP_RCM_MOE | SP_RCM_MOE_ACT, 0);
    l->module = mod;
}

/* Transformer Engine's CuTe-DSL fused grouped MLP (plan.moe_fused_mlp; Megatron-Bridge's cutedsl_fused_grouped_mlp
 * turns on Megatron-Core's use_transformer_engine_op_fuser and NVTE_CUTEDSL_FUSED_GROUPED_MLP=1:
 * NVIDIA-NeMo/Megatron-Bridge@fcbb6031103d scripts/performance/utils/overrides.py:238-243, perf_plugins.py:308-309).
 * TE fuses the experts' GroupedLinear + scaled GLU + GroupedLinear only under an MXFP8 recipe, on SM 10.x, for
 * SwiGLU or the clamped GeGLU (NVIDIA/TransformerEngine@42b840051647 = v2.15, transformer_engine/pytorch/ops/
 * _common.py:118-178 fuse_grouped_mlp_ops; ops/fused/forward_grouped_mlp.py:73-83 is_supported, :77 and
 * backward_grouped_mlp.py:325: compute capability major 10, the accelerator's compute_capability field 10.x, B200 /
 * GB200 10.0, B300 / GB300 10.3; the kernels arrived in v2.15 with TransformerEngine#2769). Forward, one cuDNN
 * CuTe-DSL kernel runs the first grouped GEMM, the probability-scaled GLU and the MXFP8 quantization of the second
 * GEMM's input in its epilogue, writing the GEMM output (saved for backward) and the row- and column-wise MXFP8
 * copies (forward_grouped_mlp.py:350-368 grouped_gemm_glu_wrapper_sm100, c_tensor / d_tensor / d_col_tensor; :478
 * saves c_tensor); backward, the second GEMM's data-gradient kernel reads the saved GEMM output and writes the first
 * GEMM's output gradient as MXFP8 row- and column-wise copies (backward_grouped_mlp.py:526 c_tensor in, :582-591
 * grouped_gemm_dglu_wrapper_sm100, d_row_tensor / d_col_tensor out). Gone: the activation's elementwise pass both
 * ways (elementwise, f_fused) and the two quantizations' reads of their 16-bit inputs, which never exist (fp8_casts:
 * q_in / q_out drop those operands). Kept, as the bytes of "fused_mlp_epilogue" beside the GEMMs (no overlap with
 * their math assumed): forward the MXFP8 copies' writes, backward the saved output's read (two halves, 16-bit) and
 * the gradient's MXFP8 copies (two halves). No GEMM rate of the CuTe-DSL kernels is published: the grouped GEMMs
 * keep the family's curve. */
static int moe_fused(const sp_layer_ctx *c)
{
    return c->p->moe_fused_mlp && c->d == SP_MXFP8 && c->m->gated && c->s->acc.cc / 10 == 10;
}

/* the backward dGLU kernel's time over the curve's (DGLU_DBIAS_* above): the regressed dbias path of cudnn-frontend
 * [1.24.0, 1.26.0) when the experts' first GEMM has a bias, else 1 */
static double moe_dglu_slowdown(const sp_layer_ctx *c)
{
    int fe = c->s->cudnn_frontend, bias = c->m->mlp_bias || c->m->biases;
    return bias && fe >= DGLU_DBIAS_SLOW_FROM && fe < DGLU_DBIAS_FIXED_IN ? DGLU_DBIAS_SLOWDOWN : 1.0;
}

/* the fused kernels' epilogue traffic over n = rows x the GLU's output width (moe_fused above); the backward's part
 * (the dGLU kernel's epilogue) x its slowdown x */
static void moe_fused_epilogue(sp_layer_ops *l, double n, double x)
{
    double b8 = 2 * sp_dtype_bytes(SP_MXFP8); /* row- and column-wise copies, block scales included */
    bytes_op(l, "fused_mlp_epilogue", SP_PART_MEMORY, SP_OPF_FFN, n * b8, x * n * (2 * ACT_BYTES + 2 * b8), 0, 0);
}

/* Drop-and-pad: the rows of one local expert's GEMM. Megatron-Core's all-to-all dispatcher gives each expert
 * capacity = ceil(c x n·k/E) rows from each of the ETP x EP ranks of its group, n the T/TP sequence-parallel tokens
 * a rank routes, and pads what is short (NVIDIA/Megatron-LM@d98e8a64ddf3:megatron/core/transformer/moe/
 * token_dispatcher.py:517-540, moe_utils.py:248-266 get_capacity); the all-to-all moves the padded buffers
 * (num_out_tokens = capacity x E). c x the mean up to that ceil. */
static double moe_pad_m(const sp_layer_ctx *c)
{
    const sp_model *m = c->m;
    double cap = ceil(c->p->capacity_factor * (c->T / c->t) * m->top_k / m->n_experts);
    return cap * sp_plan_etp(c->p) * c->p->ep;
}

void sp_ops_moe(sp_layer_ctx *c, sp_layer_ops *l)
{
    const sp_model *m = c->m;
    const sp_plan *p = c->p;
    double T = c->T, t = c->t, h = c->h, mats = m->gated ? 2.0 : 1.0;
    double fe = m->moe_ffn_dim, E = m->n_experts, k = m->top_k, ns = m->n_shared_experts;
    double e = sp_plan_etp(p);
    double experts_here = E / p->ep;
    /* load of the busiest EP rank (imbalance, capacity; plan.c) times the ETP/TP token redistribution: the expert
     * side folds the same GPUs as ETP x EP x EDP (EDP = TP·CP·DP/ETP), so each expert replica serves ETP/TP of the
     * tokens a TP group would, at 1/ETP of the width (ETP = TP: TP-sharded experts) */
    double load = sp_moe_load(m, p);
    double Tx = T * (e / t) * load;
    double tok = Tx * p->ep * k / E; /* tokens routed to one local expert: uniform routing over the EP group */
    if (p->moe_pad && p->capacity_factor > 0) { /* drop-and-pad: every expert's buffer at capacity */
        tok = moe_pad_m(c);
        Tx = tok * E / (p->ep * k), load = Tx / (T * (e / t));
    }
    double up = mats * fe / e;
    const unsigned ffn = SP_OPF_FFN;
    /* LatentMoE (Nemotron-3 Super, HF moe_latent_size): tokens are projected h -> latent before dispatch and back
     * after combine, the routed experts work in the latent width. Megatron-Core builds both projections as TE
     * Linears with parallel_mode "duplicated" (NVIDIA/Megatron-LM@9539a12e1b04 = core_v0.17.0,
     * megatron/core/transformer/moe/moe_layer.py:243-275): every TP rank holds the whole h x latent matrix and
     * runs it on its T/t sequence-parallel tokens (MoE training with TP needs SP, :546-550). fc1_latent_proj runs
     * in preprocess (:420-425), inside the moe_preprocess CUDA-graph scope; fc2_latent_proj in postprocess. */
    double hr = m->moe_latent > 0 ? m->moe_latent : h;
    l->module = SP_RCM_MOE; /* the moe module: every op of the MoE layer */
    if (m->moe_latent > 0) {
        linear(c, l, "latent_down", ffn, 1, T / t, hr, h, c->d);
        l->op[l->n - 1].graph = SP_GRAPH_MOE_PREPROCESS;
        linear(c, l, "latent_up", ffn, 1, T / t, h, hr, c->d);
    }
    /* saved: the FFN block's input once per token (Korthikanti's MLP input; the k routed copies and the router's
     * logits are not counted apart): the output of the MoE layer's separate pre-MLP norm (gpt_layer_specs.py:313),
     * which layernorm recompute discards and moe recompute keeps as its checkpoint (16-bit); the routed
     * down-projections' inputs, the activation's output that moe_act recompute discards (experts.py:1019-1030) */
    linear(c, l, "experts_up", ffn | SP_OPF_GROUPED, experts_here, tok, up, hr, c->d);
    grouped_host(c, &l->op[l->n - 1]);
    keep_as(l, block_input(c) * saved_input_bytes(c), SP_RCM_MOE | SP_RCM_LAYERNORM, 0);
    keep_as(l, block_input(c) * ACT_BYTES, SP_RCM_LAYERNORM, SP_RCM_MOE);
    linear(c, l, "experts_down", ffn | SP_OPF_GROUPED, experts_here, tok, hr, fe / e, c->d);
    int i_down = l->n - 1;
    grouped_host(c, &l->op[i_down]);
    keep_as(l, experts_here * tok * fe / e * saved_input_bytes(c), SP_RCM_MOE | SP_RCM_MOE_ACT, 0);
    moe_expert_bias(c, l, experts_here, experts_here * tok, hr);
    moe_act_clamp(c, l, experts_here * tok, fe / e);
    int fused = moe_fused(c);
    if (fused) {
        double x = moe_dglu_slowdown(c);
        l->op[i_down].u.gemm.dgrad_x = x; /* the second GEMM's data gradient is the dGLU kernel's GEMM */
        moe_fused_epilogue(l, experts_here * tok * fe / e, x);
    }
    tag(l, 0, SP_GRAPH_MOE); /* the mixer's ops are tagged already (sp_layer_build_kind) */
    int i0 = l->n;
    moe_shared_router(c, l);
    tag(l, i0, SP_GRAPH_MOE_ROUTER); /* shared experts and router GEMM: Megatron's moe_router scope */
    moe_router_kernels(c, l);
    c->f_act = (k * load + ns) * fe / t;
    c->f_fused = fused ? k * load * fe / t : 0;
    if (sp_dtype_is_quantized(c->d)) {
        /* routed tokens are cast once before a quantized dispatch, else each received copy by the expert GEMM
         * (moe_dispatch_bytes); shared experts as a dense MLP; the fused MLP quantizes in its epilogues */
        double routed_in = moe_dispatch_bytes(c) < ACT_BYTES ? T * hr : experts_here * tok * hr;
        c->q_in += routed_in + (fused ? 0 : experts_here * tok * fe / e) + T * fe * ns / t;
        c->q_out += experts_here * tok * ((fused ? 0 : up) + hr) + T * (mats + 1) * fe * ns / t;
    }
    i0 = l->n;
    moe_permute(c, l, Tx, hr, experts_here);
    moe_etp(c, l, e, Tx);
    moe_alltoall(c, l, e, Tx);
    tag(l, i0, SP_GRAPH_MOE);
    l->module = 0;
}

/* LoRA adapter on a (din -> dout) projection: x·A (din x r) then ·B (r x dout), both trained. */
static void lora(sp_layer_ctx *c, sp_layer_ops *l, const char *a, const char *b, double count, double din, double dout)
{
    double r = c->p->lora_rank;
    gemm(l, a, SP_OPF_LINEAR, count, c->T, r, din, c->d, SP_BWD_WEIGHT);
    gemm(l, b, SP_OPF_LINEAR, count, c->T, dout, r, c->d, SP_BWD_WEIGHT);
}

static void adapters(sp_layer_ctx *c, int moe, sp_layer_ops *l)
{
    const sp_model *m = c->m;
    const sp_plan *p = c->p;
    if (p->lora_rank <= 0)
        return;
    double t = c->t, h = c->h, qd = c->qd, kvd = c->kvd, f = m->ffn_dim;
    if (p->lora_targets & SP_LORA_ATTN) {
        lora(c, l, "lora_q_a", "lora_q_b", 1, h, qd / t);
        lora(c, l, "lora_kv_a", "lora_kv_b", 2, h, kvd / t);
        lora(c, l, "lora_o_a", "lora_o_b", 1, qd / t, h);
    }
    if ((p->lora_targets & SP_LORA_MLP) && !moe) {
        lora(c, l, "lora_up_a", "lora_up_b", m->gated ? 2 : 1, h, f / t);
        lora(c, l, "lora_down_a", "lora_down_b", 1, f / t, h);
    }
}

/* QLoRA-style: the layer's quantized weights are dequantized to 16 bits before each use (forward and backward):
 * read the packed bytes, write 2 bytes per weight. Counted with the GEMMs it feeds (compute part). */
static void dequant(sp_layer_ctx *c, int moe, sp_layer_ops *l)
{
    const sp_plan *p = c->p;
    if (!(p->frozen_base && p->base_weight_bytes > 0 && p->base_weight_bytes < 2))
        return;
    const sp_param_count *pc = c->pc;
    double w = (pc->attn_per_layer + (moe ? pc->moe_per_layer / p->ep : pc->mlp_dense_per_layer)) / c->t;
    double b = w * (p->base_weight_bytes + ACT_BYTES);
    bytes_op(l, "dequant", SP_PART_COMPUTE, SP_OPF_LINEAR, b, b, DEQUANT_KERNELS, DEQUANT_KERNELS);
}

/* FP8 attention's rate against the BF16 kernel's (MXFP8_* above): cuDNN's MXFP8 kernel where the plan asks for FP8
 * attention under MXFP8 with the cuDNN attention class on compute capability >= 10.0 (Transformer Engine disables
 * FusedAttention for MXFP8 below: NVIDIA/TransformerEngine@42b840051647 transformer_engine/pytorch/attention/
 * dot_product_attention/utils.py:590-593): the accelerator's own measured ratios where it states them
 * (efficiency.mxfp8_attn: GB300 / B300, whose doubled exponential throughput speeds the FP8 forward), else GB200's
 * (taken for the others); the op's fwd_x / bwd_x scale flash_rate (0: the 16-bit kernel) */
static void flash_fp8(const sp_layer_ctx *c, sp_op *o, double sk)
{
    if (!c->p->fp8_attention || c->d != SP_MXFP8 || c->s->attn_kernel != SP_ATTN_CUDNN || c->s->acc.cc < 100)
        return;
    static const double gb200[6] = {MXFP8_ATTN_FWD, MXFP8_ATTN_BWD, MXFP8_ATTN_MLA_FWD, MXFP8_ATTN_MLA_BWD,
                                    MXFP8_BAND_FWD, MXFP8_BAND_BWD_TOKENS};
    const double *own = c->s->acc.eff.mxfp8_attn, *r = own[0] > 0 ? own : gb200; /* measured here, else GB200's */
    int i = o->u.flash.band ? 4 : c->mixer == SP_MIX_MLA ? 2 : 0;
    o->u.flash.fwd_x = r[i];
    o->u.flash.bwd_x = o->u.flash.band ? r[5] / sk : r[i + 1];
}

static void attention_core(sp_layer_ctx *c, sp_layer_ops *l)
{
    const sp_model *m = c->m;
    const sp_plan *p = c->p;
    double heads = m->n_heads / c->t;
    double dqk = m->kv_lora_rank > 0 ? m->qk_nope_head_dim + m->qk_rope_head_dim : m->d_head;
    double dv = m->kv_lora_rank > 0 ? m->v_head_dim : m->d_head;
    double sq = p->seq_len / (double)p->cp, sk = p->seq_len; /* queries here, keys visited (ring over CP) */
    double b = p->micro_batch;
    /* saved: Q, K, V (16-bit, Korthikanti's widths qd, kvd), the core_attn checkpoint's inputs, which MLA's
     * mla_up_proj recompute discards (multi_latent_attention.py:455-457); without flash also the scores, which
     * core_attn recompute drops and re-runs. A fused kernel is not re-run: its backward recomputes the scores
     * anyway (Megatron-Core warns core_attn recompute is not needed with fused attention, transformer_config.py:
     * 1983-1989), so core_attn under flash keeps Q, K, V and costs nothing */
    unsigned qkv_drop = c->mixer == SP_MIX_MLA ? SP_RCM_MLA_UP_PROJ : 0;
    l->module = 0;
    double T = c->T, q = T * c->qd / c->t * ACT_BYTES, kv = T * c->kvd / c->t * ACT_BYTES;
    /* learned softmax sinks need a fused kernel that adds the sink logit; where the stack's has none the unfused
     * core runs (Transformer Engine: softmax_type other than vanilla disables FlashAttention, leaving FusedAttention
     * (cuDNN >= 9.13.1) and UnfusedDotProductAttention, transformer_engine/pytorch/attention/dot_product_attention/
     * utils.py "Filter: Softmax type") */
    if (c->flash && !(m->attn_sinks && c->s->attn_no_sinks)) {
        /* keys the kernel computes per query: the causal half of the context (whole blocks below the diagonal),
         * of each sample's own context when sequences are packed (packed_key_share), or for a sliding layer at most
         * its window plus the query tile's diagonal block, the key blocks outside the band skipped
         * (sliding_band_keys; the narrow band's rate where the family has one) */
        double full = FLASH_CAUSAL_SHARE * sk, keys = full * packed_key_share(sp_plan_attn_context(p), sk);
        double band = c->mixer == SP_MIX_SWA ? sliding_band_keys(m->sliding_window, sk) : full;
        sp_op *o = push(l, "flash_attention", SP_OP_FLASH, SP_PART_COMPUTE, SP_OPF_CORE, 1);
        o->u.flash.flops = 2.0 * b * heads * sq * fmin(keys, band) * (dqk + dv);
        o->u.flash.dtype = c->d16;
        o->u.flash.band = band < full;
        o->u.flash.hd = dqk + dv;
        flash_fp8(c, o, sk);
        keep_as(l, q + 2 * kv, qkv_drop, 0);
        return;
    }
    /* unfused: the full s x s scores, a sliding window applied as a mask (TE's UnfusedDotProductAttention converts
     * window_size to an 'arbitrary' mask; Megatron's fused softmax masks) */
    double E = b * heads * sq * sk, B = ACT_BYTES;
    l->module = SP_RCM_CORE_ATTN;
    gemm(l, "scores", SP_OPF_CORE, 1, sq, sk, dqk, c->d16, SP_BWD_TWICE);
    l->op[l->n - 1].u.gemm.batch = b * heads;
    keep_as(l, q + kv, qkv_drop, 0);
    gemm(l, "values", SP_OPF_CORE, 1, sq, dv, sk, c->d16, SP_BWD_TWICE);
    l->op[l->n - 1].u.gemm.batch = b * heads;
    keep_as(l, kv, qkv_drop, 0);
    keep_scores(l, E * B); /* its input: the dropout's output (without dropout: the softmax output itself) */
    if (m->attn_dropout > 0) {
        /* fused scale-mask-softmax: read + write; dropout: read, write, 1-byte mask; backward: softmax's (read
         * output and gradient, write) and dropout's (read gradient and mask, write) */
        bytes_op(l, "softmax_dropout", SP_PART_MEMORY, SP_OPF_CORE, E * (2 * B + 2 * B + 1), E * (3 * B + 2 * B + 1),
                 SOFTMAX_KERNELS, SOFTMAX_KERNELS);
        keep_scores(l, E * (B + DROPOUT_MASK_BYTES)); /* the softmax output and the dropout mask */
    } else /* the softmax alone: its output is the values GEMM's input, kept once */
        bytes_op(l, "softmax", SP_PART_MEMORY, SP_OPF_CORE, E * 2 * B, E * 3 * B, 1, 1);
    l->module = 0;
}

/* The passes inside `elementwise` that an output-discarding module re-runs (transformer_config.py:580-582: moe_act
 * and layernorm discard their output and recompute it in the backward): a separate norm (the MoE layer's pre-MLP norm,
 * MLA's input norm: read and write r·2 B each) for layernorm; the activation function (read its gated inputs, write
 * its output) for moe_act and moe (the routed experts') or mlp (the dense MLP's). */
static void rerun_passes(sp_layer_ctx *c, sp_layer_ops *l, double rep)
{
    double norms = (c->ffn == SP_FFN_MOE) + (c->mixer == SP_MIX_MLA), B = ACT_BYTES;
    double f_sh = c->ffn == SP_FFN_MOE ? (double)c->m->n_shared_experts * c->m->moe_ffn_dim / c->t : 0;
    double act = c->T * (c->f_act - f_sh) * B * (c->m->gated ? 3.0 : 2.0);
    if (norms > 0) {
        l->module = SP_RCM_LAYERNORM;
        bytes_op(l, "norm_rerun", SP_PART_MEMORY, SP_OPF_RERUN_ONLY, norms * 2 * rep * B, 0, norms, 0);
    }
    if (act > 0) {
        l->module = c->ffn == SP_FFN_MOE ? SP_RCM_MOE_ACT | SP_RCM_MOE : SP_RCM_MLP;
        bytes_op(l, "act_rerun", SP_PART_MEMORY, SP_OPF_RERUN_ONLY, act, 0, 1, 0);
    }
    l->module = 0;
}

/* a YaRN-scaled RoPE the stack runs eagerly (ROPE_EAGER_* above): attention and sliding layers only (MLA applies its
 * rotary in its own module) */
static int rope_eager(const sp_layer_ctx *c)
{
    return (c->mixer == SP_MIX_ATTN || c->mixer == SP_MIX_SWA) && c->m->rope_mscale > 0 && c->m->rope_mscale != 1 &&
           c->s->rope_mscale_unfused;
}

/* the eager rotary of the query and the key (ROPE_EAGER_* above), in the attention module's graph scope */
static void rope_eager_op(sp_layer_ctx *c, sp_layer_ops *l)
{
    if (!rope_eager(c))
        return;
    double n = c->T * (c->qd + c->kvd) / c->t;
    bytes_op(l, "rope_eager", SP_PART_MEMORY, 0, n * ROPE_EAGER_FWD_BYTES, n * ROPE_EAGER_BWD_BYTES,
             2 * ROPE_EAGER_KERN_FWD, 2 * ROPE_EAGER_KERN_BWD);
}

/* the eager elementwise ops' bytes beyond the fused kernels (EAGER_* above), recomputed with them (op_sac) */
static void eager_elementwise(const sp_layer_ctx *c, double rep, double sub, int rope, sp_layer_ops *l)
{
    unsigned e = c->p->eager_ops;
    double nf = 0, nb = 0, kf = 0, kb = 0;
    if (e & SP_EAGER_NORM)
        nf += sub * rep * EAGER_NORM_FWD_BYTES, nb += sub * rep * EAGER_NORM_BWD_BYTES, kf += sub * EAGER_NORM_KERN_FWD,
            kb += sub * EAGER_NORM_KERN_BWD;
    if ((e & SP_EAGER_ROPE) && rope) {
        double qk = c->T * (c->qd + c->kvd) / c->t;
        nf += qk * EAGER_ROPE_FWD_BYTES, nb += qk * EAGER_ROPE_BWD_BYTES, kf += EAGER_ROPE_KERN, kb += EAGER_ROPE_KERN;
    }
    if ((e & SP_EAGER_ACT) && c->m->gated && c->f_act > 0)
        nf += c->T * c->f_act * EAGER_ACT_FWD_BYTES, nb += c->T * c->f_act * EAGER_ACT_BWD_BYTES,
            kf += EAGER_ACT_KERN_FWD, kb += EAGER_ACT_KERN_BWD;
    if (nf <= 0)
        return;
    bytes_op(l, "eager_elementwise", SP_PART_MEMORY, 0, nf, nb, kf, kb);
    l->op[l->n - 1].rerun |= SP_RCM_OP_SAC; /* per-op SAC recomputes every elementwise op */
}

/* elementwise traffic per layer, forward: two norms (read+write), two residual adds (read 2, write 1; with dropout
 * on the sublayer output fused in, + a 1-byte mask written), activation function (gated: read 2 write 1), rotary or
 * bias on Q/K; backward twice the bytes */
static void elementwise(sp_layer_ctx *c, sp_layer_ops *l)
{
    const sp_model *m = c->m;
    double T = c->T, t = c->t, h = c->h, B = ACT_BYTES;
    double qd = c->qd, kvd = c->kvd;
    double rep = (c->p->seq_parallel && t > 1) ? T * h / t : T * h;
    double mask = m->hidden_dropout > 0 ? DROPOUT_MASK_BYTES : 0;
    /* a norm and a residual add per sublayer present (Nemotron-H blocks have one), rotary on attention's Q/K */
    double sub = (c->mixer != SP_MIX_NONE) + (c->ffn != SP_FFN_NONE);
    int rope = (c->mixer == SP_MIX_ATTN || c->mixer == SP_MIX_SWA || c->mixer == SP_MIX_MLA) && !rope_eager(c);
    double bytes_f = sub * (2 * rep * B) + sub * (3 * rep * B + rep * mask) +
                     T * (c->f_act - c->f_fused) * B * (m->gated ? 3.0 : 2.0) +
                     (rope ? 2 * T * (qd + 2 * kvd) / t * B : 0);
    bytes_op(l, "elementwise", SP_PART_MEMORY, 0, bytes_f, 2 * bytes_f, sub / 2 * ELEMENTWISE_KERNELS_FWD,
             sub / 2 * ELEMENTWISE_KERNELS_BWD);
    l->op[l->n - 1].rerun |= SP_RCM_OP_SAC; /* torchtitan's per-op SAC recomputes every elementwise op */
    eager_elementwise(c, rep, sub, rope, l);
    /* saved: per sublayer its norm's input (16-bit) and, with dropout, its output dropout's mask; the activation
     * function's input (gated: gate and up outputs), part of the dense mlp module, or of the moe module (the
     * shared experts' part also of shared_experts; moe_act keeps it: it discards the output); under full
     * recompute only the layer's input */
    double g = m->gated ? 2.0 : 1.0;
    double f_sh = c->ffn == SP_FFN_MOE ? (double)m->n_shared_experts * m->moe_ffn_dim / t : 0;
    unsigned ffn_mod = c->ffn == SP_FFN_MOE ? SP_RCM_MOE : SP_RCM_MLP;
    keep_as(l, sub * rep * (B + mask), 0, 0);
    keep_as(l, T * (c->f_act - f_sh) * B * g, ffn_mod, 0);
    if (f_sh > 0)
        keep_as(l, T * f_sh * B * g, SP_RCM_MOE | SP_RCM_SHARED_EXPERTS, 0);
    keep_checkpoint(l, rep * B);
    rerun_passes(c, l, rep);
}

/* Quantization traffic of a layer's GEMM operands. Generic (plan.te_quant 0): forward casts each GEMM input and the
 * layer's weights (read 2, write 1 + 1 transposed for the data-gradient GEMM) every micro-batch, backward each
 * output gradient and re-lays the saved inputs out transposed for the weight-gradient GEMMs (TN-only FP8 GEMMs);
 * NVFP4 quantizes every operand into both layouts in one amax + cast pair (hardware.c sp_nvfp4_dual_cast_bytes).
 * Transformer Engine under Megatron-Core (plan.te_quant 1) as hardware.c sp_quant_operand_bytes / _relayout_bytes /
 * _weight_bytes price it on this accelerator, and the weights once per step: Megatron-Core passes
 * is_first_microbatch to every TE module (NVIDIA/Megatron-LM@d98e8a64ddf3:megatron/core/extensions/
 * transformer_engine.py:1338-1345, reset each step), with which TE casts the weights on the first micro-batch and
 * reuses the cached copies (TransformerEngine@d0067d0da6cb:transformer_engine/pytorch/module/linear.py forward
 * docstring of is_first_microbatch); with fp8_param_gather (every Megatron-Bridge FP8 recipe) the cast is the
 * optimizer's, once per step as well. A frozen base has no weight-gradient GEMM: Transformer Engine neither
 * quantizes its input column-wise nor saves it (linear.py:303 backward_needs_input = is_grad_enabled and
 * weight.requires_grad, :388 columnwise usage, :620 saved_inputmat; layernorm_linear.py:200 and :228 the same), and
 * Megatron-Bridge's PEFT freezes every base parameter (NVIDIA-NeMo/Megatron-Bridge@067f987df03b:src/megatron/bridge/
 * peft/base.py:176-190 freeze_model); its weights are still cast for fprop and dgrad. */
static void quant_bytes(const sp_layer_ctx *c, double q_in, double q_out, double w, double fb[2])
{
    const sp_plan *p = c->p;
    int wgrad = !p->frozen_base;
    if (p->te_quant) {
        int any = c->s->acc.fp8_any_layout;
        double op_b = sp_quant_operand_bytes(any, c->d, p->fp8_recipe, wgrad) +
                      (c->d == SP_NVFP4 && p->nvfp4_split && wgrad ? sp_nvfp4_split_cast_extra_bytes() : 0);
        double reps = (double)sp_plan_replicas(p);
        double n_micro = p->global_batch / ((reps > 1 ? reps : 1) * p->micro_batch);
        fb[0] = q_in * op_b + w * sp_quant_weight_bytes(any, c->d, p->fp8_recipe) / (n_micro > 1 ? n_micro : 1);
        fb[1] = q_out * op_b + (wgrad ? q_in * sp_quant_relayout_bytes(any, c->d, p->fp8_recipe) : 0);
    } else if (c->d == SP_NVFP4) {
        double q = sp_nvfp4_dual_cast_bytes();
        fb[0] = (q_in + w) * q, fb[1] = q_out * q;
    } else {
        double cast_b = sp_quant_cast_bytes(c->d, p->fp8_recipe); /* hardware.c: bytes and scales per format */
        fb[0] = q_in * cast_b + w * 4.0, fb[1] = q_out * cast_b + (wgrad ? q_in * 2.0 : 0);
    }
}

static void fp8_casts(sp_layer_ctx *c, int moe, sp_layer_ops *l)
{
    if (!sp_dtype_is_quantized(c->d))
        return;
    const sp_model *m = c->m;
    const sp_param_count *pc = c->pc;
    const sp_plan *p = c->p;
    double t = c->t;
    double w = (m->n_pattern == 0 ? pc->attn_per_layer : sp_model_mixer_params(m, c->mixer)) / t;
    if (moe) {
        double routed = m->n_experts * pc->expert;
        w += routed / (p->ep * (double)sp_plan_etp(p)) + (pc->moe_per_layer - routed - c->h * m->n_experts) / t;
    } else if (c->ffn == SP_FFN_DENSE)
        w += pc->mlp_dense_per_layer / t;
    int wgrad = !p->frozen_base;
    if (!p->te_quant && c->d == SP_FP8 && p->fp8_recipe == SP_FP8_ROWWISE) { /* torchao rowwise: six casts, two rescales */
        double cast_b = sp_quant_cast_bytes(c->d, p->fp8_recipe), rb = FP8_ROWWISE_RESCALE_BYTES;
        double fwd = (c->q_in + w) * cast_b;
        double bwd = (c->q_out + w) * cast_b + c->q_in * rb + (wgrad ? (c->q_out + c->q_in) * cast_b + w * rb : 0);
        bytes_op(l, "fp8_casts", SP_PART_MEMORY, 0, fwd, bwd, FP8_ROWWISE_KERNELS_FWD, FP8_ROWWISE_KERNELS_BWD);
        return;
    }
    double fb[2];
    quant_bytes(c, c->q_in, c->q_out, w, fb);
    bytes_op(l, "fp8_casts", SP_PART_MEMORY, 0, fb[0], fb[1], FP8_CAST_KERNELS_FWD, FP8_CAST_KERNELS_BWD);
}

/* TP communication: per TP-sharded block (attention, FFN) one all-reduce (or all-gather + reduce-scatter with SP)
 * of T·h values forward and one backward (Megatron, Shoeybi et al. 2019 §3) */
static void tp_comm(sp_layer_ctx *c, sp_layer_ops *l)
{
    const sp_plan *p = c->p;
    if (p->tp <= 1)
        return;
    double bytes = c->T * c->h * ACT_BYTES;
    for (int blk = 0; blk < 2; blk++) {
        double n = blk == 0 ? c->mixer != SP_MIX_NONE : c->ffn != SP_FFN_NONE ? c->mlp_tp_ops : 0;
        /* a parallel block (model.parallel_block) gathers the layer input once for both branches and reduces their
         * summed outputs once (Wang & Komatsuzaki 2021 GPT-J; Chowdhery et al. 2022 PaLM §2): the attention
         * block's collectives are the layer's */
        if (blk == 1 && c->m->parallel_block && c->mixer != SP_MIX_NONE && c->ffn == SP_FFN_DENSE)
            n = 0;
        if (n <= 0)
            continue;
        /* the FFN block's reductions run inside the mlp / moe module (Megatron's row/column-parallel linears) */
        l->module = blk == 0 ? 0 : c->ffn == SP_FFN_MOE ? SP_RCM_MOE : SP_RCM_MLP;
        /* torchtitan's per-op SAC saves reduce-scatter outputs only: its all-gathers and all-reduces re-run */
        if (p->seq_parallel) {
            sp_op *ag = coll(l, blk ? "tp_ffn_allgather" : "tp_attn_allgather", SP_PART_TP, n, SP_COLL_ALLGATHER,
                             p->tp, 1, bytes, 1, 1);
            ag->rerun |= SP_RCM_OP_SAC;
            ag->flags |= blk ? SP_OPF_TP_FFN : 0;
            coll(l, blk ? "tp_ffn_reducescatter" : "tp_attn_reducescatter", SP_PART_TP, n, SP_COLL_REDUCESCATTER, p->tp,
                 1, bytes, 1, 1)->flags |= blk ? SP_OPF_TP_FFN : 0;
        } else
            coll(l, blk ? "tp_ffn_allreduce" : "tp_attn_allreduce", SP_PART_TP, n, SP_COLL_ALLREDUCE, p->tp, 1, bytes, 1, 1)
                ->rerun |= SP_RCM_OP_SAC;
    }
    l->module = 0;
}

/* CP ring exchange of K and V (forward), K, V, dK, dV (backward), overlapped with attention */
static void cp_ring(sp_layer_ctx *c, sp_layer_ops *l)
{
    const sp_model *m = c->m;
    const sp_plan *p = c->p;
    if (p->cp <= 1 || !(c->mixer == SP_MIX_ATTN || c->mixer == SP_MIX_SWA || c->mixer == SP_MIX_MLA))
        return;
    double kvd = c->kvd, sq = p->seq_len / (double)p->cp;
    double kv = m->kv_lora_rank > 0 ? m->kv_lora_rank + m->qk_rope_head_dim : kvd / c->t;
    double kv_bytes = 2 * p->micro_batch * sq * kv * ACT_BYTES;
    coll(l, "cp_ring", SP_PART_CP, p->cp - 1, SP_COLL_P2P, 2, p->tp, kv_bytes, 1, 2);
}

/* Serving elementwise work: ~12 h-vectors (norm in/out, residual, rotary, attention in/out) and 3 FFN-vectors
 * (gate, up, product) of 16-bit per token, read or written once, 4 kernels (two norms, activation, rotary). */
#define SERVE_ELEMENTWISE_H 12.0
#define SERVE_ELEMENTWISE_F 3.0
#define SERVE_ELEMENTWISE_KERNELS 4

void sp_ops_serving_common(sp_layer_ctx *c, double n_dec, double ctx, double n_pf, double pf_span, double kv_bytes,
                           double kv_eff, double dqk, double dv, sp_layer_ops *l)
{
    l->module = 0; /* re-run only by full recompute */
    const sp_model *m = c->m;
    const sp_accel *a = &c->s->acc;
    double heads = (double)m->n_heads / c->t, h = c->h;
    double rate = sp_attn_rate_hd(c->s, SP_BF16, 0, dqk + dv); /* attention core stays 16-bit */
    sp_op *o = push(l, "decode_attention", SP_OP_ROOFLINE, SP_PART_COMPUTE, SP_OPF_CORE, 1);
    o->u.roof.flops = 2.0 * n_dec * ctx * heads * (dqk + dv);
    o->u.roof.rate = rate;
    o->u.roof.bytes = n_dec * ctx * kv_bytes;
    o->u.roof.bw = a->hbm_bw * a->eff.mem * kv_eff;
    o = push(l, "prefill_attention", SP_OP_ROOFLINE, SP_PART_COMPUTE, SP_OPF_CORE, 1);
    o->u.roof.flops = 2.0 * n_pf * pf_span * heads * (dqk + dv);
    o->u.roof.rate = rate;
    double f_local = (double)m->ffn_dim / c->t;
    bytes_op(l, "elementwise", SP_PART_MEMORY, 0, c->T * ACT_BYTES * (SERVE_ELEMENTWISE_H * h + SERVE_ELEMENTWISE_F * f_local),
             0, SERVE_ELEMENTWISE_KERNELS, 0);
    if (c->t > 1)
        coll(l, "tp_allreduce", SP_PART_TP, c->m->parallel_block ? 1 : 2, SP_COLL_ALLREDUCE, (int)c->t, 1,
             c->T * h * ACT_BYTES, 1, 0);
}

/* The layer's host-dispatch terms: the plan's captured scopes, the dispatcher's sync, the host's time per kernel.
 * Every dispatcher reads the token counts on the host once per MoE layer forward in dropless training
 * (docs/systems.md "MoE dispatchers"); drop-and-pad (capacity factor with padding) removes the sync
 * (NVIDIA/Megatron-LM@d98e8a64ddf3:megatron/core/transformer/moe/token_dispatcher.py:921-960). Serving: not priced
 * (its engines capture graphs; serve*.c has its own overheads). */
static void layer_host(const sp_layer_ctx *c, int moe, sp_layer_ops *l)
{
    const sp_plan *p = c->p;
    l->graphs = p->cuda_graphs;
    l->sync = moe && !(p->moe_pad && p->capacity_factor > 0);
    l->host_kernel_s = c->serving ? 0 : c->s->host_kernel_s > 0 ? c->s->host_kernel_s : HOST_KERNEL_X86_S;
}

void sp_layer_build(sp_layer_ctx *c, int moe, sp_layer_ops *l)
{
    sp_layer_build_kind(c, c->m->kv_lora_rank > 0 ? SP_MIX_MLA : SP_MIX_ATTN, moe ? SP_FFN_MOE : SP_FFN_DENSE, l);
}

void sp_layer_build_kind(sp_layer_ctx *c, sp_mixer mx, sp_ffn f, sp_layer_ops *l)
{
    int moe = f == SP_FFN_MOE;
    l->n = 0;
    l->module = 0;
    l->rc_set = sp_recompute_set(c->p);
    c->q_in = c->q_out = c->f_act = c->f_fused = 0;
    c->mlp_tp_ops = 1;
    c->mixer = mx, c->ffn = f;
    int attn = mx == SP_MIX_ATTN || mx == SP_MIX_SWA || mx == SP_MIX_MLA;
    unsigned gm = attn ? SP_GRAPH_ATTN : mx == SP_MIX_NONE ? 0 : SP_GRAPH_MAMBA, gf = moe ? SP_GRAPH_MOE : SP_GRAPH_MLP;
    if (mx == SP_MIX_MLA)
        sp_ops_mla(c, l);
    else if (mx == SP_MIX_ATTN || mx == SP_MIX_SWA)
        sp_ops_attention(c, l);
    else if (mx == SP_MIX_MAMBA2)
        sp_ops_mamba2(c, l);
    else if (mx == SP_MIX_MAMBA1)
        sp_ops_mamba1(c, l);
    else if (mx == SP_MIX_GDN)
        sp_ops_gdn(c, l);
    tag(l, 0, gm);
    int i0 = l->n;
    if (moe)
        sp_ops_moe(c, l);
    else if (f == SP_FFN_DENSE)
        sp_ops_mlp(c, l);
    tag(l, i0, gf);
    i0 = l->n;
    adapters(c, moe, l);
    dequant(c, moe, l);
    tag(l, i0, gm | gf);
    i0 = l->n;
    if (attn) {
        rope_eager_op(c, l);
        attention_core(c, l);
    }
    tag(l, i0, gm);
    i0 = l->n;
    /* the norms and residual adds of both sublayers: captured with the mixer's scope and the FFN's first part */
    elementwise(c, l);
    tag(l, i0, gm | (moe ? SP_GRAPH_MOE_ROUTER : gf));
    i0 = l->n;
    fp8_casts(c, moe, l);
    tp_comm(c, l);
    tag(l, i0, gm | gf);
    i0 = l->n;
    cp_ring(c, l);
    tag(l, i0, gm);
    op_sac_saved(c, mx, f, l);
    layer_host(c, moe, l);
}

void sp_ops_mtp(sp_layer_ctx *c, sp_layer_ops *l)
{
    sp_layer_build_kind(c, (sp_mixer)c->m->mtp_mixer, (sp_ffn)c->m->mtp_ffn, l);
    /* the concatenated [hidden; next token's embedding] projected 2h -> h, replicated over TP (DeepSeek-V3 §2.2) */
    linear(c, l, "mtp_eh_proj", 0, 1, c->T, c->h, 2 * c->h, c->d16);
}

void sp_ops_embedding(sp_layer_ctx *c, sp_layer_ops *l)
{
    double Th = c->T * c->h;
    double passes = EMBEDDING_PASSES + (c->m->hidden_dropout > 0 ? EMBEDDING_DROPOUT_PASSES : 0);
    l->n = 0;
    l->module = 0;
    bytes_op(l, "embedding", SP_PART_MEMORY, 0, Th * ACT_BYTES * passes, 0, passes, 0);
    if (c->p->tp > 1) /* vocab-parallel embedding: its output reduces over TP */
        coll(l, "embedding_allreduce", SP_PART_TP, 1, SP_COLL_ALLREDUCE, c->p->tp, 1, Th * ACT_BYTES, 1, 1);
}

/* Megatron-Core fp8_output_proj (plan.fp8_output_proj): with FP8 on and the MXFP8 recipe the LM head is Transformer
 * Engine's column-parallel linear run inside the MXFP8 autocast (NVIDIA/Megatron-LM@d98e8a64ddf3:megatron/core/
 * fp8_utils.py:730-745 is_mxfp8_output_proj_active; extensions/transformer_engine.py:1779-1905
 * TELMHeadColumnParallelLinear, its forward under get_fp8_context; models/gpt/gpt_model.py:272-276 picks it for
 * output_layer) instead of the BF16 ColumnParallelLinear: its forward, data- and weight-gradient GEMMs at the MXFP8
 * rate, its operands quantized by TE like any MXFP8 linear's (the weight cached across micro-batches: TE's
 * is_first_microbatch). The MTP depths compute their logits with the same output_layer, so their passes too. Any
 * other dtype ignores the knob (transformer_config.py:1569-1575 refuses it without FP8 and MXFP8). */
static int lm_head_mxfp8(const sp_layer_ctx *c)
{
    return c->p->fp8_output_proj && c->d == SP_MXFP8;
}

void sp_ops_lm_head(sp_layer_ctx *c, sp_layer_ops *l)
{
    double T = c->T, V = c->m->vocab, t = c->t;
    l->n = 0;
    l->module = 0;
    if (c->serving) { /* logits of the sequences that produce a token; the embedding lookup is a gather */
        linear(c, l, "lm_head", 0, 1, T, V / t, c->h, c->d);
        return;
    }
    /* the LM head stays in 16 bits under FP8 (DeepSeek-V3 §3.3.1), unless fp8_output_proj runs it in MXFP8 */
    int q = lm_head_mxfp8(c);
    gemm(l, "lm_head", 0, 1, T, V / t, c->h, q ? c->d : c->d16, c->p->frozen_base ? SP_BWD_DATA : SP_BWD_WEIGHT);
    if (q) { /* its input, its logits' gradient and its weight quantized as fp8_casts prices a layer's */
        double fb[2];
        quant_bytes(c, T * c->h, T * V / t, V * c->h / t, fb);
        bytes_op(l, "lm_head_casts", SP_PART_MEMORY, 0, fb[0], fb[1], LM_HEAD_CAST_KERNELS_FWD,
                 LM_HEAD_CAST_KERNELS_BWD);
    }
    bytes_op(l, "loss", SP_PART_MEMORY, 0, T * V / t * LOSS_BYTES_PER_LOGIT, 0, 0, 0);
    if (c->p->tp > 1) /* vocab-parallel cross-entropy */
        coll(l, "loss_allreduce", SP_PART_TP, 1, SP_COLL_ALLREDUCE, c->p->tp, 1, T * LOSS_REDUCE_BYTES_PER_TOKEN, 1, 0);
}

/* ---- the pricer ---- */

/* The memo's slot for (a, b, c, d, tag), and whether it holds them. */
static sp_gemm_memo_entry *memo_slot(sp_gemm_memo *memo, double a, double b, double c, double d, int tag, int *hit)
{
    uint64_t ba, bb, bc, bd;
    memcpy(&ba, &a, 8);
    memcpy(&bb, &b, 8);
    memcpy(&bc, &c, 8);
    memcpy(&bd, &d, 8);
    uint64_t h = (ba * 0x9E3779B97F4A7C15u) ^ (bb * 0xC2B2AE3D27D4EB4Fu) ^ (bc * 0x165667B19E3779F9u) ^
                 (bd * 0xD6E8FEB86659FD93u) ^ (uint64_t)tag;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9u;
    sp_gemm_memo_entry *e = &memo->e[h >> 53 & (SP_GEMM_MEMO - 1)];
    *hit = e->a == a && e->b == b && e->c == c && e->d == d && e->tag == tag;
    return e;
}

/* sp_gemm_time through the memo when there is one */
static double gemm_t(sp_gemm_memo *memo, const sp_accel *a, sp_dtype d, double m, double n, double k, double batch)
{
    if (!memo)
        return sp_gemm_time(a, d, m, n, k, batch);
    int hit;
    sp_gemm_memo_entry *e = memo_slot(memo, m, n, k, batch, (int)d, &hit);
    if (hit)
        return e->t;
    double t = sp_gemm_time(a, d, m, n, k, batch);
    *e = (sp_gemm_memo_entry){m, n, k, batch, t, 0, (int)d};
    return t;
}

/* forward (m x k)(k x n); backward: dgrad (m x n)(n x k), and wgrad (k x m)(m x n) unless the weight is frozen.
 * Memoized as one entry (forward, backward) per (m, n, k, wgrad, dtype). */
static double gemm_fbw(sp_gemm_memo *memo, const sp_accel *a, sp_dtype d, double m, double n, double k, double batch,
                       int wgrad, double *bwd)
{
    int hit = 0, tag = 200 + 2 * (int)d + !!wgrad;
    sp_gemm_memo_entry *e = memo ? memo_slot(memo, m, n, k, batch, tag, &hit) : NULL;
    if (hit) {
        *bwd = e->t2;
        return e->t;
    }
    double f = sp_gemm_time(a, d, m, n, k, batch);
    double b = sp_gemm_time(a, d, m, k, n, batch) + (wgrad ? sp_gemm_time(a, d, k, n, m, batch) : 0);
    if (e)
        *e = (sp_gemm_memo_entry){m, n, k, batch, f, b, tag};
    *bwd = b;
    return f;
}

static double coll_memo(sp_gemm_memo *memo, const sp_system *s, sp_coll kind, int p, int stride, double bytes,
                        double cross)
{
    if (!memo)
        return sp_collective_time_cross(s, kind, p, stride, bytes, cross);
    int hit;
    sp_gemm_memo_entry *e = memo_slot(memo, p, stride, bytes, cross, 100 + (int)kind, &hit);
    if (hit)
        return e->t;
    double t = sp_collective_time_cross(s, kind, p, stride, bytes, cross);
    *e = (sp_gemm_memo_entry){p, stride, bytes, cross, t, 0, 100 + (int)kind};
    return t;
}

double sp_coll_memo(sp_gemm_memo *memo, const sp_system *s, sp_coll kind, int p, int stride, double bytes)
{
    return coll_memo(memo, s, kind, p, stride, bytes, 1);
}

/* Rows a skinny (GEMV-like) serving GEMM is padded to: decode GEMMs of fewer rows than the smallest GEMM tile (64)
 * run as skinny kernels (cuBLAS/hipBLASLt GEMV and split-K kernels on the 16-row MMA/MFMA instructions: Hopper
 * mma.sync m16n8k16, CDNA3 v_mfma 16x16x16), not as 64-row tiles (issue 19: MI300X batch-1 decode came out
 * compute-bound from the 64-row padding). */
#define SKINNY_ROWS 16.0

/* Efficiency of a serving GEMM: the GEMM curve, except that fewer rows than one tile are padded to SKINNY_ROWS only
 * (the curve at a full 64-row tile for the columns' waves and the reduction, times the rows' padding share). */
static double serving_gemm_eff(const sp_accel *a, double m, double n, double k, double copies)
{
    if (m >= 64)
        return sp_gemm_eff(a, m, n, k, copies);
    double padded = SKINNY_ROWS * ceil(m / SKINNY_ROWS);
    return sp_gemm_eff(a, 64, n, k, copies) * m / padded;
}

/* a serving GEMM: the slower of its FLOPs on the GEMM curve (x the serving factor) and its bytes (weights at storage
 * precision + activations in and out) */
static void serving_gemm_price(const sp_op *op, const sp_system *s, sp_op_cost *c)
{
    const sp_accel *a = &s->acc;
    double m = op->u.gemm.m, n = op->u.gemm.n, k = op->u.gemm.k, copies = op->u.gemm.batch;
    if (m <= 0 || n <= 0 || k <= 0 || copies <= 0)
        return;
    double eff = serving_gemm_eff(a, m, n, k, copies) * op->u.gemm.eff_scale;
    double fl = 2 * m * n * k * copies;
    double tc = fl / (sp_accel_peak(a, op->u.gemm.dtype) * eff);
    if (op->flags & SP_OPF_SCAN) /* Mamba-2's SSD at prefill: no faster than the scan rate, as in training */
        tc = fmax(tc, scan_floor(s, fl));
    double bytes = copies * (n * k * op->u.gemm.wbytes + (m * k + m * n) * op->u.gemm.abytes);
    double tm = bytes / (a->hbm_bw * a->eff.mem);
    c->mem_bound = !(tc >= tm);
    c->busy = c->mem_bound ? tm : tc;
    c->overhead = a->eff.kernel_overhead_s;
    c->flops = fl;
    c->fwd = c->busy + c->overhead;
}

static void gemm_price(const sp_op *op, const sp_system *s, sp_gemm_memo *memo, sp_op_cost *c)
{
    const sp_accel *a = &s->acc;
    const sp_dtype d = op->u.gemm.dtype;
    double m = op->u.gemm.m, n = op->u.gemm.n, k = op->u.gemm.k;
    switch (op->u.gemm.bwd) {
    case SP_BWD_NONE:
        serving_gemm_price(op, s, c);
        return;
    case SP_BWD_TWICE:
        c->fwd = gemm_t(memo, a, d, m, n, k, op->u.gemm.batch);
        if (op->flags & SP_OPF_SCAN) /* Mamba-2's SSD: no faster than the SM-bound scan rate (SCAN_FP32_RATE) */
            c->fwd = fmax(c->fwd, scan_floor(s, 2 * m * n * k * op->u.gemm.batch) + a->eff.kernel_overhead_s);
        c->bwd = (op->u.gemm.bwd_x > 0 ? op->u.gemm.bwd_x : 2) * c->fwd;
        return;
    case SP_BWD_DATA:
    case SP_BWD_WEIGHT:
        c->fwd = gemm_fbw(memo, a, d, m, n, k, 1, op->u.gemm.bwd == SP_BWD_WEIGHT, &c->bwd);
        if (op->u.gemm.dgrad_x > 1) /* a data-gradient kernel slower than the curve (DGLU_DBIAS_* above) */
            c->bwd += (op->u.gemm.dgrad_x - 1) * gemm_t(memo, a, d, m, k, n, 1);
        /* routed experts: TE's GroupedLinear runs one GEMM per local expert (general_grouped_gemm over the m_splits,
         * on several streams), each at its own m (the tokens routed to that expert) on the tile curve with its own
         * waves and launch (count = local experts); the stack's grouped-kernel factor of the family's curve
         * (data/software efficiency.moe_gemm, docs/calibration.md) */
        if ((op->flags & SP_OPF_GROUPED) && a->eff.grouped_gemm > 0)
            c->fwd /= a->eff.grouped_gemm, c->bwd /= a->eff.grouped_gemm;
        return;
    }
}

/* the attention kernel class the system's stack runs (an index into the accelerator's attn_* arrays); out of range:
 * the generic class */
static sp_attn_kernel attn_class(const sp_system *s)
{
    return s->attn_kernel >= 0 && s->attn_kernel < SP_NATTN ? s->attn_kernel : SP_ATTN_GENERIC;
}

/* The exponent-unit roofline of a fused attention kernel (Zadouri, Hoehnerbach, Shah, Liu, Thakkar, Dao 2026,
 * FlashAttention-4, arXiv:2603.05451 §2-3): per query-key element the forward runs 2 (dqk + dv) FLOPs of MMA (S = QK^T,
 * O = PV) and one exponential on the special-function units (MUFU.EX2), the backward 2.5x those FLOPs and one
 * exponential (P recomputed). Per SM and clock the kernel does at most min(M, F x E) FLOPs: M the dense 16-bit
 * tensor-core FLOPs, E the exponentials, F the MMA FLOPs per element. B200/GB200: M 8192, E 16: the forward balances
 * at head dim 128 and halves its FLOP/s at 64; Blackwell Ultra doubles E (balanced at 64); Hopper M 4096, E 16
 * (balanced at 64); the backward (F = 2.5 x 4d) binds on the MMA from head dim 52 on B200. The measured full-attention
 * rate of a class (attn_kernels, at the head dims stated beside it) is scaled by this bound at the op's head dims over
 * the bound at the measurement's: 1 where the accelerator states no unit throughputs, the class no reference head dim
 * or no measured rate (the generic gemm_max x attn), and for the sliding band (measured at 0.13-0.19 of peak, far
 * below either bound at any head dim >= 32 on these accelerators: something else binds). The 16-bit MMA rate is the
 * bound's even under FP8 attention, whose measured FP8 / BF16 ratio (flash_fp8) multiplies the result. */
static double attn_exp_scale(const sp_accel *a, sp_attn_kernel k, double hd, int bwd)
{
    double ref = a->eff.attn_ref_hd[k], M = a->mma_clk_sm, E = a->exp_clk_sm;
    double f = bwd ? a->eff.attn_bwd[k] : a->eff.attn_fwd[k], c = bwd ? 2 * FLASH_BWD_RATIO : 2;
    if (!(ref > 0 && hd > 0 && M > 0 && E > 0 && f > 0))
        return 1;
    return fmin(M, c * hd * E) / fmin(M, c * ref * E);
}

/* FLOP/s of the flash-attention kernel the system's stack runs (forward or backward): the family's measured
 * fraction of peak for that kernel class (accelerator efficiency.attn_kernels, e.g. FlashAttention-2 vs -3 on
 * Hopper, Shah et al. 2024 Fig. 5-6), else gemm_max x attn, the family's calibrated generic attention. */
double sp_attn_rate(const sp_system *s, sp_dtype d, int bwd)
{
    const sp_accel *a = &s->acc;
    sp_attn_kernel k = attn_class(s);
    double f = bwd ? a->eff.attn_bwd[k] : a->eff.attn_fwd[k];
    return sp_accel_peak(a, d) * (f > 0 ? f : a->eff.gemm_max * a->eff.attn);
}

double sp_attn_rate_hd(const sp_system *s, sp_dtype d, int bwd, double hd)
{
    return sp_attn_rate(s, d, bwd) * attn_exp_scale(&s->acc, attn_class(s), hd, bwd);
}

/* The attention kernel's rate for a flash op: on a sliding layer's narrow band the family's measured band rate of the
 * class where it has one (a band of a few key blocks per query tile runs far below the full kernel: cuDNN's own
 * benchmarks, data/accelerators attn_kernels band_fwd/band_bwd), else the class's full rate; times the FP8 kernel's
 * ratio where the op runs FP8 attention (flash_fp8). */
static double flash_rate(const sp_system *s, const sp_op *op, int bwd)
{
    const sp_accel *a = &s->acc;
    sp_attn_kernel k = attn_class(s);
    double f = bwd ? a->eff.attn_band_bwd[k] : a->eff.attn_band_fwd[k];
    double x = bwd ? op->u.flash.bwd_x : op->u.flash.fwd_x; /* FP8 attention (flash_fp8); 0: the 16-bit kernel */
    x = x > 0 ? x : 1;
    if (op->u.flash.band && f > 0)
        return sp_accel_peak(a, op->u.flash.dtype) * f * x;
    return sp_attn_rate_hd(s, op->u.flash.dtype, bwd, op->u.flash.hd) * x;
}

void sp_op_price(const sp_op *op, const sp_system *s, sp_gemm_memo *memo, sp_op_cost *c)
{
    const sp_accel *a = &s->acc;
    double ovh = a->eff.kernel_overhead_s;
    memset(c, 0, sizeof *c);
    switch (op->kind) {
    case SP_OP_GEMM:
        gemm_price(op, s, memo, c);
        break;
    case SP_OP_BYTES:
        c->busy = sp_mem_time(a, op->u.bytes.fwd);
        c->overhead = op->u.bytes.kernels_fwd * ovh;
        c->mem_bound = 1;
        c->fwd = c->busy + c->overhead;
        c->bwd = sp_mem_time(a, op->u.bytes.bwd) + op->u.bytes.kernels_bwd * ovh;
        break;
    case SP_OP_COLL: {
        double t = coll_memo(memo, s, op->u.coll.kind, op->u.coll.ranks, op->u.coll.stride, op->u.coll.bytes,
                             op->u.coll.cross);
        c->fwd = op->u.coll.nf * t;
        c->bwd = op->u.coll.nb * t;
        break;
    }
    case SP_OP_FLASH: {
        double work = op->u.flash.flops; /* what the kernel computes: the builder applied the causal mask */
        c->fwd = work / flash_rate(s, op, 0) + ovh;
        c->bwd = FLASH_BWD_RATIO * work / flash_rate(s, op, 1) + ovh;
        break;
    }
    case SP_OP_ROOFLINE: {
        double tc = op->u.roof.flops > 0 ? op->u.roof.flops / op->u.roof.rate : 0;
        double tm = op->u.roof.bytes > 0 ? op->u.roof.bytes / op->u.roof.bw : 0;
        c->mem_bound = tm >= tc;
        c->busy = c->fwd = c->mem_bound ? tm : tc;
        c->flops = op->u.roof.flops;
        break;
    }
    }
    if (op->count != 1) {
        c->fwd *= op->count, c->bwd *= op->count;
        c->busy *= op->count, c->overhead *= op->count, c->flops *= op->count;
    }
}

/* ---- host dispatch (docs/model.md "Host dispatch") ---- */

/* A layer's forward in the order Megatron-Core issues it after a MoE layer's sync: the dispatch, experts and combine
 * (scope moe), then the next layer's attention and everything else, the router (moe_router), the dispatcher's
 * preprocessing (moe_preprocess) up to the next sync. */
enum { SEG_MOE, SEG_REST, SEG_ROUTER, SEG_PRE, N_SEG };

typedef struct {
    double hf[N_SEG], gf[N_SEG]; /* host kernels and GPU seconds (kernels, not collectives) per segment, forward */
    double hb;                   /* host kernels, backward */
    unsigned launched;           /* captured scopes seen (one graph launch each, forward and backward) */
} host_acc;

/* host kernels of one op, forward and backward: eager kernels, a Transformer Engine module call (GEMMs, the
 * attention kernel) TE_MODULE_KERNELS; a grouped expert GEMM is one module call */
static void op_host_kernels(const sp_op *o, double *f, double *b)
{
    *f = *b = 0;
    if (o->kind == SP_OP_GEMM && o->u.gemm.bwd != SP_BWD_NONE) {
        if (o->u.gemm.bwd == SP_BWD_TWICE) /* batched GEMMs of standard attention: torch.bmm */
            *f = o->count, *b = 2 * o->count;
        else
            *f = ((o->flags & SP_OPF_GROUPED) ? 1 : o->count) * TE_MODULE_KERNELS,
            *b = o->u.gemm.bwd == SP_BWD_WEIGHT ? 2 * *f : *f;
        *f += o->count * o->host_f, *b += o->count * o->host_b; /* a grouped GEMM's per-expert loop */
    } else if (o->kind == SP_OP_BYTES)
        *f = o->count * o->u.bytes.kernels_fwd, *b = o->count * o->u.bytes.kernels_bwd;
    else if (o->kind == SP_OP_COLL)
        *f = o->count * o->u.coll.nf, *b = o->count * o->u.coll.nb;
    else if (o->kind == SP_OP_FLASH)
        *f = *b = o->count * TE_MODULE_KERNELS;
}

/* one priced op into the accumulator: its kernels cost host time unless every scope it needs is captured. A MoE
 * block with a host sync cannot be captured per layer (Megatron-Core's moe scope needs drop-and-pad,
 * NVIDIA/Megatron-LM@d98e8a64ddf3:megatron/core/transformer/transformer_config.py:2836-2843); a full-iteration
 * graph captures everything, its dispatch made sync-free by the recipe that runs it (a graph cannot contain a
 * host sync) */
static void host_add(const sp_layer_ops *l, const sp_op *o, double f, host_acc *a)
{
    unsigned g = l->graphs;
    if (l->sync)
        g &= ~SP_GRAPH_MOE;
    if (l->graphs & SP_GRAPH_FULL_ITERATION)
        g = SP_GRAPH_LAYER;
    int seg = o->graph == SP_GRAPH_MOE ? SEG_MOE : o->graph == SP_GRAPH_MOE_ROUTER ? SEG_ROUTER
            : o->graph == SP_GRAPH_MOE_PREPROCESS ? SEG_PRE : SEG_REST;
    if (o->kind != SP_OP_COLL) /* collectives: their exposed time after overlap, in host_expose */
        a->gf[seg] += f;
    if (o->graph && (o->graph & g) == o->graph) {
        if (!(a->launched & o->graph) && !(l->graphs & SP_GRAPH_FULL_ITERATION))
            a->hf[seg] += 1, a->hb += 1; /* the scope's graph launch */
        a->launched |= o->graph;
        return;
    }
    double kf, kb;
    op_host_kernels(o, &kf, &kb);
    a->hf[seg] += kf, a->hb += kb;
}

/* The host time the GPU waits for. Why two rules: the CPU issues kernels asynchronously and runs ahead of the GPU
 * (Horace He, "Making Deep Learning Go Brrrr", 2022: framework overhead hides while the CPU can queue ahead), so
 * without a sync a phase costs max(host, GPU): host time shows only where it exceeds the GPU's. A MoE layer's
 * forward stops at the dispatcher's device-to-host sync: the CPU cannot queue the kernels after it before the GPU
 * has drained everything before it, so no run-ahead carries across the sync. The segment from one sync to the next
 * is then a two-stage pipeline over its parts in issue order (dispatch-experts-combine, attention and the rest,
 * router, preprocessing): part i ends on the GPU at max(end of part i-1 + its GPU time, the CPU's issue of its last
 * kernel), between max(host, GPU) and host + GPU. The backward has no sync (the split sizes are kept from the
 * forward) and runs ahead: max. gpu_f: the layer's forward time after overlap; gpu_b: its backward kernels and TP
 * communication (the step adds the CP and EP exchanges of the backward apart from the backward phase the pipeline
 * schedule and the DP overlap read, so the host hides behind what that phase holds: the step stays monotone in
 * every bandwidth). */
static void host_expose(const host_acc *a, const sp_layer_ops *l, double gpu_f, double gpu_b, sp_layer_cost *c)
{
    double hs = l->host_kernel_s, host = 0;
    for (int i = 0; i < N_SEG; i++)
        host += a->hf[i] * hs;
    double t = fmax(host, gpu_f);
    if (l->sync && !(l->graphs & SP_GRAPH_FULL_ITERATION)) {
        /* the parts' GPU time: their kernels, and the exposed collectives where they run (the EP all-to-all in the
         * dispatch part, TP and CP in the rest): the parts sum to gpu_f, and each only shrinks on faster hardware */
        double g[N_SEG], cpu = 0, gpu = 0;
        memcpy(g, a->gf, sizeof g);
        g[SEG_MOE] += c->ep_fwd, g[SEG_REST] += c->tp_fwd + c->cp_fwd;
        for (int i = 0; i < N_SEG; i++) {
            cpu += a->hf[i] * hs;
            gpu = fmax(gpu + g[i], cpu);
        }
        t = fmax(gpu, gpu_f);
    }
    /* exposed time below a part in 10^12 of the GPU's is the segments' rounding, not host time */
    c->host_f = t - gpu_f > 1e-12 * gpu_f ? t - gpu_f : 0;
    c->host_b = sp_pos(a->hb * hs - gpu_b);
    c->host_kf = host;
}

/* What the layer's selective set re-runs (rc[0]: compute and memory-bound forward, rc[1]: TP, rc[2]: EP forward,
 * rc[3]: GEMM FLOPs other than the attention core's) gets the op's forward f */
static void rerun_add(const sp_op *o, unsigned set, double f, double rc[4])
{
    if (!(o->rerun & set))
        return;
    if (o->part == SP_PART_COMPUTE || o->part == SP_PART_MEMORY)
        rc[0] += f;
    else if (o->part == SP_PART_TP)
        rc[1] += f;
    else if (o->part == SP_PART_EP)
        rc[2] += f;
    if (o->kind == SP_OP_GEMM && !(o->rerun & SP_RCM_CORE_ATTN))
        rc[3] += 2 * o->u.gemm.m * o->u.gemm.n * o->u.gemm.k * o->u.gemm.batch * o->count;
}

/* the re-run communication at the share of the layer's forward communication left exposed (pf: before overlap) */
static void rerun_fill(const double rc[4], const double pf[SP_N_PARTS], sp_layer_cost *c)
{
    c->attn_fwd = rc[0];
    if (rc[2] > 0 && pf[SP_PART_EP] > 0)
        c->attn_fwd += rc[2] * c->ep_fwd / pf[SP_PART_EP];
    c->rec_tp = rc[1] > 0 && pf[SP_PART_TP] > 0 ? rc[1] * c->tp_fwd / pf[SP_PART_TP] : 0;
    c->rec_flops = rc[3];
}

/* The EP exchange of one phase overlapped with `budget` seconds of FFN work (overlap_ep, sp_layer_price): the
 * all-to-all first, then the memory-bound work `in_ep` that runs inside the dispatch and combine kernels (HybridEP's
 * permutation, counted in *mem) with what the budget has left. */
static void ep_overlap(double budget, double in_ep, double *ep, double *mem)
{
    double hid = fmin(*ep, budget);
    *ep -= hid;
    *mem -= fmin(in_ep, budget - hid);
}

/* Async TP as PyTorch runs it (torchtitan enable_async_tensor_parallel under torch.compile; sp_system
 * tp_micro_pipeline): inductor's micro-pipeline pass (pytorch/pytorch@5f65158aefc3:torch/_inductor/fx_passes/
 * micro_pipeline_tp.py fuse_all_gather_matmul, fuse_matmul_reduce_scatter, micro_pipeline_tp_pass) replaces an
 * all-gather by fused_all_gather_matmul over every matmul taking the gathered tensor as its left operand, and a
 * reduce-scatter by fused_matmul_reduce_scatter when its input comes straight from one matmul
 * (_find_producer_matmul). A Llama block (separate wq/wk/wv and w1/w3 linears) thus fuses, forward, the all-gather
 * with qkv / mlp_up (TP_IN) and the reduce-scatter with attn_out / mlp_down (TP_OUT); backward, the all-gather of
 * the output gradient with the data-gradient GEMM of attn_out / mlp_down (the weight gradient takes it as its right
 * operand), while the reduce-scatter of the input gradient stays a plain collective: its input is the sum of the
 * qkv (w1, w3) data gradients, no single matmul. A fused op runs in `ranks` steps (torch/distributed/
 * _symmetric_memory/__init__.py@006b161f8e5a _pipelined_multi_all_gather_and_consume,
 * _pipelined_produce_and_all2all): one step's GEMM (the local shard, consumed before any copy; the local chunk,
 * produced after the last) overlaps nothing, so a collective hides behind (ranks-1)/ranks of its GEMM. What the
 * decomposition adds, exposed: the all-gather first copies the local shard into the symmetric buffer (read + write
 * of bytes/ranks, before the barrier: "giving up the chance to overlap mv"), and the reduce-scatter ends with a
 * reduction of the ranks stacked partials (read bytes, write bytes/ranks), which NCCL does inside its ring. The
 * smaller GEMMs' efficiency is not priced (the two-stream schedule is there to absorb it). */
typedef struct {
    double ag_f[2], ag_b[2], rs_f[2], rs_b[2], ag_bytes[2], rs_bytes[2]; /* per block: 0 attention, 1 FFN */
    double in_f[2], out_f[2], out_dgrad[2]; /* the fused GEMMs' forward and the TP_OUT data-gradient time */
    int ranks;
} tp_pipe;

static void tp_pipe_add(tp_pipe *t, const sp_op *o, double f, double b)
{
    int k = (o->flags & SP_OPF_TP_FFN) != 0;
    if (o->kind == SP_OP_COLL && o->part == SP_PART_TP && o->u.coll.kind == SP_COLL_ALLGATHER)
        t->ag_f[k] += f, t->ag_b[k] += b, t->ag_bytes[k] += o->count * o->u.coll.bytes, t->ranks = o->u.coll.ranks;
    else if (o->kind == SP_OP_COLL && o->part == SP_PART_TP && o->u.coll.kind == SP_COLL_REDUCESCATTER)
        t->rs_f[k] += f, t->rs_b[k] += b, t->rs_bytes[k] += o->count * o->u.coll.bytes, t->ranks = o->u.coll.ranks;
    else if (o->kind == SP_OP_GEMM && (o->flags & SP_OPF_TP_IN))
        t->in_f[k] += f;
    else if (o->kind == SP_OP_GEMM && (o->flags & SP_OPF_TP_OUT))
        t->out_f[k] += f, t->out_dgrad[k] += o->u.gemm.bwd == SP_BWD_WEIGHT ? 0.5 * b : b;
}

static void tp_pipe_expose(const tp_pipe *t, const sp_system *s, sp_layer_cost *c)
{
    double n = t->ranks, share = n > 1 ? (n - 1) / n : 0, bw = s->acc.hbm_bw * s->acc.eff.mem;
    for (int k = 0; k < 2 && n > 1; k++) {
        if (t->in_f[k] > 0) /* forward all-gather fused with the GEMMs it feeds */
            c->tp_fwd += 2 * t->ag_bytes[k] / n / bw - fmin(t->ag_f[k], share * t->in_f[k]);
        if (t->out_f[k] > 0) /* forward reduce-scatter fused with the GEMM before it */
            c->tp_fwd += t->rs_bytes[k] * (1 + 1 / n) / bw - fmin(t->rs_f[k], share * t->out_f[k]);
        if (t->out_dgrad[k] > 0) /* its backward all-gather fused with the data-gradient GEMM */
            c->tp_bwd += 2 * t->rs_bytes[k] / n / bw - fmin(t->rs_b[k], share * t->out_dgrad[k]);
    }
}

void sp_layer_price(const sp_layer_ops *l, const sp_system *s, sp_gemm_memo *memo, sp_layer_cost *c)
{
    double pf[SP_N_PARTS] = {0}, pb[SP_N_PARTS] = {0}, rc[4] = {0};
    double lin_f = 0, lin_b = 0, ffn_f = 0, ffn_b = 0, core_f = 0, core_b = 0, inep_f = 0, inep_b = 0;
    host_acc ha;
    tp_pipe tpp;
    memset(&ha, 0, sizeof ha);
    memset(&tpp, 0, sizeof tpp);
    c->wgrad = 0;
    for (int i = 0; i < l->n; i++) {
        const sp_op *o = &l->op[i];
        sp_op_cost k;
        sp_op_price(o, s, memo, &k);
        double f = k.fwd, b = k.bwd;
        rerun_add(o, l->rc_set, f, rc);
        if (o->flags & SP_OPF_RERUN_ONLY)
            continue;
        if (l->host_kernel_s > 0)
            host_add(l, o, f, &ha);
        pf[o->part] += f;
        pb[o->part] += b;
        tp_pipe_add(&tpp, o, f, b);
        if (o->flags & SP_OPF_LINEAR)
            lin_f += f, lin_b += b;
        if (o->flags & SP_OPF_FFN)
            ffn_f += f, ffn_b += b;
        if (o->flags & SP_OPF_IN_EP)
            inep_f += f, inep_b += b;
        /* a weight GEMM's backward is its data-gradient and its weight-gradient GEMM, equal in FLOPs and shape
         * class: half of it is the W pass a zero-bubble schedule defers (Qi et al. 2023 §2) */
        if (o->kind == SP_OP_GEMM && o->u.gemm.bwd == SP_BWD_WEIGHT)
            c->wgrad += 0.5 * b;
        if ((o->flags & SP_OPF_CORE) && o->part == SP_PART_COMPUTE)
            core_f += f, core_b += b;
    }
    c->fwd_compute = pf[SP_PART_COMPUTE];
    c->bwd_compute = pb[SP_PART_COMPUTE];
    c->fwd_mem = pf[SP_PART_MEMORY];
    c->bwd_mem = pb[SP_PART_MEMORY];
    c->tp_fwd = pf[SP_PART_TP], c->tp_bwd = pb[SP_PART_TP];
    c->ep_fwd = pf[SP_PART_EP], c->ep_bwd = pb[SP_PART_EP];
    if (s->overlap_tp && s->tp_micro_pipeline)
        tp_pipe_expose(&tpp, s, c);
    else if (s->overlap_tp) { /* overlapped with the GEMMs they feed; what does not hide stays exposed */
        c->tp_fwd = sp_pos(c->tp_fwd - TP_OVERLAP_SHARE * lin_f);
        c->tp_bwd = sp_pos(c->tp_bwd - TP_OVERLAP_SHARE * lin_b);
    }
    if (s->overlap_ep) {
        /* EP A2A of one micro-batch overlapped with the independent computation of another (Megatron-Core
         * overlap_moe_expert_parallel_comm, NVIDIA/Megatron-LM@d98e8a64ddf3:megatron/core/model_parallel_config.py:
         * 343-346; DeepSeek-V3 §3.2.1 DualPipe): dispatch and combine hide behind the FFN work of the micro-batch it
         * is paired with. Only the FFN's, not the whole layer's: the pairing exists in the 1F1B phase only (the
         * docstring's "in 1f1b phase"), not in the pipeline's warm-up and cool-down, and the layer-wide budget fitted
         * the visible rows worse (Hopper 8.1 % vs 7.2 % after refit, docs/calibration.md) */
        ep_overlap(ffn_f, inep_f, &c->ep_fwd, &c->fwd_mem);
        ep_overlap(ffn_b, inep_b, &c->ep_bwd, &c->bwd_mem);
    }
    /* the CP ring runs under the attention kernels */
    c->cp_fwd = sp_pos(pf[SP_PART_CP] - core_f);
    c->cp_bwd = sp_pos(pb[SP_PART_CP] - core_b);
    rerun_fill(rc, pf, c);
    c->host_f = c->host_b = c->host_kf = 0;
    if (l->host_kernel_s > 0)
        host_expose(&ha, l, c->fwd_compute + c->fwd_mem + c->tp_fwd + c->ep_fwd + c->cp_fwd,
                    c->bwd_compute + c->bwd_mem + c->tp_bwd, c);
}

double sp_ops_total(const sp_layer_ops *l, const sp_system *s, sp_gemm_memo *memo)
{
    double total = 0;
    for (int i = 0; i < l->n; i++) {
        sp_op_cost k;
        sp_op_price(&l->op[i], s, memo, &k);
        total += k.fwd + k.bwd;
    }
    return total;
}
