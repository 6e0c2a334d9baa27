/* fingerprint.c — img_fingerprint: a 64×64 grey grid, 17 windows of it, a
 * 128-bit DCT hash per window (see fingerprint.h for why windows).
 *
 * The grid is a plain box average (every source pixel lands in one cell),
 * which is what makes a copy resized to half the size land on the same
 * grid.  Windows are resampled from the grid with exact fractional box
 * weights, so a window offset of 2.13 cells is really 2.13 cells.  Only
 * the coefficients the hash needs are computed: rows of the DCT up to
 * frequency 15, then the 128 (u, v) pairs.
 */
#include "image/fingerprint.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define G 64          /* grid side */
#define W 32          /* window side after resampling */
#define NF 16         /* frequencies per axis that the 128 bits reach */
#define CROP 0.9      /* window side, as a share of the frame */

/* Box-average the image into a G×G grey grid.  Large images are sampled on
 * a regular lattice (still >= 4 samples per cell per axis): the average of
 * 16+ samples is as good a cell value for a 16-frequency hash as the average
 * of 400, and a 1536×1024 image costs 0.5 ms instead of 1.1. */
static void grid_of(const img *im, float *g)
{
    img up = {0};
    if (im->w < G || im->h < G) {
        img_resize(im, im->w < G ? G : im->w, im->h < G ? G : im->h, &up);
        im = &up;
    }
    int step = (im->w < im->h ? im->w : im->h) / (4 * G);
    if (step < 1) step = 1;
    double acc[G * G];
    int cnt[G * G];
    memset(acc, 0, sizeof acc);
    memset(cnt, 0, sizeof cnt);
    int *col = xmalloc(sizeof(int) * (size_t)im->w);
    for (int x = 0; x < im->w; x++) col[x] = (int)((long long)x * G / im->w);
    uint32_t rowacc[G];
    int rowcnt[G];
    for (int y = 0; y < im->h; y += step) {
        memset(rowacc, 0, sizeof rowacc);
        memset(rowcnt, 0, sizeof rowcnt);
        const uint8_t *p = im->px + (size_t)y * im->w * 3;
        for (int x = 0; x < im->w; x += step) {
            const uint8_t *q = p + 3 * x;
            /* Rec. 601 luma in 8.8 fixed point. */
            rowacc[col[x]] += 77u * q[0] + 150u * q[1] + 29u * q[2];
            rowcnt[col[x]]++;
        }
        int gy = (int)((long long)y * G / im->h);
        for (int c = 0; c < G; c++) {
            acc[gy * G + c] += rowacc[c];
            cnt[gy * G + c] += rowcnt[c];
        }
    }
    for (int i = 0; i < G * G; i++) g[i] = cnt[i] ? (float)(acc[i] / (256.0 * cnt[i])) : 0.0f;
    free(col);
    img_free(&up);
}

/* Weights of a box resample of [x0, x0+len) in cells onto W outputs:
 * output i covers [x0 + i*s, x0 + (i+1)*s); wt[i][k] is its overlap with
 * cell first[i]+k, normalised.  s <= 2, so at most 4 cells. */
typedef struct axisw {
    int first[W];
    float wt[W][4];
} axisw;

static void axis_weights(double x0, double len, axisw *a)
{
    double s = len / W;
    for (int i = 0; i < W; i++) {
        double lo = x0 + i * s, hi = lo + s;
        int f = (int)floor(lo);
        a->first[i] = f;
        for (int k = 0; k < 4; k++) {
            double c0 = f + k, c1 = c0 + 1;
            double ov = (hi < c1 ? hi : c1) - (lo > c0 ? lo : c0);
            a->wt[i][k] = ov > 0 && f + k < G ? (float)(ov / s) : 0.0f;
        }
    }
}

/* Horizontal pass over every grid row: G×W. */
static void hpass(const float *g, const axisw *ax, float tmp[G * W])
{
    for (int y = 0; y < G; y++)
        for (int i = 0; i < W; i++) {
            float v = 0;
            for (int k = 0; k < 4; k++)
                if (ax->wt[i][k] > 0) v += ax->wt[i][k] * g[y * G + ax->first[i] + k];
            tmp[y * W + i] = v;
        }
}

static void vpass(const float tmp[G * W], const axisw *ay, float out[W * W])
{
    for (int j = 0; j < W; j++) {
        float *o = out + j * W;
        memset(o, 0, sizeof(float) * W);
        for (int k = 0; k < 4; k++) {
            float w = ay->wt[j][k];
            if (w <= 0) continue;
            const float *r = tmp + (ay->first[j] + k) * W;
            for (int i = 0; i < W; i++) o[i] += w * r[i];
        }
    }
}

