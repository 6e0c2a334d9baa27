/* gather.c — stage 1 of search_run: candidates from index lookups (see
 * gather.h), and the open-addressing table that holds them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/gather.h"
#include "query/termcache.h"

static uint32_t hash64(int64_t v)
{
    uint64_t x = (uint64_t)v * 0x9E3779B97F4A7C15ull;
    return (uint32_t)(x >> 32);
}

static void ctab_rehash(ctab *t)
{
    int ns = t->nslot ? t->nslot * 2 : 1024;
    free(t->slot);
    t->slot = xmalloc((size_t)ns * sizeof *t->slot);
    for (int i = 0; i < ns; i++) t->slot[i].idx = -1;
    t->nslot = ns;
    for (int i = 0; i < t->n; i++) {
        uint32_t h = hash64(t->c[i].id) & (uint32_t)(ns - 1);
        while (t->slot[h].idx >= 0) h = (h + 1) & (uint32_t)(ns - 1);
        t->slot[h].id = t->c[i].id;
        t->slot[h].idx = i;
    }
}

cand *ctab_get(ctab *t, int64_t id, int create)
{
    if (t->last && t->last->id == id) return t->last;
    if (!t->nslot) ctab_rehash(t);
    uint32_t h = hash64(id) & (uint32_t)(t->nslot - 1);
    while (t->slot[h].idx >= 0) {
        if (t->slot[h].id == id) return t->last = &t->c[t->slot[h].idx];
        h = (h + 1) & (uint32_t)(t->nslot - 1);
    }
    if (!create) return NULL;
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 4096;
        t->c = xrealloc(t->c, (size_t)t->cap * sizeof *t->c);
        t->last = NULL;
    }
    cand *c = &t->c[t->n];
    memset(c, 0, sizeof *c);
    c->id = id;
    t->slot[h].id = id;
    t->slot[h].idx = t->n++;
    if (t->n * 2 > t->nslot) ctab_rehash(t);
    return t->last = c;
}

sqlite3_stmt *q_prep(q_sql *s, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        err_set(s->e, "search: %s", sqlite3_errmsg(s->db));
        return NULL;
    }
    return st;
}

static float share_of(const char *colours, const char *name)
{
    /* "red:0.61 white:0.22" */
    size_t l = strlen(name);
    for (const char *p = colours; p && *p;) {
        while (*p == ' ') p++;
        if (!strncmp(p, name, l) && p[l] == ':') return (float)atof(p + l + 1);
        p = strchr(p, ' ');
    }
    return 0;
}

/* ---- stage 1 ------------------------------------------------------------------ */

/* Rows read per term at most.  A phrase whose term matches more regions
 * than this ("person" in a big catalogue) is "common": alone it is sampled
 * in image-id order (any person is as good as another for "person"), and
 * next to a rarer phrase it is probed per candidate of the rare one
 * ("a person next to a horse" starts from the horses). */
#define Q_MAX_ROWS 40000

static void note_region(cand *c, int p, int idx, float v)
{
    if (v > c->pres[p]) c->pres[p] = v;
    if (idx >= 0 && idx < 64) c->mask[p] |= 1ull << idx;
}

/* Catalogues with token tables: tok_terms is clustered by term, so each
 * lookup is one range scan that never touches the regions table. */
/* Candidates by a key, for probing only the best of them. */
typedef struct keyed { float v; int idx; int64_t id; } keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->v != y->v) return x->v < y->v ? 1 : -1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Sorts the best max of k[0..n) to the front (all of them when n <= max,
 * in their original order, so small catalogues see no difference). */
static int keep_best(keyed *k, int n, int max)
{
    if (n <= max) return n;
    qsort(k, (size_t)n, sizeof *k, cmp_keyed);
    return max;
}

/* Rows of phrase p's terms (labels of its words, and the syn/hyper rows of
 * its noun), counted up to cap on the covering index: which phrase to read
 * first.  Marks in had[] the words that have rows. */
