/* schema.h — internal to src/index: the catalogue's DDL and migrations. */
#ifndef IMGDEX_SCHEMA_H
#define IMGDEX_SCHEMA_H

#include <sqlite3.h>

#include "base/base.h"

/* PRAGMA user_version, -1 when it cannot be read. */
int schema_user_version(sqlite3 *db);
/* Bring the database forward to cat_schema_version() in one transaction,
 * then make sure the token tables exist.  path is for error messages. */
int schema_migrate(sqlite3 *db, const char *path, ierr *e);

#endif
