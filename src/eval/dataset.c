/* dataset.c — reading a captioned image set (captions.tsv + split file). */
#include "eval/eval.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct name_ix { const char *name; int ix; } name_ix;

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const name_ix *)a)->name, ((const name_ix *)b)->name);
}

static int cmp_name_then_ix(const void *a, const void *b)
{
    int c = cmp_name(a, b);
    return c ? c : ((const name_ix *)a)->ix - ((const name_ix *)b)->ix;
}

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = 0;
}

static int exists_in(const char *dir, const char *name)
{
    char p[4096];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static void add_image(eval_set *s, int *cap, const char *name)
{
    if (s->nimages == *cap) {
        *cap = *cap ? 2 * *cap : 256;
        s->images = xrealloc(s->images, (size_t)*cap * sizeof *s->images);
    }
    s->images[s->nimages++] = xstrdup(name);
}

int eval_load(const char *captions, const char *split, const char *dir, int limit, eval_set *s,
              ierr *e)
{
    memset(s, 0, sizeof *s);
    FILE *cf = fopen(captions, "r");
    if (!cf) {
        err_set(e, "%s: cannot open: %s", captions, strerror(errno));
        return -1;
    }
    /* All caption lines first: (name, caption) in file order. */
    char *line = NULL;
    size_t cap = 0;
    char **cn = NULL, **cc = NULL;
    int ncap = 0, capcap = 0, lineno = 0;
    while (getline(&line, &cap, cf) >= 0) {
        lineno++;
        chomp(line);
        if (!line[0]) continue;
        char *tab = strchr(line, '\t');
        if (!tab || !tab[1] || tab == line) {
            err_set(e, "%s:%d: expected filename<TAB>caption", captions, lineno);
            goto fail;
        }
        *tab = 0;
        if (ncap == capcap) {
            capcap = capcap ? 2 * capcap : 1024;
            cn = xrealloc(cn, (size_t)capcap * sizeof *cn);
            cc = xrealloc(cc, (size_t)capcap * sizeof *cc);
        }
        cn[ncap] = xstrdup(line);
        cc[ncap] = xstrdup(tab + 1);
        ncap++;
    }
    fclose(cf);
    cf = NULL;

    int icap = 0;
    if (split) {
        FILE *sf = fopen(split, "r");
        if (!sf) {
            err_set(e, "%s: cannot open: %s", split, strerror(errno));
            goto fail;
        }
        while (getline(&line, &cap, sf) >= 0) {
            chomp(line);
            char *p = line;
            while (*p == ' ') p++;
            if (!*p || *p == '#') continue;
            if (limit > 0 && s->nimages + s->missing >= limit) break;
            if (exists_in(dir, p))
                add_image(s, &icap, p);
            else
                s->missing++;
        }
        fclose(sf);
    } else {
        /* Every captioned image once, in the order the captions name them. */
        name_ix *all = xcalloc((size_t)ncap + 1, sizeof *all);
        for (int i = 0; i < ncap; i++) all[i] = (name_ix){cn[i], i};
        qsort(all, (size_t)ncap, sizeof *all, cmp_name_then_ix);
        char *first = xcalloc((size_t)ncap + 1, 1);
        for (int i = 0; i < ncap; i++)
            if (i == 0 || strcmp(all[i].name, all[i - 1].name)) first[all[i].ix] = 1;
        free(all);
        for (int i = 0; i < ncap; i++) {
            if (!first[i]) continue;
            if (limit > 0 && s->nimages + s->missing >= limit) break;
            if (exists_in(dir, cn[i]))
                add_image(s, &icap, cn[i]);
            else
                s->missing++;
        }
        free(first);
    }
    /* A name listed twice in the split is a mistake in the split. */
    name_ix *ix = xcalloc((size_t)s->nimages + 1, sizeof *ix);
    for (int i = 0; i < s->nimages; i++) ix[i] = (name_ix){s->images[i], i};
    qsort(ix, (size_t)s->nimages, sizeof *ix, cmp_name);
    for (int i = 1; i < s->nimages; i++)
        if (!strcmp(ix[i].name, ix[i - 1].name)) {
            err_set(e, "%s: %s is listed twice", split ? split : captions, ix[i].name);
            free(ix);
            goto fail;
        }
    for (int i = 0; i < ncap; i++) {
        name_ix key = {cn[i], 0}, *hit = bsearch(&key, ix, (size_t)s->nimages, sizeof *ix, cmp_name);
        if (!hit) continue;
        s->q = xrealloc(s->q, (size_t)(s->nq + 1) * sizeof *s->q);
        s->q[s->nq].image = hit->ix;
        s->q[s->nq].caption = cc[i];
        cc[i] = NULL;
        s->nq++;
    }
    free(ix);
    for (int i = 0; i < ncap; i++) {
        free(cn[i]);
        free(cc[i]);
    }
    free(cn);
    free(cc);
    free(line);
    return 0;
fail:
    if (cf) fclose(cf);
    for (int i = 0; i < ncap; i++) {
        free(cn[i]);
        free(cc[i]);
    }
    free(cn);
    free(cc);
    free(line);
    eval_set_free(s);
    return -1;
}

void eval_set_free(eval_set *s)
{
    for (int i = 0; i < s->nimages; i++) free(s->images[i]);
    free(s->images);
    for (int i = 0; i < s->nq; i++) free(s->q[i].caption);
    free(s->q);
    memset(s, 0, sizeof *s);
}
