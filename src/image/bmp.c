/* bmp.c — a small, bounds-checked BMP reader.
 *
 * Supports what cameras, scanners and Paint produce: core (12-byte) and
 * info (40/52/56/108/124-byte) headers; 1/4/8-bit palettes; 16/24/32-bit
 * with BI_RGB or BI_BITFIELDS; RLE4/RLE8; bottom-up and top-down rows.
 * Every read is checked against the data length: a lying header produces
 * an error, never a read past the buffer.
 */
#include "image/image_int.h"

#include <stdlib.h>
#include <string.h>

static uint32_t le16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t le32(const uint8_t *p) { return le16(p) | le16(p + 2) << 16; }

/* Shift and width of a channel mask, to scale its value to 0..255. */
static void mask_info(uint32_t m, int *shift, int *bits)
{
    *shift = *bits = 0;
    if (!m) return;
    while (!(m & 1)) { m >>= 1; (*shift)++; }
    while (m & 1) { m >>= 1; (*bits)++; }
}

static uint8_t mask_get(uint32_t v, uint32_t m, int shift, int bits)
{
    if (!bits) return 0;
    uint64_t x = (v & m) >> shift, max = bits >= 32 ? 0xFFFFFFFFu : (1u << bits) - 1;
    return (uint8_t)((x * 255u + max / 2) / max);
}

/* RLE8/RLE4 into an index buffer (w*h, bottom-up as stored); 0 or an error. */
static const char *rle(const uint8_t *p, size_t n, int w, int h, int four, uint8_t *idx)
{
    size_t i = 0;
    int x = 0, y = 0;
    while (y < h) {
        if (i + 2 > n) return "truncated BMP data";
        int a = p[i], b = p[i + 1];
        i += 2;
        if (a > 0) {   /* run of a pixels */
            for (int k = 0; k < a && x < w; k++, x++)
                idx[(size_t)y * w + x] = four ? (uint8_t)(k & 1 ? b & 15 : b >> 4) : (uint8_t)b;
        } else if (b == 0) {   /* end of line */
            x = 0;
            y++;
        } else if (b == 1) {   /* end of bitmap */
            return NULL;
        } else if (b == 2) {   /* delta */
            if (i + 2 > n) return "truncated BMP data";
            /* Clamped: repeated "move right" escapes must not carry x past
             * the row (and, summed, past INT_MAX) into the next write. */
            x = x + p[i] > w ? w : x + p[i];
            y += p[i + 1];
            i += 2;
        } else {   /* b literal pixels, padded to 16 bits */
            size_t bytes = four ? ((size_t)b + 1) / 2 : (size_t)b;
            if (i + bytes > n) return "truncated BMP data";
            for (int k = 0; k < b && x < w; k++, x++) {
                uint8_t v = four ? (uint8_t)(k & 1 ? p[i + k / 2] & 15 : p[i + k / 2] >> 4) : p[i + k];
                if (y < h) idx[(size_t)y * w + x] = v;
            }
            i += (bytes + 1) & ~(size_t)1;
        }
    }
    return NULL;
}

