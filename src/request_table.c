/* A table given inline in a request (sp_req_table, call.h): Python's list of dicts, the web app's rows, becomes
 * the same sp_csv a file gives, so `validate` and `fit` read inline rows with the code that reads their CSV files
 * and word its errors the same way ("rows:3: column 'tp': 'x' is not an integer"). */
#include "call.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The columns: every key of every row, in the order first seen (a JSON object used as an ordered set). */
static sp_status table_columns(const char *opt, json_t *rows, json_t *cols, sp_error *err)
{
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        if (!json_is_object(row))
            return sp_fail(err, SP_EINVAL, "%s:%zu: expected an object of column: value", opt, i + 1);
        const char *key;
        json_t *v;
        json_object_foreach(row, key, v) {
            if (!json_object_get(cols, key) && json_object_set_new(cols, key, json_null()))
                return sp_fail(err, SP_ENOMEM, "%s: out of memory", opt);
        }
    }
    return SP_OK;
}

/* One cell's text: a string as it is, a number as the CSV would write it, a boolean 1/0, null or absent "". buf
 * holds a number's text (32 bytes suffice for %.17g). */
static sp_status cell_text(const char *opt, size_t row, const char *col, const json_t *v, char *buf, size_t n,
                           const char **out, sp_error *err)
{
    *out = "";
    if (!v || json_is_null(v))
        return SP_OK;
    if (json_is_string(v))
        *out = json_string_value(v);
    else if (json_is_integer(v))
        snprintf(buf, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v)), *out = buf;
    else if (json_is_real(v))
        snprintf(buf, n, "%.17g", json_real_value(v)), *out = buf;
    else if (json_is_boolean(v))
        *out = json_is_true(v) ? "1" : "0";
    else
        return sp_fail(err, SP_EINVAL, "%s:%zu: column '%s': expected a string, a number, a boolean or null", opt,
                       row + 1, col);
    return SP_OK;
}

#define NUM_TEXT 32

static sp_status table_cells(const char *opt, json_t *rows, json_t *cols, const char **cells, char *nums,
                             int *lines, sp_error *err)
{
    size_t ncols = json_object_size(cols), j = 0, i;
    const char *key;
    json_t *v, *row;
    json_object_foreach(cols, key, v)
        cells[j++] = key;
    json_array_foreach(rows, i, row) {
        lines[i] = (int)(i + 1);
        j = 0;
        json_object_foreach(cols, key, v) {
            size_t at = (i + 1) * ncols + j++;
            sp_status st = cell_text(opt, i, key, json_object_get(row, key), nums + at * NUM_TEXT, NUM_TEXT, &cells[at], err);
            if (st)
                return st;
        }
    }
    return SP_OK;
}

sp_status sp_req_table(sp_request *rq, const char *opt, sp_csv **out, sp_error *err)
{
    *out = NULL;
    if (!sp_req_has(rq, opt))
        return SP_OK;
    json_t *rows = json_object_get(rq->obj, opt);
    if (!json_is_array(rows))
        return sp_fail(err, SP_EINVAL, "--%s: expected a list of rows (objects of column: value)", opt);
    size_t nr = json_array_size(rows);
    if (nr == 0 || nr > (1u << 24))
        return sp_fail(err, SP_EINVAL, "--%s: %zu rows; allowed 1..%u", opt, nr, 1u << 24);
    json_t *cols = json_object();
    sp_status st = cols ? table_columns(opt, rows, cols, err) : sp_fail(err, SP_ENOMEM, "%s: out of memory", opt);
    if (st) {
        json_decref(cols);
        return st;
    }
    size_t ncols = json_object_size(cols), ncell = (nr + 1) * ncols;
    if (ncols == 0) {
        json_decref(cols);
        return sp_fail(err, SP_EINVAL, "--%s: the rows have no columns", opt);
    }
    const char **cells = malloc((ncell + 1) * sizeof *cells);
    char *nums = malloc((ncell + 1) * NUM_TEXT);
    int *lines = malloc(nr * sizeof *lines);
    if (!cells || !nums || !lines)
        st = sp_fail(err, SP_ENOMEM, "%s: out of memory", opt);
    if (st == SP_OK && !(st = table_cells(opt, rows, cols, cells, nums, lines, err)))
        st = sp_csv_from_cells(opt, (int)ncols, (int)nr, cells, lines, out, err);
    free(cells);
    free(nums);
    free(lines);
    json_decref(cols);
    return st;
}
