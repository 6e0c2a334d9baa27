/* indexer.c — `imgdex index`: walk, plan, describe in parallel, store.
 *
 * Plan: the walk (sorted by path) is merge-joined with the catalogue's rows
 * (ORDER BY path).  A file whose size, mtime and describer version match its
 * row needs nothing; every other file becomes a job.
 *
 * Jobs go to N worker threads.  A worker hashes the file, and then
 *   - same content as its own row       -> TOUCH (only size/mtime change)
 *   - content already in the catalogue  -> COPY  (rename or copy: reuse)
 *   - content another worker is on      -> DEFER (wait for that one)
 *   - otherwise decode + describe        -> DESCRIBED or ERROR
 * An up-to-date row without a fingerprint (a catalogue older than them)
 * only has its file decoded and fingerprinted                -> FP
 * Each worker has its own describer (they are not thread-safe) and its own
 * read-only connection for the content lookup.
 *
 * The calling thread is the only writer: it takes results one at a time
 * and commits each in its own transaction, so `kill -9` loses at most the
 * images in flight, and a reader in another process waits at most one
 * image's commit.  Rows of files that disappeared are removed last, after
 * renamed files had the chance to copy from them.
 */
#include "index/catalogue.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "image/fingerprint.h"
#include "image/image.h"
#include "index/progress.h"
#include "index/walk.h"

/* Shorter side the describer gets at least: enough for the detectors and
 * OCR of ordinary text, small enough that a 12 MP JPEG is DCT-scaled on
 * decode instead of being inflated fully. */
#define WORK_MIN_SIDE 1024

enum { R_DESCRIBED, R_COPY, R_TOUCH, R_ERROR, R_DEFER, R_FATAL, R_FP, R_REJOINT };

typedef struct job {
    const char *path;
    long long size, mtime_ns;
    int64_t row_id;          /* this path's row, 0 when new */
    char row_hash[65];
    int row_current;         /* the row was made by the current describer */
    int force;               /* describe even if the content is known */
    int claimed;             /* this job claimed its hash: others wait for it */
    int fp_only;             /* up to date but for its fingerprint */
    int rejoint;             /* unchanged file, only the joint model is new: from stored features */
    char hash[65];
} job;

typedef struct result {
    int kind;
    job *j;
    description ds;
    img_meta meta;
    int transient;           /* the error may pass by itself: retry next run */
    img_fp fp;
    char reason[1024];
} result;

typedef struct shared {
    pthread_mutex_t mu;
    pthread_cond_t work_cv, res_cv, space_cv;
    job **q; int qhead, qn, qcap;        /* work queue */
    int closed;
    result **res; int rhead, rn, rcap;   /* results, a bounded ring */
    char (*claims)[65]; int nclaims, capclaims;
    describer **pool; int npool;         /* idle describers */
    const index_opts *o;
    const char *db_path;
    const char *version;
    int slow_ms;             /* $IMGDEX_TEST_SLOW_MS: lets tests kill a run mid-way */
    int nworkers;
} shared;

/* ---- the shared queues (callers hold s->mu) ------------------------------ */

static void q_push(shared *s, job *j)
{
    if (s->qn == s->qcap) {
        s->qcap = s->qcap ? 2 * s->qcap : 64;
        s->q = xrealloc(s->q, (size_t)s->qcap * sizeof *s->q);
    }
    s->q[s->qn++] = j;
    pthread_cond_signal(&s->work_cv);
}

static int claim_find(shared *s, const char *hash)
{
    for (int i = 0; i < s->nclaims; i++)
        if (!strcmp(s->claims[i], hash)) return i;
    return -1;
}

static void claim_drop(shared *s, const char *hash)
{
    int i = claim_find(s, hash);
    if (i >= 0) memcpy(s->claims[i], s->claims[--s->nclaims], 65);
}

/* ---- workers ------------------------------------------------------------- */

typedef struct worker {
    shared *s;
    pthread_t th;
    catalogue *ro;           /* content lookups */
    describer *d;            /* opened on first use */
} worker;

