/* bench_server.c — requests/s and p99 latency of GET /api/search on a
 * 10,000-image catalogue, measured with `wrk` (Debian) on loopback against
 * the server running in this process, next to two peers measured in the
 * same run on the same catalogue:
 *   - the same queries answered in-process by search_run on one thread
 *     (what HTTP, JSON and the connection threads add or gain), and
 *   - wrk against /api/health (the HTTP floor of this server).
 * The catalogue is synthetic with the statistics of real photos
 * (bench/gen_catalogue.h, the query benchmark's generator).
 *   IMGDEX_BENCH_SECONDS=10   wrk duration per run (bounded: at most 60)
 *   IMGDEX_BENCH_IMAGES=10000
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gen_catalogue.h"
#include "query/query.h"
#include "server/server.h"

static const char *QUERIES[] = {
    "a dog to the left of a bicycle", "two people next to a horse", "a red car",
    "horses without people", "a person in the centre", "\"stop\"", "three sheep", "a cat on a couch",
};
#define NQ (int)(sizeof QUERIES / sizeof QUERIES[0])

static void urlenc(const char *s, char *out, size_t n)
{
    size_t k = 0;
    for (; *s && k + 4 < n; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) out[k++] = (char)c;
        else k += (size_t)snprintf(out + k, n - k, "%%%02X", c);
    }
    out[k] = 0;
}

typedef struct wrk_res { double rps, p50_ms, p99_ms; long requests, bad; } wrk_res;

static double to_ms(const char *v)
{
    double x = atof(v);
    if (strstr(v, "us")) return x / 1000;
    if (strstr(v, "ms")) return x;
    if (strstr(v, "s")) return x * 1000;
    return x;
}

static int conns = 8;

static int run_wrk(const char *url, const char *script, int seconds, wrk_res *r)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "wrk -t2 -c%d -d%ds --timeout 10s --latency %s%s%s '%s' 2>&1", conns, seconds,
             script ? "-s '" : "", script ? script : "", script ? "'" : "", url);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    memset(r, 0, sizeof *r);
    char line[512], v[64];
    long n;
    while (fgets(line, sizeof line, p)) {
        if (sscanf(line, " 50%% %63s", v) == 1) r->p50_ms = to_ms(v);
        if (sscanf(line, " 99%% %63s", v) == 1) r->p99_ms = to_ms(v);
        if (sscanf(line, "Requests/sec: %lf", &r->rps) == 1) continue;
        if (sscanf(line, " %ld requests in", &n) == 1) r->requests = n;
        if (sscanf(line, " Non-2xx or 3xx responses: %ld", &n) == 1) r->bad += n;
        if (strstr(line, "Socket errors")) {
            long a = 0, b = 0, c = 0, d = 0;
            if (sscanf(line, " Socket errors: connect %ld, read %ld, write %ld, timeout %ld", &a, &b, &c, &d) == 4)
                r->bad += a + b + c + d;
        }
    }
    return pclose(p) == 0 && r->requests > 0 ? 0 : -1;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(void)
{
    (void)gen_replicate;   /* the generator header's other entry point, unused here */
    if (system("wrk --version >/dev/null 2>&1; command -v wrk >/dev/null") != 0) {
        printf("SKIP bench_server: wrk not installed (Debian package wrk)\n");
        return 0;
    }
    int secs = getenv("IMGDEX_BENCH_SECONDS") ? atoi(getenv("IMGDEX_BENCH_SECONDS")) : 10;
    if (secs < 1) secs = 1;
    if (secs > 60) secs = 60;
    if (getenv("IMGDEX_BENCH_CONNS")) conns = atoi(getenv("IMGDEX_BENCH_CONNS")) > 0 ? atoi(getenv("IMGDEX_BENCH_CONNS")) : 8;
    long nimg = getenv("IMGDEX_BENCH_IMAGES") ? atol(getenv("IMGDEX_BENCH_IMAGES")) : 10000;
    char dir[] = "/tmp/imgdex-bench-server-XXXXXX";
    if (!mkdtemp(dir)) return 2;
    char db[256], cache[256], lua[256];
    snprintf(db, sizeof db, "%s/cat.db", dir);
    snprintf(cache, sizeof cache, "%s/thumbs", dir);
    snprintf(lua, sizeof lua, "%s/queries.lua", dir);
    gen_stats gs;
    memset(&gs, 0, sizeof gs);
    ierr e = {0};
    /* IMGDEX_BENCH_DB=path reuses a catalogue (kept, not deleted) */
    const char *reuse = getenv("IMGDEX_BENCH_DB");
    if (reuse) {
        snprintf(db, sizeof db, "%s", reuse);
        gs.images = nimg, gs.regions = 0, gs.seconds = 0;
    } else if (gen_catalogue(db, nimg, 42, &gs, &e) != 0) {
        fprintf(stderr, "bench_server: %s\n", e.msg);
        return 2;
    }
    printf("catalogue: %ld images, %.1f regions per image (generated in %.1f s)\n", gs.images,
           (double)gs.regions / (double)gs.images, gs.seconds);

    /* peer 1: the same queries in-process, one thread, for about `secs` */
    catalogue *c = cat_open(db, 1, &e);
    if (!c) {
        fprintf(stderr, "bench_server: %s\n", e.msg);
        return 2;
    }
    size_t cap = 1 << 16, nlat = 0;
    double *lat = xmalloc(sizeof(double) * cap), t0 = now_seconds();
    search_opts so = {.k = 20};
    while (now_seconds() - t0 < secs && nlat < cap) {
        search_results r;
        double t = now_seconds();
        if (search_run(cat_db(c), QUERIES[nlat % NQ], &so, &r, &e) != 0) {
            fprintf(stderr, "bench_server: %s\n", e.msg);
            return 2;
        }
        char *j = search_results_json(QUERIES[nlat % NQ], &r);   /* the same JSON the server sends */
        free(j);
        search_results_free(&r);
        lat[nlat++] = (now_seconds() - t) * 1e3;
    }
    double inproc_s = now_seconds() - t0;
    cat_close(c);
    qsort(lat, nlat, sizeof *lat, cmp_d);
    double in_qps = (double)nlat / inproc_s, in_p99 = lat[(size_t)((double)(nlat - 1) * 0.99)];
    free(lat);

    server_opts o = {.host = "127.0.0.1", .port = 0, .db_path = db, .cache_dir = cache};
    server *s = server_start(&o, &e);
    if (!s) {
        fprintf(stderr, "bench_server: %s\n", e.msg);
        return 2;
    }
    FILE *f = fopen(lua, "w");
    fprintf(f, "local paths = {\n");
    for (int i = 0; i < NQ; i++) {
        char q[256];
        urlenc(QUERIES[i], q, sizeof q);
        fprintf(f, "  \"/api/search?k=20&q=%s\",\n", q);
    }
    fprintf(f, "}\nlocal i = 0\nrequest = function()\n  i = i + 1\n"
               "  return wrk.format(\"GET\", paths[(i %% #paths) + 1])\nend\n");
    fclose(f);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", server_port(s));
    wrk_res ws, wh;
    int rc1 = run_wrk(url, lua, secs, &ws);
    char hurl[160];
    snprintf(hurl, sizeof hurl, "%s/api/health", url);
    int rc2 = run_wrk(hurl, NULL, secs < 5 ? secs : 5, &wh);
    server_stop(s);
    if (rc1 != 0 || rc2 != 0) {
        printf("bench_server: wrk failed\n");
        return 1;
    }
    printf("/api/search  (%d queries, k=20, wrk -t2 -c%d %ds): %8.1f req/s  p50 %6.2f ms  p99 %6.2f ms  "
           "(%ld requests, %ld errors)\n", NQ, conns, secs, ws.rps, ws.p50_ms, ws.p99_ms, ws.requests, ws.bad);
    printf("in-process search_run + JSON, 1 thread:              %8.1f q/s              p99 %6.2f ms\n", in_qps,
           in_p99);
    printf("/api/health  (HTTP floor):                           %8.1f req/s  p50 %6.2f ms  p99 %6.2f ms\n",
           wh.rps, wh.p50_ms, wh.p99_ms);
    printf("ratio: HTTP search / in-process 1-thread search = %.2fx ; search / health = %.3f\n", ws.rps / in_qps,
           ws.rps / wh.rps);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 && ws.bad == 0 ? 0 : 1;
}
