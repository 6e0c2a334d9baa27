/* ops_nn_gemm.c — y += x W^T with an AVX-512 kernel, for nn_linear.
 *
 * Why not only OpenBLAS: Debian's OpenBLAS is pinned to its Haswell (AVX2)
 * kernels on this CPU family (OPENBLAS_CORETYPE), half the FMA width the
 * hardware has.  This is the textbook blocked GEMM: W is packed, per call,
 * into 32-column panels of KC rows (so a k step is two aligned 16-float
 * loads), and a 12 x 32 register tile (24 accumulators) walks down x,
 * broadcasting one x value per row per k.  Columns are split over the
 * engine's threads.  CPUs without AVX-512F keep using cblas_sgemm.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/ops_nn.h"
#include "engine/pool.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define MR 12
#define NR 32
#define KC 256

#define AVX512 __attribute__((target("avx512f")))

/* C[0..MR) x [0..NR) += A (MR rows, lda apart) . Bp (kc x NR, packed);
 * only the first nv columns and mr rows are stored. */
AVX512 static void tile(int kc, const float *A, int lda, const float *Bp, float *C, int ldc, int mr, int nv)
{
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
           c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00,
           c70 = c00, c71 = c00, c80 = c00, c81 = c00, c90 = c00, c91 = c00, ca0 = c00, ca1 = c00,
           cb0 = c00, cb1 = c00;
    const float *a = A;
    for (int k = 0; k < kc; k++, a++, Bp += NR) {
        __m512 b0 = _mm512_load_ps(Bp), b1 = _mm512_load_ps(Bp + 16), x;
#define ROW(i, r0, r1) x = _mm512_set1_ps(a[(size_t)(i) * lda]); \
        r0 = _mm512_fmadd_ps(x, b0, r0); r1 = _mm512_fmadd_ps(x, b1, r1);
        ROW(0, c00, c01) ROW(1, c10, c11) ROW(2, c20, c21) ROW(3, c30, c31)
        ROW(4, c40, c41) ROW(5, c50, c51) ROW(6, c60, c61) ROW(7, c70, c71)
        ROW(8, c80, c81) ROW(9, c90, c91) ROW(10, ca0, ca1) ROW(11, cb0, cb1)
#undef ROW
    }
    __mmask16 m0 = nv >= 16 ? 0xffff : (__mmask16)((1u << nv) - 1);
    __mmask16 m1 = nv >= 32 ? 0xffff : nv <= 16 ? 0 : (__mmask16)((1u << (nv - 16)) - 1);
#define STORE(i, r0, r1) if ((i) < mr) { float *c = C + (size_t)(i) * ldc; \
        _mm512_mask_storeu_ps(c, m0, _mm512_add_ps(_mm512_maskz_loadu_ps(m0, c), r0)); \
        _mm512_mask_storeu_ps(c + 16, m1, _mm512_add_ps(_mm512_maskz_loadu_ps(m1, c + 16), r1)); }
    STORE(0, c00, c01) STORE(1, c10, c11) STORE(2, c20, c21) STORE(3, c30, c31)
    STORE(4, c40, c41) STORE(5, c50, c51) STORE(6, c60, c61) STORE(7, c70, c71)
    STORE(8, c80, c81) STORE(9, c90, c91) STORE(10, ca0, ca1) STORE(11, cb0, cb1)
#undef STORE
}

typedef struct gemm_job {
    const float *x, *W;
    float *y;
    int M, N, K, ldy;
} gemm_job;

