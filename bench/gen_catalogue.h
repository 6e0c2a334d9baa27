/* gen_catalogue.h — a synthetic catalogue with the statistics of real photos,
 * for benchmarking search (included by bench/bench_query.c).
 *
 * Labels follow the COCO-2017 instance frequencies (person in about half
 * the images, a long tail of the other 79), an image holds a few kinds of
 * thing with a few instances each (crowds of people, herds of sheep), boxes
 * have realistic sizes, colours come from the describer's palette, persons
 * often have a face with age/gender/emotion, some images carry OCR words.
 * Geometry, relations, caption and scene words are computed by the
 * describer's own code (describe/internal.h), and everything is stored in
 * the real schema: cat_open creates it, rows go in through the same columns
 * cat_put writes, tokens through tokens_put — only in big transactions.
 */
#ifndef IMGDEX_GEN_CATALOGUE_H
#define IMGDEX_GEN_CATALOGUE_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe/internal.h"
#include "index/catalogue.h"
#include "index/tokens.h"

/* COCO-80 in the standard order, with approximate instance counts in
 * COCO-2017 train (thousands), which give the label frequencies. */
static const struct { const char *label; float kinst; float per_img; } gen_coco[80] = {
    {"person", 262, 2.9f}, {"bicycle", 7.1f, 1.8f}, {"car", 44, 2.3f}, {"motorcycle", 8.7f, 1.6f},
    {"airplane", 5.1f, 1.3f}, {"bus", 6.0f, 1.3f}, {"train", 4.6f, 1.1f}, {"truck", 10, 1.5f},
    {"boat", 10, 1.9f}, {"traffic light", 13, 2.0f}, {"fire hydrant", 1.9f, 1.0f},
    {"stop sign", 2.0f, 1.0f}, {"parking meter", 1.3f, 1.3f}, {"bench", 9.8f, 1.3f},
    {"bird", 10, 2.0f}, {"cat", 4.8f, 1.1f}, {"dog", 5.5f, 1.2f}, {"horse", 6.6f, 1.7f},
    {"sheep", 9.5f, 3.0f}, {"cow", 8.1f, 2.6f}, {"elephant", 5.5f, 2.0f}, {"bear", 1.3f, 1.2f},
    {"zebra", 5.3f, 2.0f}, {"giraffe", 5.1f, 1.6f}, {"backpack", 8.7f, 1.3f}, {"umbrella", 11, 1.7f},
    {"handbag", 12, 1.3f}, {"tie", 6.5f, 1.3f}, {"suitcase", 6.2f, 2.0f}, {"frisbee", 2.7f, 1.0f},
    {"skis", 6.6f, 1.3f}, {"snowboard", 2.7f, 1.1f}, {"sports ball", 6.3f, 1.0f},
    {"kite", 9.1f, 2.3f}, {"baseball bat", 3.3f, 1.0f}, {"baseball glove", 3.7f, 1.1f},
    {"skateboard", 5.5f, 1.1f}, {"surfboard", 6.1f, 1.4f}, {"tennis racket", 4.8f, 1.0f},
    {"bottle", 24, 2.7f}, {"wine glass", 7.9f, 2.4f}, {"cup", 20, 2.3f}, {"fork", 5.5f, 1.3f},
    {"knife", 7.8f, 1.5f}, {"spoon", 6.2f, 1.4f}, {"bowl", 14, 1.9f}, {"banana", 9.5f, 3.0f},
    {"apple", 5.9f, 3.0f}, {"sandwich", 4.4f, 1.8f}, {"orange", 6.3f, 3.0f}, {"broccoli", 7.3f, 3.0f},
    {"carrot", 7.8f, 3.0f}, {"hot dog", 2.9f, 2.0f}, {"pizza", 5.8f, 1.8f}, {"donut", 7.2f, 3.0f},
    {"cake", 6.3f, 2.0f}, {"chair", 38, 2.7f}, {"couch", 5.8f, 1.3f}, {"potted plant", 8.6f, 2.0f},
    {"bed", 4.2f, 1.1f}, {"dining table", 16, 1.1f}, {"toilet", 4.2f, 1.1f}, {"tv", 5.8f, 1.2f},
    {"laptop", 4.9f, 1.4f}, {"mouse", 2.3f, 1.1f}, {"remote", 5.7f, 1.5f}, {"keyboard", 2.9f, 1.2f},
    {"cell phone", 6.4f, 1.3f}, {"microwave", 1.7f, 1.0f}, {"oven", 3.3f, 1.1f}, {"toaster", 0.2f, 1.0f},
    {"sink", 5.6f, 1.2f}, {"refrigerator", 2.6f, 1.0f}, {"book", 24, 4.0f}, {"clock", 6.3f, 1.1f},
    {"vase", 6.6f, 1.4f}, {"scissors", 1.5f, 1.2f}, {"teddy bear", 4.8f, 1.5f},
    {"hair drier", 0.2f, 1.0f}, {"toothbrush", 1.9f, 1.5f},
};