static long phrase_rows(tc_cache *tc, sqlite3_stmt *cl, sqlite3_stmt *cx, const q_ranker *r, int p, long cap,
                        unsigned char *had)
{
    long total = 0;
    for (int k = 0; k < r->nsyn[p] && total < cap; k++) {
        for (int src = 0; src < 2 && total < cap; src++) {
            if (src && (k > 0 || (r->without & QW_WORDNET))) break;
            long n = !src && tc ? tc_label_count(tc, r->syn[p][k].word, cap - total) : -1;
            if (n < 0) {
                sqlite3_stmt *st = src ? cx : cl;
                sqlite3_reset(st);
                sqlite3_bind_text(st, 1, r->syn[p][k].word, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 2, cap - total);
                n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
            }
            if (n > 0 && k < 64) had[k] = 1;
            total += n;
        }
    }
    return total;
}

/* Phrases at least this many times more frequent than the rarest one are
 * not read but probed per candidate of the rare ones ("a kite above
 * people" reads the kites, then asks each kite image for persons). */
#define Q_DEFER_RATIO 4
/* ... when the rare phrases found at least this many images (fewer: read
 * everything, so that k results still come back). */
#define Q_DEFER_MIN 300
/* Rows read per term for a query of one plain phrase. */
#define Q_BEST_ROWS 4000
/* Candidates of the rare phrases probed for a frequent one, best first. */
#define Q_PROBE_MAX 3000

