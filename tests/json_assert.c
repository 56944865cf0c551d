/* json_assert FILE [ASSERTION...]: the CLI tests' JSON checker (jansson). Exits 0 when FILE holds exactly one JSON
 * value and every assertion holds; otherwise prints one line saying which failed and exits 1.
 *
 * Assertions (PATH: keys and array indices separated by '.', e.g. plans.0.step_time_s):
 *   PATH=NUMBER@REL     the number at PATH equals NUMBER within relative tolerance REL (REL 0: exactly)
 *   PATH=~STRING        the string at PATH equals STRING
 *   PATH=true, PATH=false  the boolean at PATH
 *   PATH?               PATH exists
 *   sum:OBJ-K1-K2=PATH@REL  the numbers of object OBJ, except keys K1, K2, ..., add up to the number at PATH
 *                           (PATH may be "OBJ.KEY"); used for "the time breakdown adds up to the step time"
 *   sorted:ARR:KEY      the number KEY of the elements of array ARR never decreases
 *   each:ARR:ASSERTION  ASSERTION (of the forms above) holds for every element of array ARR, PATH relative to it
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *at(json_t *root, const char *path)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *v = root;
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k && v; k = strtok_r(NULL, ".", &save)) {
        if (json_is_array(v)) {
            char *end;
            long i = strtol(k, &end, 10);
            v = *end ? NULL : json_array_get(v, (size_t)i);
        } else
            v = json_object_get(v, k);
    }
    return v;
}

static int fail(const char *a, const char *why)
{
    printf("json_assert: '%s': %s\n", a, why);
    return 1;
}

static int near(double got, double want, double rel) { return got == want || fabs(got - want) <= rel * fabs(want); }

static int check_sum(json_t *root, const char *a)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", a + 4);
    char *eq = strchr(buf, '='), *tol = strrchr(buf, '@');
    if (!eq || !tol || tol < eq)
        return fail(a, "expected sum:OBJ-K1-K2=PATH@REL");
    *eq = *tol = 0;
    char *excl = strchr(buf, '-');
    if (excl)
        *excl++ = 0;
    json_t *obj = at(root, buf), *want = at(root, eq + 1);
    if (!json_is_object(obj) || !json_is_number(want))
        return fail(a, "no such object or total");
    double s = 0;
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        int skip = 0;
        if (excl) {
            char ex[512];
            snprintf(ex, sizeof ex, "%s", excl);
            for (char *save = NULL, *e = strtok_r(ex, "-", &save); e && !skip; e = strtok_r(NULL, "-", &save))
                skip = strcmp(e, k) == 0;
        }
        if (!skip && !json_is_number(v))
            return fail(a, "a member is not a number");
        if (!skip)
            s += json_number_value(v);
    }
    if (!near(s, json_number_value(want), atof(tol + 1))) {
        char msg[160];
        snprintf(msg, sizeof msg, "sum %.17g, total %.17g", s, json_number_value(want));
        return fail(a, msg);
    }
    return 0;
}

static int check_sorted(json_t *root, const char *a)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", a + 7);
    char *colon = strchr(buf, ':');
    if (!colon)
        return fail(a, "expected sorted:ARR:KEY");
    *colon = 0;
    json_t *arr = at(root, buf);
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return fail(a, "no such non-empty array");
    double prev = -INFINITY;
    size_t i;
    json_t *el;
    json_array_foreach(arr, i, el) {
        json_t *v = json_object_get(el, colon + 1);
        if (!json_is_number(v) || json_number_value(v) < prev)
            return fail(a, json_is_number(v) ? "out of order" : "an element lacks the number");
        prev = json_number_value(v);
    }
    return 0;
}

static int check(json_t *root, const char *a)
{
    if (strncmp(a, "sorted:", 7) == 0)
        return check_sorted(root, a);
    if (strncmp(a, "sum:", 4) == 0)
        return check_sum(root, a);
    if (strncmp(a, "each:", 5) == 0) {
        char arr[256];
        const char *colon = strchr(a + 5, ':');
        if (!colon)
            return fail(a, "expected each:ARR:ASSERTION");
        snprintf(arr, sizeof arr, "%.*s", (int)(colon - a - 5), a + 5);
        json_t *v = at(root, arr);
        if (!json_is_array(v) || json_array_size(v) == 0)
            return fail(a, "no such non-empty array");
        size_t i;
        json_t *el;
        json_array_foreach(v, i, el) if (check(el, colon + 1)) return 1;
        return 0;
    }
    char buf[512];
    snprintf(buf, sizeof buf, "%s", a);
    size_t n = strlen(buf);
    if (n && buf[n - 1] == '?') {
        buf[n - 1] = 0;
        return at(root, buf) ? 0 : fail(a, "missing");
    }
    char *eq = strchr(buf, '=');
    if (!eq)
        return fail(a, "expected PATH=VALUE@REL, PATH=~STRING, PATH?, sum:... or each:...");
    *eq = 0;
    json_t *v = at(root, buf);
    if (!v)
        return fail(a, "missing");
    if (eq[1] == '~')
        return json_is_string(v) && strcmp(json_string_value(v), eq + 2) == 0 ? 0 : fail(a, "different string");
    if (strcmp(eq + 1, "true") == 0 || strcmp(eq + 1, "false") == 0)
        return json_is_boolean(v) && json_is_true(v) == (eq[1] == 't') ? 0 : fail(a, "different boolean");
    char *tol = strchr(eq + 1, '@');
    double rel = tol ? atof(tol + 1) : 0;
    if (!json_is_number(v))
        return fail(a, "not a number");
    if (!near(json_number_value(v), atof(eq + 1), rel)) {
        char msg[96];
        snprintf(msg, sizeof msg, "got %.17g", json_number_value(v));
        return fail(a, msg);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: json_assert FILE [ASSERTION...]\n");
        return 2;
    }
    json_error_t je;
    json_t *root = json_load_file(argv[1], JSON_DECODE_ANY, &je);
    if (!root) {
        printf("json_assert: %s: not JSON: %d:%d: %s\n", argv[1], je.line, je.column, je.text);
        return 1;
    }
    int rc = 0;
    for (int i = 2; i < argc && !rc; i++)
        rc = check(root, argv[i]);
    json_decref(root);
    return rc;
}
