#!/bin/sh
# scaleplan limits from the command line.
. tests/cli/_lib.sh
expect_out limits_text 'linear regime ends .* at 2.05e\+28 FLOP' -- limits --mode epoch2024 --gpu h100
expect_out limits_json '^\{"mode":"epoch2024".*"points":\[\{"compute_flop":.*"utilization":.*"n_gpus":.*"d_model":.*"n_layers":.*"batch_tokens":.*"linear_regime_end_flop":2.0.*"latency_wall_flop":2.7.*"max_utilization":0.7,"wall_time_s":' -- limits --mode epoch2024 --gpu h100 --json
expect_out limits_moe_json '"linear_regime_end_flop":6.8' -- limits --mode epoch2024 --gpu h100 --moe --json
expect_out limits_compare 'A100 SXM dense' -- limits --compare h100,a100
expect_out limits_csv '^setting,compute_flop' -- limits --csv --gpu v100
expect_out limits_range '1.12.e\+26' -- limits --from 1e26 --to 2e26
expect_out limits_whatif 'modified' -- limits --latency-scale 0.1 --to 1e27
expect_out limits_fat 'linear regime' -- limits --shape fat:2 --to 1e27
expect_out limits_plot 'swept in' -- limits --compare h100,a100 --to 1e28 --plot "$TMP/l.svg"
expect_fail limits_full 2 'not implemented yet' -- limits --mode full
expect_fail limits_gpu 2 "--gpu 'tpu'" -- limits --gpu tpu
expect_fail limits_range_bad 2 'must be below' -- limits --from 1e30 --to 1e25
expect_fail limits_neg 2 '--duration' -- limits --duration -3mo
expect_fail limits_nan 2 "--from: 'nan' is not a finite number" -- limits --from nan
expect_fail limits_batch 2 "--batch-rule 'kaplan'" -- limits --batch-rule kaplan
expect_fail limits_both 2 'not both' -- limits --dense --moe
