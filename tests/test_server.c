/* test_server.c — the HTTP API against a server started on a free loopback
 * port in this process: routes, JSON errors and statuses, thumbnails with
 * their cache and ETag, originals by id only (../ and encoded variants),
 * bounded requests, no CORS, Host check, concurrency while indexing. */
#include "test.h"

#include <pthread.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "query/query.h"
#include "test_server_util.h"

static char dir[512], db[1024], cache[1024], base[128];
static int nimages;
static server *srv;

static cJSON *json_of(const http_res *r) { return cJSON_Parse(r->body); }

/* The first result whose path ends with `name`, or NULL. */
static const cJSON *result_named(const cJSON *j, const char *name)
{
    const cJSON *h;
    cJSON_ArrayForEach(h, cJSON_GetObjectItem(j, "results")) {
        const char *p = cJSON_GetStringValue(cJSON_GetObjectItem(h, "path"));
        size_t lp = p ? strlen(p) : 0, ln = strlen(name);
        if (lp >= ln && !strcmp(p + lp - ln, name) && p[lp - ln - 1] == '/') return h;
    }
    return NULL;
}

static int64_t id_of(const char *name)
{
    char path[1400];
    snprintf(path, sizeof path, "%s/photos/%s", dir, name);
    ierr e = {0};
    catalogue *c = cat_open(db, 1, &e);
    int64_t id = c ? cat_lookup(c, path) : 0;
    cat_close(c);
    return id;
}

TEST(health_and_stats)
{
    http_res r;
    CHECK_EQ_INT(http(base, "/api/health", NULL, NULL, NULL, &r), 200);
    CHECK(strstr(http_header(&r, "Content-Type"), "application/json"));
    cJSON *j = json_of(&r);
    free(r.body);
    CHECK(j && !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(j, "status")), "ok"));
    CHECK_EQ_INT(cJSON_GetObjectItem(j, "images")->valueint, nimages);
    cJSON_Delete(j);
    CHECK_EQ_INT(http(base, "/api/stats", NULL, NULL, NULL, &r), 200);
    j = json_of(&r);
    free(r.body);
    CHECK(j);
    CHECK_EQ_INT(cJSON_GetObjectItem(j, "images")->valueint, nimages);
    CHECK(cJSON_GetObjectItem(j, "regions")->valueint >= nimages);
    CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(j, "labels")) > 0);
    cJSON_Delete(j);
}

TEST(search_is_the_cli_json_with_why)
{
    http_res r;
    CHECK_EQ_INT(http(base, "/api/search?q=a+dog&k=10", NULL, NULL, NULL, &r), 200);
    cJSON *j = json_of(&r);
    free(r.body);
    CHECK(j);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "query")), "a dog");
    const cJSON *res = cJSON_GetObjectItem(j, "results");
    CHECK(cJSON_GetArraySize(res) >= 2);
    const cJSON *h0 = cJSON_GetArrayItem(res, 0);
    CHECK(cJSON_GetObjectItem(h0, "rank") && cJSON_GetObjectItem(h0, "id") && cJSON_GetObjectItem(h0, "path") &&
          cJSON_GetObjectItem(h0, "score") && cJSON_IsObject(cJSON_GetObjectItem(h0, "why")));
    /* the injected name comes back as plain JSON string data */
    CHECK(result_named(j, XSS_NAME) != NULL);
    /* same ranking as the library call `imgdex search --json` makes */
    ierr e = {0};
    catalogue *c = cat_open(db, 1, &e);
    search_results sr;
    search_opts o = {.k = 10};
    CHECK(c && search_run(cat_db(c), "a dog", &o, &sr, &e) == 0);
    int same = sr.n == cJSON_GetArraySize(res);
    for (int i = 0; same && i < sr.n; i++)
        same = (int64_t)cJSON_GetObjectItem(cJSON_GetArrayItem(res, i), "id")->valuedouble == sr.hits[i].id;
    search_results_free(&sr);
    cat_close(c);
    cJSON_Delete(j);
    CHECK(same);
    /* percent-encoded UTF-8 and quotes survive the trip */
    CHECK_EQ_INT(http(base, "/api/search?q=%22STOP%22%20caf%C3%A9", NULL, NULL, NULL, &r), 200);
    j = json_of(&r);
    free(r.body);
    CHECK(j);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "query")), "\"STOP\" caf\xc3\xa9");
    cJSON_Delete(j);
}

