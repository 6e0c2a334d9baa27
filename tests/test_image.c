/* test_image.c — decoding every format, format sniffing, bad input, the
 * pixel limit, DCT scaling, encoders.  Inputs are made here: a PPM written
 * byte by byte, turned into the other formats by ImageMagick. */
#include "test.h"

#include "image/image.h"
#include "test_image_util.h"

#include <time.h>

#define W 64
#define H 48

static int have_convert;

/* Mean absolute difference against the quadrant pattern. */
static double quad_diff(const img *im)
{
    double s = 0;
    for (int y = 0; y < im->h; y++)
        for (int x = 0; x < im->w; x++)
            for (int c = 0; c < 3; c++)
                s += abs(im->px[((size_t)y * im->w + x) * 3 + c] -
                         tu_quad[(y >= im->h / 2) * 2 + (x >= im->w / 2)][c]);
    return s / ((double)im->w * im->h * 3);
}

static int load(const char *name, img *im, img_meta *m, ierr *e)
{
    img_load_opts o = {0, 0};
    return img_load(tu_path(name), &o, im, m, e);
}

TEST(every_format_decodes_to_the_same_pixels)
{
    if (!have_convert) SKIP("ImageMagick convert not installed");
    static const struct { const char *file, *args, *fmt; double tol; } cases[] = {
        {"q.ppm", NULL, "pnm", 0},
        {"q.png", "q.ppm q.png", "png", 0},
        {"q.jpg", "q.ppm -quality 95 q.jpg", "jpeg", 6},
        {"q.webp", "q.ppm -define webp:lossless=true q.webp", "webp", 0},
        {"q.gif", "q.ppm q.gif", "gif", 0},
        {"q.bmp", "q.ppm BMP3:q.bmp", "bmp", 0},
        {"q8.bmp", "q.ppm -type Palette BMP3:q8.bmp", "bmp", 0},
        {"q32.bmp", "q.ppm -alpha on -define bmp:format=bmp4 q32.bmp", "bmp", 0},
        {"q.pgm", "q.ppm -colorspace gray q.pgm", "pnm", -1},
        {"q16.png", "q.ppm -depth 16 PNG48:q16.png", "png", 0},
        {"q8.png", "q.ppm PNG8:q8.png", "png", 0},
        {"qi.png", "q.ppm -interlace PNG qi.png", "png", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].args) CHECKF(tu_convert(cases[i].args) == 0, "convert %s", cases[i].args);
        img im;
        img_meta m;
        ierr e = {0};
        CHECKF(load(cases[i].file, &im, &m, &e) == 0, "%s: %s", cases[i].file, e.msg);
        CHECKF(im.w == W && im.h == H, "%s: %dx%d", cases[i].file, im.w, im.h);
        CHECK_STR(m.format, cases[i].fmt);
        CHECK(m.orig_w == W && m.orig_h == H && m.orientation == 1);
        if (cases[i].tol >= 0) {
            double d = quad_diff(&im);
            img_free(&im);
            CHECKF(d <= cases[i].tol, "%s differs by %.2f", cases[i].file, d);
        } else {   /* grey: all three channels equal, quadrants distinct */
            int same = 1;
            for (int k = 0; k < W * H; k++)
                same &= im.px[3 * k] == im.px[3 * k + 1] && im.px[3 * k + 1] == im.px[3 * k + 2];
            int tl = im.px[0], br = im.px[((H - 1) * W + W - 1) * 3];
            img_free(&im);
            CHECK(same && tl != br);
        }
    }
}

