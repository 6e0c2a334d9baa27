/* fingerprint.h — a perceptual fingerprint: the same picture after resizing,
 * recompression, a format change, a brightness edit, added noise or a small
 * crop gets a fingerprint close to the original's (Hamming distance), an
 * unrelated photo one far from it.
 *
 * The image (already turned upright by its EXIF orientation) is averaged
 * into a 64×64 grey grid; from that grid, 17 windows are each resampled to
 * 32×32 and reduced to a 128-bit DCT hash (the 128 lowest frequencies after
 * the mean, each bit = coefficient above their median):
 *   h[0]      the whole frame
 *   h[1..16]  windows of 90 % of each side on a 4×4 grid of offsets
 * A copy cropped to 90 % (anywhere in the frame) looks like one of the
 * original's windows, so the crop is matched by comparing the copy's whole
 * frame with the original's windows: fp_distance takes the minimum over
 * frame-frame, frame-window and window-frame.  Measured in bench_dups.
 */
#ifndef IMGDEX_FINGERPRINT_H
#define IMGDEX_FINGERPRINT_H

#include "image/image.h"

#define FP_VERSION 1      /* stored with each fingerprint: a change recomputes them */
#define FP_WINDOWS 16
#define FP_HASHES (1 + FP_WINDOWS)
#define FP_BITS 128
#define FP_BYTES (FP_HASHES * 16)

typedef struct img_fp {
    /* h[k][0] holds the 64 lowest frequencies (bit i = coefficient i in
     * zigzag order), h[k][1] the next 64. */
    uint64_t h[FP_HASHES][2];
} img_fp;

/* How the closest pair of hashes lined up. */
enum { FP_SAME_FRAME = 0, FP_B_INSIDE_A = 1, FP_A_INSIDE_B = 2 };

/* The fingerprint of an upright image; well under a millisecond for a
 * 1024-pixel photo.  Images smaller than 64×64 are scaled up first. */
void img_fingerprint(const img *im, img_fp *out);

/* 0..FP_BITS: the smallest Hamming distance between a's and b's whole
 * frames, or one's frame and a window of the other.  *how (may be NULL) says
 * which: FP_B_INSIDE_A when b's frame matched a window of a (b looks like a
 * crop of a). */
int fp_distance(const img_fp *a, const img_fp *b, int *how);

/* Hamming distance of two 128-bit hashes. */
static inline int fp_hamming(const uint64_t a[2], const uint64_t b[2])
{
    return __builtin_popcountll(a[0] ^ b[0]) + __builtin_popcountll(a[1] ^ b[1]);
}

/* Storage form: FP_BYTES bytes, little-endian whatever the host. */
void fp_pack(const img_fp *fp, unsigned char out[FP_BYTES]);
/* 0, or -1 when len is not FP_BYTES. */
int fp_unpack(const void *data, int len, img_fp *fp);

#endif
