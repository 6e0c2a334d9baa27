/* dups.c — groups of duplicates from the catalogue's fingerprints.
 *
 * Everything is read once (id, size, resolution, date and fingerprint of
 * each image: FP_BYTES + ~100 bytes each), pairs come from the
 * multi-index lookup, groups are their connected components.  Near pairs
 * (beyond DUP_MAX_DIST) are checked against the whole-image embeddings
 * when both images have one of the same model; those are read only for
 * the images such a pair involves.
 */
#include "index/dups.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/fingerprint.h"
#include "index/fpindex.h"

typedef struct entry {
    int64_t id;
    char *path;
    int width, height;
    long long size, mtime_ns;
    char taken_at[32];
} entry;

typedef struct loaded {
    int n;
    entry *e;
    img_fp *fp;
} loaded;

static void loaded_free(loaded *l)
{
    for (int i = 0; i < l->n; i++) free(l->e[i].path);
    free(l->e);
    free(l->fp);
}

static int load(catalogue *c, loaded *l, int *missing, ierr *e)
{
    sqlite3 *db = cat_db(c);
    memset(l, 0, sizeof *l);
    sqlite3_stmt *st;
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT i.id, i.path, i.width, i.height, i.size, i.mtime_ns, i.taken_at, f.fp"
             " FROM images i JOIN fingerprints f ON f.image_id=i.id WHERE f.version=%d ORDER BY i.id",
             FP_VERSION);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        err_set(e, "reading fingerprints: %s", sqlite3_errmsg(db));
        return -1;
    }
    int cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (l->n == cap) {
            cap = cap ? 2 * cap : 1024;
            l->e = xrealloc(l->e, sizeof *l->e * (size_t)cap);
            l->fp = xrealloc(l->fp, sizeof *l->fp * (size_t)cap);
        }
        if (fp_unpack(sqlite3_column_blob(st, 7), sqlite3_column_bytes(st, 7), &l->fp[l->n]) != 0) continue;
        entry *x = &l->e[l->n++];
        x->id = sqlite3_column_int64(st, 0);
        const unsigned char *p = sqlite3_column_text(st, 1);
        x->path = xstrdup(p ? (const char *)p : "");
        x->width = sqlite3_column_int(st, 2);
        x->height = sqlite3_column_int(st, 3);
        x->size = sqlite3_column_int64(st, 4);
        x->mtime_ns = sqlite3_column_int64(st, 5);
        const unsigned char *t = sqlite3_column_text(st, 6);
        snprintf(x->taken_at, sizeof x->taken_at, "%s", t ? (const char *)t : "");
    }
    sqlite3_finalize(st);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM images WHERE id NOT IN (SELECT image_id FROM fingerprints WHERE version=%d)",
             FP_VERSION);
    *missing = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW) *missing = sqlite3_column_int(st, 0);
        sqlite3_finalize(st);
    }
    return 0;
}

/* ---- embeddings, for near pairs ------------------------------------------ */

typedef struct emb {
    int loaded;
    int n;               /* models */
    char (*model)[128];
    float **vec;
    int *dim;
} emb;

static void emb_load(sqlite3 *db, int64_t id, emb *m)
{
    m->loaded = 1;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT model, dim, vec FROM embeddings WHERE image_id=? AND region_idx=-1", -1,
                           &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(st, 1, id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        int dim = sqlite3_column_int(st, 1);
        if (dim <= 0 || sqlite3_column_bytes(st, 2) != dim * (int)sizeof(float)) continue;
        m->model = xrealloc(m->model, sizeof *m->model * (size_t)(m->n + 1));
        m->vec = xrealloc(m->vec, sizeof *m->vec * (size_t)(m->n + 1));
        m->dim = xrealloc(m->dim, sizeof *m->dim * (size_t)(m->n + 1));
        const unsigned char *name = sqlite3_column_text(st, 0);
        snprintf(m->model[m->n], sizeof m->model[m->n], "%s", name ? (const char *)name : "");
        m->vec[m->n] = xmalloc(sizeof(float) * (size_t)dim);
        memcpy(m->vec[m->n], sqlite3_column_blob(st, 2), sizeof(float) * (size_t)dim);
        m->dim[m->n] = dim;
        m->n++;
    }
    sqlite3_finalize(st);
}

static void emb_free(emb *m)
{
    for (int i = 0; i < m->n; i++) free(m->vec[i]);
    free(m->model);
    free(m->vec);
    free(m->dim);
}

/* Cosine of the whole-image embeddings of a model both have (imgdex's own
 * joint embedding first, when both have it), or NAN. */
