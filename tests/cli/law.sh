#!/bin/sh
# scaleplan law / fit from the command line.
. tests/cli/_lib.sh
expect_out law_json '^\{"law":"Chinchilla Approach 3","compute_flop":1e\+?24,"n_opt":.*"d_opt":.*"loss":' -- law --compute 1e24 --law chinchilla --json
expect_out law_pfdays 'compute-optimal: N\* =' -- law --compute "2.5e3 PF-days"
expect_out law_cluster '"gpu_hours":' -- law --gpus 1024 --system dgx-h100 --days 90 --mfu 0.4 --json
expect_out law_loss 'loss of N = 70 G' -- law --n 70B --d 1.4T
expect_out law_overtrain 'over-training' -- law --n 8B --tokens-per-param 2000 --law epoch
expect_out law_infer '"inference_aware":\{' -- law --target-loss 2.0 --served-tokens 1e13 --json
expect_out law_plot 'plot written' -- law --plot "$TMP/law.svg"
expect_out fit_json '^\{"E":.*"A":.*"B":.*"alpha":.*"beta":.*"a":.*"b":.*"n_points":240.*"ci":\{"E":\[' -- fit data/validation/chinchilla_points.csv --n N_params --d D_tokens --loss loss --drop-if excluded_as_outlier_by_epoch=y --bootstrap 20 --json
expect_fail law_unknown 2 "unknown law 'chinchila'" -- law --law chinchila --compute 1e24
expect_fail law_floor 2 'is not reachable' -- law --target-loss 1.5 --d 1e12
expect_fail law_cluster_partial 2 'needs --gpus and --days' -- law --gpus 1024
expect_fail law_plot_ext 2 'must end in .svg or .png' -- law --plot "$TMP/law.pdf"
expect_fail law_batch 2 "--batch-rule 'big'" -- law --compute 1e24 --batch-rule big
expect_fail fit_column 2 "no column 'N'" -- fit data/validation/chinchilla_points.csv
expect_fail fit_missing 2 'cannot open' -- fit /nonexistent.csv
printf 'N,D,loss\n1e8,1e9,3\n1e9,1e10,2.5\n' > "$TMP/few.csv"
expect_fail fit_few 2 'need at least 6' -- fit "$TMP/few.csv"
printf 'N,D,loss\n1e8,1e9,3\n1e9,1e10,nan\n' > "$TMP/nan.csv"
expect_fail fit_nan 2 "'nan' is not a finite number" -- fit "$TMP/nan.csv"
printf 'N,D,loss\n1e8,1e9,3\n1e9,1e10,2.5\n1e8,1e9,3\n' > "$TMP/dup.csv"
expect_fail fit_dup 2 'duplicate of line 2' -- fit "$TMP/dup.csv"
printf 'N,D,loss\n1e8,1e9,3\n-1e9,1e10,2.5\n' > "$TMP/neg.csv"
expect_fail fit_negative 2 'out of range' -- fit "$TMP/neg.csv"
expect_out fit_scaled '"B":208[0-9]\..*"objective":"huber-scaled"' -- fit data/validation/chinchilla_points.csv --n N_params --d D_tokens --loss loss --drop-if excluded_as_outlier_by_epoch=y --objective huber-scaled --json
expect_fail fit_objective 2 "--objective 'l2'" -- fit data/validation/chinchilla_points.csv --objective l2
