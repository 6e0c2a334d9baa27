/* termcache.c — label rows held per connection (see termcache.h).
 *
 * One cache per sqlite3 handle, found through a process-wide list.  It is
 * tied to the handle's life by an SQL function registered on it whose
 * destructor SQLite calls when the handle closes: the cache goes with it,
 * so a new handle that happens to get the same address never sees rows of
 * another database.  A handle is used by one thread at a time (the
 * server's pool hands each request its own), so only the list is locked.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "query/termcache.h"

/* Rows held per connection at most (16 bytes each: 16 MB); past that the
 * cache starts again empty.  A million-image catalogue reads at most
 * 40 000 rows of a term, so this holds the two dozen commonest labels. */
#define TC_MAX_ROWS (1 << 20)

typedef struct tc_entry {
    char term[64];
    tc_row *rows;
    int n;
    int complete;            /* the term has no rows beyond these */
} tc_entry;

struct tc_cache {
    sqlite3 *db;
    sqlite3_int64 data_version, schema_version, changes;
    tc_entry *e;
    int ne, cap;
    long rows;
    struct tc_cache *next;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static tc_cache *caches;

static void clear(tc_cache *c)
{
    for (int i = 0; i < c->ne; i++) free(c->e[i].rows);
    c->ne = 0;
    c->rows = 0;
}

/* SQLite calls this when the handle closes. */
static void destroy(void *p)
{
    tc_cache *c = p;
    pthread_mutex_lock(&mu);
    for (tc_cache **pp = &caches; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    pthread_mutex_unlock(&mu);
    clear(c);
    free(c->e);
    free(c);
}

/* Never called from SQL; it only carries the destructor. */
static void owner_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    (void)argv;
    sqlite3_result_null(ctx);
}

static int versions(sqlite3 *db, sqlite3_int64 *dv, sqlite3_int64 *sv)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT (SELECT data_version FROM pragma_data_version),"
                               " (SELECT schema_version FROM pragma_schema_version)", -1, &st, NULL) != SQLITE_OK)
        return -1;
    int ok = sqlite3_step(st) == SQLITE_ROW;
    if (ok) {
        *dv = sqlite3_column_int64(st, 0);
        *sv = sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return ok ? 0 : -1;
}

tc_cache *tc_for(sqlite3 *db)
{
    if (!db || getenv("IMGDEX_NO_TERM_CACHE")) return NULL;
    pthread_mutex_lock(&mu);
    tc_cache *c = caches;
    while (c && c->db != db) c = c->next;
    pthread_mutex_unlock(&mu);
    if (!c) {
        c = xcalloc(1, sizeof *c);
        c->db = db;
        if (sqlite3_create_function_v2(db, "imgdex_term_cache", 0, SQLITE_UTF8, c, owner_fn, NULL, NULL, destroy) !=
            SQLITE_OK) {
            free(c);
            return NULL;
        }
        pthread_mutex_lock(&mu);
        c->next = caches;
        caches = c;
        pthread_mutex_unlock(&mu);
        c->data_version = -1;
    }
    /* data_version moves when another connection commits, total_changes
     * when this one writes, schema_version when a table is rebuilt */
    sqlite3_int64 dv, sv, ch = sqlite3_total_changes64(db);
    if (versions(db, &dv, &sv) != 0) return NULL;
    if (dv != c->data_version || sv != c->schema_version || ch != c->changes) {
        clear(c);
        c->data_version = dv;
        c->schema_version = sv;
        c->changes = ch;
    }
    return c;
}

static tc_entry *find(tc_cache *c, const char *term)
{
    for (int i = 0; i < c->ne; i++)
        if (!strcmp(c->e[i].term, term)) return &c->e[i];
    return NULL;
}

const tc_row *tc_label_rows(tc_cache *c, sqlite3_stmt *lab, const char *term, int cap, int *n)
{
    *n = 0;
    if (strlen(term) >= sizeof c->e[0].term) return NULL;
    tc_entry *en = find(c, term);
    if (en && (en->complete || en->n >= cap)) {
        *n = en->n < cap ? en->n : cap;
        return en->rows;
    }
    /* not held, or fewer rows than asked: read them (again, from the top) */
    if (c->rows + cap > TC_MAX_ROWS) {
        clear(c);
        en = NULL;
    }
    if (!en) {
        if (c->ne == c->cap) {
            c->cap = c->cap ? 2 * c->cap : 32;
            c->e = xrealloc(c->e, (size_t)c->cap * sizeof *c->e);
        }
        en = &c->e[c->ne++];
        memset(en, 0, sizeof *en);
        snprintf(en->term, sizeof en->term, "%s", term);
    }
    c->rows -= en->n;
    free(en->rows);
    en->rows = NULL;
    en->n = 0;
    int ncap = 0, rc = SQLITE_ROW;
    sqlite3_reset(lab);
    sqlite3_bind_text(lab, 1, term, -1, SQLITE_TRANSIENT);
    while (en->n < cap && (rc = sqlite3_step(lab)) == SQLITE_ROW) {
        if (en->n == ncap) {
            ncap = ncap ? 2 * ncap : 256;
            if (ncap > cap) ncap = cap;
            en->rows = xrealloc(en->rows, (size_t)ncap * sizeof *en->rows);
        }
        tc_row *r = &en->rows[en->n++];
        r->id = sqlite3_column_int64(lab, 0);
        r->region = sqlite3_column_int(lab, 1);
        r->weight = (float)sqlite3_column_double(lab, 2);
    }
    sqlite3_reset(lab);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        /* a failed read is not kept: the entry goes */
        free(en->rows);
        *en = c->e[--c->ne];
        return NULL;
    }
    en->complete = en->n < cap;
    c->rows += en->n;
    *n = en->n;
    static const tc_row none;
    return en->rows ? en->rows : &none;
}

long tc_label_count(tc_cache *c, const char *term, long limit)
{
    tc_entry *en = find(c, term);
    if (!en) return -1;
    if (en->complete) return en->n < limit ? en->n : limit;
    return limit <= en->n ? limit : -1;
}
