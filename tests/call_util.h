/* Helpers of the sp_call tests (test_call.c, test_call_tables.c): run a command and parse its result, or expect
 * its refusal. Include after testutil.h. */
#ifndef SP_TEST_CALL_UTIL_H
#define SP_TEST_CALL_UTIL_H

#include <jansson.h>
#include <stdlib.h>

/* Runs a command, expects success, returns the parsed result (caller decrefs). */
static inline json_t *call_ok(const char *cmd, const char *req)
{
    char *out = NULL;
    sp_error e = {0};
    sp_status st = sp_call(SP_TEST_DATA, cmd, req, &out, &e);
    if (st != SP_OK)
        fail_msg("sp_call(%s, %.300s) = %d: %s", cmd, req ? req : "NULL", st, e.msg);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    if (!j)
        fail_msg("result is not JSON (%s): %.200s", je.text, out);
    free(out);
    return j;
}

/* Runs a command, expects status `want`, no result and a one-line message, which it returns (static buffer). */
static inline const char *call_error(const char *cmd, const char *req, sp_status want)
{
    static sp_error e;
    char *out = (char *)1;
    memset(&e, 0, sizeof e);
    sp_status st = sp_call(SP_TEST_DATA, cmd, req, &out, &e);
    if (st != want)
        fail_msg("sp_call(%s, %.300s) = %d, want %d: %s", cmd, req ? req : "NULL", st, want, e.msg);
    assert_null(out);
    assert_null(strchr(e.msg, '\n'));
    return e.msg;
}

/* Runs a command, expects `want` and a message containing `msg`. */
static inline void call_fails(const char *cmd, const char *req, sp_status want, const char *msg)
{
    const char *m = call_error(cmd, req, want);
    if (!strstr(m, msg))
        fail_msg("message '%s' lacks '%s'", m, msg);
}

static inline double num(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_number(v))
        fail_msg("no number '%s'", key);
    return json_number_value(v);
}

#endif
