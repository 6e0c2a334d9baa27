/* clipstage.c — CLIP in the describer: embeddings of the image and its
 * larger regions, zero-shot tags from the vocabulary (vocab.c), and the
 * caption CLIP prefers among candidates built from the structure.
 *
 * The stage only talks to an `embedder` (two batch functions), so tests can
 * drive it with a fake encoder; stage_clip_open wires it to src/models/clip.
 *
 * Cost: the vocabulary is ~1300 prompts; their text embeddings are computed
 * once per model and kept for the process and in a cache file.  Per image:
 * one batch of image crops and a dozen or so candidate captions (those are
 * memoised per describer, since many images share candidates).
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "describe/stages.h"
#include "describe/vocab.h"

#define MAX_CROPS 6          /* region crops embedded per image */
#define MAX_SEG_CROPS 4      /* and crops of unnamed SAM segments */
#define SEG_MIN_P 0.2f       /* CLIP's share a segment's name needs */
#define MAX_CANDIDATES 16    /* candidate captions ranked per image */
#define TEXT_MEMO 1024       /* candidate text embeddings remembered */

/* ---- the vocabulary's text embeddings, once per model ------------------ */

typedef struct vcache {
    char key[65];
    int dim;
    float *emb[VOCAB_NGROUPS];   /* nlabels × dim each, normalised */
    struct vcache *next;
} vcache;

static pthread_mutex_t vmu = PTHREAD_MUTEX_INITIALIZER;
static vcache *vcaches;          /* lives as long as the process */

static void normalise(float *v, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)v[i] * v[i];
    float k = s > 0 ? (float)(1.0 / sqrt(s)) : 0;
    for (int i = 0; i < n; i++) v[i] *= k;
}

static float dot(const float *a, const float *b, int n)
{
    float s = 0;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/* The key covers everything the embeddings depend on: the model (its name
 * and what it makes of a probe text, rounded so float noise does not
 * matter) and every label and template. */
static void vocab_key(const embedder *m, const float *probe, char out[65])
{
    size_t cap = 1 << 16, len = 0;
    char *buf = xmalloc(cap);
    len += (size_t)snprintf(buf, cap, "v1|%s|%d|", m->name, m->dim);
    for (int i = 0; i < m->dim && len + 16 < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%d,", (int)lroundf(probe[i] * 1000));
    for (int g = 0; g < VOCAB_NGROUPS; g++) {
        const vocab_group *vg = &vocab_groups[g];
        for (int t = 0; t < vg->ntemplates + vg->nlabels; t++) {
            const char *s = t < vg->ntemplates ? vg->templates[t] : vg->labels[t - vg->ntemplates];
            size_t n = strlen(s) + 2;
            if (len + n >= cap) { cap *= 2; buf = xrealloc(buf, cap); }
            len += (size_t)snprintf(buf + len, cap - len, "%s|", s);
        }
    }
    sha256_hex(buf, len, out);
    free(buf);
}

static size_t vocab_total(void)
{
    size_t n = 0;
    for (int g = 0; g < VOCAB_NGROUPS; g++) n += (size_t)vocab_groups[g].nlabels;
    return n;
}

static void cache_path(const char *key, char *out, size_t n)
{
    const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (x && *x) snprintf(out, n, "%s/imgdex/clip-vocab-%.16s.f32", x, key);
    else if (home && *home) snprintf(out, n, "%s/.cache/imgdex/clip-vocab-%.16s.f32", home, key);
    else out[0] = 0;
}

/* File: "IMGDEXV1", the 64-char key, then the label vectors in group order. */
static int cache_load(vcache *v)
{
    char path[4096];
    cache_path(v->key, path, sizeof path);
    if (!path[0]) return -1;
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    char head[8 + 64];
    size_t total = vocab_total() * (size_t)v->dim;
    float *all = xmalloc(total * sizeof *all);
    int ok = fread(head, 1, sizeof head, f) == sizeof head && !memcmp(head, "IMGDEXV1", 8) &&
             !memcmp(head + 8, v->key, 64) && fread(all, sizeof *all, total, f) == total && fgetc(f) == EOF;
    fclose(f);
    for (size_t i = 0; ok && i < total; i++) ok = isfinite(all[i]);
    if (!ok) { free(all); return -1; }
    size_t off = 0;
    for (int g = 0; g < VOCAB_NGROUPS; g++) {
        size_t n = (size_t)vocab_groups[g].nlabels * (size_t)v->dim;
        v->emb[g] = xmalloc(n * sizeof(float));
        memcpy(v->emb[g], all + off, n * sizeof(float));
        off += n;
    }
    free(all);
    return 0;
}

/* Best effort: a cache that cannot be written only costs time next run. */
static void cache_save(const vcache *v)
{
    char path[4096], tmp[4200];
    cache_path(v->key, path, sizeof path);
    if (!path[0]) return;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) return;
    *slash = 0;
    ierr e = {0};
    if (path_mkdirs(dir, &e) != 0) return;
    snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) return;
    int ok = fwrite("IMGDEXV1", 1, 8, f) == 8 && fwrite(v->key, 1, 64, f) == 64;
    for (int g = 0; ok && g < VOCAB_NGROUPS; g++) {
        size_t n = (size_t)vocab_groups[g].nlabels * (size_t)v->dim;
        ok = fwrite(v->emb[g], sizeof(float), n, f) == n;
    }
    if (fclose(f) != 0) ok = 0;
    if (ok) ok = rename(tmp, path) == 0;
    if (!ok) unlink(tmp);
}

