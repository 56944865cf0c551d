/* Presets and configuration files: model (scaleplan or Hugging Face config.json), accelerator and system
 * JSON, parsed with jansson. Syntax errors carry file:line:column (jansson); semantic errors name the file,
 * the line where the key appears and the field, and say what is allowed.
 *
 * Model files (scaleplan presets or real Hugging Face configs) are read by model_hf.c, which accounts for
 * every key. Accelerator and system files are scaleplan's own: an unknown key is an error (it is almost
 * always a typo that would silently change a result).
 */
#include "scaleplan.h"
#include "internal.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

typedef struct {
    const char *path;
    char *text; /* file contents, for locating keys */
} src_file;

static int is_path(const char *s) { return strchr(s, '/') != NULL || strstr(s, ".json") != NULL; }

/* "models" -> "model", "software" -> "software": the singular of a preset kind, as a length to print */
static int kind_len(const char *kind)
{
    size_t n = strlen(kind);
    return (int)(n > 0 && kind[n - 1] == 's' ? n - 1 : n);
}

static int key_line(const src_file *f, const char *key)
{
    if (!f->text)
        return 0;
    char pat[160];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(f->text, pat);
    if (!p)
        return 0;
    int line = 1;
    for (const char *q = f->text; q < p; q++)
        line += *q == '\n';
    return line;
}

/* Reads a whole file (not a directory, at most 16 MiB) into a NUL-terminated buffer of *n bytes. */
static sp_status read_text(const char *path, char **out, size_t *len, sp_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return sp_fail(err, SP_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return sp_fail(err, SP_EIO, "%s: is a directory, expected a JSON file", path);
    if (st.st_size > 16L * 1024 * 1024)
        return sp_fail(err, SP_EIO, "%s: file too large for a configuration (limit 16 MiB)", path);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return sp_fail(err, SP_EIO, "%s: cannot open: %s", path, strerror(errno));
    char *b = malloc((size_t)st.st_size + 1);
    if (!b) {
        fclose(fp);
        return sp_fail(err, SP_ENOMEM, "%s: out of memory", path);
    }
    size_t n = fread(b, 1, (size_t)st.st_size, fp);
    fclose(fp);
    b[n] = 0;
    *out = b;
    *len = n;
    return SP_OK;
}

/* Parses the JSON object in text[0..n) (text[n] == 0), taking ownership of text (kept in f for locating keys). */
static sp_status parse_json_owned(const char *path, char *text, size_t n, src_file *f, json_t **root, sp_error *err)
{
    f->path = path;
    f->text = NULL;
    const char *nul = memchr(text, 0, n);
    if (nul) {
        int line = 1, col = 1;
        for (const char *q = text; q < nul; q++) {
            if (*q == '\n')
                line++, col = 1;
            else
                col++;
        }
        free(text);
        return sp_fail(err, SP_EPARSE, "%s:%d:%d: NUL byte (binary data); expected a text JSON file", path, line, col);
    }
    json_error_t je;
    *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!*root) {
        free(text);
        return sp_fail(err, SP_EPARSE, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    }
    if (!json_is_object(*root)) {
        json_decref(*root);
        free(text);
        return sp_fail(err, SP_EPARSE, "%s:1: expected a JSON object at the top level", path);
    }
    f->text = text;
    return SP_OK;
}

static sp_status load_json(const char *path, src_file *f, json_t **root, sp_error *err)
{
    char *text;
    size_t n;
    sp_status st = read_text(path, &text, &n, err);
    if (st)
        return st;
    return parse_json_owned(path, text, n, f, root, err);
}

/* A NUL-terminated copy of text given in memory (it need not be terminated), with read_text's size limit. */
static sp_status copy_text(const char *name, const char *text, size_t n, char **out, sp_error *err)
{
    if (n > 16L * 1024 * 1024)
        return sp_fail(err, SP_EIO, "%s: file too large for a configuration (limit 16 MiB)", name);
    char *b = malloc(n + 1);
    if (!b)
        return sp_fail(err, SP_ENOMEM, "%s: out of memory", name);
    if (n)
        memcpy(b, text, n);
    b[n] = 0;
    *out = b;
    return SP_OK;
}

/* load_json from memory. */
static sp_status mem_json(const char *name, const char *text, size_t n, src_file *f, json_t **root, sp_error *err)
{
    char *b = NULL;
    sp_status rc = copy_text(name, text, n, &b, err);
    return rc ? rc : parse_json_owned(name, b, n, f, root, err);
}

static sp_status resolve(const char *data_dir, const char *kind, const char *name, char *out, size_t n,
                         sp_error *err)
{
    if (is_path(name)) {
        snprintf(out, n, "%s", name);
        return SP_OK;
    }
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-' ||
              *c == '_' || *c == '.'))
            return sp_fail(err, SP_EINVAL, "'%s' is not a valid %s preset name (letters, digits, '-', '_')",
                           name, kind);
    snprintf(out, n, "%s/%s/%s.json", data_dir, kind, name);
    struct stat st;
    if (stat(out, &st) != 0) {
        char list[SP_PRESET_LIST_MAX], shown[768];
        sp_list_presets(data_dir, kind, list, sizeof list);
        char near[128], dym[160] = "";
        if (sp_suggest(name, list, near, sizeof near))
            snprintf(dym, sizeof dym, " (did you mean '%s'?)", near);
        sp_preset_choices(list, strlen(name) + strlen(dym), "'scaleplan presets'", shown, sizeof shown);
        return sp_fail(err, SP_EINVAL, "unknown %.*s preset '%s'%s; available: %s (or give a path to a .json file)",
                       kind_len(kind), kind, name, dym, shown);
    }
    return SP_OK;
}

/* ---- typed field readers ---- */

static sp_status get_int(const src_file *f, json_t *o, const char *key, int *out, int lo, int hi, int *found,
                         sp_error *err)
{
    json_t *v = json_object_get(o, key);
    if (found)
        *found = v != NULL && !json_is_null(v);
    if (!v || json_is_null(v))
        return SP_OK;
    double d;
    if (json_is_integer(v))
        d = (double)json_integer_value(v);
    else if (json_is_real(v) && json_real_value(v) == floor(json_real_value(v)))
        d = json_real_value(v);
    else
        return sp_fail(err, SP_EINVAL, "%s:%d: field '%s': expected an integer", f->path, key_line(f, key), key);
    if (d < lo || d > hi)
        return sp_fail(err, SP_EINVAL, "%s:%d: field '%s' = %.15g is out of range; allowed %d..%d", f->path,
                       key_line(f, key), key, d, lo, hi);
    *out = (int)d;
    return SP_OK;
}

static sp_status get_bool(const src_file *f, json_t *o, const char *key, int *out, sp_error *err)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return SP_OK;
    if (!json_is_boolean(v))
        return sp_fail(err, SP_EINVAL, "%s:%d: field '%s': expected true or false", f->path, key_line(f, key), key);
    *out = json_is_true(v);
    return SP_OK;
}

sp_status sp_json_quantity(const json_t *v, sp_unit unit, const char *what, double *out, sp_error *err)
{
    if (json_is_string(v))
        return sp_parse_quantity(json_string_value(v), unit, what, out, err);
    if (!json_is_number(v))
        return sp_fail(err, SP_EINVAL, "%s: expected a number or a quantity string", what);
    *out = json_number_value(v);
    return SP_OK;
}

/* Number or string with units. */
static sp_status get_qty(const src_file *f, json_t *o, const char *key, sp_unit u, double lo, double hi,
                         double *out, int *found, sp_error *err)
{
    json_t *v = json_object_get(o, key);
    if (found)
        *found = v != NULL && !json_is_null(v);
    if (!v || json_is_null(v))
        return SP_OK;
    double d;
    if (json_is_number(v))
        d = json_number_value(v);
    else if (json_is_string(v)) {
        char what[200];
        snprintf(what, sizeof what, "%s:%d: field '%s'", f->path, key_line(f, key), key);
        sp_status st = sp_parse_quantity(json_string_value(v), u, what, &d, err);
        if (st)
            return st;
    } else
        return sp_fail(err, SP_EINVAL, "%s:%d: field '%s': expected a number or a quantity string", f->path,
                       key_line(f, key), key);
    if (!isfinite(d) || d < lo || d > hi)
        return sp_fail(err, SP_EINVAL, "%s:%d: field '%s' = %g is out of range; allowed %g..%g", f->path,
                       key_line(f, key), key, d, lo, hi);
    *out = d;
    return SP_OK;
}

