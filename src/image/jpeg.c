/* jpeg.c — JPEG through libjpeg-turbo: decoding with DCT scaling, encoding.
 *
 * DCT scaling is why a 12 MP photo costs little: libjpeg-turbo can run the
 * inverse DCT at n/8 of the size (n = 1..16), so we ask for the smallest n
 * whose output still has min_side pixels on the shorter side and never
 * inflate the full image.
 *
 * libjpeg's default error handler prints and calls exit(); ours formats
 * the message into the ierr and longjmps back.  A premature end of data is
 * only a warning to libjpeg (it pads the image with grey); to us it is a
 * truncated file, so that warning is fatal here.  Other "corrupt data"
 * warnings (extraneous bytes before a marker...) are common in real
 * photos that display fine, so they are tolerated — unless the data stops
 * before half of the image (see on_message).
 */
#include "image/image_int.h"

#include <setjmp.h>
#include <stdio.h>   /* before jpeglib.h, which uses FILE */

#include <jerror.h>
#include <jpeglib.h>
#include <stdlib.h>
#include <string.h>

/* More scans than any encoder writes: a crafted progressive file with
 * thousands of tiny scans is a known way to burn CPU. */
#define JPEG_MAX_SCANS 1000

typedef struct jerr {
    struct jpeg_error_mgr mgr;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX + 32];
} jerr;

static void on_error(j_common_ptr ci)
{
    jerr *je = (jerr *)ci->err;
    char m[JMSG_LENGTH_MAX];
    ci->err->format_message(ci, m);
    snprintf(je->msg, sizeof je->msg, "invalid JPEG: %s", m);
    longjmp(je->jb, 1);
}

static void on_message(j_common_ptr ci, int level)
{
    jerr *je = (jerr *)ci->err;
    if (level == -1 && ci->err->msg_code == JWRN_JPEG_EOF) {
        snprintf(je->msg, sizeof je->msg, "truncated JPEG data");
        longjmp(je->jb, 1);
    }
    /* The scan data stops (a marker where data should be) before half of
     * the image: libjpeg would fill the rest with grey and call it a
     * picture.  A claimed 10000x10000 holding 160x120 of data is a broken
     * file, not a grey photo.  Later scans of a progressive file, or a
     * damaged last stretch, are tolerated as before. */
    if (level == -1 && ci->err->msg_code == JWRN_HIT_MARKER && ci->is_decompressor) {
        j_decompress_ptr d = (j_decompress_ptr)ci;
        if (d->input_scan_number <= 1 && d->total_iMCU_rows > 0 && 2 * d->input_iMCU_row < d->total_iMCU_rows) {
            snprintf(je->msg, sizeof je->msg, "truncated JPEG data (the image data ends %u%% of the way down)",
                     (unsigned)(100 * d->input_iMCU_row / d->total_iMCU_rows));
            longjmp(je->jb, 1);
        }
    }
    if (level == -1) ci->err->num_warnings++;
    /* trace messages and tolerated warnings: silent */
}

static void on_output(j_common_ptr ci) { (void)ci; }

static void on_progress(j_common_ptr ci)
{
    j_decompress_ptr d = (j_decompress_ptr)ci;
    if (!ci->is_decompressor || d->input_scan_number <= JPEG_MAX_SCANS) return;
    jerr *je = (jerr *)ci->err;
    snprintf(je->msg, sizeof je->msg, "invalid JPEG: more than %d scans", JPEG_MAX_SCANS);
    longjmp(je->jb, 1);
}

static void err_init(jerr *je)
{
    jpeg_std_error(&je->mgr);
    je->mgr.error_exit = on_error;
    je->mgr.emit_message = on_message;
    je->mgr.output_message = on_output;
    je->msg[0] = 0;
}

/* The smallest n (of n/8) whose output keeps min_side on the shorter side. */
static int dct_scale(int w, int h, int min_side)
{
    if (min_side <= 0) return 8;
    long short_side = w < h ? w : h;
    for (int n = 1; n < 8; n++)
        if ((short_side * n + 7) / 8 >= min_side) return n;
    return 8;
}

static void exif_from_markers(j_decompress_ptr ci, img_meta *meta)
{
    for (jpeg_saved_marker_ptr m = ci->marker_list; m; m = m->next)
        if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 && !memcmp(m->data, "Exif\0\0", 6)) {
            img_exif_parse(m->data, m->data_length, meta);
            return;
        }
}