/* Typical box side (fraction of the frame) per label, roughly. */
static float gen_side(int cls)
{
    switch (cls) {
    case 0: return 0.35f;
    case 4: case 5: case 6: case 7: case 8: case 20: case 23: case 59: case 60: case 62: return 0.5f;
    case 2: case 17: case 18: case 19: case 22: case 57: return 0.35f;
    case 9: case 26: case 27: case 32: case 39: case 40: case 41: case 42: case 43: case 44:
    case 64: case 65: case 67: case 73: case 74: case 76: case 79: return 0.1f;
    }
    return 0.25f;
}

static const char *const gen_palette[] = {"red", "orange", "yellow", "green", "blue", "purple",
                                          "pink", "brown", "black", "white", "grey"};
/* How common each colour is as a dominant colour of a thing. */
static const float gen_palette_w[] = {6, 2, 3, 5, 7, 1, 2, 10, 14, 14, 12};

static const char *const gen_ocr_words[] = {
    "stop", "open", "exit", "sale", "coffee", "hotel", "police", "taxi", "bus", "street", "main",
    "parking", "welcome", "cafe", "bar", "pizza", "bank", "market", "station", "city", "one", "way",
    "hours", "24", "no", "entry", "school", "beach", "park", "museum", "free", "wifi",
};
static const char *const gen_cameras[] = {"Canon EOS 5D", "NIKON D750", "Apple iPhone 12", "SONY ILCE-7M3",
                                          "samsung SM-G991B", "FUJIFILM X-T3", "Canon PowerShot G7", ""};
static const char *const gen_places[] = {"holidays", "family", "work", "2019", "trips/paris", "garden",
                                         "phone", "wedding", "beach", "camera"};
static const char *const gen_emotions[] = {"happy", "neutral", "sad", "surprise", "angry"};

typedef struct gen_rng { uint64_t s; } gen_rng;
static uint64_t gen_next(gen_rng *r)
{
    r->s ^= r->s >> 12; r->s ^= r->s << 25; r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1DULL;
}
static float gen_unif(gen_rng *r) { return (float)((gen_next(r) >> 40) * (1.0 / 16777216.0)); }
static int gen_pick(gen_rng *r, const float *w, int n, float total)
{
    float x = gen_unif(r) * total;
    for (int i = 0; i < n; i++) { x -= w[i]; if (x < 0) return i; }
    return n - 1;
}

typedef struct gen_stats {
    long images, regions, relations, words, terms;
    double seconds;
} gen_stats;

typedef struct gen_stmts { sqlite3_stmt *img, *reg, *rel, *ocr; } gen_stmts;

static int gen_step(sqlite3 *db, sqlite3_stmt *st, ierr *e)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) { err_set(e, "generator: %s", sqlite3_errmsg(db)); return -1; }
    return 0;
}