const char *sp_json_unknown_key(json_t *o, const char *const *allowed, char *list, size_t n)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        (void)v;
        int ok = 0;
        for (int i = 0; allowed[i]; i++)
            ok |= strcmp(allowed[i], k) == 0;
        if (!ok) {
            size_t w = 0;
            list[0] = 0;
            for (int i = 0; allowed[i] && w + 40 < n; i++)
                w += (size_t)snprintf(list + w, n - w, "%s%s", i ? ", " : "", allowed[i]);
            return k;
        }
    }
    return NULL;
}

static sp_status check_keys(const src_file *f, json_t *o, const char *const *allowed, const char *what,
                            sp_error *err)
{
    char list[1024];
    const char *k = sp_json_unknown_key(o, allowed, list, sizeof list);
    if (k)
        return sp_fail(err, SP_EINVAL, "%s:%d: unknown %s field '%s'; allowed: %s", f->path, key_line(f, k), what, k,
                       list);
    return SP_OK;
}

/* ---- models (read in model_hf.c) ---- */

#define TRY(x)                                                                                           \
    do {                                                                                                 \
        sp_status st_ = (x);                                                                             \
        if (st_) {                                                                                       \
            rc = st_;                                                                                    \
            goto done;                                                                                   \
        }                                                                                                \
    } while (0)

/* Parses a model file's text (Python's Infinity/NaN quoted first) and reads the model; frees text. */
static sp_status model_from_text(const char *path, const char *display, char *text, size_t n, sp_model *m,
                                 sp_model_info *info, sp_error *err)
{
    size_t n2;
    char *q = sp_hf_quote_nonfinite(text, n, &n2);
    free(text);
    if (!q)
        return sp_fail(err, SP_ENOMEM, "%s: out of memory", path);
    src_file f;
    json_t *o;
    sp_status rc = parse_json_owned(path, q, n2, &f, &o, err);
    if (rc)
        return rc;
    rc = sp_model_from_hf(path, display, f.text, o, m, info, err);
    json_decref(o);
    free(f.text);
    return rc;
}

sp_status sp_load_model_info(const char *data_dir, const char *name_or_path, sp_model *m, sp_model_info *info,
                             sp_error *err)
{
    char path[1400];
    sp_status rc = resolve(data_dir, "models", name_or_path, path, sizeof path, err);
    if (rc)
        return rc;
    char *text;
    size_t n;
    if ((rc = read_text(path, &text, &n, err)))
        return rc;
    return model_from_text(path, name_or_path, text, n, m, info, err);
}

sp_status sp_load_model(const char *data_dir, const char *name_or_path, sp_model *m, sp_error *err)
{
    return sp_load_model_info(data_dir, name_or_path, m, NULL, err);
}

sp_status sp_parse_model_info(const char *name, const char *text, size_t len, sp_model *m, sp_model_info *info,
                              sp_error *err)
{
    char *b = NULL;
    sp_status rc = copy_text(name, text, len, &b, err);
    return rc ? rc : model_from_text(name, name, b, len, m, info, err);
}

sp_status sp_parse_model(const char *name, const char *text, size_t len, sp_model *m, sp_error *err)
{
    return sp_parse_model_info(name, text, len, m, NULL, err);
}

/* ---- "base": derive an accelerator or system file from a preset ---- */

/* Deep merge: every key of `over` replaces the same key of `dst`, except that two objects merge key by key
 * (peak_tflops, efficiency, software, sources), arrays (tiers) are replaced whole and null removes the key. */
static int merge_into(json_t *dst, json_t *over)
{
    const char *k;
    json_t *v;
    json_object_foreach(over, k, v)
    {
        json_t *old = json_object_get(dst, k);
        if (json_is_null(v)) { /* null removes the base's key (a dtype the variant lacks, a source) */
            json_object_del(dst, k);
        } else if (json_is_object(old) && json_is_object(v)) {
            if (merge_into(old, v))
                return -1;
        } else if (json_object_set(dst, k, v)) {
            return -1;
        }
    }
    return 0;
}

#define SP_MAX_BASE_DEPTH 8

/* When o has "base": NAME (a preset of `kind`, or a path relative to the file that names it), replaces *o by
 * the base's object (itself resolved) with o's keys merged over it, without the "base" key. The base is
 * checked on its own first (`check`), so an error in it names its own file and line. */
typedef sp_status (*base_check_fn)(const char *data_dir, const src_file *f, json_t *o, sp_error *err);

static sp_status resolve_base(const char *data_dir, const char *kind, base_check_fn check, const src_file *f,
                              json_t **o, int depth, sp_error *err);

/* Preset or path `name` of `kind` read into *o. The caller owns the path buffer, because f->path points into
 * it, and frees f->text (and *o unless it keeps it). */
static sp_status open_preset(const char *data_dir, const char *kind, const char *name, char *path, size_t n,
                             src_file *f, json_t **o, sp_error *err)
{
    sp_status rc = resolve(data_dir, kind, name, path, n, err);
    return rc ? rc : load_json(path, f, o, err);
}

/* The same with its base chain merged (from `depth`) and the result checked. */
static sp_status load_checked(const char *data_dir, const char *kind, base_check_fn check, const char *name,
                              char *path, size_t n, src_file *f, json_t **o, int depth, sp_error *err)
{
    sp_status rc = open_preset(data_dir, kind, name, path, n, f, o, err);
    if (!rc)
        rc = resolve_base(data_dir, kind, check, f, o, depth, err);
    return rc ? rc : check(data_dir, f, *o, err);
}

static sp_status resolve_base(const char *data_dir, const char *kind, base_check_fn check, const src_file *f,
                              json_t **o, int depth, sp_error *err)
{
    json_t *b = json_object_get(*o, "base");
    if (!b)
        return SP_OK;
    if (!json_is_string(b))
        return sp_fail(err, SP_EINVAL, "%s:%d: field 'base' must name a %.*s preset or a .json file", f->path,
                       key_line(f, "base"), kind_len(kind), kind);
    if (depth >= SP_MAX_BASE_DEPTH)
        return sp_fail(err, SP_EINVAL, "%s:%d: field 'base': chain of more than %d bases (a file that is its own "
                       "base, or a loop of bases?)", f->path, key_line(f, "base"), SP_MAX_BASE_DEPTH);
    const char *name = json_string_value(b);
    char rel[1400], path[1400];
    const char *slash = strrchr(f->path, '/');
    if (is_path(name) && name[0] != '/' && slash)
        snprintf(rel, sizeof rel, "%.*s/%s", (int)(slash - f->path), f->path, name);
    else
        snprintf(rel, sizeof rel, "%s", name);
    sp_error e2 = {0};
    src_file bf = {0};
    json_t *bo = NULL;
    sp_status rc = load_checked(data_dir, kind, check, rel, path, sizeof path, &bf, &bo, depth + 1, &e2);
    free(bf.text);
    if (rc) {
        json_decref(bo);
        /* the message names the file of the chain it comes from; wrap it once, at the top, unless that file is this
         * one (a loop of bases ends where it began) */
        size_t fl = strlen(f->path);
        if (depth > 0 || (strncmp(e2.msg, f->path, fl) == 0 && e2.msg[fl] == ':'))
            return sp_fail(err, rc, "%s", e2.msg);
        return sp_fail(err, rc, "%s:%d: field 'base': %s", f->path, key_line(f, "base"), e2.msg);
    }
    json_t *mine = json_deep_copy(*o);
    json_object_del(bo, "name"); /* a derived file without a name is named after itself, not its base */
    if (!mine || json_object_del(mine, "base") || merge_into(bo, mine)) {
        json_decref(mine);
        json_decref(bo);
        return sp_fail(err, SP_ENOMEM, "%s: out of memory", f->path);
    }
    json_decref(mine);
    json_decref(*o);
    *o = bo;
    return SP_OK;
}

/* What a preset kind does with its object once read: *o may be replaced (a merged base); display names the
 * preset as the user wrote it. */
typedef sp_status (*preset_fn)(const char *data_dir, const src_file *f, const char *display, json_t **o, void *out,
                               sp_error *err);

/* The one way a preset file becomes a struct: resolve the name, read the JSON, parse, free. */
static sp_status load_preset(const char *data_dir, const char *kind, const char *name_or_path, preset_fn parse,
                             void *out, sp_error *err)
{
    char path[1400]; /* f.path points here until parse returns */
    src_file f = {0};
    json_t *o = NULL;
    sp_status rc = open_preset(data_dir, kind, name_or_path, path, sizeof path, &f, &o, err);
    if (!rc)
        rc = parse(data_dir, &f, name_or_path, &o, out, err);
    json_decref(o);
    free(f.text);
    return rc;
}

/* ---- accelerators ---- */

