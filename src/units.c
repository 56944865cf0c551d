/* Human quantities in and out: "3.5T", "80GiB", "400Gb/s", "90d", "3mo", "2.5e3 PF-days". */
#include "scaleplan.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    const char *suffix;
    double mult;
} sp_suffix;

/* Decimal multipliers for plain counts (70B params, 3.5T tokens) and binary ones (4Mi tokens). */
static const sp_suffix plain_sfx[] = {
    {"", 1}, {"k", 1e3}, {"K", 1e3}, {"M", 1e6}, {"B", 1e9}, {"G", 1e9}, {"T", 1e12}, {"P", 1e15},
    {"E", 1e18}, {"Ki", 1024.0}, {"Mi", 1048576.0}, {"Gi", 1073741824.0}, {"Ti", 1099511627776.0},
    {NULL, 0}};

static const sp_suffix bytes_sfx[] = {
    {"", 1}, {"B", 1}, {"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"PB", 1e15},
    {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"TiB", 1099511627776.0},
    {"k", 1e3}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {NULL, 0}};

/* Bandwidth: bytes/s; "b/s" suffixes are bits. */
static const sp_suffix bw_sfx[] = {
    {"", 1}, {"B/s", 1}, {"kB/s", 1e3}, {"MB/s", 1e6}, {"GB/s", 1e9}, {"TB/s", 1e12},
    {"GiB/s", 1073741824.0}, {"TiB/s", 1099511627776.0},
    {"b/s", 0.125}, {"kb/s", 125.0}, {"Mb/s", 125e3}, {"Gb/s", 125e6}, {"Tb/s", 125e9},
    {"Kbps", 125.0}, {"Mbps", 125e3}, {"Gbps", 125e6}, {"Tbps", 125e9}, {"GBps", 1e9}, {"TBps", 1e12},
    {NULL, 0}};

/* Time: seconds. A month is 1/12 of a Julian year (2.628e6 s) and a year 365.25 d. */
static const sp_suffix time_sfx[] = {
    {"", 1}, {"s", 1}, {"sec", 1}, {"ns", 1e-9}, {"us", 1e-6}, {"ms", 1e-3}, {"min", 60}, {"m", 60},
    {"h", 3600}, {"hr", 3600}, {"d", 86400}, {"day", 86400}, {"days", 86400}, {"w", 604800},
    {"wk", 604800}, {"mo", 2629800}, {"month", 2629800}, {"months", 2629800}, {"y", 31557600},
    {"yr", 31557600}, {"year", 31557600}, {"years", 31557600}, {NULL, 0}};

/* FLOP: 1 PF-day = 1e15 FLOP/s x 86400 s = 8.64e19 FLOP. */
static const sp_suffix flop_sfx[] = {
    {"", 1}, {"FLOP", 1}, {"flop", 1}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"P", 1e15},
    {"E", 1e18}, {"Z", 1e21}, {"Y", 1e24}, {"GFLOP", 1e9}, {"TFLOP", 1e12}, {"PFLOP", 1e15},
    {"EFLOP", 1e18}, {"ZFLOP", 1e21}, {"YFLOP", 1e24}, {"PF-days", 8.64e19}, {"PF-day", 8.64e19},
    {"pf-days", 8.64e19}, {"PFdays", 8.64e19}, {"PF-s", 1e15}, {NULL, 0}};

static const sp_suffix flops_sfx[] = {
    {"", 1}, {"FLOPS", 1}, {"FLOP/s", 1}, {"GFLOPS", 1e9}, {"TFLOPS", 1e12}, {"PFLOPS", 1e15},
    {"EFLOPS", 1e18}, {"GFLOP/s", 1e9}, {"TFLOP/s", 1e12}, {"PFLOP/s", 1e15}, {"T", 1e12}, {"P", 1e15},
    {"G", 1e9}, {NULL, 0}};

static const sp_suffix *table_for(sp_unit u)
{
    switch (u) {
    case SP_UNIT_BYTES: return bytes_sfx;
    case SP_UNIT_BW: return bw_sfx;
    case SP_UNIT_TIME: return time_sfx;
    case SP_UNIT_FLOP: return flop_sfx;
    case SP_UNIT_FLOPS: return flops_sfx;
    case SP_UNIT_NONE: break;
    }
    return plain_sfx;
}

static const char *unit_help(sp_unit u)
{
    switch (u) {
    case SP_UNIT_BYTES: return "a size such as 80GiB, 40GB or 1.5e9";
    case SP_UNIT_BW: return "a bandwidth such as 900GB/s, 400Gb/s or 3.35TB/s";
    case SP_UNIT_TIME: return "a duration such as 90d, 3mo, 12h, 4.5us or 7.9e6 (seconds)";
    case SP_UNIT_FLOP: return "a FLOP count such as 1e25, 3ZFLOP or 2.5e3 PF-days";
    case SP_UNIT_FLOPS: return "a rate such as 989TFLOPS or 9.89e14";
    case SP_UNIT_NONE: break;
    }
    return "a number such as 70e9, 70B, 3.5T or 4Mi";
}

