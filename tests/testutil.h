/* Shared includes and assertions for the cmocka tests. */
#ifndef SP_TESTUTIL_H
#define SP_TESTUTIL_H
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "scaleplan.h"

/* |got - want| <= tol, with the values printed on failure. */
#define assert_near(got, want, tol)                                                                     \
    do {                                                                                                \
        double g_ = (got), w_ = (want), t_ = (tol);                                                     \
        if (!(fabs(g_ - w_) <= t_))                                                                     \
            fail_msg("%s = %.9g, expected %.9g +/- %.3g", #got, g_, w_, t_);                            \
    } while (0)
/* relative: |got/want - 1| <= rel */
#define assert_rel(got, want, rel)                                                                      \
    do {                                                                                                \
        double g_ = (got), w_ = (want), r_ = (rel);                                                     \
        if (!(fabs(g_ / w_ - 1) <= r_))                                                                 \
            fail_msg("%s = %.9g, expected %.9g within %.3g%%", #got, g_, w_, 100 * r_);                 \
    } while (0)

#ifndef SP_TEST_DATA
#define SP_TEST_DATA SP_DATA_DIR
#endif
/* the in-repo copy of the validation data (data/validation/PROVENANCE.md) */
#define SP_VALIDATION_DIR SP_DATA_DIR "/validation"

/* Fails the test with a loader's message (naming what it loaded) unless the loader returned SP_OK. */
static inline void load_ok(sp_status st, const char *name, const sp_error *e)
{
    if (st != SP_OK)
        fail_msg("%s: %s", name, e->msg);
}

/* A model preset (or a config file's path) from data/; any failure fails the test. */
static inline sp_model load_model(const char *name)
{
    sp_model m;
    sp_error e = {0};
    load_ok(sp_load_model(SP_DATA_DIR, name, &m, &e), name, &e);
    return m;
}

/* A system preset from data/; any failure fails the test. */
static inline sp_system load_system(const char *name)
{
    sp_system s;
    sp_error e = {0};
    load_ok(sp_load_system(SP_DATA_DIR, name, &s, &e), name, &e);
    return s;
}
#endif