static int64_t find_content(sqlite3 *db, const char *hash, const char *version)
{
    sqlite3_stmt *st;
    int64_t id = 0;
    if (sqlite3_prepare_v2(db, "SELECT id FROM images WHERE hash=? AND describer=? ORDER BY id LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, version, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) == SQLITE_ROW) id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return id;
}

static int open_describer(worker *w, result *r)
{
    shared *s = w->s;
    ierr e = {0};
    if (w->d) return 0;
    pthread_mutex_lock(&s->mu);
    if (s->npool) w->d = s->pool[--s->npool];
    pthread_mutex_unlock(&s->mu);
    if (!w->d && !(w->d = describer_open(&s->o->describe, &e))) {
        r->kind = R_FATAL;
        snprintf(r->reason, sizeof r->reason, "%s", e.msg);
        return -1;
    }
    return 0;
}

/* A new joint model and an unchanged file with stored features: the joint
 * stage alone, on the stored description.  0 when done, -1 when the image
 * must be described in full after all (no features of the right kind). */
static int rejoint(worker *w, job *j, result *r)
{
    ierr e = {0};
    if (!w->ro || open_describer(w, r) != 0) return r->kind == R_FATAL ? 0 : -1;
    if (cat_get(w->ro, j->row_id, &r->ds, &e) != 0) return -1;
    if (describe_joint(w->d, &r->ds, &e) != 0) {
        description_free(&r->ds);
        return -1;
    }
    r->kind = R_REJOINT;
    return 0;
}

static void process(worker *w, job *j, result *r)
{
    shared *s = w->s;
    ierr e = {0};
    r->j = j;
    img im = {0};
    img_load_opts lo = {.min_side = WORK_MIN_SIDE, .max_pixels = s->o->max_pixels};
    /* Refused by size before a byte is read: hashing a mistaken 8 GiB file
     * only to refuse it afterwards would cost minutes. */
    if (j->size > img_max_file_bytes()) {
        r->kind = R_ERROR;
        snprintf(r->reason, sizeof r->reason, "%s: file too large (%lld bytes, the limit is %lld)", j->path,
                 j->size, img_max_file_bytes());
        return;
    }
    if (j->fp_only) {
        /* Decoded the way the describer would, so the fingerprint is the one
         * a full run would have stored. */
        if (img_load(j->path, &lo, &im, NULL, &e) != 0) {
            r->kind = R_ERROR;
            r->transient = e.transient;
            snprintf(r->reason, sizeof r->reason, "%s", e.msg);
            return;
        }
        img_fingerprint(&im, &r->fp);
        img_free(&im);
        r->kind = R_FP;
        return;
    }
    if (j->rejoint && !j->force && rejoint(w, j, r) == 0) return;
    if (!j->hash[0] && file_sha256(j->path, j->hash, &e) != 0) {
        r->kind = R_ERROR;
        r->transient = e.transient;
        snprintf(r->reason, sizeof r->reason, "%s", e.msg);
        return;
    }
    if (!j->force) {
        if (j->row_id && j->row_current && !strcmp(j->hash, j->row_hash)) {
            r->kind = R_TOUCH;
            return;
        }
        if (w->ro && find_content(cat_db(w->ro), j->hash, s->version)) {
            r->kind = R_COPY;
            return;
        }
        pthread_mutex_lock(&s->mu);
        int busy = claim_find(s, j->hash) >= 0;
        if (!busy) {
            if (s->nclaims == s->capclaims) {
                s->capclaims = s->capclaims ? 2 * s->capclaims : 16;
                s->claims = xrealloc(s->claims, (size_t)s->capclaims * sizeof *s->claims);
            }
            memcpy(s->claims[s->nclaims++], j->hash, 65);
            j->claimed = 1;
        }
        pthread_mutex_unlock(&s->mu);
        if (busy) {
            r->kind = R_DEFER;
            return;
        }
    }
    if (open_describer(w, r) != 0) return;
    if (s->slow_ms > 0) usleep((useconds_t)s->slow_ms * 1000);
    if (img_load(j->path, &lo, &im, &r->meta, &e) != 0) {
        r->kind = R_ERROR;
        r->transient = e.transient;
        snprintf(r->reason, sizeof r->reason, "%s", e.msg);
        return;
    }
    img_fingerprint(&im, &r->fp);
    int rc = describe_image(w->d, &im, &r->meta, &r->ds, &e);
    img_free(&im);
    if (rc != 0) {
        description_free(&r->ds);
        r->kind = R_ERROR;
        snprintf(r->reason, sizeof r->reason, "%s", e.msg[0] ? e.msg : "cannot describe");
        return;
    }
    r->kind = R_DESCRIBED;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    shared *s = w->s;
    /* A worker per core already keeps the cores busy, one image each.
     * Fewer workers than cores (--jobs) share the engine's pool instead. */
    if (s->nworkers > 1 && s->nworkers >= cpu_count()) engine_thread_serial(1);
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (s->qhead == s->qn && !s->closed) pthread_cond_wait(&s->work_cv, &s->mu);
        if (s->closed) {
            pthread_mutex_unlock(&s->mu);
            break;
        }
        job *j = s->q[s->qhead++];
        pthread_mutex_unlock(&s->mu);

        result *r = xcalloc(1, sizeof *r);
        process(w, j, r);

        pthread_mutex_lock(&s->mu);
        while (s->rn == s->rcap) pthread_cond_wait(&s->space_cv, &s->mu);
        s->res[(s->rhead + s->rn++) % s->rcap] = r;
        pthread_cond_signal(&s->res_cv);
        pthread_mutex_unlock(&s->mu);
    }
    return NULL;
}

/* ---- planning ------------------------------------------------------------ */

/* 1 when two describer versions differ in the joint stage's word only
 * ("... joint:missing" -> "... joint:flickr8k-joint@1a2b3c4d"). */
static void drop_joint(const char *v, char *out, size_t n)
{
    const char *p = strstr(v, " joint:");
    if (!p) {
        snprintf(out, n, "%s", v);
        return;
    }
    const char *end = p + 7 + strcspn(p + 7, " ");
    snprintf(out, n, "%.*s%s", (int)(p - v), v, end);
}

static int only_joint_differs(const char *a, const char *b)
{
    char x[512], y[512];
    drop_joint(a, x, sizeof x);
    drop_joint(b, y, sizeof y);
    const char *j = strstr(b, " joint:");
    /* a real model ("name@hash"), not "missing" or "needs-features/2" */
    return !strcmp(x, y) && j && memchr(j, '@', strcspn(j + 1, " ") + 1) && strcmp(a, b);
}

typedef struct row {
    int64_t id;
    char *path, *describer;
    long long size, mtime_ns;
    char hash[65];
    int has_fp;
} row;

static int load_rows(sqlite3 *db, const char *sql, row **out, int *n)
{
    sqlite3_stmt *st;
    *out = NULL;
    *n = 0;
    int cap = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 256;
            *out = xrealloc(*out, (size_t)cap * sizeof **out);
        }
        row *r = &(*out)[(*n)++];
        memset(r, 0, sizeof *r);
        r->id = sqlite3_column_int64(st, 0);
        r->path = xstrdup((const char *)sqlite3_column_text(st, 1));
        r->size = sqlite3_column_int64(st, 2);
        r->mtime_ns = sqlite3_column_int64(st, 3);
        const unsigned char *h = sqlite3_column_text(st, 4);
        snprintf(r->hash, sizeof r->hash, "%s", h ? (const char *)h : "");
        const unsigned char *d = sqlite3_column_text(st, 5);
        r->describer = xstrdup(d ? (const char *)d : "");
        r->has_fp = sqlite3_column_count(st) > 6 && sqlite3_column_int(st, 6);
    }
    sqlite3_finalize(st);
    return 0;
}

