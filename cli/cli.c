/* Option parsing and output helpers shared by every command. */
#include "cli.h"
#include "plot.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_error(const char *cmd, const char *fmt, ...)
{
    /* one line whatever the arguments hold (an option value can contain a line break) */
    char msg[4096], line[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sp_one_line(line, sizeof line, msg);
    fprintf(stderr, "scaleplan %s: error: %s\n", cmd, line);
    return 2;
}

int cli_fail(const char *cmd, const sp_error *err)
{
    return cli_error(cmd, "%s", err->msg[0] ? err->msg : "unknown error");
}

int cli_fail_opt(const char *cmd, const char *opt, const sp_error *err)
{
    size_t n = strlen(opt);
    /* a message that already starts with the option (or names one itself) is not prefixed twice */
    if (err->msg[0] == '-' && err->msg[1] == '-' && strncmp(err->msg + 2, opt, n) == 0)
        return cli_fail(cmd, err);
    return cli_error(cmd, "--%s: %s", opt, err->msg[0] ? err->msg : "unknown error");
}

/* Data directory: --data-dir, else $SCALEPLAN_DATA, else ../data next to the executable, else the
 * source tree's data/ compiled in. */
static void find_data_dir(cli_args *a, const char *given)
{
    if (given) {
        snprintf(a->data_dir, sizeof a->data_dir, "%s", given);
        return;
    }
    const char *env = getenv("SCALEPLAN_DATA");
    if (env && *env) {
        snprintf(a->data_dir, sizeof a->data_dir, "%s", env);
        return;
    }
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            char cand[4200];
            snprintf(cand, sizeof cand, "%s/../data/systems", exe);
            if (access(cand, R_OK) == 0) {
                snprintf(a->data_dir, sizeof a->data_dir, "%s/../data", exe);
                return;
            }
        }
    }
    snprintf(a->data_dir, sizeof a->data_dir, "%s", SP_DATA_DIR);
}

static void print_usage(const char *usage, const cli_optdef *defs, int ndefs)
{
    printf("%s\n\noptions:\n", usage);
    for (int i = 0; i < ndefs; i++)
        printf("  --%-18s %s%s\n", defs[i].name, defs[i].has_arg ? "VALUE  " : "", defs[i].help);
    printf("  --%-18s %s\n", "data-dir", "VALUE  directory of presets (default: data/ of the install)");
}

int cli_parse(cli_args *a, const char *cmd, const cli_optdef *defs, int ndefs, int argc, char **argv,
              const char *usage)
{
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    a->defs = defs;
    a->ndefs = ndefs < CLI_MAX_OPTS ? ndefs : CLI_MAX_OPTS;
    const char *data_dir = NULL;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            print_usage(usage, defs, a->ndefs);
            return 1;
        }
        if (strncmp(s, "--", 2) != 0 || s[2] == 0) {
            if (a->npos >= 32)
                return cli_error(cmd, "too many positional arguments");
            a->pos[a->npos++] = s;
            continue;
        }
        const char *name = s + 2;
        const char *eq = strchr(name, '=');
        size_t nl = eq ? (size_t)(eq - name) : strlen(name);
        if (nl == 8 && strncmp(name, "data-dir", 8) == 0) {
            if (eq)
                data_dir = eq + 1;
            else if (i + 1 < argc)
                data_dir = argv[++i];
            else
                return cli_error(cmd, "option --data-dir needs a value");
            continue;
        }
        int found = -1;
        for (int k = 0; k < a->ndefs; k++)
            if (strlen(defs[k].name) == nl && strncmp(defs[k].name, name, nl) == 0)
                found = k;
        if (found < 0) {
            char list[2048] = "";
            size_t w = 0;
            for (int k = 0; k < a->ndefs && w < sizeof list - 40; k++)
                w += (size_t)snprintf(list + w, sizeof list - w, "%s--%s", k ? " " : "", defs[k].name);
            char word[128], near[128], plain[2048] = "";
            snprintf(word, sizeof word, "%.*s", (int)(nl < 100 ? nl : 100), name);
            for (int k = 0, w2 = 0; k < a->ndefs && w2 < (int)sizeof plain - 40; k++)
                w2 += snprintf(plain + w2, sizeof plain - (size_t)w2, " %s", defs[k].name);
            if (sp_suggest(word, plain, near, sizeof near))
                return cli_error(cmd, "unknown option '--%s'; did you mean '--%s'? (allowed: %s)", word, near, list);
            return cli_error(cmd, "unknown option '--%.*s'; allowed: %s", (int)nl, name, list);
        }
        if (a->val[found])
            return cli_error(cmd, "option --%s given twice", defs[found].name);
        if (defs[found].has_arg) {
            if (eq)
                a->val[found] = eq + 1;
            else if (i + 1 < argc)
                a->val[found] = argv[++i];
            else
                return cli_error(cmd, "option --%s needs a value", defs[found].name);
        } else {
            if (eq)
                return cli_error(cmd, "option --%s takes no value", defs[found].name);
            a->val[found] = "1";
        }
    }
    /* an option whose help starts "with --OTHER" means nothing without OTHER: refused rather than ignored */
    for (int k = 0; k < a->ndefs; k++) {
        const char *h = defs[k].help;
        if (!a->val[k] || strncmp(h, "with --", 7) != 0)
            continue;
        size_t wl = strcspn(h + 7, ": ,");
        int given = 0;
        for (int j = 0; j < a->ndefs; j++)
            if (a->val[j] && strlen(defs[j].name) == wl && strncmp(defs[j].name, h + 7, wl) == 0)
                given = 1;
        if (!given)
            return cli_error(cmd, "--%s does not apply without --%.*s (it needs --%.*s)", defs[k].name, (int)wl, h + 7, (int)wl,
                             h + 7);
    }
    /* --plot FILE (law, limits, infer) is checked before any work is done */
    const char *plot = cli_get(a, "plot");
    char perr[512];
    if (plot && plot_check(plot, perr, sizeof perr))
        return cli_error(cmd, "%s", perr);
    if (data_dir) {
        struct stat st;
        if (stat(data_dir, &st) != 0 || !S_ISDIR(st.st_mode))
            return cli_error(cmd, "--data-dir: '%s' is not a directory; expected a data/ directory of presets (models/, systems/, ...)",
                             data_dir);
    }
    find_data_dir(a, data_dir);
    return 0;
}