sp_status sp_parse_quantity(const char *text, sp_unit unit, const char *what, double *out, sp_error *err)
{
    if (!text || !*text)
        return sp_fail(err, SP_EINVAL, "%s: empty value; expected %s", what, unit_help(unit));
    const char *p = text;
    while (isspace((unsigned char)*p))
        p++;
    errno = 0;
    char *end = NULL;
    double v = strtod(p, &end);
    if (end == p)
        return sp_fail(err, SP_EINVAL, "%s: '%s' is not a number; expected %s", what, text, unit_help(unit));
    /* strtod accepts "nan"/"inf": refuse them, and hex floats for clarity. */
    if (!isfinite(v) || errno == ERANGE)
        return sp_fail(err, SP_EINVAL, "%s: '%s' is not a finite number; expected %s", what, text,
                       unit_help(unit));
    for (const char *q = p; q < end; q++)
        if (*q == 'x' || *q == 'X' || *q == 'n' || *q == 'N' || *q == 'i' || *q == 'I')
            return sp_fail(err, SP_EINVAL, "%s: '%s' is not a plain decimal number", what, text);
    while (isspace((unsigned char)*end))
        end++;
    size_t len = strlen(end);
    while (len && isspace((unsigned char)end[len - 1]))
        len--;
    const sp_suffix *t = table_for(unit);
    for (int i = 0; t[i].suffix; i++) {
        if (strlen(t[i].suffix) == len && strncmp(t[i].suffix, end, len) == 0) {
            double r = v * t[i].mult;
            if (!isfinite(r))
                return sp_fail(err, SP_EINVAL, "%s: '%s' overflows", what, text);
            *out = r;
            return SP_OK;
        }
    }
    /* Case-insensitive second chance for words (days, months) but not for prefixes where case matters: a
     * spelling that matches two suffixes with different values (gb/s: GB/s or Gb/s) is refused. */
    if (len > 2) {
        int hit = -1;
        for (int i = 0; t[i].suffix; i++)
            if (strlen(t[i].suffix) == len && strncasecmp(t[i].suffix, end, len) == 0) {
                if (hit >= 0 && t[hit].mult != t[i].mult)
                    return sp_fail(err, SP_EINVAL, "%s: unit '%.*s' in '%s' is ambiguous (%s or %s); write it with exact case",
                                   what, (int)len, end, text, t[hit].suffix, t[i].suffix);
                if (hit < 0)
                    hit = i;
            }
        if (hit >= 0) {
            double r = v * t[hit].mult;
            if (!isfinite(r))
                return sp_fail(err, SP_EINVAL, "%s: '%s' overflows", what, text);
            *out = r;
            return SP_OK;
        }
    }
    return sp_fail(err, SP_EINVAL, "%s: unknown unit '%.*s' in '%s'; expected %s", what, (int)len, end, text,
                   unit_help(unit));
}

const char *sp_fmt_quantity(char *buf, size_t n, double v, sp_unit unit)
{
    if (!isfinite(v)) {
        snprintf(buf, n, "n/a");
        return buf;
    }
    double a = fabs(v), v0 = v;
    switch (unit) {
    case SP_UNIT_TIME:
        if (a < 1e-3)
            snprintf(buf, n, "%.3g us", v * 1e6);
        else if (a < 1)
            snprintf(buf, n, "%.3g ms", v * 1e3);
        else if (a < 120)
            snprintf(buf, n, "%.3g s", v);
        else if (a < 7200)
            snprintf(buf, n, "%.3g min", v / 60);
        else if (a < 2 * 86400)
            snprintf(buf, n, "%.3g h", v / 3600);
        else if (a < 730 * 86400)
            snprintf(buf, n, "%.3g days", v / 86400);
        else
            snprintf(buf, n, "%.3g years", v / 31557600);
        return buf;
    case SP_UNIT_BYTES: {
        static const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
        int i = 0;
        while (a >= 1024 && i < 5) {
            a /= 1024;
            v /= 1024;
            i++;
        }
        snprintf(buf, n, "%.4g %s", v, u[i]);
        return buf;
    }
    default: {
        static const char *u[] = {"", "k", "M", "G", "T", "P", "E", "Z", "Y"};
        const char *tail = unit == SP_UNIT_BW ? "B/s" : unit == SP_UNIT_FLOP ? "FLOP" :
                           unit == SP_UNIT_FLOPS ? "FLOP/s" : "";
        int i = 0;
        while (a >= 1000 && i < 8) {
            a /= 1000;
            v /= 1000;
            i++;
        }
        if (!*tail && i > 4) /* a plain count past T: "1.047e+18", not "1.047 E" (read as an exponent) */
            snprintf(buf, n, "%.4g", v0);
        else if (!*u[i] && !*tail)
            snprintf(buf, n, "%.4g", v);
        else
            snprintf(buf, n, "%.4g %s%s", v, u[i], tail);
        return buf;
    }
    }
}
