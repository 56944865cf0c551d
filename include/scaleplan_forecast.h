/* scaleplan forecast (src/forecast.c): which wall binds first, and when — data movement, latency, power, chips,
 * data and money — from a starting frontier and growth rates (DESIGN.md §3.13, docs/forecast.md). */
#ifndef SCALEPLAN_FORECAST_H
#define SCALEPLAN_FORECAST_H

#include "scaleplan.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Which wall binds first, and when. Every input is a range: `v` the central
 * value, `lo` / `hi` the ends that give the LOWER / HIGHER limit (for a latency, lo is the larger latency). */
typedef enum {
    SP_FC_START_YEAR, SP_FC_START_FLOP, SP_FC_COMPUTE_GROWTH,
    SP_FC_HW_REF_YEAR, SP_FC_ACCEL_FLOPS, SP_FC_PRECISION, SP_FC_UTILIZATION,
    SP_FC_FLOPS_GROWTH, SP_FC_FLOPS_PER_W_GROWTH, SP_FC_FLOPS_PER_USD_GROWTH, SP_FC_HBM_GROWTH, SP_FC_NET_GROWTH,
    SP_FC_ACCEL_W, SP_FC_HOST_W, SP_FC_NETWORK_W, SP_FC_PUE,
    SP_FC_DURATION_DAYS, SP_FC_DURATION_GROWTH, SP_FC_MAX_DURATION_DAYS,
    SP_FC_POWER_REF_YEAR, SP_FC_CAMPUS_GW, SP_FC_DISTRIBUTED_GW, SP_FC_POWER_GROWTH,
    SP_FC_PRODUCTION_REF_YEAR, SP_FC_PRODUCTION_H100E, SP_FC_PRODUCTION_GROWTH, SP_FC_ACCEL_LIFETIME_YEARS,
    SP_FC_LAB_SHARE,
    SP_FC_STOCK_REF_YEAR, SP_FC_TEXT_STOCK_TOKENS, SP_FC_STOCK_GROWTH, SP_FC_EPOCHS, SP_FC_TOKENS_PER_PARAM,
    SP_FC_LATENCY_S, SP_FC_LATENCY_ALPHA,
    SP_FC_CAPEX_USD_PER_ACCEL, SP_FC_ENERGY_USD_PER_KWH, SP_FC_BUDGET_REF_YEAR, SP_FC_BUDGET_USD, SP_FC_BUDGET_GROWTH,
    SP_FC_NPARAMS
} sp_fc_param;

typedef struct {
    double v, lo, hi;
} sp_fc_value;

typedef struct {
    char name[64];
    char description[512];
    sp_fc_value p[SP_FC_NPARAMS];
} sp_forecast_inputs;

/* The parameter table: snake_case key (JSON file key, sp_call request key; the CLI flag is the key with '-'),
 * allowed range and a one-line help. Returns NULL past the end. */
typedef struct {
    const char *key;
    double min, max;
    sp_unit unit;
    const char *help;
    const char *opt;    /* the option's name: key with '-' ("start-flop") */
} sp_fc_param_info;
const sp_fc_param_info *sp_forecast_param(int i);

/* The constraints, in output order. SP_FCC_DATA_MOVEMENT is soft (utilization falls beyond it), the rest are
 * walls. */
typedef enum {
    SP_FCC_DATA_MOVEMENT, SP_FCC_LATENCY_WALL, SP_FCC_POWER_CAMPUS, SP_FCC_POWER_DISTRIBUTED, SP_FCC_CHIPS,
    SP_FCC_DATA, SP_FCC_COST, SP_FCC_N
} sp_fc_constraint;
const char *sp_forecast_constraint_name(int c); /* "data_movement", "latency_wall", ... */

typedef struct {
    double max_flop, low, high; /* the largest run the constraint allows; NaN when it does not apply */
} sp_fc_limit;

typedef struct {
    int year;
    double trend_flop;          /* start_flop x compute_growth^(year - start_year) */
    double duration_s;          /* the run's duration that year */
    sp_fc_limit lim[SP_FCC_N];
    /* what the trend run needs: */
    double power_w;             /* facility power while it trains (accelerators + hosts + network, x PUE) */
    double accels_h100e;        /* accelerators, in H100-equivalents */
    double chips_available_h100e; /* the lab's share of the accelerators in service */
    double tokens;              /* training tokens at tokens_per_param */
    double stock_tokens;        /* unique tokens x epochs that year */
    double cost_usd;            /* hardware amortisation + energy */
    double budget_usd;          /* 0: no budget */
    double feasible_flop;       /* smallest wall with distributed power (single campus excluded) */
    int binding;                /* its sp_fc_constraint */
    double feasible_campus_flop; /* smallest wall if the run must fit one campus */
    int binding_campus;
} sp_fc_year;

typedef struct {
    char name[64];
    int n_years;
    sp_fc_year years[64];
    double binds_year[SP_FCC_N]; /* fractional year the trend first exceeds the central limit; NaN: not within
                                    start_year..start_year+100 */
} sp_forecast_result;

/* Loads data_dir/forecast/NAME.json or a path: {"name", "description", "params": {KEY: {"value", "low", "high",
 * "source"}}}. Every key of the table must be present with a source; low/high default to value. */
sp_status sp_forecast_load(const char *data_dir, const char *name_or_path, sp_forecast_inputs *in, sp_error *err);
/* Sets parameter `key` (central, low and high) to v after checking its range. */
sp_status sp_forecast_set(sp_forecast_inputs *in, const char *key, double v, sp_error *err);
/* Years year_from..year_to (at most 64). */
sp_status sp_forecast_run(const sp_forecast_inputs *in, int year_from, int year_to, sp_forecast_result *r,
                          sp_error *err);
/* The result as {"assumptions", "years":[{"year", "trend_flop", "constraints":{NAME:{"max_flop","low","high",...}},
 * "binding", ...}], "binds_year":{NAME: year|null}} (caller json_decref's). Declared with void * so that this
 * header does not need jansson.h: it is a json_t *. */
void *sp_forecast_json(const sp_forecast_result *r);

#ifdef __cplusplus
}
#endif
#endif
