/* bench_embed.h — the whole-collection embedding scan of search (issue 12),
 * included by bench/bench_query.c.
 *
 * A joint model is written here (bench_joint_model: 256 dimensions as
 * `imgdex train` makes them, random word vectors for the words of the
 * sentence queries) and every image of a catalogue gets a stored joint
 * embedding (random, clustered like real photos, int8 as the describer
 * stores them).  Then, on the same catalogue:
 *   - the first query of a process loads the vectors (once per process);
 *   - the scan alone (query text -> vector -> cosine with every image ->
 *     the best 200), CPU p50, against two peers measured in the same run:
 *     a plain scalar float32 scan over the same vectors in memory, and
 *     SQLite reading every blob and computing the cosine;
 *   - sentence queries through search_run (structured stages + the scan);
 *   - the process's RSS.
 */
#ifndef IMGDEX_BENCH_EMBED_H
#define IMGDEX_BENCH_EMBED_H

#include "models/joint.h"
#include "query/embscan.h"
#include "describe/features.h"

#define BENCH_EMB_DIM 256   /* what `imgdex train` makes by default */

static const char *const emb_words[] = {
    "dog", "run", "beach", "child", "play", "snow", "man", "climb", "rock", "girl", "pink", "dress", "jump",
    "person", "sit", "bench", "park", "black", "swim", "water", "grass", "ball", "white", "red", "blue",
    "street", "woman", "ride", "bike", "field", "brown", "two", "wave", "surf", "mountain", "walk",
};
#define EMB_NWORDS (int)(sizeof emb_words / sizeof emb_words[0])

static const char *const emb_sentences[] = {
    "a dog running on the beach", "two children playing in the snow", "a man climbing a rock",
    "a girl in a pink dress jumping", "people sitting on a bench in a park", "a black dog swimming in the water",
};
#define EMB_NSENT 6

/* The model file (written once, deterministic); its path in path. */
static int bench_joint_model(const char *dir, char *path, size_t n)
{
    snprintf(path, n, "%s/bench-joint-%d.safetensors", dir, BENCH_EMB_DIM);
    struct stat sb;
    if (stat(path, &sb) == 0) return 0;
    gen_rng r = {7};
    float *vecs = malloc(sizeof(float) * EMB_NWORDS * BENCH_EMB_DIM);
    for (int i = 0; i < EMB_NWORDS * BENCH_EMB_DIM; i++) vecs[i] = gen_unif(&r) - 0.5f;
    float *w = calloc((size_t)BENCH_EMB_DIM * FEAT_DIM, sizeof(float));
    float *b = calloc(BENCH_EMB_DIM, sizeof(float));
    float *mean = calloc(FEAT_DIM, sizeof(float)), *scale = malloc(sizeof(float) * FEAT_DIM);
    for (int i = 0; i < FEAT_DIM; i++) scale[i] = 1;
    static const char *mk[] = {"trained_on"};
    static const char *mv[] = {"nothing: random weights for bench_query"};
    joint_spec s = {
        .name = "bench-joint", .feature_kind = FEAT_KIND, .feature_dim = FEAT_DIM, .dim = BENCH_EMB_DIM,
        .feat_mean = mean, .feat_scale = scale,
        .image_layers = 1, .image_sizes = {FEAT_DIM, BENCH_EMB_DIM}, .image_w = {w}, .image_b = {b},
        .nwords = EMB_NWORDS, .word_dim = BENCH_EMB_DIM, .words = emb_words, .word_vecs = vecs,
        .meta_keys = mk, .meta_vals = mv, .nmeta = 1,
    };
    ierr e = {0};
    int rc = joint_save(path, &s, &e);
    if (rc) fprintf(stderr, "bench_query: %s\n", e.msg);
    free(vecs); free(w); free(b); free(mean); free(scale);
    return rc;
}

/* Every image of the catalogue gets a joint embedding of model id (once:
 * skipped when they are there).  Vectors: one of 256 random centres plus
 * noise, normalised, int8 as cat_vec_encode_i8 stores them. */
