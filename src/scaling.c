/* Scaling laws (DESIGN.md §3.8): evaluate, allocate compute, size for a target loss, critical batch size.
 *
 * Chinchilla form L = E + A/N^α + B/D^β (Hoffmann et al. 2022); compute-optimal under C = 6·N·D:
 *   N* = G·(C/6)^(β/(α+β)), D* = C/(6·N*), G = (α·A/(β·B))^(1/(α+β)).
 * Kaplan et al. 2020 joint form L = [(Nc/N)^(αN/αD) + Dc/D]^αD, optimised numerically.
 */
#include "scaleplan.h"
#include "internal.h"

#include <jansson.h>
#include <math.h>
#include <string.h>
#include <strings.h>

double sp_law_loss(const sp_law *law, double n, double d)
{
    if (law->form == SP_LAW_KAPLAN)
        return pow(pow(law->Nc / n, law->aN / law->aD) + law->Dc / d, law->aD);
    return law->E + law->A / pow(n, law->alpha) + law->B / pow(d, law->beta);
}

/* Golden-section minimisation of f over x in [lo, hi] (unimodal). */
static double golden(double (*f)(double, const void *), const void *ctx, double lo, double hi)
{
    const double g = 0.6180339887498949;
    double a = lo, b = hi, c = b - g * (b - a), d = a + g * (b - a);
    double fc = f(c, ctx), fd = f(d, ctx);
    for (int i = 0; i < 200 && b - a > 1e-10 * (fabs(a) + fabs(b) + 1e-300); i++) {
        if (fc < fd) {
            b = d, d = c, fd = fc;
            c = b - g * (b - a), fc = f(c, ctx);
        } else {
            a = c, c = d, fc = fd;
            d = a + g * (b - a), fd = f(d, ctx);
        }
    }
    return 0.5 * (a + b);
}

typedef struct {
    const sp_law *law;
    double c;
} opt_ctx;

static double loss_at_logn(double logn, const void *p)
{
    const opt_ctx *o = p;
    double n = exp(logn);
    return sp_law_loss(o->law, n, o->c / (6 * n));
}

void sp_law_optimal(const sp_law *law, double c, double *n, double *d, double *loss)
{
    double nn;
    if (law->form == SP_LAW_CHINCHILLA) {
        double ab = law->alpha + law->beta;
        double G = pow(law->alpha * law->A / (law->beta * law->B), 1 / ab);
        nn = G * pow(c / 6, law->beta / ab);
    } else {
        opt_ctx o = {law, c};
        nn = exp(golden(loss_at_logn, &o, log(1e3), log(c / 6 / 1e3)));
    }
    *n = nn;
    *d = c / (6 * nn);
    *loss = sp_law_loss(law, nn, *d);
}

double sp_law_compute_for_loss(const sp_law *law, double target, double *n, double *d)
{
    double lo = log(1e10), hi = log(1e45), l;
    for (int i = 0; i < 200; i++) {
        double mid = 0.5 * (lo + hi);
        sp_law_optimal(law, exp(mid), n, d, &l);
        if (l > target)
            lo = mid;
        else
            hi = mid;
    }
    sp_law_optimal(law, exp(hi), n, d, &l);
    return exp(hi);
}

sp_status sp_law_min_n(const sp_law *law, double target, double tokens, double tpp, double *n, double *d,
                       sp_error *err)
{
    /* loss decreases in N for fixed D or fixed D/N: bisect log N over [1e3, 1e16] */
    double lo = log(1e3), hi = log(1e16);
#define DOF(x) (tokens > 0 ? tokens : tpp * exp(x))
    if (sp_law_loss(law, exp(hi), DOF(hi)) >= target)
        return sp_fail(err, SP_EINFEASIBLE,
                       "target loss %.4g is not reachable with %s (the law gives %.4g even at N = 1e16)", target,
                       tokens > 0 ? "that many tokens" : "that tokens-per-parameter ratio",
                       sp_law_loss(law, exp(hi), DOF(hi)));
    if (sp_law_loss(law, exp(lo), DOF(lo)) <= target) {
        *n = exp(lo);
        *d = DOF(lo);
        return SP_OK;
    }
    for (int i = 0; i < 200; i++) {
        double mid = 0.5 * (lo + hi);
        if (sp_law_loss(law, exp(mid), DOF(mid)) > target)
            lo = mid;
        else
            hi = mid;
    }
    *n = exp(hi);
    *d = DOF(hi);
#undef DOF
    return SP_OK;
}

