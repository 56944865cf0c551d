/* jsoncheck: exits 0 if stdin is exactly one valid JSON value (jansson, duplicate keys rejected), else prints
 * one line saying why and exits 1. Used by tests/cli/audit_random.sh to check that every --json output parses
 * (issue 24); jansson refuses the NaN and Infinity tokens that a printf of a non-finite double would write. */
#include <jansson.h>
#include <stdio.h>

int main(void)
{
    json_error_t e;
    json_t *v = json_loadf(stdin, JSON_REJECT_DUPLICATES, &e);
    if (!v) {
        printf("invalid JSON at line %d column %d: %s\n", e.line, e.column, e.text);
        return 1;
    }
    json_decref(v);
    return 0;
}