/* One synthetic image: fills ds (regions/relations/words/caption/scene). */
static void gen_image(gen_rng *r, const float *img_w, float img_total, description *ds,
                      region *regs, int max_regs, ocr_word *words, int *nwords, img_meta *meta)
{
    memset(ds, 0, sizeof *ds);
    memset(meta, 0, sizeof *meta);
    int landscape = gen_unif(r) < 0.7f;
    ds->width = landscape ? 640 + 64 * (int)(gen_unif(r) * 60) : 480 + 32 * (int)(gen_unif(r) * 30);
    ds->height = landscape ? ds->width * 3 / 4 : ds->width * 4 / 3;
    meta->orig_w = ds->width; meta->orig_h = ds->height;
    snprintf(meta->format, sizeof meta->format, "jpeg");
    snprintf(meta->taken_at, sizeof meta->taken_at, "%04d-%02d-%02d %02d:%02d:00",
             2005 + (int)(gen_unif(r) * 20), 1 + (int)(gen_unif(r) * 12), 1 + (int)(gen_unif(r) * 28),
             (int)(gen_unif(r) * 24), (int)(gen_unif(r) * 60));
    snprintf(meta->camera, sizeof meta->camera, "%s", gen_cameras[gen_next(r) % 8]);
    ds->brightness = 0.2f + 0.6f * gen_unif(r);

    int n = 0;
    memset(&regs[0], 0, sizeof regs[0]);
    regs[0].kind = REGION_IMAGE;
    snprintf(regs[0].label, sizeof regs[0].label, "image");
    regs[0].x1 = regs[0].y1 = 1;
    regs[0].score = 1;
    region_geometry(&regs[0]);
    n = 1;
    /* Kinds of thing per photo as the describer finds them on Flickr8k
     * (200 dev images, see docs/tokens.md): none 10 %, one 61 %, two 21 %,
     * three 6.5 %, four 1.5 %. */
    static const float kinds_w[5] = {10, 61, 21, 6.5f, 1.5f};
    int kinds = gen_pick(r, kinds_w, 5, 100);
    int person_idx[32], npersons = 0;
    for (int k = 0; k < kinds && n < max_regs - 2; k++) {
        int cls = gen_pick(r, img_w, 80, img_total), dup = 0;
        for (int q = 1; q < n; q++) if (!strcmp(regs[q].label, gen_coco[cls].label)) dup = 1;
        if (dup) cls = gen_pick(r, img_w, 80, img_total);
        /* instances: geometric around the label's mean count, which the
         * describer finds less often than COCO's annotators (persons 2.2
         * per photo with persons on Flickr8k against COCO's 2.9) */
        float mean = 1 + 0.6f * (gen_coco[cls].per_img - 1);
        int cnt = 1;
        while (cnt < 12 && gen_unif(r) < 1 - 1 / mean) cnt++;
        for (int i = 0; i < cnt && n < max_regs - 2; i++) {
            region *g = &regs[n];
            memset(g, 0, sizeof *g);
            g->kind = REGION_OBJECT;
            snprintf(g->label, sizeof g->label, "%s", gen_coco[cls].label);
            /* detector scores above the 0.3 threshold, mean ~0.5 as on Flickr8k */
            float u = gen_unif(r);
            g->score = 0.3f + 0.69f * u * u;
            float side = gen_side(cls) * (0.4f + 1.2f * gen_unif(r));
            float w = fminf(0.98f, side * (0.6f + 0.8f * gen_unif(r)));
            float h = fminf(0.98f, side * (0.6f + 0.8f * gen_unif(r)));
            g->x0 = gen_unif(r) * (1 - w); g->y0 = gen_unif(r) * (1 - h);
            g->x1 = g->x0 + w; g->y1 = g->y0 + h;
            region_geometry(g);
            int nc = 1 + (int)(gen_unif(r) * 3);
            float left = 1;
            for (int c = 0; c < nc; c++) {
                int p = gen_pick(r, gen_palette_w, 11, 76);
                float share = c == nc - 1 ? left * 0.8f : left * (0.45f + 0.4f * gen_unif(r));
                snprintf(g->colours[c].name, sizeof g->colours[c].name, "%s", gen_palette[p]);
                g->colours[c].share = share;
                left -= share;
            }
            g->ncolours = nc;
            if (cls == 0 && npersons < 32) person_idx[npersons++] = n;
            n++;
        }
    }
    /* faces: 40 % of persons show one, in the top of their box */
    for (int i = 0; i < npersons && n < max_regs; i++) {
        if (gen_unif(r) > 0.4f) continue;
        const region *p = &regs[person_idx[i]];
        region *f = &regs[n];
        memset(f, 0, sizeof *f);
        f->kind = REGION_FACE;
        snprintf(f->label, sizeof f->label, "face");
        f->score = 0.5f + 0.5f * gen_unif(r);
        float w = (p->x1 - p->x0) * 0.35f, h = (p->y1 - p->y0) * 0.2f;
        f->x0 = p->cx - w / 2; f->x1 = p->cx + w / 2; f->y0 = p->y0; f->y1 = p->y0 + h;
        region_geometry(f);
        snprintf(f->attrs, sizeof f->attrs, "age=%d gender=%s emotion=%s", 2 + (int)(gen_unif(r) * 75),
                 gen_unif(r) < 0.5f ? "male" : "female", gen_emotions[gen_next(r) % 5]);
        n++;
    }
    ds->regions = regs;
    ds->nregions = n;
    ds->nrelations = relations_compute(regs, n, 0.3f, &ds->relations);
    *nwords = 0;
    if (gen_unif(r) < 0.06f) {
        int nw = 1 + (int)(gen_unif(r) * 4);
        for (int i = 0; i < nw; i++) {
            ocr_word *w = &words[i];
            memset(w, 0, sizeof *w);
            snprintf(w->text, sizeof w->text, "%s", gen_ocr_words[gen_next(r) % 32]);
            w->conf = 0.6f + 0.4f * gen_unif(r);
            w->x0 = 0.1f * (float)i; w->y0 = 0.1f; w->x1 = w->x0 + 0.08f; w->y1 = 0.15f;
        }
        *nwords = nw;
    }
    ds->words = words;
    ds->nwords = *nwords;
    static const char *const places[] = {"", "", "", "beach", "street", "park", "kitchen", "field",
                                         "living room", "snow", "city", "garden"};
    caption_build(ds, places[gen_next(r) % 12], ds->caption, sizeof ds->caption);
    scene_build(ds, meta, ds->scene, sizeof ds->scene);
}

