#!/bin/sh
# scaleplan fit: forms, held-out error, selection, predictions (issue 22).
. tests/cli/_lib.sh
G=tests/gadre2024/rpj_c4val.csv
expect_out fit_predict_json '"predictions":\[\{"n":70000000000,"d":1400000000000,"loss":1\.9[0-9]*,"lo":1\.9[0-9]*,"hi":[12]\.[0-9]*\},\{"n":405000000000' -- fit data/validation/chinchilla_points.csv --n N_params --d D_tokens --loss loss --drop-if excluded_as_outlier_by_epoch=y --predict 70B,1.4T --predict=405B,15T --bootstrap 30 --json
expect_out fit_gadre '"alpha":0\.26[0-9]*,"beta":0\.26[0-9]*,"a":0\.5,"b":0\.5,"gadre":\{"a":.*"eta":0\.13[0-9]*\},"form":"gadre"' -- fit $G --loss loss_c4_val --drop-if split=holdout --form gadre --json
expect_out fit_kaplan '"Nc":.*"Dc":.*"alpha_N":.*"alpha_D":.*"form":"kaplan"' -- fit $G --loss loss_c4_val --drop-if split=holdout --form kaplan --json
expect_out fit_auto 'form chosen by held-out error .*gadre' -- fit $G --loss loss_c4_val --drop-if split=holdout --form auto --select largest
expect_out fit_auto_json '"form":"gadre".*"heldout":"largest size".*"selection_heldout_rmse_log":\{"chinchilla":' -- fit $G --loss loss_c4_val --drop-if split=holdout --form auto --select largest --json
printf 'N,D\n1439795200,921468928000\n6889410560,137788211200\n' > "$TMP/pred.csv"
expect_out fit_predict_csv 'predicted loss at N = 6\.889e\+09, D = 1\.378e\+11: 2\.43' -- fit $G --loss loss_c4_val --drop-if split=holdout --form gadre --predict-csv "$TMP/pred.csv"
expect_fail fit_form_bad 2 "--form 'hoffmann'" -- fit $G --form hoffmann
expect_fail fit_select_bad 2 "--select 'kfold'" -- fit $G --select kfold
expect_fail fit_predict_bad 2 "expected N,D" -- fit $G --predict 7B
expect_fail fit_predict_neg 2 "--predict" -- fit $G --loss loss_c4_val --predict 7B,-1
expect_fail fit_predict_missing 2 "needs a value" -- fit $G --predict
expect_fail fit_scaled_form 2 "huber-scaled is implemented for --form chinchilla only" -- fit $G --loss loss_c4_val --form gadre --objective huber-scaled
printf 'X,D\n1,2\n' > "$TMP/badpred.csv"
expect_fail fit_predict_csv_cols 2 "needs columns 'N' and 'D'" -- fit $G --loss loss_c4_val --predict-csv "$TMP/badpred.csv"
