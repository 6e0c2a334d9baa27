/* server.h — `imgdex serve`: the web page and the JSON API over a catalogue,
 * with libmicrohttpd (one thread per connection, so a slow thumbnail never
 * holds up a search).
 *
 * Routes (all GET/HEAD; anything else is 405):
 *   /                       the page (web/index.html) and its files (/app.js...)
 *   /api/search?q=&k=       search --json, with `why`; 400 + column on a parse error
 *   /api/images/{id}        file facts + stored description
 *   /thumb/{id}?size=N      JPEG thumbnail, cached on disk, ETag / 304
 *   /file/{id}              the original file, by catalogue id only
 *   /api/stats, /api/health
 * Errors are {"error": "...", "status": N} with a fitting status.
 */
#ifndef IMGDEX_SERVER_H
#define IMGDEX_SERVER_H

#include "base/base.h"

typedef struct server_opts {
    const char *host;        /* default "127.0.0.1" */
    int port;                /* 0 = any free port (see server_port) */
    const char *db_path;
    const char *web_dir;     /* default path_web_dir() */
    const char *cache_dir;   /* thumbnails; default $XDG_CACHE_HOME/imgdex/thumbs */
    int max_connections;     /* default 4096 (capped by the open-file limit) */
    long long thumb_memory;  /* bytes thumbnail decodes may hold at once; default 512 MiB */
    int log_requests;        /* one line per request on stderr */
} server_opts;

typedef struct server server;

/* Opens the catalogue (creating it when missing), binds and starts serving
 * in background threads.  NULL + e on failure (port in use, bad host...). */
server *server_start(const server_opts *o, ierr *e);
int server_port(const server *s);
/* What thumbnail-making did so far: decodes run, and the most bytes
 * reserved by decodes at one time (for tests and the benchmark). */
void server_thumb_counters(server *s, long long *decodes, long long *peak_bytes);
/* Stops accepting, finishes the requests in flight, frees everything. */
void server_stop(server *s);

#endif
