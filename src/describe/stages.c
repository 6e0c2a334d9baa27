/* stages.c — the stage table and the built-in stages (those that need no
 * model: geometry, colours, relations, scene, caption).  Model stages live
 * in their own files (stage_models.c, ocr.c, clipstage.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe/stages.h"

const char *fact_missing(unsigned mask)
{
    static const char *const names[] = {"pixels", "objects", "faces", "person-mask", "geometry", "colours",
                                        "relations", "text", "scene", "embedding", "tags", "caption",
                                        "clip-caption", "blip-caption", "features", "joint", "segments"};
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (mask & (1u << i)) return names[i];
    return "?";
}

/* ---- geometry ---------------------------------------------------------- */

static int run_geometry(dctx *c, stage_state *st, ierr *e)
{
    (void)st; (void)e;
    for (int i = 0; i < c->ds->nregions; i++) region_geometry(&c->ds->regions[i]);
    return 0;
}

/* ---- colours ------------------------------------------------------------ */

/* "a man in a red shirt and blue jeans": the colours of a person's upper
 * body (below the head: 18-55% of the box height) and of the legs (55% to
 * the feet), kept as "top=red:62,white:20 bottom=blue:71" (percent shares)
 * in the person's attrs. */
static void clothing_colours(dctx *c, region *r, const uint8_t *m, const float *excl, int nex)
{
    static const struct { const char *key; float a, b; } parts[] = {{"top", 0.18f, 0.55f}, {"bottom", 0.55f, 1.0f}};
    float h = r->y1 - r->y0;
    if (h * (float)c->im->h < 24) return;   /* a few pixels of clothing say nothing */
    for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++) {
        region part;
        memset(&part, 0, sizeof part);
        region_colours(c->im, r->x0, r->y0 + parts[k].a * h, r->x1, r->y0 + parts[k].b * h, m, c->pmw, c->pmh, 1,
                       excl, nex, &part);
        if (!part.ncolours) continue;
        char buf[96];
        size_t len = (size_t)snprintf(buf, sizeof buf, "%s=", parts[k].key);
        for (int i = 0; i < part.ncolours && len < sizeof buf; i++)
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s:%d", i ? "," : "", part.colours[i].name,
                                    (int)lroundf(part.colours[i].share * 100));
        size_t have = strlen(r->attrs);
        if (len < sizeof buf && have + len + 2 < sizeof r->attrs)
            snprintf(r->attrs + have, sizeof r->attrs - have, "%s%s", have ? " " : "", buf);
    }
}

static int run_colours(dctx *c, stage_state *st, ierr *e)
{
    (void)st; (void)e;
    description *ds = c->ds;
    float *excl = xmalloc((size_t)(ds->nregions + 1) * 4 * sizeof *excl);
    for (int i = 0; i < ds->nregions; i++) {
        region *r = &ds->regions[i];
        /* Person regions are weighted by the person mask when there is one;
         * everything else by the centre/context prior, with the smaller
         * objects overlapping it set aside. */
        const uint8_t *m = c->pmask && r->mask_rle && r->kind == REGION_OBJECT && !strcmp(r->label, "person")
                           ? c->pmask : NULL;
        int mw = c->pmw, mh = c->pmh;
        for (int k = 0; k < c->nsmask; k++)   /* a SAM segment: its own mask */
            if (c->sreg[k] == i) { m = c->smask[k]; mw = c->smw; mh = c->smh; }
        int nex = 0;
        if (r->kind == REGION_OBJECT)
            for (int j = 1; j < ds->nregions; j++) {
                const region *o = &ds->regions[j];
                if (j == i || o->kind != REGION_OBJECT || o->area >= r->area) continue;
                box a = {r->x0, r->y0, r->x1, r->y1}, b = {o->x0, o->y0, o->x1, o->y1};
                if (box_cover(b, a) <= 0) continue;
                float *x = excl + 4 * nex++;
                x[0] = o->x0; x[1] = o->y0; x[2] = o->x1; x[3] = o->y1;
            }
        region_colours(c->im, r->x0, r->y0, r->x1, r->y1, m, mw, mh, r->kind != REGION_IMAGE, excl, nex, r);
        if (r->kind == REGION_OBJECT && !strcmp(r->label, "person")) clothing_colours(c, r, m, excl, nex);
    }
    free(excl);
    ds->brightness = image_brightness(c->im);
    return 0;
}

/* ---- relations ---------------------------------------------------------- */

static int run_relations(dctx *c, stage_state *st, ierr *e)
{
    (void)st; (void)e;
    c->ds->nrelations = relations_compute(c->ds->regions, c->ds->nregions, RELATION_MIN_WEIGHT, &c->ds->relations);
    return 0;
}

