/* embscan.c — whole-image embeddings in memory, scanned with int8 SIMD dot
 * products (see embscan.h).
 *
 * Layout: rows of `stride` bytes (dim rounded up to 32, zero padded, so the
 * AVX2 kernel never needs a tail) and a float scale per row: v = scale·q.
 * A float32 blob (CLIP) is quantised on load the same way the catalogue
 * quantises the joint model's (cat_vec_encode_i8).  The query is quantised
 * too, so a cosine is sq·scale[i]·Σ q·r, exact to about 1 % of its range —
 * far below what separates a good match from a poor one.
 */
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/simd.h"
#include "index/catalogue.h"
#include "query/embscan.h"

struct emb_set {
    char key[4200];          /* database file (or connection) and model */
    char model[64];
    pthread_rwlock_t rw;     /* scans read; a refresh writes */
    pthread_mutex_t refresh;
    int dim, stride;
    int n, cap;
    int8_t *rows;
    uint64_t *bits;          /* sign code of each row (words per row), for the coarse pass */
    int words;
    float *scale;
    int64_t *ids;
    int64_t *hkey; int *hval; int hcap;   /* image id -> slot, open addressing */
    sqlite3_int64 last_rowid;
    int tried_file;          /* the sidecar file was looked for */
    int saved;               /* rows the sidecar file holds */
    int dirty;               /* rows added or changed since the file was read or written */
    void *map;               /* the sidecar mapped (the arrays point into it), until a row changes */
    size_t maplen;
    struct emb_set *next;
};

static pthread_mutex_t sets_mu = PTHREAD_MUTEX_INITIALIZER;
static emb_set *sets;

static uint64_t mix(int64_t id)
{
    uint64_t x = (uint64_t)id * 0x9e3779b97f4a7c15ull;
    return x ^ (x >> 29);
}

static void hash_put(emb_set *s, int64_t id, int slot);

static void hash_grow(emb_set *s)
{
    int64_t *ok = s->hkey;
    int *ov = s->hval;
    int oc = s->hcap;
    s->hcap = oc ? oc * 2 : 1024;
    s->hkey = xmalloc((size_t)s->hcap * sizeof *s->hkey);
    s->hval = xmalloc((size_t)s->hcap * sizeof *s->hval);
    for (int i = 0; i < s->hcap; i++) s->hval[i] = -1;
    for (int i = 0; i < oc; i++)
        if (ov[i] >= 0) hash_put(s, ok[i], ov[i]);
    free(ok);
    free(ov);
}

static void hash_put(emb_set *s, int64_t id, int slot)
{
    if ((s->n + 1) * 2 > s->hcap) hash_grow(s);
    size_t m = (size_t)s->hcap - 1;
    for (size_t i = mix(id) & m;; i = (i + 1) & m) {
        if (s->hval[i] < 0 || s->hkey[i] == id) {
            s->hkey[i] = id;
            s->hval[i] = slot;
            return;
        }
    }
}

int emb_find(const emb_set *s, int64_t id)
{
    if (!s || !s->hcap) return -1;
    size_t m = (size_t)s->hcap - 1;
    /* Bounded, and only slots that exist: the table may come from a file
     * (the sidecar) that was damaged after it was written. */
    for (size_t i = mix(id) & m, probes = 0; probes <= m; i = (i + 1) & m, probes++) {
        int v = s->hval[i];
        if (v < 0 || v >= s->n) return -1;
        if (s->hkey[i] == id) return v;
    }
    return -1;
}

/* Quantise v (dim floats) into q (stride bytes); returns the scale. */
static float quantise(const float *v, int dim, int stride, int8_t *q)
{
    float mx = 0;
    for (int j = 0; j < dim; j++) mx = fabsf(v[j]) > mx ? fabsf(v[j]) : mx;
    float scale = mx > 0 ? mx / 127.0f : 1.0f;
    for (int j = 0; j < dim; j++) {
        long r = lroundf(v[j] / scale);
        q[j] = (int8_t)(r > 127 ? 127 : r < -127 ? -127 : r);
    }
    memset(q + dim, 0, (size_t)(stride - dim));
    return scale;
}