TEST(errors_are_json_with_fitting_status)
{
    static const struct { const char *path, *method; long status; } cases[] = {
        {"/api/search", NULL, 400},                 /* no q */
        {"/api/search?q=", NULL, 400},
        {"/api/search?q=dog&k=0", NULL, 400},
        {"/api/search?q=dog&k=abc", NULL, 400},
        {"/api/search?q=dog&k=100000", NULL, 400},
        {"/api/images/999999", NULL, 404},
        {"/api/images/abc", NULL, 400},
        {"/thumb/999999", NULL, 404},
        {"/file/999999", NULL, 404},
        {"/api/nothing", NULL, 404},
        {"/nothing.html", NULL, 404},
        {"/api/search?q=dog", "POST", 405},
        {"/api/search?q=dog", "DELETE", 405},
        {"/", "OPTIONS", 405},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        http_res r;
        long st = http(base, cases[i].path, cases[i].method, NULL, NULL, &r);
        cJSON *j = json_of(&r);
        int ok = st == cases[i].status && j && cJSON_IsString(cJSON_GetObjectItem(j, "error")) &&
                 cJSON_GetObjectItem(j, "status")->valueint == cases[i].status &&
                 strstr(http_header(&r, "Content-Type"), "application/json");
        if (cases[i].status == 405) ok = ok && strstr(http_header(&r, "Allow"), "GET");
        cJSON_Delete(j);
        free(r.body);
        CHECKF(ok, "%s %s: status %ld, expected %ld", cases[i].method ? cases[i].method : "GET", cases[i].path, st,
               cases[i].status);
    }
    /* a parse error names the column, for the page to point at */
    http_res r;
    CHECK_EQ_INT(http(base, "/api/search?q=two+red", NULL, NULL, NULL, &r), 400);
    cJSON *j = json_of(&r);
    free(r.body);
    CHECK(j && strstr(cJSON_GetStringValue(cJSON_GetObjectItem(j, "error")), "column"));
    CHECK(cJSON_GetObjectItem(j, "column")->valueint == 8);
    cJSON_Delete(j);
}

TEST(requests_are_bounded)
{
    char path[8000];
    int n = snprintf(path, sizeof path, "/api/search?q=");
    for (int i = 0; i < 130; i++) n += snprintf(path + n, sizeof path - (size_t)n, "dog+");
    http_res r;
    CHECK_EQ_INT(http(base, path, NULL, NULL, NULL, &r), 414);   /* 520 characters, over the 500 limit */
    free(r.body);
    /* headers beyond the connection's memory limit are refused by the server, not buffered */
    char *big = malloc(48000);
    memcpy(big, "X-Big: ", 7);
    memset(big + 7, 'a', 47990);
    big[47997] = 0;
    long st = http(base, "/api/health", NULL, big, NULL, &r);
    free(big);
    free(r.body);
    CHECKF(st == 431 || st == 413 || st == 400 || st == 0, "oversized header got %ld", st);
    /* and the server is still fine */
    CHECK_EQ_INT(http(base, "/api/health", NULL, NULL, NULL, &r), 200);
    free(r.body);
}

TEST(image_description)
{
    int64_t id = id_of("dog.jpg");
    if (!id) SKIP("darknet sample photos not installed");
    char path[64];
    snprintf(path, sizeof path, "/api/images/%lld", (long long)id);
    http_res r;
    CHECK_EQ_INT(http(base, path, NULL, NULL, NULL, &r), 200);
    cJSON *j = json_of(&r);
    free(r.body);
    CHECK(j);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "name")), "dog.jpg");
    CHECK_EQ_INT(cJSON_GetObjectItem(j, "width")->valueint, 768);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "camera")), "Canon EOS 5D");
    const cJSON *regs = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "description"), "regions");
    CHECK_EQ_INT(cJSON_GetArraySize(regs), 4);   /* whole image + bicycle, dog, truck */
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(regs, 2), "label")), "dog");
    cJSON_Delete(j);
}

/* /api/similar/{id}: joint-model vectors put in by hand (4 dimensions): the
 * horses and the person are near each other, the giraffe far from both. */
