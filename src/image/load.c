/* load.c — img_load: read the file, recognise the format from its first
 * bytes, hand it to that format's decoder, then apply EXIF orientation. */
#include "image/image_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Larger files are refused before being read: no photo is this big, and a
 * mistaken multi-GB file should not be pulled into memory. */
#define IMG_MAX_FILE_BYTES (1LL << 30)

long long img_max_file_bytes(void) { return IMG_MAX_FILE_BYTES; }

long long img_max_pixels(const img_load_opts *opt)
{
    return opt && opt->max_pixels > 0 ? opt->max_pixels : IMG_DEFAULT_MAX_PIXELS;
}

long long img_pixel_limit(const img_load_opts *opt) { return img_max_pixels(opt); }

int img_check_size(long long w, long long h, const char *name, const img_load_opts *opt, ierr *e)
{
    if (w <= 0 || h <= 0) {
        err_set(e, "%s: invalid image size %lldx%lld", name, w, h);
        return -1;
    }
    long long max = img_max_pixels(opt);
    /* Each side alone is capped too, so w*h cannot overflow and an int holds it. */
    if (w > 1000000 || h > 1000000 || w * h > max) {
        err_set(e, "%s: %lldx%lld is over the %.4g MP limit", name, w, h, (double)max / 1e6);
        return -1;
    }
    return 0;
}

long long img_error_pixels(const char *reason)
{
    /* Parses the message img_check_size writes above: "...: WxH is over the N MP limit". */
    const char *at = reason ? strstr(reason, " MP limit") : NULL;
    if (!at) return 0;
    const char *p = at;
    while (p > reason && p[-1] != ':') p--;
    long long w, h;
    char tail[16];
    if (sscanf(p, " %lldx%lld is over the %*g MP limi%15s", &w, &h, tail) != 3 || w <= 0 || h <= 0 ||
        w > 1000000 || h > 1000000)
        return 0;
    return w * h;
}

int img_alloc(img *im, int w, int h)
{
    im->w = w;
    im->h = h;
    im->px = malloc((size_t)w * (size_t)h * 3);
    return im->px ? 0 : -1;
}

void img_xalloc(img *im, int w, int h)
{
    im->w = w;
    im->h = h;
    im->px = xmalloc((size_t)w * (size_t)h * 3);
}

void img_free(img *im)
{
    if (!im) return;
    free(im->px);
    im->px = NULL;
    im->w = im->h = 0;
}

void img_rgba_on_white(const uint8_t *src, uint8_t *dst, size_t npx)
{
    for (size_t i = 0; i < npx; i++) {
        unsigned a = src[4 * i + 3];
        for (int c = 0; c < 3; c++) {
            unsigned v = src[4 * i + c] * a + 255 * (255 - a);
            dst[3 * i + c] = (uint8_t)((v + 127) / 255);
        }
    }
}

/* The format from the first bytes; NULL when none fits. */
static img_decoder sniff(const uint8_t *d, size_t n, const char **fmt)
{
    if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return *fmt = "jpeg", img_decode_jpeg;
    if (n >= 8 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8)) return *fmt = "png", img_decode_png;
    if (n >= 12 && !memcmp(d, "RIFF", 4) && !memcmp(d + 8, "WEBP", 4)) return *fmt = "webp", img_decode_webp;
    if (n >= 6 && (!memcmp(d, "GIF87a", 6) || !memcmp(d, "GIF89a", 6))) return *fmt = "gif", img_decode_gif;
    if (n >= 2 && d[0] == 'B' && d[1] == 'M') return *fmt = "bmp", img_decode_bmp;
    if (n >= 3 && d[0] == 'P' && d[1] >= '1' && d[1] <= '6' &&
        (d[2] == ' ' || d[2] == '\n' || d[2] == '\r' || d[2] == '\t' || d[2] == '#'))
        return *fmt = "pnm", img_decode_pnm;
    return NULL;
}

int img_load_mem(const void *data, size_t len, const char *name, const img_load_opts *opt,
                 img *out, img_meta *meta, ierr *e)
{
    img_meta m;
    memset(&m, 0, sizeof m);
    m.orientation = 1;
    out->w = out->h = 0;
    out->px = NULL;
    if (!name) name = "(memory)";
    if (len == 0) {
        err_set(e, "%s: empty file", name);
        return -1;
    }
    const char *fmt = NULL;
    img_decoder dec = sniff(data, len, &fmt);
    if (!dec) {
        err_set(e, "%s: not an image (unknown signature)", name);
        return -1;
    }
    snprintf(m.format, sizeof m.format, "%s", fmt);
    img im = {0, 0, NULL};
    if (dec(data, len, name, opt, &im, &m, e) != 0) {
        free(im.px);
        return -1;
    }
    if (m.orientation < 1 || m.orientation > 8) m.orientation = 1;
    if (m.orientation >= 5) {   /* the stored axes are swapped for display */
        int t = m.orig_w;
        m.orig_w = m.orig_h;
        m.orig_h = t;
    }
    img_apply_orientation(&im, m.orientation);
    *out = im;
    if (meta) *meta = m;
    return 0;
}

int img_load(const char *path, const img_load_opts *opt, img *out, img_meta *meta, ierr *e)
{
    out->w = out->h = 0;
    out->px = NULL;
    struct stat st;
    int fd = file_open_regular(path, 0, &st, e);
    if (fd < 0) return -1;
    if (st.st_size > IMG_MAX_FILE_BYTES) {
        err_set(e, "%s: file too large (%lld bytes, the limit is %lld)", path, (long long)st.st_size,
                IMG_MAX_FILE_BYTES);
        close(fd);
        return -1;
    }
    size_t n = (size_t)st.st_size, got = 0;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        err_set(e, "%s: out of memory reading %zu bytes", path, n);
        close(fd);
        return -1;
    }
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            err_set(e, "%s: read error: %s", path, strerror(errno));
            e->transient = 1;
            free(buf);
            close(fd);
            return -1;
        }
        if (r == 0) break;   /* shrank while we read: decode what is there */
        got += (size_t)r;
    }
    close(fd);
    int rc = img_load_mem(buf, got, path, opt, out, meta, e);
    free(buf);
    return rc;
}
