/* image.h — turning files into pixels.
 *
 * Decoding (JPEG via libjpeg-turbo with DCT scaling, PNG, WebP, GIF first
 * frame, BMP, PNM; format from magic bytes), EXIF (orientation applied,
 * date/camera/GPS read) and resampling into the sizes the models need.
 * Pixels are always 8-bit RGB, interleaved, row-major, no padding.
 */
#ifndef IMGDEX_IMAGE_H
#define IMGDEX_IMAGE_H

#include "base/base.h"

typedef struct img {
    int w, h;          /* after EXIF orientation */
    uint8_t *px;       /* w*h*3 bytes, RGB */
} img;

typedef struct img_meta {
    int orig_w, orig_h;      /* full size as stored in the file, after orientation */
    int orientation;         /* EXIF 1..8 (1 when absent) */
    char format[8];          /* "jpeg", "png", "webp", "gif", "bmp", "pnm" */
    char taken_at[32];       /* "YYYY-MM-DD HH:MM:SS" from DateTimeOriginal, or "" */
    char camera[128];        /* "Make Model", or "" */
    int has_gps;
    double lat, lon;
} img_meta;

typedef struct img_load_opts {
    /* Decode no smaller than needed for this size: the result's shorter side
     * is >= min_side when the original allows, and JPEG DCT scaling is used
     * to avoid decoding the full size (a 12 MP photo is never inflated fully
     * when min_side is 512).  0 = full size. */
    int min_side;
    /* Refuse images with more pixels than this, checked from the header
     * before any pixel is decoded.  0 = the default, 100 MP. */
    long long max_pixels;
} img_load_opts;

/* Load a file.  On failure returns -1 and names the file and the reason in
 * e ("x.jpg: not an image (unknown signature)", "x.png: 100000x100000 is
 * over the 100 MP limit", "x.jpg: truncated JPEG data", "empty file"...).
 * meta may be NULL. */
int img_load(const char *path, const img_load_opts *opt, img *out, img_meta *meta, ierr *e);
/* The pixel count an over-the-limit error message (from img_load) names,
 * 0 for any other message: lets the indexer retry such a file once the
 * limit (--max-pixels) is raised far enough, without a schema column. */
long long img_error_pixels(const char *reason);
/* The limit img_load applies with these options (default 100 MP). */
long long img_pixel_limit(const img_load_opts *opt);
/* Files larger than this many bytes are refused unread (1 GiB). */
long long img_max_file_bytes(void);
/* Same from memory; `name` is used in error messages. */
int img_load_mem(const void *data, size_t len, const char *name, const img_load_opts *opt,
                 img *out, img_meta *meta, ierr *e);
void img_free(img *im);

/* Area-averaging (antialiased) resize to exactly w×h, for downscaling; bilinear when upscaling. */
void img_resize(const img *src, int w, int h, img *dst);
/* PIL-compatible bicubic resample with antialiasing support (as PIL's
 * Image.resize(BICUBIC) does), for CLIP preprocessing: must match PIL. */
void img_resize_bicubic(const img *src, int w, int h, img *dst);
/* The same with PIL's Image.resize(BILINEAR) (SAM's preprocessing). */
void img_resize_bilinear(const img *src, int w, int h, img *dst);
/* A turned or mirrored copy, by EXIF orientation number o (1..8: 6 turns a
 * quarter clockwise, 8 anticlockwise, 3 half a turn).  0, or -1 when o is
 * out of range or memory runs out (dst is then empty). */
int img_rotate(const img *src, int o, img *dst);
/* Crop (clamped to the image). */
void img_crop(const img *src, int x, int y, int w, int h, img *dst);
/* Write JPEG (quality 1..100) to memory; caller frees *buf. */
int img_encode_jpeg(const img *im, int quality, unsigned char **buf, size_t *len, ierr *e);
int img_save_png(const img *im, const char *path, ierr *e);

#endif
