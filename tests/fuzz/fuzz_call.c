/* Fuzz target: sp_call, the entry point of the bindings. The first byte picks the command (train, infer, law,
 * distill: the ones that answer in about a millisecond), the rest is the request text. sp_call must return a status
 * and never crash; on SP_OK the result must be exactly one valid JSON object, on failure the result pointer NULL
 * and the message one non-empty line. */
#include <jansson.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    static const char *const cmds[] = {"train", "infer", "law", "distill"};
    if (n < 1 || n > 4096)
        return 0;
    char *req = malloc(n);
    if (!req)
        abort();
    memcpy(req, d + 1, n - 1);
    req[n - 1] = 0;
    char *out = NULL;
    sp_error err = {0};
    sp_status st = sp_call(SP_DATA_DIR, cmds[d[0] % 4], req, &out, &err);
    if (st == SP_OK) {
        json_error_t je;
        json_t *j = out ? json_loads(out, 0, &je) : NULL;
        if (!json_is_object(j))
            abort();
        json_decref(j);
    } else if (out || !err.msg[0] || strchr(err.msg, '\n'))
        abort();
    free(out);
    free(req);
    return 0;
}
