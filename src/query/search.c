/* search.c — search_run: parse, gather candidates, score, keep the best k.
 *
 * Two stages, so that a selective query never touches most of the catalogue:
 *  1. candidates (gather.c): index lookups only — regions by label (regions_label
 *     index) for each phrase and its synonyms, the token tables (tok_terms,
 *     tok_fts) for hypernyms, free text and OCR words.  Each candidate gets a
 *     cheap pre-score (presence of each phrase, colour agreement, BM25).
 *  2. the best Q_STAGE2 candidates by pre-score that pass the metadata
 *     filters are loaded (regions, relations, OCR words) and scored exactly
 *     (score.c, loaded here); the best k are returned with their `why`.
 * A query with nothing positive ("no cars", "width>1000") walks the images
 * table in id order with the filters in SQL and stops when it has enough.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "query/clipq.h"
#include "query/gather.h"
#include "query/jointq.h"
#include "query/rank.h"

static int table_exists(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st;
    int r = 0;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE name=?1", -1, &st, NULL) != SQLITE_OK) return 0;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    r = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return r;
}

static void parse_colours(const char *s, q_region *g)
{
    g->ncol = 0;
    for (const char *p = s; p && *p && g->ncol < DESC_MAX_COLOURS;) {
        while (*p == ' ') p++;
        const char *c = strchr(p, ':');
        if (!c) break;
        size_t l = (size_t)(c - p);
        if (l >= sizeof g->col[0].name) l = sizeof g->col[0].name - 1;
        memcpy(g->col[g->ncol].name, p, l);
        g->col[g->ncol].name[l] = 0;
        g->col[g->ncol].share = (float)atof(c + 1);
        g->ncol++;
        p = strchr(c, ' ');
    }
}

/* ---- filters -------------------------------------------------------------------- */

/* SQL condition on images for the query's filters, with ?N parameters
 * starting at first; returns the number of parameters used. */
#define NORM_DATE "replace(substr(coalesce(taken_at,''),1,10),':','-')"
static int filter_sql(const query *q, char *out, size_t n, int first)
{
    out[0] = 0;
    int k = first;
    for (int i = 0; i < q->nflt; i++) {
        const q_filter *f = &q->flt[i];
        char c[256];
        if (!strcmp(f->key, "date")) snprintf(c, sizeof c, NORM_DATE " LIKE ?%d||'%%'", k++);
        else if (!strcmp(f->key, "after")) snprintf(c, sizeof c, NORM_DATE " > ?%d||'~'", k++);
        else if (!strcmp(f->key, "before")) snprintf(c, sizeof c, "taken_at IS NOT NULL AND " NORM_DATE " < ?%d", k++);
        else if (!strcmp(f->key, "camera")) snprintf(c, sizeof c, "camera LIKE '%%'||?%d||'%%'", k++);
        else if (!strcmp(f->key, "path")) snprintf(c, sizeof c, "path LIKE '%%'||?%d||'%%'", k++);
        else if (!strcmp(f->key, "format")) snprintf(c, sizeof c, "format LIKE ?%d||'%%'", k++);
        else snprintf(c, sizeof c, "%s %s ?%d", f->key, f->op, k++);   /* width/height, op checked by the parser */
        if (out[0]) strncat(out, " AND ", n - strlen(out) - 1);
        strncat(out, c, n - strlen(out) - 1);
    }
    return k - first;
}

static void filter_bind(const query *q, sqlite3_stmt *st, int first)
{
    for (int i = 0; i < q->nflt; i++) {
        const q_filter *f = &q->flt[i];
        if (!strcmp(f->key, "width") || !strcmp(f->key, "height")) sqlite3_bind_double(st, first + i, f->num);
        else sqlite3_bind_text(st, first + i, f->value, -1, SQLITE_STATIC);
    }
}

/* ---- stage 2: loading one image --------------------------------------------------- */

typedef struct loader {
    sqlite3_stmt *img, *reg, *rel, *ocr, *tag;
} loader;