static void free_rows(row *r, int n)
{
    for (int i = 0; i < n; i++) {
        free(r[i].path);
        free(r[i].describer);
    }
    free(r);
}

/* Under one of the roots walked, and not under a directory we could not
 * read (whose files we did not see, but must not forget). */
static int in_scope(const walk_result *w, const char *path)
{
    int in = 0;
    for (int i = 0; i < w->nroots && !in; i++) in = path_under(path, w->roots[i]);
    for (int i = 0; i < w->nunreadable && in; i++)
        if (path_under(path, w->unreadable[i])) in = 0;
    return in;
}

/* ---- the writer ---------------------------------------------------------- */

typedef struct run {
    shared s;
    catalogue *c;
    index_stats *st;
    progress pg;
    int done, total;
    job **parked; int nparked;
    ierr fatal;
} run;

static void warn(run *R, const char *msg) { progress_warn(&R->pg, msg); }

static void finish(run *R)
{
    R->done++;
    progress_set(&R->pg, R->done);
}

static void requeue(run *R, job *j)
{
    j->force = 1;
    pthread_mutex_lock(&R->s.mu);
    q_push(&R->s, j);
    pthread_mutex_unlock(&R->s.mu);
}

static int store_copy(run *R, job *j, int64_t from)
{
    ierr e = {0};
    cat_file f = {.path = j->path, .size = j->size, .mtime_ns = j->mtime_ns, .hash = j->hash,
                  .describer = R->s.version};
    if (cat_copy(R->c, from, &f, &e) <= 0) {
        err_set(&R->fatal, "%s", e.msg);
        return -1;
    }
    R->st->renamed++;
    finish(R);
    return 0;
}

