/* jointstage.c — the describe stage "joint": imgdex's own trained model
 * (models/joint.h) over the image's feature vector (stage "features"):
 * the joint embedding of the image and the tagger's likely words.
 *
 * It reads nothing but ds->features, so a catalogue upgrade to a new model
 * recomputes it from stored features without decoding the image
 * (describe_joint, used by the indexer).  The model is opened once per
 * process and shared by every describer: it is read-only once open.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe/features.h"
#include "describe/stages.h"
#include "models/joint.h"

#define TAG_MIN_P 0.1f       /* tagger words kept: P(word | image) at least this */
#define TAG_MAX 15           /* and at most this many, most likely first */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static joint_model *shared;
static int refs, tried;

static joint_model *acquire(ierr *why)
{
    pthread_mutex_lock(&mu);
    if (!shared && !tried) {
        tried = 1;
        shared = joint_open(NULL, why);
    } else if (!shared) {
        err_set(why, "no joint model installed");
    }
    if (shared) refs++;
    joint_model *m = shared;
    pthread_mutex_unlock(&mu);
    return m;
}

static void release(void)
{
    pthread_mutex_lock(&mu);
    if (--refs == 0) {
        joint_close(shared);
        shared = NULL;
        tried = 0;
    }
    pthread_mutex_unlock(&mu);
}

typedef struct ptag { int i; float p; } ptag;

static int cmp_ptag(const void *a, const void *b)
{
    const ptag *x = a, *y = b;
    if (x->p != y->p) return x->p < y->p ? 1 : -1;
    return x->i - y->i;
}

/* Embedding and tags of ds from ds->features; earlier tagger words go. */
static int apply(const joint_model *m, description *ds, ierr *e)
{
    if (!ds->features || ds->nfeatures != joint_feature_dim(m) || strcmp(ds->features_kind, joint_feature_kind(m))) {
        err_set(e, "joint: the model wants %s (%d floats), the image has %s (%d)", joint_feature_kind(m),
                joint_feature_dim(m), ds->features_kind[0] ? ds->features_kind : "no features", ds->nfeatures);
        return -1;
    }
    int dim = joint_dim(m), nt = joint_ntags(m);
    free(ds->joint);
    ds->joint = xmalloc((size_t)dim * sizeof *ds->joint);
    joint_embed_image(m, ds->features, ds->joint);
    ds->joint_dim = dim;
    snprintf(ds->joint_model, sizeof ds->joint_model, "%s", joint_id(m));

    int k = 0;
    for (int i = 0; i < ds->ntags; i++)
        if (strcmp(ds->tags[i].group, "tagger")) ds->tags[k++] = ds->tags[i];
    ds->ntags = k;
    if (nt <= 0) return 0;
    float *p = xmalloc((size_t)nt * sizeof *p);
    joint_tag_probs(m, ds->features, p);
    ptag *best = xmalloc((size_t)nt * sizeof *best);
    int nb = 0;
    for (int i = 0; i < nt; i++)
        if (p[i] >= TAG_MIN_P) best[nb++] = (ptag){i, p[i]};
    qsort(best, (size_t)nb, sizeof *best, cmp_ptag);
    if (nb > TAG_MAX) nb = TAG_MAX;
    ds->tags = xrealloc(ds->tags, (size_t)(ds->ntags + nb + 1) * sizeof *ds->tags);
    for (int i = 0; i < nb; i++) {
        desc_tag *t = &ds->tags[ds->ntags++];
        memset(t, 0, sizeof *t);
        snprintf(t->label, sizeof t->label, "%s", joint_tag_word(m, best[i].i));
        snprintf(t->group, sizeof t->group, "tagger");
        t->region = 0;
        t->score = best[i].p;
    }
    free(best);
    free(p);
    return 0;
}

int stage_joint_open(describer *d, stage_state *st, ierr *why)
{
    (void)d;
    joint_model *m = acquire(why);
    if (!m) return -1;
    if (strcmp(joint_feature_kind(m), FEAT_KIND) || joint_feature_dim(m) != FEAT_DIM) {
        /* trained on features this build does not compute */
        err_set(why, "%s wants %s features, this build computes %s", joint_id(m), joint_feature_kind(m), FEAT_KIND);
        snprintf(st->model, sizeof st->model, "needs-%s", joint_feature_kind(m));
        release();
        return -1;
    }
    st->h = m;
    snprintf(st->model, sizeof st->model, "%s", joint_id(m));
    return 0;
}

int stage_joint_run(dctx *c, stage_state *st, ierr *e) { return apply(st->h, c->ds, e); }

void stage_joint_close(describer *d, stage_state *st)
{
    (void)d;
    st->h = NULL;
    release();
}

int describe_joint(describer *d, description *ds, ierr *e)
{
    for (int i = 0; i < NSTAGES; i++)
        if (!strcmp(stage_table[i].name, "joint")) {
            if (!d->st[i].on) {
                err_set(e, "joint: no joint model installed");
                return -1;
            }
            double t0 = now_seconds();
            int rc = apply(d->st[i].h, ds, e);
            d->st[i].seconds += now_seconds() - t0;
            d->st[i].runs++;
            return rc;
        }
    err_set(e, "joint: no such stage");
    return -1;
}
