/* image_int.h — what the files of src/image share and nobody else sees.
 *
 * Every decoder has the same shape: bytes in, 8-bit RGB out (before EXIF
 * orientation, which load.c applies once for all formats).  A decoder checks
 * the pixel count from its header against opt->max_pixels before it touches
 * a pixel, and on failure fills e with "<name>: <reason>" and returns -1
 * with *out untouched (nothing allocated).
 */
#ifndef IMGDEX_IMAGE_INT_H
#define IMGDEX_IMAGE_INT_H

#include "image/image.h"

#define IMG_DEFAULT_MAX_PIXELS 100000000LL

typedef int (*img_decoder)(const uint8_t *d, size_t n, const char *name, const img_load_opts *opt,
                           img *out, img_meta *meta, ierr *e);

int img_decode_jpeg(const uint8_t *d, size_t n, const char *name, const img_load_opts *opt,
                    img *out, img_meta *meta, ierr *e);
int img_decode_png(const uint8_t *d, size_t n, const char *name, const img_load_opts *opt,
                   img *out, img_meta *meta, ierr *e);
int img_decode_webp(const uint8_t *d, size_t n, const char *name, const img_load_opts *opt,
                    img *out, img_meta *meta, ierr *e);
int img_decode_gif(const uint8_t *d, size_t n, const char *name, const img_load_opts *opt,
                   img *out, img_meta *meta, ierr *e);
int img_decode_bmp(const uint8_t *d, size_t n, const char *name, const img_load_opts *opt,
                   img *out, img_meta *meta, ierr *e);
int img_decode_pnm(const uint8_t *d, size_t n, const char *name, const img_load_opts *opt,
                   img *out, img_meta *meta, ierr *e);

/* The limit in force (opt may be NULL or say 0 for the default). */
long long img_max_pixels(const img_load_opts *opt);
/* -1 with "name: WxH is over the N MP limit" when w*h is too many, or when
 * either side is not positive; 0 when fine. */
int img_check_size(long long w, long long h, const char *name, const img_load_opts *opt, ierr *e);
/* Allocate w*h*3 bytes (the caller checked the size). */
int img_alloc(img *im, int w, int h);
/* Same, aborting on exhaustion like xmalloc (for the resamplers, which cannot fail). */
void img_xalloc(img *im, int w, int h);

/* EXIF from a TIFF/"Exif\0\0" block (libexif): orientation, date, camera,
 * GPS into meta.  Silently ignores what it cannot parse: a broken EXIF block
 * must never cost us the image. */
void img_exif_parse(const uint8_t *d, size_t n, img_meta *meta);

/* Composite 8-bit RGBA on white into RGB (dst may alias src). */
void img_rgba_on_white(const uint8_t *src, uint8_t *dst, size_t npx);

/* Rotate/flip the pixels as EXIF orientation o (1..8) says. */
int img_apply_orientation(img *im, int o);   /* -1: no memory, pixels kept as stored */

#endif
