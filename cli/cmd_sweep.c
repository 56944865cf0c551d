/* scaleplan sweep SPEC.json: co-design sweeps (docs/sweep.md). The library evaluates points and builds the result;
 * this file reads options, writes the streamed CSV (--out, --resume), prints the summary or the JSON, draws --plot,
 * and starts MPI when launched by mpirun (the binary is MPI-enabled when the build found mpicc). */
#include "cli.h"
#include "scaleplan_sweep.h"
#include "plot.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const cli_optdef defs[] = {
    {"out", 1, "stream every point as CSV to this file, in point order (needed by --resume)"},
    {"resume", 0, "continue the sweep in --out from its last complete row"},
    {"json", 0, "print the result as JSON (every point, Pareto front, effects)"},
    {"csv", 0, "print every point as CSV on stdout (without --out)"},
    {"plot", 1, "draw the Pareto front and the axis effects (.svg or .png)"},
    {"timing", 0, "at the end, print on stderr the points, ranks, wall time and points/s of the run itself"},
};

typedef struct {
    const sp_sweep *sw;
    FILE *out;
    sp_sweep_point *pts;
    char *row;
    size_t rown;
    int failed;
} emitter;

static void emit(void *ctx, const sp_sweep_point *p)
{
    emitter *e = ctx;
    e->pts[p->index] = *p;
    if (!e->out)
        return;
    sp_sweep_csv_row(e->sw, p, e->row, e->rown);
    if (fprintf(e->out, "%s\n", e->row) < 0 || fflush(e->out) != 0)
        e->failed = 1;
}

/* ctx: the first point of this run (points before it were read back by --resume) */
static void progress(void *ctx, long long done, long long total, double el)
{
    long long first = *(const long long *)ctx;
    if (done < total) {
        double rate = (double)(done - first) / (el > 0 ? el : 1);
        fprintf(stderr, "\rscaleplan sweep: %lld of %lld points, %.1f points/s, ETA %.0f s ", done, total, rate,
                rate > 0 ? (double)(total - done) / rate : 0.0);
    } else
        fputs("\r\033[K", stderr);
    fflush(stderr);
}

static void head_line(const sp_sweep *sw, char *buf, size_t n)
{
    snprintf(buf, n, "# scaleplan sweep %s: spec %016llx, %lld points", sp_sweep_name(sw), sp_sweep_hash(sw),
             sp_sweep_count(sw));
}

/* Reads the rows of an interrupted --out file into pts; truncates a partial last row; returns the next point. */
static long long resume_from(const sp_sweep *sw, const char *path, sp_sweep_point *pts, char *row, size_t rown)
{
    FILE *f = fopen(path, "r+");
    if (!f)
        return 0; /* nothing written yet: start from the first point */
    char want[512];
    head_line(sw, want, sizeof want);
    long long next = 0;
    long good = 0;
    int line = 0;
    while (fgets(row, (int)rown, f)) {
        size_t l = strlen(row);
        if (l == 0 || row[l - 1] != '\n')
            break; /* cut off mid-row by the kill */
        row[l - 1] = 0;
        line++;
        sp_error err = {0};
        char hdr[8192];
        sp_sweep_csv_header(sw, hdr, sizeof hdr);
        if ((line == 1 && strcmp(row, want) != 0) || (line == 2 && strcmp(row, hdr) != 0)) {
            fclose(f);
            return -(long long)cli_error("sweep", "--resume: %s:%d: written by another sweep specification (%s)", path,
                                         line, line == 1 ? "its spec hash differs" : "its columns differ");
        }
        if (line > 2 && (sp_sweep_csv_parse(sw, row, &pts[next], &err) || pts[next].index != next)) {
            fclose(f);
            return -(long long)cli_error("sweep", "--resume: %s:%d: %s", path, line,
                                         err.msg[0] ? err.msg : "rows out of order");
        }
        next += line > 2;
        good = ftell(f);
    }
    int rc = ftruncate(fileno(f), good);
    fclose(f);
    if (rc != 0)
        return -(long long)cli_error("sweep", "--resume: %s: cannot truncate the partial last row", path);
    return line < 2 ? 0 : next;
}