static const char *const accel_keys[] = {"name", "family", "description", "peak_tflops", "hbm", "hbm_bw", "l2", "n_sm",
                                         "tdp_w", "idle_w", "price_usd", "fp8_gemm_any_layout", "compute_capability",
                                         "tensor_flops_per_clk_sm", "exp2_per_clk_sm", "efficiency", "sources",
                                         NULL};
static const char *const eff_keys[] = {"gemm_max", "gemm_k_half", "mem", "attn", "kernel_overhead",
                                       "fp8_gemm_max", "fp8_gemm_k_half", "mxfp8_gemm_rel", "nvfp4_gemm_rel", "attn_kernels",
                                       "mxfp8_attn",
                                       "comm_sms",
                                       "sources", NULL};

/* a fraction of peak in 0.01..1 under key k of v; absent optional keys leave *out at 0 */
static int frac_key(json_t *v, const char *k, int optional, double *out)
{
    json_t *x = json_object_get(v, k);
    if (!x)
        return optional;
    *out = json_number_value(x);
    return json_is_number(x) && *out >= 0.01 && *out <= 1;
}

/* efficiency.attn_kernels: {"fa2": {"fwd": 0.34, "bwd": 0.33}, ...} measured attention kernels of the family as
 * fractions of the 16-bit dense peak (ops.c sp_attn_rate), optionally "band_fwd"/"band_bwd": the same kernel on a
 * narrow sliding band (ops.c flash_rate), and "head_dim": the head dim of the full-attention measurement (ops.c
 * attn_exp_scale) */
static sp_status parse_attn_kernels(const src_file *f, json_t *e, sp_accel *a, sp_error *err)
{
    json_t *t = json_object_get(e, "attn_kernels"), *v;
    if (!t)
        return SP_OK;
    const char *k;
    if (!json_is_object(t))
        return sp_fail(err, SP_EINVAL, "%s:%d: efficiency.attn_kernels must be an object like {\"fa2\": {\"fwd\": 0.34, "
                       "\"bwd\": 0.33}}", f->path, key_line(f, "attn_kernels"));
    json_object_foreach(t, k, v)
    {
        sp_attn_kernel c;
        double x = 0, y = 0, bx = 0, by = 0, hd = 0;
        int band = json_object_get(v, "band_fwd") || json_object_get(v, "band_bwd");
        json_t *h = json_object_get(v, "head_dim");
        hd = json_is_integer(h) ? (double)json_integer_value(h) : -1;
        if (sp_attn_kernel_parse(k, &c) || c == SP_ATTN_GENERIC || !frac_key(v, "fwd", 0, &x) ||
            !frac_key(v, "bwd", 0, &y) || !frac_key(v, "band_fwd", !band, &bx) || !frac_key(v, "band_bwd", !band, &by) ||
            (h && !(hd >= 16 && hd <= 1024)) || json_object_size(v) != (band ? 4u : 2u) + (h != NULL))
            return sp_fail(err, SP_EINVAL, "%s:%d: efficiency.attn_kernels.%s: keys fa2, fa3 or cudnn, each {\"fwd\": "
                           "F, \"bwd\": F} (and optionally \"band_fwd\", \"band_bwd\" together, \"head_dim\": the "
                           "measured head dim, a whole number 16..1024) with F a fraction of peak in 0.01..1", f->path,
                           key_line(f, k), k);
        a->eff.attn_fwd[c] = x, a->eff.attn_bwd[c] = y;
        a->eff.attn_band_fwd[c] = bx, a->eff.attn_band_bwd[c] = by;
        a->eff.attn_ref_hd[c] = h ? 2 * hd : 0;
    }
    return SP_OK;
}

/* compute_capability: the CUDA compute capability major.minor (NVIDIA's CUDA GPUs table, or
 * nvidia-smi --query-gpu=compute_cap), a number like 9.0 or 10.3, into a->cc = 10 x major + minor; absent: 0 (not a
 * CUDA GPU). Minor versions are one digit (CUDA's table: 5.0 .. 12.1), majors 1..99. */
static sp_status parse_cc(const src_file *f, json_t *o, sp_accel *a, sp_error *err)
{
    json_t *v = json_object_get(o, "compute_capability");
    if (!v)
        return SP_OK;
    double x = json_number_value(v), t = round(x * 10);
    if (!json_is_number(v) || !(x >= 1 && x < 100) || fabs(x * 10 - t) > 1e-6)
        return sp_fail(err, SP_EINVAL, "%s:%d: field 'compute_capability' must be a CUDA compute capability major.minor "
                       "like 9.0 or 10.3 (one digit of minor, major 1..99)", f->path, key_line(f, "compute_capability"));
    a->cc = (int)t;
    return SP_OK;
}

/* The compute capability and the per-SM unit throughputs the attention exponent-unit roofline reads (ops.c
 * attn_exp_scale): dense 16-bit tensor-core FLOPs and special-function-unit exponentials per clock per SM, both
 * optional, one without the other ignored by the rule. */
static sp_status parse_caps(const src_file *f, json_t *o, sp_accel *a, sp_error *err)
{
    sp_status rc = parse_cc(f, o, a, err);
    if (!rc)
        rc = get_qty(f, o, "tensor_flops_per_clk_sm", SP_UNIT_NONE, 1, 1e7, &a->mma_clk_sm, NULL, err);
    if (!rc)
        rc = get_qty(f, o, "exp2_per_clk_sm", SP_UNIT_NONE, 1, 1e5, &a->exp_clk_sm, NULL, err);
    return rc;
}

/* efficiency.mxfp8_attn: {"fwd": R, "bwd": R, "mla_fwd": R, "mla_bwd": R, "band_fwd": R, "band_bwd_tokens": T}, cuDNN's
 * MXFP8 / BF16 attention rate ratios measured on this accelerator (ops.c flash_fp8), all six or none; R in
 * 0.01..10, T (the band backward's ratio x tokens) in 1..1e6 */
static sp_status parse_mxfp8_attn(const src_file *f, json_t *e, sp_accel *a, sp_error *err)
{
    static const char *const k[] = {"fwd", "bwd", "mla_fwd", "mla_bwd", "band_fwd", "band_bwd_tokens"};
    json_t *t = json_object_get(e, "mxfp8_attn");
    if (!t)
        return SP_OK;
    int ok = json_is_object(t) && json_object_size(t) == 6;
    for (int i = 0; ok && i < 6; i++) {
        json_t *v = json_object_get(t, k[i]);
        double x = json_number_value(v), hi = i == 5 ? 1e6 : 10, lo = i == 5 ? 1 : 0.01;
        ok = json_is_number(v) && x >= lo && x <= hi;
        a->eff.mxfp8_attn[i] = x;
    }
    if (!ok)
        return sp_fail(err, SP_EINVAL, "%s:%d: efficiency.mxfp8_attn must be {\"fwd\", \"bwd\", \"mla_fwd\", \"mla_bwd\", "
                       "\"band_fwd\": ratios in 0.01..10, \"band_bwd_tokens\": 1..1e6}", f->path,
                       key_line(f, "mxfp8_attn"));
    return SP_OK;
}

/* peak_tflops: {"bf16": 312, ...}, TFLOP/s per dtype, into a->peak in FLOP/s. */
static sp_status parse_peaks(const src_file *f, json_t *o, sp_accel *a, sp_error *err)
{
    json_t *pk = json_object_get(o, "peak_tflops");
    if (!json_is_object(pk))
        return sp_fail(err, SP_EINVAL, "%s:%d: field 'peak_tflops' must be an object like {\"bf16\": 312}", f->path,
                       key_line(f, "peak_tflops"));
    const char *k;
    json_t *v;
    json_object_foreach(pk, k, v)
    {
        sp_dtype d;
        if (sp_dtype_parse(k, &d, NULL))
            return sp_fail(err, SP_EINVAL, "%s:%d: peak_tflops: unknown dtype '%s'; allowed fp32, tf32, bf16, fp16, fp8, int8, int4, fp4, mxfp8, nvfp4",
                           f->path, key_line(f, k), k);
        if (!json_is_number(v) || !(json_number_value(v) >= 0) || json_number_value(v) > 1e6)
            return sp_fail(err, SP_EINVAL, "%s:%d: peak_tflops.%s must be a number of TFLOP/s in 0..1e6", f->path,
                           key_line(f, k), k);
        a->peak[d] = json_number_value(v) * 1e12;
    }
    return SP_OK;
}