static int gen_insert(sqlite3 *db, gen_stmts *s, int64_t id, const description *ds, const img_meta *meta,
                      const char *path, ierr *e)
{
    sqlite3_stmt *st = s->img;
    char hash[65];
    sha256_hex(path, strlen(path), hash);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, path, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, 200000 + id % 5000000);
    sqlite3_bind_int64(st, 4, 1500000000000000000LL + id);
    sqlite3_bind_text(st, 5, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 6, ds->width);
    sqlite3_bind_int(st, 7, ds->height);
    sqlite3_bind_text(st, 8, meta->format, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, meta->taken_at, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, meta->camera, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 11, ds->caption, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 12, ds->clip_caption, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 13, ds->scene, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 14, ds->brightness);
    if (gen_step(db, st, e)) return -1;
    for (int i = 0; i < ds->nregions; i++) {
        const region *g = &ds->regions[i];
        char col[64] = "";
        size_t k = 0;
        for (int c = 0; c < g->ncolours; c++)
            k += (size_t)snprintf(col + k, sizeof col - k, "%s%s:%.2f", c ? " " : "", g->colours[c].name,
                                  (double)g->colours[c].share);
        st = s->reg;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, i);
        sqlite3_bind_int(st, 3, g->kind);
        sqlite3_bind_text(st, 4, g->label, -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 5, g->score);
        sqlite3_bind_double(st, 6, g->x0); sqlite3_bind_double(st, 7, g->y0);
        sqlite3_bind_double(st, 8, g->x1); sqlite3_bind_double(st, 9, g->y1);
        sqlite3_bind_double(st, 10, g->cx); sqlite3_bind_double(st, 11, g->cy);
        sqlite3_bind_double(st, 12, g->area);
        sqlite3_bind_int(st, 13, g->size);
        sqlite3_bind_text(st, 14, g->position, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 15, col, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 16, g->attrs, -1, SQLITE_STATIC);
        if (gen_step(db, st, e)) return -1;
    }
    for (int i = 0; i < ds->nrelations; i++) {
        st = s->rel;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, ds->relations[i].a);
        sqlite3_bind_int(st, 3, ds->relations[i].b);
        sqlite3_bind_text(st, 4, ds->relations[i].rel, -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 5, ds->relations[i].weight);
        if (gen_step(db, st, e)) return -1;
    }
    for (int i = 0; i < ds->nwords; i++) {
        const ocr_word *w = &ds->words[i];
        st = s->ocr;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, w->text, -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 3, w->conf);
        sqlite3_bind_double(st, 4, w->x0); sqlite3_bind_double(st, 5, w->y0);
        sqlite3_bind_double(st, 6, w->x1); sqlite3_bind_double(st, 7, w->y1);
        if (gen_step(db, st, e)) return -1;
    }
    return tokens_put(db, id, ds, e);
}

/* Secondary indexes of the big tables, dropped for a bulk load and built
 * again after it (a sort instead of a random b-tree insertion per row,
 * which at a million images made generation ten times slower). */
typedef struct gen_indexes { char *sql[32]; int n; } gen_indexes;