/* P(word | image) of the query's tag words, from the image's stored tags. */
static void load_tags(loader *L, const q_ranker *r, q_image *im)
{
    for (int i = 0; i < r->ntagw; i++) im->tagp[i] = 0;
    if (!r->ntagw || !L->tag) return;
    sqlite3_reset(L->tag);
    sqlite3_bind_int64(L->tag, 1, im->id);
    while (sqlite3_step(L->tag) == SQLITE_ROW) {
        const char *w = (const char *)sqlite3_column_text(L->tag, 0);
        for (int i = 0; w && i < r->ntagw; i++)
            if (!strcmp(w, r->tagw[i])) im->tagp[i] = (float)sqlite3_column_double(L->tag, 1);
    }
}

/* The describer's stored relations of an image (only pass B needs them). */
static void load_relations(loader *L, q_image *im)
{
    sqlite3_reset(L->rel);
    sqlite3_bind_int64(L->rel, 1, im->id);
    int cap = 0;
    while (sqlite3_step(L->rel) == SQLITE_ROW) {
        if (im->nrel == cap) {
            cap = cap ? cap * 2 : 16;
            im->rel = xrealloc(im->rel, (size_t)cap * sizeof *im->rel);
        }
        q_relrow *r = &im->rel[im->nrel++];
        r->a = sqlite3_column_int(L->rel, 0);
        r->b = sqlite3_column_int(L->rel, 1);
        snprintf(r->rel, sizeof r->rel, "%s", (const char *)sqlite3_column_text(L->rel, 2));
        r->w = (float)sqlite3_column_double(L->rel, 3);
    }
}

static int load_image(q_sql *s, loader *L, int64_t id, int need_reg, int need_ocr, int need_rel, q_image *im)
{
    memset(im, 0, sizeof *im);
    im->id = id;
    im->clip = NAN;
    im->emb = NAN;
    sqlite3_reset(L->img);
    sqlite3_bind_int64(L->img, 1, id);
    if (sqlite3_step(L->img) != SQLITE_ROW) return 0;   /* filtered out or gone */
    im->path = xstrdup((const char *)sqlite3_column_text(L->img, 0));
    snprintf(im->text, sizeof im->text, " %s %s %s ", sqlite3_column_text(L->img, 1) ? (const char *)sqlite3_column_text(L->img, 1) : "",
             sqlite3_column_text(L->img, 2) ? (const char *)sqlite3_column_text(L->img, 2) : "",
             sqlite3_column_text(L->img, 3) ? (const char *)sqlite3_column_text(L->img, 3) : "");
    for (char *p = im->text; *p; p++) {
        if (*p >= 'A' && *p <= 'Z') *p += 32;
        if (*p == ',' || *p == '.' || *p == ';' || *p == '!' || *p == '?') *p = ' ';
    }
    int cap = 0;
    if (!need_reg) return 1;   /* only the learnt terms score it */
    sqlite3_reset(L->reg);
    sqlite3_bind_int64(L->reg, 1, id);
    while (sqlite3_step(L->reg) == SQLITE_ROW) {
        if (im->nreg == cap) {
            cap = cap ? cap * 2 : 16;
            im->reg = xrealloc(im->reg, (size_t)cap * sizeof *im->reg);
        }
        q_region *g = &im->reg[im->nreg++];
        memset(g, 0, sizeof *g);
        g->idx = sqlite3_column_int(L->reg, 0);
        g->kind = sqlite3_column_int(L->reg, 1);
        snprintf(g->label, sizeof g->label, "%s", (const char *)sqlite3_column_text(L->reg, 2));
        g->score = (float)sqlite3_column_double(L->reg, 3);
        g->box.x0 = (float)sqlite3_column_double(L->reg, 4);
        g->box.y0 = (float)sqlite3_column_double(L->reg, 5);
        g->box.x1 = (float)sqlite3_column_double(L->reg, 6);
        g->box.y1 = (float)sqlite3_column_double(L->reg, 7);
        g->cx = 0.5f * (g->box.x0 + g->box.x1);
        g->cy = 0.5f * (g->box.y0 + g->box.y1);
        g->area = (g->box.x1 - g->box.x0) * (g->box.y1 - g->box.y0);
        g->size = sqlite3_column_int(L->reg, 8);
        parse_colours((const char *)sqlite3_column_text(L->reg, 9), g);
        const char *a = (const char *)sqlite3_column_text(L->reg, 10);
        snprintf(g->attrs, sizeof g->attrs, "%s", a ? a : "");
    }
    if (need_rel) load_relations(L, im);
    if (need_ocr) {
        sqlite3_reset(L->ocr);
        sqlite3_bind_int64(L->ocr, 1, id);
        cap = 0;
        while (sqlite3_step(L->ocr) == SQLITE_ROW) {
            if (im->nocr == cap) {
                cap = cap ? cap * 2 : 16;
                im->ocr = xrealloc(im->ocr, (size_t)cap * sizeof *im->ocr);
            }
            q_word *w = &im->ocr[im->nocr++];
            snprintf(w->text, sizeof w->text, "%s", (const char *)sqlite3_column_text(L->ocr, 0));
            w->conf = (float)sqlite3_column_double(L->ocr, 1);
        }
    }
    (void)s;
    return 1;
}

