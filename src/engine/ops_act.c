/* ops_act.c — bias + activation applied to rows of channels, the epilogue
 * every convolution and matmul shares. */
#include <math.h>

#include "engine/ops.h"
#include "engine/simd.h"

static inline float act1(float v, const act_spec *a, int c)
{
    switch (a->kind) {
    case ACT_RELU: return v > 0 ? v : 0;
    case ACT_RELU6: return v < 0 ? 0 : v > 6 ? 6 : v;
    case ACT_SIGMOID: return 1.0f / (1.0f + expf(-v));
    case ACT_TANH: return tanhf(v);
    case ACT_HSWISH: {
        float r = v + 3;
        r = r < 0 ? 0 : r > 6 ? 6 : r;
        return v * r * (a->alpha != 0 ? a->alpha : 1.0f / 6);
    }
    case ACT_LEAKY: return v < 0 ? a->alpha * v : v;
    case ACT_PRELU: return v < 0 ? a->slope[c] * v : v;
    case ACT_ELU: return v < 0 ? expm1f(v) : v;
    default: return v;
    }
}

HOT_LOOPS void act_bias_rows(float *x, long rows, int c, const float *bias, const act_spec *a)
{
    act_kind k = a ? a->kind : ACT_NONE;
    if (k == ACT_NONE || k == ACT_RELU || k == ACT_RELU6) {
        /* The common cases as plain loops the compiler vectorises. */
        float lo = k == ACT_NONE ? -INFINITY : 0, hi = k == ACT_RELU6 ? 6 : INFINITY;
        for (long r = 0; r < rows; r++) {
            float *p = x + (size_t)r * c;
            if (bias)
                for (int j = 0; j < c; j++) p[j] += bias[j];
            if (k != ACT_NONE)
                for (int j = 0; j < c; j++) p[j] = p[j] < lo ? lo : p[j] > hi ? hi : p[j];
        }
        return;
    }
    if (k == ACT_SIGMOID) {
        if (bias) act_bias_rows(x, rows, c, bias, NULL);
        simd_sigmoid(x, x, (size_t)rows * (size_t)c);
        return;
    }
    if (k == ACT_HSWISH) {
        float scale = a->alpha != 0 ? a->alpha : 1.0f / 6;
        for (long r = 0; r < rows; r++) {
            float *p = x + (size_t)r * c;
            for (int j = 0; j < c; j++) {
                float v = p[j] + (bias ? bias[j] : 0), t = v + 3;
                t = t < 0 ? 0 : t > 6 ? 6 : t;
                p[j] = v * t * scale;
            }
        }
        return;
    }
    for (long r = 0; r < rows; r++) {
        float *p = x + (size_t)r * c;
        for (int j = 0; j < c; j++) p[j] = act1(p[j] + (bias ? bias[j] : 0), a, j);
    }
}
