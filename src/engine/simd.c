/* simd.c — AVX2+FMA kernels for the memory-bound ops: depthwise conv rows
 * and elementwise arithmetic.  Compiled with per-function target
 * attributes, so the rest of the build stays baseline x86-64 and other
 * CPUs take the portable loops (which is also what IMGDEX_NO_SIMD=1 forces,
 * to test the fallback). */
#include <math.h>
#include <stdlib.h>

#include "engine/ops.h"
#include "engine/simd.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_X86 1
#include <immintrin.h>
#endif

int simd_avx2(void)
{
    static int level = -1;
    if (level < 0) {
        int ok = 0;
#ifdef HAVE_X86
        __builtin_cpu_init();
        ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
        const char *no = getenv("IMGDEX_NO_SIMD");
        if (no && *no && *no != '0') ok = 0;
        level = ok;
    }
    return level;
}

#ifdef HAVE_X86

#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static inline __m256 vop(int op, __m256 a, __m256 b)
{
    switch (op) {
    case BIN_ADD: return _mm256_add_ps(a, b);
    case BIN_SUB: return _mm256_sub_ps(a, b);
    case BIN_MUL: return _mm256_mul_ps(a, b);
    case BIN_DIV: return _mm256_div_ps(a, b);
    case BIN_MAX: return _mm256_max_ps(a, b);
    default: return _mm256_min_ps(a, b);
    }
}

static inline float sop(int op, float a, float b)
{
    switch (op) {
    case BIN_ADD: return a + b;
    case BIN_SUB: return a - b;
    case BIN_MUL: return a * b;
    case BIN_DIV: return a / b;
    case BIN_MAX: return a > b ? a : b;
    default: return a < b ? a : b;
    }
}

AVX2 static void bin_avx2(int op, const float *a, int sa, const float *b, int sb, float *y, size_t n)
{
    size_t i = 0;
    __m256 va = _mm256_set1_ps(a[0]), vb = _mm256_set1_ps(b[0]);
    /* switch outside the loop: one tight loop per (op, pattern) */
#define LOOP(OPF)                                                                 \
    for (; i + 8 <= n; i += 8) {                                                  \
        __m256 x = sa ? _mm256_loadu_ps(a + i) : va;                              \
        __m256 z = sb ? _mm256_loadu_ps(b + i) : vb;                              \
        _mm256_storeu_ps(y + i, OPF(x, z));                                       \
    }
    switch (op) {
    case BIN_ADD: LOOP(_mm256_add_ps); break;
    case BIN_SUB: LOOP(_mm256_sub_ps); break;
    case BIN_MUL: LOOP(_mm256_mul_ps); break;
    case BIN_DIV: LOOP(_mm256_div_ps); break;
    case BIN_MAX: LOOP(_mm256_max_ps); break;
    default: LOOP(_mm256_min_ps); break;
    }
#undef LOOP
    for (; i < n; i++) y[i] = sop(op, a[sa ? i : 0], b[sb ? i : 0]);
    (void)vop;
}

/* Depthwise row, 8 channels at a time; in the interior four output
 * pixels run side by side, so four independent FMA chains hide the
 * latency and each weight vector is loaded once per four pixels. */