TEST(similar_images_api)
{
    int64_t horses = id_of("horses.jpg"), person = id_of("person.jpg"), giraffe = id_of("giraffe.jpg");
    int64_t eagle = id_of("eagle.jpg");
    if (!horses || !person || !giraffe || !eagle) SKIP("darknet sample photos not installed");
    ierr e = {0};
    catalogue *c = cat_open(db, 0, &e);
    CHECK(c);
    if (!c) return;
    static const float v[3][4] = {{0.9f, 0.3f, 0.1f, 0.3f}, {0.85f, 0.35f, 0.2f, 0.33f}, {0.0f, 0.1f, 0.99f, 0.0f}};
    int64_t ids[3] = {horses, person, giraffe};
    sqlite3_stmt *st;
    CHECK(sqlite3_prepare_v2(cat_db(c), "INSERT OR REPLACE INTO embeddings(image_id, region_idx, model, dim, vec)"
                             " VALUES(?1, -1, 'fx-joint@00000000', 4, ?2)", -1, &st, NULL) == SQLITE_OK);
    for (int i = 0; i < 3; i++) {
        unsigned char b[CAT_VEC_I8_BYTES(4)];
        cat_vec_encode_i8(v[i], 4, b);
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, ids[i]);
        sqlite3_bind_blob(st, 2, b, (int)sizeof b, SQLITE_TRANSIENT);
        CHECK(sqlite3_step(st) == SQLITE_DONE);
    }
    sqlite3_finalize(st);
    cat_close(c);
    char path[64];
    snprintf(path, sizeof path, "/api/similar/%lld?k=2", (long long)horses);
    http_res r;
    CHECK_EQ_INT(http(base, path, NULL, NULL, NULL, &r), 200);
    cJSON *j = json_of(&r);
    free(r.body);
    const cJSON *res = cJSON_GetObjectItem(j, "results");
    CHECK_EQ_INT(cJSON_GetArraySize(res), 2);
    CHECK_EQ_INT((long long)cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(res, 0), "id")), horses);
    CHECK_EQ_INT((long long)cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetArrayItem(res, 1), "id")), person);
    const cJSON *why = cJSON_GetObjectItem(cJSON_GetArrayItem(res, 1), "why");
    CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(why, "embedding"), "cosine")) > 0.95);
    cJSON_Delete(j);
    snprintf(path, sizeof path, "/api/similar/%lld", (long long)eagle);
    CHECK_EQ_INT(http(base, path, NULL, NULL, NULL, &r), 409);   /* no embedding */
    free(r.body);
    CHECK_EQ_INT(http(base, "/api/similar/99999", NULL, NULL, NULL, &r), 404);
    free(r.body);
    CHECK_EQ_INT(http(base, "/api/similar/abc", NULL, NULL, NULL, &r), 400);
    free(r.body);
}

TEST(thumbnails_are_cached_with_etag)
{
    int64_t id = id_of(XSS_NAME);
    CHECK(id > 0);
    char path[64];
    snprintf(path, sizeof path, "/thumb/%lld?size=200", (long long)id);
    http_res r;
    CHECK_EQ_INT(http(base, path, NULL, NULL, NULL, &r), 200);
    CHECK_STR(http_header(&r, "Content-Type"), "image/jpeg");
    char etag[128];
    snprintf(etag, sizeof etag, "%s", http_header(&r, "ETag"));
    CHECK(etag[0] == '"');
    img im;
    ierr e = {0};
    int rc = img_load_mem(r.body, r.len, "thumb", NULL, &im, NULL, &e);
    free(r.body);
    CHECKF(rc == 0, "%s", e.msg);
    int w = im.w, h = im.h;
    img_free(&im);
    CHECKF(w == 256 && h == 192, "thumbnail %dx%d", w, h);   /* 320x240 fitted in the 256 size */
    /* cached on disk under the cache directory */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -q -- '-256.jpg$'", cache);
    CHECK(system(cmd) == 0);
    /* revalidation */
    char inm[200];
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    CHECK_EQ_INT(http(base, path, NULL, inm, NULL, &r), 304);
    CHECK(r.len == 0);
    free(r.body);
    /* a size bigger than allowed is capped, smaller snaps up */
    snprintf(path, sizeof path, "/thumb/%lld?size=99999", (long long)id);
    CHECK_EQ_INT(http(base, path, NULL, NULL, NULL, &r), 200);
    rc = img_load_mem(r.body, r.len, "thumb", NULL, &im, NULL, &e);
    free(r.body);
    CHECK(rc == 0 && im.w == 320);   /* never upscaled past the original */
    img_free(&im);
}

