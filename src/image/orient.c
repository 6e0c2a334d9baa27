/* orient.c — EXIF orientation: turn the stored pixels into the upright image.
 *
 * For each output pixel (x, y) of the displayed image we name the stored
 * pixel it comes from; w, h are the stored sizes.  Orientations 5..8 swap
 * the axes.  (TIFF 6.0 / EXIF 2.3 tag 0x0112: the value says where the
 * stored 0th row and 0th column are, e.g. 6 = "right-top": rotate 90° CW.)
 */
#include "image/image_int.h"

#include <stdlib.h>
#include <string.h>

int img_apply_orientation(img *im, int o)
{
    if (o <= 1 || o > 8 || !im->px) return 0;
    int w = im->w, h = im->h;
    int W = o >= 5 ? h : w, H = o >= 5 ? w : h;
    uint8_t *dst = malloc((size_t)W * H * 3);
    if (!dst) return -1;   /* the stored orientation is kept */
    const uint8_t *s = im->px;
    for (int y = 0; y < H; y++) {
        uint8_t *row = dst + (size_t)y * W * 3;
        for (int x = 0; x < W; x++) {
            int sx, sy;
            switch (o) {
            case 2: sx = w - 1 - x; sy = y; break;               /* mirror left-right */
            case 3: sx = w - 1 - x; sy = h - 1 - y; break;       /* rotate 180 */
            case 4: sx = x; sy = h - 1 - y; break;               /* mirror top-bottom */
            case 5: sx = y; sy = x; break;                       /* transpose */
            case 6: sx = y; sy = h - 1 - x; break;               /* rotate 90 CW */
            case 7: sx = w - 1 - y; sy = h - 1 - x; break;       /* transverse */
            default: sx = w - 1 - y; sy = x; break;              /* 8: rotate 90 CCW */
            }
            memcpy(row + 3 * x, s + ((size_t)sy * w + sx) * 3, 3);
        }
    }
    free(im->px);
    im->px = dst;
    im->w = W;
    im->h = H;
    return 0;
}

int img_rotate(const img *src, int o, img *dst)
{
    dst->w = dst->h = 0;
    dst->px = NULL;
    if (o < 1 || o > 8 || !src->px || src->w < 1 || src->h < 1) return -1;
    size_t bytes = (size_t)src->w * (size_t)src->h * 3;
    img t = {src->w, src->h, malloc(bytes)};
    if (!t.px) return -1;
    memcpy(t.px, src->px, bytes);
    if (img_apply_orientation(&t, o) != 0) {
        free(t.px);
        return -1;
    }
    *dst = t;
    return 0;
}