static int vocab_compute(const embedder *m, vcache *v, ierr *e)
{
    enum { BATCH = 64 };
    for (int g = 0; g < VOCAB_NGROUPS; g++) {
        const vocab_group *vg = &vocab_groups[g];
        int np = vg->nlabels * vg->ntemplates;
        char **texts = xmalloc((size_t)np * sizeof *texts);
        for (int l = 0; l < vg->nlabels; l++)
            for (int t = 0; t < vg->ntemplates; t++) {
                char buf[256];
                snprintf(buf, sizeof buf, vg->templates[t], vg->labels[l]);
                texts[l * vg->ntemplates + t] = xstrdup(buf);
            }
        float *out = xmalloc((size_t)np * (size_t)m->dim * sizeof *out);
        int rc = 0;
        for (int i = 0; i < np && !rc; i += BATCH) {
            int n = np - i < BATCH ? np - i : BATCH;
            rc = m->embed_texts(m->ctx, (const char *const *)texts + i, n, out + (size_t)i * m->dim, e);
        }
        for (int i = 0; i < np; i++) free(texts[i]);
        free(texts);
        if (rc) { free(out); return -1; }
        /* Prompt ensemble: the mean of a label's template embeddings. */
        v->emb[g] = xcalloc((size_t)vg->nlabels * (size_t)m->dim, sizeof(float));
        for (int l = 0; l < vg->nlabels; l++) {
            float *dst = v->emb[g] + (size_t)l * m->dim;
            for (int t = 0; t < vg->ntemplates; t++) {
                const float *src = out + (size_t)(l * vg->ntemplates + t) * m->dim;
                for (int k = 0; k < m->dim; k++) dst[k] += src[k];
            }
            normalise(dst, m->dim);
        }
        free(out);
    }
    return 0;
}

