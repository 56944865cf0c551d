/* gnuplot back end for cli/plot.h: writes the data and a script to a temporary directory and runs gnuplot. */
#include "plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void quote(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        if ((unsigned char)*s >= 0x20)
            fputc(*s, f);
    }
    fputc('"', f);
}

int plot_check(const char *path, char *err, size_t errn)
{
    size_t pl = strlen(path);
    int svg = pl > 4 && strcmp(path + pl - 4, ".svg") == 0;
    int png = pl > 4 && strcmp(path + pl - 4, ".png") == 0;
    if (!svg && !png) {
        snprintf(err, errn, "--plot %s: the file name must end in .svg or .png", path);
        return 2;
    }
    /* the folder must exist and be writable (gnuplot would only say "cannot open file" after all the work) */
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (slash)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash == path ? 1 : slash - path), path);
    else
        snprintf(dir, sizeof dir, ".");
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errn, "--plot %s: folder '%s' does not exist; expected FILE.svg or FILE.png in an existing folder", path, dir);
        return 2;
    }
    if (access(dir, W_OK) != 0) {
        snprintf(err, errn, "--plot %s: folder '%s' is not writable; expected FILE.svg or FILE.png in a writable folder", path, dir);
        return 2;
    }
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, errn, "--plot %s: is a directory; expected FILE.svg or FILE.png", path);
        return 2;
    }
    return 0;
}

int plot_write(const char *path, const plot_chart *charts, int n, char *err, size_t errn)
{
    if (plot_check(path, err, errn))
        return 2;
    size_t pl = strlen(path);
    int svg = pl > 4 && strcmp(path + pl - 4, ".svg") == 0;
    char dir[] = "/tmp/scaleplan-plot-XXXXXX";
    if (!mkdtemp(dir)) {
        snprintf(err, errn, "--plot: cannot create a temporary directory");
        return 2;
    }
    char script[64], data[64];
    snprintf(script, sizeof script, "%s/plot.gp", dir);
    snprintf(data, sizeof data, "%s/data.txt", dir);
    FILE *d = fopen(data, "w"), *s = fopen(script, "w");
    if (!d || !s) {
        if (d)
            fclose(d);
        if (s)
            fclose(s);
        snprintf(err, errn, "--plot: cannot write temporary files");
        return 2;
    }
    /* data: one gnuplot index block per series */
    int block = 0;
    for (int c = 0; c < n; c++)
        for (int k = 0; k < charts[c].nseries; k++) {
            const plot_series *ps = &charts[c].series[k];
            int any = 0;
            for (int i = 0; i < ps->n; i++)
                if (isfinite(ps->x[i]) && isfinite(ps->y[i]) && (!charts[c].logx || ps->x[i] > 0) &&
                    (!charts[c].logy || ps->y[i] > 0)) {
                    fprintf(d, "%.10g %.10g\n", ps->x[i], ps->y[i]);
                    any = 1;
                }
            if (!any)
                fprintf(d, "NaN NaN\n");
            fprintf(d, "\n\n");
            block++;
        }
    fclose(d);
    int w = 640 * n;
    if (svg)
        fprintf(s, "set terminal svg size %d,480 dynamic enhanced font 'sans,11' background rgb 'white'\n", w);
    else
        fprintf(s, "set terminal pngcairo size %d,480 enhanced font 'sans,10'\n", w);
    fprintf(s, "set output ");
    quote(s, path);
    fprintf(s, "\nset datafile missing 'NaN'\nset grid\nset key top right box opaque\n");
    if (n > 1)
        fprintf(s, "set multiplot layout 1,%d\n", n);
    block = 0;
    for (int c = 0; c < n; c++) {
        const plot_chart *ch = &charts[c];
        fprintf(s, "unset arrow\nunset label\nset title ");
        quote(s, ch->title ? ch->title : "");
        fprintf(s, "\nset xlabel ");
        quote(s, ch->xlabel ? ch->xlabel : "");
        fprintf(s, "\nset ylabel ");
        quote(s, ch->ylabel ? ch->ylabel : "");
        fprintf(s, "\n%s logscale x\n%s logscale y\n", ch->logx ? "set" : "unset", ch->logy ? "set" : "unset");
        fprintf(s, "set format x %s\nset format y %s\n", ch->logx ? "'10^{%L}'" : "'%g'", ch->logy ? "'10^{%L}'" : "'%g'");
        for (int i = 0; i < ch->nh; i++) {
            fprintf(s, "set arrow from graph 0, first %.10g to graph 1, first %.10g nohead dt 2 lc rgb 'gray40'\n",
                    ch->hline[i].value, ch->hline[i].value);
            fprintf(s, "set label ");
            quote(s, ch->hline[i].label ? ch->hline[i].label : "");
            fprintf(s, " at graph 0.02, first %.10g offset 0,0.6 tc rgb 'gray30'\n", ch->hline[i].value);
        }
        for (int i = 0; i < ch->nv; i++) {
            fprintf(s, "set arrow from first %.10g, graph 0 to first %.10g, graph 1 nohead dt 3 lc rgb 'red'\n",
                    ch->vline[i].value, ch->vline[i].value);
            fprintf(s, "set label ");
            quote(s, ch->vline[i].label ? ch->vline[i].label : "");
            fprintf(s, " at first %.10g, graph 0.95 rotate by 90 right offset -0.8,0 tc rgb 'red'\n", ch->vline[i].value);
        }
        fprintf(s, "plot ");
        for (int k = 0; k < ch->nseries; k++) {
            const plot_series *ps = &ch->series[k];
            fprintf(s, "%s'%s' index %d using 1:2 with %s lw 2 title ", k ? ", " : "", data, block++,
                    ps->style == 1 ? "points pt 7 ps 0.6" : ps->style == 2 ? "linespoints pt 7 ps 0.5" : "lines");
            quote(s, ps->title ? ps->title : "");
        }
        if (!ch->nseries)
            fprintf(s, "NaN notitle");
        fprintf(s, "\n");
    }
    if (n > 1)
        fprintf(s, "unset multiplot\n");
    fclose(s);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "gnuplot %s 2>%s/err.txt", script, dir);
    int rc = system(cmd);
    char errfile[80];
    snprintf(errfile, sizeof errfile, "%s/err.txt", dir);
    if (rc != 0) {
        FILE *e = fopen(errfile, "r");
        char line[200] = "";
        if (e) {
            if (!fgets(line, sizeof line, e))
                line[0] = 0;
            fclose(e);
        }
        line[strcspn(line, "\n")] = 0;
        if (WIFEXITED(rc) && WEXITSTATUS(rc) == 127)
            snprintf(err, errn, "--plot: gnuplot is not installed (make deps installs gnuplot-nox)");
        else if (line[0])
            snprintf(err, errn, "--plot %s: gnuplot failed: %s", path, line);
        else
            snprintf(err, errn, "--plot %s: gnuplot failed (exit status %d) without a message", path,
                     WIFEXITED(rc) ? WEXITSTATUS(rc) : -1);
    }
    unlink(errfile);
    unlink(data);
    unlink(script);
    rmdir(dir);
    return rc != 0 ? 2 : 0;
}
