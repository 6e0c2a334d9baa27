/* regstore.c — the regions table: one row per region of a description
 * (fpstore.h).  Split from catalogue.c, which runs these inside its
 * transactions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index/fpstore.h"

void cat_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s && *s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

void cat_copy_col(sqlite3_stmt *st, int i, char *dst, size_t n)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    snprintf(dst, n, "%s", s ? (const char *)s : "");
}

static int fail(sqlite3 *db, sqlite3_stmt *st, const char *path, const char *what, ierr *e)
{
    err_set(e, "%s: %s: %s", path, what, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return -1;
}

int regstore_put(sqlite3 *db, const char *path, int64_t id, const description *ds, ierr *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
            "INSERT INTO regions(image_id, idx, kind, label, score, x0, y0, x1, y1, cx, cy, area,"
            " size, position, colours, attrs, mask, caption) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            -1, &st, NULL) != SQLITE_OK)
        return fail(db, st, path, "storing regions", e);
    for (int i = 0; i < ds->nregions; i++) {
        const region *r = &ds->regions[i];
        char colours[128];
        cat_colours_format(r, colours, sizeof colours);
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int(st, 2, i);
        sqlite3_bind_int(st, 3, r->kind);
        sqlite3_bind_text(st, 4, r->label, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(st, 5, r->score);
        sqlite3_bind_double(st, 6, r->x0);
        sqlite3_bind_double(st, 7, r->y0);
        sqlite3_bind_double(st, 8, r->x1);
        sqlite3_bind_double(st, 9, r->y1);
        sqlite3_bind_double(st, 10, r->cx);
        sqlite3_bind_double(st, 11, r->cy);
        sqlite3_bind_double(st, 12, r->area);
        sqlite3_bind_int(st, 13, r->size);
        cat_bind_text(st, 14, r->position);
        cat_bind_text(st, 15, colours);
        cat_bind_text(st, 16, r->attrs);
        if (r->mask_rle && r->mask_len)
            sqlite3_bind_blob(st, 17, r->mask_rle, (int)r->mask_len, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(st, 17);
        cat_bind_text(st, 18, r->caption);
        if (sqlite3_step(st) != SQLITE_DONE) return fail(db, st, path, "storing regions", e);
    }
    sqlite3_finalize(st);
    return 0;
}

int regstore_get(sqlite3 *db, const char *path, int64_t id, int n, description *out, ierr *e)
{
    out->regions = n ? xcalloc((size_t)n, sizeof(region)) : NULL;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
            "SELECT kind, label, score, x0, y0, x1, y1, cx, cy, area, size, position, colours, attrs,"
            " mask, caption FROM regions WHERE image_id=? ORDER BY idx", -1, &st, NULL) != SQLITE_OK)
        return fail(db, st, path, "reading regions", e);
    sqlite3_bind_int64(st, 1, id);
    while (out->nregions < n && sqlite3_step(st) == SQLITE_ROW) {
        region *r = &out->regions[out->nregions++];
        r->kind = sqlite3_column_int(st, 0);
        cat_copy_col(st, 1, r->label, sizeof r->label);
        r->score = (float)sqlite3_column_double(st, 2);
        r->x0 = (float)sqlite3_column_double(st, 3);
        r->y0 = (float)sqlite3_column_double(st, 4);
        r->x1 = (float)sqlite3_column_double(st, 5);
        r->y1 = (float)sqlite3_column_double(st, 6);
        r->cx = (float)sqlite3_column_double(st, 7);
        r->cy = (float)sqlite3_column_double(st, 8);
        r->area = (float)sqlite3_column_double(st, 9);
        r->size = sqlite3_column_int(st, 10);
        cat_copy_col(st, 11, r->position, sizeof r->position);
        cat_colours_parse((const char *)sqlite3_column_text(st, 12), r);
        cat_copy_col(st, 13, r->attrs, sizeof r->attrs);
        int mlen = sqlite3_column_bytes(st, 14);
        const void *mask = sqlite3_column_blob(st, 14);
        if (mask && mlen > 0) {
            r->mask_rle = xmalloc((size_t)mlen);
            memcpy(r->mask_rle, mask, (size_t)mlen);
            r->mask_len = (size_t)mlen;
        }
        cat_copy_col(st, 15, r->caption, sizeof r->caption);
    }
    sqlite3_finalize(st);
    return 0;
}
