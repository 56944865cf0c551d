#!/bin/sh
# Rule: the NeMo documentation tables' rows (data/validation/training_runs_nemo.csv, written by tools/nemo_tables.py;
# never fitted) all parse and run, 35 of 35, and each family's MAPE stays within about 2 points of its value
# (docs/validation.md "NeMo 2024-2025 tables"): NEMO24 (NeMo 24.07 on H100, stack megatron-core-24.07; its SFT / LoRA
# rows with packed SQuAD samples, doc_len 200.5, cv 0.436) 6.09 % -> 4-7.99 %, NEMOCP (long-context CP: H100 on
# megatron-core-24.03.01, B200 on megatron-core) 5.29 % -> 3-7.99 %.
. tests/cli/_lib.sh
f=data/validation/training_runs_nemo.csv
expect_out nemo24_mape 'NEMO24   n= 18  MAPE   [4-7]\.[0-9][0-9] %' -- validate $f
expect_out nemocp_mape 'NEMOCP   n= 17  MAPE   [3-7]\.[0-9][0-9] %' -- validate $f
expect_out nemo_all 'overall: n=35 evaluated, 0 not evaluated' -- validate $f
# the long-context rows state no micro-batch: the whole per-replica batch (256 x 4K sequences per H100) does not
# fit, so the largest fitting divisor is taken and no row is flagged for memory (NeMo 24.03.01's FlashAttention-2,
# megatron-core-24.03.01: -2.8 %; -6.9 % on the 2025-26 base's cuDNN attention)
expect_out nemocp_fits '^NEMOCP-H100-4K +[0-9.]+ +62\.92 +-2\.8 +[0-9.]+ +\(from TFLOP/s\) \(knobs unstated\) *$' -- validate $f
