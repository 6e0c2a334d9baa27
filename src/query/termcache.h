/* termcache.h — internal to src/query: the best rows of detector-label
 * terms (tok_terms, source 'label', by weight), held per database
 * connection across queries.
 *
 * A sentence reads tens of thousands of rows of "person" or "dog" — most of
 * a warm query's time went to SQLite stepping through them, the same rows
 * for every query that names a person.  So the rows read are kept with the
 * connection (a server's pooled handle, a benchmark's, eval's): the next
 * query takes them from memory.  Exactly the rows, in exactly the order,
 * the statement gives, so results do not change.  Dropped when the
 * connection or any other writes to the database (data_version,
 * total_changes, schema_version), and with the connection itself.
 */
#ifndef IMGDEX_QUERY_TERMCACHE_H
#define IMGDEX_QUERY_TERMCACHE_H

#include <sqlite3.h>
#include <stdint.h>

typedef struct tc_row {
    int64_t id;
    int32_t region;
    float weight;
} tc_row;

typedef struct tc_cache tc_cache;

/* The cache of connection db, checked against the database's versions
 * (call once per query, inside its read transaction); NULL when it cannot
 * be kept (the caller then reads SQLite as before). */
tc_cache *tc_for(sqlite3 *db);

/* The first rows of `term` (at most cap) as `lab` (bound to the term as
 * ?1, best first) returns them; *n how many (< cap only when the term has
 * no more).  NULL when nothing is cached and reading failed.  Valid until
 * the next tc_label_rows call on the same cache. */
const tc_row *tc_label_rows(tc_cache *c, sqlite3_stmt *lab, const char *term, int cap, int *n);

/* min(rows of term, limit) when the cached rows answer it, else -1. */
long tc_label_count(tc_cache *c, const char *term, long limit);

#endif