/* D that reaches `target` at N under the Chinchilla form (or bisection for Kaplan); inf when impossible. */
static double d_for(const sp_law *law, double target, double n)
{
    if (law->form == SP_LAW_CHINCHILLA) {
        double rest = target - law->E - law->A / pow(n, law->alpha);
        return rest > 0 ? pow(law->B / rest, 1 / law->beta) : INFINITY;
    }
    double lo = log(1e3), hi = log(1e20);
    if (sp_law_loss(law, n, exp(hi)) > target)
        return INFINITY;
    for (int i = 0; i < 200; i++) {
        double mid = 0.5 * (lo + hi);
        if (sp_law_loss(law, n, exp(mid)) > target)
            lo = mid;
        else
            hi = mid;
    }
    return exp(hi);
}

typedef struct {
    const sp_law *law;
    double target, served;
} inf_ctx;

static double total_cost(double logn, const void *p)
{
    const inf_ctx *o = p;
    double n = exp(logn), d = d_for(o->law, o->target, n);
    return isfinite(d) ? log(6 * n * d + 2 * n * o->served) : 1e300;
}

sp_status sp_law_inference_aware(const sp_law *law, double target, double served_tokens, double *n, double *d,
                                 sp_error *err)
{
    double n_min, d_min;
    /* smallest feasible N: where D would have to be infinite */
    sp_status st = sp_law_min_n(law, target, 1e30, 0, &n_min, &d_min, err);
    if (st)
        return st;
    inf_ctx o = {law, target, served_tokens};
    double lo = log(n_min) + 1e-9, hi = log(1e16);
    double x = golden(total_cost, &o, lo, hi);
    *n = exp(x);
    *d = d_for(law, target, *n);
    if (!isfinite(*d))
        return sp_fail(err, SP_EINFEASIBLE, "target loss %.4g cannot be reached", target);
    return SP_OK;
}

sp_status sp_batch_rule_parse(const char *s, sp_batch_rule *rule, double *fixed_tokens, sp_error *err)
{
    if (strcasecmp(s, "kaplan") == 0)
        *rule = SP_BATCH_KAPLAN;
    else if (strcasecmp(s, "epoch") == 0)
        *rule = SP_BATCH_EPOCH;
    else if (strcasecmp(s, "deepseek") == 0)
        *rule = SP_BATCH_DEEPSEEK;
    else if (strncasecmp(s, "fixed:", 6) == 0) {
        *rule = SP_BATCH_FIXED;
        sp_status st = sp_parse_quantity(s + 6, SP_UNIT_NONE, "--batch-rule fixed:", fixed_tokens, err);
        if (st)
            return st;
        if (!(*fixed_tokens >= 1))
            return sp_fail(err, SP_EINVAL, "--batch-rule fixed: batch must be >= 1 token");
    } else
        return sp_fail(err, SP_EINVAL, "--batch-rule '%s'; allowed kaplan, epoch, deepseek, fixed:TOKENS (e.g. fixed:4Mi)", s);
    return SP_OK;
}

double sp_critical_batch(sp_batch_rule rule, double fixed_tokens, double c, double loss, double sparsity)
{
    switch (rule) {
    case SP_BATCH_KAPLAN: /* Kaplan et al. 2020 Eq. 1.4: B_crit(L) = 2e8 tokens / L^(1/0.21) */
        return 2e8 / pow(loss, 1 / 0.21);
    case SP_BATCH_EPOCH: /* Erdil & Schneider-Joseph 2024: 4 Mi tokens at 3e23 FLOP, x C^(1/6), x sqrt(S) */
        return 4.0 * 1048576.0 * pow(c / 3e23, 1.0 / 6) * sqrt(sparsity > 1 ? sparsity : 1);
    case SP_BATCH_DEEPSEEK: /* Bi et al. 2024 (DeepSeek LLM): B_opt = 0.2920 * C^0.3271 tokens */
        return 0.2920 * pow(c, 0.3271);
    case SP_BATCH_FIXED:
        return fixed_tokens;
    }
    return fixed_tokens;
}

