/* test_image_exif.c — EXIF: all eight orientations applied to the pixels,
 * DateTimeOriginal, camera, GPS.  The EXIF block is built here byte by
 * byte (TIFF 6.0 layout), independently of libexif, and spliced into a
 * JPEG right after its SOI marker. */
#include "test.h"

#include "image/image.h"
#include "test_image_util.h"

#define W 64
#define H 48

/* ---- a tiny little-endian TIFF writer ---------------------------------- */

typedef struct tiff {
    unsigned char b[2048];
    size_t data;   /* next free byte of the data area */
} tiff;

static void le16w(unsigned char *p, unsigned v) { p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8); }
static void le32w(unsigned char *p, uint32_t v) { le16w(p, v & 0xFFFF), le16w(p + 2, v >> 16); }

/* Entry i of the IFD at `ifd`: values over 4 bytes go to the data area. */
static void entry(tiff *t, size_t ifd, int i, unsigned tag, unsigned type, uint32_t count, const void *val,
                  size_t len)
{
    unsigned char *e = t->b + ifd + 2 + 12 * (size_t)i;
    le16w(e, tag);
    le16w(e + 2, type);
    le32w(e + 4, count);
    if (len <= 4) {
        memcpy(e + 8, val, len);
    } else {
        le32w(e + 8, (uint32_t)t->data);
        memcpy(t->b + t->data, val, len);
        t->data += (len + 1) & ~(size_t)1;
    }
}

static void rational3(unsigned char *out, const uint32_t v[6])
{
    for (int i = 0; i < 6; i++) le32w(out + 4 * i, v[i]);
}

/* An APP1 segment (marker included) with the given orientation; with
 * `full`, also make/model, date and a GPS position (48°51'29.64"N,
 * 2°17'40.2"W). */
static size_t make_app1(unsigned char *out, int orientation, int full)
{
    tiff t;
    memset(&t, 0, sizeof t);
    memcpy(t.b, "II*\0", 4);
    le32w(t.b + 4, 8);
    const size_t ifd0 = 8, exif = 74, gps = 92;
    t.data = 146;
    int n0 = full ? 5 : 1;
    le16w(t.b + ifd0, (unsigned)n0);
    unsigned char sh[4] = {0};
    le16w(sh, (unsigned)orientation);
    if (full) {
        entry(&t, ifd0, 0, 0x010F, 2, 6, "Canon", 6);
        entry(&t, ifd0, 1, 0x0110, 2, 13, "Canon EOS 5D", 13);
        entry(&t, ifd0, 2, 0x0112, 3, 1, sh, 2);
        unsigned char p[4];
        le32w(p, exif);
        entry(&t, ifd0, 3, 0x8769, 4, 1, p, 4);
        le32w(p, gps);
        entry(&t, ifd0, 4, 0x8825, 4, 1, p, 4);
        le16w(t.b + exif, 1);
        entry(&t, exif, 0, 0x9003, 2, 20, "2021:06:15 14:30:05", 20);
        le16w(t.b + gps, 4);
        unsigned char r[24];
        entry(&t, gps, 0, 0x0001, 2, 2, "N", 2);
        rational3(r, (const uint32_t[6]){48, 1, 51, 1, 2964, 100});
        entry(&t, gps, 1, 0x0002, 5, 3, r, 24);
        entry(&t, gps, 2, 0x0003, 2, 2, "W", 2);
        rational3(r, (const uint32_t[6]){2, 1, 17, 1, 402, 10});
        entry(&t, gps, 3, 0x0004, 5, 3, r, 24);
    } else {
        entry(&t, ifd0, 0, 0x0112, 3, 1, sh, 2);
        t.data = ifd0 + 2 + 12 + 4;
    }
    size_t seg = 2 + 6 + t.data;
    out[0] = 0xFF, out[1] = 0xE1, out[2] = (unsigned char)(seg >> 8), out[3] = (unsigned char)seg;
    memcpy(out + 4, "Exif\0\0", 6);
    memcpy(out + 10, t.b, t.data);
    return 2 + seg;
}

/* base JPEG with the APP1 inserted after SOI, written to `name`. */
static int write_with_exif(const unsigned char *jpg, size_t n, const char *name, int orientation, int full)
{
    unsigned char app1[2200];
    size_t a = make_app1(app1, orientation, full);
    unsigned char *d = malloc(n + a);
    memcpy(d, jpg, 2);
    memcpy(d + 2, app1, a);
    memcpy(d + 2 + a, jpg + 2, n - 2);
    int rc = tu_write(name, d, n + a);
    free(d);
    return rc;
}

static int nearest_quad(const uint8_t *p)
{
    int best = -1, bd = 1 << 30;
    for (int q = 0; q < 4; q++) {
        int d = abs(p[0] - tu_quad[q][0]) + abs(p[1] - tu_quad[q][1]) + abs(p[2] - tu_quad[q][2]);
        if (d < bd) bd = d, best = q;
    }
    return best;
}

static unsigned char *base_jpeg(size_t *n)
{
    img src = {W, H, malloc(W * H * 3)};
    tu_quadrants(src.px, W, H);
    unsigned char *buf = NULL;
    ierr e = {0};
    img_encode_jpeg(&src, 95, &buf, n, &e);
    free(src.px);
    return buf;
}