static sp_status parse_accel_fields(const src_file *f, json_t *o, sp_accel *a, sp_error *err)
{
    sp_status rc = check_keys(f, o, accel_keys, "accelerator", err);
    if (rc)
        return rc;
    memset(a, 0, sizeof *a);
    const char *nm = json_string_value(json_object_get(o, "name"));
    snprintf(a->name, sizeof a->name, "%s", nm ? nm : "accelerator");
    json_t *fam = json_object_get(o, "family");
    if (fam && (!json_is_string(fam) || strlen(json_string_value(fam)) >= sizeof a->family))
        return sp_fail(err, SP_EINVAL, "%s:%d: field 'family' must be a short name like \"hopper\"", f->path,
                       key_line(f, "family"));
    snprintf(a->family, sizeof a->family, "%s", fam ? json_string_value(fam) : "");
    if ((rc = parse_peaks(f, o, a, err)))
        return rc;
    int found;
    rc = get_qty(f, o, "hbm", SP_UNIT_BYTES, 1e6, 1e15, &a->hbm_bytes, &found, err);
    if (rc)
        return rc;
    if (!found)
        return sp_fail(err, SP_EINVAL, "%s: missing field 'hbm' (memory capacity, e.g. \"80GB\")", f->path);
    rc = get_qty(f, o, "hbm_bw", SP_UNIT_BW, 1e6, 1e16, &a->hbm_bw, &found, err);
    if (rc)
        return rc;
    if (!found)
        return sp_fail(err, SP_EINVAL, "%s: missing field 'hbm_bw' (e.g. \"2.039TB/s\")", f->path);
    if ((rc = get_qty(f, o, "l2", SP_UNIT_BYTES, 0, 1e12, &a->l2_bytes, NULL, err)))
        return rc;
    if ((rc = get_int(f, o, "n_sm", &a->n_sm, 1, 100000, NULL, err)))
        return rc;
    if ((rc = get_qty(f, o, "tdp_w", SP_UNIT_NONE, 1, 1e5, &a->tdp_w, NULL, err)))
        return rc;
    if ((rc = get_qty(f, o, "idle_w", SP_UNIT_NONE, 0, 1e5, &a->idle_w, NULL, err)))
        return rc;
    if ((rc = get_qty(f, o, "price_usd", SP_UNIT_NONE, 0, 1e9, &a->price_usd, NULL, err)))
        return rc;
    if ((rc = get_bool(f, o, "fp8_gemm_any_layout", &a->fp8_any_layout, err)) || (rc = parse_caps(f, o, a, err)))
        return rc;
    json_t *e = json_object_get(o, "efficiency");
    if (!json_is_object(e))
        return sp_fail(err, SP_EINVAL, "%s: missing object 'efficiency' (gemm_max, gemm_k_half, mem, attn, kernel_overhead)",
                       f->path);
    if ((rc = check_keys(f, e, eff_keys, "efficiency", err)))
        return rc;
    if ((rc = get_qty(f, e, "gemm_max", SP_UNIT_NONE, 0.01, 1, &a->eff.gemm_max, &found, err)))
        return rc;
    if (!found)
        return sp_fail(err, SP_EINVAL, "%s: missing field 'efficiency.gemm_max'", f->path);
    a->eff.gemm_k_half = 64;
    a->eff.mem = 0.8;
    a->eff.attn = 0.8;
    a->eff.kernel_overhead_s = 5e-6;
    if ((rc = get_qty(f, e, "gemm_k_half", SP_UNIT_NONE, 0, 1e6, &a->eff.gemm_k_half, NULL, err)))
        return rc;
    if ((rc = get_qty(f, e, "mem", SP_UNIT_NONE, 0.01, 1, &a->eff.mem, NULL, err)))
        return rc;
    if ((rc = get_qty(f, e, "attn", SP_UNIT_NONE, 0.01, 1, &a->eff.attn, NULL, err)))
        return rc;
    if ((rc = get_qty(f, e, "kernel_overhead", SP_UNIT_TIME, 0, 1, &a->eff.kernel_overhead_s, NULL, err)))
        return rc;
    if ((rc = get_qty(f, e, "fp8_gemm_max", SP_UNIT_NONE, 0.01, 1, &a->eff.fp8_gemm_max, NULL, err)))
        return rc;
    if ((rc = get_qty(f, e, "fp8_gemm_k_half", SP_UNIT_NONE, 0, 1e6, &a->eff.fp8_gemm_k_half, NULL, err)))
        return rc;
    if ((rc = get_qty(f, e, "nvfp4_gemm_rel", SP_UNIT_NONE, 0.01, 1, &a->eff.nvfp4_gemm_rel, NULL, err)))
        return rc;
    if ((rc = get_qty(f, e, "mxfp8_gemm_rel", SP_UNIT_NONE, 0.01, 1, &a->eff.mxfp8_gemm_rel, NULL, err)))
        return rc;
    if ((rc = get_qty(f, e, "comm_sms", SP_UNIT_NONE, 0, 100000, &a->eff.comm_sms, NULL, err)))
        return rc;
    if ((rc = parse_mxfp8_attn(f, e, a, err)))
        return rc;
    return parse_attn_kernels(f, e, a, err);
}

static sp_status check_accel(const char *data_dir, const src_file *f, json_t *o, sp_error *err)
{
    (void)data_dir;
    sp_accel tmp;
    return parse_accel_fields(f, o, &tmp, err);
}

/* The accelerator in *o (from file f), merged over its base first (*o may be replaced). */
static sp_status parse_accel(const char *data_dir, const src_file *f, json_t **o, sp_accel *a, sp_error *err)
{
    sp_status rc = resolve_base(data_dir, "accelerators", check_accel, f, o, 0, err);
    return rc ? rc : parse_accel_fields(f, *o, a, err);
}

static sp_status accel_preset(const char *data_dir, const src_file *f, const char *display, json_t **o, void *out,
                               sp_error *err)
{
    (void)display;
    return parse_accel(data_dir, f, o, out, err);
}

sp_status sp_load_accel(const char *data_dir, const char *name_or_path, sp_accel *a, sp_error *err)
{
    return load_preset(data_dir, "accelerators", name_or_path, accel_preset, a, err);
}

/* ---- systems ---- */

static const char *const sys_keys[] = {"name", "description", "accelerator", "tiers", "max_accels", "software",
                                       "host_w_per_accel", "pue", "grid_kg_per_kwh", "usd_per_accel_hour",
                                       "sources", "memory_tiers", "stack", "host_kernel", "host_d2h", "host_h2d",
                                       NULL}; /* memory_tiers: read by infer_coe.c */
static const char *const tier_keys[] = {"name",     "size",  "bw",     "latency", "eff",
                                        "sharp_eff", "torus", "topology", "source", NULL};
static const char *const sw_keys[] = {"flash_attention", "overlap_tp", "overlap_dp", "overlap_ep", "source", NULL};

/* tiers[i].torus: 1 to SP_TORUS_DIMS axis lengths (>= 2) whose product is the tier's size, the axis consecutive ranks
 * run along first (docs/systems.md "Tori"). */
static sp_status parse_torus(const src_file *f, json_t *t, int i, sp_tier *tt, sp_error *err)
{
    json_t *a = json_object_get(t, "torus");
    memset(tt->torus, 0, sizeof tt->torus);
    if (!a)
        return SP_OK;
    size_t n = json_array_size(a);
    long long prod = 1;
    if (!json_is_array(a) || n < 1 || n > SP_TORUS_DIMS)
        return sp_fail(err, SP_EINVAL, "%s:%d: tiers[%d] field 'torus' must be an array of 1 to %d axis lengths",
                       f->path, key_line(f, "torus"), i, SP_TORUS_DIMS);
    for (size_t k = 0; k < n; k++) {
        json_t *v = json_array_get(a, k);
        if (!json_is_integer(v) || json_integer_value(v) < 2 || json_integer_value(v) > 4096)
            return sp_fail(err, SP_EINVAL, "%s:%d: tiers[%d] field 'torus': axis %zu must be a whole number 2..4096",
                           f->path, key_line(f, "torus"), i, k);
        tt->torus[k] = (int)json_integer_value(v);
        prod *= tt->torus[k];
    }
    if (prod != tt->size)
        return sp_fail(err, SP_EINVAL, "%s:%d: tiers[%d] field 'torus': the axes hold %lld accelerators, the tier's size "
                       "is %d", f->path, key_line(f, "torus"), i, prod, tt->size);
    return SP_OK;
}

/* tiers[i] of a system file. latency and eff are required: a missing one used to read as 0 s and 100 %, which
 * made every collective on that tier look free of latency and at wire speed (issue 24 item 7). */