/* Columns [p0*NR, p1*NR) of the output (p = panel index). */
AVX512 static void gemm_panels(void *ctx, long p0, long p1)
{
    const gemm_job *j = ctx;
    float *Bp = aligned_alloc(64, (size_t)KC * NR * sizeof(float));
    float *Ap = aligned_alloc(64, (size_t)MR * KC * sizeof(float));
    if (!Bp || !Ap) abort();
    for (long p = p0; p < p1; p++) {
        int n0 = (int)p * NR, nv = j->N - n0 < NR ? j->N - n0 : NR;
        for (int k0 = 0; k0 < j->K; k0 += KC) {
            int kc = j->K - k0 < KC ? j->K - k0 : KC;
            /* Pack W[n0 .. n0+nv) x [k0 .. k0+kc) transposed: Bp[k][n]. */
            for (int n = 0; n < NR; n++) {
                if (n < nv) {
                    const float *w = j->W + (size_t)(n0 + n) * j->K + k0;
                    for (int k = 0; k < kc; k++) Bp[(size_t)k * NR + n] = w[k];
                } else {
                    for (int k = 0; k < kc; k++) Bp[(size_t)k * NR + n] = 0;
                }
            }
            int m0 = 0;
            for (; m0 + MR <= j->M; m0 += MR)
                tile(kc, j->x + (size_t)m0 * j->K + k0, j->K, Bp, j->y + (size_t)m0 * j->ldy + n0, j->ldy, MR, nv);
            if (m0 < j->M) {
                /* The last rows: zero-padded copy so the tile reads no further. */
                int mr = j->M - m0;
                memset(Ap, 0, (size_t)MR * KC * sizeof(float));
                for (int i = 0; i < mr; i++)
                    memcpy(Ap + (size_t)i * KC, j->x + (size_t)(m0 + i) * j->K + k0, (size_t)kc * sizeof(float));
                tile(kc, Ap, KC, Bp, j->y + (size_t)m0 * j->ldy + n0, j->ldy, mr, nv);
            }
        }
    }
    free(Bp);
    free(Ap);
}

/* ---- few rows: dot products, no packing ------------------------------- */

/* With a handful of rows (one image is 50 tokens, a query ~10) packing W
 * would cost as much as the product itself, so W is read in place: a 4 x 6
 * tile of dot products runs along K sixteen at a time (24 accumulators) and
 * is reduced horizontally at the end. */
AVX512 static float hsum(__m512 v) { return _mm512_reduce_add_ps(v); }

AVX512 static void dot_4x6(const float *x, int K, const float *W, float *y, int ldy)
{
    __m512 a00 = _mm512_setzero_ps(), a01 = a00, a02 = a00, a03 = a00, a04 = a00, a05 = a00,
           a10 = a00, a11 = a00, a12 = a00, a13 = a00, a14 = a00, a15 = a00,
           a20 = a00, a21 = a00, a22 = a00, a23 = a00, a24 = a00, a25 = a00,
           a30 = a00, a31 = a00, a32 = a00, a33 = a00, a34 = a00, a35 = a00;
    const float *x0 = x, *x1 = x + K, *x2 = x + 2 * (size_t)K, *x3 = x + 3 * (size_t)K;
    const float *w0 = W, *w1 = W + K, *w2 = W + 2 * (size_t)K, *w3 = W + 3 * (size_t)K,
                *w4 = W + 4 * (size_t)K, *w5 = W + 5 * (size_t)K;
    for (int k = 0; k < K; k += 16) {
        __mmask16 m = K - k >= 16 ? 0xffff : (__mmask16)((1u << (K - k)) - 1);
        __m512 b0 = _mm512_maskz_loadu_ps(m, w0 + k), b1 = _mm512_maskz_loadu_ps(m, w1 + k),
               b2 = _mm512_maskz_loadu_ps(m, w2 + k), b3 = _mm512_maskz_loadu_ps(m, w3 + k),
               b4 = _mm512_maskz_loadu_ps(m, w4 + k), b5 = _mm512_maskz_loadu_ps(m, w5 + k), v;
#define ROW(xr, r0, r1, r2, r3, r4, r5) v = _mm512_maskz_loadu_ps(m, xr + k); \
        r0 = _mm512_fmadd_ps(v, b0, r0); r1 = _mm512_fmadd_ps(v, b1, r1); r2 = _mm512_fmadd_ps(v, b2, r2); \
        r3 = _mm512_fmadd_ps(v, b3, r3); r4 = _mm512_fmadd_ps(v, b4, r4); r5 = _mm512_fmadd_ps(v, b5, r5);
        ROW(x0, a00, a01, a02, a03, a04, a05) ROW(x1, a10, a11, a12, a13, a14, a15)
        ROW(x2, a20, a21, a22, a23, a24, a25) ROW(x3, a30, a31, a32, a33, a34, a35)
#undef ROW
    }
#define OUT(i, r0, r1, r2, r3, r4, r5) { float *o = y + (size_t)(i) * ldy; \
        o[0] += hsum(r0); o[1] += hsum(r1); o[2] += hsum(r2); o[3] += hsum(r3); o[4] += hsum(r4); o[5] += hsum(r5); }
    OUT(0, a00, a01, a02, a03, a04, a05) OUT(1, a10, a11, a12, a13, a14, a15)
    OUT(2, a20, a21, a22, a23, a24, a25) OUT(3, a30, a31, a32, a33, a34, a35)