static int gen_drop_indexes(sqlite3 *db, gen_indexes *ix)
{
    sqlite3_stmt *st;
    ix->n = 0;
    if (sqlite3_prepare_v2(db, "SELECT name, sql FROM main.sqlite_master WHERE type='index' AND sql IS NOT NULL"
                               " AND tbl_name IN ('regions','relations','ocr_words','tok_terms','images','tags')",
                           -1, &st, NULL) != SQLITE_OK) return -1;
    while (sqlite3_step(st) == SQLITE_ROW && ix->n < 32)
        ix->sql[ix->n++] = xstrdup((const char *)sqlite3_column_text(st, 1));
    sqlite3_finalize(st);
    for (int i = 0; i < ix->n; i++) {
        /* "CREATE INDEX name ON ..." -> DROP INDEX name */
        char name[128] = "", drop[200];
        if (sscanf(ix->sql[i], "CREATE INDEX IF NOT EXISTS %127s", name) != 1 &&
            sscanf(ix->sql[i], "CREATE INDEX %127s", name) != 1 &&
            sscanf(ix->sql[i], "CREATE UNIQUE INDEX %127s", name) != 1) continue;
        snprintf(drop, sizeof drop, "DROP INDEX main.%s", name);
        if (sqlite3_exec(db, drop, NULL, NULL, NULL) != SQLITE_OK) return -1;
    }
    return 0;
}

static int gen_build_indexes(sqlite3 *db, gen_indexes *ix)
{
    int rc = 0;
    for (int i = 0; i < ix->n; i++) {
        if (!rc && sqlite3_exec(db, ix->sql[i], NULL, NULL, NULL) != SQLITE_OK) rc = -1;
        free(ix->sql[i]);
    }
    ix->n = 0;
    return rc;
}