TEST(png_gray_palette_and_alpha_on_white)
{
    if (!have_convert) SKIP("ImageMagick convert not installed");
    /* 16-bit grey with alpha: left half transparent, right half opaque black. */
    CHECK(tu_convert("-size 20x10 xc:black -alpha set -region 10x10+0+0 -alpha transparent "
                     "-depth 16 PNG64:ga.png") == 0);
    img im;
    img_meta m;
    ierr e = {0};
    CHECKF(load("ga.png", &im, &m, &e) == 0, "%s", e.msg);
    CHECK(im.w == 20 && im.h == 10);
    CHECK(im.px[0] == 255 && im.px[1] == 255 && im.px[2] == 255);            /* transparent -> white */
    CHECK(im.px[(5 * 20 + 15) * 3] == 0 && im.px[(5 * 20 + 15) * 3 + 2] == 0); /* opaque black */
    img_free(&im);
    /* half-transparent red on white is pink: (255+255)/2 on G and B */
    CHECK(tu_convert("-size 4x4 xc:'rgba(255,0,0,0.5)' PNG32:half.png") == 0);
    CHECKF(load("half.png", &im, &m, &e) == 0, "%s", e.msg);
    CHECKF(im.px[0] == 255 && abs(im.px[1] - 128) <= 2 && abs(im.px[2] - 128) <= 2, "got %d,%d,%d",
           im.px[0], im.px[1], im.px[2]);
    img_free(&im);
    /* 1-bit grey */
    CHECK(tu_convert("-size 16x2 pattern:gray50 -monochrome PNG:mono.png") == 0);
    CHECKF(load("mono.png", &im, &m, &e) == 0, "%s", e.msg);
    int blacks = 0, whites = 0;
    for (int k = 0; k < 32; k++) blacks += im.px[3 * k] == 0, whites += im.px[3 * k] == 255;
    img_free(&im);
    CHECK(blacks == 16 && whites == 16);
    /* WebP with alpha */
    CHECK(tu_convert("half.png -define webp:lossless=true halfa.webp") == 0);
    CHECKF(load("halfa.webp", &im, &m, &e) == 0, "%s", e.msg);
    CHECKF(im.px[0] == 255 && abs(im.px[1] - 128) <= 2, "webp alpha %d,%d", im.px[0], im.px[1]);
    img_free(&im);
}

TEST(gif_first_frame_of_an_animation)
{
    if (!have_convert) SKIP("ImageMagick convert not installed");
    CHECK(tu_convert("-delay 10 -size 8x8 xc:red xc:blue xc:lime anim.gif") == 0);
    img im;
    img_meta m;
    ierr e = {0};
    CHECKF(load("anim.gif", &im, &m, &e) == 0, "%s", e.msg);
    CHECK(im.w == 8 && im.h == 8);
    CHECK(im.px[0] == 255 && im.px[1] == 0 && im.px[2] == 0);
    img_free(&im);
    /* an interlaced GIF keeps its row order */
    CHECK(tu_convert("q.ppm -interlace GIF qi.gif") == 0);
    CHECKF(load("qi.gif", &im, &m, &e) == 0, "%s", e.msg);
    double d = quad_diff(&im);
    img_free(&im);
    CHECKF(d == 0, "interlaced gif differs by %f", d);
}

TEST(cmyk_jpeg_becomes_rgb)
{
    if (!have_convert) SKIP("ImageMagick convert not installed");
    CHECK(tu_convert("q.ppm -colorspace CMYK -quality 95 cmyk.jpg") == 0);
    img im;
    img_meta m;
    ierr e = {0};
    CHECKF(load("cmyk.jpg", &im, &m, &e) == 0, "%s", e.msg);
    double d = quad_diff(&im);
    img_free(&im);
    CHECKF(d < 12, "CMYK differs by %.2f", d);
}

TEST(format_comes_from_magic_not_extension)
{
    if (!have_convert) SKIP("ImageMagick convert not installed");
    CHECK(tu_convert("q.ppm png:disguised.jpg") == 0);
    img im;
    img_meta m;
    ierr e = {0};
    CHECKF(load("disguised.jpg", &im, &m, &e) == 0, "%s", e.msg);
    CHECK_STR(m.format, "png");
    img_free(&im);
    CHECK(tu_convert("q.ppm jpg:disguised.png") == 0);
    CHECKF(load("disguised.png", &im, &m, &e) == 0, "%s", e.msg);
    CHECK_STR(m.format, "jpeg");
    img_free(&im);
}

