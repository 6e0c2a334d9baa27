/* internal.h — what the files of src/server share. */
#ifndef IMGDEX_SERVER_INTERNAL_H
#define IMGDEX_SERVER_INTERNAL_H

#include <microhttpd.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>

#include "index/catalogue.h"
#include "server/server.h"

#define SRV_MAX_QUERY 500        /* characters of q= */
#define SRV_MAX_K 200

struct server {
    struct MHD_Daemon *d;
    char db[4096], web[4096], cache[4096], host[256];
    int port, loopback, log_requests;
    /* Read-only catalogue handles, reused across requests: opening SQLite
     * per request would cost more than most searches. */
    pthread_mutex_t mu;
    catalogue **pool;
    int npool, cap;
    /* Searches are CPU-bound: more at once than cores only thrashes caches
     * and memory, so the rest wait their turn here (connections still get
     * accepted and cheap routes answered meanwhile). */
    sem_t searches;
    /* Thumbnails: decoding is bounded by memory, not by count — each
     * decode reserves its estimated bytes from thumb_budget (one larger
     * than the budget runs alone) — and a thumbnail being made is made
     * once: identical requests wait for it (thumb_busy) and serve the file.
     * All under mu, signalled on thumb_cv. */
    pthread_cond_t thumb_cv;
    long long thumb_budget, thumb_in_use, thumb_peak, thumb_decodes;
    char (*thumb_busy)[100];
    int nthumb_busy, capthumb_busy;
    /* Originals whose content was checked against the catalogued hash, by
     * identity: a repeated /file/ request does not hash again. */
    struct srv_verified { int64_t id; unsigned long long dev, ino; long long size, mtime_ns; } verified[64];
    int nverified, nextverified;
};

typedef struct req {
    server *s;
    struct MHD_Connection *c;
    const char *url, *method;
} req;

/* Responses: each queues the response and returns MHD's result. */
enum MHD_Result srv_json(req *r, unsigned status, char *body);       /* takes body (malloc'd) */
enum MHD_Result srv_error(req *r, unsigned status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
enum MHD_Result srv_send(req *r, unsigned status, struct MHD_Response *resp);   /* adds common headers */
const char *srv_arg(req *r, const char *name);

catalogue *srv_cat_get(server *s, ierr *e);
void srv_cat_put(server *s, catalogue *c);

/* Parses a decimal catalogue id (1..2^53); 0 when the text is anything else. */
int64_t srv_parse_id(const char *s);

enum MHD_Result api_search(req *r);
enum MHD_Result api_image(req *r, int64_t id);
enum MHD_Result api_similar(req *r, int64_t id);
enum MHD_Result api_stats(req *r);
enum MHD_Result api_duplicates(req *r);
enum MHD_Result api_health(req *r);
enum MHD_Result files_thumb(req *r, int64_t id);
enum MHD_Result files_original(req *r, int64_t id);
enum MHD_Result files_static(req *r, const char *name);

#endif
