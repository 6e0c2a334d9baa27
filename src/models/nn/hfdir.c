/* hfdir.c — see hfdir.h. */
#include "models/nn/hfdir.h"

#include <stdio.h>
#include <string.h>

char *hf_dir_name(const char *dir)
{
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/') dl--;   /* "…/name/" names "name" too */
    const char *base = dir + dl;
    while (base > dir && base[-1] != '/') base--;
    size_t n = (size_t)(dir + dl - base);
    char *name = xmalloc(n + 1);
    memcpy(name, base, n);
    name[n] = 0;
    return name;
}

char *hf_dir_config(const char *dir, char *path, size_t n, size_t *len, ierr *e)
{
    snprintf(path, n, "%s/config.json", dir);
    return (char *)file_read_all(path, len, e);
}