static float emb_cos(const emb *a, const emb *b)
{
    float best = NAN;
    int best_joint = -1;
    for (int i = 0; i < a->n; i++)
        for (int k = 0; k < b->n; k++) {
            if (strcmp(a->model[i], b->model[k]) || a->dim[i] != b->dim[k]) continue;
            int joint = !strncmp(a->model[i], "flickr8k-joint", 14);
            if (joint < best_joint) continue;
            double d = 0, na = 0, nb = 0;
            for (int j = 0; j < a->dim[i]; j++) {
                d += (double)a->vec[i][j] * b->vec[k][j];
                na += (double)a->vec[i][j] * a->vec[i][j];
                nb += (double)b->vec[k][j] * b->vec[k][j];
            }
            if (na > 0 && nb > 0) {
                best = (float)(d / sqrt(na * nb));
                best_joint = joint;
            }
        }
    return best;
}

/* Keep the exact pairs; keep a near pair unless embeddings both images
 * have say the two differ.  cos[k] gets the cosine (or NAN). */
static int filter_near(sqlite3 *db, const loaded *l, fp_match *m, int nm, float *cos)
{
    emb *E = NULL;
    int k = 0;
    for (int p = 0; p < nm; p++) {
        float c = NAN;
        if (m[p].dist > DUP_MAX_DIST) {
            if (!E) E = xcalloc((size_t)l->n, sizeof *E);
            if (!E[m[p].i].loaded) emb_load(db, l->e[m[p].i].id, &E[m[p].i]);
            if (!E[m[p].j].loaded) emb_load(db, l->e[m[p].j].id, &E[m[p].j]);
            c = emb_cos(&E[m[p].i], &E[m[p].j]);
            if (isnan(c) ? m[p].dist > DUP_NEAR_DIST : c < DUP_NEAR_COS) continue;
        }
        cos[k] = c;
        m[k++] = m[p];
    }
    if (E)
        for (int i = 0; i < l->n; i++) emb_free(&E[i]);
    free(E);
    return k;
}

/* ---- groups -------------------------------------------------------------- */

/* Largest resolution first, then the oldest (date taken, else file
 * time), then the first catalogued. */
static int better_keeper(const entry *a, const entry *b)
{
    long long pa = (long long)a->width * a->height, pb = (long long)b->width * b->height;
    if (pa != pb) return pa > pb;
    if (a->taken_at[0] && b->taken_at[0] && strcmp(a->taken_at, b->taken_at)) return strcmp(a->taken_at, b->taken_at) < 0;
    if (!!a->taken_at[0] != !!b->taken_at[0]) return a->taken_at[0] != 0;
    if (a->mtime_ns != b->mtime_ns) return a->mtime_ns < b->mtime_ns;
    return a->id < b->id;
}

static void member_of(const entry *x, dup_member *m)
{
    memset(m, 0, sizeof *m);
    m->id = x->id;
    snprintf(m->path, sizeof m->path, "%s", x->path);
    m->width = x->width;
    m->height = x->height;
    m->size = x->size;
    snprintf(m->taken_at, sizeof m->taken_at, "%s", x->taken_at);
    m->cos = NAN;
}

static int cmp_group(const void *a, const void *b)
{
    const dup_group *x = a, *y = b;
    if (x->n != y->n) return x->n > y->n ? -1 : 1;
    return (x->m[0].id > y->m[0].id) - (x->m[0].id < y->m[0].id);
}

/* Relation of b to a, from fp_distance(a, b): b inside a = b is a crop. */
static void relate(const img_fp *a, const img_fp *b, dup_member *m)
{
    int how;
    m->dist = fp_distance(a, b, &how);
    m->how = how;
}

