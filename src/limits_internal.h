/* Shared between limits_epoch.c and limits_full.c: the paper's sweep rules (reference §2.1). */
#ifndef SP_LIMITS_INTERNAL_H
#define SP_LIMITS_INTERNAL_H
#include "scaleplan_limits.h"

#define SP_LIMITS_SECONDS_PER_YEAR 3.154e7 /* the authors' code's year */

int sp_limits_widths(const sp_epoch_setting *st, double *widths, int cap);
double sp_limits_layers(const sp_epoch_setting *st, double d_model);
double sp_limits_sparsity(const sp_epoch_setting *st, double d_model);
double sp_limits_batch_seqs(const sp_epoch_setting *st, double compute_flop, double sparsity, int seq_len);
/* Where a width d of compute C stands against the requested range: -1 above c_max (the sweep ends there; recorded
 * in sum), 0 below both the paper's first width and c_min (not searched), 1 to search. */
int sp_limits_range(const sp_epoch_setting *st, double d, double C, sp_epoch_summary *sum);
/* The summary after a width's cluster search: 0 when the sweep ends there (no cluster finishes: the wall, or,
 * `capped`, the clusters it needs are not represented), else 1 with C recorded as the largest feasible run. */
int sp_limits_record(sp_epoch_summary *sum, int found, int capped, double C);
/* The last fields: the wall when the sweep ended at it, n_points, the closed-form latency limit (reference §4,
 * alpha = 0) at `years` (365.25-day years) with t_lat_s, the serial latency of one layer step. */
void sp_limits_close_summary(sp_epoch_summary *sum, int np, double years, double t_lat_s);

#endif
