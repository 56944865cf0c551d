/* scaleplan validate on the visible validation set (data/validation, second CSV version): accuracy per source
 * family and the reason of every row not evaluated (docs/validation.md). Bounds are the issues' targets where the
 * model meets them and regression guards at today's baseline where it does not yet (issue 18 brings those down). */
#include "testutil.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    const char *family;
    int n;          /* rows evaluated */
    double max_mape; /* percent */
} fam_bound;

static const sp_validate_group *family(const sp_validate_summary *s, const char *name)
{
    for (int k = 0; k < s->n_families; k++)
        if (strcmp(s->family[k].name, name) == 0)
            return &s->family[k];
    fail_msg("family %s missing", name);
    return NULL;
}

/* Rule: every row of training_runs.csv evaluates except the six Narayanan et al. Table 2 ZeRO-3 baselines, which
 * the file labels megatron-lm-2021 although that stack has no ZeRO-3 (the paper ran them on DeepSpeed): they are
 * refused by name. Per family: Megatron families <= 10 % (issue 2), Korthikanti Table 5 <= 5 %, MosaicML A100
 * <= 7 % (issue 18: the older rows stay there; 6.18 % with collectives striped over all NICs and SM contention,
 * 7.00 % before), MosaicML H100 <= 8 % (issue 18's target; 5.51 % with the bounded llm-foundry x Hopper fit written
 * alone, docs/calibration.md; 6.20 % with the earlier calibration and the NIC-striped collectives, 11.7 % with that
 * calibration alone, 32.6 % before both). */
static void test_training_runs(void **st)
{
    (void)st;
    sp_validate_row *rows;
    int n;
    sp_error e = {0};
    assert_int_equal(sp_validate_training(SP_DATA_DIR, SP_VALIDATION_DIR "/training_runs.csv", &rows, &n, &e), SP_OK);
    int skipped = 0;
    for (int i = 0; i < n; i++) {
        if (rows[i].ok) {
            assert_true(isfinite(rows[i].error_pct));
            continue;
        }
        skipped++;
        assert_true(strncmp(rows[i].id, "NAR21-T2-", 9) == 0);
        assert_non_null(strstr(rows[i].reason, "software 'megatron-lm-2021' has no ZeRO-3 / FSDP full sharding (zero = 3)"));
    }
    assert_int_equal(skipped, 6);
    sp_validate_summary s;
    sp_validate_summarize(rows, n, &s);
    static const fam_bound b[] = {{"NAR21", 16, 10}, {"KOR22", 8, 5}, {"MLM20", 12, 10}, {"MPT", 139, 7}, {"MPTH", 77, 8}};
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) {
        const sp_validate_group *g = family(&s, b[i].family);
        print_message("%-6s n=%3d MAPE %.2f %% (bound %.0f %%)\n", g->name, g->n, g->mape_pct, b[i].max_mape);
        assert_int_equal(g->n, b[i].n);
        assert_true(g->mape_pct <= b[i].max_mape);
    }
    free(rows);
}

/* Rule: in the Megatron-Core tables every row not evaluated says why, and the reason is about the source's data
 * (a model it names without specifying it, a parallel layout Megatron-Core cannot run), never a missing feature;
 * the evaluated rows keep a finite error. Today 170 of 173 rows (issue 25's target: >= 95 %, 165): DeepSeek-V4-Flash
 * and Nemotron-3-Ultra (no config.json in the source) and BRIDGE-25.09-8 (EP 64 on 32 ranks per stage). */
static void test_megatron_core(void **st)
{
    (void)st;
    sp_validate_row *rows;
    int n;
    sp_error e = {0};
    assert_int_equal(
        sp_validate_training(SP_DATA_DIR, SP_VALIDATION_DIR "/training_runs_megatron_core.csv", &rows, &n, &e), SP_OK);
    assert_int_equal(n, 173);
    static const char *known[] = {"is not specified by its source: the source's data is missing", /* no config.json */
                                  "the source's parallel layout is inconsistent",                   /* EP > stage ranks */
                                  NULL};
    for (int i = 0; i < n; i++) {
        if (rows[i].ok) {
            assert_true(isfinite(rows[i].error_pct));
            continue;
        }
        int k = 0;
        while (known[k] && !strstr(rows[i].reason, known[k]))
            k++;
        if (!known[k])
            fail_msg("%s: unexpected reason: %s", rows[i].id, rows[i].reason);
    }
    sp_validate_summary s;
    sp_validate_summarize(rows, n, &s);
    print_message("BRIDGE n=%d MAPE %.2f %%, %d not evaluated\n", s.all.n, s.all.mape_pct, s.all.n_skipped);
    assert_int_equal(s.all.n, 170);
    /* 30.0 % before the stack calibration and the MoE token permutation, 20.7 % after (docs/calibration.md), 18.1 %
     * with the NIC-striped collectives (150 rows); 19.6 % with MoE parallel folding's 20 rows; with the LoRA rows
     * through the finetune model and the grouped-GEMM factor: 17.6 %; with each row on its release's preset and the
     * release recipes' facts (25.09 FP8, A2A overlap; tools/bridge_recipes.py) and the refit: 13.6 %; issue 18's
     * target is 8 % */
    assert_true(s.all.mape_pct <= 14.5);
    free(rows);
}