int dups_find(catalogue *c, int near, dup_set *out, ierr *e)
{
    memset(out, 0, sizeof *out);
    loaded l;
    if (load(c, &l, &out->missing, e) != 0) return -1;
    out->images = l.n;
    fpindex *x = fpi_build(l.fp, l.n, 0);
    fp_match *m;
    int nm = fpi_pairs(x, near ? DUP_NEAR_EMB_DIST : DUP_MAX_DIST, near ? DUP_NEAR_RADIUS : DUP_RADIUS, &m);
    fpi_free(x);
    float *cos = xmalloc(sizeof *cos * (size_t)(nm + 1));
    nm = filter_near(cat_db(c), &l, m, nm, cos);
    int *comp = xmalloc(sizeof *comp * (size_t)(l.n + 1));
    fp_components(l.n, m, nm, comp);
    /* Members of each component, in index order. */
    int *size = xcalloc((size_t)l.n + 1, sizeof *size);
    for (int i = 0; i < l.n; i++) size[comp[i]]++;
    int *slot = xmalloc(sizeof *slot * (size_t)(l.n + 1));
    for (int i = 0; i < l.n; i++) {
        slot[i] = -1;
        if (comp[i] == i && size[i] > 1) {
            slot[i] = out->ngroups++;
        }
    }
    /* Each image's pairs (CSR), to say through which member it joined. */
    int *adj_off = xcalloc((size_t)l.n + 2, sizeof *adj_off);
    int *adj = xmalloc(sizeof *adj * (size_t)(2 * nm + 1));
    for (int p = 0; p < nm; p++) adj_off[m[p].i + 2]++, adj_off[m[p].j + 2]++;
    for (int i = 0; i < l.n; i++) adj_off[i + 2] += adj_off[i + 1];
    for (int p = 0; p < nm; p++) adj[adj_off[m[p].i + 1]++] = p, adj[adj_off[m[p].j + 1]++] = p;
    out->g = xcalloc((size_t)out->ngroups + 1, sizeof *out->g);
    int *keeper = xmalloc(sizeof *keeper * (size_t)(out->ngroups + 1));
    for (int i = 0; i < l.n; i++) {
        int s = slot[comp[i]];
        if (s < 0) continue;
        dup_group *g = &out->g[s];
        if (!g->m) {
            g->m = xcalloc((size_t)size[comp[i]], sizeof *g->m);
            keeper[s] = i;
        } else if (better_keeper(&l.e[i], &l.e[keeper[s]])) {
            keeper[s] = i;
        }
        member_of(&l.e[i], &g->m[g->n]);
        g->m[g->n].via = i;   /* index for now: resolved below */
        g->n++;
    }
    for (int s = 0; s < out->ngroups; s++) {
        dup_group *g = &out->g[s];
        int k = keeper[s];
        for (int a = 0; a < g->n; a++)
            if (g->m[a].id == l.e[k].id && a) {
                dup_member t = g->m[0];
                g->m[0] = g->m[a];
                g->m[a] = t;
            }
        g->m[0].via = 0;
        for (int a = 1; a < g->n; a++) {
            dup_member *d = &g->m[a];
            int i = (int)d->via;
            d->via = 0;
            relate(&l.fp[k], &l.fp[i], d);
            int limit = near ? DUP_NEAR_EMB_DIST : DUP_MAX_DIST;
            /* Matched to the keeper directly, or through another member:
             * then say through which (its closest pair). */
            int best = -1;
            for (int q = adj_off[i]; q < adj_off[i + 1]; q++) {
                int p = adj[q];
                int other = m[p].i == i ? m[p].j : m[p].i;
                if (other == k) {
                    best = p;
                    break;
                }
                if (d->dist > limit && (best < 0 || m[p].dist < m[best].dist)) best = p;
            }
            if (best >= 0) {
                int other = m[best].i == i ? m[best].j : m[best].i;
                if (other != k) {
                    d->via = l.e[other].id;
                    relate(&l.fp[other], &l.fp[i], d);
                }
                d->cos = cos[best];
            }
            d->near = d->dist > DUP_MAX_DIST;
        }
    }
    qsort(out->g, (size_t)out->ngroups, sizeof *out->g, cmp_group);
    free(adj);
    free(adj_off);
    free(keeper);
    free(slot);
    free(size);
    free(comp);
    free(cos);
    free(m);
    loaded_free(&l);
    return 0;
}

static int cmp_dist(const void *a, const void *b)
{
    const fp_match *x = a, *y = b;
    if (x->dist != y->dist) return x->dist < y->dist ? -1 : 1;
    return (x->j > y->j) - (x->j < y->j);
}

