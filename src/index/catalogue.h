/* catalogue.h — the SQLite database that holds every image and its
 * description (WAL mode, schema versioned with PRAGMA user_version and
 * migrated forward on open).
 *
 * Tables (see catalogue.c for the exact DDL):
 *   images(id, path UNIQUE, size, mtime_ns, hash, width, height, format,
 *          taken_at, camera, gps_lat, gps_lon, indexed_at, describer,
 *          caption, clip_caption, scene, brightness, stages)
 *   regions(id, image_id, idx, kind, label, score, x0, y0, x1, y1, cx, cy,
 *           area, size, position, colours, attrs, mask)
 *           colours is "red:0.61 white:0.22" (name:share, largest first)
 *   relations(image_id, a, b, rel, weight)     a, b = regions.idx
 *   ocr_words(image_id, text, conf, x0, y0, x1, y1)
 *   embeddings(image_id, region_idx, model, dim, vec)  region_idx -1 = whole image,
 *           vec = dim native-endian float32 (CLIP), or dim+4 bytes: a
 *           float32 scale then dim int8 (the joint model; cat_vec_*)
 *   tags(image_id, region, grp, label, score)  CLIP zero-shot labels (desc_tag)
 *   fingerprints(image_id, version, fp)  perceptual fingerprint (fp_pack)
 *   features(image_id PRIMARY KEY, kind, dim, vec)  the image's feature vector
 *           (describe/features.h), vec = dim IEEE half floats little endian
 *   errors(path, reason, at, size, mtime_ns)
 *   + the token tables of tokens.h
 * Deleting an image row cascades to everything that belongs to it.
 */
#ifndef IMGDEX_CATALOGUE_H
#define IMGDEX_CATALOGUE_H

#include <sqlite3.h>

#include "base/base.h"
#include "describe/describe.h"

typedef struct catalogue catalogue;

/* Opens (creating and migrating when writable) the database at path. */
catalogue *cat_open(const char *path, int readonly, ierr *e);
void cat_close(catalogue *c);
sqlite3 *cat_db(catalogue *c);
int cat_schema_version(void);   /* the version this build writes */

/* Store (replace) the description of one image in one transaction. */
typedef struct cat_file {
    const char *path;        /* absolute */
    long long size, mtime_ns;
    const char *hash;        /* sha256 hex */
    const img_meta *meta;
    const char *describer;   /* describer_version() */
    const struct img_fp *fp; /* perceptual fingerprint, or NULL for none */
} cat_file;
int64_t cat_put(catalogue *c, const cat_file *f, const description *ds, ierr *e);
/* Load the stored description of image id (NULL-safe for missing). */
int cat_get(catalogue *c, int64_t id, description *out, ierr *e);
/* id of path (or a path given as a decimal id), 0 when absent. */
int64_t cat_lookup(catalogue *c, const char *path_or_id);
int cat_remove(catalogue *c, int64_t id, ierr *e);
int cat_record_error(catalogue *c, const char *path, const char *reason, ierr *e);

/* Everything about one stored image except its description. */
typedef struct cat_image {
    int64_t id;
    char path[4096];
    long long size, mtime_ns;
    char hash[65];
    int width, height;
    char format[8];
    char taken_at[32];
    char camera[128];
    int has_gps;
    double lat, lon;
    char indexed_at[32];     /* "YYYY-MM-DD HH:MM:SS" UTC */
    char describer[256];
} cat_image;
/* 0 and *out filled, or -1 with e set (also when id is absent). */
int cat_image_info(catalogue *c, int64_t id, cat_image *out, ierr *e);

/* The same as cat_record_error, remembering the file's size and mtime so an
 * unchanged broken file is not decoded again (size -1 = unknown). */
int cat_record_error_file(catalogue *c, const char *path, const char *reason, long long size,
                          long long mtime_ns, ierr *e);
/* The file at path changed its size/mtime but not its content. */
int cat_touch(catalogue *c, int64_t id, long long size, long long mtime_ns, ierr *e);
/* Store f with the description already stored for image from_id (a renamed
 * or copied file: same content hash), without describing anything. */
int64_t cat_copy(catalogue *c, int64_t from_id, const cat_file *f, ierr *e);

/* The fingerprint of image id (image/fingerprint.h): store (replacing),
 * or read (1 found at the current FP_VERSION, 0 not, -1 error). */
int cat_put_fingerprint(catalogue *c, int64_t id, const struct img_fp *fp, ierr *e);
int cat_get_fingerprint(catalogue *c, int64_t id, struct img_fp *out, ierr *e);

/* A new joint model over stored features (describe_joint): replace image
 * id's joint embedding, tagger words and tokens, and its describer version,
 * in one transaction; nothing else of the row changes. */
int cat_put_joint(catalogue *c, int64_t id, const description *ds, const char *describer, ierr *e);

/* Compact vectors in embeddings.vec.  A blob of 4·dim bytes is dim float32;
 * one of dim+4 bytes is a float32 scale followed by dim int8 in -127..127,
 * v[j] = scale·q[j] (a unit vector loses < 0.5 % of its cosines that way).
 * Both native-endian, like the rest of the catalogue's blobs. */
#define CAT_VEC_I8_BYTES(dim) ((size_t)(dim) + 4)
void cat_vec_encode_i8(const float *v, int dim, void *out);
/* Decode either form into out (dim floats); -1 when the size fits neither. */
int cat_vec_decode(const void *blob, int bytes, int dim, float *out);

/* ---- feature vectors (describe/features.h) ---------------------------- */

/* The stored feature vector of image id: 1 with kind ("features/2"), *out
 * (malloc'd, *dim floats) filled; 0 when the image has none; -1 + e. */
int cat_features(catalogue *c, int64_t id, char kind[16], float **out, int *dim, ierr *e);
/* Every stored vector of this kind, by ascending image id: *ids (n) and
 * *vecs (n rows of *dim floats), both malloc'd (NULL when n is 0).
 * Returns n, or -1 + e (also when rows of the kind disagree on dim). */
int cat_features_all(catalogue *c, const char *kind, int64_t **ids, float **vecs, int *dim, ierr *e);

/* ---- indexing a tree --------------------------------------------------- */

typedef struct index_opts {
    int jobs;                /* worker threads; 0 = cpu_count() */
    int progress;            /* progress bar on stderr (default: isatty(2)) */
    long long max_pixels;    /* 0 = 100 MP */
    describe_opts describe;
} index_opts;

typedef struct index_stats {
    int seen;                /* candidate files found by the walk */
    int described;           /* decoded and described this run */
    int unchanged;           /* up to date (or only touched: same content) */
    int renamed;             /* renamed or copied: description reused by content hash */
    int removed;             /* rows of files that are gone */
    int errors;              /* files that failed this run (errors table) */
    int known_errors;        /* failed before and unchanged since: not retried */
    int fingerprinted;       /* up to date but lacked a fingerprint: decoded for it only */
    int rejoint;             /* of described: only the joint stage ran, on stored features */
    double seconds;
    /* Describer time per stage, summed over the workers (CPU-heavy stages
     * such as sam and blip show here), in pipeline order. */
    int nstages;
    const char *stage_names[24];
    double stage_seconds[24];
    int stage_runs[24];
} index_stats;

void index_opts_default(index_opts *o);
/* Walk the directories, describe new and changed images, recognise moved
 * and copied files by content hash, forget deleted ones.  Commits per image,
 * so a killed run loses at most the image in flight. */
int index_run(const char *db_path, char *const *dirs, int ndirs, const index_opts *o,
              index_stats *st, ierr *e);

#endif