#undef OUT
}

AVX512 static float dot1(const float *a, const float *b, int K)
{
    __m512 s = _mm512_setzero_ps();
    for (int k = 0; k < K; k += 16) {
        __mmask16 m = K - k >= 16 ? 0xffff : (__mmask16)((1u << (K - k)) - 1);
        s = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + k), _mm512_maskz_loadu_ps(m, b + k), s);
    }
    return hsum(s);
}

/* Output columns [g0*6, g1*6) (clamped to N).  Columns outer: six rows of
 * W (18 kB for K = 768) stay in L1 while every row of x passes by; x
 * itself (tens of kB) stays in L2. */
AVX512 static void dot_groups(void *ctx, long g0, long g1)
{
    const gemm_job *j = ctx;
    int n0 = (int)g0 * 6, n1 = (int)g1 * 6 < j->N ? (int)g1 * 6 : j->N;
    int mfull = j->M / 4 * 4, mr = j->M - mfull;
    /* The last 1..3 rows go through the same 4 x 6 tile from a zero-padded
     * copy (a one-row dot product would load W once per FMA). */
    float *xr = NULL;
    if (mr) {
        xr = calloc((size_t)4 * j->K, sizeof *xr);
        if (!xr) abort();
        memcpy(xr, j->x + (size_t)mfull * j->K, (size_t)mr * j->K * sizeof *xr);
    }
    int n = n0;
    for (; n + 6 <= n1; n += 6) {
        const float *w = j->W + (size_t)n * j->K;
        for (int m = 0; m < mfull; m += 4)
            dot_4x6(j->x + (size_t)m * j->K, j->K, w, j->y + (size_t)m * j->ldy + n, j->ldy);
        if (mr) {
            float yt[4 * 6] = {0};
            dot_4x6(xr, j->K, w, yt, 6);
            for (int i = 0; i < mr; i++)
                for (int c = 0; c < 6; c++) j->y[(size_t)(mfull + i) * j->ldy + n + c] += yt[i * 6 + c];
        }
    }
    for (; n < n1; n++)
        for (int m = 0; m < j->M; m++)
            j->y[(size_t)m * j->ldy + n] += dot1(j->x + (size_t)m * j->K, j->W + (size_t)n * j->K, j->K);
    free(xr);
}

int nn_gemm_avx512(const float *x, int M, int K, const float *W, int N, float *y, int ldy)
{
    static int have = -1;
    if (have < 0) have = __builtin_cpu_supports("avx512f") && !getenv("IMGDEX_NO_AVX512");
    if (!have) return 0;
    gemm_job j = {x, W, y, M, N, K, ldy};
    if (M <= 64) {
        long groups = (N + 5) / 6;
        pool_for(groups, 1 + 2000000L / ((long)2 * M * K * 6), dot_groups, &j);
        return 1;
    }
    long panels = (N + NR - 1) / NR;
    /* Threads only when each gets real work (~2 MFLOP). */
    long per = 1 + 2000000L / ((long)2 * M * K * NR);
    pool_for(panels, per, gemm_panels, &j);
    return 1;
}

#else
int nn_gemm_avx512(const float *x, int M, int K, const float *W, int N, float *y, int ldy)
{
    (void)x, (void)M, (void)K, (void)W, (void)N, (void)y, (void)ldy;
    return 0;
}
#endif
