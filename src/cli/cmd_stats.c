/* cmd_stats.c — `imgdex stats [--json] [--errors] [--check]`: what the database holds. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "index/catalogue.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: imgdex [--db PATH] stats [--json] [--errors] [--check]\n\n"
        "What the database holds: images, regions by kind, text, embeddings,\n"
        "files that could not be indexed, the most common labels.\n\n"
        "options:\n"
        "  --json      machine-readable (schema in docs/catalogue.md)\n"
        "  --errors    list every file that could not be indexed, with the reason\n"
        "  --check     also run SQLite's integrity check (slow on big databases)\n");
}

static long long q1(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    long long v = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static const char *col(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return s ? (const char *)s : "";
}

int cmd_stats(int argc, char **argv, const char *db)
{
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    int json = 0, errors = 0, check = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--errors")) errors = 1;
        else if (!strcmp(argv[i], "--check")) check = 1;
        else {
            fprintf(stderr, "imgdex stats: unknown argument %s\n", argv[i]);
            usage(stderr);
            return 1;
        }
    }
    ierr e = {0};
    catalogue *c = cat_open(db, 1, &e);
    if (!c) {
        fprintf(stderr, "imgdex: %s\n", e.msg);
        return 2;
    }
    sqlite3 *d = cat_db(c);
    /* One snapshot for all the figures, even while an index runs. */
    sqlite3_exec(d, "BEGIN", NULL, NULL, NULL);

    static const struct { const char *key, *label, *sql; } counts[] = {
        {"images", "images", "SELECT count(*) FROM images"},
        {"objects", "objects", "SELECT count(*) FROM regions WHERE kind=1"},
        {"faces", "faces", "SELECT count(*) FROM regions WHERE kind=2"},
        {"text_regions", "text regions", "SELECT count(*) FROM regions WHERE kind=3"},
        {"relations", "relations", "SELECT count(*) FROM relations"},
        {"ocr_words", "OCR words", "SELECT count(*) FROM ocr_words"},
        {"embeddings", "embeddings", "SELECT count(*) FROM embeddings"},
        {"errors", "errors", "SELECT count(*) FROM errors"},
        {"bytes_indexed", "image bytes", "SELECT coalesce(sum(size),0) FROM images"},
    };
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "database", db);
    cJSON_AddNumberToObject(root, "schema", cat_schema_version());
    struct stat sb;
    long long dbbytes = stat(db, &sb) == 0 ? (long long)sb.st_size : 0;
    cJSON_AddNumberToObject(root, "db_bytes", (double)dbbytes);
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        cJSON_AddNumberToObject(root, counts[i].key, (double)q1(d, counts[i].sql));

    sqlite3_stmt *st;
    cJSON *last = NULL;
    if (sqlite3_prepare_v2(d, "SELECT max(indexed_at) FROM images", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
            last = cJSON_CreateString(col(st, 0));
        sqlite3_finalize(st);
    }
    cJSON_AddItemToObject(root, "last_indexed", last ? last : cJSON_CreateNull());

    cJSON *desc = cJSON_AddArrayToObject(root, "describers");
    if (sqlite3_prepare_v2(d, "SELECT describer, count(*) FROM images GROUP BY describer ORDER BY 2 DESC",
                           -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "version", col(st, 0));
            cJSON_AddNumberToObject(o, "images", sqlite3_column_int64(st, 1));
            cJSON_AddItemToArray(desc, o);
        }
        sqlite3_finalize(st);
    }
    cJSON *labels = cJSON_AddArrayToObject(root, "labels");
    if (sqlite3_prepare_v2(d, "SELECT label, count(DISTINCT image_id) FROM regions WHERE kind IN (1,2)"
                              " GROUP BY label ORDER BY 2 DESC, 1 LIMIT 20", -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "label", col(st, 0));
            cJSON_AddNumberToObject(o, "images", sqlite3_column_int64(st, 1));
            cJSON_AddItemToArray(labels, o);
        }
        sqlite3_finalize(st);
    }
    if (errors) {
        cJSON *el = cJSON_AddArrayToObject(root, "error_list");
        if (sqlite3_prepare_v2(d, "SELECT path, reason, at FROM errors ORDER BY path", -1, &st, NULL) ==
            SQLITE_OK) {
            while (sqlite3_step(st) == SQLITE_ROW) {
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "path", col(st, 0));
                cJSON_AddStringToObject(o, "reason", col(st, 1));
                cJSON_AddStringToObject(o, "at", col(st, 2));
                cJSON_AddItemToArray(el, o);
            }
            sqlite3_finalize(st);
        }
    }
    int bad = 0;
    if (check) {
        char result[256] = "";
        if (sqlite3_prepare_v2(d, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK) {
            if (sqlite3_step(st) == SQLITE_ROW) snprintf(result, sizeof result, "%s", col(st, 0));
            sqlite3_finalize(st);
        }
        bad = strcmp(result, "ok") != 0;
        cJSON_AddStringToObject(root, "integrity", result[0] ? result : "cannot run");
    }
    sqlite3_exec(d, "COMMIT", NULL, NULL, NULL);
    cat_close(c);

    if (json) {
        char *s = json_utf8_fix(cJSON_PrintUnformatted(root));   /* error paths may be any bytes */
        printf("%s\n", s);
        free(s);
    } else {
        printf("database      %s (schema %d, %.1f MB)\n", db, cat_schema_version(), dbbytes / 1e6);
        for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
            printf("%-13s %.0f\n", counts[i].label,
                   cJSON_GetObjectItem(root, counts[i].key)->valuedouble);
        printf("last indexed  %s\n", last ? last->valuestring : "never");
        cJSON *it;
        cJSON_ArrayForEach(it, desc)
            printf("describer     %s (%.0f images)\n", cJSON_GetObjectItem(it, "version")->valuestring,
                   cJSON_GetObjectItem(it, "images")->valuedouble);
        if (cJSON_GetArraySize(labels) > 0) {
            printf("labels       ");
            cJSON_ArrayForEach(it, labels)
                printf(" %s:%.0f", cJSON_GetObjectItem(it, "label")->valuestring,
                       cJSON_GetObjectItem(it, "images")->valuedouble);
            printf("\n");
        }
        if (check) printf("integrity     %s\n", cJSON_GetObjectItem(root, "integrity")->valuestring);
        cJSON *el = cJSON_GetObjectItem(root, "error_list");
        cJSON_ArrayForEach(it, el)
            printf("error         %s\t%s\n", cJSON_GetObjectItem(it, "path")->valuestring,
                   cJSON_GetObjectItem(it, "reason")->valuestring);
    }
    cJSON_Delete(root);
    return bad ? 2 : 0;
}
