/* test_fingerprint.c — the perceptual fingerprint and the lookup over it.
 *
 * Fingerprint: on real photos (Debian darknet's samples), every transform
 * the duplicate finder promises to see through — half size, JPEG quality
 * 30, a 90 % crop anywhere, brightness ±20 %, noise, an EXIF turn undone —
 * stays within DUP_MAX_DIST, and every pair of different photos stays
 * beyond it.  Lookup: on random fingerprints with planted neighbours,
 * fpi_pairs returns exactly what trying every pair returns (within the
 * distance its pigeonhole guarantees), fpi_query finds the image a crop came
 * from, and fp_components joins chains.
 */
#include "test.h"

#include "image/fingerprint.h"
#include "index/dups.h"
#include "index/fpindex.h"

static const char *photos[] = {"dog", "eagle", "giraffe", "horses", "kite", "person", "scream"};
#define NPHOTOS (int)(sizeof photos / sizeof photos[0])

static int load_photo(int i, img *im)
{
    char p[256];
    snprintf(p, sizeof p, "/usr/share/darknet/data/%s.jpg", photos[i]);
    ierr e = {0};
    img_load_opts lo = {.min_side = 1024};
    return img_load(p, &lo, im, NULL, &e);
}

#define NEED_PHOTOS() do { img t_; \
    if (load_photo(0, &t_) != 0) { SKIP("needs Debian's darknet sample photos in /usr/share/darknet/data"); } \
    img_free(&t_); } while (0)

/* Deterministic noise: a small LCG, Gaussian-ish by summing four uniforms. */
static void add_noise(img *im, double sigma, unsigned seed)
{
    for (size_t k = 0; k < (size_t)im->w * im->h * 3; k++) {
        double s = 0;
        for (int r = 0; r < 4; r++) {
            seed = seed * 1103515245u + 12345u;
            s += ((seed >> 8) & 0xffff) / 65535.0 - 0.5;
        }
        double v = im->px[k] + s * sigma * 1.732;   /* var of a sum of 4 U(-.5,.5) = 1/3 */
        im->px[k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5);
    }
}

static void brighten(img *im, double f)
{
    for (size_t k = 0; k < (size_t)im->w * im->h * 3; k++) {
        double v = im->px[k] * f;
        im->px[k] = (uint8_t)(v > 255 ? 255 : v + 0.5);
    }
}

TEST(copies_are_close)
{
    NEED_PHOTOS();
    for (int i = 0; i < NPHOTOS; i++) {
        img im, t;
        CHECK(load_photo(i, &im) == 0);
        img_fp a, b;
        img_fingerprint(&im, &a);
        int how;

        img_resize(&im, im.w / 2, im.h / 2, &t);
        img_fingerprint(&t, &b);
        CHECKF(fp_distance(&a, &b, NULL) <= DUP_MAX_DIST, "%s half size: %d", photos[i], fp_distance(&a, &b, NULL));
        img_free(&t);

        unsigned char *jpg;
        size_t len;
        ierr e = {0};
        CHECK(img_encode_jpeg(&im, 30, &jpg, &len, &e) == 0);
        CHECK(img_load_mem(jpg, len, "q30.jpg", NULL, &t, NULL, &e) == 0);
        free(jpg);
        img_fingerprint(&t, &b);
        CHECKF(fp_distance(&a, &b, NULL) <= DUP_MAX_DIST, "%s JPEG q30: %d", photos[i], fp_distance(&a, &b, NULL));
        img_free(&t);

        /* Crops of 90 % at the corners, the middle and in between. */
        int cw = im.w * 9 / 10, ch = im.h * 9 / 10;
        const int at[][2] = {{0, 0}, {1, 1}, {2, 2}, {0, 2}, {2, 0}, {1, 2}};
        for (int k = 0; k < 6; k++) {
            img_crop(&im, (im.w - cw) * at[k][0] / 2, (im.h - ch) * at[k][1] / 2, cw, ch, &t);
            img_fingerprint(&t, &b);
            int d = fp_distance(&a, &b, &how);
            CHECKF(d <= DUP_MAX_DIST, "%s crop %d: %d", photos[i], k, d);
            /* The crop matched a window of the original: b inside a. */
            CHECKF(how == FP_B_INSIDE_A || d == fp_hamming(a.h[0], b.h[0]), "%s crop %d: how %d", photos[i], k, how);
            img_free(&t);
        }

        for (int s = -1; s <= 1; s += 2) {
            img_crop(&im, 0, 0, im.w, im.h, &t);
            brighten(&t, 1 + 0.2 * s);
            img_fingerprint(&t, &b);
            CHECKF(fp_distance(&a, &b, NULL) <= DUP_MAX_DIST, "%s brightness %+d: %d", photos[i], 20 * s,
                   fp_distance(&a, &b, NULL));
            img_free(&t);
        }

        img_crop(&im, 0, 0, im.w, im.h, &t);
        add_noise(&t, 0.02 * 255, 7u + (unsigned)i);
        img_fingerprint(&t, &b);
        CHECKF(fp_distance(&a, &b, NULL) <= DUP_MAX_DIST, "%s noise: %d", photos[i], fp_distance(&a, &b, NULL));
        img_free(&t);

        /* Stored turned, shown upright (what EXIF orientation 6 does on load):
         * the same pixels, the same fingerprint. */
        img turned, back;
        CHECK(img_rotate(&im, 8, &turned) == 0);
        CHECK(img_rotate(&turned, 6, &back) == 0);
        img_fingerprint(&back, &b);
        CHECK_EQ_INT(fp_distance(&a, &b, NULL), 0);
        /* ... while the turned picture itself is not the same one. */
        img_fingerprint(&turned, &b);
        CHECKF(fp_distance(&a, &b, NULL) > DUP_MAX_DIST, "%s turned: %d", photos[i], fp_distance(&a, &b, NULL));
        img_free(&turned);
        img_free(&back);
        img_free(&im);
    }
}