static int handle(run *R, result *r)
{
    job *j = r->j;
    ierr e = {0};
    switch (r->kind) {
    case R_FATAL:
        err_set(&R->fatal, "%s", r->reason);
        return -1;
    case R_FP:
        if (cat_put_fingerprint(R->c, j->row_id, &r->fp, &e) != 0) {
            err_set(&R->fatal, "%s", e.msg);
            return -1;
        }
        R->st->fingerprinted++;
        finish(R);
        return 0;
    case R_REJOINT:
        if (cat_put_joint(R->c, j->row_id, &r->ds, R->s.version, &e) != 0) {
            err_set(&R->fatal, "%s", e.msg);
            return -1;
        }
        R->st->described++;
        R->st->rejoint++;
        finish(R);
        return 0;
    case R_TOUCH:
        if (cat_touch(R->c, j->row_id, j->size, j->mtime_ns, &e) != 0) {
            err_set(&R->fatal, "%s", e.msg);
            return -1;
        }
        R->st->unchanged++;
        finish(R);
        return 0;
    case R_COPY:
    case R_DEFER: {
        int64_t from = find_content(cat_db(R->c), j->hash, R->s.version);
        if (from) return store_copy(R, j, from);
        pthread_mutex_lock(&R->s.mu);
        int busy = claim_find(&R->s, j->hash) >= 0;
        pthread_mutex_unlock(&R->s.mu);
        if (r->kind == R_DEFER && busy) {
            /* Its twin is being described right now; copy when it lands. */
            R->parked = xrealloc(R->parked, (size_t)(R->nparked + 1) * sizeof *R->parked);
            R->parked[R->nparked++] = j;
        } else {
            /* The source changed or failed meanwhile: describe this one. */
            requeue(R, j);
        }
        return 0;
    }
    case R_ERROR:
        warn(R, r->reason);
        /* A transient error is stored without size and mtime (-1): they never
         * match, so the next run tries the file again (after a chmod, with a
         * larger --max-pixels) instead of taking it for still broken. */
        if (cat_record_error_file(R->c, j->path, r->reason, r->transient ? -1 : j->size,
                                  r->transient ? -1 : j->mtime_ns, &e) != 0) {
            err_set(&R->fatal, "%s", e.msg);
            return -1;
        }
        R->st->errors++;
        finish(R);
        break;
    case R_DESCRIBED: {
        cat_file f = {.path = j->path, .size = j->size, .mtime_ns = j->mtime_ns, .hash = j->hash,
                      .meta = &r->meta, .describer = R->s.version, .fp = &r->fp};
        if (cat_put(R->c, &f, &r->ds, &e) <= 0) {
            err_set(&R->fatal, "%s", e.msg);
            return -1;
        }
        R->st->described++;
        finish(R);
        break;
    }
    }
    /* DESCRIBED or ERROR of a job that others may be waiting on. */
    if (j->claimed) {
        pthread_mutex_lock(&R->s.mu);
        claim_drop(&R->s, j->hash);
        pthread_mutex_unlock(&R->s.mu);
        int k = 0;
        for (int i = 0; i < R->nparked; i++) {
            job *p = R->parked[i];
            if (strcmp(p->hash, j->hash)) {
                R->parked[k++] = p;
            } else if (r->kind == R_DESCRIBED) {
                int64_t from = find_content(cat_db(R->c), p->hash, R->s.version);
                if (!from) {
                    requeue(R, p);
                } else if (store_copy(R, p, from) != 0) {
                    return -1;
                }
            } else {
                requeue(R, p);
            }
        }
        R->nparked = k;
    }
    return 0;
}