static void sign_code(const int8_t *q, int dim, int words, uint64_t *out)
{
    memset(out, 0, (size_t)words * sizeof *out);
    for (int j = 0; j < dim; j++)
        if (q[j] > 0) out[j >> 6] |= 1ull << (j & 63);
}

/* One stored row into slot (a new one, or the image's old one). */
static void take_arrays(emb_set *s);

static void put_row(emb_set *s, int64_t id, const void *blob, int bytes, float *tmp)
{
    if (s->map) take_arrays(s);
    s->dirty++;
    int slot = emb_find(s, id);
    if (slot < 0) {
        if (s->n == s->cap) {
            s->cap = s->cap ? s->cap * 2 : 4096;
            s->rows = xrealloc(s->rows, (size_t)s->cap * (size_t)s->stride);
            s->bits = xrealloc(s->bits, (size_t)s->cap * (size_t)s->words * sizeof *s->bits);
            s->scale = xrealloc(s->scale, (size_t)s->cap * sizeof *s->scale);
            s->ids = xrealloc(s->ids, (size_t)s->cap * sizeof *s->ids);
        }
        slot = s->n;
        hash_put(s, id, slot);
        s->n++;
        s->ids[slot] = id;
    }
    int8_t *row = s->rows + (size_t)slot * (size_t)s->stride;
    if ((size_t)bytes == CAT_VEC_I8_BYTES(s->dim)) {
        memcpy(&s->scale[slot], blob, 4);   /* stored compact: taken as it is */
        memcpy(row, (const int8_t *)blob + 4, (size_t)s->dim);
        memset(row + s->dim, 0, (size_t)(s->stride - s->dim));
    } else {
        memcpy(tmp, blob, (size_t)s->dim * sizeof *tmp);
        s->scale[slot] = quantise(tmp, s->dim, s->stride, row);
    }
    sign_code(row, s->dim, s->words, s->bits + (size_t)slot * (size_t)s->words);
}

