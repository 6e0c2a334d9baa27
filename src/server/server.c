/* server.c — the daemon: start/stop, routing, the common headers every
 * response carries, the pool of catalogue handles.
 *
 * Security stance: bound to loopback unless told otherwise; only GET/HEAD;
 * no CORS headers at all (a page on another origin cannot read our
 * answers); a strict Content-Security-Policy so that even a mistake in the
 * page's escaping cannot run injected script; the Host header must name
 * the loopback host when we are bound there (DNS rebinding); files are
 * reached by catalogue id only, never by a path from the request.
 */
#include "server/internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <cjson/cJSON.h>

static const char CSP[] = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                          "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                          "frame-ancestors 'none'";

enum MHD_Result srv_send(req *r, unsigned status, struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Content-Security-Policy", CSP);
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    enum MHD_Result rc = MHD_queue_response(r->c, status, resp);
    MHD_destroy_response(resp);
    if (r->s->log_requests) fprintf(stderr, "imgdex serve: %s %s -> %u\n", r->method, r->url, status);
    return rc;
}

enum MHD_Result srv_json(req *r, unsigned status, char *body)
{
    body = json_utf8_fix(body);   /* paths and queries are bytes; the label says UTF-8 */
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", "application/json; charset=utf-8");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    return srv_send(r, status, resp);
}

enum MHD_Result srv_error(req *r, unsigned status, const char *fmt, ...)
{
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", msg);
    cJSON_AddNumberToObject(o, "status", status);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    char *body = xstrdup(s ? s : "{\"error\":\"internal error\"}");
    cJSON_free(s);
    return srv_json(r, status, body);
}

const char *srv_arg(req *r, const char *name)
{
    return MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND, name);
}

int64_t srv_parse_id(const char *s)
{
    if (!s || !*s || strlen(s) > 15) return 0;
    int64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return 0;
        v = v * 10 + (*p - '0');
    }
    return v;
}

catalogue *srv_cat_get(server *s, ierr *e)
{
    pthread_mutex_lock(&s->mu);
    catalogue *c = s->npool ? s->pool[--s->npool] : NULL;
    pthread_mutex_unlock(&s->mu);
    return c ? c : cat_open(s->db, 1, e);
}

void srv_cat_put(server *s, catalogue *c)
{
    if (!c) return;
    pthread_mutex_lock(&s->mu);
    if (s->npool < s->cap) {
        s->pool[s->npool++] = c;
        c = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    if (c) cat_close(c);
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Bound to loopback, we only answer requests addressed to loopback names:
 * a web page on evil.example whose name re-resolves to 127.0.0.1 sends
 * "Host: evil.example" and is turned away. */
static int host_ok(req *r)
{
    if (!r->s->loopback) return 1;
    const char *h = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, "Host");
    if (!h) return 1;   /* HTTP/1.0 without Host: nothing to rebind */
    char name[256];
    size_t n;
    if (h[0] == '[') {
        const char *end = strchr(h, ']');
        n = end ? (size_t)(end - h + 1) : strlen(h);
    } else {
        n = strcspn(h, ":");
    }
    if (n >= sizeof name) return 0;
    memcpy(name, h, n);
    name[n] = 0;
    return !strcasecmp(name, "localhost") || !strcmp(name, "127.0.0.1") || !strcmp(name, "[::1]");
}

static enum MHD_Result dispatch(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)con_cls;
    req r = {.s = cls, .c = c, .url = url, .method = method};
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        char body[] = "{\"error\":\"only GET and HEAD are served\",\"status\":405}";
        struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
        MHD_add_response_header(resp, "Content-Type", "application/json; charset=utf-8");
        MHD_add_response_header(resp, "Allow", "GET, HEAD");
        return srv_send(&r, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
    }
    if (!host_ok(&r)) return srv_error(&r, MHD_HTTP_FORBIDDEN, "Host header not allowed: this server answers only "
                                                               "to 127.0.0.1 and localhost");
    if (!strcmp(url, "/api/search")) return api_search(&r);
    if (!strcmp(url, "/api/stats")) return api_stats(&r);
    if (!strcmp(url, "/api/duplicates")) return api_duplicates(&r);
    if (!strcmp(url, "/api/health")) return api_health(&r);
    static const struct { const char *prefix; int kind; } idroutes[] = {
        {"/api/images/", 0}, {"/thumb/", 1}, {"/file/", 2}, {"/api/similar/", 3}};
    for (int i = 0; i < 4; i++) {
        size_t pl = strlen(idroutes[i].prefix);
        if (strncmp(url, idroutes[i].prefix, pl) != 0) continue;
        int64_t id = srv_parse_id(url + pl);
        if (!id) return srv_error(&r, MHD_HTTP_BAD_REQUEST, "an image is addressed by its numeric id, as in %s42",
                                  idroutes[i].prefix);
        switch (idroutes[i].kind) {
        case 0: return api_image(&r, id);
        case 1: return files_thumb(&r, id);
        case 2: return files_original(&r, id);
        default: return api_similar(&r, id);
        }
    }
    if (!strncmp(url, "/api/", 5)) return srv_error(&r, MHD_HTTP_NOT_FOUND, "no such API route");
    if (url[0] == '/' && !strchr(url + 1, '/')) return files_static(&r, url[1] ? url + 1 : "index.html");
    return srv_error(&r, MHD_HTTP_NOT_FOUND, "not found");
}

