/* embscan.h — internal to src/query: the whole-collection embedding scan.
 *
 * Every whole-image embedding of one model (embeddings rows with
 * region_idx -1: the joint model's, or CLIP's) is held in memory as int8
 * rows with a scale each, loaded once per process for each database file
 * and model, and brought up to date on every acquire by reading only the
 * rows added since (rowid order: a re-described image gets a new row, which
 * replaces its old slot).  A deleted image keeps its slot until the process
 * ends: callers look each hit up in `images` anyway and skip what is gone.
 *
 * A scan is a SIMD int8 dot product of the quantised query with every row
 * (src/engine/simd.c): one pass over dim bytes per image.
 */
#ifndef IMGDEX_QUERY_EMBSCAN_H
#define IMGDEX_QUERY_EMBSCAN_H

#include <sqlite3.h>
#include <stdint.h>

typedef struct emb_set emb_set;

/* The set of `model`'s whole-image embeddings in db's catalogue, held for
 * reading until emb_release (concurrent scans share it; a refresh waits
 * for them).  NULL when the catalogue holds none of that model. */
emb_set *emb_acquire(sqlite3 *db, const char *model);
void emb_release(emb_set *s);

int emb_count(const emb_set *s);
int emb_dim(const emb_set *s);
int64_t emb_image(const emb_set *s, int slot);
/* Slot of image id, -1 when it has no embedding of this model. */
int emb_find(const emb_set *s, int64_t id);
/* The stored vector of a slot (dequantised, dim floats). */
void emb_vector(const emb_set *s, int slot, float *out);
/* out[slot] = cosine of q (dim floats, any length) with every image.  Above
 * EMB_EXACT_MAX images a coarse pass over sign codes comes first and only
 * the EMB_COARSE_KEEP nearest (and ties) get their cosine; the others get
 * -2 (they cannot be among the best). */
#define EMB_EXACT_MAX 250000
#define EMB_COARSE_KEEP 100000
void emb_scan(const emb_set *s, const float *q, float *out);
/* The quantised query (free it) and its factor, for emb_cosine. */
int8_t *emb_prepare(const emb_set *s, const float *q, float *k);
/* The exact cosine of one slot with a prepared query. */
float emb_cosine(const emb_set *s, int slot, const int8_t *qq, float k);
/* The m largest of v[0..n), best first (ties: lower index first); returns
 * how many were written to idx (min(m, n)). */
int emb_top(const float *v, int n, int m, int *idx);

/* Whole-image embedding models of image id, the first that matches
 * `prefer` (when not NULL) or else any; 0 and "" when it has none. */
int emb_model_of(sqlite3 *db, int64_t id, const char *prefer, char *out, size_t n);

/* One query's cosines against one model's set: what search_run keeps. */
typedef struct q_emb {
    emb_set *set;            /* held (for reading) until q_emb_done */
    float *cos;              /* per slot (emb_scan) */
    int n;
    int8_t *qq;              /* the prepared query, for exact cosines of any image */
    float qk;
} q_emb;
/* Scan with query vector qv (dim floats): 1 when the catalogue holds
 * embeddings of that model and dimension, else 0 (e inert). */
int q_emb_start(sqlite3 *db, const char *model, const float *qv, int dim, q_emb *e);
/* Cosine of image id, NAN when it has no embedding of the model. */
float q_emb_cos(const q_emb *e, int64_t id);
/* q_emb_cos of each of ids[0..n) into out[0..n): the same values, but
 * the ones the scan left out are computed in one pass that overlaps their
 * memory reads (a sentence at a million images has ~50 000 candidates,
 * most outside the coarse pass's set). */
void q_emb_cos_many(const q_emb *e, const int64_t *ids, int n, float *out);
/* The m best images (ids, cosines), best first; returns how many. */
int q_emb_best(const q_emb *e, int m, int64_t *ids, float *cos);
void q_emb_done(q_emb *e);

/* Bytes held by every loaded set (for the benchmark's memory figure). */
size_t emb_bytes_loaded(void);

#endif