static void image_free(q_image *im)
{
    free(im->path);
    free(im->reg);
    free(im->rel);
    free(im->ocr);
}

/* ---- driver ------------------------------------------------------------------------ */

static unsigned parse_without(const char *w)
{
    unsigned f = 0;
    if (!w) return 0;
    if (strstr(w, "wordnet")) f |= QW_WORDNET;
    if (strstr(w, "relation")) f |= QW_RELATIONS;
    if (strstr(w, "colour") || strstr(w, "color")) f |= QW_COLOURS;
    if (strstr(w, "clip")) f |= QW_CLIP;
    if (strstr(w, "ocr")) f |= QW_OCR;
    if (strstr(w, "embedding")) f |= QW_EMBEDDING;
    if (strstr(w, "tags")) f |= QW_TAGS;
    if (strstr(w, "structured")) f |= QW_STRUCTURED;
    if (strstr(w, "bm25")) f |= QW_BM25;
    return f;
}

typedef struct ordent { float pre; int idx; int64_t id; } ordent;

static int cmp_pre(const void *a, const void *b)
{
    const ordent *x = a, *y = b;
    if (x->pre != y->pre) return x->pre < y->pre ? 1 : -1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* The candidates best first, lazily: a heap over all of them, popped one
 * by one.  Stage 2 takes a few hundred of tens of thousands, so sorting
 * them all was a tenth of a sentence query.  cmp_pre is a total order (ids
 * are unique), so the sequence is the one a full sort gives. */
static void ord_sift(ordent *h, int n, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && cmp_pre(&h[l], &h[m]) < 0) m = l;
        if (r < n && cmp_pre(&h[r], &h[m]) < 0) m = r;
        if (m == i) return;
        ordent t = h[i]; h[i] = h[m]; h[m] = t;
        i = m;
    }
}

static void ord_heapify(ordent *h, int n)
{
    for (int i = n / 2 - 1; i >= 0; i--) ord_sift(h, n, i);
}

/* The best left of h[0..*n) (*n > 0), removed. */
static ordent ord_pop(ordent *h, int *n)
{
    ordent top = h[0];
    h[0] = h[--*n];
    ord_sift(h, *n, 0);
    return top;
}

typedef struct scored { int64_t id; int img; double score; } scored_t;