AVX2 static void dw_row_avx2(const float *const *rows, int kh, int kw, int c, int ow, int in_w,
                             int sw, int dw, int pl, const float *w, const float *bias, float lo,
                             float hi, float *y)
{
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    int span = (kw - 1) * dw;
    int ch = 0;
    for (; ch + 8 <= c; ch += 8) {
        const __m256 b0 = bias ? _mm256_loadu_ps(bias + ch) : _mm256_setzero_ps();
        int ox = 0;
        while (ox < ow) {
            int x0 = ox * sw - pl;
            if (ox + 4 <= ow && x0 >= 0 && x0 + 3 * sw + span < in_w) {
                __m256 a0 = b0, a1 = b0, a2 = b0, a3 = b0;
                size_t st = (size_t)sw * c;
                for (int ky = 0; ky < kh; ky++) {
                    const float *r = rows[ky];
                    if (!r) continue;
                    const float *p = r + (size_t)x0 * c + ch;
                    const float *q = w + (size_t)ky * kw * c + ch;
                    for (int kx = 0; kx < kw; kx++, p += (size_t)dw * c, q += c) {
                        __m256 wv = _mm256_loadu_ps(q);
                        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(p), wv, a0);
                        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(p + st), wv, a1);
                        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(p + 2 * st), wv, a2);
                        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(p + 3 * st), wv, a3);
                    }
                }
                float *out = y + (size_t)ox * c + ch;
                _mm256_storeu_ps(out, _mm256_min_ps(_mm256_max_ps(a0, vlo), vhi));
                _mm256_storeu_ps(out + c, _mm256_min_ps(_mm256_max_ps(a1, vlo), vhi));
                _mm256_storeu_ps(out + 2 * (size_t)c, _mm256_min_ps(_mm256_max_ps(a2, vlo), vhi));
                _mm256_storeu_ps(out + 3 * (size_t)c, _mm256_min_ps(_mm256_max_ps(a3, vlo), vhi));
                ox += 4;
                continue;
            }
            __m256 a0 = b0;
            for (int ky = 0; ky < kh; ky++) {
                const float *r = rows[ky];
                if (!r) continue;
                for (int kx = 0; kx < kw; kx++) {
                    int ix = x0 + kx * dw;
                    if (ix < 0 || ix >= in_w) continue;
                    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(r + (size_t)ix * c + ch),
                                         _mm256_loadu_ps(w + (size_t)(ky * kw + kx) * c + ch), a0);
                }
            }
            _mm256_storeu_ps(y + (size_t)ox * c + ch, _mm256_min_ps(_mm256_max_ps(a0, vlo), vhi));
            ox++;
        }
    }
    for (; ch < c; ch++)
        for (int ox = 0; ox < ow; ox++) {
            int x0 = ox * sw - pl;
            float s = bias ? bias[ch] : 0;
            for (int ky = 0; ky < kh; ky++) {
                const float *r = rows[ky];
                if (!r) continue;
                for (int kx = 0; kx < kw; kx++) {
                    int ix = x0 + kx * dw;
                    if (ix < 0 || ix >= in_w) continue;
                    s += r[(size_t)ix * c + ch] * w[(size_t)(ky * kw + kx) * c + ch];
                }
            }
            y[(size_t)ox * c + ch] = s < lo ? lo : s > hi ? hi : s;
        }
}

/* exp(x) for a vector: 2^n * e^r with n = round(x / ln 2) and |r| <= ln2/2,
 * e^r by a degree-6 polynomial (relative error ~1e-7, like expf). */
AVX2 static inline __m256 vexp(__m256 x)
{
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504089f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

AVX2 static void sigmoid_avx2(const float *x, float *y, size_t n)
{
    size_t i = 0;
    const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
    for (; i + 8 <= n; i += 8) {
        __m256 e = vexp(_mm256_sub_ps(zero, _mm256_loadu_ps(x + i)));
        _mm256_storeu_ps(y + i, _mm256_div_ps(one, _mm256_add_ps(one, e)));
    }
    for (; i < n; i++) y[i] = 1.0f / (1.0f + expf(-x[i]));
}

/* 32 int8 lanes at a time: maddubs(|r|, q·sign(r)) gives 16 exact pair sums
 * (|r|, |q| <= 127: at most 32 258), madd with ones widens them to int32. */
AVX2 static int32_t dot_i8_avx2(const int8_t *r, const int8_t *q, int dim)
{
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i acc = _mm256_setzero_si256();
    int j = 0;
    for (; j + 32 <= dim; j += 32) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(r + j));
        __m256i b = _mm256_loadu_si256((const __m256i *)(q + j));
        __m256i p = _mm256_maddubs_epi16(_mm256_abs_epi8(a), _mm256_sign_epi8(b, a));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, ones));
    }
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    int32_t t = _mm_cvtsi128_si32(s);
    for (; j < dim; j++) t += (int32_t)r[j] * q[j];
    return t;
}

AVX2 static void dots_i8_avx2(const int8_t *rows, size_t stride, size_t n, const int8_t *q, int dim, int32_t *out)
{
    for (size_t i = 0; i < n; i++) {
        if (i + 8 < n) __builtin_prefetch(rows + (i + 8) * stride);
        out[i] = dot_i8_avx2(rows + i * stride, q, dim);
    }
}
#endif

