/* png.c — PNG through libpng: decoding every colour type and depth to 8-bit
 * RGB (alpha composited on white), and writing.
 *
 * The size is checked from IHDR before libpng is even started: a 60-byte
 * file claiming 100000x100000 must cost nothing.  libpng reports errors
 * through a callback that must not return; ours records the message and
 * longjmps (png_jmpbuf).
 */
#include "image/image_int.h"

#include <errno.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rd {
    const uint8_t *d;
    size_t n, pos;
    char msg[256];
} rd;

static void on_error(png_structp p, png_const_charp m)
{
    rd *r = png_get_error_ptr(p);
    if (r && !r->msg[0]) snprintf(r->msg, sizeof r->msg, "invalid PNG: %s", m);
    png_longjmp(p, 1);
}

static void on_warning(png_structp p, png_const_charp m) { (void)p; (void)m; }

static void on_read(png_structp p, png_bytep out, png_size_t len)
{
    rd *r = png_get_io_ptr(p);
    if (len > r->n - r->pos) {
        snprintf(r->msg, sizeof r->msg, "truncated PNG data");
        png_error(p, "truncated");
    }
    memcpy(out, r->d + r->pos, len);
    r->pos += len;
}

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

int img_decode_png(const uint8_t *d, size_t n, const char *name, const img_load_opts *opt,
                   img *out, img_meta *meta, ierr *e)
{
    /* signature(8) length(4) "IHDR"(4) width(4) height(4) */
    if (n < 33 || memcmp(d + 12, "IHDR", 4) != 0) {
        err_set(e, "%s: %s", name, n < 33 ? "truncated PNG data" : "invalid PNG: no IHDR chunk");
        return -1;
    }
    if (img_check_size(be32(d + 16), be32(d + 20), name, opt, e) != 0) return -1;

    rd r = {.d = d, .n = n, .pos = 0};
    png_structp p = png_create_read_struct(PNG_LIBPNG_VER_STRING, &r, on_error, on_warning);
    png_infop info = p ? png_create_info_struct(p) : NULL;
    if (!info) {
        png_destroy_read_struct(&p, NULL, NULL);
        err_set(e, "%s: out of memory", name);
        return -1;
    }
    uint8_t *volatile px = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(p))) {
        png_destroy_read_struct(&p, &info, NULL);
        free(px);
        free(rows);
        err_set(e, "%s: %s", name, r.msg[0] ? r.msg : "invalid PNG");
        return -1;
    }
    png_set_read_fn(p, &r, on_read);
    /* Our own limit was checked above; lift libpng's 1M-per-side default
     * only as far as ours goes, and cap ancillary chunk memory. */
    png_set_user_limits(p, 1000000, 1000000);
    png_set_chunk_malloc_max(p, 64u << 20);
    png_read_info(p, info);
    png_uint_32 w = png_get_image_width(p, info), h = png_get_image_height(p, info);
    int ct = png_get_color_type(p, info), depth = png_get_bit_depth(p, info);
    meta->orig_w = (int)w;
    meta->orig_h = (int)h;
#ifdef PNG_eXIf_SUPPORTED
    png_bytep exif = NULL;
    png_uint_32 exif_len = 0;
    if (png_get_eXIf_1(p, info, &exif_len, &exif) && exif && exif_len > 8)
        img_exif_parse(exif, exif_len, meta);
#endif
    if (ct == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(p);
    if (ct == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(p);
    if (png_get_valid(p, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(p);
    if (depth == 16) png_set_scale_16(p);
    if (ct == PNG_COLOR_TYPE_GRAY || ct == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(p);
    png_set_interlace_handling(p);
    png_read_update_info(p, info);
    int ch = png_get_channels(p, info);
    if (ch != 3 && ch != 4) png_error(p, "unexpected channel count");
    /* Decode RGBA rows into a buffer, then composite on white in place:
     * the 4-byte stride is kept, the RGB result packed at the front. */
    px = malloc((size_t)w * h * (size_t)ch);
    rows = malloc(sizeof(png_bytep) * h);
    if (!px || !rows) {
        snprintf(r.msg, sizeof r.msg, "out of memory for %ux%u pixels", (unsigned)w, (unsigned)h);
        png_error(p, "oom");
    }
    for (png_uint_32 y = 0; y < h; y++) rows[y] = px + (size_t)y * w * ch;
    png_read_image(p, rows);
    png_read_end(p, NULL);
    png_destroy_read_struct(&p, &info, NULL);
    free(rows);
    uint8_t *res = px;
    if (ch == 4) {
        img_rgba_on_white(px, px, (size_t)w * h);
        uint8_t *shrunk = realloc(px, (size_t)w * h * 3);
        if (shrunk) res = shrunk;
    }
    out->w = (int)w;
    out->h = (int)h;
    out->px = res;
    return 0;
}

int img_save_png(const img *im, const char *path, ierr *e)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        err_set(e, "%s: cannot create: %s", path, strerror(errno));
        return -1;
    }
    rd r = {0};
    png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, &r, on_error, on_warning);
    png_infop info = p ? png_create_info_struct(p) : NULL;
    if (!info) {
        png_destroy_write_struct(&p, NULL);
        fclose(f);
        err_set(e, "%s: out of memory", path);
        return -1;
    }
    if (setjmp(png_jmpbuf(p))) {
        png_destroy_write_struct(&p, &info);
        fclose(f);
        err_set(e, "%s: cannot write PNG: %s", path, r.msg);
        return -1;
    }
    png_init_io(p, f);
    png_set_IHDR(p, info, (png_uint_32)im->w, (png_uint_32)im->h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(p, info);
    for (int y = 0; y < im->h; y++) png_write_row(p, im->px + (size_t)y * im->w * 3);
    png_write_end(p, NULL);
    png_destroy_write_struct(&p, &info);
    if (fclose(f) != 0) {
        err_set(e, "%s: write error: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}