int img_decode_bmp(const uint8_t *d, size_t n, const char *name, const img_load_opts *opt,
                   img *out, img_meta *meta, ierr *e)
{
    if (n < 26) {
        err_set(e, "%s: truncated BMP header", name);
        return -1;
    }
    uint32_t off = le32(d + 10), hs = le32(d + 14);
    long long w, h;
    int bpp, comp = 0, top_down = 0;
    uint32_t ncolours = 0, rm = 0, gm = 0, bm = 0;
    if (hs == 12) {
        w = le16(d + 18);
        h = le16(d + 20);
        bpp = (int)le16(d + 24);
    } else if (hs >= 40 && hs <= 124) {
        if (n < 14 + (size_t)hs) {
            err_set(e, "%s: truncated BMP header", name);
            return -1;
        }
        w = (int32_t)le32(d + 18);
        h = (int32_t)le32(d + 22);
        bpp = (int)le16(d + 28);
        comp = (int)le32(d + 30);
        ncolours = le32(d + 46);
        if (h < 0) {
            top_down = 1;
            h = -h;
        }
        if (comp == 3 || comp == 6) {
            /* masks follow a 40-byte header, or live inside a larger one */
            if (14 + 40 + 12 > n) {
                err_set(e, "%s: truncated BMP header", name);
                return -1;
            }
            rm = le32(d + 54);
            gm = le32(d + 58);
            bm = le32(d + 62);
        }
    } else {
        err_set(e, "%s: unsupported BMP header size %u", name, hs);
        return -1;
    }
    if (img_check_size(w, h, name, opt, e) != 0) return -1;
    int rle8 = comp == 1 && bpp == 8, rle4 = comp == 2 && bpp == 4;
    if (!(comp == 0 || ((comp == 3 || comp == 6) && (bpp == 16 || bpp == 32)) || rle8 || rle4) ||
        !(bpp == 1 || bpp == 4 || bpp == 8 || bpp == 16 || bpp == 24 || bpp == 32)) {
        err_set(e, "%s: unsupported BMP (%d bits, compression %d)", name, bpp, comp);
        return -1;
    }
    if (top_down && (rle8 || rle4)) {
        err_set(e, "%s: invalid BMP: top-down RLE", name);
        return -1;
    }
    /* palette */
    uint8_t pal[256][3];
    memset(pal, 0, sizeof pal);
    if (bpp <= 8) {
        size_t entry = hs == 12 ? 3 : 4, pstart = 14 + hs;
        uint32_t max = 1u << bpp;
        if (ncolours == 0 || ncolours > max) ncolours = max;
        for (uint32_t i = 0; i < ncolours; i++) {
            size_t at = pstart + i * entry;
            if (at + 3 > n || at + 3 > off) break;   /* short palettes: the rest stay black */
            pal[i][0] = d[at + 2];
            pal[i][1] = d[at + 1];
            pal[i][2] = d[at];
        }
    }
    if (comp == 0 && bpp == 16) { rm = 0x7C00; gm = 0x03E0; bm = 0x001F; }
    if (comp == 0 && bpp == 32) { rm = 0xFF0000; gm = 0xFF00; bm = 0xFF; }
    int rs, rb, gs, gb, bs, bb;
    mask_info(rm, &rs, &rb);
    mask_info(gm, &gs, &gb);
    mask_info(bm, &bs, &bb);

    if (off >= n) {
        err_set(e, "%s: truncated BMP data", name);
        return -1;
    }
    const uint8_t *p = d + off;
    size_t avail = n - off;
    img im;
    if (img_alloc(&im, (int)w, (int)h) != 0) {
        err_set(e, "%s: out of memory", name);
        return -1;
    }
    if (rle8 || rle4) {
        uint8_t *idx = calloc((size_t)w * h, 1);
        const char *bad = idx ? rle(p, avail, (int)w, (int)h, rle4, idx) : "out of memory";
        if (bad) {
            free(idx);
            img_free(&im);
            err_set(e, "%s: %s", name, bad);
            return -1;
        }
        for (long long y = 0; y < h; y++)
            for (long long x = 0; x < w; x++)
                memcpy(im.px + ((size_t)(h - 1 - y) * w + x) * 3, pal[idx[y * w + x]], 3);
        free(idx);
    } else {
        size_t stride = (size_t)((w * bpp + 31) / 32) * 4;
        if (stride * (size_t)h > avail) {
            img_free(&im);
            err_set(e, "%s: truncated BMP data", name);
            return -1;
        }
        for (long long y = 0; y < h; y++) {
            const uint8_t *row = p + stride * (size_t)(top_down ? y : h - 1 - y);
            uint8_t *o = im.px + (size_t)y * w * 3;
            for (long long x = 0; x < w; x++, o += 3) {
                if (bpp <= 8) {
                    int per = 8 / bpp;
                    int v = row[x / per] >> (8 - bpp * (int)(x % per + 1)) & ((1 << bpp) - 1);
                    memcpy(o, pal[v], 3);
                } else if (bpp == 24) {
                    o[0] = row[3 * x + 2];
                    o[1] = row[3 * x + 1];
                    o[2] = row[3 * x];
                } else {
                    uint32_t v = bpp == 16 ? le16(row + 2 * x) : le32(row + 4 * x);
                    o[0] = mask_get(v, rm, rs, rb);
                    o[1] = mask_get(v, gm, gs, gb);
                    o[2] = mask_get(v, bm, bs, bb);
                }
            }
        }
    }
    meta->orig_w = (int)w;
    meta->orig_h = (int)h;
    *out = im;
    return 0;
}