static int gather_phrases_tok(q_sql *s, const q_ranker *r, ctab *t)
{
    const query *q = r->q;
    /* Best first (tok_terms_best): when a term has more rows than are read,
     * the ones read are its most confident regions, not the first ids. */
    sqlite3_stmt *lab = q_prep(s, "SELECT image_id, region, weight FROM tok_terms WHERE term=?1 AND source='label' "
                                "ORDER BY weight DESC");
    sqlite3_stmt *exp = q_prep(s, "SELECT image_id, region, weight FROM tok_terms WHERE term=?1 AND source=?2 "
                                "ORDER BY weight DESC");
    /* The primary key (term, image_id, ...) answers the probes in one seek;
     * with sampled statistics the planner would take tok_terms_image and
     * then look every row up again. */
    sqlite3_stmt *colp = q_prep(s, "SELECT region, weight FROM tok_terms INDEXED BY sqlite_autoindex_tok_terms_1 "
                                 "WHERE term=?1 AND image_id=?2 AND source='colour'");
    sqlite3_stmt *probe = q_prep(s, "SELECT region, weight, source FROM tok_terms INDEXED BY "
                                  "sqlite_autoindex_tok_terms_1 WHERE term=?1 AND image_id=?2 "
                                  "AND source IN ('label','syn','hyper')");
    sqlite3_stmt *cl = q_prep(s, "SELECT count(*) FROM (SELECT 1 FROM tok_terms WHERE term=?1 AND source='label' "
                               "LIMIT ?2)");
    sqlite3_stmt *cx = q_prep(s, "SELECT count(*) FROM (SELECT 1 FROM tok_terms WHERE term=?1 AND "
                               "source IN ('syn','hyper') LIMIT ?2)");
    int rc = -1, common[Q_MAXP] = {0}, defer[Q_MAXP] = {0};
    unsigned char had[Q_MAXP][64];   /* which words of each phrase found rows */
    memset(had, 0, sizeof had);
    if (!lab || !exp || !colp || !probe || !cl || !cx) goto out;
    tc_cache *tc = tc_for(s->db);
    /* With several phrases, count first (bounded, index only) and leave the
     * frequent ones for probing.  Counting is in rising caps so that a
     * frequent phrase is not counted far beyond what the decision needs. */
    int npos = 0, nneg = 0;
    for (int p = 0; p < q->nph && p < Q_MAXP; p++) npos += !q->ph[p].negated, nneg += q->ph[p].negated;
    /* One plain phrase ("dog", "vehicle"): its best few thousand regions
     * hold the best results; reading more only costs. */
    int cap = Q_MAX_ROWS;
    if (npos == 1 && nneg == 0 && q->nrel == 0 && q->nfree == 0 && q->ntxt == 0 && q->nph == 1 &&
        q->ph[0].nattrs == 0 && q->ph[0].px < 0 && q->ph[0].cmin <= 1 && q->ph[0].cmax < 0)
        cap = Q_BEST_ROWS;
    if (npos >= 2) {
        long rows[Q_MAXP], least = -1;
        int exact[Q_MAXP] = {0};
        for (long cap = 1024;; cap = cap * 4 < Q_MAX_ROWS ? cap * 4 : Q_MAX_ROWS) {
            for (int p = 0; p < q->nph && p < Q_MAXP; p++) {
                if (q->ph[p].negated || exact[p]) continue;
                rows[p] = phrase_rows(tc, cl, cx, r, p, cap, had[p]);
                exact[p] = rows[p] < cap;
                if (exact[p] && (least < 0 || rows[p] < least)) least = rows[p];
            }
            if (least >= 0 || cap >= Q_MAX_ROWS) break;
        }
        if (least < 0) least = Q_MAX_ROWS;
        for (int p = 0; p < q->nph && p < Q_MAXP; p++) {
            if (q->ph[p].negated) continue;
            if (!exact[p] && rows[p] < Q_DEFER_RATIO * least && rows[p] < Q_MAX_ROWS)
                rows[p] = phrase_rows(tc, cl, cx, r, p, Q_DEFER_RATIO * least, had[p]);
            /* a phrase too frequent to read whole is probed anyway */
            if ((rows[p] >= Q_DEFER_RATIO * least || (rows[p] >= Q_MAX_ROWS && least < Q_MAX_ROWS)) &&
                rows[p] > Q_DEFER_MIN)
                defer[p] = 1;
        }
    }
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            /* the deferred phrases: probed when the rare ones found enough */
            int any = 0;
            for (int p = 0; p < q->nph && p < Q_MAXP; p++) any |= defer[p];
            if (!any) break;
            if (t->n >= Q_DEFER_MIN) {
                for (int p = 0; p < q->nph && p < Q_MAXP; p++) if (defer[p]) common[p] = 1;
                break;
            }
        }
        for (int p = 0; p < q->nph && p < Q_MAXP; p++) {
            const q_phrase *ph = &q->ph[p];
            if (ph->negated || defer[p] != pass) continue;
            for (int k = 0; k < r->nsyn[p]; k++) {
                float sw = r->syn[p][k].w;
                int n = 0;
                const tc_row *rows = tc ? tc_label_rows(tc, lab, r->syn[p][k].word, cap, &n) : NULL;
                if (rows) {
                    for (int i = 0; i < n; i++)
                        note_region(ctab_get(t, rows[i].id, 1), p, rows[i].region,
                                    sw * (0.6f + 0.4f * rows[i].weight));
                } else {
                    sqlite3_reset(lab);
                    sqlite3_bind_text(lab, 1, r->syn[p][k].word, -1, SQLITE_STATIC);
                    for (; n < cap && sqlite3_step(lab) == SQLITE_ROW; n++)
                        note_region(ctab_get(t, sqlite3_column_int64(lab, 0), 1), p, sqlite3_column_int(lab, 1),
                                    sw * (0.6f + 0.4f * (float)sqlite3_column_double(lab, 2)));
                }
                if (n >= cap) common[p] = 1;
                if (k < 64) had[p][k] |= n > 0;
            }
            /* hypernyms and synonyms the token system indexed: "animal" finds dogs */
            for (int src = 0; src < 2 && !(r->without & QW_WORDNET); src++) {
                sqlite3_reset(exp);
                sqlite3_bind_text(exp, 1, ph->noun, -1, SQLITE_STATIC);
                sqlite3_bind_text(exp, 2, src ? "hyper" : "syn", -1, SQLITE_STATIC);
                int n = 0;
                for (; n < cap && sqlite3_step(exp) == SQLITE_ROW; n++)
                    note_region(ctab_get(t, sqlite3_column_int64(exp, 0), 1), p, sqlite3_column_int(exp, 1),
                                0.9f * (float)sqlite3_column_double(exp, 2));
                if (n >= cap) common[p] = 1;
                if (n > 0) had[p][0] = 1;
            }
        }
    }
    /* common phrases next to rare ones: look them up image by image, for
     * the best candidates of the rare ones */
    int rare = 0;
    for (int p = 0; p < q->nph && p < Q_MAXP; p++) rare |= !q->ph[p].negated && !common[p];
    for (int p = 0; rare && p < q->nph && p < Q_MAXP; p++) {
        if (q->ph[p].negated || !common[p]) continue;
        keyed *best = xmalloc((size_t)(t->n + 1) * sizeof *best);
        int nb = 0;
        for (int i = 0; i < t->n; i++) {
            const cand *c = &t->c[i];
            if (c->mask[p]) continue;
            float v = 0;
            for (int o = 0; o < q->nph && o < Q_MAXP; o++)
                if (!common[o] && !q->ph[o].negated) v += c->pres[o];
            if (v > 0) best[nb++] = (keyed){v, i, c->id};
        }
        nb = keep_best(best, nb, Q_PROBE_MAX);
        for (int j = 0; j < nb; j++) {
            cand *c = &t->c[best[j].idx];
            for (int k = 0; k < r->nsyn[p] && k < 64; k++) {
                if (!had[p][k]) continue;
                sqlite3_reset(probe);
                sqlite3_bind_text(probe, 1, r->syn[p][k].word, -1, SQLITE_STATIC);
                sqlite3_bind_int64(probe, 2, c->id);
                while (sqlite3_step(probe) == SQLITE_ROW) {
                    int lab_row = !strcmp((const char *)sqlite3_column_text(probe, 2), "label");
                    if (!lab_row && (k > 0 || (r->without & QW_WORDNET))) continue;
                    float w = (float)sqlite3_column_double(probe, 1);
                    note_region(c, p, sqlite3_column_int(probe, 0),
                                lab_row ? r->syn[p][k].w * (0.6f + 0.4f * w) : 0.9f * w);
                }
            }
        }
        free(best);
    }
    /* colours of the phrase's own regions, probed for its best candidates
     * (a red car among the most confident cars beats one among the rest) */
    for (int p = 0; p < q->nph && p < Q_MAXP; p++) {
        const q_phrase *ph = &q->ph[p];
        if (ph->negated || (r->without & QW_COLOURS)) continue;
        int ncol = 0;
        for (int a = 0; a < ph->nattrs; a++) ncol += ph->attrs[a].kind == QA_COLOUR;
        if (!ncol) continue;
        keyed *best = xmalloc((size_t)(t->n + 1) * sizeof *best);
        int nb = 0;
        for (int i = 0; i < t->n; i++)
            if (t->c[i].mask[p]) best[nb++] = (keyed){t->c[i].pres[p], i, t->c[i].id};
        nb = keep_best(best, nb, Q_PROBE_MAX);
        for (int a = 0; a < ph->nattrs; a++) {
            if (ph->attrs[a].kind != QA_COLOUR) continue;
            for (int j = 0; j < nb; j++) {
                cand *c = &t->c[best[j].idx];
                sqlite3_reset(colp);
                sqlite3_bind_text(colp, 1, ph->attrs[a].value, -1, SQLITE_STATIC);
                sqlite3_bind_int64(colp, 2, c->id);
                float bestv = 0;
                while (sqlite3_step(colp) == SQLITE_ROW) {
                    int idx = sqlite3_column_int(colp, 0);
                    if (idx < 0 || idx >= 64 || !(c->mask[p] >> idx & 1)) continue;
                    float v = (float)sqlite3_column_double(colp, 1) / 0.3f;
                    if (v > bestv) bestv = v > 1 ? 1 : v;
                }
                c->col[p] += bestv;
            }
        }
        free(best);
    }
    rc = 0;
