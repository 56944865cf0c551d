#!/bin/sh
# scaleplan forecast from the command line.
. tests/cli/_lib.sh
expect_out forecast_text 'binding' -- forecast
expect_out forecast_json '^\{"assumptions":"default","years":\[\{"year":2025,"trend_flop":.*"constraints":\{"data_movement":\{"max_flop":.*"latency_wall":.*"power_single_campus":.*"power_distributed":.*"chips":.*"data":.*"cost":.*"binding":"' -- forecast --json
expect_out forecast_year '"years":\[\{"year":2030,[^]]*\]' -- forecast --assumptions epoch-2030 --year 2030 --json
expect_out forecast_range '"power_distributed":\{"max_flop":[0-9.e+]*,"low":[0-9.e+]*,"high":' -- forecast --assumptions epoch-2030 --year 2030 --json
expect_out forecast_flag '"trend_flop":1e\+?27,' -- forecast --start-flop 1e27 --year 2025 --json
expect_out forecast_villalobos 'data +in 2028\.' -- forecast --assumptions villalobos-2024
expect_out forecast_plot 'binding' -- forecast --plot "$TMP/f.svg"
[ -s "$TMP/f.svg" ] && echo "ok forecast_plot_file" || echo "not ok forecast_plot_file: no SVG"
expect_fail forecast_share 2 '--lab-share' -- forecast --lab-share 2
expect_fail forecast_unknown 2 "unknown assumption set 'nope'; available: " -- forecast --assumptions nope
expect_fail forecast_years 2 'years 2030..2020' -- forecast --from 2030 --to 2020
expect_fail forecast_excl 2 'exclusive' -- forecast --year 2030 --from 2025
expect_fail forecast_number 2 '--compute-growth' -- forecast --compute-growth fast
printf '{"name":"x","params":{"start_year":{"value":2025}}}' > "$TMP/bad.json"
expect_fail forecast_file 2 "every value needs a non-empty 'source'" -- forecast --assumptions "$TMP/bad.json"