int dups_of(catalogue *c, int64_t id, int near, dup_set *out, ierr *e)
{
    memset(out, 0, sizeof *out);
    loaded l;
    if (load(c, &l, &out->missing, e) != 0) return -1;
    out->images = l.n;
    int self = -1;
    for (int i = 0; i < l.n && self < 0; i++)
        if (l.e[i].id == id) self = i;
    if (self < 0) {
        loaded_free(&l);
        return 0;
    }
    /* One image against all: a straight scan (~50 ns an image) is cheaper
     * than building the lookup with windows just for it. */
    fp_match *m = xmalloc(sizeof *m * 16);
    int nm = 0, cap = 16, limit = near ? DUP_NEAR_EMB_DIST : DUP_MAX_DIST;
    for (int j = 0; j < l.n; j++) {
        int how, d;
        if (j == self || (d = fp_distance(&l.fp[self], &l.fp[j], &how)) > limit) continue;
        if (nm == cap) m = xrealloc(m, sizeof *m * (size_t)(cap *= 2));
        m[nm++] = (fp_match){self, j, d, how};
    }
    qsort(m, (size_t)nm, sizeof *m, cmp_dist);
    for (int p = 0; p < nm; p++) m[p].i = self;
    float *cos = xmalloc(sizeof *cos * (size_t)(nm + 1));
    nm = filter_near(cat_db(c), &l, m, nm, cos);
    if (nm > 0) {
        out->ngroups = 1;
        out->g = xcalloc(1, sizeof *out->g);
        dup_group *g = &out->g[0];
        g->m = xcalloc((size_t)nm + 1, sizeof *g->m);
        int k = self;
        for (int p = 0; p < nm; p++)
            if (better_keeper(&l.e[m[p].j], &l.e[k])) k = m[p].j;
        member_of(&l.e[k], &g->m[g->n++]);
        if (k != self) {
            member_of(&l.e[self], &g->m[g->n]);
            g->m[g->n++].via = 0;
        }
        for (int p = 0; p < nm; p++) {
            int j = m[p].j;
            dup_member *d = j == k ? &g->m[0] : &g->m[g->n++];
            if (j != k) member_of(&l.e[j], d);
            d->via = id;
            relate(&l.fp[self], &l.fp[j], d);
            d->cos = cos[p];
            d->near = d->dist > DUP_MAX_DIST;
        }
        /* The image asked about, when it is not the keeper, is compared
         * with the keeper. */
        if (k != self) relate(&l.fp[k], &l.fp[self], &g->m[1]);
    }
    free(cos);
    free(m);
    loaded_free(&l);
    return 0;
}

void dup_set_free(dup_set *s)
{
    for (int i = 0; i < s->ngroups; i++) free(s->g[i].m);
    free(s->g);
    memset(s, 0, sizeof *s);
}

static const char *relation_word(const dup_member *m)
{
    if (m->near) return "near";
    return m->how == FP_B_INSIDE_A ? "crop" : m->how == FP_A_INSIDE_B ? "contains" : "same";
}

void dup_reason(const dup_member *m, char *out, size_t n)
{
    char to[48] = "the keeper", cos[48] = "";
    if (m->via) snprintf(to, sizeof to, "#%lld", (long long)m->via);
    if (!isnan(m->cos)) snprintf(cos, sizeof cos, ", embedding similarity %.2f", (double)m->cos);
    const char *what = m->near ? "near-duplicate of"
                       : m->how == FP_B_INSIDE_A ? "a crop of"
                       : m->how == FP_A_INSIDE_B ? "contains (uncropped)"
                                                 : "same picture as";
    snprintf(out, n, "%s %s, fingerprint %d/%d bits%s", what, to, m->dist, FP_BITS, cos);
}

char *dups_to_json(const dup_set *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *gs = cJSON_AddArrayToObject(o, "groups");
    for (int i = 0; i < s->ngroups; i++) {
        const dup_group *g = &s->g[i];
        cJSON *jg = cJSON_CreateObject();
        cJSON_AddNumberToObject(jg, "keeper", (double)g->m[0].id);
        cJSON *ms = cJSON_AddArrayToObject(jg, "members");
        for (int k = 0; k < g->n; k++) {
            const dup_member *m = &g->m[k];
            cJSON *jm = cJSON_CreateObject();
            cJSON_AddNumberToObject(jm, "id", (double)m->id);
            cJSON_AddStringToObject(jm, "path", m->path);
            cJSON_AddNumberToObject(jm, "width", m->width);
            cJSON_AddNumberToObject(jm, "height", m->height);
            cJSON_AddNumberToObject(jm, "size", (double)m->size);
            cJSON_AddItemToObject(jm, "taken_at", m->taken_at[0] ? cJSON_CreateString(m->taken_at) : cJSON_CreateNull());
            cJSON_AddBoolToObject(jm, "keeper", k == 0);
            if (k > 0) {
                char why[160];
                dup_reason(m, why, sizeof why);
                cJSON_AddNumberToObject(jm, "distance", m->dist);
                cJSON_AddStringToObject(jm, "relation", relation_word(m));
                cJSON_AddNumberToObject(jm, "via", (double)(m->via ? m->via : g->m[0].id));
                cJSON_AddItemToObject(jm, "similarity", isnan(m->cos) ? cJSON_CreateNull() : cJSON_CreateNumber(m->cos));
                cJSON_AddStringToObject(jm, "reason", why);
            }
            cJSON_AddItemToArray(ms, jm);
        }
        cJSON_AddItemToArray(gs, jg);
    }
    cJSON_AddNumberToObject(o, "images", s->images);
    cJSON_AddNumberToObject(o, "missing", s->missing);
    cJSON_AddNumberToObject(o, "max_distance", DUP_MAX_DIST);
    char *txt = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return txt;
}