static void print_summary(const sp_sweep *sw, json_t *res)
{
    static const char *const units[] = {"s", "USD", "J", "tokens/s per USD (negated)", "tokens (negated)", "USD per million tokens"};
    static const char *const serve_units[] = {"s", "USD per million tokens", "J per token", "tokens/s per USD (negated)", "",
                                              "USD per million tokens"};
    json_t *fk = json_object_get(res, "pareto_keys");
    const char *kt = json_string_value(json_array_get(fk, 0)), *kc = json_string_value(json_array_get(fk, 1)),
               *ke = json_string_value(json_array_get(fk, 2));
    printf("scaleplan sweep %s: %lld points (%s design), objective %s\n", sp_sweep_name(sw), sp_sweep_count(sw),
           json_string_value(json_object_get(res, "design")), json_string_value(json_object_get(res, "objective")));
    const char *k;
    json_t *v;
    printf("  points:");
    json_object_foreach(json_object_get(res, "counts"), k, v) printf(" %s %lld", k, (long long)json_integer_value(v));
    json_t *pts = json_object_get(res, "points");
    json_t *best = json_object_get(res, "best");
    if (json_is_integer(best)) {
        json_t *b = json_array_get(pts, (size_t)json_integer_value(best));
        char *ax = json_dumps(json_object_get(b, "axes"), JSON_COMPACT);
        printf("\n  best point #%lld %s: objective %.4g %s\n", (long long)json_integer_value(best), ax ? ax : "",
               json_real_value(json_object_get(b, "objective")),
               (sp_sweep_is_serve(sw) ? serve_units : units)[sp_sweep_objective(sw)]);
        free(ax);
    } else
        printf("\n  no point has a plan\n");
    json_t *pf = json_object_get(res, "pareto");
    printf("\n  Pareto front (%s): %zu points\n  %8s %14s %14s %14s  axes\n",
           sp_sweep_is_serve(sw) ? "P99 TPOT x $/M tokens x J/token" : "time x cost x energy", json_array_size(pf), "point",
           kt, kc, ke);
    for (size_t i = 0; i < json_array_size(pf) && i < 20; i++) {
        json_t *p = json_array_get(pts, (size_t)json_integer_value(json_array_get(pf, i)));
        char *ax = json_dumps(json_object_get(p, "axes"), JSON_COMPACT);
        printf("  %8lld %14.4g %14.4g %14.4g  %s\n", (long long)json_integer_value(json_object_get(p, "index")),
               json_real_value(json_object_get(p, kt)), json_real_value(json_object_get(p, kc)),
               json_real_value(json_object_get(p, ke)), ax ? ax : "");
        free(ax);
    }
    printf("\n  Sensitivities around the base design (each axis alone over its levels; swing = (max - min) / base, or / the\n"
           "  axis' best level when the base design has no plan; elasticity = d ln objective / d ln level):\n");
    json_t *ef = json_object_get(res, "effects");
    for (size_t i = 0; i < json_array_size(ef); i++) {
        json_t *e = json_array_get(ef, i);
        char swing[32] = "n/a", el[32] = "n/a";
        if (json_is_number(json_object_get(e, "swing")))
            snprintf(swing, sizeof swing, "%.1f%%", 100 * json_number_value(json_object_get(e, "swing")));
        if (json_is_number(json_object_get(e, "elasticity")))
            snprintf(el, sizeof el, "%.3g", json_number_value(json_object_get(e, "elasticity")));
        printf("  %-36s swing %8s  elasticity %s\n", json_string_value(json_object_get(e, "field")), swing, el);
    }
}

/* Two charts: every point with a plan and the Pareto front (run time vs cost), and each axis' effect around the
 * base design (objective / base objective, the axis from its first level to its last). */
