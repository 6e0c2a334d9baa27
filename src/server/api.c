/* api.c — the JSON routes: /api/search, /api/images/{id}, /api/stats,
 * /api/health, /api/duplicates.  Search answers are exactly `imgdex search --json`, plus the
 * parse of the query and the time taken, which the page shows. */
#include "server/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "describe/describe.h"
#include "index/dups.h"
#include "query/query.h"

/* Append ,"key":raw before the closing brace of a JSON object text. */
static char *splice(char *obj, const char *key, const char *raw)
{
    size_t n = strlen(obj), extra = strlen(key) + strlen(raw) + 8;
    if (n < 2 || obj[n - 1] != '}') return obj;
    obj = xrealloc(obj, n + extra);
    snprintf(obj + n - 1, extra + 1, "%s\"%s\":%s}", n > 2 ? "," : "", key, raw);
    return obj;
}

enum MHD_Result api_search(req *r)
{
    const char *q = srv_arg(r, "q"), *k = srv_arg(r, "k");
    if (!q || !*q) return srv_error(r, MHD_HTTP_BAD_REQUEST, "missing query: /api/search?q=a+dog+on+a+sofa");
    if (strlen(q) > SRV_MAX_QUERY)
        return srv_error(r, MHD_HTTP_URI_TOO_LONG, "query too long (%zu characters, at most %d)", strlen(q),
                         SRV_MAX_QUERY);
    search_opts o = {.k = 20};
    if (k) {
        char *end;
        long v = strtol(k, &end, 10);
        if (*end || v < 1 || v > SRV_MAX_K)
            return srv_error(r, MHD_HTTP_BAD_REQUEST, "k must be a number from 1 to %d", SRV_MAX_K);
        o.k = (int)v;
    }
    ierr e = {0};
    query *pq = query_parse(q, &e);
    if (!pq) {
        /* The page underlines the column the parser names. */
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "error", e.msg);
        cJSON_AddNumberToObject(j, "status", 400);
        cJSON_AddStringToObject(j, "query", q);
        const char *col = strstr(e.msg, "column ");
        if (col) cJSON_AddNumberToObject(j, "column", atoi(col + 7));
        char *s = cJSON_PrintUnformatted(j);
        cJSON_Delete(j);
        char *body = xstrdup(s);
        cJSON_free(s);
        return srv_json(r, MHD_HTTP_BAD_REQUEST, body);
    }
    query_free(pq);
    catalogue *c = srv_cat_get(r->s, &e);
    if (!c) return srv_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "catalogue unavailable: %s", e.msg);
    search_results res;
    memset(&res, 0, sizeof res);
    while (sem_wait(&r->s->searches) != 0) {
    }
    int rc = search_run(cat_db(c), q, &o, &res, &e);
    sem_post(&r->s->searches);
    srv_cat_put(r->s, c);
    if (rc != 0) {
        search_results_free(&res);
        return srv_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "search failed: %s", e.msg);
    }
    char *body = search_results_json(q, &res);
    if (res.parse_json) body = splice(body, "parse", res.parse_json);
    char ms[32];
    snprintf(ms, sizeof ms, "%.2f", res.ms);
    body = splice(body, "ms", ms);
    search_results_free(&res);
    return srv_json(r, MHD_HTTP_OK, body);
}

/* GET /api/similar/{id}?k=N: the images nearest image id in embedding
 * space, as /api/search answers (query "similar:{id}"). */
enum MHD_Result api_similar(req *r, int64_t id)
{
    const char *k = srv_arg(r, "k");
    int kk = 20;
    if (k) {
        char *end;
        long v = strtol(k, &end, 10);
        if (*end || v < 1 || v > SRV_MAX_K)
            return srv_error(r, MHD_HTTP_BAD_REQUEST, "k must be a number from 1 to %d", SRV_MAX_K);
        kk = (int)v;
    }
    ierr e = {0};
    catalogue *c = srv_cat_get(r->s, &e);
    if (!c) return srv_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "catalogue unavailable: %s", e.msg);
    cat_image info;
    if (cat_image_info(c, id, &info, &e) != 0) {
        srv_cat_put(r->s, c);
        return srv_error(r, MHD_HTTP_NOT_FOUND, "no image %lld", (long long)id);
    }
    search_results res;
    while (sem_wait(&r->s->searches) != 0) {
    }
    int rc = similar_run(cat_db(c), id, kk, &res, &e);
    sem_post(&r->s->searches);
    srv_cat_put(r->s, c);
    if (rc != 0) {
        search_results_free(&res);
        return srv_error(r, MHD_HTTP_CONFLICT, "%s", e.msg);
    }
    char label[64];
    snprintf(label, sizeof label, "similar:%lld", (long long)id);
    char *body = search_results_json(label, &res);
    char ms[32];
    snprintf(ms, sizeof ms, "%.2f", res.ms);
    body = splice(body, "ms", ms);
    search_results_free(&res);
    return srv_json(r, MHD_HTTP_OK, body);
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