out:
    sqlite3_finalize(lab);
    sqlite3_finalize(exp);
    sqlite3_finalize(colp);
    sqlite3_finalize(probe);
    sqlite3_finalize(cl);
    sqlite3_finalize(cx);
    return rc;
}

int gather_phrases(q_sql *s, const q_ranker *r, ctab *t)
{
    if (s->has_tok) return gather_phrases_tok(s, r, t);
    const query *q = r->q;
    sqlite3_stmt *reg = q_prep(s, "SELECT image_id, idx, score, colours FROM regions WHERE label=?1 AND kind<>0");
    if (!reg) return -1;
    for (int p = 0; p < q->nph && p < Q_MAXP; p++) {
        const q_phrase *ph = &q->ph[p];
        if (ph->negated) continue;
        for (int k = 0; k < r->nsyn[p]; k++) {
            const char *w = r->syn[p][k].word;
            float sw = r->syn[p][k].w;
            sqlite3_reset(reg);
            sqlite3_bind_text(reg, 1, w, -1, SQLITE_STATIC);
            while (sqlite3_step(reg) == SQLITE_ROW) {
                cand *c = ctab_get(t, sqlite3_column_int64(reg, 0), 1);
                int idx = sqlite3_column_int(reg, 1);
                float sc = (float)sqlite3_column_double(reg, 2);
                note_region(c, p, idx, sw * (0.6f + 0.4f * sc));
                if (!(r->without & QW_COLOURS)) {
                    const char *cols = (const char *)sqlite3_column_text(reg, 3);
                    float ag = 0;
                    for (int a = 0; a < ph->nattrs; a++)
                        if (ph->attrs[a].kind == QA_COLOUR) {
                            float sh = cols ? share_of(cols, ph->attrs[a].value) / 0.3f : 0;
                            ag += sh > 1 ? 1 : sh;
                        }
                    if (ag > c->col[p]) c->col[p] = ag;
                }
            }
        }
    }
    sqlite3_finalize(reg);
    return 0;
}