static int bench_add_embeddings(const char *path, const char *model, ierr *e)
{
    catalogue *c = cat_open(path, 0, e);
    if (!c) return -1;
    sqlite3 *db = cat_db(c);
    sqlite3_stmt *st;
    long have = 0, images = 0;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM images", -1, &st, NULL);
    if (sqlite3_step(st) == SQLITE_ROW) images = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_prepare_v2(db, "SELECT count(*) FROM embeddings WHERE region_idx=-1 AND model=?1", -1, &st, NULL);
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) have = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (have >= images) { cat_close(c); return 0; }
    printf("adding %ld joint embeddings (%d dimensions, int8) ...\n", images, BENCH_EMB_DIM);
    fflush(stdout);
    double t0 = now_seconds();
    enum { NC = 256 };
    gen_rng r = {11};
    float *cent = malloc(sizeof(float) * NC * BENCH_EMB_DIM), v[BENCH_EMB_DIM];
    for (int i = 0; i < NC * BENCH_EMB_DIM; i++) cent[i] = gen_unif(&r) - 0.5f;
    uint8_t blob[BENCH_EMB_DIM + 4];
    sqlite3_exec(db, "BEGIN; DELETE FROM embeddings WHERE region_idx=-1", NULL, NULL, NULL);
    sqlite3_stmt *ids, *ins;
    sqlite3_prepare_v2(db, "SELECT id FROM images ORDER BY id", -1, &ids, NULL);
    sqlite3_prepare_v2(db, "INSERT INTO embeddings(image_id, region_idx, model, dim, vec) VALUES(?1,-1,?2,?3,?4)",
                       -1, &ins, NULL);
    while (sqlite3_step(ids) == SQLITE_ROW) {
        const float *ce = cent + (gen_next(&r) % NC) * BENCH_EMB_DIM;
        double nn = 0;
        for (int j = 0; j < BENCH_EMB_DIM; j++) {
            v[j] = ce[j] + 0.6f * (gen_unif(&r) - 0.5f);
            nn += (double)v[j] * v[j];
        }
        for (int j = 0; j < BENCH_EMB_DIM; j++) v[j] /= (float)sqrt(nn);
        cat_vec_encode_i8(v, BENCH_EMB_DIM, blob);
        sqlite3_reset(ins);
        sqlite3_bind_int64(ins, 1, sqlite3_column_int64(ids, 0));
        sqlite3_bind_text(ins, 2, model, -1, SQLITE_STATIC);
        sqlite3_bind_int(ins, 3, BENCH_EMB_DIM);
        sqlite3_bind_blob(ins, 4, blob, (int)sizeof blob, SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE) {
            err_set(e, "%s: %s", path, sqlite3_errmsg(db));
            break;
        }
    }
    sqlite3_finalize(ids);
    sqlite3_finalize(ins);
    int rc = e->set ? -1 : 0;
    sqlite3_exec(db, rc ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
    free(cent);
    cat_close(c);
    printf("  added in %.1f s\n", now_seconds() - t0);
    return rc;
}

/* A line of /proc/self/status ("VmRSS:", "RssAnon:", "RssFile:"), in kB. */
static long status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    size_t l = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, l)) kb = atol(line + l);
    if (f) fclose(f);
    return kb;
}

static long rss_kb(void) { return status_kb("VmRSS:"); }

/* A catalogue of n bare images (no regions, no tokens): only for the scan
 * at sizes whose full generation takes too long (IMGDEX_BENCH_EMBED_BARE). */
static int bench_bare_catalogue(const char *dir, long n, char *path, size_t pn)
{
    snprintf(path, pn, "%s/bare-%ld.db", dir, n);
    struct stat sb;
    if (stat(path, &sb) == 0) return 0;
    ierr e = {0};
    catalogue *c = cat_open(path, 0, &e);
    if (!c) { fprintf(stderr, "bench_query: %s\n", e.msg); return -1; }
    sqlite3 *db = cat_db(c);
    double t0 = now_seconds();
    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "INSERT INTO images(id, path, size, mtime_ns, hash, indexed_at, describer) VALUES(?1, "
                           "'/bench/'||?1||'.jpg', 1, 1, '', '2026-01-01 00:00:00', 'bare')", -1, &st, NULL);
    for (long i = 1; i <= n; i++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, i);
        sqlite3_step(st);
    }
    sqlite3_finalize(st);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    cat_close(c);
    printf("bare catalogue of %ld images in %.1f s\n", n, now_seconds() - t0);
    return 0;
}