static sp_status parse_tier(const src_file *f, json_t *t, int i, int last, sp_tier *tt, sp_error *err)
{
    if (!json_is_object(t))
        return sp_fail(err, SP_EINVAL, "%s: tiers[%d] must be an object", f->path, i);
    sp_status rc = check_keys(f, t, tier_keys, "tier", err);
    if (rc)
        return rc;
    const char *tn = json_string_value(json_object_get(t, "name"));
    snprintf(tt->name, sizeof tt->name, "%s", tn ? tn : "tier");
    int found;
    tt->size = 1 << 30;
    if ((rc = get_int(f, t, "size", &tt->size, 1, 1 << 30, &found, err)))
        return rc;
    if (!found && !last)
        return sp_fail(err, SP_EINVAL, "%s: tiers[%d] ('%s') needs field 'size' (accelerators per domain)", f->path, i,
                       tt->name);
    if ((rc = get_qty(f, t, "bw", SP_UNIT_BW, 1, 1e16, &tt->bw, &found, err)))
        return rc;
    if (!found)
        return sp_fail(err, SP_EINVAL, "%s: tiers[%d] ('%s') needs field 'bw' (per accelerator, per direction)",
                       f->path, i, tt->name);
    if ((rc = get_qty(f, t, "latency", SP_UNIT_TIME, 0, 1, &tt->latency_s, &found, err)))
        return rc;
    if (!found)
        return sp_fail(err, SP_EINVAL, "%s: tiers[%d] ('%s') needs field 'latency' (per collective step, e.g. \"6us\")",
                       f->path, i, tt->name);
    if ((rc = get_qty(f, t, "eff", SP_UNIT_NONE, 0.01, 1, &tt->eff, &found, err)))
        return rc;
    if (!found)
        return sp_fail(err, SP_EINVAL, "%s: tiers[%d] ('%s') needs field 'eff' (achievable fraction of bw, 0.01..1)",
                       f->path, i, tt->name);
    tt->sharp_eff = 0;
    if ((rc = get_qty(f, t, "sharp_eff", SP_UNIT_NONE, 0, 1, &tt->sharp_eff, NULL, err)))
        return rc;
    if ((rc = parse_torus(f, t, i, tt, err)))
        return rc;
    json_t *topo = json_object_get(t, "topology");
    if (topo && !json_is_string(topo))
        return sp_fail(err, SP_EINVAL, "%s:%d: tiers[%d] field 'topology' must be a string (a description)", f->path,
                       key_line(f, "topology"), i);
    return SP_OK;
}

/* host_d2h, host_h2d: the accelerator's link to its host's memory per direction (docs/systems.md); both or neither */
static sp_status parse_host_link(const src_file *f, json_t *o, sp_system *s, sp_error *err)
{
    int d2h = 0, h2d = 0;
    sp_status rc = get_qty(f, o, "host_d2h", SP_UNIT_BW, 1e6, 1e14, &s->host_d2h_bw, &d2h, err);
    if (!rc)
        rc = get_qty(f, o, "host_h2d", SP_UNIT_BW, 1e6, 1e14, &s->host_h2d_bw, &h2d, err);
    if (!rc && d2h != h2d)
        rc = sp_fail(err, SP_EINVAL, "%s:%d: field '%s' needs field '%s' too (the host link's two directions)", f->path,
                     key_line(f, d2h ? "host_d2h" : "host_h2d"), d2h ? "host_d2h" : "host_h2d",
                     d2h ? "host_h2d" : "host_d2h");
    return rc;
}

static sp_status parse_system_accel(const char *data_dir, const src_file *f, json_t *o, sp_system *s, sp_error *err)
{
    json_t *acc = json_object_get(o, "accelerator");
    if (json_is_string(acc)) {
        sp_error e2 = {0};
        sp_status rc = sp_load_accel(data_dir, json_string_value(acc), &s->acc, &e2);
        if (rc)
            return sp_fail(err, rc, "%s:%d: field 'accelerator': %s", f->path, key_line(f, "accelerator"), e2.msg);
        return SP_OK;
    }
    if (json_is_object(acc)) {
        json_incref(acc); /* parse_accel may replace it by its base merged with it */
        sp_status rc = parse_accel(data_dir, f, &acc, &s->acc, err);
        json_decref(acc);
        return rc;
    }
    return sp_fail(err, SP_EINVAL, "%s: field 'accelerator' must name an accelerator preset or be an object", f->path);
}

static sp_status parse_system_software(const src_file *f, json_t *o, sp_system *s, sp_error *err)
{
    json_t *sw = json_object_get(o, "software");
    s->flash_attention = 1;
    s->overlap_tp = 0;
    s->overlap_dp = 1;
    if (!sw)
        return SP_OK;
    if (!json_is_object(sw))
        return sp_fail(err, SP_EINVAL, "%s: field 'software' must be an object", f->path);
    sp_status rc = check_keys(f, sw, sw_keys, "software", err);
    if (!rc)
        rc = get_bool(f, sw, "flash_attention", &s->flash_attention, err);
    if (!rc)
        rc = get_bool(f, sw, "overlap_tp", &s->overlap_tp, err);
    if (!rc)
        rc = get_bool(f, sw, "overlap_dp", &s->overlap_dp, err);
    if (!rc)
        rc = get_bool(f, sw, "overlap_ep", &s->overlap_ep, err);
    return rc;
}

/* "stack": the software stack this installation usually runs; checked to exist (the name is kept, the plan
 * defaults are applied by whoever plans on it: validate, --software). */
static sp_status parse_system_stack(const char *data_dir, const src_file *f, json_t *o, sp_system *s, sp_error *err)
{
    json_t *st = json_object_get(o, "stack");
    if (!st)
        return SP_OK;
    sp_software sw;
    sp_error e2 = {0};
    if (!json_is_string(st) || sp_load_software(data_dir, json_string_value(st), &sw, &e2))
        return sp_fail(err, SP_EINVAL, "%s:%d: field 'stack': %s", f->path, key_line(f, "stack"),
                       json_is_string(st) ? e2.msg : "must name a software stack preset");
    snprintf(s->stack, sizeof s->stack, "%s", json_string_value(st));
    return SP_OK;
}

/* The system in o (already merged with its base), from file f; `display` names it when it has no "name". */
static sp_status parse_system(const char *data_dir, const src_file *f, const char *display, json_t *o, sp_system *s,
                              sp_error *err)
{
    sp_status rc = SP_OK;
    memset(s, 0, sizeof *s);
    TRY(check_keys(f, o, sys_keys, "system", err));
    const char *nm = json_string_value(json_object_get(o, "name"));
    snprintf(s->name, sizeof s->name, "%s", nm ? nm : display);
    const char *desc = json_string_value(json_object_get(o, "description"));
    snprintf(s->description, sizeof s->description, "%s", desc ? desc : "");
    TRY(parse_system_accel(data_dir, f, o, s, err));
    json_t *tiers = json_object_get(o, "tiers");
    if (!json_is_array(tiers) || json_array_size(tiers) < 1 || json_array_size(tiers) > SP_MAX_TIERS) {
        rc = sp_fail(err, SP_EINVAL, "%s:%d: field 'tiers' must be an array of 1..%d network tiers, innermost first",
                     f->path, key_line(f, "tiers"), SP_MAX_TIERS);
        goto done;
    }
    s->n_tiers = (int)json_array_size(tiers);
    for (int i = 0; i < s->n_tiers; i++)
        TRY(parse_tier(f, json_array_get(tiers, (size_t)i), i, i == s->n_tiers - 1, &s->tier[i], err));
    /* max_accels: the size of the installation the preset describes, for the reader. It is not a cap on a
     * plan (planning 10k-100k accelerators on a preset's hardware is routine), so it never sets s->max_accels. */
    int installed = 0;
    TRY(get_int(f, o, "max_accels", &installed, 0, 1 << 30, NULL, err));
    TRY(parse_system_software(f, o, s, err));
    TRY(parse_system_stack(data_dir, f, o, s, err));
    s->pue = 1.0;
    TRY(get_qty(f, o, "host_w_per_accel", SP_UNIT_NONE, 0, 1e5, &s->host_w_per_accel, NULL, err));
    TRY(get_qty(f, o, "pue", SP_UNIT_NONE, 1, 10, &s->pue, NULL, err));
    TRY(get_qty(f, o, "host_kernel", SP_UNIT_TIME, 1e-7, 1e-3, &s->host_kernel_s, NULL, err));
    TRY(parse_host_link(f, o, s, err));
    TRY(get_qty(f, o, "grid_kg_per_kwh", SP_UNIT_NONE, 0, 5, &s->grid_kg_per_kwh, NULL, err));
    TRY(get_qty(f, o, "usd_per_accel_hour", SP_UNIT_NONE, 0, 1e4, &s->usd_per_accel_hour, NULL, err));
    sp_system_defaults(s);
    rc = sp_system_check(s, f->path, err);
done:
    return rc;
}

