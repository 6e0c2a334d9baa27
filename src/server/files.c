/* files.c — bytes from disk: thumbnails (made once, cached on disk, ETag),
 * originals, and the page's own files.
 *
 * Originals are looked up by catalogue id only: the path comes from the
 * database, never from the request.  The page's files are served by bare
 * name from the web directory, and a name is accepted only if it is
 * letters, digits, '-', '_' and one dot before a known extension — no
 * slash, no "..", nothing to traverse with.
 */
#include "server/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image.h"

static const int THUMB_SIZES[] = {64, 128, 256, 512, 1024};

/* The cached size that serves a request for `want` pixels (next up). */
static int thumb_size(const char *arg)
{
    long want = arg ? strtol(arg, NULL, 10) : 256;
    for (size_t i = 0; i < sizeof THUMB_SIZES / sizeof THUMB_SIZES[0]; i++)
        if (want <= THUMB_SIZES[i]) return THUMB_SIZES[i];
    return 1024;
}

static int etag_matches(req *r, const char *etag)
{
    const char *inm = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, "If-None-Match");
    return inm && (strstr(inm, etag) || !strcmp(inm, "*"));
}

static enum MHD_Result not_modified(req *r, const char *etag)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(resp, "ETag", etag);
    return srv_send(r, MHD_HTTP_NOT_MODIFIED, resp);
}

static enum MHD_Result send_fd(req *r, int fd, const char *type, const char *etag, const char *cache)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return srv_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read the file");
    }
    struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!resp) {
        close(fd);
        return srv_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot send the file");
    }
    MHD_add_response_header(resp, "Content-Type", type);
    if (etag) MHD_add_response_header(resp, "ETag", etag);
    MHD_add_response_header(resp, "Cache-Control", cache);
    return srv_send(r, MHD_HTTP_OK, resp);
}

/* The catalogued file's bytes, only when they are still what was catalogued
 * (size and SHA-256): a file replaced, or reached through a directory
 * swapped for a link since indexing, is not ours to decode or serve. */
