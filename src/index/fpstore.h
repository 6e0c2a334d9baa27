/* fpstore.h — internal to src/index: the fingerprints and regions tables
 * and the text forms of stored columns, shared by catalogue.c's writer and reader.
 * path is for error messages; calls run inside the caller's transaction. */
#ifndef IMGDEX_FPSTORE_H
#define IMGDEX_FPSTORE_H

#include <sqlite3.h>

#include "describe/describe.h"
#include "image/fingerprint.h"

/* Store (replace) image id's fingerprint at the current FP_VERSION. */
int fpstore_put(sqlite3 *db, const char *path, int64_t id, const img_fp *fp, ierr *e);
/* 1 found at the current FP_VERSION, 0 not, -1 + e. */
int fpstore_get(sqlite3 *db, const char *path, int64_t id, img_fp *out, ierr *e);

/* The regions rows of image id (regstore.c): all of ds's regions; or the
 * n stored ones into out->regions (malloc'd). */
int regstore_put(sqlite3 *db, const char *path, int64_t id, const description *ds, ierr *e);
int regstore_get(sqlite3 *db, const char *path, int64_t id, int n, description *out, ierr *e);

/* A text column: NULL for NULL or ""; read back as "" (regstore.c). */
void cat_bind_text(sqlite3_stmt *st, int i, const char *s);
void cat_copy_col(sqlite3_stmt *st, int i, char *dst, size_t n);

/* regions.colours: "red:0.61 white:0.22" <-> colour_share[] (vecblob.c). */
void cat_colours_format(const region *r, char *out, size_t n);
void cat_colours_parse(const char *s, region *r);

#endif
