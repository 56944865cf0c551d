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

/* The parser's state: the text, where it is, and every cell and row found so far (cells point into c->store). */
typedef struct {
    const char *path, *src;
    size_t len, p, w, ncell;
    int line, nrow;
    sp_csv *c;
    char **cells;
    int *rowlen, *rowline; /* per row: its cell count and the line it starts on */
} csv_parser;

static void parser_free(csv_parser *ps)
{
    free(ps->cells);
    free(ps->rowlen);
    free(ps->rowline);
    csv_free_parts(ps->c);
    ps->c = NULL;
}

/* The buffers: cell text is never longer than the source, so one buffer of len + one terminator per cell
 * suffices; a cell ends at ',' or at a line end (a bare CR too). */
static sp_status parser_init(csv_parser *ps, const char *path, const char *src, size_t len, sp_error *err)
{
    memset(ps, 0, sizeof *ps);
    ps->path = path;
    ps->src = src;
    ps->len = len;
    ps->line = 1;
    size_t maxcells = 1;
    for (size_t i = 0; i < len; i++)
        if (src[i] == ',' || src[i] == '\n' || src[i] == '\r')
            maxcells++;
    ps->c = calloc(1, sizeof *ps->c);
    if (ps->c) {
        ps->c->path = strdup(path);
        ps->c->store = malloc(len + maxcells + 1);
    }
    ps->cells = malloc(maxcells * sizeof *ps->cells);
    ps->rowlen = malloc((maxcells + 1) * sizeof *ps->rowlen);
    ps->rowline = malloc((maxcells + 1) * sizeof *ps->rowline);
    if (!ps->c || !ps->c->path || !ps->c->store || !ps->cells || !ps->rowlen || !ps->rowline) {
        parser_free(ps);
        return sp_fail(err, SP_ENOMEM, "%s: out of memory", path);
    }
    if (len >= 3 && (unsigned char)src[0] == 0xEF && (unsigned char)src[1] == 0xBB && (unsigned char)src[2] == 0xBF)
        ps->p = 3; /* UTF-8 byte-order mark from spreadsheet exports */
    return SP_OK;
}

/* A quoted cell's text ("" is a quote; line ends inside count); the cell must end right after its closing quote. */
static sp_status quoted_cell(csv_parser *ps, int rline, sp_error *err)
{
    const char *s = ps->src;
    char *store = ps->c->store;
    ps->p++;
    for (;;) {
        if (ps->p >= ps->len)
            return sp_fail(err, SP_EPARSE, "%s:%d: unterminated quoted field", ps->path, rline);
        if (s[ps->p] == '"') {
            if (ps->p + 1 < ps->len && s[ps->p + 1] == '"') {
                store[ps->w++] = '"';
                ps->p += 2;
                continue;
            }
            ps->p++;
            break;
        }
        ps->line += ends_line(s, ps->p, ps->len);
        store[ps->w++] = s[ps->p++];
    }
    if (ps->p < ps->len && s[ps->p] != ',' && s[ps->p] != '\n' && s[ps->p] != '\r')
        return sp_fail(err, SP_EPARSE, "%s:%d: text after closing quote", ps->path, ps->line);
    return SP_OK;
}

/* One row starting at ps->p: its cells, then past its line end. */
static sp_status parse_row(csv_parser *ps, sp_error *err)
{
    const char *s = ps->src;
    int rline = ps->line;
    size_t first = ps->ncell;
    for (;;) {
        ps->cells[ps->ncell++] = ps->c->store + ps->w;
        if (ps->p < ps->len && s[ps->p] == '"') {
            sp_status st = quoted_cell(ps, rline, err);
            if (st)
                return st;
        } else {
            while (ps->p < ps->len && s[ps->p] != ',' && s[ps->p] != '\n' && s[ps->p] != '\r')
                ps->c->store[ps->w++] = s[ps->p++];
        }
        ps->c->store[ps->w++] = 0;
        if (ps->p < ps->len && s[ps->p] == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->len && s[ps->p] == '\r')
            ps->line += ends_line(s, ps->p++, ps->len);
        if (ps->p < ps->len && s[ps->p] == '\n') {
            ps->p++;
            ps->line++;
        }
        break;
    }
    ps->rowlen[ps->nrow] = (int)(ps->ncell - first);
    ps->rowline[ps->nrow++] = rline;
    return SP_OK;
}

