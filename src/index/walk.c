/* walk.c — the directory walk that feeds the indexer.
 *
 * Candidates are chosen cheaply here (by extension, or by the first bytes
 * for files without an image extension) so that a README.txt next to the
 * photos is ignored silently, while a broken "photo.jpg" reaches img_load
 * and ends up in the errors table with its reason.
 */
#include "index/walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const image_exts[] = {
    "jpg", "jpeg", "jpe", "jfif", "png", "webp", "gif", "bmp", "dib", "pnm", "ppm", "pgm", "pbm",
};

static int has_image_ext(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name) return 0;
    for (size_t i = 0; i < sizeof image_exts / sizeof image_exts[0]; i++)
        if (!strcasecmp(dot + 1, image_exts[i])) return 1;
    return 0;
}

/* Strong signatures only: BMP's "BM" and PNM's "P6" are too common at the
 * start of text files to claim a file without an image extension. */
static int has_image_magic(const char *path)
{
    unsigned char b[12];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);   /* a FIFO must not block */
    if (fd < 0) return 0;
    ssize_t n = read(fd, b, sizeof b);
    close(fd);
    if (n >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff) return 1;
    if (n >= 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8)) return 1;
    if (n >= 6 && (!memcmp(b, "GIF87a", 6) || !memcmp(b, "GIF89a", 6))) return 1;
    if (n >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WEBP", 4)) return 1;
    return 0;
}

typedef struct walker {
    walk_result *out;
    struct { dev_t dev; ino_t ino; } *seen;
    int nseen, capseen;
} walker;

static int dir_seen(walker *w, const struct stat *st)
{
    for (int i = 0; i < w->nseen; i++)
        if (w->seen[i].dev == st->st_dev && w->seen[i].ino == st->st_ino) return 1;
    if (w->nseen == w->capseen) {
        w->capseen = w->capseen ? 2 * w->capseen : 64;
        w->seen = xrealloc(w->seen, (size_t)w->capseen * sizeof *w->seen);
    }
    w->seen[w->nseen].dev = st->st_dev;
    w->seen[w->nseen].ino = st->st_ino;
    w->nseen++;
    return 0;
}

static void add_file(walk_result *r, const char *path, const struct stat *st, int via_link)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 256;
        r->files = xrealloc(r->files, (size_t)r->cap * sizeof *r->files);
    }
    walk_file *f = &r->files[r->n++];
    f->path = xstrdup(path);
    f->size = (long long)st->st_size;
    f->mtime_ns = (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
    f->dev = (unsigned long long)st->st_dev;
    f->ino = (unsigned long long)st->st_ino;
    f->via_link = via_link;
}

static void add_str(char ***v, int *n, const char *s)
{
    *v = xrealloc(*v, (size_t)(*n + 1) * sizeof **v);
    (*v)[(*n)++] = xstrdup(s);
}

static void walk_dir(walker *w, const char *dir, int via_link)
{
    DIR *d = opendir(dir);
    if (!d) {
        log_warn("%s: cannot read directory: %s", dir, strerror(errno));
        add_str(&w->out->unreadable, &w->out->nunreadable, dir);
        return;
    }
    struct dirent *de;
    char path[PATH_MAX];
    /* Sub-directories are walked after the directory is closed, so deep
     * trees never hold more than one DIR open. */
    char **subdirs = NULL;
    int nsub = 0, *sublink = NULL;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= sizeof path) {
            log_warn("%s/%s: path too long, skipped", dir, de->d_name);
            continue;
        }
        struct stat st;
        int link = de->d_type == DT_LNK;
        if (de->d_type == DT_UNKNOWN && lstat(path, &st) == 0) link = S_ISLNK(st.st_mode);
        if (stat(path, &st) != 0) {
            /* A dangling symlink, or a file that just went away. */
            if (errno != ENOENT) log_warn("%s: %s", path, strerror(errno));
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            if (de->d_type == DT_LNK || de->d_type == DT_UNKNOWN) {
                /* A link to a directory that is walked anyway under its own
                 * name: take that name, so an image has one path whatever
                 * order readdir returns things in. */
                char real[PATH_MAX];
                if (realpath(path, real) && strcmp(real, path) != 0) {
                    int inside = 0;
                    for (int r = 0; r < w->out->nroots; r++)
                        if (path_under(real, w->out->roots[r]) &&
                            !strstr(real + strlen(w->out->roots[r]), "/."))
                            inside = 1;
                    if (inside) continue;
                }
            }
            if (!dir_seen(w, &st)) {
                sublink = xrealloc(sublink, (size_t)(nsub + 1) * sizeof *sublink);
                sublink[nsub] = via_link || link;
                add_str(&subdirs, &nsub, path);
            }
        } else if (S_ISREG(st.st_mode)) {
            if (has_image_ext(de->d_name) || has_image_magic(path)) add_file(w->out, path, &st, via_link || link);
        }
    }
    closedir(d);
    for (int i = 0; i < nsub; i++) {
        walk_dir(w, subdirs[i], sublink[i]);
        free(subdirs[i]);
    }
    free(subdirs);
    free(sublink);
}

