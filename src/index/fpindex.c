/* fpindex.c — multi-index hashing over fingerprints (see fpindex.h).
 *
 * A table is, per 16-bit chunk, a counting sort of entry numbers by chunk
 * value: off[v]..off[v+1] are the entries whose chunk equals v.  Probing
 * is then a few array reads per value.  Candidates of one query are
 * gathered with repeats, sorted and deduplicated (no per-image scratch
 * array, so queries are independent of each other), then verified.
 */
#include "index/fpindex.h"

#include <stdlib.h>
#include <string.h>

#define NCHUNK 8
#define NVAL 65536

typedef struct table {
    int nk;                      /* hashes per image in this table */
    uint32_t *off[NCHUNK];       /* NVAL + 1 each */
    uint32_t *ent[NCHUNK];       /* image * nk + hash number */
    int m;
} table;

struct fpindex {
    const img_fp *fps;
    int n;
    /* The frames alone, packed: candidates are checked against these
     * (1.6 MB at 100k images, cache-resident) before anything else. */
    uint64_t (*frame)[2];
    table frames;                /* h[0] of every image */
    table windows;               /* h[1..16], when built with_windows */
};

/* Chunk c takes every eighth bit of the 128 from bit c on: each chunk mixes
 * low and high frequencies.  Chunks of neighbouring bits (the 16 lowest
 * frequencies in one) are far from uniform over photos — the sky is at the
 * top of most of them — and made buckets of thousands at 100k images. */
static unsigned chunk(const uint64_t h[2], int c)
{
    unsigned v = 0;
    for (int b = 0; b < 16; b++) {
        int bit = c + 8 * b;
        v |= (unsigned)((h[bit >> 6] >> (bit & 63)) & 1u) << b;
    }
    return v;
}

static void table_build(table *t, const img_fp *fps, int n, int k0, int nk)
{
    t->nk = nk;
    t->m = n * nk;
    for (int c = 0; c < NCHUNK; c++) {
        uint32_t *off = xcalloc(NVAL + 1, sizeof *off);
        uint32_t *ent = xmalloc(sizeof *ent * (size_t)(t->m ? t->m : 1));
        for (int i = 0; i < n; i++)
            for (int k = 0; k < nk; k++) off[chunk(fps[i].h[k0 + k], c) + 1]++;
        for (int v = 0; v < NVAL; v++) off[v + 1] += off[v];
        uint32_t *fill = xmalloc(sizeof *fill * NVAL);
        memcpy(fill, off, sizeof *fill * NVAL);
        for (int i = 0; i < n; i++)
            for (int k = 0; k < nk; k++) ent[fill[chunk(fps[i].h[k0 + k], c)]++] = (uint32_t)(i * nk + k);
        free(fill);
        t->off[c] = off;
        t->ent[c] = ent;
    }
}

static void table_free(table *t)
{
    for (int c = 0; c < NCHUNK; c++) {
        free(t->off[c]);
        free(t->ent[c]);
    }
}

fpindex *fpi_build(const img_fp *fps, int n, int with_windows)
{
    fpindex *x = xcalloc(1, sizeof *x);
    x->fps = fps;
    x->n = n;
    x->frame = xmalloc(sizeof *x->frame * (size_t)(n ? n : 1));
    for (int i = 0; i < n; i++) x->frame[i][0] = fps[i].h[0][0], x->frame[i][1] = fps[i].h[0][1];
    table_build(&x->frames, fps, n, 0, 1);
    if (with_windows) table_build(&x->windows, fps, n, 1, FP_WINDOWS);
    return x;
}

void fpi_free(fpindex *x)
{
    if (!x) return;
    table_free(&x->frames);
    table_free(&x->windows);
    free(x->frame);
    free(x);
}

size_t fpi_bytes(const fpindex *x)
{
    size_t b = sizeof *x + sizeof *x->frame * (size_t)x->n;
    const table *ts[2] = {&x->frames, &x->windows};
    for (int t = 0; t < 2; t++)
        if (ts[t]->off[0]) b += NCHUNK * (sizeof(uint32_t) * ((size_t)NVAL + 1 + (size_t)ts[t]->m));
    return b;
}

/* ---- candidates ---------------------------------------------------------- */

typedef struct ids {
    uint32_t *v;
    int n, cap;
} ids;

static void ids_push(ids *s, uint32_t v)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->v = xrealloc(s->v, sizeof *s->v * (size_t)s->cap);
    }
    s->v[s->n++] = v;
}

/* Hamming distance with the popcount instruction where the CPU has one
 * (chosen at load time): this loop is where `duplicates` spends its time. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define HOT __attribute__((target_clones("popcnt", "default")))
#else
#define HOT
#endif

/* Images (entry / nk) of the entries in bucket v whose hash is within
 * max_dist of key: the frame (frames table) or a window (windows table). */