/* Every row, blank lines between rows skipped. */
static sp_status parse_rows(csv_parser *ps, sp_error *err)
{
    while (ps->p < ps->len) {
        if (ps->src[ps->p] == '\n' || ps->src[ps->p] == '\r') {
            ps->line += ends_line(ps->src, ps->p, ps->len);
            ps->p++;
            continue;
        }
        sp_status st = parse_row(ps, err);
        if (st)
            return st;
    }
    if (ps->nrow == 0)
        return sp_fail(err, SP_EPARSE, "%s: empty file; expected a header row and data rows", ps->path);
    for (int r = 1; r < ps->nrow; r++)
        if (ps->rowlen[r] != ps->rowlen[0])
            return sp_fail(err, SP_EPARSE, "%s:%d: row has %d fields, header has %d", ps->path, ps->rowline[r],
                           ps->rowlen[r], ps->rowlen[0]);
    return SP_OK;
}

/* The header (names trimmed of spaces, no name twice) and the data rows into c. cells: ncols header cells, then
 * the data rows' cells; lines: each data row's line. */
static sp_status csv_fill(sp_csv *c, char **cells, const int *lines, sp_error *err)
{
    c->header = malloc((size_t)c->ncols * sizeof(char *));
    c->cells = malloc(((size_t)c->nrows * c->ncols + 1) * sizeof(char *));
    c->lines = malloc(((size_t)c->nrows + 1) * sizeof(int));
    if (!c->header || !c->cells || !c->lines)
        return sp_fail(err, SP_ENOMEM, "%s: out of memory", c->path);
    for (int j = 0; j < c->ncols; j++) {
        char *h = cells[j];
        while (*h == ' ')
            h++;
        size_t hl = strlen(h);
        while (hl && h[hl - 1] == ' ')
            h[--hl] = 0;
        c->header[j] = h;
        for (int k = 0; k < j; k++)
            if (strcmp(c->header[k], h) == 0 && *h)
                return sp_fail(err, SP_EPARSE, "%s:1: duplicate column '%s'", c->path, h);
    }
    for (int r = 0; r < c->nrows; r++) {
        c->lines[r] = lines[r];
        for (int j = 0; j < c->ncols; j++)
            c->cells[(size_t)r * c->ncols + j] = cells[(size_t)(r + 1) * c->ncols + j];
    }
    return SP_OK;
}

sp_status sp_csv_parse(const char *path, const char *src, size_t len, sp_csv **out, sp_error *err)
{
    *out = NULL;
    if (memchr(src, 0, len))
        return sp_fail(err, SP_EPARSE, "%s: binary data (NUL byte); expected a text CSV file", path);
    csv_parser ps;
    sp_status st = parser_init(&ps, path, src, len, err);
    if (st)
        return st;
    if (!(st = parse_rows(&ps, err))) {
        ps.c->ncols = ps.rowlen[0];
        ps.c->nrows = ps.nrow - 1;
        st = csv_fill(ps.c, ps.cells, ps.rowline + 1, err);
    }
    if (st == SP_OK) {
        *out = ps.c;
        ps.c = NULL;
    }
    parser_free(&ps);
    return st;
}

sp_status sp_csv_from_cells(const char *name, int ncols, int nrows, const char *const *cells, const int *lines,
                            sp_csv **out, sp_error *err)
{
    *out = NULL;
    size_t ncell = (size_t)(nrows + 1) * (size_t)ncols, len = 0;
    for (size_t i = 0; i < ncell; i++)
        len += strlen(cells[i]) + 1;
    sp_csv *c = calloc(1, sizeof *c);
    char **mine = malloc((ncell + 1) * sizeof *mine);
    if (c) {
        c->path = strdup(name);
        c->store = malloc(len + 1);
    }
    sp_status st = SP_OK;
    if (!c || !c->path || !c->store || !mine)
        st = sp_fail(err, SP_ENOMEM, "%s: out of memory", name);
    for (size_t i = 0, w = 0; st == SP_OK && i < ncell; i++) {
        size_t l = strlen(cells[i]) + 1;
        mine[i] = memcpy(c->store + w, cells[i], l);
        w += l;
    }
    if (st == SP_OK) {
        c->ncols = ncols;
        c->nrows = nrows;
        st = csv_fill(c, mine, lines, err);
    }
    free(mine);
    if (st)
        csv_free_parts(c);
    else
        *out = c;
    return st;
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

/* The cell of column `col` in `row`, without leading and trailing blanks, copied into buf ("" when empty or
 * absent). */
static const char *trimmed_cell(const sp_csv *c, int row, const char *col, char *buf, size_t n)
{
    const char *s = sp_csv_get(c, row, sp_csv_col(c, col));
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
    char buf[128], *end;
    const char *s = trimmed_cell(c, row, col, buf, sizeof buf);
    if (!*s) {
        *out = dflt;
        return SP_OK;
    }
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
    char buf[128], *end;
    const char *s = trimmed_cell(c, row, col, buf, sizeof buf);
    if (!*s) {
        *out = dflt;
        return SP_OK;
    }
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
