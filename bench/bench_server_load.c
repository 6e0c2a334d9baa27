/* bench_server_load.c — the server under hostile load (issue 14's targets),
 * on 127.0.0.1 only, bounded in count and time:
 *   1. peak RSS while 10 thumbnails of distinct 100 MP PNGs are asked for at
 *      once, with the default 512 MiB decode budget, next to the peer: the
 *      same requests with the budget lifted (the old, unbounded behaviour).
 *      Each variant runs in its own child process, whose ru_maxrss is read.
 *   2. the slowest of 20 GET /api/health while 300 slow clients hold
 *      connections (each sends one header line every 2 s), next to the
 *      same 20 requests on an idle server.
 *   IMGDEX_BENCH_MP=100   megapixels per image (10000x10000)
 *   IMGDEX_BENCH_SLOW=300 slow clients
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image/image.h"
#include "index/catalogue.h"
#include "server/server.h"

static char dir[512], db[700];
static int port;

static size_t sink(char *p, size_t sz, size_t n, void *u) { (void)p, (void)u; return sz * n; }

static long get(const char *path)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    CURL *c = curl_easy_init();
    long st = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    curl_easy_cleanup(c);
    return st;
}

static void *thumb(void *arg)
{
    char p[64];
    snprintf(p, sizeof p, "/thumb/%ld?size=256", (long)(intptr_t)arg);
    if (get(p) != 200) fprintf(stderr, "thumbnail %s failed\n", p);
    return NULL;
}

/* Child: serve with this budget, ask for n thumbnails at once; its peak RSS in MB. */
static double thumbs_rss(long long budget, int n, int64_t *ids, const char *cache)
{
    pid_t pid = fork();
    if (pid == 0) {
        server_opts o = {.host = "127.0.0.1", .db_path = db, .cache_dir = cache, .thumb_memory = budget};
        ierr e = {0};
        server *s = server_start(&o, &e);
        if (!s) _exit(2);
        port = server_port(s);
        pthread_t th[16];
        for (int i = 0; i < n; i++) pthread_create(&th[i], NULL, thumb, (void *)(intptr_t)ids[i]);
        for (int i = 0; i < n; i++) pthread_join(th[i], NULL);
        server_stop(s);
        _exit(0);
    }
    int status;
    struct rusage ru;
    wait4(pid, &status, 0, &ru);
    return ru.ru_maxrss / 1024.0;
}

static double health_max_ms(int n)
{
    double worst = 0;
    for (int i = 0; i < n; i++) {
        double t = now_seconds();
        if (get("/api/health") != 200) return -1;
        t = now_seconds() - t;
        if (t > worst) worst = t;
    }
    return worst * 1000;
}

static volatile int slow_stop;
static int *slow_fds, nslow;

static void *slow_feeder(void *arg)
{
    (void)arg;
    while (!slow_stop) {
        for (int i = 0; i < nslow; i++) send(slow_fds[i], "X-Slow: 1\r\n", 11, MSG_NOSIGNAL);
        for (int k = 0; k < 20 && !slow_stop; k++) usleep(100000);
    }
    return NULL;
}