TEST(different_photos_are_far)
{
    NEED_PHOTOS();
    img_fp fp[NPHOTOS];
    for (int i = 0; i < NPHOTOS; i++) {
        img im;
        CHECK(load_photo(i, &im) == 0);
        img_fingerprint(&im, &fp[i]);
        img_free(&im);
    }
    for (int i = 0; i < NPHOTOS; i++)
        for (int j = i + 1; j < NPHOTOS; j++) {
            int d = fp_distance(&fp[i], &fp[j], NULL);
            CHECKF(d > DUP_MAX_DIST + 8, "%s vs %s: %d bits", photos[i], photos[j], d);
            CHECK_EQ_INT(fp_distance(&fp[j], &fp[i], NULL), d);   /* symmetric */
        }
}

TEST(tiny_and_flat_images)
{
    uint8_t px[7 * 5 * 3];
    for (int k = 0; k < (int)sizeof px; k++) px[k] = (uint8_t)(k * 37);
    img im = {7, 5, px}, flat;
    img_fp a, b;
    img_fingerprint(&im, &a);
    img_fingerprint(&im, &b);
    CHECK_EQ_INT(fp_distance(&a, &b, NULL), 0);   /* deterministic */
    img_crop(&im, 0, 0, 7, 5, &flat);
    memset(flat.px, 128, (size_t)7 * 5 * 3);
    img_fingerprint(&flat, &b);                    /* a flat picture: no crash */
    img_fp c;
    img_fingerprint(&flat, &c);
    CHECK(!memcmp(&b, &c, sizeof b));
    img_free(&flat);
}

TEST(pack_round_trip)
{
    img_fp a, b;
    for (int k = 0; k < FP_HASHES; k++) {
        a.h[k][0] = 0x0123456789abcdefull * (uint64_t)(k + 1);
        a.h[k][1] = ~a.h[k][0] ^ (uint64_t)k << 60;
    }
    unsigned char buf[FP_BYTES];
    fp_pack(&a, buf);
    CHECK_EQ_INT(buf[0], 0xef);                    /* little-endian */
    CHECK(fp_unpack(buf, FP_BYTES, &b) == 0);
    CHECK(!memcmp(&a, &b, sizeof a));
    CHECK(fp_unpack(buf, FP_BYTES - 1, &b) == -1);
    CHECK(fp_unpack(NULL, FP_BYTES, &b) == -1);
}

/* ---- the lookup ---------------------------------------------------------- */

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void flip_bits(uint64_t h[2], int n, uint64_t *s)
{
    for (int k = 0; k < n; k++) {
        int b = (int)(rnd(s) % 128);
        h[b / 64] ^= 1ull << (b % 64);
    }
}

