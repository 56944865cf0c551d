/* Sorted listing of the *.json presets in a directory (names without the extension). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int sp_list_dir(const char *dir, char *buf, size_t n)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    char names[256][64];
    char *ptr[256];
    int k = 0;
    struct dirent *e;
    while ((e = readdir(d)) && k < 256) {
        size_t l = strlen(e->d_name);
        if (l > 5 && l < 64 + 5 && strcmp(e->d_name + l - 5, ".json") == 0) {
            snprintf(names[k], sizeof names[k], "%.*s", (int)(l - 5), e->d_name);
            ptr[k] = names[k];
            k++;
        }
    }
    int more = e != NULL; /* stopped at 256 names */
    closedir(d);
    qsort(ptr, (size_t)k, sizeof ptr[0], cmp);
    size_t w = 0;
    buf[0] = 0;
    for (int i = 0; i < k && w < n; i++)
        w += (size_t)snprintf(buf + w, n - w, "%s%s", i ? ", " : "", ptr[i]);
    if (more && w < n)
        snprintf(buf + w, n - w, ", ...");
    return 0;
}
