/* json.c — a description as JSON (the `imgdex show --json` schema, written
 * out in docs/describe.md), and freeing a description.
 *
 * Numbers are rounded to 4 decimals: enough for boxes and weights, and the
 * output stays readable and stable across tiny float differences.
 * Embedding vectors are not printed (only model and size): they are large
 * and meaningless to read; the catalogue stores them as blobs.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "describe/internal.h"

void description_free(description *ds)
{
    if (!ds) return;
    for (int i = 0; i < ds->nregions; i++) {
        free(ds->regions[i].mask_rle);
        free(ds->regions[i].embedding);
    }
    free(ds->regions);
    free(ds->relations);
    free(ds->words);
    free(ds->embedding);
    free(ds->joint);
    free(ds->tags);
    free(ds->features);
    memset(ds, 0, sizeof *ds);
}

static double r4(float v)
{
    if (!isfinite(v)) return 0;
    return round((double)v * 10000.0) / 10000.0;
}

static cJSON *num(float v) { return cJSON_CreateNumber(r4(v)); }

static cJSON *box4(float x0, float y0, float x1, float y1)
{
    cJSON *a = cJSON_CreateArray();
    cJSON_AddItemToArray(a, num(x0));
    cJSON_AddItemToArray(a, num(y0));
    cJSON_AddItemToArray(a, num(x1));
    cJSON_AddItemToArray(a, num(y1));
    return a;
}

const char *region_kind_name(int k)
{
    switch (k) {
    case REGION_IMAGE: return "image";
    case REGION_OBJECT: return "object";
    case REGION_FACE: return "face";
    case REGION_TEXT: return "text";
    case REGION_SEGMENT: return "segment";
    }
    return "unknown";
}

const char *region_size_name(int s)
{
    return s == SIZE_SMALL ? "small" : s == SIZE_MEDIUM ? "medium" : "large";
}

static cJSON *mask_json(const region *r)
{
    int w, h;
    uint8_t *m = mask_rle_decode(r->mask_rle, r->mask_len, &w, &h);
    if (!m) return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "w", w);
    cJSON_AddNumberToObject(o, "h", h);
    /* runs alternate out/in, starting with out, row-major over the box */
    cJSON *runs = cJSON_AddArrayToObject(o, "runs");
    int cur = 0, run = 0, in = 0;
    for (int i = 0; i < w * h; i++) {
        int v = m[i] != 0;
        in += v;
        if (v != cur) { cJSON_AddItemToArray(runs, cJSON_CreateNumber(run)); run = 0; cur = v; }
        run++;
    }
    cJSON_AddItemToArray(runs, cJSON_CreateNumber(run));
    cJSON_AddItemToObject(o, "fill", num((float)in / (float)(w * h)));
    free(m);
    return o;
}

char *description_to_json(const description *ds)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "width", ds->width);
    cJSON_AddNumberToObject(root, "height", ds->height);
    cJSON_AddStringToObject(root, "caption", ds->caption);
    cJSON_AddStringToObject(root, "clip_caption", ds->clip_caption);
    cJSON_AddStringToObject(root, "scene", ds->scene);
    cJSON_AddItemToObject(root, "brightness", num(ds->brightness));
    cJSON_AddStringToObject(root, "stages", ds->stages);

    cJSON *regs = cJSON_AddArrayToObject(root, "regions");
    for (int i = 0; i < ds->nregions; i++) {
        const region *r = &ds->regions[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "index", i);
        cJSON_AddStringToObject(o, "kind", region_kind_name(r->kind));
        cJSON_AddStringToObject(o, "label", r->label);
        cJSON_AddItemToObject(o, "score", num(r->score));
        cJSON_AddItemToObject(o, "box", box4(r->x0, r->y0, r->x1, r->y1));
        cJSON *c = cJSON_AddArrayToObject(o, "centre");
        cJSON_AddItemToArray(c, num(r->cx));
        cJSON_AddItemToArray(c, num(r->cy));
        cJSON_AddItemToObject(o, "area", num(r->area));
        cJSON_AddStringToObject(o, "size", region_size_name(r->size));
        cJSON_AddStringToObject(o, "position", r->position);
        cJSON *cols = cJSON_AddArrayToObject(o, "colours");
        for (int k = 0; k < r->ncolours; k++) {
            cJSON *co = cJSON_CreateObject();
            cJSON_AddStringToObject(co, "name", r->colours[k].name);
            cJSON_AddItemToObject(co, "share", num(r->colours[k].share));
            cJSON_AddItemToArray(cols, co);
        }
        cJSON_AddStringToObject(o, "attrs", r->attrs);
        if (r->caption[0]) cJSON_AddStringToObject(o, "caption", r->caption);
        if (r->mask_rle) {
            cJSON *m = mask_json(r);
            if (m) cJSON_AddItemToObject(o, "mask", m);
        }
        if (r->embedding) cJSON_AddNumberToObject(o, "embedding_dim", r->emb_dim);
        cJSON_AddItemToArray(regs, o);
    }

    cJSON *rels = cJSON_AddArrayToObject(root, "relations");
    for (int i = 0; i < ds->nrelations; i++) {
        const relation *r = &ds->relations[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "a", r->a);
        cJSON_AddStringToObject(o, "rel", r->rel);
        cJSON_AddNumberToObject(o, "b", r->b);
        cJSON_AddItemToObject(o, "weight", num(r->weight));
        cJSON_AddItemToArray(rels, o);
    }

    cJSON *words = cJSON_AddArrayToObject(root, "words");
    for (int i = 0; i < ds->nwords; i++) {
        const ocr_word *w = &ds->words[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "text", w->text);
        cJSON_AddItemToObject(o, "conf", num(w->conf));
        cJSON_AddItemToObject(o, "box", box4(w->x0, w->y0, w->x1, w->y1));
        cJSON_AddItemToArray(words, o);
    }

    cJSON *tags = cJSON_AddArrayToObject(root, "tags");
    for (int i = 0; i < ds->ntags; i++) {
        const desc_tag *t = &ds->tags[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "label", t->label);
        cJSON_AddStringToObject(o, "group", t->group);
        cJSON_AddNumberToObject(o, "region", t->region);
        cJSON_AddItemToObject(o, "score", num(t->score));
        cJSON_AddItemToArray(tags, o);
    }

    if (ds->embedding) {
        cJSON *o = cJSON_AddObjectToObject(root, "embedding");
        cJSON_AddStringToObject(o, "model", ds->emb_model);
        cJSON_AddNumberToObject(o, "dim", ds->emb_dim);
    } else {
        cJSON_AddNullToObject(root, "embedding");
    }
    if (ds->joint) {
        cJSON *o = cJSON_AddObjectToObject(root, "joint_embedding");
        cJSON_AddStringToObject(o, "model", ds->joint_model);
        cJSON_AddNumberToObject(o, "dim", ds->joint_dim);
    }
    /* That the image has features and of what kind; the numbers are for
     * the models, not for reading. */
    if (ds->features && ds->nfeatures > 0) {
        cJSON *o = cJSON_AddObjectToObject(root, "features");
        cJSON_AddStringToObject(o, "kind", ds->features_kind);
        cJSON_AddNumberToObject(o, "dim", ds->nfeatures);
    } else {
        cJSON_AddNullToObject(root, "features");
    }
    char *s = cJSON_Print(root);
    cJSON_Delete(root);
    if (!s) return NULL;
    /* cJSON allocates with malloc by default; hand back our own copy so the
     * caller's free() is right whatever hooks cJSON was built with. */
    char *out = xstrdup(s);
    cJSON_free(s);
    return out;
}
