#!/bin/sh
# scaleplan limits from the command line.
. tests/cli/_lib.sh
expect_out limits_text 'linear regime ends .* at 2.05e\+28 FLOP' -- limits --mode epoch2024 --gpu h100
expect_out limits_wall 'latency wall: largest feasible run 2.71e\+31 FLOP; nothing finishes in time at 5.08e\+31' -- limits --mode epoch2024 --gpu h100
# the interface other tools rely on: one object, points with these fields, then the summary
expect_out limits_json '^\{"mode":"epoch2024".*"points":\[\{"compute_flop":[^]]*"utilization":[^]]*"n_gpus":[^]]*"d_model":[^]]*"n_layers":[^]]*"batch_tokens":[^]]*"tp_model":[^]]*"pp":[^]]*"dp":.*\],"linear_regime_end_flop":2.0[0-9e+]*,"latency_wall_flop":2.7[0-9e+]*,.*"max_utilization":0.7,.*"wall_time_s":[0-9.e-]+\}$' -- limits --mode epoch2024 --gpu h100 --json
expect_out limits_moe_json '\],"linear_regime_end_flop":6.83[0-9e+]*,"latency_wall_flop":1.003' -- limits --mode epoch2024 --gpu h100 --moe --json
expect_out limits_json_split '"time_split":\{"batch_s":[^}]*"kernel_latency_s":[^}]*\},"binding":"kernel latency"' -- limits --mode epoch2024 --gpu h100 --json
expect_out limits_compare 'A100 SXM dense' -- limits --mode epoch2024 --compare h100,a100
expect_out limits_compare_whatif 'H100 SXM MoE, latency x0.1, flat network' -- limits --mode epoch2024 --compare h100,h100+moe+ll+flat --to 1e27
expect_out limits_paper '^"H100 SXM dense, DeepSeek batch",' -- limits --mode epoch2024 --compare paper --csv --to 1e26
expect_out limits_csv '^setting,compute_flop,.*,binding,energy_mwh,co2e_t,cloud_cost_usd$' -- limits --mode epoch2024 --csv --gpu v100
expect_out limits_range '1.121e\+26' -- limits --mode epoch2024 --from 1e26 --to 2e26
expect_out limits_range_end 'beyond the swept range' -- limits --mode epoch2024 --to 1e27
expect_out limits_whatif 'latency x0.1' -- limits --mode epoch2024 --latency-scale 0.1 --to 1e27
expect_out limits_inf_bw 'infinite bandwidth' -- limits --mode epoch2024 --flat-network --bandwidth-scale inf --latency-scale 0.1 --to 1e27
expect_out limits_kaplan 'Kaplan batch' -- limits --mode epoch2024 --batch-rule kaplan --to 1e27
expect_out limits_fixed 'linear regime ends .* at 2.85e\+27' -- limits --mode epoch2024 --batch-rule fixed:4Mi
expect_out limits_fat 'linear regime' -- limits --mode epoch2024 --shape fat:2 --to 1e27
expect_out limits_plot 'swept in' -- limits --mode epoch2024 --compare h100,a100 --to 1e28 --plot "$TMP/l.svg"
# empty results are reported as such
expect_out limits_empty_wall 'nothing finishes within .* not even the smallest run' -- limits --mode epoch2024 --duration 1h
expect_out limits_empty_json '"feasible":false,.*"note":"no feasible run in the requested range' -- limits --mode epoch2024 --from 1e33 --json
# a range that holds no sweep point is bad input: the option, the nearest points, exit 2, nothing on stdout
expect_fail limits_empty_range 2 '^scaleplan limits: error: --from 1.7e+25 --to 3e+25: no sweep point falls in this range; the nearest are 1.63e+25 and 3.63e+25 FLOP$' -- limits --mode epoch2024 --from 1.7e25 --to 3e25
expect_fail limits_to_below 2 '^scaleplan limits: error: --to 1e+24: below the smallest run of the sweep (6.45e+24 FLOP); allowed --to >= 6.45e+24' -- limits --mode epoch2024 --to 1e24
expect_fail limits_to_below_json 2 '^scaleplan limits: error: --to 1e+24: below the smallest run' -- limits --mode epoch2024 --to 1e24 --json
expect_fail limits_full_to_below 2 '^scaleplan limits: error: --to 1e+24: below the smallest run of the sweep (1.09e+25 FLOP)' -- limits --to 1e24
# bad input: one line on stderr, exit 2, nothing on stdout
expect_fail limits_mode 2 "allowed epoch2024, full" -- limits --mode paper
expect_fail limits_gpu 2 "--gpu 'tpu'" -- limits --mode epoch2024 --gpu tpu
expect_fail limits_range_bad 2 'must be below' -- limits --mode epoch2024 --from 1e30 --to 1e25
expect_fail limits_neg 2 '--duration' -- limits --mode epoch2024 --duration -3mo
expect_fail limits_zero 2 '--duration' -- limits --mode epoch2024 --duration 0
expect_fail limits_nan 2 "--from: 'nan' is not a finite number" -- limits --mode epoch2024 --from nan
expect_fail limits_lat0 2 '--latency-scale: 0 is out of range' -- limits --mode epoch2024 --latency-scale 0
expect_fail limits_bwneg 2 '--bandwidth-scale: -2 is out of range' -- limits --mode epoch2024 --bandwidth-scale -2
expect_fail limits_batch 2 "--batch-rule 'linear'" -- limits --mode epoch2024 --batch-rule linear
expect_fail limits_batch_small 2 'at least one 2048-token sequence' -- limits --mode epoch2024 --batch-rule fixed:100
expect_fail limits_shape 2 "--shape 'thin'" -- limits --mode epoch2024 --shape thin
expect_fail limits_both 2 'not both' -- limits --mode epoch2024 --dense --moe
expect_fail limits_formats 2 'not both' -- limits --mode epoch2024 --json --csv
expect_fail limits_cmp_mod 2 "unknown modifier '+fast'" -- limits --mode epoch2024 --compare h100+fast
expect_fail limits_cmp_gpu 2 "--compare: 'b200'; allowed" -- limits --mode epoch2024 --compare h100,b200
expect_fail limits_cmp_empty 2 'no settings given' -- limits --mode epoch2024 --compare ,
expect_fail limits_plot_ext 2 'plot' -- limits --mode epoch2024 --to 1e26 --plot "$TMP/l.txt"
expect_out limits_gpu_preset 'H100 SXM Scaled dense' -- limits --mode epoch2024 --gpu h100-scaled --to 1e26
printf '{"base": "h100", "hbm_bps": -1}' > "$TMP/g.json"
expect_fail limits_gpu_file 2 "g.json: field 'hbm_bps' = -1 is out of range" -- limits --mode epoch2024 --gpu "$TMP/g.json"
expect_fail limits_gpu_dir 2 'is a directory' -- limits --mode epoch2024 --gpu "$TMP/"
# --mode full (the default): scaleplan's training model and plan search on a system preset
expect_out limits_full_text 'full training model\): dgx-h100 dense' -- limits --to 1e26
expect_out limits_full_cmp "the paper's model on this setting \(--mode epoch2024\): max utilization 0.70" -- limits --mode full --to 1e26
expect_out limits_full_json '^\{"mode":"full".*"points":\[\{"compute_flop":[^]]*"utilization":[^]]*"n_gpus":[^]]*"d_model":[^]]*"n_layers":[^]]*"batch_tokens":[^]]*"tp":[^]]*"pp":[^]]*"dp":.*"linear_regime_end_flop":.*"latency_wall_flop":.*"max_utilization":.*"epoch2024":\{"linear_regime_end_flop":.*"wall_time_s":[0-9.e-]+\}$' -- limits --json --to 3e26
expect_out limits_full_csv '^setting,compute_flop,d_model,layers,heads,kv_heads,experts,.*,binding,software$' -- limits --csv --to 1e26
expect_out limits_full_moe 'dgx-h100 MoE' -- limits --moe --to 1e26
expect_out limits_full_system 'dgx-b200 dense' -- limits --gpu dgx-b200 --to 1e26
expect_out limits_full_compare 'latency x0.1, infinite bandwidth, flat network' -- limits --compare h100,h100+flat+bw=inf+ll --to 1e26
expect_out limits_full_plot 'swept in' -- limits --compare h100,a100 --to 1e26 --plot "$TMP/f.svg"
expect_out limits_full_empty 'nothing finishes within' -- limits --duration 1h
expect_fail limits_full_variant 2 'is a variant of the paper' -- limits --gpu h100-low-latency
expect_fail limits_full_sys 2 'nosuch' -- limits --gpu nosuch
# Rule (issue 18, --software on limits): full mode's plans run the named training stack as search --software runs
# it: the stack's kernel factors on the system (sp_software_apply_system), its features and defaults on every
# searched plan (sp_software_apply_search). Without it nothing changes (no stack: the plan search's defaults, the
# JSON says "software":null). Values as printed (17 digits); 1e-9 relative covers gcc/clang libm differences.
# dgx-h100, the first sweep point (1.09e25 FLOP, 4,096 GPUs): MFU 0.5452 without a stack, 0.5791 under
# megatron-core (its Hopper GEMM/attention factors, docs/calibration.md, and its defaults; its TP 4 plan runs with one
# device connection, kernels.one_queue, so its data-parallel reduction is not overlapped: docs/model.md "Pipeline sends").
expect_json limits_sw_default 'points.0.compute_flop=1.09419752667065e25@1e-9' 'points.0.utilization=0.545189194146046@1e-9' -- limits --to 1e26 --json
expect_out limits_sw_null '^\{"mode":"full","software":null,' -- limits --to 1e26 --json
expect_json limits_sw_mcore 'software=~megatron-core' 'settings.0.setting=~dgx-h100 dense, megatron-core' 'points.0.n_gpus=4096@0' 'points.0.utilization=0.579050879473155@1e-9' -- limits --to 1e26 --software megatron-core --json
expect_out limits_sw_text 'full training model\): dgx-h100 dense, megatron-core, 3 months' -- limits --to 1e26 --software megatron-core
expect_out limits_sw_csv ',llm-foundry$' -- limits --to 1e26 --duration 2y --software llm-foundry --csv
# a stack without tensor, pipeline or context parallelism (llm-foundry: FSDP only, data/software/llm-foundry.json
# supports zero2, zero3) restricts every searched plan to data parallelism with its ZeRO-3 default; without the
# stack the same sweep's best plans use TP 2-4, PP 16-32 and CP 4
expect_json limits_sw_notp 'each:points:tp=1@0' 'each:points:pp=1@0' 'each:points:cp=1@0' 'each:points:zero=3@0' 'points.1?' -- limits --to 1e26 --duration 2y --software llm-foundry --json
expect_json limits_sw_notp_base 'points.0.tp=2@0' 'points.0.pp=16@0' 'points.0.cp=4@0' -- limits --to 1e26 --duration 2y --json
# refusals: a name that is no training stack; the paper's model, which has no stack to run
expect_fail limits_sw_bad 2 "^scaleplan limits: error: --software: unknown software preset 'nosuch'; available: deepspeed," -- limits --software nosuch
expect_fail limits_sw_epoch 2 "^scaleplan limits: error: --software: the paper's model (--mode epoch2024) has no software stack" -- limits --mode epoch2024 --software megatron-core
expect_fail limits_sw_serving 2 "--software: unknown software preset 'vllm'" -- limits --software vllm

