/* blipstage.c — the thesis's captioner: when a BLIP model is installed it
 * writes the image's caption (stored as clip_caption, "the caption a model
 * wrote", which the index tokenizes beside the template caption).  With CLIP
 * installed too, BLIP proposes its beam-search hypotheses and CLIP picks the
 * one closest to the image; without CLIP, BLIP's best beam is taken.
 * Beam settings are the BLIP authors' captioning defaults (3 beams, 5 to 20
 * word pieces).
 *
 * With SAM installed too, the largest segments (their masks a tenth of the
 * image or more, at most three; not one that is most of the picture, which
 * the image's caption already describes) get a caption of their own crop
 * (region.caption),
 * chosen the same way — by CLIP against the crop's embedding when the CLIP
 * stage embedded that crop — so that the parts are described, as in the
 * thesis, and their words are searchable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe/stages.h"
#include "models/blip/blip.h"

#define NCAND 3
#define SEG_CAPTIONS 3        /* segments captioned per image */
#define SEG_MIN_AREA 0.1f     /* mask pixels, of the image's */
#define SEG_MAX_AREA 0.8f

/* One model per process, shared: it is read-only and its calls thread-safe. */
static shared_model shared_blip = SHARED_MODEL_INIT;
static void *open_blip(ierr *why) { return blip_open_default(why); }
static void close_blip(void *m) { blip_close(m); }

int stage_blip_open(describer *d, stage_state *st, ierr *why)
{
    (void)d;
    blip_model *m = shared_model_get(&shared_blip, open_blip, why);
    if (!m) {
        snprintf(st->model, sizeof st->model, "missing");
        return -1;
    }
    st->h = m;
    snprintf(st->model, sizeof st->model, "%s", blip_name(m));
    return 0;
}

/* BLIP's candidates for im, the one CLIP finds closest to emb (when CLIP
 * is on and emb is given) or BLIP's best, into out. */
static int caption_of(dctx *c, stage_state *st, const img *im, const float *emb, int dim, char *out, size_t n,
                      ierr *e)
{
    blip_opts o;
    blip_opts_default(&o);
    o.beams = NCAND;
    o.min_length = 5;
    char *cands[NCAND] = {0};
    int k = blip_captions(st->h, im, &o, cands, NULL, NCAND, e);
    if (k < 0) return -1;
    int best = 0;
    stage_state *cs = clip_state(c->d);
    if (k > 1 && emb && cs && cs->on && cs->h) {
        best = clip_stage_pick_emb(cs->h, emb, dim, (const char *const *)cands, k, e);
        if (best < 0) best = 0;   /* CLIP failed: keep BLIP's own best */
    }
    if (k > 0 && cands[best][0]) snprintf(out, n, "%s", cands[best]);
    for (int i = 0; i < k; i++) free(cands[i]);
    return 0;
}

int stage_blip_run(dctx *c, stage_state *st, ierr *e)
{
    description *ds = c->ds;
    if (caption_of(c, st, c->im, ds->embedding, ds->emb_dim, ds->clip_caption, sizeof ds->clip_caption, e) != 0)
        return -1;
    float *area = xcalloc((size_t)ds->nregions, sizeof *area);
    for (int i = 1; i < ds->nregions; i++) {
        const region *r = &ds->regions[i];
        if (r->kind == REGION_SEGMENT && r->mask_rle) area[i] = mask_rle_fill(r->mask_rle, r->mask_len) * r->area;
    }
    for (int done = 0; done < SEG_CAPTIONS; done++) {
        int best = -1;
        for (int i = 1; i < ds->nregions; i++) {
            const region *r = &ds->regions[i];
            if (r->kind != REGION_SEGMENT || area[i] < SEG_MIN_AREA || area[i] > SEG_MAX_AREA) continue;
            if (best < 0 || area[i] > area[best]) best = i;
        }
        if (best < 0) break;
        region *r = &ds->regions[best];
        img crop;
        region_crop(c->im, r, &crop);
        int rc = caption_of(c, st, &crop, r->embedding, r->emb_dim, r->caption, sizeof r->caption, e);
        free(crop.px);
        area[best] = -1;   /* done */
        if (rc != 0) { free(area); return -1; }
    }
    free(area);
    return 0;
}

void stage_blip_close(describer *d, stage_state *st)
{
    (void)d;
    if (st->h) shared_model_put(&shared_blip, close_blip);
    st->h = NULL;
}