static int cmp_files(const void *a, const void *b)
{
    return strcmp(((const walk_file *)a)->path, ((const walk_file *)b)->path);
}

/* By identity; among one file's names, the one without a link first, then by path. */
static int cmp_identity(const void *a, const void *b)
{
    const walk_file *x = *(const walk_file *const *)a, *y = *(const walk_file *const *)b;
    if (x->dev != y->dev) return x->dev < y->dev ? -1 : 1;
    if (x->ino != y->ino) return x->ino < y->ino ? -1 : 1;
    if (x->via_link != y->via_link) return x->via_link - y->via_link;
    return strcmp(x->path, y->path);
}

/* A file seen under several names of which some pass through a symbolic
 * link keeps one name: the link-free one (or the first, when every name
 * has a link).  Hard links — several real names — all stay. */
static void drop_link_twins(walk_result *r)
{
    if (r->n < 2) return;
    walk_file **v = xmalloc((size_t)r->n * sizeof *v);
    for (int i = 0; i < r->n; i++) v[i] = &r->files[i];
    qsort(v, (size_t)r->n, sizeof *v, cmp_identity);
    for (int i = 0; i < r->n;) {
        int j = i + 1;
        for (; j < r->n && v[j]->dev == v[i]->dev && v[j]->ino == v[i]->ino; j++)
            if (v[j]->via_link) {
                free(v[j]->path);
                v[j]->path = NULL;
            }
        i = j;
    }
    free(v);
    int k = 0;
    for (int i = 0; i < r->n; i++)
        if (r->files[i].path) r->files[k++] = r->files[i];
    r->n = k;
}

int walk_roots(char *const *roots, int nroots, walk_result *out, ierr *e)
{
    memset(out, 0, sizeof *out);
    walker w = {.out = out};
    struct stat *sts = xcalloc((size_t)nroots + 1, sizeof *sts);
    for (int i = 0; i < nroots; i++) {
        char canon[PATH_MAX];
        if (!realpath(roots[i], canon) || stat(canon, &sts[i]) != 0) {
            err_set(e, "%s: %s", roots[i], strerror(errno));
            goto fail;
        }
        if (!S_ISDIR(sts[i].st_mode) && !S_ISREG(sts[i].st_mode)) {
            err_set(e, "%s: not a directory or a regular file", roots[i]);
            goto fail;
        }
        add_str(&out->roots, &out->nroots, canon);
    }
    for (int i = 0; i < nroots; i++) {
        if (S_ISDIR(sts[i].st_mode)) {
            if (!dir_seen(&w, &sts[i])) walk_dir(&w, out->roots[i], 0);
        } else {
            /* A file named on the command line is indexed whatever its name. */
            add_file(out, out->roots[i], &sts[i], 0);
        }
    }
    free(sts);
    free(w.seen);
    if (out->n > 1) qsort(out->files, (size_t)out->n, sizeof *out->files, cmp_files);   /* never qsort(NULL, 0) */
    /* The same file named twice (two roots overlapping) is one file. */
    int k = 0;
    for (int i = 0; i < out->n; i++) {
        if (k && !strcmp(out->files[k - 1].path, out->files[i].path)) {
            free(out->files[i].path);
            continue;
        }
        out->files[k++] = out->files[i];
    }
    out->n = k;
    drop_link_twins(out);
    return 0;
fail:
    free(sts);
    free(w.seen);
    walk_free(out);
    return -1;
}

void walk_free(walk_result *w)
{
    for (int i = 0; i < w->n; i++) free(w->files[i].path);
    free(w->files);
    for (int i = 0; i < w->nunreadable; i++) free(w->unreadable[i]);
    free(w->unreadable);
    for (int i = 0; i < w->nroots; i++) free(w->roots[i]);
    free(w->roots);
    memset(w, 0, sizeof *w);
}

int path_under(const char *path, const char *root)
{
    size_t n = strlen(root);
    if (n == 1 && root[0] == '/') return path[0] == '/';
    return !strncmp(path, root, n) && (path[n] == 0 || path[n] == '/');
}