TEST(handwritten_pnm_and_bmp)
{
    img im;
    img_meta m;
    ierr e = {0};
    /* ASCII pixmap with comments, and a bitmap whose digits have no separators */
    const char *p3 = "P3\n# a comment\n2 1\n# another\n15\n15 0 0  0 0 15\n";
    CHECK(img_load_mem(p3, strlen(p3), "p3", NULL, &im, &m, &e) == 0);
    CHECK(im.w == 2 && im.px[0] == 255 && im.px[1] == 0 && im.px[5] == 255);
    img_free(&im);
    const char *p1 = "P1 4 1 0110";
    CHECKF(img_load_mem(p1, strlen(p1), "p1", NULL, &im, &m, &e) == 0, "%s", e.msg);
    CHECK(im.px[0] == 255 && im.px[3] == 0 && im.px[6] == 0 && im.px[9] == 255);
    img_free(&im);
    /* 16-bit binary grey */
    const unsigned char p5[] = "P5 2 1 65535\n\xff\xff\x00\x00";
    CHECK(img_load_mem(p5, sizeof p5 - 1, "p5", NULL, &im, &m, &e) == 0);
    CHECK(im.px[0] == 255 && im.px[3] == 0);
    img_free(&im);
    /* A 2x2 top-down 24-bit BMP built by hand: rows padded to 8 bytes. */
    unsigned char b[54 + 16] = {'B', 'M'};
    b[10] = 54;
    b[14] = 40;
    b[18] = 2;
    int32_t hneg = -2;
    memcpy(b + 22, &hneg, 4);
    b[26] = 1;
    b[28] = 24;
    const unsigned char rows[16] = {0, 0, 255, 0, 255, 0, 0, 0, /* red, green */
                                    255, 0, 0, 255, 255, 255, 0, 0}; /* blue, white */
    memcpy(b + 54, rows, 16);
    CHECKF(img_load_mem(b, sizeof b, "hand.bmp", NULL, &im, &m, &e) == 0, "%s", e.msg);
    CHECK(im.px[0] == 255 && im.px[1] == 0);          /* top-left red */
    CHECK(im.px[4] == 255 && im.px[3] == 0);          /* top-right green */
    CHECK(im.px[6 + 2] == 255 && im.px[6] == 0);      /* bottom-left blue */
    CHECK(im.px[9] == 255 && im.px[10] == 255);       /* bottom-right white */
    img_free(&im);
    /* the same header lying about its height: refused, not over-read */
    int32_t big = -2000;
    memcpy(b + 22, &big, 4);
    CHECK(img_load_mem(b, sizeof b, "liar.bmp", NULL, &im, &m, &e) == -1);
    CHECKF(strstr(e.msg, "liar.bmp") && strstr(e.msg, "truncated"), "%s", e.msg);
}

