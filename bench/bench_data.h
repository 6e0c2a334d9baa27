/* bench_data.h — the Flickr8k data the benchmarks read: where it is, and a
 * split's images with their captions, through eval_load (the same reader
 * `imgdex eval` uses).  Header-only; each bench is one program. */
#ifndef IMGDEX_BENCH_DATA_H
#define IMGDEX_BENCH_DATA_H

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval.h"

/* $IMGDEX_DATA, else ../shared/data next to the source tree. */
static inline void bench_data_dir(char *out, size_t n)
{
    const char *src = getenv("IMGDEX_SRCDIR") ? getenv("IMGDEX_SRCDIR") : IMGDEX_SRCDIR;
    if (getenv("IMGDEX_DATA")) snprintf(out, n, "%s", getenv("IMGDEX_DATA"));
    else snprintf(out, n, "%s/../shared/data", src);
}

/* The images of flickr8k/<split> (first `limit`, 0 = all) and, per image,
 * its captions lowercased and joined by spaces (*text, one string per
 * image, caller frees with bench_split_free).  0, or -1 + e. */
static inline int bench_split(const char *data, const char *split, int limit, eval_set *s, char ***text, ierr *e)
{
    char caps[1100], list[1100], dir[1100];
    snprintf(caps, sizeof caps, "%s/flickr8k/captions.tsv", data);
    snprintf(list, sizeof list, "%s/flickr8k/%s", data, split);
    snprintf(dir, sizeof dir, "%s/flickr8k/images", data);
    if (eval_load(caps, list, dir, limit, s, e) != 0) return -1;
    *text = calloc((size_t)s->nimages + 1, sizeof **text);
    for (int i = 0; i < s->nq; i++) {
        char **t = &(*text)[s->q[i].image];
        size_t had = *t ? strlen(*t) : 0, add = strlen(s->q[i].caption);
        *t = realloc(*t, had + add + 2);
        (*t)[had] = ' ';
        for (size_t k = 0; k <= add; k++) (*t)[had + 1 + k] = (char)tolower((unsigned char)s->q[i].caption[k]);
    }
    return 0;
}

static inline void bench_split_free(eval_set *s, char **text)
{
    for (int i = 0; text && i < s->nimages; i++) free(text[i]);
    free(text);
    eval_set_free(s);
}

/* Calls fn(word, arg) for each run of letters in text. */
static inline void bench_words(const char *text, void (*fn)(const char *w, void *arg), void *arg)
{
    for (const char *p = text ? text : ""; *p;) {
        while (*p && !isalpha((unsigned char)*p)) p++;
        char w[48];
        size_t k = 0;
        while (isalpha((unsigned char)*p)) {
            if (k + 1 < sizeof w) w[k++] = *p;
            p++;
        }
        w[k] = 0;
        if (k) fn(w, arg);
    }
}

#endif
