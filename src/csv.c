/* A small, strict CSV reader (RFC 4180 quoting, header row required). Errors name file:line:column. */
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct sp_csv {
    char *path;     /* name used in messages */
    int ncols, nrows;
    char **header;  /* ncols */
    char **cells;   /* nrows * ncols */
    int *lines;     /* nrows */
    char *store;    /* all cell text */
};

static void csv_free_parts(sp_csv *c)
{
    if (!c)
        return;
    free(c->header);
    free(c->cells);
    free(c->lines);
    free(c->store);
    free(c->path);
    free(c);
}

void sp_csv_free(sp_csv *c) { csv_free_parts(c); }

/* Reads the whole file; refuses directories and files over 256 MiB. */
static sp_status slurp(const char *path, char **buf, size_t *len, sp_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return sp_fail(err, SP_EIO, "%s: cannot open: %s; expected a readable CSV file", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return sp_fail(err, SP_EIO, "%s: is a directory, expected a CSV file", path);
    if (st.st_size > 256L * 1024 * 1024)
        return sp_fail(err, SP_EIO, "%s: file too large (%lld bytes, limit 256 MiB)", path,
                       (long long)st.st_size);
    FILE *f = fopen(path, "rb");
    if (!f)
        return sp_fail(err, SP_EIO, "%s: cannot open: %s; expected a readable CSV file", path, strerror(errno));
    size_t cap = (size_t)st.st_size + 2;
    char *b = malloc(cap);
    if (!b) {
        fclose(f);
        return sp_fail(err, SP_ENOMEM, "%s: out of memory", path);
    }
    size_t n = fread(b, 1, cap - 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(b);
        return sp_fail(err, SP_EIO, "%s: read error", path);
    }
    b[n] = 0;
    *buf = b;
    *len = n;
    return SP_OK;
}

/* A line ends at LF, at CR LF (once), or at a bare CR (old spreadsheet exports). */
static int ends_line(const char *s, size_t p, size_t len)
{
    return s[p] == '\n' || (s[p] == '\r' && (p + 1 >= len || s[p + 1] != '\n'));
}

sp_status sp_csv_read(const char *path, sp_csv **out, sp_error *err)
{
    *out = NULL;
    char *src = NULL;
    size_t len = 0;
    sp_status st = slurp(path, &src, &len, err);
    if (st)
        return st;
    st = sp_csv_parse(path, src, len, out, err);
    free(src);
    return st;
}

sp_status sp_csv_parse(const char *path, const char *src, size_t len, sp_csv **out, sp_error *err)
{
    *out = NULL;
    if (memchr(src, 0, len))
        return sp_fail(err, SP_EPARSE, "%s: binary data (NUL byte); expected a text CSV file", path);
    sp_csv *c = calloc(1, sizeof *c);
    if (!c)
        return sp_fail(err, SP_ENOMEM, "%s: out of memory", path);
    c->path = strdup(path);
    /* Cell text is never longer than the source, so one buffer of len+1 per cell terminator suffices. */
    size_t maxcells = 1;
    for (size_t i = 0; i < len; i++)
        if (src[i] == ',' || src[i] == '\n' || src[i] == '\r') /* a bare CR also ends a row */
            maxcells++;
    c->store = malloc(len + maxcells + 1);
    char **cells = malloc(maxcells * sizeof *cells);
    int *celline = malloc(maxcells * sizeof *celline);
    int *rowlen = malloc((maxcells + 1) * sizeof *rowlen);
    if (!c->path || !c->store || !cells || !celline || !rowlen) {
        free(cells);
        free(celline);
        free(rowlen);
        csv_free_parts(c);
        return sp_fail(err, SP_ENOMEM, "%s: out of memory", path);
    }
    size_t p = 0, w = 0, ncell = 0;
    int line = 1, nrow = 0, rowstart_cell = 0;
    if (len >= 3 && (unsigned char)src[0] == 0xEF && (unsigned char)src[1] == 0xBB &&
        (unsigned char)src[2] == 0xBF)
        p = 3; /* UTF-8 byte-order mark from spreadsheet exports */
    int *rowline = malloc((maxcells + 1) * sizeof *rowline);
    if (!rowline) {
        free(cells); free(celline); free(rowlen); csv_free_parts(c);
        return sp_fail(err, SP_ENOMEM, "%s: out of memory", path);
    }
    while (p < len) {
        /* skip blank lines between rows */
        if (ncell == (size_t)rowstart_cell && (src[p] == '\n' || src[p] == '\r')) {
            line += ends_line(src, p, len);
            p++;
            continue;
        }
        int rline = line;
        for (;;) { /* one cell */
            cells[ncell] = c->store + w;
            celline[ncell] = line;
            ncell++;
            if (p < len && src[p] == '"') {
                p++;
                for (;;) {
                    if (p >= len) {
                        free(cells); free(celline); free(rowlen); free(rowline); csv_free_parts(c);
                        return sp_fail(err, SP_EPARSE, "%s:%d: unterminated quoted field", path, rline);
                    }
                    if (src[p] == '"') {
                        if (p + 1 < len && src[p + 1] == '"') {
                            c->store[w++] = '"';
                            p += 2;
                            continue;
                        }
                        p++;
                        break;
                    }
                    line += ends_line(src, p, len);
                    c->store[w++] = src[p++];
                }
                if (p < len && src[p] != ',' && src[p] != '\n' && src[p] != '\r') {
                    free(cells); free(celline); free(rowlen); free(rowline); csv_free_parts(c);
                    return sp_fail(err, SP_EPARSE, "%s:%d: text after closing quote", path, line);
                }
            } else {
                while (p < len && src[p] != ',' && src[p] != '\n' && src[p] != '\r')
                    c->store[w++] = src[p++];
            }
            c->store[w++] = 0;
            if (p < len && src[p] == ',') {
                p++;
                continue;
            }
            if (p < len && src[p] == '\r')
                line += ends_line(src, p++, len);
            if (p < len && src[p] == '\n') {
                p++;
                line++;
            }
            break;
        }
        rowlen[nrow] = (int)ncell - rowstart_cell;
        rowline[nrow] = rline;
        nrow++;
        rowstart_cell = (int)ncell;
    }
    if (nrow == 0) {
        free(cells); free(celline); free(rowlen); free(rowline); csv_free_parts(c);
        return sp_fail(err, SP_EPARSE, "%s: empty file; expected a header row and data rows", path);
    }
    c->ncols = rowlen[0];
    for (int r = 1; r < nrow; r++) {
        if (rowlen[r] != c->ncols) {
            int l = rowline[r], got = rowlen[r], want = c->ncols;
            free(cells); free(celline); free(rowlen); free(rowline); csv_free_parts(c);
            return sp_fail(err, SP_EPARSE, "%s:%d: row has %d fields, header has %d", path, l, got, want);
        }
    }
    c->nrows = nrow - 1;
    c->header = malloc((size_t)c->ncols * sizeof(char *));
    c->cells = malloc(((size_t)c->nrows * c->ncols + 1) * sizeof(char *));
    c->lines = malloc(((size_t)c->nrows + 1) * sizeof(int));
    if (!c->header || !c->cells || !c->lines) {
        free(cells); free(celline); free(rowlen); free(rowline); csv_free_parts(c);
        return sp_fail(err, SP_ENOMEM, "%s: out of memory", path);
    }
    for (int j = 0; j < c->ncols; j++) {
        /* trim header names */
        char *h = cells[j];
        while (*h == ' ')
            h++;
        size_t hl = strlen(h);
        while (hl && h[hl - 1] == ' ')
            h[--hl] = 0;
        c->header[j] = h;
        for (int k = 0; k < j; k++)
            if (strcmp(c->header[k], h) == 0 && *h) {
                free(cells); free(celline); free(rowlen); free(rowline);
                sp_status s2 = sp_fail(err, SP_EPARSE, "%s:1: duplicate column '%s'", path, h);
                csv_free_parts(c);
                return s2;
            }
    }
    for (int r = 0; r < c->nrows; r++) {
        c->lines[r] = rowline[r + 1];
        for (int j = 0; j < c->ncols; j++)
            c->cells[(size_t)r * c->ncols + j] = cells[(size_t)(r + 1) * c->ncols + j];
    }
    free(cells);
    free(celline);
    free(rowlen);
    free(rowline);
    *out = c;
    return SP_OK;
}

int sp_csv_rows(const sp_csv *c) { return c->nrows; }
const char *sp_csv_path(const sp_csv *c) { return c->path; }
int sp_csv_line(const sp_csv *c, int row) { return c->lines[row]; }

sp_status sp_csv_require(const sp_csv *c, const char *const *cols, sp_error *err)
{
    for (int i = 0; cols[i]; i++)
        if (sp_csv_col(c, cols[i]) < 0)
            return sp_fail(err, SP_EINVAL, "%s:1: missing required column '%s'", sp_csv_path(c), cols[i]);
    return SP_OK;
}

int sp_csv_col(const sp_csv *c, const char *name)
{
    for (int j = 0; j < c->ncols; j++)
        if (strcmp(c->header[j], name) == 0)
            return j;
    return -1;
}

const char *sp_csv_get(const sp_csv *c, int row, int col)
{
    if (col < 0 || row < 0 || row >= c->nrows)
        return "";
    return c->cells[(size_t)row * c->ncols + col];
}

static const char *trimmed(const char *s, char *buf, size_t n)
{
    while (*s == ' ' || *s == '\t')
        s++;
    snprintf(buf, n, "%s", s);
    size_t l = strlen(buf);
    while (l && (buf[l - 1] == ' ' || buf[l - 1] == '\t'))
        buf[--l] = 0;
    return buf;
}

sp_status sp_csv_double(const sp_csv *c, int row, const char *col, double dflt, double min, double max,
                        double *out, sp_error *err)
{
    int j = sp_csv_col(c, col);
    char buf[128];
    const char *s = trimmed(sp_csv_get(c, row, j), buf, sizeof buf);
    if (!*s) {
        *out = dflt;
        return SP_OK;
    }
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v) || errno == ERANGE)
        return sp_fail(err, SP_EINVAL, "%s:%d: column '%s': '%s' is not a finite number", c->path,
                       c->lines[row], col, s);
    if (v < min || v > max)
        return sp_fail(err, SP_EINVAL, "%s:%d: column '%s': %g is out of range [%g, %g]", c->path,
                       c->lines[row], col, v, min, max);
    *out = v;
    return SP_OK;
}

sp_status sp_csv_int(const sp_csv *c, int row, const char *col, int dflt, int min, int max, int *out,
                     sp_error *err)
{
    int j = sp_csv_col(c, col);
    char buf[128];
    const char *s = trimmed(sp_csv_get(c, row, j), buf, sizeof buf);
    if (!*s) {
        *out = dflt;
        return SP_OK;
    }
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno == ERANGE)
        return sp_fail(err, SP_EINVAL, "%s:%d: column '%s': '%s' is not an integer", c->path, c->lines[row],
                       col, s);
    if (v < min || v > max)
        return sp_fail(err, SP_EINVAL, "%s:%d: column '%s': %ld is out of range [%d, %d]", c->path,
                       c->lines[row], col, v, min, max);
    *out = (int)v;
    return SP_OK;
}
