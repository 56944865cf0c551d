#!/bin/sh
# scaleplan train / validate / presets from the command line: outputs and every kind of bad input.
. tests/cli/_lib.sh
expect_out default_job 'step time .* MFU' -- train
expect_out json_keys '"step_time_s":.*"mfu":.*"hfu":.*"tflops_per_gpu":.*"memory_per_gpu_bytes":\{"total"' -- train --json
expect_out json_breakdown '"time_breakdown_s":\{"compute"' -- train --json
expect_out tokens '"train_time_s":.*"gpu_hours"' -- train --json --tokens 300B
expect_out hf_config 'Llama-3-8B' -- train --model data/models/llama3-8b.json --system dgx-h100 --gpus 8 --tp 8 --global-batch 64 --seq-len 8192
expect_out moe 'Mixtral' -- train --model mixtral-8x7b --system dgx-h100 --gpus 64 --tp 2 --ep 8 --global-batch 256 --seq-len 4096 --zero 1
expect_out infeasible 'DOES NOT FIT' -- train --model llama3-70b --system dgx-h100 --gpus 8 --global-batch 8
# the MosaicML A100 family stays within 7 % (issue 18: the older rows must not move; 6.18 % with the NIC-striped
# collectives and SM contention, 7.00 % before)
expect_out validate 'MPT      n=139  MAPE   [0-6]\.[0-9][0-9] %' -- validate data/validation/training_runs.csv
expect_out validate_json '^\{"rows":\[\{"id":"NAR21-T1-1","predicted_step_time_s":' -- validate data/validation/training_runs.csv --json
expect_out validate_reasons 'NAR21    6 not evaluated' -- validate data/validation/training_runs.csv
expect_out validate_two_files 'file data/validation/training_runs_megatron_core.csv: n=' -- validate data/validation/training_runs.csv data/validation/training_runs_megatron_core.csv
expect_out validate_two_json '"files":\[\{"file":"data/validation/training_runs.csv","summary":\{"n":252,' -- validate data/validation/training_runs.csv data/validation/training_runs_megatron_core.csv --json
expect_out validate_relative 'REL-3 *not evaluated: .*llm-foundry. has no tensor parallelism' -- validate tests/validate/rel/runs.csv
expect_fail validate_none 2 'no row could be evaluated' -- validate tests/validate/none.csv
expect_out presets 'dgx-a100-80g' -- presets
# bad input: one line on stderr naming the place and what is allowed, exit 2, nothing on stdout
expect_fail unknown_model 2 "unknown model preset 'gpt5'; available:" -- train --model gpt5
expect_fail unknown_system 2 "unknown system preset" -- train --system dgx-z9000
expect_fail truncated_json 2 'tests/bad/truncated.json:4:' -- train --model tests/bad/truncated.json
expect_fail wrong_type 2 "tests/bad/wrong_type.json:1: field 'hidden_size': expected an integer" -- train --model tests/bad/wrong_type.json
expect_fail missing_field 2 "missing field 'num_attention_heads'" -- train --model tests/bad/missing_heads.json
expect_fail duplicate_key 2 'duplicate object key' -- train --model tests/bad/duplicate_key.json
expect_fail negative 2 "field 'num_hidden_layers' = -4 is out of range" -- train --model tests/bad/negative_layers.json
expect_fail empty_file 2 'tests/bad/empty.json' -- train --model tests/bad/empty.json
expect_fail directory 2 'is a directory' -- train --model tests/bad/
expect_fail system_unknown_key 2 "unknown tier field 'bandwith'; allowed: name, size, bw" -- train --system tests/bad/system_typo.json
expect_fail system_pue 2 "field 'pue' = 0.5 is out of range" -- train --system tests/bad/system_pue.json
expect_fail not_factoring 2 'is not divisible by tp\*pp\*cp\*ep' -- train --gpus 100 --tp 8
expect_fail heads 2 'tp = 7 does not divide num_attention_heads' -- train --gpus 7 --tp 7 --model gpt3-175b
expect_fail batch 2 'global batch 100 is not divisible by dp\*ep\*micro_batch' -- train --model llama3-8b --system dgx-h100 --gpus 64 --global-batch 100
expect_fail zero_gpus 2 '--gpus: 0 is out of range' -- train --gpus 0
expect_fail nan 2 "--tp: 'nan' is not a finite number" -- train --tp nan
expect_fail huge 2 '--gpus: 1e40 is out of range' -- train --gpus 1e40
expect_fail unknown_option 2 "unknown option '--tpp'" -- train --tpp 8
expect_fail recompute_word 2 "--recompute: 'some'; allowed none, selective, full" -- train --recompute some
expect_fail dtype 2 "unknown precision 'fp7'" -- train --dtype fp7
expect_fail missing_value 2 'option --tp needs a value' -- train --tp
expect_fail tokens_unit 2 "unknown unit" -- train --tokens 3parsecs
expect_fail validate_missing 2 'cannot open' -- validate /nonexistent.csv
expect_fail validate_column 2 "missing required column 'system'" -- validate tests/bad/runs_missing_col.csv
expect_fail unknown_command 2 "unknown command 'trian'" -- trian
# pipeline schedules (docs/model.md "Schedules")
expect_out schedule_zbh1 '"schedule":"zb-h1"' -- train --model llama3-70b --system dgx-h100 --gpus 64 --tp 4 --pp 8 --global-batch 64 --seq-len 8192 --schedule zb-h1 --json
expect_fail schedule_bad 2 "--schedule: 'zb-h2'; allowed 1f1b, interleaved, zb-h1, zb-v, dualpipe" -- train --pp 8 --schedule zb-h2
expect_fail schedule_dualpipe_odd 2 'needs an even pp' -- train --model llama3-70b --system dgx-h100 --gpus 40 --tp 8 --pp 5 --global-batch 40 --seq-len 8192 --schedule dualpipe
# Rule: activation offloading keeps the first N layers' activations of each stage in host memory (Megatron-Core
# cpu_offloading_num_layers): Megatron-Bridge's Llama-3-70B FSDP recipe on 64 GB200s (40 layers offloaded) fits; a stage
# keeps at least one layer; bad values are one line, exit 2.
expect_out train_offload_fits 'memory per GPU \(heaviest pipeline stage\) +167\.[0-9] GiB of 173\.2 GiB: fits' -- train --model llama3-70b --system gb200-nvl72 --gpus 64 --zero 3 --micro-batch 2 --global-batch 256 --seq-len 8192 --dtype fp8 --software megatron-core-26.04 --offload-layers 40
# Rule: the offload copies are exposed as Transformer Engine's schedule leaves them (docs/model.md "Activation
# offloading"): Llama-3-70B FP8 on 64 H200s (55 GB/s host link each way), 40 of 80 layers: 2 micro-batches x 632 ms
# of forward copies past the forward compute = 1.26 s; the same recipe on GB200 (193 / 201 GB/s) hides them; a
# system without a host link says the copies are not priced
expect_out train_offload_copies 'activation offload copies, exposed +1\.26 s' -- train --model llama3-70b --system hgx-h200 --gpus 64 --zero 3 --micro-batch 2 --global-batch 256 --seq-len 8192 --dtype fp8 --offload-layers 40
expect_json train_offload_copies_json time_breakdown_s.offload_copies=1.26466@1e-5 offload_copies_priced=true -- train --model llama3-70b --system hgx-h200 --gpus 64 --zero 3 --micro-batch 2 --global-batch 256 --seq-len 8192 --dtype fp8 --offload-layers 40 --json
expect_json train_offload_hidden time_breakdown_s.offload_copies=0@0 offload_copies_priced=true -- train --model llama3-70b --system gb200-nvl72 --gpus 64 --zero 3 --micro-batch 2 --global-batch 256 --seq-len 8192 --dtype fp8 --software megatron-core-26.04 --offload-layers 40 --json
expect_out train_offload_unpriced "activation offload copies +not priced: system 'dgx-b200' states no host link" -- train --model llama3-70b --system dgx-b200 --gpus 64 --zero 3 --micro-batch 2 --global-batch 256 --seq-len 8192 --offload-layers 40
expect_json train_offload_unpriced_json time_breakdown_s.offload_copies=0@0 offload_copies_priced=false -- train --model llama3-70b --system dgx-b200 --gpus 64 --zero 3 --micro-batch 2 --global-batch 256 --seq-len 8192 --offload-layers 40 --json
expect_fail train_offload_all 2 'plan: offload_layers = 80; allowed 0..79 (fewer than the 80 layers of a pipeline stage)' -- train --model llama3-70b --offload-layers 80
expect_fail train_offload_bad 2 'offload-layers' -- train --model llama3-70b --offload-layers -1
# Rule: packed sequences (--doc-len, --doc-len-cv; docs/model.md "Packed sequences"): the JSON plan reports the
# samples' mean, spread and the keys per token E[l^2]/E[l] = doc_len (1 + cv^2) = 1024 x 2; the text names them; a
# mean above the sequence, a cv whose E[l^2]/E[l] would exceed it, a cv alone and a non-positive mean are refused
# naming the knob
expect_json train_packed_json plan.doc_len=1024@0 plan.doc_len_cv=1@0 plan.attn_context=2048@0 -- train --model llama2-7b --system dgx-h100 --gpus 8 --global-batch 32 --seq-len 4096 --doc-len 1024 --doc-len-cv 1 --json
expect_out train_packed_text 'packed sequences: samples of 200 tokens on average \(cv 0\), attention within each: 200 keys per token' -- train --model llama2-7b --system dgx-h100 --gpus 8 --global-batch 32 --seq-len 4096 --doc-len 200
expect_fail train_packed_long 2 'plan: doc_len = 5000; allowed 0 (unpacked) or up to seq_len = 4096' -- train --model llama2-7b --seq-len 4096 --doc-len 5000
expect_fail train_packed_cv 2 'plan: doc_len_cv = 2 with doc_len = 1024; allowed at most 1.732' -- train --model llama2-7b --seq-len 4096 --doc-len 1024 --doc-len-cv 2
expect_fail train_packed_cv_alone 2 '\-\-doc-len-cv does not apply without \-\-doc-len' -- train --model llama2-7b --doc-len-cv 1
expect_fail train_packed_zero 2 '\-\-doc-len: 0 is out of range' -- train --model llama2-7b --doc-len 0
expect_fail search_packed_long 2 'plan: doc_len = 5000; allowed 0 (unpacked) or up to seq_len = 4096' -- search --model llama2-7b --system dgx-h100 --gpus 8 --global-batch 32 --seq-len 4096 --doc-len 5000
expect_json finetune_packed_json doc_len=200@0 attn_context=200@0 -- finetune --model llama2-7b --system dgx-h100 --gpus 8 --global-batch 32 --seq-len 4096 --method lora --doc-len 200 --json
# Rule: MTP depths (Megatron-Core mtp_num_layers with mtp_use_repeated_layer; Megatron-Bridge's Nemotron-3 Super
# recipe runs 2): the plan says how many, the JSON plan reports them; a model without an MTP module refuses them
expect_out train_mtp_depths 'MTP depths 2 \(the model.s 1 MTP module run 2 times, weights shared\)' -- train --model nemotron-3-super-120b-a12b --system gb200-nvl72 --gpus 64 --tp 2 --ep 64 --ep-fold --etp 1 --sp --seq-len 8192 --global-batch 512 --dtype mxfp8 --software megatron-core-26.04 --mtp-layers 2
expect_json train_mtp_depths_json plan.mtp_depths=2@0 -- train --model nemotron-3-super-120b-a12b --system gb200-nvl72 --gpus 64 --tp 2 --ep 64 --ep-fold --etp 1 --sp --seq-len 8192 --global-batch 512 --dtype mxfp8 --software megatron-core-26.04 --mtp-layers 2 --json
expect_json train_mtp_default_json plan.mtp_depths=1@0 -- train --model nemotron-3-super-120b-a12b --system gb200-nvl72 --gpus 64 --tp 2 --ep 64 --ep-fold --etp 1 --sp --seq-len 8192 --global-batch 512 --dtype mxfp8 --software megatron-core-26.04 --json
expect_fail train_mtp_no_module 2 "plan: mtp_layers = 2 needs a model with an MTP module to repeat; 'Llama-3-8B' has none" -- train --model llama3-8b --gpus 8 --mtp-layers 2
