/* test_hostile.c — regression tests for the hostile inputs of issue 14 that
 * live below the catalogue: crafted images (a BMP whose RLE escapes run x
 * past INT_MAX, a JPEG claiming far more pixels than its data holds,
 * impossible EXIF dates), FIFOs where files were, non-UTF-8 bytes in JSON,
 * impossible calendar dates in queries.  Every input is made here. */
#include "test.h"

#include <errno.h>
#include <iconv.h>
#include <signal.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "image/image.h"
#include "image/image_int.h"
#include "query/query.h"

static char dir[512];

static void le16w(uint8_t *p, unsigned v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static void le32w(uint8_t *p, uint32_t v) { le16w(p, v & 0xFFFF), le16w(p + 2, v >> 16); }

/* glibc's iconv as the oracle for "valid UTF-8": it refuses what is not. */
static int is_utf8(const char *s)
{
    iconv_t cd = iconv_open("UTF-32LE", "UTF-8");
    if (cd == (iconv_t)-1) return -1;
    size_t in = strlen(s), outn = 4 * in + 4;
    char *out = malloc(outn), *o = out, *i = (char *)s;
    size_t rc = iconv(cd, &i, &in, &o, &outn);
    iconv_close(cd);
    free(out);
    return rc != (size_t)-1;
}

/* ---- BMP: "move right" escapes summed past INT_MAX ---------------------- */

TEST(bmp_rle8_delta_escapes_cannot_overflow_x)
{
    /* 16x16 RLE8: 8.5 million "delta +255, +0" escapes (x would reach
     * 2.2e9 and wrap negative), then a run of 4 pixels, then end of bitmap. */
    const size_t ndelta = 8500000, hdr = 14 + 40 + 256 * 4;
    size_t n = hdr + ndelta * 4 + 4;
    uint8_t *d = calloc(1, n);
    d[0] = 'B', d[1] = 'M';
    le32w(d + 2, (uint32_t)n);
    le32w(d + 10, (uint32_t)hdr);
    le32w(d + 14, 40);
    le32w(d + 18, 16);
    le32w(d + 22, 16);
    le16w(d + 26, 1);
    le16w(d + 28, 8);
    le32w(d + 30, 1);   /* BI_RLE8 */
    for (int i = 0; i < 256; i++) d[54 + 4 * i] = d[54 + 4 * i + 1] = d[54 + 4 * i + 2] = (uint8_t)i;
    uint8_t *p = d + hdr;
    for (size_t i = 0; i < ndelta; i++, p += 4) p[0] = 0, p[1] = 2, p[2] = 255, p[3] = 0;
    p[0] = 4, p[1] = 200, p[2] = 0, p[3] = 1;
    img im;
    ierr e = {0};
    int rc = img_load_mem(d, n, "rle.bmp", NULL, &im, NULL, &e);
    free(d);
    /* Either outcome is fine; reaching here without a fault is the point. */
    if (rc == 0) {
        CHECK(im.w == 16 && im.h == 16);
        img_free(&im);
    } else {
        CHECKF(strstr(e.msg, "rle.bmp"), "%s", e.msg);
    }
}

/* ---- JPEG: a header claiming 10000x10000 over 160x120 of data ----------- */

TEST(jpeg_claiming_more_pixels_than_its_data_is_an_error)
{
    img g = {160, 120, malloc(160 * 120 * 3)};
    for (int i = 0; i < 160 * 120 * 3; i++) g.px[i] = (uint8_t)(i * 7);
    unsigned char *jpg;
    size_t len;
    ierr e = {0};
    CHECK(img_encode_jpeg(&g, 90, &jpg, &len, &e) == 0);
    free(g.px);
    /* The same data decodes as it is. */
    img im;
    img_load_opts o = {.min_side = 100};
    CHECKF(img_load_mem(jpg, len, "ok.jpg", &o, &im, NULL, &e) == 0, "%s", e.msg);
    img_free(&im);
    /* SOFn: FF C0..C2, length, precision, height, width. */
    size_t at = 0;
    for (size_t i = 2; i + 9 < len && !at; i++)
        if (jpg[i] == 0xFF && jpg[i + 1] >= 0xC0 && jpg[i + 1] <= 0xC2) at = i;
    CHECK(at);
    jpg[at + 5] = 10000 >> 8, jpg[at + 6] = 10000 & 255;
    jpg[at + 7] = 10000 >> 8, jpg[at + 8] = 10000 & 255;
    err_clear(&e);
    int rc = img_load_mem(jpg, len, "claims.jpg", &o, &im, NULL, &e);
    free(jpg);
    int w = rc == 0 ? im.w : 0, h = rc == 0 ? im.h : 0;
    if (rc == 0) img_free(&im);
    CHECKF(rc != 0, "decoded as a %dx%d (grey) picture", w, h);
    CHECKF(strstr(e.msg, "claims.jpg") && strstr(e.msg, "truncated"), "%s", e.msg);
}

/* ---- EXIF dates ---------------------------------------------------------- */

/* "Exif\0\0" + little-endian TIFF with IFD0 holding DateTime = s. */
static void exif_date(const char *s, img_meta *m)
{
    uint8_t b[128] = "Exif";
    uint8_t *t = b + 6;
    memcpy(t, "II*\0", 4);
    le32w(t + 4, 8);
    le16w(t + 8, 1);
    le16w(t + 10, 0x0132);   /* DateTime */
    le16w(t + 12, 2);        /* ASCII */
    le32w(t + 14, 20);
    le32w(t + 18, 26);       /* value offset, after the IFD */
    le32w(t + 22, 0);
    memcpy(t + 26, s, strlen(s) + 1);
    memset(m, 0, sizeof *m);
    img_exif_parse(b, 6 + 26 + 20, m);
}

TEST(impossible_exif_dates_are_not_stored)
{
    img_meta m;
    exif_date("2013:02:28 10:11:12", &m);
    CHECK_STR(m.taken_at, "2013-02-28 10:11:12");   /* the builder works */
    exif_date("2012:02:29 00:00:00", &m);
    CHECK_STR(m.taken_at, "2012-02-29 00:00:00");   /* a leap day */
    static const char *bad[] = {"9999:99:99 99:99:99", "2013:02:31 10:00:00", "2013:13:01 10:00:00",
                                "2013:00:10 10:00:00", "2013:02:29 10:00:00", "2013:01:01 24:00:00",
                                "2013:01:01 23:61:00", "1234:01:01 10:00:00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        exif_date(bad[i], &m);
        CHECKF(!m.taken_at[0], "%s stored as %s", bad[i], m.taken_at);
    }
}

TEST(query_dates_check_the_day_against_the_month)
{
    static const struct { const char *q; int ok; } cases[] = {
        {"date:2013-02-28", 1}, {"date:2012-02-29", 1}, {"after:2013-04-30", 1}, {"date:2013-02-31", 0},
        {"date:2013-02-29", 0}, {"before:2013-04-31", 0}, {"date:2013-13", 0},   {"date:2013-00-10", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ierr e = {0};
        query *q = query_parse(cases[i].q, &e);
        int ok = q != NULL;
        query_free(q);
        CHECKF(ok == cases[i].ok, "%s: %s%s", cases[i].q, ok ? "accepted" : "refused: ", e.msg);
    }
}

/* ---- FIFOs --------------------------------------------------------------- */

static void on_alarm(int sig)
{
    (void)sig;
    static const char m[] = "FAIL fifo_is_refused_without_blocking: blocked on a FIFO\n";
    if (write(1, m, sizeof m - 1) < 0) _exit(3);
    _exit(1);
}

TEST(fifo_is_refused_without_blocking)
{
    char fifo[700];
    snprintf(fifo, sizeof fifo, "%s/photo.jpg", dir);
    CHECK(mkfifo(fifo, 0644) == 0);
    signal(SIGALRM, on_alarm);
    alarm(20);   /* the old code blocks forever in open() */
    img im;
    ierr e = {0};
    int rc = img_load(fifo, NULL, &im, NULL, &e);
    CHECKF(rc != 0 && strstr(e.msg, "photo.jpg") && strstr(e.msg, "not a regular file"), "%s", e.msg);
    char hash[65];
    err_clear(&e);
    CHECKF(file_sha256(fifo, hash, &e) != 0 && strstr(e.msg, "not a regular file"), "%s", e.msg);
    err_clear(&e);
    size_t n;
    CHECK(file_read_all(fifo, &n, &e) == NULL);
    alarm(0);
    unlink(fifo);
}

/* ---- JSON is valid UTF-8 whatever the bytes ------------------------------ */

TEST(search_json_is_valid_utf8_for_any_bytes)
{
    search_hit hit = {0};
    hit.id = 7;
    hit.path = strdup("/photos/caf\xe9/\xff\xfe\xc0\xaf-\xed\xa0\x80-ok\xc3\xa9.jpg");
    hit.score = 0.5;
    hit.why_json = strdup("{\"words\":[\"caf\xe9\"]}");
    search_results r = {0};
    r.hits = &hit;
    r.n = 1;
    char *s = search_results_json("caf\xe9 \xf4\x90\x80\x80 na\xc3\xafve", &r);
    free(hit.path);
    free(hit.why_json);
    int v = is_utf8(s);
    if (v < 0) {
        free(s);
        SKIP("iconv cannot convert UTF-8");
    }
    cJSON *j = cJSON_Parse(s);
    const char *path = j ? cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "results"), 0), "path")) : NULL;
    int kept = path && strstr(path, "-ok\xc3\xa9.jpg") && strstr(path, "/photos/caf");
    int q_ok = j && strstr(cJSON_GetStringValue(cJSON_GetObjectItem(j, "query")), "na\xc3\xafve") != NULL;
    cJSON_Delete(j);
    CHECKF(v == 1, "not UTF-8: %s", s);
    free(s);
    CHECK(kept);   /* valid parts of the name survive */
    CHECK(q_ok);
}

int main(void)
{
    snprintf(dir, sizeof dir, "%s", test_tmpdir("hostile"));
    RUN(bmp_rle8_delta_escapes_cannot_overflow_x);
    RUN(jpeg_claiming_more_pixels_than_its_data_is_an_error);
    RUN(impossible_exif_dates_are_not_stored);
    RUN(query_dates_check_the_day_against_the_month);
    RUN(fifo_is_refused_without_blocking);
    RUN(search_json_is_valid_utf8_for_any_bytes);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
    return test_summary();
}
