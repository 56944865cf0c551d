/* Status codes and the error buffer every fallible call fills. */
#include "scaleplan.h"

#include <stdarg.h>
#include <stdio.h>

sp_status sp_fail(sp_error *err, sp_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
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