TEST(pairs_equal_every_pair_tried)
{
    enum { N = 3000 };
    img_fp *fp = calloc(N, sizeof *fp);
    uint64_t s = 88172645463325252ull;
    for (int i = 0; i < N; i++) {
        if (i % 3 && i > 0) {
            /* A copy of the previous one, a few bits apart. */
            fp[i] = fp[i - 1];
            flip_bits(fp[i].h[0], (int)(rnd(&s) % 22), &s);
        } else {
            for (int k = 0; k < FP_HASHES; k++) fp[i].h[k][0] = rnd(&s), fp[i].h[k][1] = rnd(&s);
        }
    }
    fpindex *x = fpi_build(fp, N, 0);
    fp_match *m;
    int nm = fpi_pairs(x, 20, 1, &m);
    int found = 0, must = 0;
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++) {
            int d = fp_distance(&fp[i], &fp[j], NULL);
            if (d > 20) continue;
            /* Guaranteed with radius 1 and 8 chunks: frames within 15 bits,
             * or a frame within 7 of a window (probed one bit less). */
            int low = fp_hamming(fp[i].h[0], fp[j].h[0]) <= 15 ? 0 : 128;
            for (int k = 1; k < FP_HASHES; k++) {
                int a = fp_hamming(fp[i].h[k], fp[j].h[0]), b = fp_hamming(fp[i].h[0], fp[j].h[k]);
                if (a <= 7 || b <= 7) low = 0;
            }
            int in = 0;
            for (int k = 0; k < nm && !in; k++) in = m[k].i == i && m[k].j == j && m[k].dist == d;
            found += in;
            if (low == 0) {
                must++;
                CHECKF(in, "pair %d,%d (%d bits, %d low) missed", i, j, d, low);
            }
        }
    CHECK(must > N / 2);
    CHECK_EQ_INT(nm, found);   /* nothing returned that is not within 20 */
    for (int k = 1; k < nm; k++) CHECK(m[k - 1].i < m[k].i || (m[k - 1].i == m[k].i && m[k - 1].j < m[k].j));
    free(m);
    fpi_free(x);
    free(fp);
}

TEST(query_finds_what_a_crop_came_from)
{
    enum { N = 2000 };
    img_fp *fp = calloc(N, sizeof *fp);
    uint64_t s = 1234567ull;
    for (int i = 0; i < N; i++)
        for (int k = 0; k < FP_HASHES; k++) fp[i].h[k][0] = rnd(&s), fp[i].h[k][1] = rnd(&s);
    /* q looks like window 7 of image 1234: it is a crop of it. */
    img_fp q;
    for (int k = 0; k < FP_HASHES; k++) q.h[k][0] = rnd(&s), q.h[k][1] = rnd(&s);
    q.h[0][0] = fp[1234].h[7][0];
    q.h[0][1] = fp[1234].h[7][1];
    flip_bits(q.h[0], 3, &s);
    fp_match *m;
    fpindex *x = fpi_build(fp, N, 0);
    CHECK_EQ_INT(fpi_query(x, &q, -1, DUP_MAX_DIST, 1, &m), 0);   /* frames only: not found */
    free(m);
    fpi_free(x);
    x = fpi_build(fp, N, 1);
    int n = fpi_query(x, &q, -1, DUP_MAX_DIST, 1, &m);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(m[0].j, 1234);
    CHECK_EQ_INT(m[0].how, FP_A_INSIDE_B);   /* q (a) inside the stored one (b) */
    free(m);
    /* An indexed image asks: itself excluded. */
    n = fpi_query(x, &fp[5], 5, DUP_MAX_DIST, 1, &m);
    CHECK_EQ_INT(n, 0);
    free(m);
    fpi_free(x);
    free(fp);
}

TEST(components_join_chains)
{
    fp_match m[] = {{1, 4, 3, 0}, {4, 6, 3, 0}, {2, 3, 1, 0}, {7, 8, 0, 0}, {6, 8, 2, 0}};
    int comp[10];
    fp_components(10, m, 5, comp);
    const int want[10] = {0, 1, 2, 2, 1, 5, 1, 1, 1, 9};
    for (int i = 0; i < 10; i++) CHECK_EQ_INT(comp[i], want[i]);
}

int main(void)
{
    RUN(copies_are_close);
    RUN(different_photos_are_far);
    RUN(tiny_and_flat_images);
    RUN(pack_round_trip);
    RUN(pairs_equal_every_pair_tried);
    RUN(query_finds_what_a_crop_came_from);
    RUN(components_join_chains);
    return test_summary();
}