/* Free-text words: BM25 over tok_fts, or a caption scan when the catalogue
 * has no token tables (small test catalogues). */
int gather_text(q_sql *s, const q_ranker *r, ctab *t, int create)
{
    if (!r->nwords) return 0;
    if (s->has_tok) {
        char expr[2100] = "";
        for (int i = 0; i < r->nwords; i++) {
            char w[Q_WORD * 2 + 4];
            size_t o = 0;
            w[o++] = '"';
            for (const char *p = r->words[i]; *p && o < sizeof w - 3; p++) {
                if (*p == '"') w[o++] = '"';
                w[o++] = *p;
            }
            w[o++] = '"';
            w[o] = 0;
            if (expr[0]) strncat(expr, " OR ", sizeof expr - strlen(expr) - 1);
            strncat(expr, w, sizeof expr - strlen(expr) - 1);
        }
        sqlite3_stmt *st = q_prep(s, "SELECT rowid, -bm25(tok_fts, 4.0, 1.5, 2.0, 2.0, 1.0) FROM tok_fts "
                                   "WHERE tok_fts MATCH ?1 ORDER BY rank LIMIT 20000");
        if (!st) return -1;
        if (r->without & QW_WORDNET) {
            /* leave out the column of WordNet synonyms and hypernyms */
            char tmp[2100];
            snprintf(tmp, sizeof tmp, "{labels caption ocr attrs} : (%s)", expr);
            snprintf(expr, sizeof expr, "%s", tmp);
        }
        sqlite3_bind_text(st, 1, expr, -1, SQLITE_STATIC);
        float maxs = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
            float v = (float)sqlite3_column_double(st, 1);
            if (maxs == 0) maxs = v > 0 ? v : 1;
            cand *c = ctab_get(t, sqlite3_column_int64(st, 0), create);
            if (c) c->bm25 = v / maxs;
        }
        sqlite3_finalize(st);
        return 0;
    }
    if (!create) return 0;
    sqlite3_stmt *st = q_prep(s, "SELECT id FROM images WHERE ' '||lower(coalesce(caption,'')||' '||"
                               "coalesce(clip_caption,'')||' '||coalesce(scene,''))||' ' LIKE ?1 LIMIT 20000");
    if (!st) return -1;
    for (int i = 0; i < r->nwords; i++) {
        char pat[Q_WORD + 8];
        snprintf(pat, sizeof pat, "%% %s%%", r->words[i]);
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, pat, -1, SQLITE_TRANSIENT);
        while (sqlite3_step(st) == SQLITE_ROW) {
            cand *c = ctab_get(t, sqlite3_column_int64(st, 0), 1);
            c->bm25 += 1.0f / (float)r->nwords;
        }
    }
    sqlite3_finalize(st);
    return 0;
}