int img_decode_jpeg(const uint8_t *d, size_t n, const char *name, const img_load_opts *opt,
                    img *out, img_meta *meta, ierr *e)
{
    struct jpeg_decompress_struct ci;
    struct jpeg_progress_mgr prog = {.progress_monitor = on_progress};
    jerr je;
    uint8_t *volatile px = NULL;
    uint8_t *volatile row = NULL;
    err_init(&je);
    ci.err = &je.mgr;
    if (setjmp(je.jb)) {
        jpeg_destroy_decompress(&ci);
        free(px);
        free(row);
        err_set(e, "%s: %s", name, je.msg);
        return -1;
    }
    jpeg_create_decompress(&ci);
    ci.progress = &prog;
    jpeg_mem_src(&ci, d, (unsigned long)n);
    jpeg_save_markers(&ci, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&ci, TRUE);
    if (img_check_size(ci.image_width, ci.image_height, name, opt, e) != 0) {
        jpeg_destroy_decompress(&ci);
        return -1;
    }
    meta->orig_w = (int)ci.image_width;
    meta->orig_h = (int)ci.image_height;
    exif_from_markers(&ci, meta);

    ci.scale_num = (unsigned)dct_scale((int)ci.image_width, (int)ci.image_height, opt ? opt->min_side : 0);
    ci.scale_denom = 8;
    int cmyk = ci.jpeg_color_space == JCS_CMYK || ci.jpeg_color_space == JCS_YCCK;
    ci.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    jpeg_start_decompress(&ci);
    int w = (int)ci.output_width, h = (int)ci.output_height, nc = ci.output_components;
    if (nc != (cmyk ? 4 : 3)) {
        snprintf(je.msg, sizeof je.msg, "invalid JPEG: unexpected %d output components", nc);
        longjmp(je.jb, 1);
    }
    px = malloc((size_t)w * h * 3);
    row = malloc((size_t)w * 4);
    if (!px || !row) {
        snprintf(je.msg, sizeof je.msg, "out of memory for %dx%d pixels", w, h);
        longjmp(je.jb, 1);
    }
    /* Photoshop writes CMYK inverted (Adobe marker); others plain. */
    int inverted = ci.saw_Adobe_marker;
    while (ci.output_scanline < ci.output_height) {
        uint8_t *dst = px + (size_t)ci.output_scanline * w * 3;
        JSAMPROW rp = cmyk ? row : dst;
        jpeg_read_scanlines(&ci, &rp, 1);
        if (!cmyk) continue;
        for (int x = 0; x < w; x++) {
            unsigned k = row[4 * x + 3];
            for (int c = 0; c < 3; c++) {
                unsigned v = row[4 * x + c];
                dst[3 * x + c] = inverted ? (uint8_t)((v * k + 127) / 255)
                                          : (uint8_t)(((255 - v) * (255 - k) + 127) / 255);
            }
        }
    }
    jpeg_finish_decompress(&ci);
    jpeg_destroy_decompress(&ci);
    free(row);
    out->w = w;
    out->h = h;
    out->px = px;
    return 0;
}

/* Our own growable destination, so that an error midway can free what was
 * written (jpeg_mem_dest keeps its latest buffer where we cannot reach it). */
typedef struct memdst {
    struct jpeg_destination_mgr mgr;
    uint8_t *buf;
    size_t cap;
} memdst;

static void dst_init(j_compress_ptr ci)
{
    memdst *m = (memdst *)ci->dest;
    m->mgr.next_output_byte = m->buf;
    m->mgr.free_in_buffer = m->cap;
}

static boolean dst_grow(j_compress_ptr ci)
{
    memdst *m = (memdst *)ci->dest;
    size_t used = m->cap;   /* libjpeg calls us when the buffer is full */
    uint8_t *nb = realloc(m->buf, m->cap * 2);
    if (!nb) ERREXIT1(ci, JERR_OUT_OF_MEMORY, 99);
    m->buf = nb;
    m->cap *= 2;
    m->mgr.next_output_byte = m->buf + used;
    m->mgr.free_in_buffer = m->cap - used;
    return TRUE;
}

static void dst_term(j_compress_ptr ci) { (void)ci; }

int img_encode_jpeg(const img *im, int quality, unsigned char **buf, size_t *len, ierr *e)
{
    struct jpeg_compress_struct ci;
    jerr je;
    memdst md = {.mgr = {.init_destination = dst_init, .empty_output_buffer = dst_grow,
                         .term_destination = dst_term}};
    *buf = NULL;
    *len = 0;
    md.cap = 16384 + (size_t)im->w * im->h / 4;
    md.buf = malloc(md.cap);
    if (!md.buf) {
        err_set(e, "encoding JPEG: out of memory");
        return -1;
    }
    err_init(&je);
    ci.err = &je.mgr;
    if (setjmp(je.jb)) {
        jpeg_destroy_compress(&ci);
        free(md.buf);
        err_set(e, "encoding JPEG: %s", je.msg);
        return -1;
    }
    jpeg_create_compress(&ci);
    ci.dest = &md.mgr;
    ci.image_width = (JDIMENSION)im->w;
    ci.image_height = (JDIMENSION)im->h;
    ci.input_components = 3;
    ci.in_color_space = JCS_RGB;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, quality < 1 ? 1 : quality > 100 ? 100 : quality, TRUE);
    jpeg_start_compress(&ci, TRUE);
    while (ci.next_scanline < ci.image_height) {
        JSAMPROW rp = im->px + (size_t)ci.next_scanline * im->w * 3;
        jpeg_write_scanlines(&ci, &rp, 1);
    }
    jpeg_finish_compress(&ci);
    *len = md.cap - md.mgr.free_in_buffer;
    *buf = md.buf;
    jpeg_destroy_compress(&ci);
    return 0;
}