static uint32_t crc32_(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

TEST(bad_files_fail_with_name_and_reason)
{
    img im;
    img_meta m;
    ierr e;
    /* zero bytes */
    CHECK(tu_write("empty.jpg", "", 0) == 0);
    err_clear(&e);
    CHECK(load("empty.jpg", &im, &m, &e) == -1 && im.px == NULL);
    CHECKF(strstr(e.msg, "empty.jpg") && strstr(e.msg, "empty"), "%s", e.msg);
    /* random bytes named .jpg */
    unsigned char rnd[4096];
    srand(7);
    for (size_t i = 0; i < sizeof rnd; i++) rnd[i] = (unsigned char)(rand() >> 7);
    rnd[0] = 'x';
    CHECK(tu_write("random.jpg", rnd, sizeof rnd) == 0);
    err_clear(&e);
    CHECK(load("random.jpg", &im, &m, &e) == -1);
    CHECKF(strstr(e.msg, "random.jpg") && strstr(e.msg, "not an image"), "%s", e.msg);
    /* JPEG signature then garbage */
    rnd[0] = 0xFF, rnd[1] = 0xD8, rnd[2] = 0xFF;
    CHECK(tu_write("garbage.jpg", rnd, sizeof rnd) == 0);
    err_clear(&e);
    CHECK(load("garbage.jpg", &im, &m, &e) == -1);
    CHECKF(strstr(e.msg, "garbage.jpg") && strstr(e.msg, "JPEG"), "%s", e.msg);
    /* missing file, directory */
    err_clear(&e);
    CHECK(load("nope.jpg", &im, &m, &e) == -1);
    CHECKF(strstr(e.msg, "nope.jpg") && strstr(e.msg, "No such file"), "%s", e.msg);
    err_clear(&e);
    CHECK(img_load(tu_dir, NULL, &im, &m, &e) == -1);
    CHECKF(strstr(e.msg, "directory"), "%s", e.msg);
    /* unreadable (root reads anything, so only when we are not root) */
    if (geteuid() != 0 && have_convert) {
        CHECK(tu_convert("q.ppm locked.png") == 0);
        chmod(tu_path("locked.png"), 0);
        err_clear(&e);
        CHECK(load("locked.png", &im, &m, &e) == -1);
        CHECKF(strstr(e.msg, "locked.png") && strstr(e.msg, "ermission"), "%s", e.msg);
    }
    /* a PNG whose IHDR claims 100000x100000: refused from the header, at once */
    unsigned char png[8 + 25 + 12];
    memcpy(png, "\x89PNG\r\n\x1a\n", 8);
    put32(png + 8, 13);
    memcpy(png + 12, "IHDR", 4);
    put32(png + 16, 100000);
    put32(png + 20, 100000);
    png[24] = 8, png[25] = 2, png[26] = 0, png[27] = 0, png[28] = 0;
    put32(png + 29, crc32_(png + 12, 17));
    put32(png + 33, 0);
    memcpy(png + 37, "IEND", 4);
    put32(png + 41, crc32_(png + 37, 4));
    CHECK(tu_write("huge.png", png, sizeof png) == 0);
    err_clear(&e);
    clock_t t0 = clock();
    CHECK(load("huge.png", &im, &m, &e) == -1);
    CHECKF(strstr(e.msg, "huge.png") && strstr(e.msg, "100000x100000") && strstr(e.msg, "limit"), "%s", e.msg);
    CHECK((double)(clock() - t0) / CLOCKS_PER_SEC < 0.05);
    /* the limit is configurable */
    if (have_convert) {
        img_load_opts o = {0, (long long)W * H - 1};
        err_clear(&e);
        CHECK(img_load(tu_path("q.ppm"), &o, &im, &m, &e) == -1 && strstr(e.msg, "limit"));
        o.max_pixels = (long long)W * H;
        CHECK(img_load(tu_path("q.ppm"), &o, &im, &m, &e) == 0);
        img_free(&im);
    }
}

/* Every prefix-truncation of a real file of each format fails cleanly or
 * decodes (GIF/BMP tails can be cosmetic) — never crashes, never leaks. */
TEST(truncated_and_mutated_files_never_crash)
{
    if (!have_convert) SKIP("ImageMagick convert not installed");
    static const char *files[] = {"q.jpg", "q.png", "q.webp", "q.gif", "q.bmp", "q8.bmp", "q.ppm", "qi.png"};
    int rejected_truncated_jpeg = 0;
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        size_t n;
        unsigned char *d = tu_read(files[f], &n);
        CHECKF(d && n > 32, "%s missing", files[f]);
        for (size_t cut = 1; cut < n; cut += 1 + n / 97) {
            img im;
            ierr e = {0};
            int rc = img_load_mem(d, cut, files[f], NULL, &im, NULL, &e);
            if (rc == 0) img_free(&im);
            else CHECKF(strstr(e.msg, files[f]) != NULL, "error without name: %s", e.msg);
            if (f == 0 && cut > n / 3 && cut < n - 10 && rc == -1 && strstr(e.msg, "truncated")) rejected_truncated_jpeg++;
        }
        srand(11);
        unsigned char *mut = malloc(n);
        for (int round = 0; round < 150; round++) {
            memcpy(mut, d, n);
            for (int k = 0; k < 1 + round % 6; k++) mut[8 + (size_t)rand() % (n - 8)] = (unsigned char)rand();
            img im;
            ierr e = {0};
            if (img_load_mem(mut, n, files[f], NULL, &im, NULL, &e) == 0) img_free(&im);
        }
        free(mut);
        free(d);
    }
    CHECKF(rejected_truncated_jpeg > 30, "only %d truncated JPEGs called truncated", rejected_truncated_jpeg);
}

TEST(dct_scaling_decodes_a_12mp_jpeg_small)
{
    /* A textured 4000x3000 photo stand-in, encoded by libjpeg. */
    img big = {4000, 3000, malloc((size_t)4000 * 3000 * 3)};
    for (int y = 0; y < 3000; y++)
        for (int x = 0; x < 4000; x++) {
            uint8_t *p = big.px + ((size_t)y * 4000 + x) * 3;
            p[0] = (uint8_t)(x / 16 + (x * y % 7) * 3);
            p[1] = (uint8_t)(y / 12);
            p[2] = (uint8_t)((x ^ y) & 0x3f);
        }
    unsigned char *jpg;
    size_t jlen;
    ierr e0 = {0};
    int rc = img_encode_jpeg(&big, 85, &jpg, &jlen, &e0);
    free(big.px);
    CHECK(rc == 0);
    rc = tu_write("big.jpg", jpg, jlen);
    free(jpg);
    CHECK(rc == 0);
    img im;
    img_meta m;
    ierr e = {0};
    img_load_opts o = {512, 0};
    clock_t t0 = clock();
    CHECKF(img_load(tu_path("big.jpg"), &o, &im, &m, &e) == 0, "%s", e.msg);
    double scaled = (double)(clock() - t0) / CLOCKS_PER_SEC;
    /* 3000 * 1/8 = 375 < 512 <= 3000 * 2/8 = 750: libjpeg must have run at 2/8 */
    CHECKF(im.w == 1000 && im.h == 750, "decoded %dx%d", im.w, im.h);
    CHECK(m.orig_w == 4000 && m.orig_h == 3000);
    img_free(&im);
    o.min_side = 224;   /* 375 >= 224: 1/8 */
    CHECK(img_load(tu_path("big.jpg"), &o, &im, &m, &e) == 0);
    CHECKF(im.w == 500 && im.h == 375, "decoded %dx%d", im.w, im.h);
    img_free(&im);
    o.min_side = 0;   /* full size when asked */
    t0 = clock();
    CHECK(img_load(tu_path("big.jpg"), &o, &im, &m, &e) == 0);
    double full = (double)(clock() - t0) / CLOCKS_PER_SEC;
    CHECK(im.w == 4000 && im.h == 3000);
    img_free(&im);
    printf("# 12 MP JPEG: %.0f ms at 2/8 scale, %.0f ms full\n", scaled * 1e3, full * 1e3);
    CHECK(scaled < full);
}