int gather_ocr(q_sql *s, const query *q, ctab *t)
{
    sqlite3_stmt *st = s->has_tok
        ? q_prep(s, "SELECT image_id FROM tok_terms WHERE term=?1 AND source='ocr'")
        : q_prep(s, "SELECT DISTINCT image_id FROM ocr_words WHERE lower(text) LIKE ?1");
    if (!st) return -1;
    for (int i = 0; i < q->ntxt; i++) {
        if (q->txt[i].negated) continue;
        char buf[256];
        snprintf(buf, sizeof buf, "%s", q->txt[i].text);
        char *save, *w = strtok_r(buf, " \t", &save);
        while (w) {
            char pat[300];
            if (s->has_tok) snprintf(pat, sizeof pat, "%s", w);
            else snprintf(pat, sizeof pat, "%%%s%%", w);
            sqlite3_reset(st);
            sqlite3_bind_text(st, 1, pat, -1, SQLITE_TRANSIENT);
            while (sqlite3_step(st) == SQLITE_ROW) {
                cand *c = ctab_get(t, sqlite3_column_int64(st, 0), 1);
                c->ocr += 1.0f;
            }
            w = strtok_r(NULL, " \t", &save);
        }
    }
    sqlite3_finalize(st);
    return 0;
}

/* ---- the tagger's words ---------------------------------------------------- */

static void tagw_try(sqlite3_stmt *st, q_ranker *r, const char *w)
{
    if (r->ntagw >= (int)(sizeof r->tagw / sizeof r->tagw[0]) || !*w) return;
    for (int i = 0; i < r->ntagw; i++)
        if (!strcmp(r->tagw[i], w)) return;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, w, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) snprintf(r->tagw[r->ntagw++], Q_WORD, "%s", w);
}

void gather_tag_words(q_sql *s, q_ranker *r)
{
    r->ntagw = 0;
    if (!s->has_tok || (r->without & QW_TAGS)) return;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM tok_terms WHERE term=?1 AND source='tag' LIMIT 1", -1, &st,
                           NULL) != SQLITE_OK)
        return;
    for (int i = 0; i < r->nwords; i++) tagw_try(st, r, r->words[i]);
    for (int p = 0; p < r->q->nph; p++) {
        if (r->q->ph[p].negated) continue;
        for (int a = 0; a < r->q->ph[p].nattrs; a++)
            if (r->q->ph[p].attrs[a].kind == QA_COLOUR) tagw_try(st, r, r->q->ph[p].attrs[a].value);
    }
    sqlite3_finalize(st);
}

int gather_tags(q_sql *s, const q_ranker *r, ctab *t, int limit)
{
    if (!r->ntagw) return 0;
    sqlite3_stmt *st = q_prep(s, "SELECT image_id, weight FROM tok_terms WHERE term=?1 AND source='tag'"
                                 " ORDER BY weight DESC LIMIT ?2");
    if (!st) return -1;
    for (int i = 0; i < r->ntagw; i++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, r->tagw[i], -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, limit);
        while (sqlite3_step(st) == SQLITE_ROW) {
            cand *c = ctab_get(t, sqlite3_column_int64(st, 0), 1);
            float p = (float)sqlite3_column_double(st, 1) / q_learnt_params()->tag_full;
            c->tag += (p > 1 ? 1 : p) / (float)r->ntagw;
        }
    }
    sqlite3_finalize(st);
    return 0;
}