static int sweep_plot(const sp_sweep *sw, json_t *res, const char *path)
{
    json_t *pts = json_object_get(res, "points"), *pf = json_object_get(res, "pareto"), *ef = json_object_get(res, "effects");
    size_t n = json_array_size(pts), nf = json_array_size(pf), ne = json_array_size(ef);
    double *x = calloc(2 * (n + nf) + 2 * SP_SWEEP_MAX_AXES * SP_SWEEP_EFFECT_LEVELS + 1, sizeof *x);
    if (!x)
        return cli_error("sweep", "out of memory");
    double *y = x + n, *fx = y + n, *fy = fx + nf, *ex = fy + nf, *ey = ex + SP_SWEEP_MAX_AXES * SP_SWEEP_EFFECT_LEVELS;
    int m = 0, serve = sp_sweep_is_serve(sw);
    json_t *fk = json_object_get(res, "pareto_keys");
    const char *kt = json_string_value(json_array_get(fk, 0)), *kc = json_string_value(json_array_get(fk, 1));
    double xs = serve ? 1e-3 : 86400; /* P99 TPOT in ms, run time in days */
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_array_get(pts, i);
        if (strcmp(json_string_value(json_object_get(p, "status")), "ok") == 0)
            x[m] = json_number_value(json_object_get(p, kt)) / xs, y[m++] = json_number_value(json_object_get(p, kc));
    }
    for (size_t k = 0; k < nf; k++) {
        json_t *p = json_array_get(pts, (size_t)json_integer_value(json_array_get(pf, k)));
        fx[k] = json_number_value(json_object_get(p, kt)) / xs;
        fy[k] = json_number_value(json_object_get(p, kc));
    }
    double x0 = INFINITY, x1 = 0, y0 = INFINITY, y1 = 0; /* log axes only over more than a decade */
    for (int i = 0; i < m; i++)
        x0 = fmin(x0, x[i]), x1 = fmax(x1, x[i]), y0 = fmin(y0, y[i]), y1 = fmax(y1, y[i]);
    plot_chart c[2] = {{.title = serve ? "points and Pareto front (P99 TPOT x $/M tokens x J/token)"
                                       : "points and Pareto front (time x cost x energy)",
                        .xlabel = serve ? "P99 TPOT (ms)" : "run time (days)",
                        .ylabel = serve ? "USD per million output tokens" : "cost (USD)", .logx = x0 > 0 && x1 > 10 * x0, .logy = y0 > 0 && y1 > 10 * y0},
                       {.title = "effect of each axis alone around the base design", .xlabel = "axis: first level -> last level",
                        .ylabel = "objective / base objective (or the axis' best level)"}};
    c[0].series[0] = (plot_series){"points with a plan", x, y, m, 1};
    c[0].series[1] = (plot_series){"Pareto front", fx, fy, (int)nf, 2};
    c[0].nseries = m ? 2 : 0;
    for (size_t a = 0; a < ne && c[1].nseries < PLOT_MAX_SERIES; a++) {
        json_t *e = json_array_get(ef, a), *lv = json_object_get(e, "levels");
        size_t nl = json_array_size(lv);
        double *px = ex + a * SP_SWEEP_EFFECT_LEVELS, *py = ey + a * SP_SWEEP_EFFECT_LEVELS;
        double norm = json_number_value(json_object_get(e, "base_objective")); /* 0 when null */
        for (size_t k = 0; k < nl && !(norm != 0); k++) { /* no base plan: the axis' best level instead */
            json_t *o = json_object_get(json_array_get(lv, k), "objective");
            if (json_is_number(o))
                norm = norm != 0 && fabs(norm) < fabs(json_number_value(o)) ? norm : json_number_value(o);
        }
        int finite = 0;
        for (size_t k = 0; k < nl; k++) {
            json_t *o = json_object_get(json_array_get(lv, k), "objective");
            px[k] = nl > 1 ? (double)k / (double)(nl - 1) : 0;
            py[k] = json_is_number(o) && norm != 0 ? json_number_value(o) / norm : NAN;
            finite += isfinite(py[k]);
        }
        if (finite) /* gnuplot refuses a series without a point */
            c[1].series[c[1].nseries++] = (plot_series){json_string_value(json_object_get(e, "field")), px, py, (int)nl, 2};
    }
    c[1].hline[c[1].nh++] = (plot_ref){1, "base design"};
    char err[512];
    int rc = m == 0 ? (snprintf(err, sizeof err, "--plot: no point has a plan to draw"), 2)
                    : plot_write(path, c, c[1].nseries ? 2 : 1, err, sizeof err);
    free(x);
    return rc ? cli_error("sweep", "%s", err) : 0;
}