static vcache *vocab_get(const embedder *m, ierr *e)
{
    vocab_init();
    float *probe = xmalloc((size_t)m->dim * sizeof *probe);
    const char *pt = "a photo.";
    if (m->embed_texts(m->ctx, &pt, 1, probe, e) != 0) { free(probe); return NULL; }
    char key[65];
    vocab_key(m, probe, key);
    free(probe);
    pthread_mutex_lock(&vmu);
    vcache *v = vcaches;
    while (v && strcmp(v->key, key)) v = v->next;
    if (!v) {
        v = xcalloc(1, sizeof *v);
        memcpy(v->key, key, sizeof key);
        v->dim = m->dim;
        if (cache_load(v) != 0) {
            double t0 = now_seconds();
            if (vocab_compute(m, v, e) != 0) {
                for (int g = 0; g < VOCAB_NGROUPS; g++) free(v->emb[g]);
                free(v);
                pthread_mutex_unlock(&vmu);
                return NULL;
            }
            log_info("describe: embedded the CLIP vocabulary (%zu labels) in %.1f s", vocab_total(),
                     now_seconds() - t0);
            cache_save(v);
        }
        v->next = vcaches;
        vcaches = v;
    }
    pthread_mutex_unlock(&vmu);
    return v;
}

/* ---- the stage ----------------------------------------------------------- */

typedef struct memo { char *text; float *vec; } memo;

struct clip_stage {
    embedder m;
    vcache *v;
    memo memo[TEXT_MEMO];
    int nmemo;
};

clip_stage *clip_stage_open(const embedder *emb, ierr *e)
{
    if (!emb || emb->dim <= 0 || !emb->embed_images || !emb->embed_texts) {
        err_set(e, "clip stage: no embedder");
        return NULL;
    }
    vcache *v = vocab_get(emb, e);
    if (!v) return NULL;
    clip_stage *c = xcalloc(1, sizeof *c);
    c->m = *emb;
    if (c->m.logit_scale <= 0) c->m.logit_scale = 100;
    c->v = v;
    return c;
}

static void memo_clear(clip_stage *c)
{
    for (int i = 0; i < TEXT_MEMO; i++) {
        free(c->memo[i].text);
        free(c->memo[i].vec);
        c->memo[i].text = NULL;
        c->memo[i].vec = NULL;
    }
    c->nmemo = 0;
}

void clip_stage_close(clip_stage *c)
{
    if (!c) return;
    memo_clear(c);
    free(c);
}

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;   /* FNV-1a */
    while (*s) { h ^= (uint8_t)*s++; h *= 16777619u; }
    return h;
}

static memo *memo_slot(clip_stage *c, const char *text)
{
    uint32_t h = hash_str(text);
    for (uint32_t i = 0; i < TEXT_MEMO; i++) {
        memo *m = &c->memo[(h + i) % TEXT_MEMO];
        if (!m->text || !strcmp(m->text, text)) return m;
    }
    return NULL;
}

/* Text embeddings through the memo; out gets n × dim. */
static int embed_texts_memo(clip_stage *c, const char *const *texts, int n, float *out, ierr *e)
{
    int dim = c->m.dim;
    if (c->nmemo + n > TEXT_MEMO * 3 / 4) memo_clear(c);   /* keep probing short */
    const char **todo = xmalloc((size_t)n * sizeof *todo);
    int *where = xmalloc((size_t)n * sizeof *where), nt = 0;
    for (int i = 0; i < n; i++) {
        memo *m = memo_slot(c, texts[i]);
        if (m && m->text) memcpy(out + (size_t)i * dim, m->vec, (size_t)dim * sizeof *out);
        else { where[nt] = i; todo[nt++] = texts[i]; }
    }
    int rc = 0;
    if (nt) {
        float *tmp = xmalloc((size_t)nt * (size_t)dim * sizeof *tmp);
        rc = c->m.embed_texts(c->m.ctx, todo, nt, tmp, e);
        for (int j = 0; !rc && j < nt; j++) {
            memcpy(out + (size_t)where[j] * dim, tmp + (size_t)j * dim, (size_t)dim * sizeof *out);
            memo *m = memo_slot(c, todo[j]);
            if (m && !m->text) {
                m->text = xstrdup(todo[j]);
                m->vec = xmalloc((size_t)dim * sizeof *m->vec);
                memcpy(m->vec, tmp + (size_t)j * dim, (size_t)dim * sizeof *m->vec);
                c->nmemo++;
            }
        }
        free(tmp);
    }
    free(todo);
    free(where);
    return rc;
}