/* Rows added since the last refresh.  Caller holds s->rw for writing. */
static void refresh(emb_set *s, sqlite3 *db)
{
    sqlite3_stmt *st;
    sqlite3_int64 top = 0;
    if (sqlite3_prepare_v2(db, "SELECT max(rowid) FROM embeddings", -1, &st, NULL) != SQLITE_OK) return;
    if (sqlite3_step(st) == SQLITE_ROW) top = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (top <= s->last_rowid) return;
    if (sqlite3_prepare_v2(db, "SELECT rowid, image_id, dim, vec FROM embeddings"
                               " WHERE rowid > ?1 AND region_idx = -1 AND model = ?2 ORDER BY rowid",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(st, 1, s->last_rowid);
    sqlite3_bind_text(st, 2, s->model, -1, SQLITE_STATIC);
    float *tmp = NULL;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int dim = sqlite3_column_int(st, 2);
        const void *b = sqlite3_column_blob(st, 3);
        int bytes = sqlite3_column_bytes(st, 3);
        if (!b || dim <= 0 || dim > 65536) continue;
        if (!s->dim) {
            s->dim = dim;
            s->stride = (dim + 31) / 32 * 32;
            s->words = (dim + 63) / 64;
        }
        if (dim != s->dim) continue;
        if ((size_t)bytes != CAT_VEC_I8_BYTES(dim) && (size_t)bytes != (size_t)dim * sizeof(float)) continue;
        if (!tmp) tmp = xmalloc((size_t)dim * sizeof *tmp);
        put_row(s, sqlite3_column_int64(st, 1), b, bytes, tmp);
    }
    sqlite3_finalize(st);
    free(tmp);
    s->last_rowid = top;
}

/* ---- the sidecar file ------------------------------------------------------
 *
 * Reading a million blobs out of SQLite takes seconds; a one-shot `imgdex
 * search` would pay that on every run.  So the loaded set is also kept next
 * to the database, in "<db>.emb-<sha256(model), 16 hex>": a header page,
 * then the rows, sign codes, scales, image ids and the id hash exactly as
 * held in memory, each starting on a 64-byte boundary.  A process maps the
 * file instead of reading it: at a million images reading it cost 1.2 s of
 * CPU, while the first scan of the mapped file touches only the sign codes
 * and the rows it ranks exactly.  The mapping is read-only and private to
 * the process; the first row the process adds or changes moves the arrays
 * to the heap (take_arrays).  Files are only ever replaced by rename, never
 * written in place, so a mapped file does not change under a reader.
 *
 * It is only a cache: it is used when the embeddings row it ends with is
 * still there with the same image (else the catalogue was rebuilt or that
 * image re-described: it is read from SQLite again), the rows added since
 * come from SQLite as usual, and it is rewritten when those are many, or
 * by the first process that found it behind (so the next one maps it
 * whole).  A directory that cannot be written only costs the slow load. */

#define SC_MAGIC "IMGDXEM2"
#define SC_HEAD_BYTES 4096

typedef struct sc_head {
    char magic[8];
    char model[64];
    int32_t dim, stride, words, n, hcap, unused;
    int64_t last_rowid, last_image;
} sc_head;

enum { SC_ROWS, SC_BITS, SC_SCALE, SC_IDS, SC_HKEY, SC_HVAL, SC_END };

/* Offsets of the sections of a file with header h; off[SC_END] is its size. */
static void sc_layout(const sc_head *h, size_t off[SC_END + 1])
{
    size_t n = (size_t)h->n, hc = (size_t)h->hcap;
    size_t len[SC_END] = {n * (size_t)h->stride, n * (size_t)h->words * 8, n * 4, n * 8, hc * 8, hc * 4};
    off[0] = SC_HEAD_BYTES;
    for (int i = 0; i < SC_END; i++) off[i + 1] = (off[i] + len[i] + 63) / 64 * 64;
}

static void sidecar_path(const emb_set *s, const char *dbfile, char *out, size_t n)
{
    char h[65];
    sha256_hex(s->model, strlen(s->model), h);
    snprintf(out, n, "%s.emb-%.16s", dbfile, h);
}

/* Image id of embeddings row rowid when it is one of this model's, else -1. */
static int64_t row_image(sqlite3 *db, const char *model, sqlite3_int64 rowid)
{
    sqlite3_stmt *st;
    int64_t id = -1;
    if (sqlite3_prepare_v2(db, "SELECT image_id FROM embeddings WHERE rowid=?1 AND model=?2 AND region_idx=-1", -1,
                           &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, rowid);
    sqlite3_bind_text(st, 2, model, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return id;
}

static void sidecar_load(emb_set *s, sqlite3 *db, const char *dbfile)
{
    char path[4300];
    sidecar_path(s, dbfile, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    sc_head h;
    struct stat st;
    size_t off[SC_END + 1];
    /* hcap: a power of two with room to spare, as hash_put keeps it */
    int ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && pread(fd, &h, sizeof h, 0) == (ssize_t)sizeof h &&
             !memcmp(h.magic, SC_MAGIC, 8) && !strncmp(h.model, s->model, 64) && h.dim > 0 && h.dim <= 65536 &&
             h.stride == (h.dim + 31) / 32 * 32 && h.words == (h.dim + 63) / 64 && h.n > 0 && h.n < (1 << 30) &&
             h.hcap > 0 && h.hcap <= (1 << 30) && !(h.hcap & (h.hcap - 1)) && (int64_t)h.hcap >= 2 * ((int64_t)h.n + 1);
    if (ok) sc_layout(&h, off);
    ok = ok && (uint64_t)st.st_size == off[SC_END] && row_image(db, s->model, h.last_rowid) == h.last_image;
    void *m = ok ? mmap(NULL, off[SC_END], PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
    close(fd);
    if (m == MAP_FAILED) return;
    char *b = m;
    s->map = m, s->maplen = off[SC_END];
    s->dim = h.dim, s->stride = h.stride, s->words = h.words;
    s->n = s->cap = h.n, s->hcap = h.hcap;
    s->rows = (int8_t *)(b + off[SC_ROWS]);
    s->bits = (uint64_t *)(void *)(b + off[SC_BITS]);
    s->scale = (float *)(void *)(b + off[SC_SCALE]);
    s->ids = (int64_t *)(void *)(b + off[SC_IDS]);
    s->hkey = (int64_t *)(void *)(b + off[SC_HKEY]);
    s->hval = (int *)(void *)(b + off[SC_HVAL]);
    s->last_rowid = h.last_rowid;
    s->saved = h.n;
}

/* The mapped arrays into the heap, where they can change and grow; the id
 * hash is built again from the ids rather than trusted. */
static void take_arrays(emb_set *s)
{
    size_t n = (size_t)s->n;
    int8_t *rows = xmalloc(n * (size_t)s->stride);
    uint64_t *bits = xmalloc(n * (size_t)s->words * sizeof *bits);
    float *scale = xmalloc(n * sizeof *scale);
    int64_t *ids = xmalloc(n * sizeof *ids);
    memcpy(rows, s->rows, n * (size_t)s->stride);
    memcpy(bits, s->bits, n * (size_t)s->words * sizeof *bits);
    memcpy(scale, s->scale, n * sizeof *scale);
    memcpy(ids, s->ids, n * sizeof *ids);
    munmap(s->map, s->maplen);
    s->map = NULL, s->maplen = 0;
    s->rows = rows, s->bits = bits, s->scale = scale, s->ids = ids;
    s->cap = s->n;
    s->hkey = NULL, s->hval = NULL, s->hcap = 0;
    for (size_t i = 0; i < n; i++) hash_put(s, ids[i], (int)i);
}

static int write_padded(FILE *f, const void *p, size_t len, size_t upto)
{
    static const char zero[SC_HEAD_BYTES];
    if (len && fwrite(p, 1, len, f) != len) return 0;
    for (size_t at = len; at < upto;) {
        size_t k = upto - at < sizeof zero ? upto - at : sizeof zero;
        if (fwrite(zero, 1, k, f) != k) return 0;
        at += k;
    }
    return 1;
}

static void sidecar_save(emb_set *s, sqlite3 *db, const char *dbfile)
{
    char path[4300], tmp[4400];
    sidecar_path(s, dbfile, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
    sc_head h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, SC_MAGIC, 8);
    snprintf(h.model, sizeof h.model, "%s", s->model);
    h.dim = s->dim, h.stride = s->stride, h.words = s->words, h.n = s->n, h.hcap = s->hcap;
    h.last_rowid = s->last_rowid;
    h.last_image = row_image(db, s->model, s->last_rowid);
    if (h.last_image < 0) return;   /* the newest row is another model's: nothing to check against */
    size_t off[SC_END + 1];
    sc_layout(&h, off);
    const void *part[SC_END] = {s->rows, s->bits, s->scale, s->ids, s->hkey, s->hval};
    size_t n = (size_t)s->n, hc = (size_t)s->hcap;
    size_t len[SC_END] = {n * (size_t)s->stride, n * (size_t)s->words * 8, n * 4, n * 8, hc * 8, hc * 4};
    FILE *f = fopen(tmp, "wb");
    if (!f) return;
    int ok = write_padded(f, &h, sizeof h, SC_HEAD_BYTES);
    for (int i = 0; i < SC_END && ok; i++) ok = write_padded(f, part[i], len[i], off[i + 1] - off[i]);
    if (fclose(f) != 0) ok = 0;
    if (ok && rename(tmp, path) == 0) s->saved = s->n, s->dirty = 0;
    else unlink(tmp);
}

emb_set *emb_acquire(sqlite3 *db, const char *model)
{
    if (!db || !model || !*model) return NULL;
    char key[4200];
    const char *fn = sqlite3_db_filename(db, "main");
    if (fn && *fn) snprintf(key, sizeof key, "%s\n%s", fn, model);
    else snprintf(key, sizeof key, "%p\n%s", (void *)db, model);   /* a temporary database */
    pthread_mutex_lock(&sets_mu);
    emb_set *s = sets;
    while (s && strcmp(s->key, key)) s = s->next;
    if (!s) {
        s = xcalloc(1, sizeof *s);
        snprintf(s->key, sizeof s->key, "%s", key);
        snprintf(s->model, sizeof s->model, "%s", model);
        pthread_rwlock_init(&s->rw, NULL);
        pthread_mutex_init(&s->refresh, NULL);
        s->next = sets;
        sets = s;
    }
    pthread_mutex_unlock(&sets_mu);
    /* One refresher at a time; scans in flight finish first. */
    pthread_mutex_lock(&s->refresh);
    pthread_rwlock_wrlock(&s->rw);
    int file = fn && *fn && !getenv("IMGDEX_NO_EMB_CACHE"), first = 0;
    if (file && !s->tried_file) {
        s->tried_file = first = 1;
        sidecar_load(s, db, fn);
    }
    refresh(s, db);
    /* worth writing: the file is missing or lacks many rows, or this
     * process found it behind (each later one would copy it to catch up) */
    if (file && s->n >= 1000 &&
        (s->dirty >= (s->n / 100 > 1000 ? s->n / 100 : 1000) || (first && s->saved && s->dirty)))
        sidecar_save(s, db, fn);
    pthread_rwlock_unlock(&s->rw);
    pthread_mutex_unlock(&s->refresh);
    pthread_rwlock_rdlock(&s->rw);
    if (!s->n) {
        pthread_rwlock_unlock(&s->rw);
        return NULL;
    }
    return s;
}

void emb_release(emb_set *s)
{
    if (s) pthread_rwlock_unlock(&s->rw);
}

int emb_count(const emb_set *s) { return s ? s->n : 0; }
int emb_dim(const emb_set *s) { return s ? s->dim : 0; }
int64_t emb_image(const emb_set *s, int slot) { return s->ids[slot]; }

void emb_vector(const emb_set *s, int slot, float *out)
{
    const int8_t *r = s->rows + (size_t)slot * (size_t)s->stride;
    for (int j = 0; j < s->dim; j++) out[j] = s->scale[slot] * (float)r[j];
}

int8_t *emb_prepare(const emb_set *s, const float *q, float *k)
{
    int8_t *qq = xmalloc((size_t)s->stride);
    double nq = 0;
    for (int j = 0; j < s->dim; j++) nq += (double)q[j] * q[j];
    float sq = quantise(q, s->dim, s->stride, qq);
    *k = nq > 0 ? sq / (float)sqrt(nq) : 0;
    return qq;
}

float emb_cosine(const emb_set *s, int slot, const int8_t *qq, float k)
{
    int32_t d;
    simd_dot_i8(s->rows + (size_t)slot * (size_t)s->stride, (size_t)s->stride, 1, qq, s->stride, &d);
    return k * s->scale[slot] * (float)d;
}

/* Exact cosines of slots slot[0..n) into out[slot[i]] (scatter) or out[i].
 * Scattered rows (the coarse pass keeps one in ten of a million, 256 bytes
 * each) would each wait for memory; asking for the rows a few ahead lets
 * those waits overlap (the exact pass took twice as long without). */
static void cos_slots(const emb_set *s, const int8_t *qq, float k, const int *slot, int n, float *out, int scatter)
{
    enum { AHEAD = 8 };
    for (int i = 0; i < n; i++) {
        if (i + AHEAD < n) {
            const char *p = (const char *)(s->rows + (size_t)slot[i + AHEAD] * (size_t)s->stride);
            for (int off = 0; off < s->stride; off += 64) __builtin_prefetch(p + off);
        }
        out[scatter ? slot[i] : i] = emb_cosine(s, slot[i], qq, k);
    }
}

/* Exact cosines of the slots in idx[0..n) (or of slots first..first+n when
 * idx is NULL) into out[slot]. */
static void exact(const emb_set *s, const int8_t *qq, float k, const int *idx, int first, int n, float *out)
{
    enum { BLOCK = 1024 };
    int32_t dots[BLOCK];
    if (!idx) {
        /* in blocks, so the int32 results stay in L1 next to the rows */
        for (int i = 0; i < n; i += BLOCK) {
            int m = n - i < BLOCK ? n - i : BLOCK, b = first + i;
            simd_dot_i8(s->rows + (size_t)b * (size_t)s->stride, (size_t)s->stride, (size_t)m, qq, s->stride, dots);
            for (int j = 0; j < m; j++) out[b + j] = k * s->scale[b + j] * (float)dots[j];
        }
        return;
    }
    cos_slots(s, qq, k, idx, n, out, 1);
}

/* EMB_EXACT_MAX and EMB_COARSE_KEEP, or for tests IMGDEX_EMB_EXACT_MAX and
 * IMGDEX_EMB_COARSE_KEEP. */
static int knob(const char *env, int dflt)
{
    const char *v = getenv(env);
    return v && atoi(v) > 0 ? atoi(v) : dflt;
}

void emb_scan(const emb_set *s, const float *q, float *out)
{
    float k;
    int8_t *qq = emb_prepare(s, q, &k);
    int keep = knob("IMGDEX_EMB_COARSE_KEEP", EMB_COARSE_KEEP);
    if (s->n <= knob("IMGDEX_EMB_EXACT_MAX", EMB_EXACT_MAX)) {
        exact(s, qq, k, NULL, 0, s->n, out);
        free(qq);
        return;
    }
    /* A million images: the int8 rows are half a gigabyte, more than a
     * query may read.  First the sign codes (64 bytes a row at 512
     * dimensions): the Hamming distance to the query's code ranks every
     * image coarsely; the EMB_COARSE_KEEP nearest get exact cosines, the
     * rest a value below all of those (they are not candidates). */
    uint64_t *qb = xmalloc((size_t)s->words * sizeof *qb);
    sign_code(qq, s->dim, s->words, qb);
    uint16_t *h = xmalloc((size_t)s->n * sizeof *h);
    simd_hamming(s->bits, (size_t)s->words, (size_t)s->n, qb, h);
    /* the keep-th smallest distance, by counting */
    int nb = s->words * 64 + 1;
    int *cnt = xcalloc((size_t)nb + 1, sizeof *cnt);
    for (int i = 0; i < s->n; i++) cnt[h[i]]++;
    int cut = 0, acc = 0;
    while (cut < nb && acc + cnt[cut] < keep) acc += cnt[cut++];
    int *idx = xmalloc((size_t)(acc + cnt[cut < nb ? cut : nb - 1] + 1) * sizeof *idx);
    int ni = 0;
    for (int i = 0; i < s->n; i++) {
        if (h[i] <= cut) idx[ni++] = i;
        out[i] = -2;
    }
    exact(s, qq, k, idx, 0, ni, out);
    free(idx);
    free(cnt);
    free(h);
    free(qb);
    free(qq);
}

/* A min-heap of the m best so far: most values fail the first compare. */
static int worse(const float *v, int a, int b) { return v[a] < v[b] || (v[a] == v[b] && a > b); }

static void sift_down(const float *v, int *h, int n, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && worse(v, h[l], h[m])) m = l;
        if (r < n && worse(v, h[r], h[m])) m = r;
        if (m == i) return;
        int t = h[i]; h[i] = h[m]; h[m] = t;
        i = m;
    }
}

int emb_top(const float *v, int n, int m, int *idx)
{
    if (m > n) m = n;
    if (m <= 0) return 0;
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (k < m) {
            idx[k++] = i;
            if (k == m)
                for (int j = m / 2 - 1; j >= 0; j--) sift_down(v, idx, m, j);
            continue;
        }
        if (!worse(v, idx[0], i)) continue;
        idx[0] = i;
        sift_down(v, idx, m, 0);
    }
    /* the heap (worst on top) -> best first */
    for (int end = m - 1; end > 0; end--) {
        int t = idx[0]; idx[0] = idx[end]; idx[end] = t;
        sift_down(v, idx, end, 0);
    }
    return m;
}

int emb_model_of(sqlite3 *db, int64_t id, const char *prefer, char *out, size_t n)
{
    sqlite3_stmt *st;
    out[0] = 0;
    if (sqlite3_prepare_v2(db, "SELECT model FROM embeddings WHERE image_id=?1 AND region_idx=-1 ORDER BY model",
                           -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_int64(st, 1, id);
    int found = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *m = (const char *)sqlite3_column_text(st, 0);
        if (!m) continue;
        if (!found || (prefer && !strcmp(m, prefer))) snprintf(out, n, "%s", m);
        found = 1;
    }
    sqlite3_finalize(st);
    return found;
}

size_t emb_bytes_loaded(void)
{
    size_t b = 0;
    pthread_mutex_lock(&sets_mu);
    for (emb_set *s = sets; s; s = s->next)
        b += (size_t)s->cap * ((size_t)s->stride + (size_t)s->words * 8 + sizeof(float) + sizeof(int64_t)) +
             (size_t)s->hcap * (sizeof(int64_t) + sizeof(int));
    pthread_mutex_unlock(&sets_mu);
    return b;
}

/* ---- one query ---------------------------------------------------------------- */

int q_emb_start(sqlite3 *db, const char *model, const float *qv, int dim, q_emb *e)
{
    memset(e, 0, sizeof *e);
    emb_set *s = emb_acquire(db, model);
    if (!s) return 0;
    if (emb_dim(s) != dim) {
        emb_release(s);
        return 0;
    }
    e->set = s;
    e->n = emb_count(s);
    e->cos = xmalloc((size_t)e->n * sizeof *e->cos);
    emb_scan(s, qv, e->cos);
    e->qq = emb_prepare(s, qv, &e->qk);
    return 1;
}

float q_emb_cos(const q_emb *e, int64_t id)
{
    int slot = e->set ? emb_find(e->set, id) : -1;
    if (slot < 0) return NAN;
    /* the scan already computed it (the same dot product and scaling, so
     * the same float) unless the coarse pass left this image out (-2);
     * asked for every candidate of a sentence, tens of thousands */
    if (e->cos[slot] > -1.5f) return e->cos[slot];
    return emb_cosine(e->set, slot, e->qq, e->qk);
}

void q_emb_cos_many(const q_emb *e, const int64_t *ids, int n, float *out)
{
    int *slot = xmalloc((size_t)(n + 1) * sizeof *slot), *at = xmalloc((size_t)(n + 1) * sizeof *at);
    float *c = xmalloc((size_t)(n + 1) * sizeof *c);
    int np = 0;
    for (int i = 0; i < n; i++) {
        int sl = e->set ? emb_find(e->set, ids[i]) : -1;
        if (sl < 0) out[i] = NAN;
        else if (e->cos[sl] > -1.5f) out[i] = e->cos[sl];   /* as in q_emb_cos */
        else {
            slot[np] = sl;
            at[np++] = i;
        }
    }
    if (np) cos_slots(e->set, e->qq, e->qk, slot, np, c, 0);
    for (int j = 0; j < np; j++) out[at[j]] = c[j];
    free(slot);
    free(at);
    free(c);
}

int q_emb_best(const q_emb *e, int m, int64_t *ids, float *cos)
{
    if (!e->set) return 0;
    int *idx = xmalloc((size_t)(m > 0 ? m : 1) * sizeof *idx);
    int k = emb_top(e->cos, e->n, m, idx);
    for (int i = 0; i < k; i++) {
        ids[i] = emb_image(e->set, idx[i]);
        cos[i] = e->cos[idx[i]];
    }
    free(idx);
    return k;
}

void q_emb_done(q_emb *e)
{
    emb_release(e->set);
    free(e->cos);
    free(e->qq);
    memset(e, 0, sizeof *e);
}