const char *cli_get(const cli_args *a, const char *name)
{
    for (int k = 0; k < a->ndefs; k++)
        if (strcmp(a->defs[k].name, name) == 0)
            return a->val[k];
    return NULL;
}

int cli_flag(const cli_args *a, const char *name) { return cli_get(a, name) != NULL; }

/* --NAME's value as a quantity in unit: 1 when absent, 0 when read into *v, 2 (printed) when it is no quantity */
static int quantity(const cli_args *a, const char *name, sp_unit unit, double *v)
{
    const char *s = cli_get(a, name);
    if (!s)
        return 1;
    sp_error err = {0};
    char what[64];
    snprintf(what, sizeof what, "--%s", name);
    return sp_parse_quantity(s, unit, what, v, &err) ? cli_fail(a->cmd, &err) : 0;
}

int cli_int(const cli_args *a, const char *name, int min, int max, int *out)
{
    double v;
    int rc = quantity(a, name, SP_UNIT_NONE, &v);
    if (rc)
        return rc == 1 ? 0 : rc;
    const char *s = cli_get(a, name);
    if (v != floor(v))
        return cli_error(a->cmd, "--%s: '%s' is not a whole number; allowed %d..%d", name, s, min, max);
    if (v < min || v > max)
        return cli_error(a->cmd, "--%s: %s is out of range; allowed %d..%d", name, s, min, max);
    *out = (int)v;
    return 0;
}

int cli_double(const cli_args *a, const char *name, sp_unit unit, double min, double max, double *out)
{
    double v;
    int rc = quantity(a, name, unit, &v);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (v < min || v > max)
        return cli_error(a->cmd, "--%s: %s is out of range; allowed %g..%g", name, cli_get(a, name), min, max);
    *out = v;
    return 0;
}

void cli_print_energy(const sp_energy_result *e)
{
    char b1[32], b2[32];
    if (e->energy_kwh >= 1000)
        printf("  energy     %.4g MWh (facility, PUE %.2f)", e->energy_kwh / 1000, e->pue);
    else
        printf("  energy     %.4g kWh (facility, PUE %.2f)", e->energy_kwh, e->pue);
    if (e->co2e_kg >= 1000)
        printf(", CO2e %.4g t at %.3f kg/kWh\n", e->co2e_kg / 1000, e->grid_kg_per_kwh);
    else
        printf(", CO2e %.4g kg at %.3f kg/kWh\n", e->co2e_kg, e->grid_kg_per_kwh);
    printf("  cost       $%s cloud at $%.2f/GPU-hour; $%s owned (docs/energy.md)\n",
           sp_fmt_quantity(b1, sizeof b1, e->cloud_usd, SP_UNIT_NONE), e->usd_per_accel_hour,
           sp_fmt_quantity(b2, sizeof b2, e->own_usd, SP_UNIT_NONE));
}

json_t *cli_request(const cli_args *a)
{
    json_t *req = json_object();
    for (int k = 0; req && k < a->ndefs; k++) {
        const char *name = a->defs[k].name;
        if (!a->val[k] || strcmp(name, "json") == 0 || strcmp(name, "csv") == 0 || strcmp(name, "plot") == 0)
            continue;
        char key[64];
        size_t i = 0;
        for (; name[i] && i + 1 < sizeof key; i++)
            key[i] = name[i] == '-' ? '_' : name[i];
        key[i] = 0;
        json_object_set_new(req, key, a->defs[k].has_arg ? json_string_nocheck(a->val[k]) : json_true());
    }
    return req;
}

int cli_print_json(const char *cmd, json_t *result)
{
    char *s = result ? sp_json_dump(result) : NULL;
    json_decref(result);
    if (!s)
        return cli_error(cmd, "out of memory");
    puts(s);
    free(s);
    return 0;
}

sp_status cli_check_used(const sp_request *rq, sp_error *err)
{
    const char *key = sp_request_unused(rq);
    if (!key)
        return SP_OK;
    char opt[64];
    size_t i = 0;
    for (; key[i] && i + 1 < sizeof opt; i++)
        opt[i] = key[i] == '_' ? '-' : key[i];
    opt[i] = 0;
    return sp_fail(err, SP_EINVAL, "--%s does not apply with the other options given", opt);
}

sp_request cli_request_begin(const cli_args *a)
{
    sp_request rq;
    sp_request_init(&rq, a->cmd, cli_request(a));
    return rq;
}

sp_status cli_request_done(sp_request *rq, sp_status st, sp_error *err)
{
    if (st == SP_OK)
        st = cli_check_used(rq, err);
    json_decref(rq->obj);
    rq->obj = NULL;
    return st;
}
