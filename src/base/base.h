/* base.h — what every module of imgdex may use: errors, logging, paths.
 *
 * Errors travel as an `ierr`: the function that fails fills it with one
 * human sentence that names the file and the reason ("photo.jpg: truncated
 * JPEG data"), and returns -1 (or NULL).  Callers add context, never replace it.
 */
#ifndef IMGDEX_BASE_H
#define IMGDEX_BASE_H

#include <stddef.h>
#include <stdint.h>

#define IMGDEX_VERSION "0.1.0"

typedef struct ierr {
    int set;
    char msg[1024];
} ierr;

/* printf-style; keeps the first error set (the root cause) unless reset. */
void err_set(ierr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefix the current message with "context: ". */
void err_prefix(ierr *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void err_clear(ierr *e);

/* Log to stderr: "imgdex: warning: ..." etc.  Quiet with IMGDEX_QUIET=1. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* malloc/calloc/realloc/strdup that abort with a message on exhaustion:
 * running out of memory is not an input error we can name a file for. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* Directory holding model files: $IMGDEX_MODELS, else PREFIX/share/imgdex/models,
 * else <source tree>/models.  Writes into buf, returns buf. */
const char *path_models_dir(char *buf, size_t n);
/* imgdex's own trained model (src/models/joint.h): $IMGDEX_JOINT, else
 * flickr8k-joint.safetensors in $IMGDEX_MODELS or PREFIX/share/imgdex/models
 * when there, else the copy shipped in the source tree (share/models/). */
const char *path_joint_model(char *buf, size_t n);
/* Directory holding the web page: $IMGDEX_WEB, PREFIX/share/imgdex/web, <src>/web. */
const char *path_web_dir(char *buf, size_t n);
/* Default database: $IMGDEX_DB, else $XDG_DATA_HOME/imgdex/index.db, else
 * ~/.local/share/imgdex/index.db.  Creates the directory. -1 on failure. */
int path_default_db(char *buf, size_t n, ierr *e);
/* mkdir -p */
int path_mkdirs(const char *dir, ierr *e);

/* Whole file into memory (NUL-terminated for convenience). NULL + ierr on failure. */
unsigned char *file_read_all(const char *path, size_t *len, ierr *e);

/* SHA-256 of a file as 64 hex chars + NUL (libcrypto). */
int file_sha256(const char *path, char out[65], ierr *e);
void sha256_hex(const void *data, size_t len, char out[65]);

/* Monotonic seconds, for timing. */
double now_seconds(void);

/* Number of online CPUs (>= 1). */
int cpu_count(void);

#endif
