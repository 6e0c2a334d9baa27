/* blipstage.c — the thesis's captioner: when a BLIP model is installed it
 * writes the image's caption (stored as clip_caption, "the caption a model
 * wrote", which the index tokenizes beside the template caption).  With CLIP
 * installed too, BLIP proposes its beam-search hypotheses and CLIP picks the
 * one closest to the image; without CLIP, BLIP's best beam is taken.
 * Beam settings are the BLIP authors' captioning defaults (3 beams, 5 to 20
 * word pieces). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe/stages.h"
#include "models/blip/blip.h"

#define NCAND 3

/* One model per process, shared: it is read-only and its calls thread-safe. */
static pthread_mutex_t bmu = PTHREAD_MUTEX_INITIALIZER;
static blip_model *shared_blip;
static int shared_refs;

int stage_blip_open(describer *d, stage_state *st, ierr *why)
{
    (void)d;
    pthread_mutex_lock(&bmu);
    if (!shared_blip) shared_blip = blip_open_default(why);
    if (shared_blip) shared_refs++;
    blip_model *m = shared_blip;
    pthread_mutex_unlock(&bmu);
    if (!m) {
        snprintf(st->model, sizeof st->model, "missing");
        return -1;
    }
    st->h = m;
    snprintf(st->model, sizeof st->model, "%s", blip_name(m));
    return 0;
}

int stage_blip_run(dctx *c, stage_state *st, ierr *e)
{
    blip_opts o;
    blip_opts_default(&o);
    o.beams = NCAND;
    o.min_length = 5;
    char *cands[NCAND] = {0};
    int n = blip_captions(st->h, c->im, &o, cands, NULL, NCAND, e);
    if (n < 0) return -1;
    int best = 0;
    stage_state *cs = clip_state(c->d);
    if (n > 1 && cs && cs->on && cs->h) {
        best = clip_stage_pick(cs->h, c->ds, (const char *const *)cands, n, e);
        if (best < 0) best = 0;   /* CLIP failed: keep BLIP's own best */
    }
    if (n > 0 && cands[best][0])
        snprintf(c->ds->clip_caption, sizeof c->ds->clip_caption, "%s", cands[best]);
    for (int i = 0; i < n; i++) free(cands[i]);
    return 0;
}

void stage_blip_close(describer *d, stage_state *st)
{
    (void)d;
    pthread_mutex_lock(&bmu);
    if (st->h && --shared_refs == 0) {
        blip_close(shared_blip);
        shared_blip = NULL;
    }
    pthread_mutex_unlock(&bmu);
    st->h = NULL;
}
