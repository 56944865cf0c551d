#!/bin/sh
# limits --mode full: the paper's idealisations one at a time, and the waterfall table (issue 22).
. tests/cli/_lib.sh
# x47.7 since the collectives stripe over all NICs (issue 18): small runs reach MFU 0.545 (0.493 before), so the
# full mode's linear regime (MFU > 0.8 x the best) ends at 9.6e25 instead of 1.8e26 and zero-bubble moves it further
expect_out waterfall_table '^\| \+ zero-bubble pipeline .* \| x4[0-9]\.[0-9] \|' -- limits --waterfall
expect_out waterfall_paper '^\| the paper.s model \(--mode epoch2024\) \| 2\.05e\+28 \|.*\| 2\.71e\+31 \|' -- limits --waterfall
expect_out waterfall_beyond 'more GPUs than exist' -- limits --waterfall
expect_out limits_zb '"setting":"dgx-h100 dense, zero-bubble pipeline"' -- limits --compare h100,h100+zb --json
expect_fail limits_zb_epoch 2 'idealisations of --mode full' -- limits --mode epoch2024 --compare h100+zb
expect_fail limits_tokmb 2 'tokens per micro-batch' -- limits --compare h100+tokmb=0.5
expect_fail waterfall_compare 2 'waterfall is a table' -- limits --waterfall --compare h100
expect_fail limits_modifier 2 '+zb +paperlat +noattn +tokmb=T' -- limits --compare h100+warp
# --software: every step runs the stack (limits.sh limits_sw_*), and the first row names it
expect_out waterfall_software '^\| full mode \(1F1B / interleaved pipelines, .*InfiniBand\), software megatron-core \|' -- limits --waterfall --software megatron-core --to 1e26