/* The scan, its peers, and sentence queries on catalogue path. */
static int bench_embedding(const char *path, long n, const char *model_path)
{
    ierr e = {0};
    joint_model *m = joint_open(model_path, &e);
    if (!m) { fprintf(stderr, "bench_query: %s\n", e.msg); return -1; }
    if (bench_add_embeddings(path, joint_id(m), &e) != 0) { fprintf(stderr, "bench_query: %s\n", e.msg); return -1; }
    catalogue *c = cat_open(path, 1, &e);
    if (!c) { fprintf(stderr, "bench_query: %s\n", e.msg); return -1; }
    sqlite3 *db = cat_db(c);
    long rss0 = rss_kb();
    double t0 = now_seconds(), c0 = cpu_now();
    emb_set *s = emb_acquire(db, joint_id(m));
    double load_ms = (now_seconds() - t0) * 1e3, load_cpu = (cpu_now() - c0) * 1e3;
    if (!s) { fprintf(stderr, "bench_query: no embeddings loaded\n"); cat_close(c); return -1; }
    int cnt = emb_count(s);
    emb_release(s);
    long rss1 = rss_kb();
    printf("%-8ld embeddings: %d vectors loaded in %.0f ms (%.0f ms CPU) on the first query of a process; "
           "%.0f MB held (RSS +%.0f MB)\n", n, cnt, load_ms, load_cpu, (double)emb_bytes_loaded() / 1e6,
           (double)(rss1 - rss0) / 1024);

    /* the scalar peer: the same vectors as float32 in one array */
    float *all = malloc(sizeof(float) * (size_t)cnt * BENCH_EMB_DIM);
    s = emb_acquire(db, joint_id(m));
    for (int i = 0; i < cnt; i++) emb_vector(s, i, all + (size_t)i * BENCH_EMB_DIM);
    emb_release(s);

    float q[BENCH_EMB_DIM];
    double cs[64], cp[64], cq[64];
    int ns = 0, np = 0, nq = 0;
    long agree = 0, asked = 0;   /* best 200 of the scan vs the exact float32 best 200 */
    int64_t *bid = malloc(sizeof(int64_t) * 200);
    float *bcos = malloc(sizeof(float) * 200), *tmp = malloc(sizeof(float) * (size_t)cnt);
    int *idx = malloc(sizeof(int) * 200);
    for (int rep = 0; rep < 4; rep++)
        for (int i = 0; i < EMB_NSENT; i++) {
            textbag_embed(m, emb_sentences[i], q, NULL);
            double a = cpu_now();
            q_emb qe;
            if (q_emb_start(db, joint_id(m), q, BENCH_EMB_DIM, &qe)) {
                q_emb_best(&qe, 200, bid, bcos);
                q_emb_done(&qe);
                if (ns < 64) cs[ns++] = (cpu_now() - a) * 1e3;
            }
            if (rep < 2) {   /* scalar float32 peer */
                a = cpu_now();
                for (int k = 0; k < cnt; k++) {
                    const float *r = all + (size_t)k * BENCH_EMB_DIM;
                    float d = 0;
                    for (int j = 0; j < BENCH_EMB_DIM; j++) d += r[j] * q[j];
                    tmp[k] = d;
                }
                emb_top(tmp, cnt, 200, idx);
                if (np < 64) cp[np++] = (cpu_now() - a) * 1e3;
                s = emb_acquire(db, joint_id(m));
                for (int x = 0; x < 200 && s; x++) {
                    int64_t want = emb_image(s, idx[x]);
                    for (int y = 0; y < 200; y++)
                        if (bid[y] == want) { agree++; break; }
                    asked++;
                }
                emb_release(s);
            }
            if (rep == 0 && i < 2) {   /* SQLite reading blobs: slow, two queries */
                a = cpu_now();
                sqlite3_stmt *st;
                sqlite3_prepare_v2(db, "SELECT vec, dim FROM embeddings WHERE region_idx=-1 AND model=?1", -1, &st,
                                   NULL);
                sqlite3_bind_text(st, 1, joint_id(m), -1, SQLITE_STATIC);
                int k = 0;
                float v[BENCH_EMB_DIM];
                while (sqlite3_step(st) == SQLITE_ROW && k < cnt) {
                    if (cat_vec_decode(sqlite3_column_blob(st, 0), sqlite3_column_bytes(st, 0), BENCH_EMB_DIM, v))
                        continue;
                    float d = 0;
                    for (int j = 0; j < BENCH_EMB_DIM; j++) d += v[j] * q[j];
                    tmp[k++] = d;
                }
                sqlite3_finalize(st);
                emb_top(tmp, k, 200, idx);
                cq[nq++] = (cpu_now() - a) * 1e3;
            }
        }
    double s50 = pct(cs, ns, 0.5), p50 = pct(cp, np, 0.5), q50 = pct(cq, nq, 0.5);
    printf("%-8ld embedding scan (text -> vector -> %d cosines -> best 200), CPU p50: int8 SIMD %.1f ms | scalar "
           "float32 %.1f ms (%.1fx) | SQLite blobs %.1f ms (%.1fx); the scan's best 200 hold %.1f %% of the exact "
           "float32 best 200%s\n", n, cnt, s50, p50, s50 > 0 ? p50 / s50 : 0, q50, s50 > 0 ? q50 / s50 : 0,
           asked ? 100.0 * (double)agree / (double)asked : 0, cnt > EMB_EXACT_MAX ? " (coarse sign-code pass first)" : "");
    free(all); free(bid); free(bcos); free(tmp); free(idx);

    /* sentence queries through search_run, with the scan */
    setenv("IMGDEX_JOINT", model_path, 1);
    search_opts o = {.k = 20}, ob = {.k = 20, .without = "embedding,tags"};
    double ts[64], tc[64], tb[64];
    int nt = 0, nb = 0;
    for (int rep = 0; rep < 4; rep++)
        for (int i = 0; i < EMB_NSENT; i++)
            for (int v = 0; v < 2; v++) {
                search_results res;
                memset(&res, 0, sizeof res);
                err_clear(&e);
                double a = now_seconds(), b = cpu_now();
                int rc = search_run(db, emb_sentences[i], v ? &ob : &o, &res, &e);
                double a1 = now_seconds(), b1 = cpu_now();
                if (rc) printf("  search_run(\"%s\"): %s\n", emb_sentences[i], e.msg);
                else if (rep > 0 && v == 0 && nt < 64) { ts[nt] = (a1 - a) * 1e3; tc[nt++] = (b1 - b) * 1e3; }
                else if (rep > 0 && v == 1 && nb < 64) tb[nb++] = (b1 - b) * 1e3;
                search_results_free(&res);
            }
    double t50 = pct(ts, nt, 0.5), c50 = pct(tc, nt, 0.5), c99 = pct(tc, nt, 0.99), b50 = pct(tb, nb, 0.5);
    printf("%-8ld the same sentences without the learnt terms (--without embedding,tags): CPU p50 %.1f ms\n", n, b50);
    double target = n <= 100000 ? 20 : 50;
    long rss = rss_kb();
    printf("%-8ld sentence queries with the embedding scan (search_run, k 20): CPU p50 %.1f ms p99 %.1f, wall p50 "
           "%.1f ms; target %.0f ms: %s; process RSS %.0f MB (%.0f MB private memory, %.0f MB file pages: the "
           "database SQLite maps, the libraries)\n", n, c50, c99, t50, target, c50 < target ? "MET" : "MISSED",
           (double)rss / 1024, (double)status_kb("RssAnon:") / 1024, (double)status_kb("RssFile:") / 1024);
    joint_close(m);
    cat_close(c);
    return 0;
}

#endif
