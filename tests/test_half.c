/* test_half.c — binary16 conversion (src/base/half.h): every half value
 * round-trips, rounding is to nearest with ties to even at every boundary,
 * and the edges (largest finite, overflow, subnormals, zeros, inf, NaN)
 * land where IEEE 754 says. */
#include "test.h"

#include <stdint.h>

#include "base/half.h"

static int is_nan_half(uint16_t h) { return (h & 0x7c00u) == 0x7c00u && (h & 0x3ffu); }

TEST(every_half_round_trips)
{
    for (uint32_t h = 0; h < 0x10000u; h++) {
        float f = half_to_float((uint16_t)h);
        if (is_nan_half((uint16_t)h)) {
            CHECKF(isnan(f), "half 0x%04x should be NaN", h);
            CHECKF(is_nan_half(half_from_float(f)), "NaN 0x%04x did not stay NaN", h);
            continue;
        }
        uint16_t back = half_from_float(f);
        CHECKF(back == h, "half 0x%04x -> %g -> 0x%04x", h, (double)f, back);
    }
}

/* Between two neighbouring positive finite halves a < b: just below the
 * midpoint rounds to a, just above to b, the midpoint itself to the one
 * with an even significand.  Checked for every pair. */
TEST(rounds_to_nearest_ties_to_even)
{
    for (uint32_t h = 0; h < 0x7bffu; h++) {
        double a = half_to_float((uint16_t)h), b = half_to_float((uint16_t)(h + 1));
        double mid = (a + b) / 2;   /* exact in float: halves have 11 bits */
        float m = (float)mid;
        CHECKF((double)m == mid, "midpoint of 0x%04x not exact", h);
        float below = nextafterf(m, 0), above = nextafterf(m, INFINITY);
        CHECKF(half_from_float(below) == h, "below mid of 0x%04x", h);
        CHECKF(half_from_float(above) == h + 1, "above mid of 0x%04x", h);
        uint16_t even = (h & 1) ? (uint16_t)(h + 1) : (uint16_t)h;
        CHECKF(half_from_float(m) == even, "tie at 0x%04x went to 0x%04x", h, half_from_float(m));
        CHECKF(half_from_float(-m) == (0x8000u | even), "negative tie at 0x%04x", h);
    }
}

TEST(edges)
{
    CHECK_EQ_INT(half_from_float(0.0f), 0x0000);
    CHECK_EQ_INT(half_from_float(-0.0f), 0x8000);
    CHECK_EQ_INT(half_from_float(1.0f), 0x3c00);
    CHECK_EQ_INT(half_from_float(-2.0f), 0xc000);
    CHECK_EQ_INT(half_from_float(65504.0f), 0x7bff);            /* largest finite */
    CHECK_EQ_INT(half_from_float(65519.0f), 0x7bff);            /* rounds down */
    CHECK_EQ_INT(half_from_float(65520.0f), 0x7c00);            /* tie to even: overflow */
    CHECK_EQ_INT(half_from_float(1e10f), 0x7c00);
    CHECK_EQ_INT(half_from_float(-1e10f), 0xfc00);
    CHECK_EQ_INT(half_from_float(INFINITY), 0x7c00);
    CHECK_EQ_INT(half_from_float(-INFINITY), 0xfc00);
    CHECK(is_nan_half(half_from_float(NAN)));
    CHECK_EQ_INT(half_from_float(ldexpf(1, -24)), 0x0001);      /* smallest subnormal */
    CHECK_EQ_INT(half_from_float(ldexpf(1, -25)), 0x0000);      /* tie to even: zero */
    CHECK_EQ_INT(half_from_float(ldexpf(1.5f, -25)), 0x0001);
    CHECK_EQ_INT(half_from_float(-ldexpf(1, -26)), 0x8000);     /* underflow keeps the sign */
    CHECK_EQ_INT(half_from_float(ldexpf(1, -14)), 0x0400);      /* smallest normal */
    CHECK_EQ_INT(half_from_float(ldexpf(1023, -24)), 0x03ff);   /* largest subnormal */
    CHECK_EQ_INT(half_from_float(1e-30f), 0x0000);
    CHECK(half_to_float(0x7c00) == INFINITY);
    CHECK(half_to_float(0xfc00) == -INFINITY);
    CHECK(signbit(half_to_float(0x8000)) && half_to_float(0x8000) == 0);
    CHECK_NEAR(half_to_float(0x3555), 0.333251953125, 0);
}

TEST(pack_is_little_endian)
{
    float v[3] = {1.0f, -2.0f, 65504.0f};
    unsigned char b[6];
    half_pack_le(v, 3, b);
    unsigned char want[6] = {0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b};
    CHECK(memcmp(b, want, 6) == 0);
    float back[3];
    half_unpack_le(b, 3, back);
    for (int i = 0; i < 3; i++) CHECK(back[i] == v[i]);
}

int main(void)
{
    RUN(every_half_round_trips);
    RUN(rounds_to_nearest_ties_to_even);
    RUN(edges);
    RUN(pack_is_little_endian);
    return test_summary();
}