/* A square-ish crop around a region with a margin (CLIP centre-crops to a
 * square, which would cut a tall person's head and feet otherwise). */
void region_crop(const img *im, const region *r, img *out)
{
    float w = (r->x1 - r->x0) * (float)im->w, h = (r->y1 - r->y0) * (float)im->h;
    float cx = r->cx * (float)im->w, cy = r->cy * (float)im->h;
    float side = fmaxf(w, h) * 1.1f;
    int x0 = (int)floorf(cx - side / 2), y0 = (int)floorf(cy - side / 2);
    int x1 = (int)ceilf(cx + side / 2), y1 = (int)ceilf(cy + side / 2);
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > im->w) x1 = im->w;
    if (y1 > im->h) y1 = im->h;
    if (x1 <= x0) x1 = x0 + 1 <= im->w ? x0 + 1 : im->w, x0 = x1 - 1;
    if (y1 <= y0) y1 = y0 + 1 <= im->h ? y0 + 1 : im->h, y0 = y1 - 1;
    out->w = x1 - x0;
    out->h = y1 - y0;
    out->px = xmalloc((size_t)out->w * (size_t)out->h * 3);
    for (int y = 0; y < out->h; y++)
        memcpy(out->px + (size_t)y * out->w * 3, im->px + ((size_t)(y0 + y) * im->w + (size_t)x0) * 3,
               (size_t)out->w * 3);
}

static void add_tag(description *ds, const char *group, const char *label, int region, float p)
{
    ds->tags = xrealloc(ds->tags, (size_t)(ds->ntags + 1) * sizeof *ds->tags);
    desc_tag *t = &ds->tags[ds->ntags++];
    memset(t, 0, sizeof *t);
    snprintf(t->label, sizeof t->label, "%s", label);
    snprintf(t->group, sizeof t->group, "%s", group);
    t->region = region;
    t->score = p;
}

/* Softmax over a group's labels for one embedding; the k best at or above
 * min_p are added as tags.  Returns the best label index (or -1). */
static int zero_shot(clip_stage *c, int g, const float *emb, int region, int k, float min_p, description *ds)
{
    const vocab_group *vg = &vocab_groups[g];
    int n = vg->nlabels, dim = c->m.dim;
    float *p = xmalloc((size_t)n * sizeof *p);
    float mx = -1e30f;
    for (int i = 0; i < n; i++) {
        p[i] = c->m.logit_scale * dot(emb, c->v->emb[g] + (size_t)i * dim, dim);
        if (p[i] > mx) mx = p[i];
    }
    double sum = 0;
    for (int i = 0; i < n; i++) { p[i] = expf(p[i] - mx); sum += p[i]; }
    int first = -1;
    for (int j = 0; j < k; j++) {
        int best = 0;
        for (int i = 1; i < n; i++) if (p[i] > p[best]) best = i;
        float prob = (float)(p[best] / sum);
        if (prob < min_p) break;
        if (first < 0) first = best;
        add_tag(ds, vg->name, vg->labels[best], region, prob);
        p[best] = -1;
    }
    free(p);
    return first;
}

static void scene_word(description *ds, const char *w)
{
    size_t len = strlen(ds->scene);
    if (strstr(ds->scene, w)) return;
    if (len + strlen(w) + 2 < sizeof ds->scene)
        snprintf(ds->scene + len, sizeof ds->scene - len, "%s%s", len ? " " : "", w);
}