/* ---- the run ------------------------------------------------------------- */

void index_opts_default(index_opts *o)
{
    memset(o, 0, sizeof *o);
    o->jobs = 0;
    o->progress = isatty(2);
    describe_opts_default(&o->describe);
}

static int remove_gone(run *R, const walk_result *w, row *rows, int nrows, char *const *keep, int nkeep)
{
    ierr e = {0};
    /* keep[] is sorted like rows[]: walk one against the other. */
    int k = 0;
    for (int i = 0; i < nrows; i++) {
        int c = 1;
        while (k < nkeep && (c = strcmp(keep[k], rows[i].path)) < 0) k++;
        if (c == 0 || !in_scope(w, rows[i].path)) continue;
        if (cat_remove(R->c, rows[i].id, &e) != 0) {
            err_set(&R->fatal, "%s", e.msg);
            return -1;
        }
        R->st->removed++;
    }
    return 0;
}

static int forget_errors(run *R, const walk_result *w)
{
    /* Error rows of files that are gone, or are no longer candidates. */
    row *er;
    int ner;
    if (load_rows(cat_db(R->c), "SELECT 0, path, size, mtime_ns, '', '' FROM errors ORDER BY path", &er,
                  &ner) != 0)
        return 0;
    sqlite3_stmt *del = NULL;
    sqlite3_prepare_v2(cat_db(R->c), "DELETE FROM errors WHERE path=?", -1, &del, NULL);
    int k = 0;
    for (int i = 0; i < ner && del; i++) {
        int c = 1;
        while (k < w->n && (c = strcmp(w->files[k].path, er[i].path)) < 0) k++;
        if (c == 0 || !in_scope(w, er[i].path)) continue;
        sqlite3_reset(del);
        sqlite3_bind_text(del, 1, er[i].path, -1, SQLITE_TRANSIENT);
        sqlite3_step(del);
    }
    sqlite3_finalize(del);
    free_rows(er, ner);
    return 0;
}

/* Adds a describer's per-stage time to the run's. */
static void add_stage_times(index_stats *st, const describer *d)
{
    if (!d) return;
    const char *names[24];
    double sec[24];
    int runs[24];
    int n = describer_stage_times(d, names, sec, runs, 24);
    for (int i = 0; i < n; i++) {
        st->stage_names[i] = names[i];
        st->stage_seconds[i] += sec[i];
        st->stage_runs[i] += runs[i];
    }
    if (n > st->nstages) st->nstages = n;
}

