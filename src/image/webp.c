/* webp.c — WebP through libwebp (still images; the first frame of an
 * animation is not reachable through the simple API, so those are refused
 * with a clear reason).  Alpha is composited on white. */
#include "image/image_int.h"

#include <stdlib.h>
#include <string.h>
#include <webp/decode.h>

int img_decode_webp(const uint8_t *d, size_t n, const char *name, const img_load_opts *opt,
                    img *out, img_meta *meta, ierr *e)
{
    WebPBitstreamFeatures f;
    VP8StatusCode st = WebPGetFeatures(d, n, &f);
    if (st != VP8_STATUS_OK) {
        err_set(e, "%s: %s", name, st == VP8_STATUS_NOT_ENOUGH_DATA ? "truncated WebP data" : "invalid WebP header");
        return -1;
    }
    if (img_check_size(f.width, f.height, name, opt, e) != 0) return -1;
    if (f.has_animation) {
        err_set(e, "%s: animated WebP is not supported", name);
        return -1;
    }
    meta->orig_w = f.width;
    meta->orig_h = f.height;
    int w = f.width, h = f.height;
    size_t npx = (size_t)w * h;
    uint8_t *px = malloc(npx * (f.has_alpha ? 4 : 3));
    if (!px) {
        err_set(e, "%s: out of memory for %dx%d pixels", name, w, h);
        return -1;
    }
    uint8_t *ok = f.has_alpha ? WebPDecodeRGBAInto(d, n, px, npx * 4, w * 4)
                              : WebPDecodeRGBInto(d, n, px, npx * 3, w * 3);
    if (!ok) {
        free(px);
        /* The header parsed, so a failure here is missing or broken data. */
        err_set(e, "%s: truncated or corrupt WebP data", name);
        return -1;
    }
    if (f.has_alpha) {
        img_rgba_on_white(px, px, npx);
        uint8_t *s = realloc(px, npx * 3);
        if (s) px = s;
    }
    out->w = w;
    out->h = h;
    out->px = px;
    return 0;
}