/* ---- presets ---- */

static sp_status num(json_t *o, const char *k, const char *path, double *out, int required, sp_error *err)
{
    json_t *v = json_object_get(o, k);
    if (!v) {
        if (required)
            return sp_fail(err, SP_EINVAL, "%s: missing field '%s'", path, k);
        return SP_OK;
    }
    if (!json_is_number(v) || !isfinite(json_number_value(v)) || json_number_value(v) <= 0)
        return sp_fail(err, SP_EINVAL, "%s: field '%s' must be a positive number", path, k);
    *out = json_number_value(v);
    return SP_OK;
}

sp_status sp_preset_file(const char *data_dir, const char *kind, const char *what, const char *name_or_path,
                         json_t **out, char *path, size_t pathn, sp_error *err)
{
    if (strchr(name_or_path, '/') || strstr(name_or_path, ".json"))
        snprintf(path, pathn, "%s", name_or_path);
    else
        snprintf(path, pathn, "%s/%s/%s.json", data_dir, kind, name_or_path);
    json_error_t je;
    *out = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (*out)
        return SP_OK;
    if (je.line <= 0) {
        char list[SP_PRESET_LIST_MAX], shown[768];
        sp_list_presets(data_dir, kind, list, sizeof list);
        char near[128], dym[160] = "";
        if (sp_suggest(name_or_path, list, near, sizeof near))
            snprintf(dym, sizeof dym, " (did you mean '%s'?)", near);
        sp_preset_choices(list, strlen(name_or_path) + strlen(dym), "'scaleplan presets'", shown, sizeof shown);
        return sp_fail(err, SP_EINVAL, "unknown %s '%s'%s; available: %s (or the path of a JSON file)", what, name_or_path,
                       dym, shown);
    }
    return sp_fail(err, SP_EPARSE, "%s:%d:%d: %s", path, je.line, je.column, je.text);
}

sp_status sp_load_law(const char *data_dir, const char *name_or_path, sp_law *law, sp_error *err)
{
    char path[1400];
    json_t *o;
    sp_status rc = sp_preset_file(data_dir, "laws", "law", name_or_path, &o, path, sizeof path, err);
    if (rc)
        return rc;
    memset(law, 0, sizeof *law);
    sp_status st = SP_OK;
    const char *nm = json_string_value(json_object_get(o, "name"));
    const char *src = json_string_value(json_object_get(o, "source"));
    const char *form = json_string_value(json_object_get(o, "form"));
    snprintf(law->name, sizeof law->name, "%s", nm ? nm : name_or_path);
    snprintf(law->source, sizeof law->source, "%s", src ? src : "");
    if (!form || strcmp(form, "chinchilla") == 0) {
        law->form = SP_LAW_CHINCHILLA;
        if ((st = num(o, "E", path, &law->E, 1, err)) || (st = num(o, "A", path, &law->A, 1, err)) ||
            (st = num(o, "B", path, &law->B, 1, err)) || (st = num(o, "alpha", path, &law->alpha, 1, err)) ||
            (st = num(o, "beta", path, &law->beta, 1, err)))
            goto done;
    } else if (strcmp(form, "kaplan") == 0) {
        law->form = SP_LAW_KAPLAN;
        if ((st = num(o, "Nc", path, &law->Nc, 1, err)) || (st = num(o, "Dc", path, &law->Dc, 1, err)) ||
            (st = num(o, "alpha_N", path, &law->aN, 1, err)) || (st = num(o, "alpha_D", path, &law->aD, 1, err)))
            goto done;
    } else
        st = sp_fail(err, SP_EINVAL, "%s: field 'form' = '%s'; allowed chinchilla, kaplan", path, form);
done:
    json_decref(o);
    return st;
}