static sp_status check_system(const char *data_dir, const src_file *f, json_t *o, sp_error *err)
{
    sp_system tmp;
    return parse_system(data_dir, f, f->path, o, &tmp, err);
}

/* The system in *o (from file f, named `display` by default), its base resolved first. */
static sp_status system_preset(const char *data_dir, const src_file *f, const char *display, json_t **o, void *out,
                               sp_error *err)
{
    sp_status rc = resolve_base(data_dir, "systems", check_system, f, o, 0, err);
    return rc ? rc : parse_system(data_dir, f, display, *o, out, err);
}

sp_status sp_load_system(const char *data_dir, const char *name_or_path, sp_system *s, sp_error *err)
{
    return load_preset(data_dir, "systems", name_or_path, system_preset, s, err);
}

sp_status sp_parse_system(const char *data_dir, const char *name, const char *text, size_t len, sp_system *s,
                          sp_error *err)
{
    src_file f = {0};
    json_t *o = NULL;
    sp_status rc = mem_json(name, text, len, &f, &o, err);
    if (!rc)
        rc = system_preset(data_dir, &f, name, &o, s, err);
    json_decref(o);
    free(f.text);
    return rc;
}

/* Hook for sweeps (sweep.c patches presets): the object the loader reads for an accelerator or system preset,
 * its "base" chain merged and checked, as a new reference. */
sp_status sp_preset_json(const char *data_dir, const char *kind, const char *name_or_path, json_t **out, sp_error *err)
{
    int sys = strcmp(kind, "systems") == 0;
    char path[1400];
    src_file f = {0};
    json_t *o = NULL;
    *out = NULL;
    sp_status rc = load_checked(data_dir, sys ? "systems" : "accelerators", sys ? check_system : check_accel,
                                name_or_path, path, sizeof path, &f, &o, 0, err);
    free(f.text);
    if (rc)
        json_decref(o);
    else
        *out = o;
    return rc;
}

/* ---- software stacks (data/software/NAME.json; the logic is in software.c) ---- */

static const char *const stack_keys[] = {"name", "description", "base", "kernels", "defaults", "supports",
                                         "efficiency", "sources", NULL};
static const char *const kernel_keys[] = {"attention", "attention_class", "attention_sinks", "rope_mscale_unfused",
                                          "gemm", "fusions", "tp_overlap", "separate_qkv",
                                          "separate_gate_up", "alltoall_dispatch_16bit", "ssd_scan", "eager_ops",
                                          "cudnn_frontend", "pp_send_wait", "one_queue",
                                          "one_queue_ep_overlap",
                                          NULL};
/* every knob must be given and every one needs a source: a stack preset is a statement about a real code base */
static const char *const default_keys[] = {"flash_attention", "recompute", "seq_parallel", "zero", "vpp",
                                           "overlap_tp", "overlap_dp", "overlap_pp", "overlap_ep", "weight_bytes",
                                           "grad_bytes", "optimizer_bytes", "fsdp_reshard_after_forward",
                                           "fp8_recipe", "cuda_graphs", "moe_dispatcher", "recompute_modules",
                                           "te_quantization", "nvfp4_split_rht_cast", "grad_reduce_fp32", NULL};
/* the optional defaults: a stack whose selective recompute is per module says which (Megatron-Core); one that
 * quantizes through Transformer Engine's modules with Megatron-Core's micro-batch flags says so (te_quantization,
 * plan.te_quant) */
#define OPTIONAL_DEFAULT "recompute_modules"
#define OPTIONAL_BOOL "te_quantization"
/* a release whose Transformer Engine quantizes NVFP4 Hadamard operands in two passes (hardware.c) */
#define OPTIONAL_BOOL2 "nvfp4_split_rht_cast"
/* a stack that reduces gradients in fp32 on the wire (FSDP2 MixedPrecisionPolicy reduce_dtype float32) */
#define OPTIONAL_BOOL3 "grad_reduce_fp32"
static const char *const feature_names[] = {"tp",    "pp",    "vpp",   "sp",   "cp",       "ep", "zero1",
                                            "zero2", "zero3", "zb-h1", "zb-v", "dualpipe", NULL};

static sp_status stack_enum(const src_file *f, json_t *d, const char *key, sp_software *sw, sp_error *err)
{
    const char *v = json_string_value(json_object_get(d, key));
    if (!v)
        return sp_fail(err, SP_EINVAL, "%s:%d: defaults.%s must be a string", f->path, key_line(f, key), key);
    sp_error e2 = {0};
    if (strcmp(key, "cuda_graphs") == 0 && sp_cuda_graphs_parse(v, &sw->cuda_graphs, &e2))
        return sp_fail(err, SP_EINVAL, "%s:%d: defaults.cuda_graphs = %s", f->path, key_line(f, key), e2.msg);
    if (strcmp(key, "moe_dispatcher") == 0 && sp_moe_dispatcher_parse(v, &sw->moe_dispatcher, &e2))
        return sp_fail(err, SP_EINVAL, "%s:%d: defaults.moe_dispatcher = %s", f->path, key_line(f, key), e2.msg);
    if (strcmp(key, "recompute_modules") == 0 && sp_recompute_modules_parse(v, &sw->recompute_modules, &e2))
        return sp_fail(err, SP_EINVAL, "%s:%d: defaults.recompute_modules = %s", f->path, key_line(f, key), e2.msg);
    if (strcmp(key, "cuda_graphs") == 0 || strcmp(key, "moe_dispatcher") == 0 || strcmp(key, "recompute_modules") == 0)
        return SP_OK;
    if (strcmp(key, "fp8_recipe") == 0) {
        if (sp_fp8_recipe_parse(v, &sw->fp8_recipe, NULL) || sw->fp8_recipe == SP_FP8_RECIPE_DEFAULT)
            return sp_fail(err, SP_EINVAL, "%s:%d: defaults.fp8_recipe = '%s'; allowed delayed, current, blockwise, rowwise",
                           f->path, key_line(f, key), v);
        return SP_OK;
    }
    for (int r = SP_RECOMPUTE_NONE; r <= SP_RECOMPUTE_FULL; r++)
        if (strcmp(v, sp_recompute_name((sp_recompute)r)) == 0) {
            sw->recompute = (sp_recompute)r;
            return SP_OK;
        }
    return sp_fail(err, SP_EINVAL, "%s:%d: defaults.recompute = '%s'; allowed none, selective, full", f->path,
                   key_line(f, key), v);
}

static sp_status stack_defaults(const src_file *f, json_t *d, json_t *src, sp_software *sw, sp_error *err)
{
    sp_status rc = check_keys(f, d, default_keys, "software default", err);
    for (int i = 0; !rc && default_keys[i]; i++) {
        const char *k = default_keys[i];
        if (!json_object_get(d, k) && (strcmp(k, OPTIONAL_DEFAULT) == 0 || strcmp(k, OPTIONAL_BOOL) == 0 ||
                                       strcmp(k, OPTIONAL_BOOL2) == 0 || strcmp(k, OPTIONAL_BOOL3) == 0))
            continue;
        if (!json_object_get(d, k))
            return sp_fail(err, SP_EINVAL, "%s: defaults.%s is missing (a stack gives every knob)", f->path, k);
        if (!json_is_string(json_object_get(src, k)))
            return sp_fail(err, SP_EINVAL, "%s: sources.%s is missing: cite where the default comes from "
                           "(repo@commit:path)", f->path, k);
    }
    if (!rc)
        rc = stack_enum(f, d, "recompute", sw, err);
    if (!rc)
        rc = stack_enum(f, d, "fp8_recipe", sw, err);
    if (!rc)
        rc = stack_enum(f, d, "cuda_graphs", sw, err);
    if (!rc)
        rc = stack_enum(f, d, "moe_dispatcher", sw, err);
    if (!rc && json_object_get(d, OPTIONAL_DEFAULT))
        rc = stack_enum(f, d, OPTIONAL_DEFAULT, sw, err);
    const char *okeys[] = {OPTIONAL_BOOL, OPTIONAL_BOOL2, OPTIONAL_BOOL3};
    int *ovals[] = {&sw->te_quant, &sw->nvfp4_split, &sw->grad_reduce_fp32};
    for (int i = 0; !rc && i < 3; i++) {
        if (json_object_get(d, okeys[i]) && !json_is_boolean(json_object_get(d, okeys[i])))
            return sp_fail(err, SP_EINVAL, "%s:%d: defaults.%s: expected true or false", f->path,
                           key_line(f, okeys[i]), okeys[i]);
        rc = get_bool(f, d, okeys[i], ovals[i], err);
    }
    int *bools[] = {&sw->flash_attention, &sw->seq_parallel, &sw->overlap_tp, &sw->overlap_dp, &sw->overlap_pp,
                    &sw->overlap_ep, &sw->fsdp_reshard};
    const char *bkeys[] = {"flash_attention", "seq_parallel", "overlap_tp", "overlap_dp", "overlap_pp", "overlap_ep",
                           "fsdp_reshard_after_forward"};
    for (int i = 0; !rc && i < 7; i++) {
        if (!json_is_boolean(json_object_get(d, bkeys[i])))
            return sp_fail(err, SP_EINVAL, "%s:%d: defaults.%s: expected true or false", f->path, key_line(f, bkeys[i]),
                           bkeys[i]);
        rc = get_bool(f, d, bkeys[i], bools[i], err);
    }
    if (!rc)
        rc = get_int(f, d, "zero", &sw->zero, 0, 3, NULL, err);
    if (!rc)
        rc = get_int(f, d, "vpp", &sw->vpp, 1, 1024, NULL, err);
    if (!rc)
        rc = get_qty(f, d, "weight_bytes", SP_UNIT_NONE, 1, 4, &sw->weight_bytes, NULL, err);
    if (!rc)
        rc = get_qty(f, d, "grad_bytes", SP_UNIT_NONE, 1, 4, &sw->grad_bytes, NULL, err);
    if (!rc)
        rc = get_qty(f, d, "optimizer_bytes", SP_UNIT_NONE, 0, 16, &sw->optimizer_bytes, NULL, err);
    return rc;
}