static int cmp_scored(const void *a, const void *b)
{
    const scored_t *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? 1 : -1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_hit(const void *a, const void *b)
{
    const search_hit *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? 1 : -1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int popcount64(uint64_t v)
{
    int n = 0;
    while (v) { v &= v - 1; n++; }
    return n;
}

/* CPU time of this thread, for IMGDEX_QUERY_TRACE: on a shared machine
 * the wall clock also counts other processes' turns. */
static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Reading settings for the connection: a page cache that holds a query's
 * working set, and from the second query on a mapped file instead of a
 * pread copy of every page (a fifth of a warm query's time).  Not on the
 * first: a one-shot process (imgdex search) would only pay a page fault
 * per page it touches, and unmapping at exit.  Only while the connection
 * has SQLite's defaults, so a caller's own choice stands. */
static sqlite3_int64 pragma_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    sqlite3_int64 v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void read_pragmas(sqlite3 *db)
{
    if (pragma_int(db, "PRAGMA mmap_size") != 0) return;
    if (pragma_int(db, "PRAGMA cache_size") == -2000) {
        sqlite3_exec(db, "PRAGMA cache_size=-65536", NULL, NULL, NULL);
        return;
    }
    sqlite3_exec(db, "PRAGMA mmap_size=2147418112", NULL, NULL, NULL);
}

int search_run(sqlite3 *db, const char *text, const search_opts *o, search_results *out, ierr *e)
{
    memset(out, 0, sizeof *out);
    double t0 = now_seconds();
    int k = o && o->k > 0 ? o->k : 20;
    if (k > SEARCH_MAX_K) k = SEARCH_MAX_K;   /* the candidate counts below multiply it */
    query *q = query_parse(text, e);
    if (!q) return -1;
    out->parse_json = query_to_json(q);
    if (!db || !table_exists(db, "images") || !table_exists(db, "regions")) {
        err_set(e, "search: the database has no imgdex catalogue (run 'imgdex index DIR' first)");
        query_free(q);
        return -1;
    }
    /* One read transaction for the whole query: otherwise every statement
     * (thousands of primary-key probes) takes and drops SQLite's file
     * locks and checks the WAL again — a third of the time of a warm query
     * went to fcntl and fstat.  Not when the caller already holds one. */
    read_pragmas(db);
    int own_txn = sqlite3_get_autocommit(db) && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
    q_ranker r;
    q_ranker_init(&r, q, parse_without(o ? o->without : NULL));
    q_sql s = {db, e, table_exists(db, "tok_terms") && table_exists(db, "tok_fts")};
    ctab t = {0};
    int rc = -1;
    loader L = {0};
    q_clip clip = {0};
    q_joint joint = {0};
    ordent *ord = NULL;
    char fsql[2048];
    filter_sql(q, fsql, sizeof fsql, 2);

    int positive = 0;
    for (int p = 0; p < q->nph; p++) positive |= !q->ph[p].negated;
    for (int i = 0; i < q->ntxt; i++) positive |= !q->txt[i].negated;
    positive |= q->nfree > 0;

    int trace = getenv("IMGDEX_QUERY_TRACE") != NULL;
    double c0 = trace ? cpu_seconds() : 0;
    int structured = !(r.without & QW_STRUCTURED);
    if (structured && (gather_phrases(&s, &r, &t) || gather_ocr(&s, q, &t))) goto done;
    if (trace) fprintf(stderr, "trace: phrases %.1f ms (%.1f cpu), %d candidates\n", (now_seconds() - t0) * 1e3,
                       (cpu_seconds() - c0) * 1e3, t.n);
    /* free text: adds candidates only when nothing structured found any */
    /* BM25 only where it can change the order: free words, or phrases that
     * found nothing (the caption is then the only evidence); otherwise the
     * text part is scored from the caption in stage 2 */
    int found_all = t.n > 0;
    for (int p = 0; p < q->nph && p < Q_MAXP; p++) {
        if (q->ph[p].negated) continue;
        int any = 0;
        for (int i = 0; i < t.n && !any; i++) any = t.c[i].pres[p] > 0;
        found_all &= any;
    }
    /* The learnt terms' query vectors (they also decide whether BM25 runs) */
    if (positive && !(r.without & QW_EMBEDDING)) r.have_emb = q_joint_prepare(db, q, &joint);
    if (positive && !(r.without & QW_CLIP)) r.have_clip = q_clip_prepare(db, q, &clip);
    /* BM25 over the whole token table is the costliest part of a sentence
     * (every document holding a common word is scored); with the joint
     * embedding ranking the collection by meaning it adds nothing on the
     * dev split (docs/query.md), so it is left out then. */
    int bm25 = !(r.without & QW_BM25) && !(r.have_emb && BM25_WITH_EMB == 0);
    if (structured && bm25 && (!found_all || q->nfree > 0) && gather_text(&s, &r, &t, t.n == 0 || q->nfree > 0))
        goto done;

    /* How many candidates to score exactly: few when the pre-score already
     * knows everything that matters (presence, colour, count), more when
     * geometry, sizes or face attributes can still reorder them. */
    int simple = q->nrel == 0;
    for (int p = 0; p < q->nph; p++) {
        if (q->ph[p].px >= 0) simple = 0;
        for (int a = 0; a < q->ph[p].nattrs; a++) simple &= q->ph[p].attrs[a].kind == QA_COLOUR;
    }
    int stage2 = simple ? 3 * k + 30 : (k * 10 > 200 ? k * 10 : 200);

    /* The learnt terms rank the whole collection: the tagger's best images
     * for each query word it knows, and the images nearest the query in the
     * embeddings (joint model; CLIP when installed) become candidates too,
     * so they can find what no detector label or caption word names. */
    if (positive) {
        gather_tag_words(&s, &r);
        if (gather_tags(&s, &r, &t, stage2 > 1000 ? stage2 : 1000)) goto done;
        q_emb *scans[2] = {r.have_emb ? &joint.scan : NULL, r.have_clip ? &clip.scan : NULL};
        int64_t *bid = xmalloc((size_t)stage2 * sizeof *bid);
        float *bcos = xmalloc((size_t)stage2 * sizeof *bcos);
        for (int m = 0; m < 2; m++) {
            if (!scans[m]) continue;
            int nb = q_emb_best(scans[m], stage2, bid, bcos);
            for (int i = 0; i < nb; i++) ctab_get(&t, bid[i], 1);
        }
        free(bid);
        free(bcos);
        if (r.have_emb) {
            int64_t *cid = xmalloc((size_t)(t.n + 1) * sizeof *cid);
            float *cc = xmalloc((size_t)(t.n + 1) * sizeof *cc);
            for (int i = 0; i < t.n; i++) cid[i] = t.c[i].id;
            q_emb_cos_many(&joint.scan, cid, t.n, cc);
            for (int i = 0; i < t.n; i++) {
                q_image tmp;
                tmp.emb = cc[i];
                float ep = q_emb_part(&r, &tmp);
                t.c[i].emb = ep > 0 ? ep : 0;
            }
            free(cid);
            free(cc);
        }
        if (trace) fprintf(stderr, "trace: learnt terms %.1f ms (%.1f cpu), %d candidates, %d tag words\n",
                           (now_seconds() - t0) * 1e3, (cpu_seconds() - c0) * 1e3, t.n, r.ntagw);
    }
    if (!positive) {
        char sql[2300];
        snprintf(sql, sizeof sql, "SELECT id FROM images WHERE ?1 IS NULL %s%s ORDER BY id LIMIT 20000",
                 fsql[0] ? "AND " : "", fsql);
        sqlite3_stmt *st = q_prep(&s, sql);
        if (!st) goto done;
        filter_bind(q, st, 2);
        while (sqlite3_step(st) == SQLITE_ROW) ctab_get(&t, sqlite3_column_int64(st, 0), 1);
        sqlite3_finalize(st);
    }
    /* pre-score: what stage 1 knows, on the same scale as the final score */
    for (int i = 0; i < t.n; i++) {
        cand *c = &t.c[i];
        float sum = 0;
        for (int p = 0; p < q->nph && p < Q_MAXP; p++) {
            if (q->ph[p].negated) continue;
            float v = c->pres[p];
            int ncol = 0;
            for (int a = 0; a < q->ph[p].nattrs; a++) ncol += q->ph[p].attrs[a].kind == QA_COLOUR;
            if (ncol && !(r.without & QW_COLOURS)) v *= 0.25f + 0.75f * c->col[p] / (float)ncol;
            int n = popcount64(c->mask[p]);
            if (n < q->ph[p].cmin) v *= 0.7f + 0.3f / (float)(1 + q->ph[p].cmin - n);
            if (q->ph[p].cmax >= 0 && n > q->ph[p].cmax) v *= 0.7f + 0.3f / (float)(1 + n - q->ph[p].cmax);
            sum += v;
        }
        c->pre = sum + 0.35f * c->bm25 + c->ocr + q_learnt_params()->w_emb * c->emb + q_learnt_params()->w_tag * c->tag;
    }
    /* order by pre-score through a small array: the candidates are large */
    ord = xmalloc((size_t)(t.n + 1) * sizeof *ord);
    for (int i = 0; i < t.n; i++) {
        ord[i].pre = t.c[i].pre;
        ord[i].id = t.c[i].id;
        ord[i].idx = i;
    }
    int nord = t.n;
    ord_heapify(ord, nord);
    if (trace) fprintf(stderr, "trace: stage 1 %.1f ms (%.1f cpu), %d candidates\n", (now_seconds() - t0) * 1e3,
                       (cpu_seconds() - c0) * 1e3, t.n);

    char sql[2600];
    snprintf(sql, sizeof sql, "SELECT path, caption, clip_caption, scene FROM images WHERE id=?1%s%s",
             fsql[0] ? " AND " : "", fsql);
    L.img = q_prep(&s, sql);
    L.reg = q_prep(&s, "SELECT idx, kind, label, score, x0, y0, x1, y1, size, colours, attrs FROM regions "
                     "WHERE image_id=?1 ORDER BY idx");
    L.rel = q_prep(&s, "SELECT a, b, rel, weight FROM relations WHERE image_id=?1");
    L.ocr = q_prep(&s, "SELECT text, conf FROM ocr_words WHERE image_id=?1");
    if (!L.img || !L.reg || !L.rel || !L.ocr) goto done;
    if (r.ntagw && !(L.tag = q_prep(&s, "SELECT label, score FROM tags WHERE image_id=?1 AND grp='tagger'")))
        goto done;
    filter_bind(q, L.img, 2);

    int need_rel = q->nrel > 0 && !(r.without & QW_RELATIONS);
    /* pass A: exact scores without `why` and without the stored relations
     * (box geometry decides alone); the images stay loaded for pass B */
    static FILE *dump;
    if (!dump && getenv("IMGDEX_RANK_DUMP")) dump = fopen(getenv("IMGDEX_RANK_DUMP"), "a");
    scored_t *sc = xcalloc((size_t)stage2 + 1, sizeof *sc);
    q_image *ims = xcalloc((size_t)stage2 + 1, sizeof *ims);
    int ns = 0;
    while (nord > 0 && ns < stage2) {
        q_image *im = &ims[ns];
        const cand *c = &t.c[ord_pop(ord, &nord).idx];
        if (!load_image(&s, &L, c->id, structured, q->ntxt > 0, 0, im)) {
            image_free(im);
            continue;
        }
        im->bm25 = c->bm25;
        if (r.have_clip) im->clip = q_clip_image(&clip, im->id);
        if (r.have_emb) im->emb = q_emb_cos(&joint.scan, im->id);
        load_tags(&L, &r, im);
        sc[ns].id = im->id;
        sc[ns].img = ns;
        sc[ns].score = q_score_image(&r, im, NULL);
        if (dump) {
            /* IMGDEX_RANK_DUMP=file (tuning on dev only): the parts of
             * every scored image, to fit the fusion weights offline */
            double dn, dd, dp;
            q_score_structured(&dn, &dd, &dp);
            fprintf(dump, "%s\t%lld\t%.5f\t%.4f\t%.4f\t%.5f\t", text, (long long)im->id, dn, dd, dp,
                    im->emb == im->emb ? im->emb : -9.0f);
            for (int w = 0; w < r.ntagw; w++) fprintf(dump, "%s%.4f", w ? "," : "", im->tagp[w]);
            fputc('\n', dump);
        }
        ns++;
    }
    if (ns) qsort(sc, (size_t)ns, sizeof *sc, cmp_scored);
    /* pass B: the best again, with the describer's relations and `why` */
    int nb = ns < k + 20 ? ns : k + 20;
    search_hit *hits = xcalloc((size_t)nb + 1, sizeof *hits);
    int nh = 0;
    for (int i = 0; i < nb; i++) {
        q_image *im = &ims[sc[i].img];
        if (need_rel) load_relations(&L, im);
        hits[nh].score = q_score_image(&r, im, NULL);   /* `why` below, for the hits kept */
        hits[nh].id = im->id;
        hits[nh].path = im->path;
        im->path = NULL;
        /* evidence enough to list: a structured match, or learnt terms
         * that reach EMB_GOOD / TAG_GOOD (the embedding alone gives every
         * image some score; that is not a match) */
        float ep = q_emb_part(&r, im), tp = q_tag_part(&r, im);
        hits[nh].weak = !(r.without & QW_STRUCTURED) ? !q_structured_hit(&r, im) : 1;
        if (hits[nh].weak && ((ep >= 0 && im->emb >= EMB_GOOD) || tp >= TAG_GOOD)) hits[nh].weak = 0;
        if (hits[nh].weak && r.have_clip && im->clip == im->clip && im->clip >= 0.25f) hits[nh].weak = 0;
        if (!r.have_emb && !r.ntagw && !r.have_clip) hits[nh].weak = 0;   /* the old rule alone: score > 0 */
        nh++;
    }
    if (nh) qsort(hits, (size_t)nh, sizeof *hits, cmp_hit);
    /* Results must match something: drop images whose score is nothing but
     * a penalty (negation-only queries keep everything unpenalised). */
    int keep = 0;
    int keep_weak = o && o->keep_weak;
    for (int i = 0; i < nh; i++) {
        int ok = keep < k && (positive ? hits[i].score > 0 : hits[i].score >= 0);
        if (ok && hits[i].weak && !keep_weak) {
            ok = 0;
            out->weak++;
        }
        if (ok) {
            /* the explanation of a kept hit (printing it was a tenth of a
             * sentence query when done for every hit of pass B) */
            for (int j = 0; j < nb; j++) {
                if (ims[sc[j].img].id != hits[i].id) continue;
                cJSON *why = NULL;
                q_score_image(&r, &ims[sc[j].img], &why);
                hits[i].why_json = cJSON_PrintUnformatted(why);
                cJSON_Delete(why);
                break;
            }
            hits[keep++] = hits[i];
        } else {
            free(hits[i].path);
            free(hits[i].why_json);
        }
    }
    for (int i = 0; i < ns; i++) image_free(&ims[i]);
    free(ims);
    free(sc);
    if (trace) fprintf(stderr, "trace: stage 2 %.1f ms (%.1f cpu), %d scored, %d explained\n",
                       (now_seconds() - t0) * 1e3, (cpu_seconds() - c0) * 1e3, ns, keep);
    out->hits = hits;
    out->n = keep;
    rc = 0;
done:
    free(ord);
    q_clip_done(&clip);
    q_joint_done(&joint);
    sqlite3_finalize(L.tag);
    sqlite3_finalize(L.img);
    sqlite3_finalize(L.reg);
    sqlite3_finalize(L.rel);
    sqlite3_finalize(L.ocr);
    free(t.c);
    free(t.slot);
    q_ranker_free(&r);
    query_free(q);
    if (own_txn) sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    out->ms = (now_seconds() - t0) * 1000.0;
    return rc;
}

char *search_results_json(const char *text, const search_results *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "query", text ? text : "");
    cJSON *a = cJSON_AddArrayToObject(o, "results");
    for (int i = 0; i < r->n; i++) {
        cJSON *h = cJSON_CreateObject();
        cJSON_AddNumberToObject(h, "rank", i + 1);
        cJSON_AddNumberToObject(h, "id", (double)r->hits[i].id);
        cJSON_AddStringToObject(h, "path", r->hits[i].path ? r->hits[i].path : "");
        cJSON_AddNumberToObject(h, "score", round(r->hits[i].score * 10000) / 10000);
        cJSON *w = r->hits[i].why_json ? cJSON_Parse(r->hits[i].why_json) : NULL;
        cJSON_AddItemToObject(h, "why", w ? w : cJSON_CreateObject());
        cJSON_AddItemToArray(a, h);
    }
    if (r->weak) {
        /* images left out because only the learnt terms liked them, weakly */
        cJSON_AddNumberToObject(o, "weak", r->weak);
        if (!r->n) cJSON_AddStringToObject(o, "message", "nothing matches well");
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    char *res = xstrdup(s);
    free(s);
    return json_utf8_fix(res);
}

void search_results_free(search_results *r)
{
    if (!r) return;
    for (int i = 0; i < r->n; i++) {
        free(r->hits[i].path);
        free(r->hits[i].why_json);
    }
    free(r->hits);
    free(r->parse_json);
    memset(r, 0, sizeof *r);
}