#ifdef HAVE_X86
__attribute__((target("popcnt"))) static void hamming_popcnt(const uint64_t *rows, size_t words, size_t n,
                                                             const uint64_t *q, uint16_t *out)
{
    for (size_t i = 0; i < n; i++) {
        const uint64_t *r = rows + i * words;
        unsigned d = 0;
        for (size_t j = 0; j < words; j++) d += (unsigned)__builtin_popcountll(r[j] ^ q[j]);
        out[i] = (uint16_t)d;
    }
}
#endif

void simd_hamming(const uint64_t *rows, size_t words, size_t n, const uint64_t *q, uint16_t *out)
{
#ifdef HAVE_X86
    static int has = -1;
    if (has < 0) {
        __builtin_cpu_init();
        const char *no = getenv("IMGDEX_NO_SIMD");
        has = __builtin_cpu_supports("popcnt") && !(no && *no && *no != '0');
    }
    if (has) {
        hamming_popcnt(rows, words, n, q, out);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++) {
        const uint64_t *r = rows + i * words;
        unsigned d = 0;
        for (size_t j = 0; j < words; j++) {
            uint64_t x = r[j] ^ q[j];
            while (x) { x &= x - 1; d++; }
        }
        out[i] = (uint16_t)d;
    }
}

void simd_dot_i8(const int8_t *rows, size_t stride, size_t n, const int8_t *q, int dim, int32_t *out)
{
#ifdef HAVE_X86
    if (simd_avx2()) {
        dots_i8_avx2(rows, stride, n, q, dim, out);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++) {
        const int8_t *r = rows + i * stride;
        int32_t t = 0;
        for (int j = 0; j < dim; j++) t += (int32_t)r[j] * q[j];
        out[i] = t;
    }
}

void simd_sigmoid(const float *x, float *y, size_t n)
{
#ifdef HAVE_X86
    if (simd_avx2()) {
        sigmoid_avx2(x, y, n);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++) y[i] = 1.0f / (1.0f + expf(-x[i]));
}

int simd_binary(int op, const float *a, int sa, const float *b, int sb, float *y, size_t n)
{
    if (op != BIN_ADD && op != BIN_SUB && op != BIN_MUL && op != BIN_DIV && op != BIN_MAX &&
        op != BIN_MIN)
        return 0;
#ifdef HAVE_X86
    if (simd_avx2()) {
        bin_avx2(op, a, sa, b, sb, y, n);
        return 1;
    }
#endif
    for (size_t i = 0; i < n; i++) {
        float x = a[sa ? i : 0], z = b[sb ? i : 0];
        switch (op) {
        case BIN_ADD: y[i] = x + z; break;
        case BIN_SUB: y[i] = x - z; break;
        case BIN_MUL: y[i] = x * z; break;
        case BIN_DIV: y[i] = x / z; break;
        case BIN_MAX: y[i] = x > z ? x : z; break;
        default: y[i] = x < z ? x : z;
        }
    }
    return 1;
}

void simd_dw_row(const float *const *rows, int kh, int kw, int c, int ow, int in_w, int sw,
                 int dw, int pl, const float *w, const float *bias, float lo, float hi, float *y)
{
#ifdef HAVE_X86
    if (simd_avx2()) {
        dw_row_avx2(rows, kh, kw, c, ow, in_w, sw, dw, pl, w, bias, lo, hi, y);
        return;
    }
#endif
    for (int ox = 0; ox < ow; ox++) {
        float *out = y + (size_t)ox * c;
        for (int ch = 0; ch < c; ch++) out[ch] = bias ? bias[ch] : 0;
        for (int ky = 0; ky < kh; ky++) {
            if (!rows[ky]) continue;
            for (int kx = 0; kx < kw; kx++) {
                int ix = ox * sw - pl + kx * dw;
                if (ix < 0 || ix >= in_w) continue;
                const float *in = rows[ky] + (size_t)ix * c, *wk = w + (size_t)(ky * kw + kx) * c;
                for (int ch = 0; ch < c; ch++) out[ch] += in[ch] * wk[ch];
            }
        }
        for (int ch = 0; ch < c; ch++) out[ch] = out[ch] < lo ? lo : out[ch] > hi ? hi : out[ch];
    }
}