/* sum of |error| and count of the evaluated rows of one family (NULL: every family) in one validation file */
static void family_abs_error(const char *csv, const char *fam, double *sum, int *n)
{
    sp_validate_row *rows;
    int nr;
    sp_error e = {0};
    assert_int_equal(sp_validate_training(SP_DATA_DIR, csv, &rows, &nr, &e), SP_OK);
    for (int i = 0; i < nr; i++)
        if (rows[i].ok && (!fam || strcmp(rows[i].family, fam) == 0))
            *sum += fabs(rows[i].error_pct), ++*n;
    free(rows);
}

/* Rule: issue 18's accuracy target is on its Hopper/Blackwell set, the MosaicML H100 rows (MPTH) of training_runs.csv
 * together with every row of the Megatron-Core tables (BRIDGE): MAPE <= 8 % over the 247 evaluated rows, no family
 * of them above 12 % (test_training_runs, test_megatron_core guard each). 7.97 % with the earlier llm-foundry
 * factors, 7.78 % with its bounded fit (docs/calibration.md): a regression guard at the target itself. */
static void test_issue18_set(void **st)
{
    (void)st;
    double sum = 0;
    int n = 0;
    family_abs_error(SP_VALIDATION_DIR "/training_runs.csv", "MPTH", &sum, &n);
    family_abs_error(SP_VALIDATION_DIR "/training_runs_megatron_core.csv", NULL, &sum, &n);
    print_message("MPTH + BRIDGE n=%d MAPE %.2f %%\n", n, sum / n);
    assert_int_equal(n, 247);
    assert_true(sum / n <= 8.0);
}

/* Rule: the task of a row (no task column: the notes' "TASK=LoRA" or the model's "(LoRA)") sends LoRA rows through the
 * finetune model (frozen base: no weight-gradient GEMMs, adapters of rank 32), SFT rows through the pre-training step;
 * the same plan as LoRA is faster and its hardware FLOPs are about 2/3 of pre-training's. */
static void test_task_rows(void **st)
{
    (void)st;
    sp_validate_row *rows;
    int n;
    sp_error e = {0};
    assert_int_equal(sp_validate_training(SP_DATA_DIR, SP_DATA_DIR "/../tests/validate/task.csv", &rows, &n, &e), SP_OK);
    assert_int_equal(n, 4);
    for (int i = 0; i < n; i++)
        assert_true(rows[i].ok);
    double lora1 = rows[0].predicted_step_time_s, lora2 = rows[1].predicted_step_time_s;
    double pre = rows[2].predicted_step_time_s, sft = rows[3].predicted_step_time_s;
    assert_true(lora1 == lora2);
    assert_true(sft == pre);
    assert_true(lora1 < 0.9 * pre);
    double ratio = rows[0].res.hardware_flops / rows[2].res.hardware_flops;
    print_message("LoRA %.3f s, pre-training %.3f s, FLOP ratio %.3f\n", lora1, pre, ratio);
    assert_true(ratio > 0.6 && ratio < 0.72);
    free(rows);
}

/* Rule: the `doc_len` / `doc_len_cv` columns are a row's packed sequences (plan doc_len, doc_len_cv): empty = unpacked;
 * doc_len = seq_len prices the unpacked row exactly; samples of 1024 tokens take less time, a spread (cv 1: twice the
 * context, E[l^2]/E[l] = 2048) more than without it and still less than unpacked; the model FLOPs drop by the
 * attention beyond each sample (test_train.c test_packed_sequences). Bad cells: tests/bad/runs_bad_doc_len*.csv. */
static void test_packed_rows(void **st)
{
    (void)st;
    sp_validate_row *rows;
    int n;
    sp_error e = {0};
    assert_int_equal(sp_validate_training(SP_DATA_DIR, SP_DATA_DIR "/../tests/validate/packed.csv", &rows, &n, &e), SP_OK);
    assert_int_equal(n, 4);
    for (int i = 0; i < n; i++)
        assert_true(rows[i].ok);
    double un = rows[0].predicted_step_time_s, full = rows[1].predicted_step_time_s;
    double q = rows[2].predicted_step_time_s, qcv = rows[3].predicted_step_time_s;
    assert_true(full == un && rows[1].res.model_flops == rows[0].res.model_flops);
    assert_true(q < qcv && qcv < un);
    double tokens = 32.0 * 4096;
    assert_rel(rows[0].res.model_flops - rows[2].res.model_flops, tokens * 3 * 32 * 2 * 2 * (4096.0 - 1024) * 32 * 128,
               1e-9);
    free(rows);
}