TEST(original_file_by_id)
{
    int64_t id = id_of(XSS_NAME);
    CHECK(id > 0);
    char path[64], file[1400];
    snprintf(path, sizeof path, "/file/%lld", (long long)id);
    snprintf(file, sizeof file, "%s/photos/%s", dir, XSS_NAME);
    http_res r;
    CHECK_EQ_INT(http(base, path, NULL, NULL, NULL, &r), 200);
    CHECK_STR(http_header(&r, "Content-Type"), "image/jpeg");
    size_t n;
    ierr e = {0};
    unsigned char *d = file_read_all(file, &n, &e);
    int same = d && n == r.len && !memcmp(d, r.body, n);
    free(d);
    free(r.body);
    CHECK(same);
    CHECK_EQ_INT(http(base, path, "HEAD", NULL, NULL, &r), 200);
    free(r.body);
}

TEST(no_path_traversal)
{
    static const char *paths[] = {
        "/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2f..%2fetc%2fpasswd",
        "/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/.%2e/.%2e/etc/passwd", "/..%5c..%5cetc%5cpasswd",
        "/file/../../../../etc/passwd", "/file/%2e%2e/%2e%2e/etc/passwd", "/file/..%2f..%2fetc%2fpasswd",
        "/file/1/../../../../etc/passwd", "/file/%2Fetc%2Fpasswd", "/thumb/..%2F..%2Fetc%2Fpasswd",
        "/thumb/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/api/images/..%2f..%2fetc%2fpasswd", "/file/1%00.jpg",
        "/file/-1", "/file/0x1", "/file/1.0", "/file/%201", "/file/1%20", "/%2e%2e%2fMakefile", "/index.html/../../Makefile",
        "/..", "/.", "/.hidden.html", "/app.js%00.html", "//etc/passwd", "/etc%2fpasswd",
        "/file/%252e%252e%252fetc%252fpasswd",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        http_res r;
        long st = http(base, paths[i], NULL, NULL, NULL, &r);
        int leaked = r.body && (strstr(r.body, "root:") || strstr(r.body, "BUILD"));
        free(r.body);
        CHECKF(!leaked && (st == 400 || st == 404), "%s: status %ld%s", paths[i], st, leaked ? " and leaked" : "");
    }
}

TEST(no_cors_and_host_check_and_headers)
{
    http_res r;
    CHECK_EQ_INT(http(base, "/api/health", NULL, "Origin: http://evil.example", NULL, &r), 200);
    CHECK(!strcasestr(r.headers, "Access-Control-Allow"));
    free(r.body);
    /* DNS rebinding: another name pointing at us is turned away */
    CHECK_EQ_INT(http(base, "/api/health", NULL, "Host: evil.example", NULL, &r), 403);
    free(r.body);
    char host[64];
    snprintf(host, sizeof host, "Host: localhost:%d", server_port(srv));
    CHECK_EQ_INT(http(base, "/api/health", NULL, host, NULL, &r), 200);
    free(r.body);
    /* the page: security headers on */
    CHECK_EQ_INT(http(base, "/", NULL, NULL, NULL, &r), 200);
    CHECK(strstr(http_header(&r, "Content-Type"), "text/html"));
    CHECK(strstr(http_header(&r, "Content-Security-Policy"), "script-src 'self'"));
    CHECK_STR(http_header(&r, "X-Content-Type-Options"), "nosniff");
    CHECK(strstr(r.body, "/app.js"));
    free(r.body);
    CHECK_EQ_INT(http(base, "/app.js", NULL, NULL, NULL, &r), 200);
    CHECK(strstr(http_header(&r, "Content-Type"), "javascript"));
    free(r.body);
}