int clip_stage_run(clip_stage *c, const img *im, description *ds, char *place, size_t place_n, ierr *e)
{
    int dim = c->m.dim;
    /* The larger regions, biggest first. */
    int idx[MAX_CROPS + MAX_SEG_CROPS], nc = 0;
    for (int pass = 0; pass < MAX_CROPS + MAX_SEG_CROPS; pass++) {
        /* Detected things first; then SAM segments no box named (after the
         * largest things, so that segments never crowd them out). */
        int seg = pass >= MAX_CROPS, best = -1;
        for (int i = 1; i < ds->nregions; i++) {
            const region *r = &ds->regions[i];
            int want = seg ? r->kind == REGION_SEGMENT && !r->label[0] : r->kind == REGION_OBJECT || r->kind == REGION_FACE;
            if (!want || r->area < 0.01f) continue;
            int taken = 0;
            for (int j = 0; j < nc; j++) taken |= idx[j] == i;
            if (!taken && (best < 0 || r->area > ds->regions[best].area)) best = i;
        }
        if (best >= 0) idx[nc++] = best;
        else if (seg) break;
        else pass = MAX_CROPS - 1;
    }
    img crops[MAX_CROPS + MAX_SEG_CROPS];
    const img *ims[MAX_CROPS + MAX_SEG_CROPS + 1];
    ims[0] = im;
    for (int j = 0; j < nc; j++) {
        region_crop(im, &ds->regions[idx[j]], &crops[j]);
        ims[j + 1] = &crops[j];
    }
    float *out = xmalloc((size_t)(nc + 1) * (size_t)dim * sizeof *out);
    int rc = c->m.embed_images(c->m.ctx, ims, nc + 1, out, e);
    for (int j = 0; j < nc; j++) free(crops[j].px);
    if (rc) { free(out); return -1; }

    free(ds->embedding);
    ds->embedding = xmalloc((size_t)dim * sizeof(float));
    memcpy(ds->embedding, out, (size_t)dim * sizeof(float));
    ds->emb_dim = dim;
    snprintf(ds->emb_model, sizeof ds->emb_model, "%s", c->m.name);
    for (int j = 0; j < nc; j++) {
        region *r = &ds->regions[idx[j]];
        free(r->embedding);
        r->embedding = xmalloc((size_t)dim * sizeof(float));
        memcpy(r->embedding, out + (size_t)(j + 1) * dim, (size_t)dim * sizeof(float));
        r->emb_dim = dim;
    }

    /* Whole image: a few labels per group. */
    if (place && place_n) place[0] = 0;
    for (int g = 0; g < VOCAB_NGROUPS; g++) {
        int first = ds->ntags;
        int best = zero_shot(c, g, out, 0, 3, vocab_groups[g].min_prob, ds);
        if (best < 0) continue;
        const char *gn = vocab_groups[g].name;
        if (!strcmp(gn, "scene") || !strcmp(gn, "attribute") || !strcmp(gn, "activity"))
            for (int t = first; t < ds->ntags; t++) scene_word(ds, ds->tags[t].label);
        if (!strcmp(gn, "scene") && place && ds->tags[first].score >= 0.25f)
            snprintf(place, place_n, "%s", ds->tags[first].label);
    }
    /* Each embedded region: what CLIP would call it, when sure. */
    for (int j = 0; j < nc; j++) {
        region *r = &ds->regions[idx[j]];
        int seg = r->kind == REGION_SEGMENT;
        int first = ds->ntags;
        int best = zero_shot(c, 0, out + (size_t)(j + 1) * dim, idx[j], 1, seg ? SEG_MIN_P : 0.3f, ds);
        /* A segment no detector box named takes CLIP's name for it. */
        if (seg && best >= 0) {
            snprintf(r->label, sizeof r->label, "%s", ds->tags[first].label);
            r->score = ds->tags[first].score;
        }
    }
    free(out);
    return 0;
}

/* ---- candidate captions -------------------------------------------------- */

static int add_cand(char cands[][160], int n, const char *s)
{
    if (n >= MAX_CANDIDATES || !s || !*s) return n;
    for (int i = 0; i < n; i++)
        if (!strcmp(cands[i], s)) return n;
    snprintf(cands[n], 160, "%s", s);
    return n + 1;
}

