/* describe.c — the describer: a fixed pipeline of stages over one image.
 *
 * Each stage declares the facts it needs and the facts it adds.  At open
 * time a stage whose model is not installed (or that the options turn off)
 * is marked skipped, and so is every stage that needs a fact only a skipped
 * stage adds.  The resulting list of "stage:model" words is the describer
 * version stored with every description: when a model is installed later,
 * the version changes and the indexer knows which images to describe again.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe/stages.h"

/* Bump when a built-in stage's algorithm changes what it writes.
 *   2: the detector runs small photos at 352 instead of 512; face
 *      attributes only on the 4 largest faces of 32+ pixels; no face
 *      detection when every person is under 40 pixels tall; OCR reads
 *      text turned a quarter; people get top= and bottom= colours. */
/*   3: the features stage (describe/features.h) adds a feature vector. */
#define DESCRIBE_REVISION "describe/3"

/* The indexer opens a describer per worker: say once per process why a
 * stage is off, not once per worker. */
static int first_time_skipped(int stage)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static unsigned long said;
    pthread_mutex_lock(&mu);
    int first = !(said & (1ul << stage));
    said |= 1ul << stage;
    pthread_mutex_unlock(&mu);
    return first;
}

void describe_opts_default(describe_opts *o)
{
    memset(o, 0, sizeof *o);
    o->ocr = 1;
    o->clip = 1;
    o->min_score = 0.3f;
}

static const stage_def *find_stage(const char *name)
{
    for (int i = 0; i < NSTAGES; i++)
        if (!strcmp(stage_table[i].name, name)) return &stage_table[i];
    return NULL;
}

describer *describer_open(const describe_opts *o, ierr *e)
{
    (void)e;
    describer *d = xcalloc(1, sizeof *d);
    if (o) d->o = *o;
    else describe_opts_default(&d->o);
    if (d->o.min_score <= 0 || d->o.min_score >= 1) d->o.min_score = 0.3f;

    unsigned have = F_PIXELS;
    size_t len = (size_t)snprintf(d->version, sizeof d->version, "%s", DESCRIBE_REVISION);
    for (int i = 0; i < NSTAGES; i++) {
        const stage_def *s = &stage_table[i];
        stage_state *st = &d->st[i];
        if (d->o.no_learnt && (!strcmp(s->name, "features") || !strcmp(s->name, "joint"))) {
            snprintf(st->model, sizeof st->model, "off");
        } else if ((s->needs & have) != s->needs) {
            snprintf(st->model, sizeof st->model, "needs-%s", fact_missing(s->needs & ~have));
        } else if (!s->open) {
            st->on = 1;
        } else {
            ierr why = {0};
            st->on = s->open(d, st, &why) == 0;
            if (!st->on) {
                if (!st->model[0]) snprintf(st->model, sizeof st->model, "missing");
                if (why.set && first_time_skipped(i)) log_info("describe: %s stage skipped: %s", s->name, why.msg);
            }
        }
        if (st->on) have |= s->adds;
        if (!st->on && s->quiet_when_off) continue;
        char word[96];
        if (st->model[0]) snprintf(word, sizeof word, " %s:%s", s->name, st->model);
        else snprintf(word, sizeof word, " %s", s->name);
        if (len + strlen(word) < sizeof d->version) {
            memcpy(d->version + len, word, strlen(word) + 1);
            len += strlen(word);
        }
    }
    return d;
}

const char *describer_version(const describer *d) { return d ? d->version : DESCRIBE_REVISION; }

void describer_close(describer *d)
{
    if (!d) return;
    for (int i = 0; i < NSTAGES; i++)
        if (d->st[i].on && stage_table[i].close) stage_table[i].close(d, &d->st[i]);
    free(d);
}

int describer_stage_times(const describer *d, const char **names, double *seconds, int *runs, int max)
{
    int n = 0;
    for (int i = 0; i < NSTAGES && n < max; i++, n++) {
        names[n] = stage_table[i].name;
        seconds[n] = d->st[i].seconds;
        runs[n] = d->st[i].runs;
    }
    return n;
}

int describer_stage_on(const describer *d, const char *name)
{
    const stage_def *s = find_stage(name);
    return s ? d->st[s - stage_table].on : 0;
}

void *shared_model_get(shared_model *s, void *(*open)(ierr *why), ierr *why)
{
    pthread_mutex_lock(&s->mu);
    if (!s->m) s->m = open(why);
    if (s->m) s->refs++;
    void *m = s->m;
    pthread_mutex_unlock(&s->mu);
    return m;
}

void shared_model_put(shared_model *s, void (*close)(void *m))
{
    pthread_mutex_lock(&s->mu);
    if (s->refs > 0 && --s->refs == 0) {
        close(s->m);
        s->m = NULL;
    }
    pthread_mutex_unlock(&s->mu);
}

region *ctx_add_region(dctx *c)
{
    description *ds = c->ds;
    if (ds->nregions == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        ds->regions = xrealloc(ds->regions, (size_t)c->cap * sizeof *ds->regions);
    }
    region *r = &ds->regions[ds->nregions++];
    memset(r, 0, sizeof *r);
    return r;
}

int describe_image(describer *d, const img *im, const img_meta *meta, description *out, ierr *e)
{
    memset(out, 0, sizeof *out);
    if (!d || !im || !im->px || im->w <= 0 || im->h <= 0) {
        err_set(e, "describe: empty image");
        return -1;
    }
    dctx c = {0};
    c.d = d;
    c.im = im;
    c.meta = meta;
    c.ds = out;
    out->width = meta && meta->orig_w > 0 ? meta->orig_w : im->w;
    out->height = meta && meta->orig_h > 0 ? meta->orig_h : im->h;

    region *whole = ctx_add_region(&c);
    whole->kind = REGION_IMAGE;
    snprintf(whole->label, sizeof whole->label, "image");
    whole->score = 1;
    whole->x1 = whole->y1 = 1;

    /* The stages string is the describer's, minus the revision prefix. */
    const char *sp = strchr(d->version, ' ');
    snprintf(out->stages, sizeof out->stages, "%s", sp ? sp + 1 : "");

    int rc = 0;
    for (int i = 0; i < NSTAGES; i++) {
        if (!d->st[i].on) continue;
        double t0 = now_seconds();
        if (stage_table[i].run(&c, &d->st[i], e) != 0) {
            err_prefix(e, "describe: %s stage", stage_table[i].name);
            rc = -1;
            break;
        }
        d->st[i].seconds += now_seconds() - t0;
        d->st[i].runs++;
    }
    free(c.pmask);
    for (int k = 0; k < c.nsmask; k++) free(c.smask[k]);
    free(c.smask);
    free(c.sreg);
    if (rc) description_free(out);
    return rc;
}