/* Creates path (which must not exist) with n images.  Deterministic in seed. */
static int gen_catalogue(const char *path, long n, uint64_t seed, gen_stats *stats, ierr *e)
{
    double t0 = now_seconds();
    memset(stats, 0, sizeof *stats);
    catalogue *c = cat_open(path, 0, e);
    if (!c) return -1;
    sqlite3 *db = cat_db(c);
    sqlite3_exec(db, "PRAGMA synchronous=OFF; PRAGMA cache_size=-262144; PRAGMA temp.cache_size=-131072",
                 NULL, NULL, NULL);
    gen_stmts s = {0};
    gen_indexes ix = {.n = 0};
    int rc = -1;
    /* tokens_put writes "tok_terms", which resolves to a temp table of the
     * same name first: rows are appended in image order there and go into
     * the real table (clustered by term) in one sorted insert at the end. */
    if (gen_drop_indexes(db, &ix) != 0 ||
        sqlite3_exec(db, "CREATE TEMP TABLE tok_terms(term TEXT, image_id INTEGER, region INTEGER, source TEXT,"
                         " weight REAL); CREATE INDEX temp.tok_terms_by_image ON tok_terms(image_id)",
                     NULL, NULL, NULL) != SQLITE_OK) {
        err_set(e, "%s: generator: %s", path, sqlite3_errmsg(db));
        goto done;
    }
    if (sqlite3_prepare_v2(db,
            "INSERT INTO images(id, path, size, mtime_ns, hash, width, height, format, taken_at, camera,"
            " indexed_at, describer, caption, clip_caption, scene, brightness, stages)"
            " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,datetime('now'),'synthetic',?11,?12,?13,?14,"
            "'objects:synthetic')", -1, &s.img, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
            "INSERT INTO regions(image_id, idx, kind, label, score, x0, y0, x1, y1, cx, cy, area, size,"
            " position, colours, attrs) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)",
            -1, &s.reg, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO relations(image_id, a, b, rel, weight) VALUES(?1,?2,?3,?4,?5)",
                           -1, &s.rel, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO ocr_words(image_id, text, conf, x0, y0, x1, y1)"
                               " VALUES(?1,?2,?3,?4,?5,?6,?7)", -1, &s.ocr, NULL) != SQLITE_OK) {
        err_set(e, "%s: generator: %s", path, sqlite3_errmsg(db));
        goto done;
    }
    /* Per-image probability of each label: instances / instances-per-image. */
    float img_w[80], total = 0;
    /* Personal photos show people more often than COCO's per-kind draw
     * gives (~50 % of images): person counts double. */
    for (int i = 0; i < 80; i++) {
        img_w[i] = gen_coco[i].kinst / gen_coco[i].per_img * (i == 0 ? 2.2f : 1.0f);
        total += img_w[i];
    }
    gen_rng r = {seed ? seed : 0x9E3779B97F4A7C15ULL};
    region regs[40];
    ocr_word words[8];
    description ds;
    img_meta meta;
    const long batch = 20000;
    for (long i = 0; i < n; i++) {
        if (i % batch == 0 && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
            err_set(e, "%s: %s", path, sqlite3_errmsg(db));
            goto done;
        }
        int nw = 0;
        gen_image(&r, img_w, total, &ds, regs, 40, words, &nw, &meta);
        char p[256];
        snprintf(p, sizeof p, "/photos/%s/%04ld/IMG_%07ld.jpg", gen_places[gen_next(&r) % 10], i / 1000, i);
        int bad = gen_insert(db, &s, i + 1, &ds, &meta, p, e);
        stats->images++;
        stats->regions += ds.nregions;
        stats->relations += ds.nrelations;
        stats->words += ds.nwords;
        free(ds.relations);
        if (bad) goto done;
        if ((i % batch == batch - 1 || i == n - 1) &&
            sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
            err_set(e, "%s: %s", path, sqlite3_errmsg(db));
            goto done;
        }
        if (i % 100000 == 99999) {
            fprintf(stderr, "  generated %ld images (%.0f s)\n", i + 1, now_seconds() - t0);
        }
    }
    fprintf(stderr, "  described %ld images (%.0f s); sorting the terms and building the indexes\n", n,
            now_seconds() - t0);
    if (sqlite3_exec(db, "BEGIN; INSERT INTO main.tok_terms(term, image_id, region, source, weight)"
                         " SELECT term, image_id, region, source, weight FROM temp.tok_terms"
                         " ORDER BY term, image_id, region, source; DROP TABLE temp.tok_terms; COMMIT",
                     NULL, NULL, NULL) != SQLITE_OK || gen_build_indexes(db, &ix) != 0) {
        err_set(e, "%s: %s", path, sqlite3_errmsg(db));
        goto done;
    }
    fprintf(stderr, "  indexes built (%.0f s)\n", now_seconds() - t0);
    {
        sqlite3_stmt *q;
        if (sqlite3_prepare_v2(db, "SELECT count(*) FROM main.tok_terms", -1, &q, NULL) == SQLITE_OK &&
            sqlite3_step(q) == SQLITE_ROW)
            stats->terms = sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
    }
    /* statistics for the planner, sampled so a 1M catalogue does not pay a full scan */
    sqlite3_exec(db, "PRAGMA analysis_limit=2000; ANALYZE; PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    rc = 0;
done:
    if (rc) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    for (int i = 0; i < ix.n; i++) free(ix.sql[i]);
    sqlite3_finalize(s.img); sqlite3_finalize(s.reg); sqlite3_finalize(s.rel); sqlite3_finalize(s.ocr);
    cat_close(c);
    stats->seconds = now_seconds() - t0;
    return rc;
}

/* A large catalogue as copies of a generated one: 1M images are ten copies
 * of 100k, each under its own ids and paths.  Label, region, relation and
 * term statistics are exactly those of the base; only exact duplicates of
 * descriptions are new, which no query here can tell apart from chance.
 * Done in SQL (INSERT ... SELECT from the attached base) with the secondary
 * indexes dropped during the copy and rebuilt after (a sort instead of a
 * random b-tree insertion per row). */
static int gen_replicate(const char *path, const char *base_path, long base, long n, gen_stats *stats, ierr *e)
{
    double t0 = now_seconds();
    catalogue *c = cat_open(path, 0, e);
    if (!c) return -1;
    sqlite3 *db = cat_db(c);
    sqlite3_exec(db, "PRAGMA synchronous=OFF; PRAGMA cache_size=-524288; PRAGMA foreign_keys=OFF", NULL, NULL, NULL);
    static const char *const sql[] = {
        "INSERT INTO images(id, path, size, mtime_ns, hash, width, height, format, taken_at, camera,"
        " indexed_at, describer, caption, clip_caption, scene, brightness, stages)"
        " SELECT id + ?1, '/copy' || ?2 || path, size, mtime_ns, substr(hash, 1, 58) || printf('%06d', ?2),"
        " width, height, format, taken_at, camera, indexed_at, describer, caption, clip_caption, scene,"
        " brightness, stages FROM b.images ORDER BY id",
        "INSERT INTO regions(image_id, idx, kind, label, score, x0, y0, x1, y1, cx, cy, area, size, position,"
        " colours, attrs) SELECT image_id + ?1, idx, kind, label, score, x0, y0, x1, y1, cx, cy, area, size,"
        " position, colours, attrs FROM b.regions WHERE ?2 IS NOT NULL ORDER BY id",
        "INSERT INTO relations(image_id, a, b, rel, weight) SELECT image_id + ?1, a, b, rel, weight"
        " FROM b.relations WHERE ?2 IS NOT NULL",
        "INSERT INTO ocr_words(image_id, text, conf, x0, y0, x1, y1) SELECT image_id + ?1, text, conf,"
        " x0, y0, x1, y1 FROM b.ocr_words WHERE ?2 IS NOT NULL",
        "INSERT INTO tok_terms(term, image_id, region, source, weight) SELECT term, image_id + ?1, region,"
        " source, weight FROM b.tok_terms WHERE ?2 IS NOT NULL",
        "INSERT INTO tok_fts(rowid, labels, hyper, caption, ocr, attrs) SELECT rowid + ?1, labels, hyper,"
        " caption, ocr, attrs FROM b.tok_fts WHERE ?2 IS NOT NULL ORDER BY rowid",
    };
    int rc = -1, nidx = 0;
    char *idx_sql[32];
    sqlite3_stmt *st = NULL;
    char att[1200];
    char *q = sqlite3_mprintf("ATTACH %Q AS b", base_path);
    snprintf(att, sizeof att, "%s", q);
    sqlite3_free(q);
    if (sqlite3_exec(db, att, NULL, NULL, NULL) != SQLITE_OK) goto fail;
    /* secondary indexes of the big tables, to rebuild after the copy */
    if (sqlite3_prepare_v2(db, "SELECT name, sql FROM main.sqlite_master WHERE type='index' AND sql IS NOT NULL"
                               " AND tbl_name IN ('regions','relations','ocr_words','tok_terms','images')",
                           -1, &st, NULL) != SQLITE_OK) goto fail;
    while (sqlite3_step(st) == SQLITE_ROW && nidx < 32)
        idx_sql[nidx++] = xstrdup((const char *)sqlite3_column_text(st, 1));
    sqlite3_finalize(st);
    st = NULL;
    for (int i = 0; i < nidx; i++) {
        /* "CREATE INDEX name ON ..." -> DROP INDEX name */
        char name[128] = "";
        if (sscanf(idx_sql[i], "CREATE INDEX %127s", name) != 1 &&
            sscanf(idx_sql[i], "CREATE UNIQUE INDEX %127s", name) != 1) continue;
        char drop[200];
        snprintf(drop, sizeof drop, "DROP INDEX main.%s", name);
        if (sqlite3_exec(db, drop, NULL, NULL, NULL) != SQLITE_OK) goto fail;
    }
    for (long k = 0; base * (k + 1) <= n; k++) {
        if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) goto fail;
        for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
            if (sqlite3_prepare_v2(db, sql[i], -1, &st, NULL) != SQLITE_OK) goto fail;
            sqlite3_bind_int64(st, 1, (sqlite3_int64)(base * k));
            sqlite3_bind_int64(st, 2, (sqlite3_int64)k);
            int s = sqlite3_step(st);
            sqlite3_finalize(st);
            st = NULL;
            if (s != SQLITE_DONE) goto fail;
        }
        if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) goto fail;
        stats->images += base;
        fprintf(stderr, "  copy %ld: %ld images (%.0f s)\n", k, base * (k + 1), now_seconds() - t0);
    }
    for (int i = 0; i < nidx; i++)
        if (sqlite3_exec(db, idx_sql[i], NULL, NULL, NULL) != SQLITE_OK) goto fail;
    fprintf(stderr, "  indexes rebuilt (%.0f s)\n", now_seconds() - t0);
    sqlite3_exec(db, "DETACH b; PRAGMA analysis_limit=2000; ANALYZE; PRAGMA wal_checkpoint(TRUNCATE)",
                 NULL, NULL, NULL);
    rc = 0;
fail:
    if (rc) {
        err_set(e, "%s: replicating: %s", path, sqlite3_errmsg(db));
        sqlite3_finalize(st);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }
    for (int i = 0; i < nidx; i++) free(idx_sql[i]);
    cat_close(c);
    stats->seconds += now_seconds() - t0;
    return rc;
}

#endif