static sp_status stack_supports(const src_file *f, json_t *a, sp_software *sw, sp_error *err)
{
    if (!json_is_array(a))
        return sp_fail(err, SP_EINVAL, "%s:%d: field 'supports' must be an array of tp, pp, vpp, sp, cp, ep, zero1, "
                       "zero2, zero3, zb-h1, zb-v, dualpipe", f->path, key_line(f, "supports"));
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
    {
        const char *s = json_string_value(v);
        int k = 0;
        while (s && feature_names[k] && strcmp(feature_names[k], s) != 0)
            k++;
        if (!s || !feature_names[k])
            return sp_fail(err, SP_EINVAL, "%s:%d: supports[%zu] = %s; allowed tp, pp, vpp, sp, cp, ep, zero1, zero2, "
                           "zero3, zb-h1, zb-v, dualpipe", f->path, key_line(f, "supports"), i, s ? s : "(not a string)");
        sw->supports |= 1u << k;
    }
    return SP_OK;
}

/* efficiency: {"hopper": {"gemm": 0.9, "fp8_gemm": 0.8, "attn": 1, "mem": 1}, ...}: the stack's factors per hardware
 * family (include/scaleplan.h sp_stack_eff), each key optional (1), every value in 0.2..1.5, cited in
 * sources.efficiency */
static sp_status stack_eff(const src_file *f, json_t *e, json_t *src, sp_software *sw, sp_error *err)
{
    static const char *const keys[] = {"gemm", "fp8_gemm", "attn", "mem", "moe_gemm", NULL};
    if (!e)
        return SP_OK;
    if (!json_is_object(e) || json_object_size(e) > SP_MAX_STACK_EFF)
        return sp_fail(err, SP_EINVAL, "%s:%d: field 'efficiency' must be an object of at most %d hardware families like "
                       "{\"hopper\": {\"gemm\": 0.9}}", f->path, key_line(f, "efficiency"), SP_MAX_STACK_EFF);
    if (!json_is_string(json_object_get(src, "efficiency")))
        return sp_fail(err, SP_EINVAL, "%s: sources.efficiency is missing: cite how the factors were obtained", f->path);
    const char *fam;
    json_t *v;
    json_object_foreach(e, fam, v)
    {
        sp_stack_eff *x = &sw->eff[sw->n_eff];
        if (!json_is_object(v) || strlen(fam) >= sizeof x->family)
            return sp_fail(err, SP_EINVAL, "%s:%d: efficiency.%s must be an object of factors (gemm, fp8_gemm, attn, mem, moe_gemm)",
                           f->path, key_line(f, fam), fam);
        snprintf(x->family, sizeof x->family, "%s", fam);
        double *dst[] = {&x->gemm, &x->fp8_gemm, &x->attn, &x->mem, &x->moe_gemm};
        for (int i = 0; keys[i]; i++) {
            json_t *n = json_object_get(v, keys[i]);
            *dst[i] = n ? json_number_value(n) : 1;
            if (n && (!json_is_number(n) || !(*dst[i] >= 0.2 && *dst[i] <= 1.5)))
                return sp_fail(err, SP_EINVAL, "%s:%d: efficiency.%s.%s must be a factor in 0.2..1.5", f->path,
                               key_line(f, fam), fam, keys[i]);
        }
        size_t known = (json_object_get(v, "gemm") != NULL) + (json_object_get(v, "fp8_gemm") != NULL) +
                       (json_object_get(v, "attn") != NULL) + (json_object_get(v, "mem") != NULL) +
                       (json_object_get(v, "moe_gemm") != NULL);
        if (json_object_size(v) > known)
            return sp_fail(err, SP_EINVAL, "%s:%d: efficiency.%s: allowed keys gemm, fp8_gemm, attn, mem, moe_gemm", f->path,
                           key_line(f, fam), fam);
        sw->n_eff++;
    }
    return SP_OK;
}

/* an optional boolean kernels fact (absent: false) */
static sp_status kernel_bool(const src_file *f, json_t *k, const char *key, int *out, sp_error *err)
{
    json_t *v = json_object_get(k, key);
    if (v && !json_is_boolean(v))
        return sp_fail(err, SP_EINVAL, "%s:%d: kernels.%s must be true or false", f->path, key_line(f, key), key);
    *out = v && json_is_true(v);
    return SP_OK;
}

/* kernels.pp_send_wait: the stack's interleaved schedule, overlapping its pipeline sends, still waits for each
 * forward send before the kernels that follow it (src/step.c pp_sends_interleaved). A statement about the stack's
 * schedule code: it needs sources.pp_send_wait. */
static sp_status kernel_send_wait(const src_file *f, json_t *k, json_t *src, sp_software *sw, sp_error *err)
{
    sp_status rc = kernel_bool(f, k, "pp_send_wait", &sw->pp_send_wait, err);
    if (rc || !json_object_get(k, "pp_send_wait"))
        return rc;
    if (!json_is_string(json_object_get(src, "pp_send_wait")))
        return sp_fail(err, SP_EINVAL, "%s:%d: sources.pp_send_wait is missing: cite the schedule code that waits "
                       "for the send", f->path, key_line(f, "pp_send_wait"));
    return SP_OK;
}

/* kernels.one_queue: the hardware families (comma list of accelerator `family` names) on which the stack's launcher
 * runs TP > 1 or CP > 1 jobs with CUDA_DEVICE_MAX_CONNECTIONS=1 (one hardware queue: its streams serialize, so
 * overlapped pipeline sends are exposed: src/step.c pp_sends_interleaved); kernels.one_queue_ep_overlap: jobs with
 * MoE EP overlap too. Statements about the launcher: they need sources.one_queue. */