/* Best tags of a group on the whole image, best first. */
static int top_tags(const description *ds, const char *group, const char **out, int max)
{
    int n = 0;
    for (int i = 0; i < ds->ntags && n < max; i++)
        if (ds->tags[i].region == 0 && !strcmp(ds->tags[i].group, group)) out[n++] = ds->tags[i].label;
    return n;
}

int clip_stage_caption(clip_stage *c, description *ds, ierr *e)
{
    ds->clip_caption[0] = 0;
    if (!ds->embedding || ds->emb_dim != c->m.dim) return 0;
    char subj[4][160];
    int ns = caption_subjects(ds, subj, 3);
    const char *objs[3];
    int no = top_tags(ds, "object", objs, 2);
    for (int i = 0; i < no && ns < 4; i++) {
        int dup = 0;
        for (int j = 0; j < ns; j++) dup |= strstr(subj[j], objs[i]) != NULL;
        if (!dup) snprintf(subj[ns++], 160, "%s %s", caption_article(objs[i]), objs[i]);
    }
    const char *places[2], *acts[2];
    int np = top_tags(ds, "scene", places, 2), na = top_tags(ds, "activity", acts, 1);

    char cands[MAX_CANDIDATES][160];
    int n = 0;
    /* subject [activity] [place], most specific first */
    for (int s = 0; s < ns; s++)
        for (int a = na; a >= 0; a--)
            for (int p = np; p >= 0; p--) {
                char buf[160];
                int len = snprintf(buf, sizeof buf, "%s", subj[s]);
                if (a < na) len += snprintf(buf + len, sizeof buf - (size_t)len, " %s", acts[a]);
                if (p < np)
                    snprintf(buf + len, sizeof buf - (size_t)len, " %s %s %s", caption_place_prep(places[p]),
                             caption_article(places[p]), places[p]);
                n = add_cand(cands, n, buf);
            }
    /* the strongest relation between two different things */
    char rel[160];
    if (caption_relation(ds, rel, sizeof rel)) n = add_cand(cands, n, rel);
    if (!n) return 0;

    const char *texts[MAX_CANDIDATES];
    char prompts[MAX_CANDIDATES][180];
    for (int i = 0; i < n; i++) {
        snprintf(prompts[i], sizeof prompts[i], "a photo of %s.", cands[i]);
        texts[i] = prompts[i];
    }
    float *emb = xmalloc((size_t)n * (size_t)c->m.dim * sizeof *emb);
    if (embed_texts_memo(c, texts, n, emb, e) != 0) { free(emb); return -1; }
    int best = 0;
    float bs = -2;
    for (int i = 0; i < n; i++) {
        float s = dot(ds->embedding, emb + (size_t)i * c->m.dim, c->m.dim);
        if (s > bs) { bs = s; best = i; }
    }
    free(emb);
    snprintf(ds->clip_caption, sizeof ds->clip_caption, "%s", cands[best]);
    return 0;
}

int clip_stage_pick(clip_stage *c, const description *ds, const char *const *cands, int n, ierr *e)
{
    return clip_stage_pick_emb(c, ds->embedding, ds->emb_dim, cands, n, e);
}

int clip_stage_pick_emb(clip_stage *c, const float *image, int dim, const char *const *cands, int n, ierr *e)
{
    if (n <= 0 || !image || dim != c->m.dim) return 0;
    char (*prompts)[300] = xmalloc((size_t)n * sizeof *prompts);
    const char **texts = xmalloc((size_t)n * sizeof *texts);
    for (int i = 0; i < n; i++) {
        snprintf(prompts[i], sizeof prompts[i], "a photo of %s.", cands[i]);
        texts[i] = prompts[i];
    }
    float *emb = xmalloc((size_t)n * (size_t)c->m.dim * sizeof *emb);
    int best = -1;
    if (embed_texts_memo(c, texts, n, emb, e) == 0) {
        float bs = -2;
        best = 0;
        for (int i = 0; i < n; i++) {
            float s = dot(image, emb + (size_t)i * c->m.dim, c->m.dim);
            if (s > bs) { bs = s; best = i; }
        }
    }
    free(emb);
    free(texts);
    free(prompts);
    return best;
}