/* Rule: relative paths in system and model_config are relative to the CSV's folder; model_config replaces the
 * shape columns; empty knobs take the row's stack defaults; a feature the stack lacks is refused by name. */
static void test_csv_v2(void **st)
{
    (void)st;
    sp_validate_row *rows;
    int n;
    sp_error e = {0};
    assert_int_equal(sp_validate_training(SP_DATA_DIR, SP_DATA_DIR "/../tests/validate/rel/runs.csv", &rows, &n, &e), SP_OK);
    assert_int_equal(n, 3);
    assert_true(rows[0].ok);                                   /* site/h100-half-nics.json and tiny-config.json found */
    assert_near(rows[0].res.mem.capacity, 81559 * 1048576.0, 0);            /* the derived system kept its base's H100 */
    assert_true(rows[1].ok);
    assert_int_equal(rows[1].stated_knobs, 0);
    assert_false(rows[2].ok);
    assert_non_null(strstr(rows[2].reason, "software 'llm-foundry' has no tensor parallelism (tp = 2)"));
    free(rows);
}

/* Rule: the `software` column picks a per-release preset (megatron-core-26.06.01: base megatron-core plus the
 * release's BF16 main gradients), which prices the step exactly as its base (same defaults and efficiency) and holds
 * 2-byte main gradients instead of 4; an `overlap_ep` cell of 1 (the recipe's overlap_moe_expert_parallel_comm)
 * hides the MoE all-to-all behind other work for that row only; a value other than 0 or 1 is refused by name. */
static void test_release_rows(void **st)
{
    (void)st;
    sp_validate_row *rows;
    int n;
    sp_error e = {0};
    assert_int_equal(sp_validate_training(SP_DATA_DIR, SP_DATA_DIR "/../tests/validate/release.csv", &rows, &n, &e),
                     SP_OK);
    assert_int_equal(n, 4);
    assert_true(rows[0].ok && rows[1].ok && rows[2].ok);
    assert_true(rows[1].predicted_step_time_s == rows[0].predicted_step_time_s);
    assert_true(rows[1].res.mem.grads == 0.5 * rows[0].res.mem.grads);
    assert_true(rows[1].res.t.ep_comm > 0);
    assert_true(rows[2].res.t.ep_comm < rows[1].res.t.ep_comm);
    assert_true(rows[2].predicted_step_time_s < rows[1].predicted_step_time_s);
    assert_false(rows[3].ok);
    assert_non_null(strstr(rows[3].reason, "column 'overlap_ep': 2 is out of range [0, 1]"));
    free(rows);
}

/* Rule: an unstated micro-batch is the whole per-replica batch without pipelining, lowered to the largest divisor
 * of it that fits memory when the whole batch does not (Megatron-LM arguments.py:693: the micro-batch is set by hand,
 * to one that fits): 256 sequences of 4K per H100 of Llama 2 7B fall to 1 (2 needs 85.4 GiB of 80), priced exactly
 * as a stated 1; a stated micro-batch that does not fit is kept and flagged; a whole batch that fits is kept. */
static void test_micro_batch_fit(void **st)
{
    (void)st;
    sp_validate_row *rows;
    int n;
    sp_error e = {0};
    assert_int_equal(sp_validate_training(SP_DATA_DIR, SP_DATA_DIR "/../tests/validate/microbatch.csv", &rows, &n, &e),
                     SP_OK);
    assert_int_equal(n, 5);
    for (int i = 0; i < n; i++)
        assert_true(rows[i].ok);
    assert_true(rows[0].res.fits && rows[1].res.fits);
    assert_true(rows[0].predicted_step_time_s == rows[1].predicted_step_time_s);
    assert_false(rows[2].res.fits);
    assert_true(rows[2].predicted_step_time_s < rows[1].predicted_step_time_s);
    assert_true(rows[3].res.fits && rows[4].res.fits);
    assert_true(rows[3].predicted_step_time_s == rows[4].predicted_step_time_s);
    free(rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_training_runs),
        cmocka_unit_test(test_megatron_core),
        cmocka_unit_test(test_issue18_set),
        cmocka_unit_test(test_packed_rows),
        cmocka_unit_test(test_csv_v2),
        cmocka_unit_test(test_task_rows),
        cmocka_unit_test(test_release_rows),
        cmocka_unit_test(test_micro_batch_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
