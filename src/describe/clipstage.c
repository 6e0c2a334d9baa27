/* clipstage.c — CLIP embeddings, zero-shot tags and caption ranking
 * (first version: not wired yet). */
#include <stdio.h>

#include "describe/stages.h"

int stage_clip_open(describer *d, stage_state *st, ierr *why)
{
    (void)why;
    snprintf(st->model, sizeof st->model, "%s", d->o.clip ? "missing" : "off");
    return -1;
}
int stage_clip_run(dctx *c, stage_state *st, ierr *e) { (void)c; (void)st; (void)e; return 0; }
void stage_clip_close(describer *d, stage_state *st) { (void)d; (void)st; }
int stage_clipcap_open(describer *d, stage_state *st, ierr *why) { (void)d; (void)st; (void)why; return -1; }
int stage_clipcap_run(dctx *c, stage_state *st, ierr *e) { (void)c; (void)st; (void)e; return 0; }
