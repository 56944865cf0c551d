/* Shared between limits_epoch.c and limits_full.c: the paper's sweep rules (reference §2.1). */
#ifndef SP_LIMITS_INTERNAL_H
#define SP_LIMITS_INTERNAL_H
#include "scaleplan_limits.h"

#define SP_LIMITS_SECONDS_PER_YEAR 3.154e7 /* the authors' code's year */

int sp_limits_widths(const sp_epoch_setting *st, double *widths, int cap);
double sp_limits_layers(const sp_epoch_setting *st, double d_model);
double sp_limits_sparsity(const sp_epoch_setting *st, double d_model);
double sp_limits_batch_seqs(const sp_epoch_setting *st, double compute_flop, double sparsity, int seq_len);

#endif
