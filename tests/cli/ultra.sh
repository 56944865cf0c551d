#!/bin/sh
# Rule: the Blackwell Ultra rows of the Megatron-Bridge tables (data/validation/training_runs_megatron_core_ultra.csv,
# written by tools/bridge_ultra.py; never fitted) all parse and run: 118 evaluated, the two models without a published
# config refused by name; their MAPE stays below 20 % (22.11 % when added, 18.23 % with GB300's measured GEMM curve, 17.97 % with NVFP4's quantization traffic, 16.61 -> 16.31 % with the Super recipe's 2 MTP depths; docs/validation.md "Blackwell Ultra rows").
. tests/cli/_lib.sh
f=data/validation/training_runs_megatron_core_ultra.csv
expect_out ultra_mape 'ULTRA    n=118  MAPE +([0-9]|1[0-9])\.[0-9][0-9] %' -- validate $f
expect_out ultra_refused 'ULTRA    2 not evaluated' -- validate $f
expect_out ultra_v4_refused 'ULTRA-26.08-2 +not evaluated: .*DeepSeek-V4-Flash. is not specified by its source' -- validate $f
