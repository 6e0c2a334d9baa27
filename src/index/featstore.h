/* featstore.h — internal to src/index: the features table, written and
 * read with the rest of a description (catalogue.c), inside the caller's
 * transaction.  path is for error messages. */
#ifndef IMGDEX_FEATSTORE_H
#define IMGDEX_FEATSTORE_H

#include <sqlite3.h>

#include "describe/describe.h"

/* Replace the stored vector of image id by ds's (none when ds has none). */
int featstore_put(sqlite3 *db, const char *path, int64_t id, const description *ds, ierr *e);
/* Fill out->features / nfeatures / features_kind when id has a vector. */
int featstore_get(sqlite3 *db, const char *path, int64_t id, description *out, ierr *e);

#endif