/* ---- wiring to src/models/clip ------------------------------------------ */

/* One CLIP model per process, shared by every describer: it is read-only
 * once open and its embed calls are thread-safe (clip.h). */
static pthread_mutex_t cmu = PTHREAD_MUTEX_INITIALIZER;
static clip_model *shared_clip;
static int shared_refs;

static int emb_images(void *ctx, const img *const *ims, int n, float *out, ierr *e)
{
    return clip_embed_images(ctx, ims, n, out, e);
}

static int emb_texts(void *ctx, const char *const *texts, int n, float *out, ierr *e)
{
    return clip_embed_texts(ctx, texts, n, out, e);
}

static void release_clip(void)
{
    pthread_mutex_lock(&cmu);
    if (--shared_refs == 0) { clip_close(shared_clip); shared_clip = NULL; }
    pthread_mutex_unlock(&cmu);
}

int stage_clip_open(describer *d, stage_state *st, ierr *why)
{
    vocab_init();
    if (!d->o.clip) { snprintf(st->model, sizeof st->model, "off"); return -1; }
    pthread_mutex_lock(&cmu);
    if (!shared_clip) shared_clip = clip_open_default(why);
    if (shared_clip) shared_refs++;
    clip_model *m = shared_clip;
    pthread_mutex_unlock(&cmu);
    if (!m) { snprintf(st->model, sizeof st->model, "missing"); return -1; }
    embedder emb = {m, clip_dim(m), clip_logit_scale(m), clip_name(m), emb_images, emb_texts};
    clip_stage *c = clip_stage_open(&emb, why);
    if (!c) {
        release_clip();
        snprintf(st->model, sizeof st->model, "failed");
        return -1;
    }
    st->h = c;
    snprintf(st->model, sizeof st->model, "%s", clip_name(m));
    return 0;
}

int stage_clip_run(dctx *c, stage_state *st, ierr *e)
{
    description *ds = c->ds;
    int named = 0;
    for (int i = 1; i < ds->nregions; i++) named += ds->regions[i].kind == REGION_SEGMENT && ds->regions[i].label[0];
    if (clip_stage_run(st->h, c->im, ds, c->place, sizeof c->place, e) != 0) return -1;
    /* Segments CLIP just named take part in relations too. */
    int now = 0;
    for (int i = 1; i < ds->nregions; i++) now += ds->regions[i].kind == REGION_SEGMENT && ds->regions[i].label[0];
    if (now > named && describer_stage_on(c->d, "relations")) {
        free(ds->relations);
        ds->nrelations = relations_compute(ds->regions, ds->nregions, RELATION_MIN_WEIGHT, &ds->relations);
    }
    return 0;
}

void stage_clip_close(describer *d, stage_state *st)
{
    (void)d;
    clip_stage_close(st->h);
    st->h = NULL;
    release_clip();
}

stage_state *clip_state(describer *d)
{
    for (int i = 0; i < NSTAGES; i++)
        if (!strcmp(stage_table[i].name, "clip")) return &d->st[i];
    return NULL;
}

int stage_clipcap_open(describer *d, stage_state *st, ierr *why)
{
    stage_state *cs = clip_state(d);
    if (!cs || !cs->on) { err_set(why, "needs the clip stage"); return -1; }
    snprintf(st->model, sizeof st->model, "%s", cs->model);
    return 0;
}

int stage_clipcap_run(dctx *c, stage_state *st, ierr *e)
{
    (void)st;
    return clip_stage_caption(clip_state(c->d)->h, c->ds, e);
}