/* ---- scene / caption ---------------------------------------------------- */

static int run_scene(dctx *c, stage_state *st, ierr *e)
{
    (void)st; (void)e;
    scene_build(c->ds, c->meta, c->ds->scene, sizeof c->ds->scene);
    return 0;
}

static int run_caption(dctx *c, stage_state *st, ierr *e)
{
    (void)st; (void)e;
    caption_build(c->ds, c->place, c->ds->caption, sizeof c->ds->caption);
    return 0;
}

/* Defined in stage_models.c, ocr.c and clipstage.c. */
int stage_objects_open(describer *d, stage_state *st, ierr *why);
int stage_objects_run(dctx *c, stage_state *st, ierr *e);
void stage_objects_close(describer *d, stage_state *st);
int stage_faces_open(describer *d, stage_state *st, ierr *why);
int stage_faces_run(dctx *c, stage_state *st, ierr *e);
void stage_faces_close(describer *d, stage_state *st);
int stage_pmask_open(describer *d, stage_state *st, ierr *why);
int stage_pmask_run(dctx *c, stage_state *st, ierr *e);
void stage_pmask_close(describer *d, stage_state *st);
int stage_merge_run(dctx *c, stage_state *st, ierr *e);
int stage_sam_open(describer *d, stage_state *st, ierr *why);
int stage_sam_run(dctx *c, stage_state *st, ierr *e);
void stage_sam_close(describer *d, stage_state *st);
int stage_ocr_open(describer *d, stage_state *st, ierr *why);
int stage_ocr_run(dctx *c, stage_state *st, ierr *e);
void stage_ocr_close(describer *d, stage_state *st);
int stage_clip_open(describer *d, stage_state *st, ierr *why);
int stage_clip_run(dctx *c, stage_state *st, ierr *e);
void stage_clip_close(describer *d, stage_state *st);
int stage_clipcap_open(describer *d, stage_state *st, ierr *why);
int stage_clipcap_run(dctx *c, stage_state *st, ierr *e);
int stage_blip_open(describer *d, stage_state *st, ierr *why);
int stage_blip_run(dctx *c, stage_state *st, ierr *e);
void stage_blip_close(describer *d, stage_state *st);
int stage_features_open(describer *d, stage_state *st, ierr *why);
int stage_features_run(dctx *c, stage_state *st, ierr *e);
int stage_joint_open(describer *d, stage_state *st, ierr *why);
int stage_joint_run(dctx *c, stage_state *st, ierr *e);
void stage_joint_close(describer *d, stage_state *st);

const stage_def stage_table[NSTAGES] = {
    {"objects", F_PIXELS, F_OBJECTS, stage_objects_open, stage_objects_run, stage_objects_close, 0},
    {"faces", F_PIXELS, F_FACES, stage_faces_open, stage_faces_run, stage_faces_close, 0},
    {"person_mask", F_OBJECTS, F_PMASK, stage_pmask_open, stage_pmask_run, stage_pmask_close, 0},
    {"merge", F_PIXELS, 0, NULL, stage_merge_run, NULL, 0},
    /* after merge: segments are labelled from the final detector boxes */
    {"sam", F_PIXELS, F_SEGMENTS, stage_sam_open, stage_sam_run, stage_sam_close, 1},
    {"geometry", F_PIXELS, F_GEOMETRY, NULL, run_geometry, NULL, 0},
    {"colours", F_GEOMETRY, F_COLOURS, NULL, run_colours, NULL, 0},
    {"features", F_OBJECTS | F_GEOMETRY, F_FEATURES, stage_features_open, stage_features_run, NULL, 0},
    {"relations", F_GEOMETRY, F_RELATIONS, NULL, run_relations, NULL, 0},
    {"ocr", F_PIXELS, F_TEXT, stage_ocr_open, stage_ocr_run, stage_ocr_close, 0},
    {"scene", F_COLOURS, F_SCENE, NULL, run_scene, NULL, 0},
    {"clip", F_GEOMETRY, F_EMBED | F_TAGS, stage_clip_open, stage_clip_run, stage_clip_close, 0},
    {"caption", F_GEOMETRY, F_CAPTION, NULL, run_caption, NULL, 0},
    {"clip_caption", F_EMBED | F_CAPTION, F_CLIPCAP, stage_clipcap_open, stage_clipcap_run, NULL, 0},
    {"blip", F_PIXELS, F_BLIPCAP, stage_blip_open, stage_blip_run, stage_blip_close, 0},
    {"joint", F_FEATURES, F_JOINT, stage_joint_open, stage_joint_run, stage_joint_close, 0},
};
