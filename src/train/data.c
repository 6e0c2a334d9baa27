/* data.c — train_run: index both splits (eval's machinery), read their
 * feature vectors and captions, hand them to train_fit. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval.h"
#include "train/internal.h"

typedef struct split_data {
    eval_set set;
    char **paths;
    train_data d;
    float *X;
    int *cap_image;
    char **cap_text;
} split_data;

static void split_free(split_data *s)
{
    for (int i = 0; s->paths && i < s->set.nimages; i++) free(s->paths[i]);
    free(s->paths);
    free(s->X);
    free(s->cap_image);
    free(s->cap_text);
    eval_set_free(&s->set);
    memset(s, 0, sizeof *s);
}

static int load_split(const train_opts *o, const char *split, const char *dir, split_data *s, ierr *e)
{
    if (eval_load(o->captions, split, o->images_dir, 0, &s->set, e) != 0) return -1;
    if (s->set.nimages == 0) {
        err_set(e, "%s: no image of the split is in %s", split, o->images_dir);
        return -1;
    }
    s->paths = xcalloc((size_t)s->set.nimages, sizeof *s->paths);
    for (int i = 0; i < s->set.nimages; i++) {
        size_t n = strlen(dir) + strlen(s->set.images[i]) + 2;
        s->paths[i] = xmalloc(n);
        snprintf(s->paths[i], n, "%s/%s", dir, s->set.images[i]);
    }
    return 0;
}

/* Features of the split's images; images without any are left out (with
 * their captions) and counted. */
static int read_features(catalogue *c, split_data *s, char kind[16], int *dim, int *without, ierr *e)
{
    int n = s->set.nimages;
    int *newix = xmalloc(((size_t)n + 1) * sizeof *newix), kept = 0;
    for (int i = 0; i < n; i++) {
        newix[i] = -1;
        /* the indexer stores a walked folder's paths as they are, but a
         * symlink given to it by name as its target: try both */
        char real[PATH_MAX];
        int64_t id = cat_lookup(c, s->paths[i]);
        if (!id && realpath(s->paths[i], real)) id = cat_lookup(c, real);
        float *v = NULL;
        int d = 0;
        char k[16] = "";
        int got = id ? cat_features(c, id, k, &v, &d, e) : 0;
        if (got < 0) {
            free(newix);
            return -1;
        }
        if (!got) {
            (*without)++;
            continue;
        }
        if (!kind[0]) {
            snprintf(kind, 16, "%s", k);
            *dim = d;
        }
        if (strcmp(kind, k) || d != *dim) {
            err_set(e, "%s: its features are %s (%d floats), others are %s (%d floats): re-index with one imgdex",
                    s->paths[i], k, d, kind, *dim);
            free(v);
            free(newix);
            return -1;
        }
        s->X = xrealloc(s->X, ((size_t)kept + 1) * d * sizeof *s->X);
        memcpy(s->X + (size_t)kept * d, v, (size_t)d * sizeof *v);
        free(v);
        newix[i] = kept++;
    }
    s->cap_image = xcalloc((size_t)s->set.nq + 1, sizeof *s->cap_image);
    s->cap_text = xcalloc((size_t)s->set.nq + 1, sizeof *s->cap_text);
    int nc = 0;
    for (int q = 0; q < s->set.nq; q++) {
        int im = newix[s->set.q[q].image];
        if (im < 0) continue;
        s->cap_image[nc] = im;
        s->cap_text[nc++] = s->set.q[q].caption;
    }
    free(newix);
    s->d = (train_data){kept, *dim, s->X, nc, s->cap_image, s->cap_text};
    return 0;
}

int train_run(const train_opts *o, train_report *r, ierr *e)
{
    double t0 = now_seconds();
    memset(r, 0, sizeof *r);
    if (!o->images_dir || !o->captions || !o->split || !o->dev || !o->db || !o->out) {
        err_set(e, "train: images, captions, split, dev, database and output are all needed");
        return -1;
    }
    char dir[PATH_MAX];
    if (!realpath(o->images_dir, dir)) {
        err_set(e, "%s: cannot resolve", o->images_dir);
        return -1;
    }
    split_data tr, dv;
    memset(&tr, 0, sizeof tr);
    memset(&dv, 0, sizeof dv);
    int rc = -1;
    catalogue *c = NULL;
    char **all = NULL;
    if (load_split(o, o->split, dir, &tr, e) != 0 || load_split(o, o->dev, dir, &dv, e) != 0) goto out;
    r->missing = tr.set.missing + dv.set.missing;

    /* 1. Index both splits' files (incremental: a second run describes nothing). */
    int nall = tr.set.nimages + dv.set.nimages;
    all = xcalloc((size_t)nall, sizeof *all);
    memcpy(all, tr.paths, (size_t)tr.set.nimages * sizeof *all);
    memcpy(all + tr.set.nimages, dv.paths, (size_t)dv.set.nimages * sizeof *all);
    index_stats st;
    double ti = now_seconds();
    if (!o->no_index) {
        if (index_run(o->db, all, nall, &o->index, &st, e) != 0) goto out;
        r->seconds_index = now_seconds() - ti;
        r->described = st.described;
        if (o->progress)
            fprintf(stderr, "index: %d described, %d up to date (%.1f s)\n", st.described,
                    st.unchanged + st.renamed, r->seconds_index);
    }

    /* 2. Their features. */
    if (!(c = cat_open(o->db, 1, e))) goto out;
    char kind[16] = "";
    int dim = 0;
    if (read_features(c, &tr, kind, &dim, &r->no_features, e) != 0 ||
        read_features(c, &dv, kind, &dim, &r->no_features, e) != 0)
        goto out;
    if (!kind[0]) {
        err_set(e, "%s: no image has a feature vector (an imgdex without the features stage indexed it?)", o->db);
        goto out;
    }
    cat_close(c);
    c = NULL;

    /* 3. Train. */
    {
        int missing = r->missing, nofeat = r->no_features, described = r->described;
        double secs_index = r->seconds_index;
        if (train_fit(&tr.d, &dv.d, kind, o, r, e) != 0) goto out;
        r->missing = missing;
        r->no_features = nofeat;
        r->described = described;
        r->seconds_index = secs_index;
    }
    rc = 0;
out:
    r->seconds = now_seconds() - t0;
    cat_close(c);
    free(all);
    split_free(&tr);
    split_free(&dv);
    return rc;
}