static uint8_t *read_catalogued(const cat_image *im, size_t *len, int *gone, ierr *e)
{
    *gone = 1;
    struct stat st;
    int fd = file_open_regular(im->path, 0, &st, e);
    if (fd < 0) return NULL;
    if (st.st_size != im->size || st.st_size > img_max_file_bytes()) {
        close(fd);
        err_set(e, "%s: changed since it was indexed", im->path);
        return NULL;
    }
    size_t n = (size_t)st.st_size, got = 0;
    uint8_t *buf = malloc(n ? n : 1);
    while (buf && got < n) {
        ssize_t k = read(fd, buf + got, n - got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        got += (size_t)k;
    }
    close(fd);
    char hash[65];
    if (buf && got == n) sha256_hex(buf, n, hash);
    if (!buf || got != n || (im->hash[0] && strcmp(hash, im->hash) != 0)) {
        free(buf);
        err_set(e, "%s: changed since it was indexed", im->path);
        return NULL;
    }
    *len = n;
    *gone = 0;
    return buf;
}

/* Decode (with DCT scaling down to about the thumbnail), fit in size×size,
 * write atomically. */
static int make_thumb(const cat_image *im, int size, const char *dst, int *gone, ierr *e)
{
    int lo = im->width < im->height ? im->width : im->height, hi = im->width < im->height ? im->height : im->width;
    img_load_opts o = {0, 0};
    if (lo > 0 && hi > 0) o.min_side = (int)(((long long)size * lo + hi - 1) / hi);
    img full, t;
    size_t n;
    uint8_t *data = read_catalogued(im, &n, gone, e);
    if (!data) return -1;
    int rc = img_load_mem(data, n, im->path, &o, &full, NULL, e);
    free(data);
    if (rc != 0) return -1;
    int w = full.w, h = full.h;
    if (w > size || h > size) {
        if (w >= h) h = (int)((long long)h * size / w), w = size;
        else w = (int)((long long)w * size / h), h = size;
        img_resize(&full, w < 1 ? 1 : w, h < 1 ? 1 : h, &t);
        img_free(&full);
    } else {
        t = full;
    }
    unsigned char *jpg;
    size_t len;
    rc = img_encode_jpeg(&t, 82, &jpg, &len, e);
    img_free(&t);
    if (rc != 0) return -1;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.%d.%lx.tmp", dst, (int)getpid(), (unsigned long)pthread_self());
    FILE *f = fopen(tmp, "wb");
    int ok = f && fwrite(jpg, 1, len, f) == len;
    if (f && fclose(f) != 0) ok = 0;
    free(jpg);
    if (!ok || rename(tmp, dst) != 0) {
        err_set(e, "cannot write thumbnail %s: %s", dst, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* What a decode may hold at its peak: the file's bytes, and up to four
 * bytes a pixel (RGBA before it is packed to RGB).  The catalogued size is
 * what the header claims, so a 12 KB PNG claiming 10000x10000 costs its
 * 400 MB here, before anything is allocated. */
static long long decode_cost(const cat_image *im)
{
    long long px = (long long)(im->width > 0 ? im->width : 1) * (im->height > 0 ? im->height : 1);
    return im->size + 4 * px;
}

static int busy_find(server *s, const char *name)
{
    for (int i = 0; i < s->nthumb_busy; i++)
        if (!strcmp(s->thumb_busy[i], name)) return i;
    return -1;
}

/* Makes the thumbnail `path` (cache file `name`) unless another request is
 * making it: then waits for that one.  0 when the file should now exist. */
static int thumb_once(server *s, const cat_image *im, int size, const char *path, const char *name, int *gone,
                      ierr *e)
{
    long long cost = decode_cost(im);
    pthread_mutex_lock(&s->mu);
    if (busy_find(s, name) >= 0) {
        while (busy_find(s, name) >= 0) pthread_cond_wait(&s->thumb_cv, &s->mu);
        pthread_mutex_unlock(&s->mu);
        if (access(path, F_OK) == 0) return 0;
        pthread_mutex_lock(&s->mu);   /* the other one failed: try ourselves */
    }
    if (s->nthumb_busy == s->capthumb_busy) {
        s->capthumb_busy = s->capthumb_busy ? 2 * s->capthumb_busy : 16;
        s->thumb_busy = xrealloc(s->thumb_busy, (size_t)s->capthumb_busy * sizeof *s->thumb_busy);
    }
    snprintf(s->thumb_busy[s->nthumb_busy++], sizeof s->thumb_busy[0], "%s", name);
    /* Wait for memory: a decode fits the budget beside the others, or runs alone. */
    while (s->thumb_in_use > 0 && s->thumb_in_use + cost > s->thumb_budget) pthread_cond_wait(&s->thumb_cv, &s->mu);
    int made = access(path, F_OK) == 0;   /* finished while we waited */
    if (!made) {
        s->thumb_in_use += cost;
        if (s->thumb_in_use > s->thumb_peak) s->thumb_peak = s->thumb_in_use;
        s->thumb_decodes++;
    }
    pthread_mutex_unlock(&s->mu);

    int rc = made ? 0 : make_thumb(im, size, path, gone, e);

    pthread_mutex_lock(&s->mu);
    if (!made) s->thumb_in_use -= cost;
    int i = busy_find(s, name);
    if (i >= 0) memcpy(s->thumb_busy[i], s->thumb_busy[--s->nthumb_busy], sizeof s->thumb_busy[0]);
    pthread_cond_broadcast(&s->thumb_cv);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void server_thumb_counters(server *s, long long *decodes, long long *peak_bytes)
{
    pthread_mutex_lock(&s->mu);
    if (decodes) *decodes = s->thumb_decodes;
    if (peak_bytes) *peak_bytes = s->thumb_peak;
    pthread_mutex_unlock(&s->mu);
}

static int lookup(req *r, int64_t id, cat_image *info, ierr *e)
{
    catalogue *c = srv_cat_get(r->s, e);
    if (!c) return -2;
    int rc = cat_image_info(c, id, info, e);
    srv_cat_put(r->s, c);
    return rc;
}

enum MHD_Result files_thumb(req *r, int64_t id)
{
    int size = thumb_size(srv_arg(r, "size"));
    ierr e = {0};
    cat_image *info = xmalloc(sizeof *info);
    int rc = lookup(r, id, info, &e);
    if (rc != 0) {
        free(info);
        return rc == -2 ? srv_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "catalogue unavailable: %s", e.msg)
                        : srv_error(r, MHD_HTTP_NOT_FOUND, "no image with id %lld", (long long)id);
    }
    /* The content hash names the thumbnail: a re-indexed, changed file gets
     * a new one, and the ETag changes with it. */
    char etag[96], path[4300], name[100];
    snprintf(etag, sizeof etag, "\"%.32s-%d\"", info->hash, size);
    if (etag_matches(r, etag)) {
        free(info);
        return not_modified(r, etag);
    }
    snprintf(name, sizeof name, "%.64s-%d.jpg", info->hash[0] ? info->hash : "nohash", size);
    snprintf(path, sizeof path, "%s/%s", r->s->cache, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int gone = 0;
        if (thumb_once(r->s, info, size, path, name, &gone, &e) != 0) {
            free(info);
            return gone ? srv_error(r, MHD_HTTP_NOT_FOUND, "image %lld is no longer on disk as indexed", (long long)id)
                        : srv_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot make a thumbnail: %s", e.msg);
        }
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    }
    free(info);
    if (fd < 0) return srv_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "thumbnail vanished");
    return send_fd(r, fd, "image/jpeg", etag, "private, max-age=86400");
}

/* The open file is the catalogued one: same size, and the same SHA-256
 * (hashed once per file identity, then remembered). */
static int original_ok(server *s, int64_t id, int fd, const struct stat *st, const cat_image *info)
{
    if (st->st_size != info->size) return 0;
    if (!info->hash[0]) return 1;
    struct srv_verified v = {id, (unsigned long long)st->st_dev, (unsigned long long)st->st_ino, st->st_size,
                             (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec};
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->nverified; i++)
        if (!memcmp(&s->verified[i], &v, sizeof v)) {
            pthread_mutex_unlock(&s->mu);
            return 1;
        }
    pthread_mutex_unlock(&s->mu);
    char hash[65];
    if (fd_sha256(fd, hash) != 0 || strcmp(hash, info->hash) != 0) return 0;
    pthread_mutex_lock(&s->mu);
    s->verified[s->nextverified] = v;
    s->nextverified = (s->nextverified + 1) % (int)(sizeof s->verified / sizeof s->verified[0]);
    if (s->nverified < (int)(sizeof s->verified / sizeof s->verified[0])) s->nverified++;
    pthread_mutex_unlock(&s->mu);
    return 1;
}

static const char *image_type(const char *fmt)
{
    static const char *map[][2] = {{"jpeg", "image/jpeg"}, {"png", "image/png"}, {"webp", "image/webp"},
                                   {"gif", "image/gif"},   {"bmp", "image/bmp"}, {"pnm", "image/x-portable-anymap"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(fmt, map[i][0])) return map[i][1];
    return "application/octet-stream";
}

enum MHD_Result files_original(req *r, int64_t id)
{
    ierr e = {0};
    cat_image *info = xmalloc(sizeof *info);
    int rc = lookup(r, id, info, &e);
    if (rc != 0) {
        free(info);
        return rc == -2 ? srv_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "catalogue unavailable: %s", e.msg)
                        : srv_error(r, MHD_HTTP_NOT_FOUND, "no image with id %lld", (long long)id);
    }
    char etag[80];
    snprintf(etag, sizeof etag, "\"%.64s\"", info->hash);
    if (info->hash[0] && etag_matches(r, etag)) {
        free(info);
        return not_modified(r, etag);
    }
    /* Never blocks (a FIFO put in the photo's place is refused), and links
     * are followed as the indexer followed them: what makes it safe is
     * that the bytes must be the catalogued ones. */
    struct stat st;
    int fd = file_open_regular(info->path, 0, &st, &e);
    const char *type = image_type(info->format);
    if (fd >= 0 && !original_ok(r->s, id, fd, &st, info)) {
        close(fd);
        fd = -1;
    }
    free(info);
    if (fd < 0) return srv_error(r, MHD_HTTP_NOT_FOUND, "image %lld is no longer on disk as indexed", (long long)id);
    return send_fd(r, fd, type, etag, "private, max-age=0, must-revalidate");
}

enum MHD_Result files_static(req *r, const char *name)
{
    static const char *types[][2] = {{".html", "text/html; charset=utf-8"},
                                     {".css", "text/css; charset=utf-8"},
                                     {".js", "text/javascript; charset=utf-8"},
                                     {".svg", "image/svg+xml"},
                                     {".png", "image/png"},
                                     {".ico", "image/x-icon"}};
    size_t n = strlen(name), dots = 0;
    int ok = n > 0 && n < 64 && name[0] != '.';
    for (size_t i = 0; ok && i < n; i++) {
        char ch = name[i];
        if (ch == '.') dots++;
        else if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                   ch == '_'))
            ok = 0;
    }
    const char *type = NULL;
    const char *ext = strrchr(name, '.');
    for (size_t i = 0; ok && ext && i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(ext, types[i][0])) type = types[i][1];
    if (!ok || dots != 1 || !type) return srv_error(r, MHD_HTTP_NOT_FOUND, "not found");
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", r->s->web, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return srv_error(r, MHD_HTTP_NOT_FOUND, "not found");
    return send_fd(r, fd, type, NULL, "no-cache");
}
