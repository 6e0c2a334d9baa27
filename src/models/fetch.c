/* fetch.c — resumable, verified model downloads (see fetch.h).
 *
 * Hugging Face serves /<repo>/resolve/main/<file>; for files kept in Git LFS
 * (the weights) a HEAD without following redirects carries X-Linked-Size and
 * X-Linked-Etag, the latter being the file's sha256 — the published digest
 * we verify against, so nothing is hard-coded here.  Small git files (the
 * config and tokenizer) only have their size checked (Content-Length).
 */
#include "models/fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Each fetchable model: its Hugging Face repository and the files it needs
 * (one line per model; a new family adds its own file list). */
#define CLIP_FILES {"config.json", "vocab.json", "merges.txt", "model.safetensors"}
#define HF_BERT_FILES {"config.json", "vocab.txt", "model.safetensors"}
static const struct { const char *name, *repo, *files[6]; } repos[] = {
    {"clip-vit-base-patch32", "openai/clip-vit-base-patch32", CLIP_FILES},
    {"clip-vit-base-patch16", "openai/clip-vit-base-patch16", CLIP_FILES},
    {"clip-vit-large-patch14", "openai/clip-vit-large-patch14", CLIP_FILES},
    {"clip-vit-large-patch14-336", "openai/clip-vit-large-patch14-336", CLIP_FILES},
    {"blip-base", "Salesforce/blip-image-captioning-base", HF_BERT_FILES},
    {"blip-large", "Salesforce/blip-image-captioning-large", HF_BERT_FILES},
    {"sam-vit-base", "facebook/sam-vit-base", {"config.json", "model.safetensors"}},
};

static int find_repo(const char *name)
{
    for (size_t i = 0; i < sizeof repos / sizeof repos[0]; i++)
        if (!strcmp(repos[i].name, name)) return (int)i;
    return -1;
}

const char *fetch_repo(const char *name)
{
    int r = find_repo(name);
    return r < 0 ? NULL : repos[r].repo;
}

static void global_init(void)
{
    static int done;
    if (!done) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        done = 1;
    }
}

/* ---- HEAD ------------------------------------------------------------- */

static void trim_value(const char *v, size_t n, char *out, size_t cap)
{
    while (n && (*v == ' ' || *v == '"' || *v == '\t')) v++, n--;
    while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' || v[n - 1] == '"')) n--;
    if (n >= cap) n = cap - 1;
    memcpy(out, v, n);
    out[n] = 0;
}

typedef struct head_ctx {
    long long linked_size, length;
    char linked_etag[128];
} head_ctx;

static size_t on_header(char *buf, size_t size, size_t n, void *ud)
{
    head_ctx *h = ud;
    size_t len = size * n;
    char val[128];
    const char *colon = memchr(buf, ':', len);
    if (!colon) {
        /* A new response (after a redirect) starts: forget the old length. */
        if (len > 5 && !strncmp(buf, "HTTP/", 5)) h->length = -1;
        return len;
    }
    size_t kl = (size_t)(colon - buf);
    trim_value(colon + 1, len - kl - 1, val, sizeof val);
    if (kl == 13 && !strncasecmp(buf, "x-linked-size", 13)) h->linked_size = atoll(val);
    else if (kl == 13 && !strncasecmp(buf, "x-linked-etag", 13)) snprintf(h->linked_etag, sizeof h->linked_etag, "%s", val);
    else if (kl == 14 && !strncasecmp(buf, "content-length", 14)) h->length = atoll(val);
    return len;
}

static int is_sha256(const char *s)
{
    if (strlen(s) != 64) return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'))) return 0;
    return 1;
}

static void curl_common(CURL *c, const char *url)
{
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "imgdex/" IMGDEX_VERSION);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
    /* Give up on a stalled transfer (under 1 kB/s for a minute), not a slow one. */
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
}

static void curl_error(ierr *e, const char *url, CURLcode rc, const char *detail)
{
    const char *hint = "";
    if (rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_PROXY)
        hint = " (offline, or the host is unreachable from here?)";
    err_set(e, "%s: %s%s", url, *detail ? detail : curl_easy_strerror(rc), hint);
}