int index_run(const char *db_path, char *const *dirs, int ndirs, const index_opts *o,
              index_stats *st, ierr *e)
{
    double t0 = now_seconds();
    memset(st, 0, sizeof *st);
    walk_result w;
    if (walk_roots(dirs, ndirs, &w, e) != 0) return -1;
    st->seen = w.n;

    run R;
    memset(&R, 0, sizeof R);
    R.st = st;
    shared *s = &R.s;
    s->o = o;
    s->db_path = db_path;
    const char *slow = getenv("IMGDEX_TEST_SLOW_MS");
    s->slow_ms = slow ? atoi(slow) : 0;
    int rc = -1;
    row *rows = NULL, *errs = NULL;
    int nrows = 0, nerrs = 0;
    job *jobs = NULL;
    worker *ws = NULL;
    int nw = 0;
    describer *first = NULL;
    char version[512] = "";

    if (!(R.c = cat_open(db_path, 0, e))) goto out;
    /* The version decides what is up to date, so one describer is needed
     * even when nothing will be described; it becomes a worker's later. */
    if (w.n > 0) {
        if (!(first = describer_open(&o->describe, e))) goto out;
        snprintf(version, sizeof version, "%s", describer_version(first));
    }
    s->version = version;
    char rows_sql[256];
    snprintf(rows_sql, sizeof rows_sql,
             "SELECT id, path, size, mtime_ns, hash, describer, EXISTS(SELECT 1 FROM fingerprints f"
             " WHERE f.image_id=images.id AND f.version=%d) FROM images ORDER BY path", FP_VERSION);
    if (load_rows(cat_db(R.c), rows_sql, &rows, &nrows) != 0 ||
        load_rows(cat_db(R.c), "SELECT 0, path, size, mtime_ns, '', reason FROM errors ORDER BY path",
                  &errs, &nerrs) != 0) {
        err_set(e, "%s: cannot read the catalogue: %s", db_path, sqlite3_errmsg(cat_db(R.c)));
        goto out;
    }

    img_load_opts limits = {.max_pixels = o->max_pixels};
    long long limit = img_pixel_limit(&limits);
    /* Plan: merge the sorted walk with the sorted rows. */
    jobs = xcalloc((size_t)w.n + 1, sizeof *jobs);
    int njobs = 0;
    for (int i = 0, r = 0, x = 0; i < w.n; i++) {
        const walk_file *f = &w.files[i];
        int c = 1, ce = 1;
        while (r < nrows && (c = strcmp(rows[r].path, f->path)) < 0) r++;
        while (x < nerrs && (ce = strcmp(errs[x].path, f->path)) < 0) x++;
        job *j = &jobs[njobs];
        memset(j, 0, sizeof *j);
        j->path = f->path;
        j->size = f->size;
        j->mtime_ns = f->mtime_ns;
        if (r < nrows && c == 0) {
            const row *rw = &rows[r];
            int current = !strcmp(rw->describer, s->version);
            if (current && rw->size == f->size && rw->mtime_ns == f->mtime_ns) {
                if (rw->has_fp) {
                    st->unchanged++;
                    continue;
                }
                j->fp_only = 1;
            }
            j->row_id = rw->id;
            memcpy(j->row_hash, rw->hash, sizeof j->row_hash);
            j->row_current = current;
            j->rejoint = !current && rw->size == f->size && rw->mtime_ns == f->mtime_ns &&
                         only_joint_differs(rw->describer, s->version);
        } else if (x < nerrs && ce == 0 && errs[x].size == f->size && errs[x].mtime_ns == f->mtime_ns &&
                   !(img_error_pixels(errs[x].describer) > 0 && img_error_pixels(errs[x].describer) <= limit)) {
            /* Broken last time and not touched since: it is still broken
             * (unless it was only too large for the limit then in force). */
            st->known_errors++;
            continue;
        }
        njobs++;
    }

    R.total = njobs;
    if (njobs > 0) {
        int n = o->jobs > 0 ? o->jobs : cpu_count();
        if (n > njobs) n = njobs;
        pthread_mutex_init(&s->mu, NULL);
        pthread_cond_init(&s->work_cv, NULL);
        pthread_cond_init(&s->res_cv, NULL);
        pthread_cond_init(&s->space_cv, NULL);
        s->rcap = 2 * n + 2;
        s->nworkers = n;
        s->res = xcalloc((size_t)s->rcap, sizeof *s->res);
        for (int i = 0; i < njobs; i++) q_push(s, &jobs[i]);
        s->pool = xcalloc(1, sizeof *s->pool);
        s->pool[s->npool++] = first;
        first = NULL;
        progress_start(&R.pg, o->progress, njobs);
        ws = xcalloc((size_t)n, sizeof *ws);
        for (nw = 0; nw < n; nw++) {
            ws[nw].s = s;
            ierr ro = {0};
            ws[nw].ro = cat_open(db_path, 1, &ro);
            if (pthread_create(&ws[nw].th, NULL, worker_main, &ws[nw]) != 0) {
                cat_close(ws[nw].ro);
                err_set(e, "cannot start worker threads");
                break;
            }
        }
        int failed = nw == 0;
        while (!failed && R.done < R.total) {
            pthread_mutex_lock(&s->mu);
            while (s->rn == 0) pthread_cond_wait(&s->res_cv, &s->mu);
            result *r = s->res[s->rhead];
            s->rhead = (s->rhead + 1) % s->rcap;
            s->rn--;
            pthread_cond_signal(&s->space_cv);
            pthread_mutex_unlock(&s->mu);
            if (handle(&R, r) != 0) failed = 1;
            description_free(&r->ds);
            free(r);
        }
        progress_end(&R.pg);
        pthread_mutex_lock(&s->mu);
        s->closed = 1;
        pthread_cond_broadcast(&s->work_cv);
        pthread_cond_broadcast(&s->space_cv);
        pthread_mutex_unlock(&s->mu);
        /* After a failure, workers may still be blocked handing in results:
         * make room (each hands in at most one more, and rcap > workers). */
        pthread_mutex_lock(&s->mu);
        while (s->rn > 0) {
            result *r = s->res[s->rhead];
            s->rhead = (s->rhead + 1) % s->rcap;
            s->rn--;
            description_free(&r->ds);
            free(r);
        }
        pthread_cond_broadcast(&s->space_cv);
        pthread_mutex_unlock(&s->mu);
        for (int i = 0; i < nw; i++) {
            pthread_join(ws[i].th, NULL);
            add_stage_times(st, ws[i].d);
            describer_close(ws[i].d);
            cat_close(ws[i].ro);
        }
        /* Results handed in between the drain and the joins. */
        for (int i = 0; i < s->rn; i++) {
            result *r = s->res[(s->rhead + i) % s->rcap];
            description_free(&r->ds);
            free(r);
        }
        for (int i = 0; i < s->npool; i++) {
            add_stage_times(st, s->pool[i]);
            describer_close(s->pool[i]);
        }
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->work_cv);
        pthread_cond_destroy(&s->res_cv);
        pthread_cond_destroy(&s->space_cv);
        if (failed) {
            if (R.fatal.set) err_set(e, "%s", R.fatal.msg);
            goto out;
        }
    }

    /* Forget what disappeared, now that renames had their chance to copy. */
    char **keep = xcalloc((size_t)w.n + 1, sizeof *keep);
    for (int i = 0; i < w.n; i++) keep[i] = w.files[i].path;
    int gone = remove_gone(&R, &w, rows, nrows, keep, w.n);
    free(keep);
    if (gone != 0) {
        err_set(e, "%s", R.fatal.msg);
        goto out;
    }
    forget_errors(&R, &w);
    rc = 0;
out:
    st->seconds = now_seconds() - t0;
    if (first) describer_close(first);
    free(ws);
    free(s->q);
    free(s->res);
    free(s->claims);
    free(s->pool);
    free(R.parked);
    free(jobs);
    free_rows(rows, nrows);
    free_rows(errs, nerrs);
    cat_close(R.c);
    walk_free(&w);
    return rc;
}