static sp_status kernel_one_queue(const src_file *f, json_t *k, json_t *src, sp_software *sw, sp_error *err)
{
    sp_status rc = kernel_bool(f, k, "one_queue_ep_overlap", &sw->one_queue_ep, err);
    json_t *v = json_object_get(k, "one_queue");
    if (rc || (!v && !json_object_get(k, "one_queue_ep_overlap")))
        return rc;
    const char *s = json_string_value(v);
    size_t n = s ? strlen(s) : 0;
    if (!s || n == 0 || n >= sizeof sw->one_queue || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789,") != n)
        return sp_fail(err, SP_EINVAL, "%s:%d: kernels.one_queue must be a comma list of hardware families (e.g. "
                       "\"ampere,hopper\"), at most %d characters", f->path, key_line(f, "one_queue"),
                       (int)sizeof sw->one_queue - 1);
    if (!json_is_string(json_object_get(src, "one_queue")))
        return sp_fail(err, SP_EINVAL, "%s:%d: sources.one_queue is missing: cite the launcher that sets the device "
                       "connections", f->path, key_line(f, "one_queue"));
    memcpy(sw->one_queue, s, n + 1);
    return SP_OK;
}

/* kernels.ssd_scan: the kernels that run Mamba-2's SSD scan. "triton" = mamba_ssm's Triton SSD kernels (what
 * Megatron-Core's MambaMixer calls), whose SM-bound rate floors the scan's tile products (ops.c SCAN_FP32_RATE);
 * absent = no such kernel stated, no floor. A statement about the stack's code: it needs sources.ssd_scan. */
static sp_status kernel_ssd_scan(const src_file *f, json_t *k, json_t *src, sp_software *sw, sp_error *err)
{
    json_t *v = json_object_get(k, "ssd_scan");
    if (!v)
        return SP_OK;
    const char *s = json_string_value(v);
    if (!s || strcmp(s, "triton") != 0)
        return sp_fail(err, SP_EINVAL, "%s:%d: kernels.ssd_scan: allowed triton (mamba_ssm's Triton SSD kernels); "
                       "leave it out for a stack without them", f->path, key_line(f, "ssd_scan"));
    if (!json_is_string(json_object_get(src, "ssd_scan")))
        return sp_fail(err, SP_EINVAL, "%s:%d: sources.ssd_scan is missing: cite the code that runs the scan "
                       "(repo@commit:path:line)", f->path, key_line(f, "ssd_scan"));
    sw->ssd_scan_triton = 1;
    return SP_OK;
}

/* kernels.cudnn_frontend: the cudnn-frontend release ("MAJOR.MINOR.PATCH") the stack's container installs, whose
 * CuTe-DSL kernels Transformer Engine's fused grouped MLP calls (ops.c DGLU_DBIAS_*); absent = not stated. A fact
 * about the container: it needs sources.cudnn_frontend (the pin that installs it). */
static sp_status kernel_cudnn_fe(const src_file *f, json_t *k, json_t *src, sp_software *sw, sp_error *err)
{
    json_t *v = json_object_get(k, "cudnn_frontend");
    if (!v)
        return SP_OK;
    const char *s = json_string_value(v);
    int ma = 0, mi = 0, pa = 0, n = 0;
    if (!s || sscanf(s, "%d.%d.%d%n", &ma, &mi, &pa, &n) != 3 || s[n] || ma < 1 || mi < 0 || mi > 99 || pa < 0 ||
        pa > 99)
        return sp_fail(err, SP_EINVAL, "%s:%d: kernels.cudnn_frontend must be a release \"MAJOR.MINOR.PATCH\" "
                       "(e.g. \"1.24.0\")", f->path, key_line(f, "cudnn_frontend"));
    if (!json_is_string(json_object_get(src, "cudnn_frontend")))
        return sp_fail(err, SP_EINVAL, "%s:%d: sources.cudnn_frontend is missing: cite the pin that installs it "
                       "(repo@commit:path:line)", f->path, key_line(f, "cudnn_frontend"));
    sw->cudnn_frontend = 10000 * ma + 100 * mi + pa;
    return SP_OK;
}

static sp_status parse_stack(const src_file *f, const char *display, json_t *o, sp_software *sw, sp_error *err)
{
    memset(sw, 0, sizeof *sw);
    sp_status rc = check_keys(f, o, stack_keys, "software", err);
    if (rc)
        return rc;
    const char *nm = json_string_value(json_object_get(o, "name"));
    snprintf(sw->name, sizeof sw->name, "%s", nm ? nm : display);
    json_t *k = json_object_get(o, "kernels"), *d = json_object_get(o, "defaults"), *src = json_object_get(o, "sources");
    if (!json_is_object(k) || !json_is_object(d) || !json_is_object(src))
        return sp_fail(err, SP_EINVAL, "%s: a software stack needs objects 'kernels', 'defaults' and 'sources'", f->path);
    if ((rc = check_keys(f, k, kernel_keys, "kernels", err)))
        return rc;
    const char *att = json_string_value(json_object_get(k, "attention"));
    const char *gemm = json_string_value(json_object_get(k, "gemm"));
    if (!att || !gemm)
        return sp_fail(err, SP_EINVAL, "%s: kernels.attention and kernels.gemm must be strings", f->path);
    snprintf(sw->attention, sizeof sw->attention, "%s", att);
    json_t *ac = json_object_get(k, "attention_class");
    if (ac && sp_attn_kernel_parse(json_string_value(ac), &sw->attn_kernel))
        return sp_fail(err, SP_EINVAL, "%s:%d: kernels.attention_class: allowed fa2, fa3, cudnn, generic", f->path,
                       key_line(f, "attention_class"));
    json_t *sinks = json_object_get(k, "attention_sinks"); /* absent: the fused kernel is taken to support them */
    if (sinks && !json_is_boolean(sinks))
        return sp_fail(err, SP_EINVAL, "%s:%d: kernels.attention_sinks must be true or false", f->path,
                       key_line(f, "attention_sinks"));
    sw->attn_no_sinks = sinks && json_is_false(sinks);
    json_t *ry = json_object_get(k, "rope_mscale_unfused"); /* absent: a scaled RoPE is taken to run fused */
    if (ry && !json_is_boolean(ry))
        return sp_fail(err, SP_EINVAL, "%s:%d: kernels.rope_mscale_unfused must be true or false", f->path,
                       key_line(f, "rope_mscale_unfused"));
    sw->rope_mscale_unfused = ry && json_is_true(ry);
    json_t *eo = json_object_get(k, "eager_ops"); /* absent: every elementwise op fused */
    sp_error e3 = {0};
    if (eo && (!json_is_string(eo) || sp_eager_ops_parse(json_string_value(eo), &sw->eager_ops, &e3)))
        return sp_fail(err, SP_EINVAL, "%s:%d: kernels.eager_ops: %s", f->path, key_line(f, "eager_ops"),
                       json_is_string(eo) ? e3.msg : "must be a string");
    json_t *tpo = json_object_get(k, "tp_overlap"); /* absent: chunked (Megatron-Core / Transformer Engine) */
    const char *tpv = json_string_value(tpo);
    if (tpo && (!tpv || (strcmp(tpv, "chunked") && strcmp(tpv, "micro_pipeline"))))
        return sp_fail(err, SP_EINVAL, "%s:%d: kernels.tp_overlap: allowed chunked, micro_pipeline", f->path,
                       key_line(f, "tp_overlap"));
    sw->tp_micro_pipeline = tpv && strcmp(tpv, "micro_pipeline") == 0;
    if ((rc = kernel_bool(f, k, "separate_qkv", &sw->separate_qkv, err)) ||
        (rc = kernel_bool(f, k, "separate_gate_up", &sw->separate_gate_up, err)) ||
        (rc = kernel_bool(f, k, "alltoall_dispatch_16bit", &sw->a2a_dispatch_16bit, err)) ||
        (rc = kernel_send_wait(f, k, src, sw, err)) || (rc = kernel_one_queue(f, k, src, sw, err)) ||
        (rc = kernel_ssd_scan(f, k, src, sw, err)) || (rc = kernel_cudnn_fe(f, k, src, sw, err)))
        return rc;
    snprintf(sw->gemm, sizeof sw->gemm, "%s", gemm);
    if ((rc = stack_defaults(f, d, src, sw, err)))
        return rc;
    if ((rc = stack_eff(f, json_object_get(o, "efficiency"), src, sw, err)))
        return rc;
    return stack_supports(f, json_object_get(o, "supports"), sw, err);
}

static sp_status check_stack(const char *data_dir, const src_file *f, json_t *o, sp_error *err)
{
    (void)data_dir;
    sp_software tmp;
    return parse_stack(f, "", o, &tmp, err);
}

/* A stack derived from another ("base": "megatron-core"; the per-release presets megatron-core-25.09 ...) is the
 * base's object with its own keys merged over it: it inherits the base's defaults, sources and efficiency. */
static sp_status stack_preset(const char *data_dir, const src_file *f, const char *display, json_t **o, void *out,
                               sp_error *err)
{
    sp_status rc = resolve_base(data_dir, "software", check_stack, f, o, 0, err);
    return rc ? rc : parse_stack(f, display, *o, out, err);
}

sp_status sp_load_software(const char *data_dir, const char *name_or_path, sp_software *sw, sp_error *err)
{
    return load_preset(data_dir, "software", name_or_path, stack_preset, sw, err);
}

void sp_preset_choices(const char *list, size_t used, const char *see, char *out, size_t n)
{
    size_t len = strlen(list), room = sizeof((sp_error *)0)->msg - 140;
    if (used + len <= room && len < n) {
        snprintf(out, n, "%s", list);
        return;
    }
    int count = 1;
    for (const char *c = list; *c; c++)
        count += *c == ',';
    snprintf(out, n, "%d names (%s lists them)", count, see);
}

void sp_list_presets(const char *data_dir, const char *kind, char *buf, size_t n)
{
    char dir[1400];
    snprintf(dir, sizeof dir, "%s/%s", data_dir, kind);
    if (sp_list_dir(dir, buf, n) != 0)
        snprintf(buf, n, "(no presets found under the data directory)");
}
