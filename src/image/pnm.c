/* pnm.c — a small, bounds-checked reader for the netpbm formats:
 * P1/P4 (bitmap, 1 = black), P2/P5 (grey), P3/P6 (RGB); maxval up to 65535
 * (two bytes per sample, big-endian, in the binary forms); # comments. */
#include "image/image_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct cur {
    const uint8_t *d;
    size_t n, i;
} cur;

static int is_space(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/* Skip whitespace and comments. */
static void skip(cur *c)
{
    for (;;) {
        while (c->i < c->n && is_space(c->d[c->i])) c->i++;
        if (c->i < c->n && c->d[c->i] == '#') {
            while (c->i < c->n && c->d[c->i] != '\n') c->i++;
            continue;
        }
        return;
    }
}

/* Next unsigned decimal number, skipping whitespace and comments; -1 if none. */
static long long number(cur *c)
{
    skip(c);
    if (c->i >= c->n || c->d[c->i] < '0' || c->d[c->i] > '9') return -1;
    long long v = 0;
    while (c->i < c->n && c->d[c->i] >= '0' && c->d[c->i] <= '9') {
        v = v * 10 + (c->d[c->i++] - '0');
        if (v > 1000000000) return -1;
    }
    return v;
}

int img_decode_pnm(const uint8_t *d, size_t n, const char *name, const img_load_opts *opt,
                   img *out, img_meta *meta, ierr *e)
{
    int kind = d[1] - '0';
    cur c = {d, n, 2};
    long long w = number(&c), h = number(&c), maxval = (kind == 1 || kind == 4) ? 1 : number(&c);
    if (w < 0 || h < 0 || maxval < 0) {
        err_set(e, "%s: %s", name, c.i >= n ? "truncated PNM header" : "invalid PNM header");
        return -1;
    }
    if (img_check_size(w, h, name, opt, e) != 0) return -1;
    if (maxval < 1 || maxval > 65535) {
        err_set(e, "%s: invalid PNM maxval %lld", name, maxval);
        return -1;
    }
    int binary = kind >= 4, chans = (kind == 3 || kind == 6) ? 3 : 1;
    if (binary) c.i++;   /* exactly one whitespace byte ends the header */
    size_t bps = maxval > 255 ? 2 : 1;
    if (binary) {
        size_t need = kind == 4 ? (size_t)((w + 7) / 8) * (size_t)h : (size_t)w * h * chans * bps;
        if (c.i > n || n - c.i < need) {
            err_set(e, "%s: truncated PNM data", name);
            return -1;
        }
    }
    img im;
    if (img_alloc(&im, (int)w, (int)h) != 0) {
        err_set(e, "%s: out of memory", name);
        return -1;
    }
    size_t npx = (size_t)w * h;
    const uint8_t *p = d + c.i;
    for (size_t k = 0; k < npx; k++) {
        uint8_t v[3];
        if (kind == 4) {
            size_t x = k % (size_t)w, y = k / (size_t)w;
            int bit = p[y * (size_t)((w + 7) / 8) + x / 8] >> (7 - x % 8) & 1;
            v[0] = v[1] = v[2] = bit ? 0 : 255;
        } else {
            for (int ch = 0; ch < chans; ch++) {
                long long s;
                if (kind == 1) {   /* digits need no separators: "0110" is four pixels */
                    skip(&c);
                    s = c.i < n && (d[c.i] == '0' || d[c.i] == '1') ? d[c.i++] - '0' : -1;
                    if (s < 0) {
                        img_free(&im);
                        err_set(e, "%s: truncated PNM data", name);
                        return -1;
                    }
                    s = !s;   /* 1 is black in a bitmap */
                } else if (!binary) {
                    s = number(&c);
                    if (s < 0) {
                        img_free(&im);
                        err_set(e, "%s: truncated PNM data", name);
                        return -1;
                    }
                } else if (bps == 2) {
                    s = p[0] << 8 | p[1];
                    p += 2;
                } else {
                    s = *p++;
                }
                if (s > maxval) s = maxval;
                v[ch] = (uint8_t)((s * 255 + maxval / 2) / maxval);
            }
            if (chans == 1) v[1] = v[2] = v[0];
        }
        memcpy(im.px + 3 * k, v, 3);
    }
    meta->orig_w = (int)w;
    meta->orig_h = (int)h;
    *out = im;
    return 0;
}
