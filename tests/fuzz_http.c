/* fuzz_http.c — libFuzzer target: the HTTP request path, from the URL,
 * query string and headers to the handler and back, over a real loopback
 * connection to a server started once in this process on a catalogue of
 * one image.  The input is the request target, then header lines (split
 * at the first newline); bytes that cannot travel in a request line are
 * percent-encoded (the server decodes them back, so the handler sees any
 * byte).  Every answer must come within 60 s (a hang aborts; a reset is a
 * refusal), be HTTP, carry the security headers, and, when JSON, be valid
 * UTF-8 JSON.
 * FUZZ_MAX_LEN 2048 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "fuzz_util.h"
#include "image/image.h"
#include "index/catalogue.h"
#include "server/server.h"

static int port;
static server *fz_server;   /* lives as long as the process */

static void put_image(const char *db)
{
    ierr e = {0};
    img im = {48, 32, calloc(48 * 32 * 3, 1)};
    for (int i = 0; i < 48 * 32 * 3; i++) im.px[i] = (uint8_t)(i * 13);
    unsigned char *jpg;
    size_t len;
    if (img_encode_jpeg(&im, 80, &jpg, &len, &e) != 0) abort();
    free(im.px);
    char path[600];
    snprintf(path, sizeof path, "%s", fz_write("photo \xff.jpg", jpg, len));
    free(jpg);
    char hash[65];
    file_sha256(path, hash, &e);
    catalogue *c = cat_open(db, 0, &e);
    if (!c) abort();
    description d;
    memset(&d, 0, sizeof d);
    d.width = 48, d.height = 32;
    snprintf(d.caption, sizeof d.caption, "a dog on a sofa");
    img_meta m;
    memset(&m, 0, sizeof m);
    snprintf(m.format, sizeof m.format, "jpeg");
    m.orig_w = 48, m.orig_h = 32;
    cat_file f = {.path = path, .size = (long long)len, .mtime_ns = 0, .hash = hash, .meta = &m, .describer = "fuzz"};
    if (cat_put(c, &f, &d, &e) <= 0) abort();
    cat_close(c);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    setenv("IMGDEX_QUIET", "1", 1);
    char db[600], cache[600];
    snprintf(db, sizeof db, "%s", fz_path("fuzz.db"));
    snprintf(cache, sizeof cache, "%s", fz_path("thumbs"));
    put_image(db);
    server_opts o = {.host = "127.0.0.1", .port = 0, .db_path = db, .cache_dir = cache};
    ierr e = {0};
    if (fz_server) return 0;
    fz_server = server_start(&o, &e);
    if (!fz_server) abort();
    port = server_port(fz_server);
    return 0;
}

static double fz_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

/* A connect interrupted by libFuzzer's timer goes on in the background:
 * wait for it (EALREADY until it is done, then EISCONN). */
static void connect_or_abort(int fd, const struct sockaddr_in *a)
{
    double deadline = fz_now() + 60;
    while (connect(fd, (const struct sockaddr *)a, sizeof *a) != 0) {
        if (errno == EISCONN) return;
        if ((errno == EINTR || errno == EALREADY) && fz_now() < deadline) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            poll(&p, 1, 100);
            continue;
        }
        fprintf(stderr, "fuzz_http: connect: %s\n", strerror(errno));
        abort();
    }
}

static size_t put_target(char *out, const uint8_t *d, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t k = 0;
    if (n == 0 || d[0] != '/') out[k++] = '/';
    for (size_t i = 0; i < n; i++) {
        unsigned c = d[i];
        if (c <= 0x20 || c >= 0x7F) {
            out[k++] = '%', out[k++] = hex[c >> 4], out[k++] = hex[c & 15];
        } else {
            out[k++] = (char)c;
        }
    }
    return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *hdr;
    size_t nhdr, nt = fz_split(data, size, "\n", &hdr, &nhdr);
    char *req = malloc(3 * size + 256), *resp = malloc(1 << 20);
    size_t k = 0;
    memcpy(req, "GET ", 4), k = 4;
    k += put_target(req + k, data, nt);
    k += (size_t)sprintf(req + k, " HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (size_t i = 0; i < nhdr; i++) {   /* header lines: CR/LF only as line ends */
        unsigned char c = hdr[i];
        if (c == '\n') req[k++] = '\r', req[k++] = '\n';
        else if (c != '\r' && c != 0) req[k++] = (char)c;
    }
    if (nhdr && hdr[nhdr - 1] != '\n') req[k++] = '\r', req[k++] = '\n';
    k += (size_t)sprintf(req + k, "Connection: close\r\n\r\n");

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {60, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    connect_or_abort(fd, &a);
    for (size_t sent = 0; sent < k;) {
        ssize_t w = send(fd, req + sent, k - sent, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;   /* the server closed early: its answer (if any) is read below */
        sent += (size_t)w;
    }
    /* Read to the end of the answer, which the server sends only after its
     * handler returned.  libFuzzer's timer (SIGALRM every -timeout/2 s,
     * installed without SA_RESTART) interrupts recv now and then: that is
     * not the end.  Taking it for one once returned from an input while
     * the server thread was still inside its search, and the next input's
     * leak check found that search's working set (docs/reliability.md). */
    size_t got = 0;
    double deadline = fz_now() + 60;   /* generous: a loaded machine is slow, not hung */
    for (ssize_t r; got + 1 < (1 << 20) && (r = recv(fd, resp + got, (1 << 20) - 1 - got, 0)) != 0;) {
        if (r < 0 && errno == EINTR && fz_now() < deadline) continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) abort();   /* a hang */
        if (r < 0) break;   /* reset: the server closed on a request it refused, unread bytes pending */
        got += (size_t)r;
    }
    close(fd);
    resp[got] = 0;
    int status = 0;
    if (got && sscanf(resp, "HTTP/1.%*d %d", &status) != 1) abort();
    char *body = strstr(resp, "\r\n\r\n");
    /* Our answers (not libmicrohttpd's own 4xx for malformed heads) carry the headers. */
    if (status && body && !strstr(resp, "<html><head><title>")) {
        *body = 0;
        if (!strcasestr(resp, "X-Content-Type-Options: nosniff") || !strcasestr(resp, "Content-Security-Policy"))
            abort();
        if (strcasestr(resp, "Content-Type: application/json")) {
            const char *b = body + 4;
            if (!fz_utf8_ok((const unsigned char *)b, strlen(b))) abort();
            cJSON *j = cJSON_Parse(b);
            if (!j && *b) abort();
            cJSON_Delete(j);
        }
    }
    free(req);
    free(resp);
    return 0;
}