typedef struct tables {
    float cos[NF][W];            /* cos(pi (x + 1/2) u / W) */
    unsigned char u[FP_BITS], v[FP_BITS];   /* zigzag order after the mean */
} tables;

static void tables_make(tables *t)
{
    for (int u = 0; u < NF; u++)
        for (int x = 0; x < W; x++) t->cos[u][x] = (float)cos(M_PI * (x + 0.5) * u / W);
    /* Diagonals u+v = 1, 2, ... in order, u rising within one: 135 pairs
     * reach u+v <= 15, of which the first 128 are used. */
    int n = 0;
    for (int d = 1; d < NF && n < FP_BITS; d++)
        for (int u = 0; u <= d && n < FP_BITS; u++) {
            t->u[n] = (unsigned char)u;
            t->v[n] = (unsigned char)(d - u);
            n++;
        }
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static void hash_window(const tables *t, const float px[W * W], uint64_t out[2])
{
    float rows[NF][W];   /* DCT along y for the frequencies needed */
    /* y outside, x inside: the inner loop runs along a row and vectorises. */
    memset(rows, 0, sizeof rows);
    for (int u = 0; u < NF; u++)
        for (int y = 0; y < W; y++) {
            float c = t->cos[u][y];
            for (int x = 0; x < W; x++) rows[u][x] += c * px[y * W + x];
        }
    float c[FP_BITS], sorted[FP_BITS];
    for (int i = 0; i < FP_BITS; i++) {
        float s = 0;
        for (int x = 0; x < W; x++) s += rows[t->u[i]][x] * t->cos[t->v[i]][x];
        c[i] = sorted[i] = s;
    }
    qsort(sorted, FP_BITS, sizeof *sorted, cmp_float);
    float med = 0.5f * (sorted[FP_BITS / 2 - 1] + sorted[FP_BITS / 2]);
    out[0] = out[1] = 0;
    for (int i = 0; i < FP_BITS; i++)
        if (c[i] > med) out[i / 64] |= 1ull << (i % 64);
}

void img_fingerprint(const img *im, img_fp *out)
{
    float *grid = xmalloc(sizeof(float) * G * G);
    tables t;
    tables_make(&t);
    grid_of(im, grid);
    float px[W * W];
    float *tmp = xmalloc(sizeof(float) * 5 * G * W);   /* the frame's and 4 window columns' */
    axisw ax, ay[4];
    axis_weights(0, G, &ax);
    hpass(grid, &ax, tmp);
    vpass(tmp, &ax, px);
    hash_window(&t, px, out->h[0]);
    const double side = CROP * G, room = G - side;
    for (int i = 0; i < 4; i++) {
        axis_weights(room * i / 3, side, &ay[i]);
        hpass(grid, &ay[i], tmp + (1 + i) * G * W);
    }
    int k = 1;
    for (int j = 0; j < 4; j++)
        for (int i = 0; i < 4; i++, k++) {
            vpass(tmp + (1 + i) * G * W, &ay[j], px);
            hash_window(&t, px, out->h[k]);
        }
    free(tmp);
    free(grid);
}

/* The popcount instruction where the CPU has one (chosen at load time):
 * duplicates and its every-pair peer spend their time here.  (gcc only:
 * clang 14 leaves an exported clone unresolved.) */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
__attribute__((target_clones("popcnt", "default")))
#endif
static int distance(const img_fp *a, const img_fp *b, int *how)
{
    int best = fp_hamming(a->h[0], b->h[0]), kind = FP_SAME_FRAME;
    for (int k = 1; k < FP_HASHES; k++) {
        int d = fp_hamming(a->h[k], b->h[0]);
        if (d < best) best = d, kind = FP_B_INSIDE_A;
        d = fp_hamming(a->h[0], b->h[k]);
        if (d < best) best = d, kind = FP_A_INSIDE_B;
    }
    if (how) *how = kind;
    return best;
}

int fp_distance(const img_fp *a, const img_fp *b, int *how) { return distance(a, b, how); }

void fp_pack(const img_fp *fp, unsigned char out[FP_BYTES])
{
    for (int k = 0; k < FP_HASHES; k++)
        for (int w = 0; w < 2; w++)
            for (int b = 0; b < 8; b++) out[k * 16 + w * 8 + b] = (unsigned char)(fp->h[k][w] >> (8 * b));
}

int fp_unpack(const void *data, int len, img_fp *fp)
{
    if (!data || len != FP_BYTES) return -1;
    const unsigned char *p = data;
    for (int k = 0; k < FP_HASHES; k++)
        for (int w = 0; w < 2; w++) {
            uint64_t v = 0;
            for (int b = 7; b >= 0; b--) v = v << 8 | p[k * 16 + w * 8 + b];
            fp->h[k][w] = v;
        }
    return 0;
}
