/* mask.c — region masks as compact run lengths (region.mask_rle).
 *
 * Format (version 1), all integers unsigned LEB128 varints (7 bits per byte,
 * low bits first, high bit = "more bytes follow"):
 *
 *     'M' '1'  width  height  run0 run1 run2 ...
 *
 * The mask is a width×height grid of cells laid over the region's box (not
 * the image), row-major, top row first.  Runs alternate between "out" and
 * "in" cells, starting with "out" (so run0 may be 0) and sum to
 * width×height.  A 64×64 person silhouette takes ~150 bytes; the grid is
 * coarse on purpose: it is for colour weighting, display and "how much of
 * the box is the thing", not for pixel-exact cut-outs.
 */
#include <stdlib.h>
#include <string.h>

#include "describe/internal.h"

static size_t put_varint(uint8_t *p, uint32_t v)
{
    size_t n = 0;
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        p[n++] = (uint8_t)(b | (v ? 0x80 : 0));
    } while (v);
    return n;
}

static int get_varint(const uint8_t *p, size_t len, size_t *pos, uint32_t *v)
{
    uint32_t x = 0;
    for (int shift = 0; shift < 35; shift += 7) {
        if (*pos >= len) return -1;
        uint8_t b = p[(*pos)++];
        x |= (uint32_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) { *v = x; return 0; }
    }
    return -1;
}

uint8_t *mask_rle_encode(const uint8_t *m, int w, int h, size_t *len)
{
    size_t n = (size_t)w * (size_t)h;
    /* worst case: every cell its own run, 5 bytes each */
    uint8_t *out = xmalloc(2 + 10 + (n + 1) * 5);
    size_t o = 0;
    out[o++] = 'M';
    out[o++] = '1';
    o += put_varint(out + o, (uint32_t)w);
    o += put_varint(out + o, (uint32_t)h);
    int cur = 0;       /* runs start with "out" */
    uint32_t run = 0;
    for (size_t i = 0; i < n; i++) {
        int in = m[i] >= 128;
        if (in != cur) {
            o += put_varint(out + o, run);
            run = 0;
            cur = in;
        }
        run++;
    }
    o += put_varint(out + o, run);
    *len = o;
    return xrealloc(out, o);
}

uint8_t *mask_rle_decode(const uint8_t *rle, size_t len, int *w, int *h)
{
    size_t pos = 2;
    uint32_t W, H;
    if (!rle || len < 4 || rle[0] != 'M' || rle[1] != '1') return NULL;
    if (get_varint(rle, len, &pos, &W) || get_varint(rle, len, &pos, &H)) return NULL;
    if (W == 0 || H == 0 || W > 4096 || H > 4096) return NULL;
    size_t n = (size_t)W * H, at = 0;
    uint8_t *m = xmalloc(n);
    int cur = 0;
    while (pos < len) {
        uint32_t run;
        if (get_varint(rle, len, &pos, &run) || run > n - at) { free(m); return NULL; }
        memset(m + at, cur ? 255 : 0, run);
        at += run;
        cur = !cur;
    }
    if (at != n) { free(m); return NULL; }
    *w = (int)W;
    *h = (int)H;
    return m;
}

float mask_rle_fill(const uint8_t *rle, size_t len)
{
    int w, h;
    uint8_t *m = mask_rle_decode(rle, len, &w, &h);
    if (!m) return -1;
    size_t in = 0, n = (size_t)w * (size_t)h;
    for (size_t i = 0; i < n; i++) in += m[i] != 0;
    free(m);
    return (float)in / (float)n;
}

char *region_mask_text(const region *r, int img_w, int img_h, int max_cols)
{
    int w, h;
    uint8_t *m = r->mask_rle ? mask_rle_decode(r->mask_rle, r->mask_len, &w, &h) : NULL;
    if (!m || max_cols < 1) { free(m); return xstrdup(""); }
    /* the box's shape on screen: its pixel aspect, halved for tall characters */
    float bw = (r->x1 - r->x0) * (float)img_w, bh = (r->y1 - r->y0) * (float)img_h;
    float aspect = bw > 0 && bh > 0 ? bh / bw : (float)h / (float)w;
    int cols = w < max_cols ? w : max_cols;
    int rows = (int)((float)cols * aspect * 0.5f + 0.5f);
    if (rows < 1) rows = 1;
    if (rows > 2 * max_cols) rows = 2 * max_cols;
    char *out = xmalloc((size_t)rows * (size_t)(cols + 1) + 1), *p = out;
    for (int y = 0; y < rows; y++) {
        int my = (int)(((float)y + 0.5f) * (float)h / (float)rows);
        for (int x = 0; x < cols; x++) {
            int mx = (int)(((float)x + 0.5f) * (float)w / (float)cols);
            *p++ = m[(size_t)my * w + mx] ? '#' : '.';
        }
        *p++ = '\n';
    }
    *p = 0;
    free(m);
    return out;
}
