/* Status codes and the error buffer every fallible call fills. */
#include "scaleplan.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Copies src into dst (n bytes) with control characters written as \n, \r, \t or \xHH: a message quotes user
 * text (a quoted CSV cell, a JSON string, an argument) that may hold a line break, and must stay one line. */
void sp_one_line(char *dst, size_t n, const char *src)
{
    static const char hex[] = "0123456789abcdef";
    size_t w = 0;
    for (const unsigned char *p = (const unsigned char *)src; *p && w + 1 < n; p++) {
        char e[5];
        size_t k = 0;
        if (*p == '\n' || *p == '\r' || *p == '\t') {
            e[k++] = '\\';
            e[k++] = *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't';
        } else if (*p < 0x20 || *p == 0x7f) {
            e[k++] = '\\';
            e[k++] = 'x';
            e[k++] = hex[*p >> 4];
            e[k++] = hex[*p & 15];
        } else
            e[k++] = (char)*p;
        if (w + k + 1 > n)
            break;
        memcpy(dst + w, e, k);
        w += k;
    }
    if (n)
        dst[w] = 0;
}

sp_status sp_fail(sp_error *err, sp_status status, const char *fmt, ...)
{
    if (err) {
        /* formatted apart first: an argument may be err->msg itself (a message wrapping an earlier one) */
        char tmp[sizeof err->msg];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(tmp, sizeof tmp, fmt, ap);
        va_end(ap);
        sp_one_line(err->msg, sizeof err->msg, tmp);
        err->status = status;
    }
    return status;
}

const char *sp_status_name(sp_status s)
{
    switch (s) {
    case SP_OK: return "ok";
    case SP_EINVAL: return "invalid input";
    case SP_EIO: return "i/o error";
    case SP_EPARSE: return "parse error";
    case SP_ENOMEM: return "out of memory";
    case SP_EINFEASIBLE: return "infeasible";
    case SP_ENOCONV: return "did not converge";
    }
    return "unknown";
}
