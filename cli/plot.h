/* Charts with log axes as SVG or PNG, drawn by gnuplot (Debian package gnuplot-nox, ~1 MB of data plus the
 * binary; PLplot's cairo driver would pull in more and still need a wrapper). Shared by law, limits, infer. */
#ifndef SP_PLOT_H
#define SP_PLOT_H

#include <stddef.h>

typedef struct {
    const char *title;     /* legend entry */
    const double *x, *y;
    int n;
    int style;             /* 0 lines, 1 points, 2 lines + points */
} plot_series;

typedef struct {
    double value;
    const char *label;
} plot_ref;

#define PLOT_MAX_SERIES 16
#define PLOT_MAX_REFS 6

typedef struct {
    const char *title, *xlabel, *ylabel;
    int logx, logy;
    plot_series series[PLOT_MAX_SERIES];
    int nseries;
    plot_ref hline[PLOT_MAX_REFS], vline[PLOT_MAX_REFS];
    int nh, nv;
} plot_chart;

/* Draws `n` charts side by side into path (.svg or .png). Returns 0, or fills err and returns 2. Non-finite
 * points are skipped (never drawn as zero). */
/* Checks a --plot path before any work: .svg or .png, in an existing writable folder, not a directory.
 * 0 if usable, else 2 with a one-line message in err. */
int plot_check(const char *path, char *err, size_t errn);
int plot_write(const char *path, const plot_chart *charts, int n, char *err, size_t errn);

#endif
