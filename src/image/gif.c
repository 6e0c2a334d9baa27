/* gif.c — the first frame of a GIF through giflib, placed on its logical
 * screen; pixels outside the frame and transparent ones are white.
 *
 * We read records one by one instead of DGifSlurp, which would decode
 * every frame of a long animation to show the first.
 */
#include "image/image_int.h"

#include <gif_lib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct src {
    const uint8_t *d;
    size_t n, pos;
} src;

static int on_read(GifFileType *g, GifByteType *out, int len)
{
    src *s = g->UserData;
    if (len < 0) return 0;
    size_t k = (size_t)len;
    if (k > s->n - s->pos) k = s->n - s->pos;
    memcpy(out, s->d + s->pos, k);
    s->pos += k;
    return (int)k;
}

static const char *why(int code)
{
    const char *m = GifErrorString(code);
    return m ? m : "invalid GIF";
}

int img_decode_gif(const uint8_t *d, size_t n, const char *name, const img_load_opts *opt,
                   img *out, img_meta *meta, ierr *e)
{
    src s = {d, n, 0};
    int code = 0;
    GifFileType *g = DGifOpen(&s, on_read, &code);
    if (!g) {
        err_set(e, "%s: invalid GIF: %s", name, why(code));
        return -1;
    }
    int transparent = -1;
    uint8_t *px = NULL;
    GifPixelType *line = NULL;
    const char *fail = NULL;
    char buf[160];
    for (;;) {
        GifRecordType rt;
        if (DGifGetRecordType(g, &rt) == GIF_ERROR) {
            fail = g->Error == D_GIF_ERR_READ_FAILED ? "truncated GIF data" : why(g->Error);
            break;
        }
        if (rt == TERMINATE_RECORD_TYPE) {
            fail = "GIF has no image";
            break;
        }
        if (rt == EXTENSION_RECORD_TYPE) {
            int fn;
            GifByteType *ext;
            if (DGifGetExtension(g, &fn, &ext) == GIF_ERROR) {
                fail = "truncated GIF data";
                break;
            }
            while (ext) {
                /* Graphic Control Extension: flags, delay(2), transparent index */
                if (fn == GRAPHICS_EXT_FUNC_CODE && ext[0] >= 4 && (ext[1] & 1)) transparent = ext[4];
                if (DGifGetExtensionNext(g, &ext) == GIF_ERROR) {
                    fail = "truncated GIF data";
                    break;
                }
                fn = 0;   /* only the first sub-block carries the GCE fields */
            }
            if (fail) break;
            continue;
        }
        if (rt != IMAGE_DESC_RECORD_TYPE) continue;
        if (DGifGetImageDesc(g) == GIF_ERROR) {
            fail = "truncated GIF data";
            break;
        }
        GifImageDesc *id = &g->Image;
        int sw = g->SWidth, sh = g->SHeight;
        /* A frame larger than the screen (or a zero screen) widens the canvas. */
        if (id->Left + id->Width > sw) sw = id->Left + id->Width;
        if (id->Top + id->Height > sh) sh = id->Top + id->Height;
        if (img_check_size(sw, sh, name, opt, e) != 0 ||
            img_check_size(id->Width, id->Height, name, opt, e) != 0) {
            DGifCloseFile(g, &code);
            return -1;
        }
        ColorMapObject *cm = id->ColorMap ? id->ColorMap : g->SColorMap;
        if (!cm || !cm->Colors) {
            fail = "GIF has no colour map";
            break;
        }
        px = malloc((size_t)sw * sh * 3);
        line = malloc((size_t)id->Width);
        if (!px || !line) {
            fail = "out of memory";
            break;
        }
        memset(px, 255, (size_t)sw * sh * 3);
        /* Interlaced frames arrive in four passes of rows. */
        static const int start[4] = {0, 4, 2, 1}, step[4] = {8, 8, 4, 2};
        int passes = id->Interlace ? 4 : 1;
        for (int pass = 0; pass < passes && !fail; pass++) {
            int y0 = id->Interlace ? start[pass] : 0, dy = id->Interlace ? step[pass] : 1;
            for (int y = y0; y < id->Height; y += dy) {
                if (DGifGetLine(g, line, id->Width) == GIF_ERROR) {
                    fail = "truncated GIF data";
                    break;
                }
                uint8_t *row = px + ((size_t)(id->Top + y) * sw + id->Left) * 3;
                for (int x = 0; x < id->Width; x++) {
                    int c = line[x];
                    if (c == transparent || c >= cm->ColorCount) continue;   /* stays white */
                    row[3 * x] = cm->Colors[c].Red;
                    row[3 * x + 1] = cm->Colors[c].Green;
                    row[3 * x + 2] = cm->Colors[c].Blue;
                }
            }
        }
        if (fail) break;
        meta->orig_w = sw;
        meta->orig_h = sh;
        out->w = sw;
        out->h = sh;
        out->px = px;
        free(line);
        DGifCloseFile(g, &code);
        return 0;
    }
    snprintf(buf, sizeof buf, "%s", fail);
    free(px);
    free(line);
    DGifCloseFile(g, &code);
    err_set(e, "%s: %s", name, buf);
    return -1;
}
