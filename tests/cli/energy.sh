#!/bin/sh
# energy, cost and carbon from the command line.
. tests/cli/_lib.sh
expect_out train_energy 'CO2e .* t at' -- train --tokens 300B
expect_out train_energy_json '"energy_kwh":\{"total":.*"co2e_kg":\{"total":.*"cost_usd":\{"total":' -- train --tokens 300B --json --region fr
expect_out train_gpu_hours '"gpu_hours":' -- train --tokens 300B --json
expect_out validate_energy 'overall: n=22 evaluated' -- validate-energy data/validation/training_energy.csv
expect_out validate_energy_json '^\{"power_model":"auto","rows":\[\{"id":"PATT21-Evolved","predicted_energy_mwh":.*"n":22,"mape_pct":' -- validate-energy data/validation/training_energy.csv --json
expect_out validate_energy_stated '"id":"LLAMA2-total".*"method":"stated"' -- validate-energy data/validation/training_energy.csv --json --region us
expect_out validate_energy_activity '"power_model":"activity".*"id":"LLAMA2-total".*"method":"activity"' -- validate-energy data/validation/training_energy.csv --json --power-model activity
expect_fail validate_energy_region 2 "--region 'mars' is not a region preset" -- validate-energy data/validation/training_energy.csv --region mars
expect_fail validate_energy_model 2 "--power-model 'max'; allowed auto, activity, tdp" -- validate-energy data/validation/training_energy.csv --power-model max
expect_out report_famous 'Llama 2 70B' -- report famous
expect_fail bad_pue 2 '--pue: 0.8 is out of range' -- train --pue 0.8
expect_fail bad_price 2 '--price-per-gpu-hour: -2 is out of range' -- train --price-per-gpu-hour -2
expect_fail bad_region 2 "--region 'mars' is not a region preset" -- train --region mars
expect_fail region_and_grid 2 'either --region or --grid' -- train --region fr --grid 0.1
expect_fail bad_power_model 2 "--power-model 'max'" -- train --power-model max
expect_fail report_unknown 2 "expected 'famous'" -- report infamous