int fetch_head(const char *url, fetch_expect *x, ierr *e)
{
    global_init();
    x->size = -1;
    x->sha256[0] = 0;
    CURL *c = curl_easy_init();
    if (!c) {
        err_set(e, "%s: cannot start libcurl", url);
        return -1;
    }
    head_ctx h = {.linked_size = -1, .length = -1};
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_common(c, url);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    /* Hugging Face answers resolve/ of an LFS file with a redirect to its
     * CDN that carries the X-Linked-* headers; follow it anyway for the
     * plain files, whose length is on the final response. */
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
    /* identity: a compressed Content-Length would not be the file's size. */
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "identity");
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        curl_error(e, url, rc, errbuf);
        return -1;
    }
    if (status != 200) {
        err_set(e, "%s: HTTP %ld", url, status);
        return -1;
    }
    x->size = h.linked_size >= 0 ? h.linked_size : h.length;
    if (is_sha256(h.linked_etag)) memcpy(x->sha256, h.linked_etag, 65);
    return 0;
}

/* ---- GET into .part --------------------------------------------------- */

typedef struct get_ctx {
    FILE *f;
    const char *part;
    long status;            /* of the final response, from its status line */
    int truncate_done;
    long long got, base, total;
    int progress;
    double last;
    int write_error;
} get_ctx;

static size_t on_get_header(char *buf, size_t size, size_t n, void *ud)
{
    get_ctx *g = ud;
    size_t len = size * n;
    if (len > 9 && !strncmp(buf, "HTTP/", 5)) {
        const char *sp = memchr(buf, ' ', len);
        if (sp) g->status = atol(sp + 1);
    }
    return len;
}

static size_t on_data(char *buf, size_t size, size_t n, void *ud)
{
    get_ctx *g = ud;
    size_t len = size * n;
    /* A server that ignores Range answers 200 with the whole file: start over. */
    if (g->status == 200 && g->base > 0 && !g->truncate_done) {
        if (ftruncate(fileno(g->f), 0) != 0 || fseek(g->f, 0, SEEK_SET) != 0) {
            g->write_error = errno;
            return 0;
        }
        g->base = 0;
    }
    g->truncate_done = 1;
    if (fwrite(buf, 1, len, g->f) != len) {
        g->write_error = errno ? errno : EIO;
        return 0;
    }
    g->got += (long long)len;
    if (g->progress) {
        double t = now_seconds();
        if (t - g->last > 1.0) {
            g->last = t;
            if (g->total > 0)
                fprintf(stderr, "\r  %s: %.1f / %.1f MB", g->part, (g->base + g->got) / 1e6, g->total / 1e6);
            else
                fprintf(stderr, "\r  %s: %.1f MB", g->part, (g->base + g->got) / 1e6);
        }
    }
    return len;
}

static long long file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (long long)st.st_size : -1;
}

static int verify(const char *path, const char *what, const fetch_expect *x, ierr *e)
{
    long long sz = file_size(path);
    if (x->size >= 0 && sz != x->size) {
        err_set(e, "%s: %lld bytes, expected %lld", what, sz, x->size);
        return -1;
    }
    if (x->sha256[0]) {
        char got[65];
        if (file_sha256(path, got, e) != 0) return -1;
        if (strcmp(got, x->sha256)) {
            err_set(e, "%s: sha256 %s, expected %s", what, got, x->sha256);
            return -1;
        }
    }
    return 0;
}