enum MHD_Result api_image(req *r, int64_t id)
{
    ierr e = {0};
    catalogue *c = srv_cat_get(r->s, &e);
    if (!c) return srv_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "catalogue unavailable: %s", e.msg);
    cat_image *info = xmalloc(sizeof *info);
    if (cat_image_info(c, id, info, &e) != 0) {
        srv_cat_put(r->s, c);
        free(info);
        return srv_error(r, MHD_HTTP_NOT_FOUND, "no image with id %lld", (long long)id);
    }
    description ds;
    memset(&ds, 0, sizeof ds);
    int rc = cat_get(c, id, &ds, &e);
    srv_cat_put(r->s, c);
    if (rc != 0) {
        free(info);
        description_free(&ds);
        return srv_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read the description: %s", e.msg);
    }
    char *dj = description_to_json(&ds);
    description_free(&ds);

    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)id);
    cJSON_AddStringToObject(o, "path", info->path);
    cJSON_AddStringToObject(o, "name", base_name(info->path));
    cJSON_AddNumberToObject(o, "width", info->width);
    cJSON_AddNumberToObject(o, "height", info->height);
    cJSON_AddStringToObject(o, "format", info->format);
    cJSON_AddNumberToObject(o, "size", (double)info->size);
    cJSON_AddStringToObject(o, "hash", info->hash);
    cJSON_AddStringToObject(o, "taken_at", info->taken_at);
    cJSON_AddStringToObject(o, "camera", info->camera);
    if (info->has_gps) {
        cJSON *g = cJSON_AddObjectToObject(o, "gps");
        cJSON_AddNumberToObject(g, "lat", info->lat);
        cJSON_AddNumberToObject(g, "lon", info->lon);
    } else {
        cJSON_AddNullToObject(o, "gps");
    }
    cJSON_AddStringToObject(o, "indexed_at", info->indexed_at);
    cJSON_AddStringToObject(o, "describer", info->describer);
    free(info);
    cJSON *d = dj ? cJSON_Parse(dj) : NULL;
    free(dj);
    if (d) cJSON_AddItemToObject(o, "description", d);
    else cJSON_AddNullToObject(o, "description");
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    char *body = xstrdup(s);
    cJSON_free(s);
    return srv_json(r, MHD_HTTP_OK, body);
}

static long long count(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    long long v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

enum MHD_Result api_stats(req *r)
{
    ierr e = {0};
    catalogue *c = srv_cat_get(r->s, &e);
    if (!c) return srv_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "catalogue unavailable: %s", e.msg);
    sqlite3 *db = cat_db(c);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "database", r->s->db);
    cJSON_AddNumberToObject(o, "images", (double)count(db, "SELECT count(*) FROM images"));
    cJSON_AddNumberToObject(o, "regions", (double)count(db, "SELECT count(*) FROM regions WHERE kind<>0"));
    cJSON_AddNumberToObject(o, "faces", (double)count(db, "SELECT count(*) FROM regions WHERE kind=2"));
    cJSON_AddNumberToObject(o, "ocr_words", (double)count(db, "SELECT count(*) FROM ocr_words"));
    cJSON_AddNumberToObject(o, "embeddings", (double)count(db, "SELECT count(*) FROM embeddings"));
    cJSON_AddNumberToObject(o, "errors", (double)count(db, "SELECT count(*) FROM errors"));
    cJSON_AddNumberToObject(o, "bytes", (double)count(db, "SELECT coalesce(sum(size),0) FROM images"));
    cJSON_AddNumberToObject(o, "schema_version", (double)count(db, "PRAGMA user_version"));
    sqlite3_stmt *st;
    cJSON *labels = cJSON_AddArrayToObject(o, "labels");
    if (sqlite3_prepare_v2(db, "SELECT label, count(*) AS n FROM regions WHERE kind<>0 GROUP BY label "
                               "ORDER BY n DESC, label LIMIT 20", -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            cJSON *l = cJSON_CreateObject();
            cJSON_AddStringToObject(l, "label", (const char *)sqlite3_column_text(st, 0));
            cJSON_AddNumberToObject(l, "count", sqlite3_column_int(st, 1));
            cJSON_AddItemToArray(labels, l);
        }
        sqlite3_finalize(st);
    }
    if (sqlite3_prepare_v2(db, "SELECT max(indexed_at) FROM images", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
            cJSON_AddStringToObject(o, "last_indexed", (const char *)sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    srv_cat_put(r->s, c);
    struct stat sb;
    if (stat(r->s->db, &sb) == 0) cJSON_AddNumberToObject(o, "db_bytes", (double)sb.st_size);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    char *body = xstrdup(s);
    cJSON_free(s);
    return srv_json(r, MHD_HTTP_OK, body);
}

enum MHD_Result api_health(req *r)
{
    ierr e = {0};
    catalogue *c = srv_cat_get(r->s, &e);
    if (!c) return srv_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "catalogue unavailable: %s", e.msg);
    long long n = count(cat_db(c), "SELECT count(*) FROM images");
    srv_cat_put(r->s, c);
    if (n < 0) return srv_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "catalogue cannot be read");
    char *body = xmalloc(128);
    snprintf(body, 128, "{\"status\":\"ok\",\"version\":\"%s\",\"images\":%lld}", IMGDEX_VERSION, n);
    return srv_json(r, MHD_HTTP_OK, body);
}

/* GET /api/duplicates[?near=1]: `imgdex duplicates --json`.  Reading every
 * fingerprint and pairing them is CPU work like a search: it takes a turn. */
enum MHD_Result api_duplicates(req *r)
{
    const char *nr = srv_arg(r, "near");
    int near = nr && strcmp(nr, "0") && strcmp(nr, "");
    ierr e = {0};
    catalogue *c = srv_cat_get(r->s, &e);
    if (!c) return srv_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "catalogue unavailable: %s", e.msg);
    while (sem_wait(&r->s->searches) != 0) {
    }
    dup_set ds;
    int rc = dups_find(c, near, &ds, &e);
    sem_post(&r->s->searches);
    srv_cat_put(r->s, c);
    if (rc != 0) return srv_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", e.msg);
    char *body = dups_to_json(&ds);
    dup_set_free(&ds);
    return srv_json(r, MHD_HTTP_OK, body);
}