TEST(all_eight_orientations)
{
    /* Which stored quadrant (0 TL red, 1 TR green, 2 BL blue, 3 BR yellow)
     * must appear at the displayed top-left and top-right corners, from the
     * meaning of each value in the EXIF specification. */
    static const int want[9][2] = {{0, 0}, {0, 1}, {1, 0}, {3, 2}, {2, 3}, {0, 2}, {2, 0}, {3, 1}, {1, 3}};
    size_t n;
    unsigned char *jpg = base_jpeg(&n);
    CHECK(jpg);
    int have_im = tu_have_convert();
    for (int o = 1; o <= 8; o++) {
        char name[32];
        snprintf(name, sizeof name, "o%d.jpg", o);
        CHECK(write_with_exif(jpg, n, name, o, 0) == 0);
        img im;
        img_meta m;
        ierr e = {0};
        CHECKF(img_load(tu_path(name), NULL, &im, &m, &e) == 0, "%s", e.msg);
        CHECK_EQ_INT(m.orientation, o);
        int sw = o >= 5;
        CHECKF(im.w == (sw ? H : W) && im.h == (sw ? W : H), "o%d: %dx%d", o, im.w, im.h);
        CHECK(m.orig_w == im.w && m.orig_h == im.h);
        int tl = nearest_quad(im.px + ((size_t)2 * im.w + 2) * 3);
        int tr = nearest_quad(im.px + ((size_t)2 * im.w + im.w - 3) * 3);
        if (tl != want[o][0] || tr != want[o][1]) {
            img_free(&im);
            free(jpg);
            CHECKF(0, "orientation %d: corners %d,%d, expected %d,%d", o, tl, tr, want[o][0], want[o][1]);
        }
        if (have_im) {   /* and ImageMagick's -auto-orient agrees on every pixel */
            char args[128], ref[32];
            snprintf(ref, sizeof ref, "r%d.ppm", o);
            snprintf(args, sizeof args, "%s -auto-orient %s", name, ref);
            img r;
            int ok = tu_convert(args) == 0 && img_load(tu_path(ref), NULL, &r, NULL, &e) == 0;
            int maxd = 0;
            if (ok && r.w == im.w && r.h == im.h)
                for (size_t k = 0; k < (size_t)r.w * r.h * 3; k++)
                    if (abs(r.px[k] - im.px[k]) > maxd) maxd = abs(r.px[k] - im.px[k]);
            int same_size = ok && r.w == im.w && r.h == im.h;
            if (ok) img_free(&r);
            if (!same_size || maxd > 2) {
                img_free(&im);
                free(jpg);
                CHECKF(0, "orientation %d: differs from convert -auto-orient (max %d)", o, maxd);
            }
        }
        img_free(&im);
    }
    free(jpg);
}

TEST(date_camera_and_gps)
{
    size_t n;
    unsigned char *jpg = base_jpeg(&n);
    CHECK(jpg);
    int rc = write_with_exif(jpg, n, "full.jpg", 6, 1);
    free(jpg);
    CHECK(rc == 0);
    img im;
    img_meta m;
    ierr e = {0};
    CHECKF(img_load(tu_path("full.jpg"), NULL, &im, &m, &e) == 0, "%s", e.msg);
    img_free(&im);
    CHECK_EQ_INT(m.orientation, 6);
    CHECK_STR(m.taken_at, "2021-06-15 14:30:05");
    CHECK_STR(m.camera, "Canon EOS 5D");
    CHECK(m.has_gps);
    CHECK_NEAR(m.lat, 48 + 51 / 60.0 + 29.64 / 3600, 1e-6);
    CHECK_NEAR(m.lon, -(2 + 17 / 60.0 + 40.2 / 3600), 1e-6);
}

TEST(no_exif_and_broken_exif)
{
    size_t n;
    unsigned char *jpg = base_jpeg(&n);
    CHECK(jpg);
    img im;
    img_meta m;
    ierr e = {0};
    CHECK(img_load_mem(jpg, n, "plain.jpg", NULL, &im, &m, &e) == 0);
    img_free(&im);
    CHECK(m.orientation == 1 && m.taken_at[0] == 0 && m.camera[0] == 0 && !m.has_gps);
    /* Scrambled EXIF bodies must not cost the image. */
    unsigned char app1[2200];
    size_t a = make_app1(app1, 3, 1);
    unsigned char *d = malloc(n + a);
    srand(5);
    int decoded = 0;
    for (int round = 0; round < 300; round++) {
        memcpy(d, jpg, 2);
        memcpy(d + 2, app1, a);
        memcpy(d + 2 + a, jpg + 2, n - 2);
        for (int k = 0; k < 1 + round % 8; k++) d[2 + 10 + (size_t)rand() % (a - 10)] = (unsigned char)rand();
        ierr e2 = {0};
        if (img_load_mem(d, n + a, "scrambled.jpg", NULL, &im, &m, &e2) == 0) {
            decoded++;
            img_free(&im);
        }
    }
    free(d);
    free(jpg);
    CHECKF(decoded == 300, "only %d of 300 images with broken EXIF decoded", decoded);
}

int main(void)
{
    snprintf(tu_dir, sizeof tu_dir, "%s", test_tmpdir("exif"));
    RUN(all_eight_orientations);
    RUN(date_camera_and_gps);
    RUN(no_exif_and_broken_exif);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tu_dir);
    if (system(cmd) != 0) return 2;
    return test_summary();
}