int main(void)
{
    setenv("IMGDEX_QUIET", "1", 1);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    snprintf(dir, sizeof dir, "/tmp/imgdex-bench-load-%d", (int)getpid());
    mkdir(dir, 0755);
    snprintf(db, sizeof db, "%s/b.db", dir);
    int mp = getenv("IMGDEX_BENCH_MP") ? atoi(getenv("IMGDEX_BENCH_MP")) : 100;
    nslow = getenv("IMGDEX_BENCH_SLOW") ? atoi(getenv("IMGDEX_BENCH_SLOW")) : 300;
    if (mp < 1 || mp > 100) mp = 100;
    if (nslow < 1 || nslow > 2000) nslow = 300;
    int side = 1;
    while ((long long)(side + 1) * (side + 1) <= mp * 1000000LL) side++;

    /* 10 distinct side×side PNGs, written by Python's zlib (rows repeat: small files). */
    enum { N = 10 };
    int64_t ids[N];
    ierr e = {0};
    catalogue *c = cat_open(db, 0, &e);
    if (!c) return fprintf(stderr, "%s\n", e.msg), 2;
    for (int i = 0; i < N; i++) {
        char p[800], cmd[2000];
        snprintf(p, sizeof p, "%s/big%d.png", dir, i);
        snprintf(cmd, sizeof cmd,
                 "/usr/bin/python3 -c 'import struct,sys,zlib\n"
                 "w=h=%d\nrow=b\"\\0\"+bytes([%d,90,200])*w\nz=zlib.compressobj(9)\n"
                 "d=b\"\".join(z.compress(row) for _ in range(h))+z.flush()\n"
                 "ch=lambda t,b: struct.pack(\">I\",len(b))+t+b+struct.pack(\">I\",zlib.crc32(t+b))\n"
                 "open(sys.argv[1],\"wb\").write(b\"\\x89PNG\\r\\n\\x1a\\n\"+ch(b\"IHDR\",struct.pack(\">IIBBBBB\",w,h,8,2,0,0,0))"
                 "+ch(b\"IDAT\",d)+ch(b\"IEND\",b\"\"))' '%s'",
                 side, 20 * i, p);
        if (system(cmd) != 0) return fprintf(stderr, "cannot write %s\n", p), 2;
        struct stat st;
        char hash[65];
        stat(p, &st);
        file_sha256(p, hash, &e);
        description d;
        memset(&d, 0, sizeof d);
        d.width = d.height = side;
        img_meta m;
        memset(&m, 0, sizeof m);
        snprintf(m.format, sizeof m.format, "png");
        m.orig_w = m.orig_h = side;
        cat_file f = {.path = p, .size = st.st_size, .mtime_ns = 0, .hash = hash, .meta = &m, .describer = "bench"};
        ids[i] = cat_put(c, &f, &d, &e);
        if (i == 0) printf("image: %dx%d PNG, %lld bytes on disk\n", side, side, (long long)st.st_size);
    }
    cat_close(c);

    char cache[800];
    snprintf(cache, sizeof cache, "%s/thumbs-a", dir);
    double t = now_seconds();
    double bounded = thumbs_rss(0, N, ids, cache);
    double tb = now_seconds() - t;
    snprintf(cache, sizeof cache, "%s/thumbs-b", dir);
    t = now_seconds();
    double unbounded = thumbs_rss(1LL << 50, N, ids, cache);
    double tu = now_seconds() - t;
    printf("%d concurrent thumbnails of %d MP: peak RSS %.0f MB with the 512 MiB budget (%.1f s), "
           "%.0f MB unbounded (%.1f s): ratio %.2f (target < 1024 MB)\n",
           N, mp, bounded, tb, unbounded, tu, bounded / unbounded);

    server_opts o = {.host = "127.0.0.1", .db_path = db, .cache_dir = cache};
    server *s = server_start(&o, &e);
    if (!s) return fprintf(stderr, "%s\n", e.msg), 2;
    port = server_port(s);
    double idle = health_max_ms(20);
    slow_fds = calloc((size_t)nslow, sizeof *slow_fds);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int opened = 0;
    for (; opened < nslow; opened++) {
        slow_fds[opened] = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(slow_fds[opened], (struct sockaddr *)&a, sizeof a) != 0) break;
        send(slow_fds[opened], "GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n", 44, MSG_NOSIGNAL);
    }
    nslow = opened;
    pthread_t feeder;
    pthread_create(&feeder, NULL, slow_feeder, NULL);
    sleep(3);
    double loaded = health_max_ms(20);
    slow_stop = 1;
    pthread_join(feeder, NULL);
    for (int i = 0; i < nslow; i++) close(slow_fds[i]);
    printf("/api/health, slowest of 20: %.1f ms with %d slow clients holding connections, %.1f ms idle "
           "(target < 1000 ms)%s\n",
           loaded, nslow, idle, loaded < 0 ? " — FAILED: turned away" : "");
    server_stop(s);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
    curl_global_cleanup();
    return loaded < 0;
}