int fetch_file(const char *url, const char *dest, const fetch_expect *x, int progress, ierr *e)
{
    global_init();
    char part[4096];
    snprintf(part, sizeof part, "%s.part", dest);
    long long have = file_size(part);
    if (have < 0) have = 0;
    if (x->size >= 0 && have > x->size) {       /* cannot be a prefix: restart */
        unlink(part);
        have = 0;
    }
    if (!(x->size >= 0 && have == x->size)) {
        FILE *f = fopen(part, have ? "r+b" : "wb");
        if (!f) {
            err_set(e, "%s: cannot write: %s", part, strerror(errno));
            return -1;
        }
        if (have && fseek(f, 0, SEEK_END) != 0) have = 0;
        CURL *c = curl_easy_init();
        if (!c) {
            fclose(f);
            err_set(e, "%s: cannot start libcurl", url);
            return -1;
        }
        get_ctx g = {.f = f, .part = part, .base = have, .total = x->size, .progress = progress,
                     .last = now_seconds()};
        char errbuf[CURL_ERROR_SIZE] = "", range[64];
        curl_common(c, url);
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_get_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &g);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &g);
        if (have) {
            snprintf(range, sizeof range, "%lld-", have);
            curl_easy_setopt(c, CURLOPT_RANGE, range);
        }
        CURLcode rc = curl_easy_perform(c);
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(c);
        int closed = fclose(f);
        if (progress && g.got) fprintf(stderr, "\n");
        if (g.write_error || closed != 0) {
            err_set(e, "%s: write failed: %s", part, strerror(g.write_error ? g.write_error : errno));
            return -1;
        }
        if (rc != CURLE_OK) {
            /* 416: the range starts at the end — the .part is already whole. */
            if (!(status == 416 && have > 0)) {
                if (status >= 400) err_set(e, "%s: HTTP %ld", url, status);
                else curl_error(e, url, rc, errbuf);
                if (file_size(part) == 0) unlink(part);
                if (x->size < 0 || file_size(part) > x->size) unlink(part);
                return -1;
            }
        }
    }
    if (verify(part, dest, x, e) != 0) {
        unlink(part);           /* corrupt: a resume would only extend it */
        return -1;
    }
    if (rename(part, dest) != 0) {
        err_set(e, "%s: cannot rename to %s: %s", part, dest, strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- a whole model ------------------------------------------------------ */

int fetch_model(const char *name, int progress, ierr *e)
{
    int r = find_repo(name);
    if (r < 0) {
        char known[1024];
        size_t kl = 0;
        known[0] = 0;
        for (size_t i = 0; i < sizeof repos / sizeof repos[0]; i++)
            kl += (size_t)snprintf(known + kl, kl < sizeof known ? sizeof known - kl : 0, "%s%s", i ? ", " : "",
                                   repos[i].name);
        err_set(e, "%s: not a model imgdex can fetch (%s)", name, known);
        return -1;
    }
    const char *repo = repos[r].repo;
    const char *const *model_files = repos[r].files;
    size_t nf = 0;
    while (nf < 6 && model_files[nf]) nf++;
    const char *ep = getenv("IMGDEX_HF_ENDPOINT");
    if (!ep || !*ep) ep = "https://huggingface.co";
    char dir[2048], mdir[2048], url[4096], dest[4096];
    path_models_dir(mdir, sizeof mdir);
    snprintf(dir, sizeof dir, "%s/%s", mdir, name);
    /* Ask for every file's size and digest before writing anything, so an
     * offline machine or a wrong name leaves no trace at all. */
    fetch_expect x[6];
    for (size_t i = 0; i < nf; i++) {
        snprintf(url, sizeof url, "%s/%s/resolve/main/%s", ep, repo, model_files[i]);
        if (fetch_head(url, &x[i], e) != 0) return -1;
        if (x[i].size < 0) {
            err_set(e, "%s: the server gave no size, so the download could not be verified", url);
            return -1;
        }
    }
    struct stat st;
    int fresh_dir = stat(dir, &st) != 0;
    if (path_mkdirs(dir, e) != 0) return -1;
    int rc = 0;
    for (size_t i = 0; i < nf && !rc; i++) {
        snprintf(url, sizeof url, "%s/%s/resolve/main/%s", ep, repo, model_files[i]);
        snprintf(dest, sizeof dest, "%s/%s", dir, model_files[i]);
        ierr ve = {0};
        if (file_size(dest) == x[i].size && verify(dest, dest, &x[i], &ve) == 0) {
            if (progress) fprintf(stderr, "  %s: present and verified\n", dest);
            continue;
        }
        if (progress) fprintf(stderr, "  %s -> %s (%.1f MB%s)\n", url, dest, x[i].size / 1e6,
                              x[i].sha256[0] ? ", sha256 published" : "");
        rc = fetch_file(url, dest, &x[i], progress, e);
    }
    if (rc && fresh_dir) rmdir(dir);   /* only succeeds when nothing (not even a .part) is left */
    return rc;
}
