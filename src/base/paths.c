/* paths.c — where imgdex finds its models, its web page and its database,
 * and the few file helpers every module needs. */
#include "base/base.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef IMGDEX_PREFIX
#define IMGDEX_PREFIX "/usr/local"
#endif
#ifndef IMGDEX_SRCDIR
#define IMGDEX_SRCDIR "."
#endif

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* env override, then the installed share dir, then the source tree. */
static const char *find_dir(char *buf, size_t n, const char *env, const char *sub)
{
    const char *v = getenv(env);
    if (v && *v) {
        snprintf(buf, n, "%s", v);
        return buf;
    }
    snprintf(buf, n, "%s/share/imgdex/%s", IMGDEX_PREFIX, sub);
    if (is_dir(buf)) return buf;
    snprintf(buf, n, "%s/%s", IMGDEX_SRCDIR, sub);
    return buf;
}

const char *path_models_dir(char *buf, size_t n) { return find_dir(buf, n, "IMGDEX_MODELS", "models"); }
const char *path_web_dir(char *buf, size_t n) { return find_dir(buf, n, "IMGDEX_WEB", "web"); }

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

#define JOINT_FILE "flickr8k-joint.safetensors"

/* The shipped model lives in the repository (share/models/), not in the
 * downloaded models directory; `make install` copies it next to the others. */
const char *path_joint_model(char *buf, size_t n)
{
    const char *v = getenv("IMGDEX_JOINT");
    if (v && *v) {
        snprintf(buf, n, "%s", v);
        return buf;
    }
    v = getenv("IMGDEX_MODELS");
    if (v && *v) {
        snprintf(buf, n, "%s/%s", v, JOINT_FILE);
        if (is_file(buf)) return buf;
    }
    snprintf(buf, n, "%s/share/imgdex/models/%s", IMGDEX_PREFIX, JOINT_FILE);
    if (is_file(buf)) return buf;
    snprintf(buf, n, "%s/share/models/%s", IMGDEX_SRCDIR, JOINT_FILE);
    return buf;
}

int path_mkdirs(const char *dir, ierr *e)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
            err_set(e, "%s: cannot create directory: %s", tmp, strerror(errno));
            return -1;
        }
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
        err_set(e, "%s: cannot create directory: %s", tmp, strerror(errno));
        return -1;
    }
    return 0;
}

int path_default_db(char *buf, size_t n, ierr *e)
{
    const char *v = getenv("IMGDEX_DB");
    if (v && *v) {
        snprintf(buf, n, "%s", v);
        return 0;
    }
    char dir[4096];
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(dir, sizeof dir, "%s/imgdex", xdg);
    else if (home && *home)
        snprintf(dir, sizeof dir, "%s/.local/share/imgdex", home);
    else {
        err_set(e, "no database given and neither $IMGDEX_DB, $XDG_DATA_HOME nor $HOME is set");
        return -1;
    }
    if (path_mkdirs(dir, e) != 0) return -1;
    snprintf(buf, n, "%s/index.db", dir);
    return 0;
}

unsigned char *file_read_all(const char *path, size_t *len, ierr *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        err_set(e, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = xmalloc(cap + 1);
    for (;;) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) break;
        cap *= 2;
        buf = xrealloc(buf, cap + 1);
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        err_set(e, "%s: read error", path);
        return NULL;
    }
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

static void hex(const unsigned char *d, unsigned n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = 0;
}

void sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    hex(md, mdlen, out);
}

int file_sha256(const char *path, char out[65], ierr *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        err_set(e, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    unsigned char buf[1 << 16];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) EVP_DigestUpdate(ctx, buf, got);
    int bad = ferror(f);
    fclose(f);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    if (bad) {
        err_set(e, "%s: read error", path);
        return -1;
    }
    hex(md, mdlen, out);
    return 0;
}

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int cpu_count(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
