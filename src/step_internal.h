/* Shared between step.c and memory.c. */
#ifndef SP_STEP_INTERNAL_H
#define SP_STEP_INTERNAL_H
#include "scaleplan.h"

double sp_layer_activation_bytes(const sp_model *m, const sp_plan *p, int flash, sp_recompute rc);
void sp_stage_params(const sp_model *m, const sp_plan *p, double *dense, double *expert);

#endif
