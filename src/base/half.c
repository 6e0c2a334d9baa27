/* half.c — binary16 conversion by bit manipulation (no dependence on the
 * compiler's _Float16, which not every target of gcc and clang has). */
#include "base/half.h"

#include <string.h>

static uint32_t bits_of(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float float_of(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

uint16_t half_from_float(float f)
{
    uint32_t u = bits_of(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t exp = (u >> 23) & 0xffu, man = u & 0x7fffffu;
    if (exp == 0xff)   /* inf stays inf; NaN keeps a payload bit so it stays NaN */
        return (uint16_t)(sign | 0x7c00u | (man ? 0x200u | (man >> 13) : 0));
    int e = (int)exp - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7c00u);   /* overflow */
    if (e <= 0) {
        /* Subnormal half (or zero): shift the full significand into place
         * and round what falls off, ties to even. */
        if (e < -10) return sign;   /* below half the smallest subnormal */
        uint32_t m = man | 0x800000u;
        int shift = 14 - e;         /* 13 for e = 1, one more per step below */
        uint32_t h = m >> shift, rest = m & ((1u << shift) - 1), halfway = 1u << (shift - 1);
        if (rest > halfway || (rest == halfway && (h & 1))) h++;
        return (uint16_t)(sign | h);   /* a carry into the exponent is right */
    }
    uint32_t h = ((uint32_t)e << 10) | (man >> 13), rest = man & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1))) h++;   /* carry may reach inf: right too */
    return (uint16_t)(sign | h);
}

float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    if (exp == 0x1f) return float_of(sign | 0x7f800000u | (man << 13));
    if (exp == 0) {
        if (!man) return float_of(sign);
        /* subnormal: value man * 2^-24 */
        float v = (float)man * (1.0f / 16777216.0f);
        return sign ? -v : v;
    }
    return float_of(sign | ((exp - 15 + 127) << 23) | (man << 13));
}

void half_pack_le(const float *v, size_t n, unsigned char *out)
{
    for (size_t i = 0; i < n; i++) {
        uint16_t h = half_from_float(v[i]);
        out[2 * i] = (unsigned char)(h & 0xff);
        out[2 * i + 1] = (unsigned char)(h >> 8);
    }
}

void half_unpack_le(const unsigned char *in, size_t n, float *v)
{
    for (size_t i = 0; i < n; i++) v[i] = half_to_float((uint16_t)(in[2 * i] | (in[2 * i + 1] << 8)));
}
