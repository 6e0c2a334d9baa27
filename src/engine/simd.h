/* simd.h — the few hand-vectorised kernels of the engine (AVX2+FMA, chosen
 * at run time; every caller keeps a portable fallback). */
#ifndef IMGDEX_SIMD_H
#define IMGDEX_SIMD_H

#include <stddef.h>
#include <stdint.h>

/* Memory-bound loops (pooling, activations) are left to the compiler's
 * vectoriser; gcc only runs its full vectoriser at -O3, so these functions
 * ask for it.  clang vectorises at -O2 already. */
#if defined(__GNUC__) && !defined(__clang__)
#define HOT_LOOPS __attribute__((optimize("O3")))
#else
#define HOT_LOOPS
/* out[i] = sum_j rows[i*stride + j] * q[j] for j < dim, i < n: int8 dot
 * products for the whole-collection embedding scan (src/query/embscan.c).
 * Values must lie in -127..127 (never -128: the AVX2 path multiplies
 * |row| by sign-adjusted q in 16-bit pairs, exact only in that range). */
void simd_dot_i8(const int8_t *rows, size_t stride, size_t n, const int8_t *q, int dim, int32_t *out);

#endif

/* y[i] = 1 / (1 + exp(-x[i])) for i < n (x == y allowed). */
void simd_sigmoid(const float *x, float *y, size_t n);

/* 1 when this CPU runs the AVX2+FMA kernels (and IMGDEX_NO_SIMD is unset). */
int simd_avx2(void);

/* y[i] = a[i*sa] OP b[i*sb] for i < n, with sa, sb in {0, 1}; op is one of
 * BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV, BIN_MAX, BIN_MIN (ops.h).  Returns 0
 * when the op is not vectorised (caller falls back). */
int simd_binary(int op, const float *a, int sa, const float *b, int sb, float *y, size_t n);

/* One output row of a depthwise conv with channel multiplier 1.
 *   rows[ky]: input row for tap row ky, or NULL when outside the image
 *   w: [kh*kw][c] taps; bias: [c] or NULL; clamp lo/hi applied after. */
void simd_dw_row(const float *const *rows, int kh, int kw, int c, int ow, int in_w, int sw,
                 int dw, int pl, const float *w, const float *bias, float lo, float hi, float *y);

/* out[i] = sum_j rows[i*stride + j] * q[j] for j < dim, i < n: int8 dot
 * products for the whole-collection embedding scan (src/query/embscan.c).
 * Values must lie in -127..127 (never -128: the AVX2 path multiplies
 * |row| by sign-adjusted q in 16-bit pairs, exact only in that range). */
void simd_dot_i8(const int8_t *rows, size_t stride, size_t n, const int8_t *q, int dim, int32_t *out);

/* out[i] = popcount(rows[i*words + j] XOR q[j]) summed over j < words, i < n:
 * Hamming distances of sign codes (the coarse pass of the embedding scan
 * at a million images). */
void simd_hamming(const uint64_t *rows, size_t words, size_t n, const uint64_t *q, uint16_t *out);

#endif
