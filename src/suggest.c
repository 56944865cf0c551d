/* "Did you mean": the closest name to a mistyped one among the names a caller accepts (issue 24).
 *
 * Closeness is the optimal-string-alignment distance (Levenshtein plus the transposition of two adjacent
 * characters, the commonest typing slip), case-insensitive. A name is suggested only when it is close enough
 * to be the likely intent: at most 1 edit for words of up to 4 characters, 2 up to 8, then 3 — a longer
 * bound makes every short word "close" to every other (tp -> pp, ep). Library code, so presets and laws use it
 * in their "unknown preset" errors; the CLI uses it for options and commands. */
#include "scaleplan.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SUGGEST_MAX 64 /* longer words are not compared (no preset or option name is that long) */

static int osa_distance(const char *a, size_t na, const char *b, size_t nb)
{
    /* three rows of the dynamic programme: i-2, i-1, i */
    int r0[SUGGEST_MAX + 1], r1[SUGGEST_MAX + 1], r2[SUGGEST_MAX + 1];
    int *pp = r0, *p = r1, *c = r2;
    for (size_t j = 0; j <= nb; j++)
        p[j] = (int)j;
    for (size_t i = 1; i <= na; i++) {
        c[0] = (int)i;
        for (size_t j = 1; j <= nb; j++) {
            int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            int v = p[j] + 1;
            if (c[j - 1] + 1 < v)
                v = c[j - 1] + 1;
            if (p[j - 1] + cost < v)
                v = p[j - 1] + cost;
            if (i > 1 && j > 1 && tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == tolower((unsigned char)b[j - 1]) && pp[j - 2] + 1 < v)
                v = pp[j - 2] + 1;
            c[j] = v;
        }
        int *t = pp;
        pp = p;
        p = c;
        c = t;
    }
    return p[nb];
}

/* Spelled-out names of options and the short name scaleplan uses: Megatron-LM's arguments
 * (megatron/training/arguments.py: --sequence-parallel, --tensor-model-parallel-size, --pipeline-model-parallel-size,
 * --context-parallel-size, --expert-model-parallel-size, --expert-tensor-parallel-size, --micro-batch-size,
 * --global-batch-size, --seq-length) and their common shortenings, too far from the short name for the distance. */
static const char *const aliases[][2] = {
    {"seq-parallel", "sp"}, {"sequence-parallel", "sp"}, {"sequence-parallelism", "sp"},
    {"tensor-parallel", "tp"}, {"tensor-model-parallel-size", "tp"}, {"tp-size", "tp"},
    {"pipeline-parallel", "pp"}, {"pipeline-model-parallel-size", "pp"}, {"pp-size", "pp"},
    {"data-parallel", "dp"}, {"context-parallel", "cp"}, {"context-parallel-size", "cp"},
    {"expert-parallel", "ep"}, {"expert-model-parallel-size", "ep"}, {"expert-tensor-parallel-size", "etp"},
    {"micro-batch-size", "micro-batch"}, {"global-batch-size", "global-batch"}, {"seq-length", "seq-len"},
};

/* 1 when name is one of the comma/space-separated names. */
static int listed(const char *names, const char *name)
{
    size_t nl = strlen(name);
    for (const char *s = names; *s;) {
        while (*s == ',' || *s == ' ')
            s++;
        size_t len = strcspn(s, ", ");
        if (len == nl && strncmp(s, name, len) == 0)
            return 1;
        s += len;
    }
    return 0;
}

int sp_suggest(const char *word, const char *names, char *out, size_t n)
{
    if (n)
        out[0] = 0;
    size_t nw = strlen(word);
    if (!nw || nw > SUGGEST_MAX || !names)
        return 0;
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcasecmp(word, aliases[i][0]) == 0 && listed(names, aliases[i][1])) {
            if (n)
                snprintf(out, n, "%s", aliases[i][1]);
            return 1;
        }
    int limit = nw <= 4 ? 1 : nw <= 8 ? 2 : 3, best = limit + 1;
    const char *s = names;
    while (*s) {
        while (*s == ',' || *s == ' ')
            s++;
        size_t len = strcspn(s, ", ");
        if (len && len <= SUGGEST_MAX) {
            int d = osa_distance(word, nw, s, len);
            if (d < best && !(len == nw && memcmp(word, s, len) == 0)) {
                best = d;
                if (n)
                    snprintf(out, n, "%.*s", (int)len, s);
            }
        }
        s += len;
    }
    return best <= limit;
}