/* Percent-decoding in place, as MHD's own, except that %00 stays
 * undecoded: a NUL would silently cut "/file/1%00.jpg" to "/file/1". */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    char *w = s;
    for (const char *r = s; *r;) {
        int hi, lo;
        if (r[0] == '%' && (hi = hexval(r[1])) >= 0 && (lo = hexval(r[2])) >= 0 && (hi | lo)) {
            *w++ = (char)(hi << 4 | lo);
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = 0;
    return (size_t)(w - s);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[1024];
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = 0;
    log_warn("serve: %s", line);
}

static int default_cache(char *buf, size_t n)
{
    const char *v = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (v && *v) return snprintf(buf, n, "%s/imgdex/thumbs", v), 0;
    if (home && *home) return snprintf(buf, n, "%s/.cache/imgdex/thumbs", home), 0;
    return snprintf(buf, n, "/tmp/imgdex-thumbs-%d", (int)getuid()), 0;
}

server *server_start(const server_opts *o, ierr *e)
{
    server *s = xcalloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->thumb_cv, NULL);
    s->thumb_budget = o->thumb_memory > 0 ? o->thumb_memory : 512LL << 20;
    sem_init(&s->searches, 0, (unsigned)cpu_count());
    snprintf(s->db, sizeof s->db, "%s", o->db_path);
    snprintf(s->host, sizeof s->host, "%s", o->host && *o->host ? o->host : "127.0.0.1");
    if (o->web_dir) snprintf(s->web, sizeof s->web, "%s", o->web_dir);
    else path_web_dir(s->web, sizeof s->web);
    if (o->cache_dir) snprintf(s->cache, sizeof s->cache, "%s", o->cache_dir);
    else default_cache(s->cache, sizeof s->cache);
    s->log_requests = o->log_requests;
    /* Idle or slow clients each hold a connection (and, here, a thread)
     * until the timeout: the limit must be far above what a few hundred of
     * them take, or they lock everyone else out.  Bounded by the open-file
     * limit, raised to its hard maximum. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    long fdmax = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? (long)rl.rlim_cur : 65536;
    long maxconn = o->max_connections > 0 ? o->max_connections : 4096;
    if (maxconn > fdmax - 64) maxconn = fdmax - 64 > 16 ? fdmax - 64 : 16;
    s->cap = 64;
    s->pool = xcalloc((size_t)s->cap, sizeof(catalogue *));

    /* Create (and migrate) the catalogue once, so read-only handles can open it. */
    catalogue *c = cat_open(s->db, 0, e);
    if (!c) {
        err_clear(e);
        c = cat_open(s->db, 1, e);
    }
    if (!c) goto fail;
    s->pool[s->npool++] = c;
    if (path_mkdirs(s->cache, e) != 0) goto fail;

    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    char port[16];
    snprintf(port, sizeof port, "%d", o->port);
    int gai = getaddrinfo(s->host, port, &hints, &ai);
    if (gai != 0 || !ai) {
        err_set(e, "cannot use host '%s': %s", s->host, gai_strerror(gai));
        goto fail;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
    /* poll(), not select(): past 1024 open files select() cannot wait. */
    if (MHD_is_feature_supported(MHD_FEATURE_POLL) == MHD_YES) flags |= MHD_USE_POLL;
    if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
    if (ai->ai_family == AF_INET)
        s->loopback = (ntohl(((struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr) >> 24) == 127;
    else
        s->loopback = IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr);
    s->d = MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL, dispatch, s,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                            MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                            MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)maxconn,
                            MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                            /* request line + headers must fit: bounds the request size */
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
                            MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!s->d) {
        err_set(e, "cannot listen on %s port %d (in use, or not an address of this machine?)", s->host, o->port);
        goto fail;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : o->port;
    return s;
fail:
    server_stop(s);
    return NULL;
}

int server_port(const server *s) { return s->port; }

void server_stop(server *s)
{
    if (!s) return;
    if (s->d) MHD_stop_daemon(s->d);
    for (int i = 0; i < s->npool; i++) cat_close(s->pool[i]);
    free(s->pool);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->thumb_cv);
    free(s->thumb_busy);
    sem_destroy(&s->searches);
    free(s);
}