TEST(jpeg_and_png_encoders_round_trip)
{
    img src;
    src.w = W, src.h = H;
    src.px = malloc(W * H * 3);
    tu_quadrants(src.px, W, H);
    unsigned char *buf;
    size_t len;
    ierr e = {0};
    CHECK(img_encode_jpeg(&src, 90, &buf, &len, &e) == 0);
    CHECK(len > 100 && buf[0] == 0xFF && buf[1] == 0xD8);
    img im;
    img_meta m;
    CHECK(img_load_mem(buf, len, "enc.jpg", NULL, &im, &m, &e) == 0);
    free(buf);
    CHECK(im.w == W && im.h == H && quad_diff(&im) < 6);
    img_free(&im);
    CHECK(img_save_png(&src, tu_path("saved.png"), &e) == 0);
    CHECK(load("saved.png", &im, &m, &e) == 0);
    CHECK(quad_diff(&im) == 0);
    img_free(&im);
    CHECK(img_save_png(&src, "/nonexistent-dir/x.png", &e) == -1 && strstr(e.msg, "x.png"));
    free(src.px);
}

/* img_rotate: a quarter turn clockwise puts the bottom-left pixel at the
 * top-left; anticlockwise the top-right; half a turn the bottom-right. */
TEST(rotate_turns_a_copy)
{
    img src = {3, 2, malloc(3 * 2 * 3)}, t;
    for (int i = 0; i < 6; i++) memset(src.px + 3 * i, 10 * (i + 1), 3);   /* 10 20 30 / 40 50 60 */
    CHECK(img_rotate(&src, 6, &t) == 0);
    CHECK(t.w == 2 && t.h == 3);
    CHECK(t.px[0] == 40 && t.px[3] == 10 && t.px[3 * 5] == 30);   /* 40 10 / 50 20 / 60 30 */
    img_free(&t);
    CHECK(img_rotate(&src, 8, &t) == 0);
    CHECK(t.w == 2 && t.h == 3 && t.px[0] == 30 && t.px[3] == 60 && t.px[3 * 5] == 40);   /* 30 60 / 20 50 / 10 40 */
    img_free(&t);
    CHECK(img_rotate(&src, 3, &t) == 0);
    CHECK(t.w == 3 && t.h == 2 && t.px[0] == 60 && t.px[3 * 5] == 10);
    img_free(&t);
    CHECK(src.px[0] == 10 && src.w == 3);                            /* the source is untouched */
    CHECK(img_rotate(&src, 9, &t) == -1 && t.px == NULL);
    free(src.px);
}

int main(void)
{
    snprintf(tu_dir, sizeof tu_dir, "%s", test_tmpdir("image"));
    have_convert = tu_have_convert();
    uint8_t *px = malloc(W * H * 3);
    tu_quadrants(px, W, H);
    tu_write_ppm("q.ppm", px, W, H);
    free(px);
    if (!have_convert) printf("SKIP imagemagick: convert not found; format tests cannot make their inputs\n");
    RUN(every_format_decodes_to_the_same_pixels);
    RUN(png_gray_palette_and_alpha_on_white);
    RUN(gif_first_frame_of_an_animation);
    RUN(cmyk_jpeg_becomes_rgb);
    RUN(format_comes_from_magic_not_extension);
    RUN(handwritten_pnm_and_bmp);
    RUN(bad_files_fail_with_name_and_reason);
    RUN(truncated_and_mutated_files_never_crash);
    RUN(dct_scaling_decodes_a_12mp_jpeg_small);
    RUN(jpeg_and_png_encoders_round_trip);
    RUN(rotate_turns_a_copy);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tu_dir);
    if (system(cmd) != 0) return 2;
    return test_summary();
}
