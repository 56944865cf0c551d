#!/bin/sh
# Rule: the NeMo documentation tables' rows (data/validation/training_runs_nemo.csv, written by tools/nemo_tables.py;
# never fitted) all parse and run, 35 of 35, and each family's MAPE stays within about 2 points of its value when
# added (docs/validation.md "NeMo 2024-2025 tables"): NEMO24 (NeMo 24.07 on H100) 9.74 % -> below 12 %, NEMOCP
# (long-context CP, H100 and B200) 17.49 % -> below 20 %.
. tests/cli/_lib.sh
f=data/validation/training_runs_nemo.csv
expect_out nemo24_mape 'NEMO24   n= 18  MAPE  ( [0-9]|1[01])\.[0-9][0-9] %' -- validate $f
expect_out nemocp_mape 'NEMOCP   n= 17  MAPE  1[0-9]\.[0-9][0-9] %' -- validate $f
expect_out nemo_all 'overall: n=35 evaluated, 0 not evaluated' -- validate $f
# the long-context rows state no micro-batch: the whole per-replica batch (256 x 4K sequences per H100) does not
# fit, so the largest fitting divisor is taken and no row is flagged for memory
expect_out nemocp_fits '^NEMOCP-H100-4K +[0-9.]+ +62\.92 +-6\.9 +[0-9.]+ +\(from TFLOP/s\) \(knobs unstated\) *$' -- validate $f
