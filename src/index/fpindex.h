/* fpindex.h — finding close fingerprints without comparing every pair.
 *
 * Multi-index hashing: each image's whole-frame hash (128 bits) is cut
 * into eight 16-bit chunks (chunk c = every eighth bit from bit c, so each
 * mixes low and high frequencies and chunk values spread evenly), and each
 * chunk value has a bucket (one counting sort per chunk, 65536 buckets).
 * Two hashes within Hamming distance 8r+7 of each other agree within r
 * bits on at least one chunk (pigeonhole), so probing every value within
 * `radius` bits of each of the query's chunks finds them all; farther ones
 * are still found when their differences fall unevenly.  Candidates are
 * then checked with the full fp_distance (frames and windows).
 *
 * A copy cropped inside its original is found by probing with the
 * original's windows (whose frames the crop resembles): all-pairs runs do
 * that from the original's side.  A single lookup needs the other side too,
 * so an index built with_windows also buckets every window.
 */
#ifndef IMGDEX_FPINDEX_H
#define IMGDEX_FPINDEX_H

#include "image/fingerprint.h"

typedef struct fpindex fpindex;

/* Index fps[0..n) (borrowed: they must outlive the index). */
fpindex *fpi_build(const img_fp *fps, int n, int with_windows);
void fpi_free(fpindex *x);
/* Bytes the index holds (not counting the fingerprints). */
size_t fpi_bytes(const fpindex *x);

typedef struct fp_match {
    int i, j;        /* indices into fps; i < j in fpi_pairs */
    int dist;        /* fp_distance(fps[i], fps[j]) */
    int how;         /* FP_SAME_FRAME, FP_B_INSIDE_A (j inside i), FP_A_INSIDE_B */
} fp_match;

/* Every pair within max_dist, each once, sorted by (i, j).  radius: bits
 * probed per chunk around each frame (0 finds every pair of frames up to 7
 * bits apart, 1 up to 15 at 17x the probes, 2 up to 23 at 137x); windows
 * are probed one bit less (a crop is found for sure when its frame is
 * within 8*radius-1 bits of a window of the original): half the time at
 * 100k images for 0.03 % of the copies (bench_dups).  Returns the number of pairs; *out is
 * malloc'd. */
int fpi_pairs(const fpindex *x, int max_dist, int radius, fp_match **out);

/* The indexed fingerprints within max_dist of q (q itself excluded when it
 * is fps[self]; self -1 otherwise), nearest first.  The index must be built
 * with_windows to find those q is a crop of.  i = -1, j = index. */
int fpi_query(const fpindex *x, const img_fp *q, int self, int max_dist, int radius, fp_match **out);

/* Connected components of the pairs: comp[i] = smallest member index of
 * i's group (i itself when alone). */
void fp_components(int n, const fp_match *m, int nm, int *comp);

#endif