static inline void bucket(const fpindex *x, const table *t, int c, unsigned v, const uint64_t key[2], int max_dist,
                       ids *s)
{
    const uint32_t *off = t->off[c], *ent = t->ent[c];
    for (uint32_t e = off[v]; e < off[v + 1]; e++) {
        uint32_t id = ent[e];
        const uint64_t *h = t->nk == 1 ? x->frame[id] : x->fps[id / (uint32_t)t->nk].h[1 + id % (uint32_t)t->nk];
        if (__builtin_popcountll(h[0] ^ key[0]) + __builtin_popcountll(h[1] ^ key[1]) <= max_dist)
            ids_push(s, id / (uint32_t)t->nk);
    }
}

/* Every bucket within `radius` bits of each of key's chunks. */
HOT static void probe(const fpindex *x, const table *t, const uint64_t key[2], int radius, int max_dist, ids *s)
{
    for (int c = 0; c < NCHUNK; c++) {
        unsigned v = chunk(key, c);
        bucket(x, t, c, v, key, max_dist, s);
        for (int a = 0; a < 16 && radius >= 1; a++) {
            bucket(x, t, c, v ^ (1u << a), key, max_dist, s);
            for (int b = a + 1; b < 16 && radius >= 2; b++) bucket(x, t, c, v ^ (1u << a) ^ (1u << b), key, max_dist, s);
        }
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void ids_unique(ids *s)
{
    if (s->n < 2) return;
    qsort(s->v, (size_t)s->n, sizeof *s->v, cmp_u32);
    int k = 1;
    for (int i = 1; i < s->n; i++)
        if (s->v[i] != s->v[k - 1]) s->v[k++] = s->v[i];
    s->n = k;
}

typedef struct matches {
    fp_match *v;
    int n, cap;
} matches;

static void match_push(matches *m, int i, int j, int d, int how)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 256;
        m->v = xrealloc(m->v, sizeof *m->v * (size_t)m->cap);
    }
    m->v[m->n++] = (fp_match){i, j, d, how};
}

static int cmp_pair(const void *a, const void *b)
{
    const fp_match *x = a, *y = b;
    if (x->i != y->i) return x->i < y->i ? -1 : 1;
    return (x->j > y->j) - (x->j < y->j);
}

int fpi_pairs(const fpindex *x, int max_dist, int radius, fp_match **out)
{
    matches m = {0};
    ids s = {0};
    for (int i = 0; i < x->n; i++) {
        s.n = 0;
        /* Its frame finds same-frame copies, its windows the crops of it. */
        for (int k = 0; k < FP_HASHES; k++) probe(x, &x->frames, x->fps[i].h[k], k ? radius - 1 : radius, max_dist, &s);
        ids_unique(&s);
        for (int c = 0; c < s.n; c++) {
            int j = (int)s.v[c];
            if (j == i) continue;
            int lo = i < j ? i : j, hi = i < j ? j : i, how;
            int d = fp_distance(&x->fps[lo], &x->fps[hi], &how);
            if (d <= max_dist) match_push(&m, lo, hi, d, how);
        }
    }
    free(s.v);
    /* A pair may be found from both ends. */
    if (m.n > 1) qsort(m.v, (size_t)m.n, sizeof *m.v, cmp_pair);
    int k = m.n ? 1 : 0;
    for (int i = 1; i < m.n; i++)
        if (m.v[i].i != m.v[k - 1].i || m.v[i].j != m.v[k - 1].j) m.v[k++] = m.v[i];
    *out = m.v;
    return k;
}

static int cmp_near(const void *a, const void *b)
{
    const fp_match *x = a, *y = b;
    if (x->dist != y->dist) return x->dist < y->dist ? -1 : 1;
    return (x->j > y->j) - (x->j < y->j);
}

int fpi_query(const fpindex *x, const img_fp *q, int self, int max_dist, int radius, fp_match **out)
{
    ids s = {0};
    for (int k = 0; k < FP_HASHES; k++) probe(x, &x->frames, q->h[k], radius, max_dist, &s);
    if (x->windows.off[0]) probe(x, &x->windows, q->h[0], radius, max_dist, &s);
    ids_unique(&s);
    matches m = {0};
    for (int c = 0; c < s.n; c++) {
        int j = (int)s.v[c], how;
        if (j == self) continue;
        int d = fp_distance(q, &x->fps[j], &how);
        if (d <= max_dist) match_push(&m, -1, j, d, how);
    }
    free(s.v);
    if (m.n > 1) qsort(m.v, (size_t)m.n, sizeof *m.v, cmp_near);
    *out = m.v;
    return m.n;
}

/* ---- groups -------------------------------------------------------------- */

static int find(int *p, int i)
{
    while (p[i] != i) {
        p[i] = p[p[i]];
        i = p[i];
    }
    return i;
}

void fp_components(int n, const fp_match *m, int nm, int *comp)
{
    for (int i = 0; i < n; i++) comp[i] = i;
    for (int k = 0; k < nm; k++) {
        int a = find(comp, m[k].i), b = find(comp, m[k].j);
        /* The smaller root wins, so a root is its group's smallest index. */
        if (a < b)
            comp[b] = a;
        else if (b < a)
            comp[a] = b;
    }
    for (int i = 0; i < n; i++) comp[i] = find(comp, i);
}