static int finish(const cli_args *a, const sp_sweep *sw, const sp_sweep_point *pts)
{
    sp_error err = {0};
    json_t *res = sp_sweep_result_json(sw, pts, sp_sweep_count(sw), &err);
    if (!res)
        return cli_fail("sweep", &err);
    int rc = 0;
    if (cli_get(a, "plot"))
        rc = sweep_plot(sw, res, cli_get(a, "plot"));
    if (!rc && cli_flag(a, "json"))
        return cli_print_json("sweep", res); /* the same bytes as sp_call("sweep") */
    if (!rc && !cli_flag(a, "csv"))
        print_summary(sw, res);
    json_decref(res);
    return rc;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int under_mpirun(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

static int run(const cli_args *a, const sp_sweep *sw, int rank, int size)
{
    long long n = sp_sweep_count(sw);
    emitter e = {sw, NULL, calloc((size_t)n, sizeof(sp_sweep_point)), malloc(1 << 16), 1 << 16, 0};
    sp_sweep_run_opts o;
    sp_sweep_run_defaults(&o);
    o.emit = emit;
    o.ctx = &e;
    int rc = !e.pts || !e.row ? cli_error("sweep", "out of memory for %lld points", n) : 0;
    const char *out = cli_get(a, "out");
    if (!rc && rank == 0 && out && cli_flag(a, "resume") && (o.start = resume_from(sw, out, e.pts, e.row, e.rown)) < 0)
        rc = 2;
    if (!rc && rank == 0 && (out || cli_flag(a, "csv"))) {
        e.out = out ? fopen(out, o.start > 0 ? "a" : "w") : stdout;
        if (!e.out)
            rc = cli_error("sweep", "--out %s: cannot open for writing", out);
        else if (o.start == 0) {
            head_line(sw, e.row, e.rown);
            fprintf(e.out, "%s\n", e.row);
            sp_sweep_csv_header(sw, e.row, e.rown);
            fprintf(e.out, "%s\n", e.row);
        }
    }
    if (rc)
        o.start = -1; /* tells the other ranks to stop (and this process not to start) */
    if (rank == 0 && isatty(STDERR_FILENO)) {
        o.on_progress = progress;
        o.progress_ctx = &o.start;
    }
    sp_error err = {0};
    double t0 = now_s();
    sp_status st = sp_sweep_run_mpi(sw, &o, &err);
    double wall = now_s() - t0;
    if (!rc && !st && rank == 0 && cli_flag(a, "timing"))
        fprintf(stderr, "scaleplan sweep: %lld points on %d rank%s in %.3f s: %.1f points/s\n", n - o.start, size,
                size == 1 ? "" : "s", wall, (double)(n - o.start) / (wall > 0 ? wall : 1e-9));
    if (!rc && st)
        rc = rank == 0 ? cli_fail("sweep", &err) : 2;
    if (e.out && e.out != stdout && fclose(e.out) != 0)
        e.failed = 1;
    if (!rc && e.failed)
        rc = cli_error("sweep", "--out %s: write failed", out ? out : "stdout");
    if (!rc && rank == 0)
        rc = finish(a, sw, e.pts);
    free(e.pts);
    free(e.row);
    return rc;
}

int cmd_sweep(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(&a, "sweep", defs, sizeof defs / sizeof defs[0], argc, argv,
                       "usage: scaleplan sweep SPEC.json [--out FILE.csv [--resume]] [--json | --csv] [--plot FILE.svg]\n"
                       "       mpirun -np N scaleplan sweep SPEC.json ...   (the same output from N ranks)");
    if (rc)
        return rc;
    if (a.npos != 1)
        return cli_error("sweep", "expected one sweep specification (SPEC.json); see docs/sweep.md");
    if (cli_flag(&a, "resume") && !cli_get(&a, "out"))
        return cli_error("sweep", "--resume needs --out FILE (the CSV of the interrupted sweep)");
    if (cli_flag(&a, "json") + cli_flag(&a, "csv") > 1 || (cli_flag(&a, "csv") && cli_get(&a, "out")))
        return cli_error("sweep", "choose one of --json and --csv; --csv prints to stdout what --out writes to a file");
    int mpi = under_mpirun(), rank = 0, size = 1;
    sp_error err = {0};
    if (mpi && !sp_sweep_mpi_available())
        return cli_error("sweep", "started by mpirun, but this scaleplan was built without MPI (install libopenmpi-dev, rebuild)");
    if (mpi && sp_sweep_mpi_init(NULL, NULL, &rank, &size, &err))
        return cli_fail("sweep", &err);
    sp_sweep *sw = NULL;
    if (sp_sweep_load(a.data_dir, a.pos[0], &sw, &err))
        rc = rank == 0 ? cli_fail("sweep", &err) : 2;
    else
        rc = run(&a, sw, rank, size);
    sp_sweep_free(sw);
    if (mpi)
        sp_sweep_mpi_finalize();
    return rc;
}
