/* dups.h — duplicates and near-duplicates among catalogued images.
 *
 * Two images are duplicates (the same picture, resized, recompressed,
 * converted, brightened, noised, cropped to 90 % or turned by EXIF) when
 * their fingerprints (image/fingerprint.h) are within DUP_MAX_DIST bits.
 * With near, images within DUP_NEAR_DIST bits are near-duplicates (burst
 * shots, the same scene a moment apart); when both have a whole-image
 * embedding of the same model, pairs up to DUP_NEAR_EMB_DIST bits are
 * near-duplicates if the cosine is at least DUP_NEAR_COS (and pairs the
 * embeddings disagree on are dropped).  Groups are connected components of those pairs; pairs are
 * found by multi-index hashing (fpindex.h), never by trying every pair.
 * Thresholds chosen on Flickr8k train copies (bench_dups), reported on dev.
 * imgdex never deletes anything: a group only suggests a keeper.
 */
#ifndef IMGDEX_DUPS_H
#define IMGDEX_DUPS_H

#include "index/catalogue.h"

#define DUP_MAX_DIST 20
#define DUP_RADIUS 1
/* Fingerprint alone: on train copies, 28 bits still kept 99.95 % of pairs
 * inside groups right (30: 98.9 %, 36: 8 %); a Flickr8k burst pair (two
 * frames of one jumping dog) sits at 22.  Embedding-confirmed: the cosine
 * is not measured on bursts yet (no burst ground truth). */
#define DUP_NEAR_DIST 28
#define DUP_NEAR_EMB_DIST 36
#define DUP_NEAR_RADIUS 2
#define DUP_NEAR_COS 0.90f

typedef struct dup_member {
    int64_t id;
    char path[4096];
    int width, height;
    long long size;
    char taken_at[32];
    int dist;            /* fingerprint bits from the keeper (or from `via`) */
    int how;             /* FP_SAME_FRAME, FP_B_INSIDE_A (this one is a crop of the other), ... */
    int64_t via;         /* 0: compared with the keeper; else the member it was matched to */
    float cos;           /* embedding cosine to that image, or NAN when none */
    int near;            /* a near-duplicate, not the same picture */
} dup_member;

typedef struct dup_group {
    int n;
    dup_member *m;       /* m[0] is the suggested keeper */
} dup_group;

typedef struct dup_set {
    int ngroups;
    dup_group *g;
    int images;          /* fingerprinted images looked at */
    int missing;         /* catalogued images without a fingerprint yet */
} dup_set;

/* Every group of duplicates (with near, near-duplicates too), largest
 * first. 0, or -1 with e set. */
int dups_find(catalogue *c, int near, dup_set *out, ierr *e);
/* The group image id belongs to (out->ngroups 0 or 1). */
int dups_of(catalogue *c, int64_t id, int near, dup_set *out, ierr *e);
void dup_set_free(dup_set *s);

/* {"groups":[{"keeper":id,"members":[{id,path,width,height,size,taken_at,
 *  keeper,distance,relation,via,similarity,near}]}],"images":N,"missing":N}
 * (malloc'd). */
char *dups_to_json(const dup_set *s);
/* One line per reason: "fingerprint 6/128 bits", "crop of #12", ... */
void dup_reason(const dup_member *m, char *out, size_t n);

#endif