TEST(binds_loopback_by_default)
{
    FILE *f = fopen("/proc/net/tcp", "r");
    if (!f) SKIP("no /proc/net/tcp");
    char line[512], want[32];
    snprintf(want, sizeof want, "0100007F:%04X", server_port(srv));
    int found = 0, any = 0;
    char anyaddr[32];
    snprintf(anyaddr, sizeof anyaddr, "00000000:%04X", server_port(srv));
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, want) && strstr(line, " 0A ")) found = 1;
        if (strstr(line, anyaddr) && strstr(line, " 0A ")) any = 1;
    }
    fclose(f);
    CHECK(found && !any);
}

/* ---- concurrency while a writer indexes ------------------------------- */

static volatile int writing;
static int client_fail;
static char client_why[256];

static void *writer(void *arg)
{
    (void)arg;
    ierr e = {0};
    catalogue *c = cat_open(db, 0, &e);
    char src[1400], dst[1400];
    snprintf(src, sizeof src, "%s/photos/%s", dir, XSS_NAME);
    for (int i = 0; i < 40 && c; i++) {
        snprintf(dst, sizeof dst, "%s/photos/copy%02d.jpg", dir, i);
        fx_copy(src, dst);
        fx_put(c, dst, "cat 0.8 0.1 0.1 0.5 0.5 grey:0.5", "a cat", NULL, NULL);
    }
    cat_close(c);
    writing = 0;
    return NULL;
}

static void *client(void *arg)
{
    static const char *paths[] = {"/api/search?q=a+dog+to+the+left+of+a+bicycle", "/api/search?q=a+cat",
                                  "/api/stats", "/api/health", "/api/search?q=horses+without+people"};
    int k = (int)(intptr_t)arg;
    while (writing) {
        http_res r;
        long st = http(base, paths[k++ % 5], NULL, NULL, NULL, &r);
        if (st != 200 && !client_fail) {
            client_fail = 1;
            snprintf(client_why, sizeof client_why, "%s -> %ld %.100s", paths[(k - 1) % 5], st, r.body);
        }
        free(r.body);
    }
    return NULL;
}

TEST(concurrent_requests_while_indexing)
{
    writing = 1;
    pthread_t w, cl[4];
    pthread_create(&w, NULL, writer, NULL);
    for (int i = 0; i < 4; i++) pthread_create(&cl[i], NULL, client, (void *)(intptr_t)i);
    pthread_join(w, NULL);
    for (int i = 0; i < 4; i++) pthread_join(cl[i], NULL);
    CHECKF(!client_fail, "%s", client_why);
    http_res r;
    CHECK_EQ_INT(http(base, "/api/search?q=a+cat&k=100", NULL, NULL, NULL, &r), 200);
    cJSON *j = json_of(&r);
    free(r.body);
    CHECK(j);
    int n = cJSON_GetArraySize(cJSON_GetObjectItem(j, "results"));
    cJSON_Delete(j);
    CHECK_EQ_INT(n, 40);
}

int main(void)
{
    snprintf(dir, sizeof dir, "%s", test_tmpdir("server"));
    nimages = fx_build(dir, db, sizeof db);
    if (nimages < 1) {
        printf("FAIL fixture: cannot build the test catalogue\n");
        return 1;
    }
    snprintf(cache, sizeof cache, "%s/thumbs", dir);
    char web[1024];
    snprintf(web, sizeof web, "%s/web", test_srcdir());
    curl_global_init(CURL_GLOBAL_DEFAULT);
    server_opts o = {.host = "127.0.0.1", .port = 0, .db_path = db, .web_dir = web, .cache_dir = cache};
    ierr e = {0};
    srv = server_start(&o, &e);
    if (!srv) {
        printf("FAIL server_start: %s\n", e.msg);
        return 1;
    }
    snprintf(base, sizeof base, "http://127.0.0.1:%d", server_port(srv));
    RUN(health_and_stats);
    RUN(search_is_the_cli_json_with_why);
    RUN(errors_are_json_with_fitting_status);
    RUN(requests_are_bounded);
    RUN(image_description);
    RUN(thumbnails_are_cached_with_etag);
    RUN(original_file_by_id);
    RUN(no_path_traversal);
    RUN(no_cors_and_host_check_and_headers);
    RUN(binds_loopback_by_default);
    RUN(concurrent_requests_while_indexing);
    RUN(similar_images_api);
    server_stop(srv);
    curl_global_cleanup();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) return 2;
    return test_summary();
}
