/* hfdir.c — see hfdir.h. */
#include "models/nn/hfdir.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/models.h"

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

int hf_weights_open(hf_weights *w, const char *dir, ierr *e)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    *w = (hf_weights){0};
    w->st = st_open(path, e);
    return w->st ? 0 : -1;
}

int hf_dir_open(const char *dir, char **dir_out, char **name_out, hf_config_parse parse, void *cfg,
                hf_weights *w, ierr *e)
{
    *dir_out = xstrdup(dir);
    *name_out = hf_dir_name(dir);
    char path[4096];
    size_t len;
    snprintf(path, sizeof path, "%s/config.json", dir);
    char *text = (char *)file_read_all(path, &len, e);
    if (!text) return -1;
    int rc = parse(text, len, path, cfg, e);
    free(text);
    return rc ? -1 : hf_weights_open(w, dir, e);
}

const float *hf_tensor(hf_weights *w, const char *name, int ndim, const long long *shape, ierr *e)
{
    if (w->failed) return NULL;
    long long s[8];
    memcpy(s, shape, (size_t)ndim * sizeof *s);
    float *owned = NULL;
    const float *p = st_get_f32(w->st, name, ndim, s, &owned, e);
    if (!p) w->failed = 1;
    hf_weights_own(w, owned);
    return p;
}

void hf_weights_own(hf_weights *w, float *p)
{
    if (!p) return;
    if (w->nowned == w->capowned) {
        w->capowned = w->capowned ? 2 * w->capowned : 64;
        w->owned = xrealloc(w->owned, (size_t)w->capowned * sizeof *w->owned);
    }
    w->owned[w->nowned++] = p;
}

void hf_weights_close(hf_weights *w)
{
    for (int i = 0; i < w->nowned; i++) free(w->owned[i]);
    free(w->owned);
    st_close(w->st);
    *w = (hf_weights){0};
}

int hf_default_dir(const char *env, const char *task, const char *prefix, const char *fetch_hint,
                   char *out, size_t n, ierr *e)
{
    const char *v = getenv(env);
    if (v && *v) {
        snprintf(out, n, "%s", v);
        return 0;
    }
    char dir[2048];
    path_models_dir(dir, sizeof dir);
    for (const model_info *const *r = models_registry(); *r; r++) {
        if (strcmp((*r)->task, task) || strncmp((*r)->name, prefix, strlen(prefix))) continue;
        if (!models_installed(*r, NULL)) continue;
        snprintf(out, n, "%s/%s", dir, (*r)->name);
        return 0;
    }
    char what[32];
    size_t i = 0;
    for (; prefix[i] && i + 1 < sizeof what; i++) what[i] = (char)toupper((unsigned char)prefix[i]);
    what[i] = 0;
    err_set(e, "no %s model installed in %s (imgdex models fetch %s, or set %s)", what, dir, fetch_hint, env);
    return -1;
}
