/* test_embscan.c — the whole-collection embedding scan (src/query/embscan.c)
 * against plain float computations written here: int8 dot products (SIMD
 * and portable), the best-m selection, the compact catalogue encoding, a
 * set loaded from the catalogue and refreshed as rows are added and
 * replaced, the sidecar file (used, then distrusted when the catalogue
 * changed under it; mapped, caught up, rewritten, and survived damaged),
 * and the coarse sign-code pass of big collections. */
#include "test.h"

#include <math.h>

#include "engine/simd.h"
#include "index/catalogue.h"
#include "query/embscan.h"

enum { DIM = 40, N = 1500 };

static unsigned rng = 99;
static float rnd(void)
{
    rng = rng * 1103515245u + 12345u;
    return (float)((rng >> 8) & 0xffff) / 65535.0f - 0.5f;
}

static void unit(float *v, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += (double)v[i] * v[i];
    for (int i = 0; i < n; i++) v[i] /= (float)sqrt(s);
}

static float vecs[N][DIM];

/* this file's scratch directory, made once (test_tmpdir empties it) */
static const char *scratch(void)
{
    static char dir[512];
    if (!dir[0]) snprintf(dir, sizeof dir, "%s", test_tmpdir("embscan"));
    return dir;
}

TEST(int8_dots_match_scalar)
{
    enum { D = 77, R = 9 };
    int8_t rows[R * D], q[D];
    for (int i = 0; i < R * D; i++) rows[i] = (int8_t)((int)(rnd() * 254));
    for (int i = 0; i < D; i++) q[i] = (int8_t)((int)(rnd() * 254));
    rows[3] = 127, q[3] = -127;   /* the extremes */
    int32_t out[R];
    simd_dot_i8(rows, D, R, q, D, out);
    for (int r = 0; r < R; r++) {
        int32_t want = 0;
        for (int j = 0; j < D; j++) want += rows[r * D + j] * q[j];
        CHECK_EQ_INT(out[r], want);
    }
    uint64_t a[6] = {~0ull, 0, 5, 1ull << 63, 3, 7}, b[3] = {0, 0, 6};
    uint16_t h[2];
    simd_hamming(a, 3, 2, b, h);
    CHECK_EQ_INT(h[0], 64 + 0 + 2);
    CHECK_EQ_INT(h[1], 1 + 2 + 1);
}

TEST(best_m_in_order)
{
    float v[200];
    for (int i = 0; i < 200; i++) v[i] = rnd();
    v[17] = 5, v[100] = 4, v[3] = 4;   /* a tie: lower index first */
    int idx[10];
    CHECK_EQ_INT(emb_top(v, 200, 10, idx), 10);
    CHECK_EQ_INT(idx[0], 17);
    CHECK_EQ_INT(idx[1], 3);
    CHECK_EQ_INT(idx[2], 100);
    for (int i = 1; i < 10; i++) CHECK(v[idx[i - 1]] >= v[idx[i]]);
    int all = 0;
    for (int i = 0; i < 200; i++) all += v[i] > v[idx[9]];
    CHECK_EQ_INT(all, 9);
    CHECK_EQ_INT(emb_top(v, 5, 10, idx), 5);
}

TEST(compact_encoding_round_trip)
{
    float v[DIM], w[DIM];
    for (int i = 0; i < DIM; i++) v[i] = rnd();
    unit(v, DIM);
    unsigned char b[CAT_VEC_I8_BYTES(DIM)];
    cat_vec_encode_i8(v, DIM, b);
    CHECK(cat_vec_decode(b, (int)sizeof b, DIM, w) == 0);
    double dot = 0;
    for (int i = 0; i < DIM; i++) {
        CHECK(fabsf(v[i] - w[i]) < 0.01f);
        dot += (double)v[i] * w[i];
    }
    CHECK(dot > 0.999);
    CHECK(cat_vec_decode(b, (int)sizeof b - 1, DIM, w) != 0);
    CHECK(cat_vec_decode(v, DIM * 4, DIM, w) == 0 && w[5] == v[5]);   /* float32 as it is */
}

static void put(sqlite3 *db, int64_t id, const float *v, int f32)
{
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO embeddings(image_id, region_idx, model, dim, vec) VALUES(?1,-1,'m',?2,?3)",
                       -1, &st, NULL);
    unsigned char b[CAT_VEC_I8_BYTES(DIM)];
    cat_vec_encode_i8(v, DIM, b);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int(st, 2, DIM);
    if (f32) sqlite3_bind_blob(st, 3, v, DIM * 4, SQLITE_TRANSIENT);
    else sqlite3_bind_blob(st, 3, b, (int)sizeof b, SQLITE_TRANSIENT);
    sqlite3_step(st);
    sqlite3_finalize(st);
}

/* Best of a scan vs the exact float best. */
static int agree(sqlite3 *db, const float *q, int m)
{
    emb_set *s = emb_acquire(db, "m");
    if (!s) return -1;
    float *cos = malloc(sizeof(float) * (size_t)emb_count(s)), exact[N];
    emb_scan(s, q, cos);
    int *a = malloc(sizeof(int) * (size_t)m), b[N];
    int na = emb_top(cos, emb_count(s), m, a);
    for (int i = 0; i < N; i++) {
        double d = 0;
        for (int j = 0; j < DIM; j++) d += (double)vecs[i][j] * q[j];
        exact[i] = (float)d;
    }
    emb_top(exact, N, m, b);
    int same = 0;
    for (int i = 0; i < na; i++)
        for (int j = 0; j < m; j++)
            if (emb_image(s, a[i]) == b[j] + 1) { same++; break; }
    emb_release(s);
    free(cos);
    free(a);
    return same;
}

TEST(a_set_from_the_catalogue)
{
    char db_path[600];
    snprintf(db_path, sizeof db_path, "%s/emb.db", scratch());
    ierr e = {0};
    catalogue *c = cat_open(db_path, 0, &e);
    CHECK(c);
    if (!c) return;
    sqlite3 *db = cat_db(c);
    sqlite3_exec(db, "PRAGMA foreign_keys=OFF; BEGIN", NULL, NULL, NULL);
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < DIM; j++) vecs[i][j] = rnd();
        unit(vecs[i], DIM);
        put(db, i + 1, vecs[i], i % 7 == 0);   /* some float32 (as CLIP stores them) */
    }
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    float q[DIM];
    for (int j = 0; j < DIM; j++) q[j] = rnd();
    unit(q, DIM);
    CHECK(agree(db, q, 20) >= 19);   /* int8 rounding may swap a near tie at the edge */
    emb_set *s = emb_acquire(db, "m");
    CHECK(s && emb_count(s) == N && emb_dim(s) == DIM);
    int slot = emb_find(s, 42);
    float v[DIM];
    emb_vector(s, slot, v);
    double d = 0;
    for (int j = 0; j < DIM; j++) d += (double)v[j] * vecs[41][j];
    CHECK(d > 0.99);
    CHECK(emb_find(s, N + 5) < 0);
    emb_release(s);
    /* the sidecar file was written next to the database */
    char side[700];
    snprintf(side, sizeof side, "ls '%s'.emb-* >/dev/null 2>&1", db_path);
    CHECK(system(side) == 0);
    /* rows added and one replaced: the set follows (image 7 is now q itself) */
    memcpy(vecs[6], q, sizeof q);
    sqlite3_exec(db, "DELETE FROM embeddings WHERE image_id=7", NULL, NULL, NULL);
    put(db, 7, q, 0);
    s = emb_acquire(db, "m");
    float *cos = malloc(sizeof(float) * (size_t)emb_count(s));
    emb_scan(s, q, cos);
    int top;
    emb_top(cos, emb_count(s), 1, &top);
    CHECK_EQ_INT(emb_image(s, top), 7);
    CHECK_EQ_INT(emb_count(s), N);
    free(cos);
    emb_release(s);
    cat_close(c);
}

/* Catalogue src (a file in the scratch directory) and its sidecar file
 * copied to name: a new set for this process, as for a new process; damage
 * (a shell command, "$S" the copy's sidecar) done to the copy. */
static sqlite3 *copy_catalogue(const char *src, const char *name, const char *damage, catalogue **c)
{
    char cmd[2400];
    snprintf(cmd, sizeof cmd, "cd '%s' && cp %s %s && for f in %s.emb-*; do cp \"$f\" \"%s${f#%s}\"; done"
             " && S=$(ls %s.emb-*) && { %s; } 2>/dev/null", scratch(), src, name, src, name, src, name, damage ? damage : "true");
    *c = NULL;
    if (system(cmd) != 0) {
        fprintf(stderr, "failed: %s\n", cmd);
        return NULL;
    }
    char path[700];
    snprintf(path, sizeof path, "%s/%s", scratch(), name);
    ierr e = {0};
    *c = cat_open(path, 0, &e);
    if (*c) sqlite3_exec(cat_db(*c), "PRAGMA foreign_keys=OFF", NULL, NULL, NULL);   /* bare embeddings, as above */
    return *c ? cat_db(*c) : NULL;
}

/* Whether this process has a file whose name holds pattern mapped. */
static int mapped(const char *pattern)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4400];
    int found = 0;
    while (f && fgets(line, sizeof line, f)) found |= strstr(line, pattern) != NULL;
    if (f) fclose(f);
    return found;
}

/* The row count in the header of name's sidecar: after the magic (8) and
 * the model (64) come dim, stride, words and n, int32 each. */
static long sidecar_rows(const char *name)
{
    char cmd[1000];
    snprintf(cmd, sizeof cmd, "cat '%s/%s'.emb-* 2>/dev/null | head -c 88 | tail -c 4 | od -An -tu4", scratch(), name);
    FILE *p = popen(cmd, "r");
    unsigned n = 0;
    if (p) {
        if (fscanf(p, "%u", &n) != 1) n = 0;
        pclose(p);
    }
    return (long)n;
}

TEST(the_sidecar_is_mapped_and_checked)
{
    float q[DIM];
    for (int j = 0; j < DIM; j++) q[j] = vecs[100][j];
    float v[DIM], w[DIM];
    for (int j = 0; j < DIM; j++) v[j] = rnd();
    unit(v, DIM);
    /* emb.db's file lacks the replaced image 7; a row added too: the first
     * process to find the file behind catches up and rewrites it */
    catalogue *c;
    sqlite3 *db = copy_catalogue("emb.db", "behind.db", NULL, &c);
    CHECK(db);
    if (!db) return;
    put(db, N + 1, v, 0);
    CHECK_EQ_INT(sidecar_rows("behind.db"), N);
    CHECK(agree(db, q, 20) >= 19);
    emb_set *s = emb_acquire(db, "m");
    CHECK(s && emb_count(s) == N + 1 && emb_find(s, N + 1) >= 0);
    emb_release(s);
    cat_close(c);
    CHECK_EQ_INT(sidecar_rows("behind.db"), N + 1);

    /* a current file: mapped, not read, with the same answers */
    db = copy_catalogue("behind.db", "map.db", NULL, &c);
    CHECK(db);
    if (!db) return;
    CHECK(!mapped("map.db.emb-"));
    CHECK(agree(db, q, 20) >= 19);
    CHECK(mapped("map.db.emb-"));
    s = emb_acquire(db, "m");
    CHECK(s && emb_count(s) == N + 1 && emb_find(s, 101) >= 0 && emb_find(s, N + 2) < 0);
    if (s) emb_vector(s, emb_find(s, N + 1), w);
    double d = 0;
    for (int j = 0; j < DIM; j++) d += (double)v[j] * w[j];
    CHECK(d > 0.99);
    emb_release(s);
    /* a row added: the arrays leave the file for the heap, the new image is found */
    put(db, N + 2, q, 0);
    s = emb_acquire(db, "m");
    CHECK(s && emb_count(s) == N + 2 && emb_find(s, N + 2) >= 0 && emb_find(s, 101) >= 0);
    CHECK(!mapped("map.db.emb-"));
    emb_release(s);
    cat_close(c);
    CHECK_EQ_INT(sidecar_rows("map.db"), N + 1);   /* one row later is not worth rewriting the file */

    /* damaged: cut short, a header that lies, everything after the rows
     * garbage: never a fault; a file unlike its header is not used */
    static const char *damage[] = {
        "truncate -s -100 \"$S\"",
        "printf '\\100\\006\\000\\000' | dd of=\"$S\" bs=1 seek=84 conv=notrunc 2>/dev/null",   /* n = 1600 */
        /* from the end of the rows (4096 + 1501 * 64): sign codes, scales, ids, hash */
        "dd if=/dev/urandom of=\"$S\" bs=1 seek=100160 count=$(( $(stat -c %s \"$S\") - 100160 )) conv=notrunc",
    };
    for (int i = 0; i < 3; i++) {
        char name[32], pat[40];
        snprintf(name, sizeof name, "bad%d.db", i);
        snprintf(pat, sizeof pat, "%s.emb-", name);
        db = copy_catalogue("behind.db", name, damage[i], &c);
        CHECK(db);
        if (!db) return;
        int a = agree(db, q, 20);
        if (i < 2) {
            CHECKF(a >= 19, "damage %d: %d of 20", i, a);
            CHECKF(!mapped(pat), "damage %d: a file unlike its header was mapped", i);
        } else {
            CHECKF(a >= 0 && mapped(pat), "damage %d: %d", i, a);   /* answers may be wrong; no fault */
            s = emb_acquire(db, "m");
            for (int64_t id = 1; s && id <= N + 50; id++) {
                int slot = emb_find(s, id);
                CHECK(slot >= -1 && slot < emb_count(s));
            }
            emb_release(s);
        }
        cat_close(c);
    }
}

TEST(coarse_pass_keeps_the_best)
{
    char db_path[600];
    snprintf(db_path, sizeof db_path, "%s/emb.db", test_tmpdir("embscan2"));
    ierr e = {0};
    catalogue *c = cat_open(db_path, 0, &e);
    CHECK(c);
    if (!c) return;
    sqlite3 *db = cat_db(c);
    sqlite3_exec(db, "PRAGMA foreign_keys=OFF; BEGIN", NULL, NULL, NULL);
    for (int i = 0; i < N; i++) put(db, i + 1, vecs[i], 0);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    float q[DIM];
    for (int j = 0; j < DIM; j++) q[j] = vecs[100][j] + 0.3f * rnd();
    unit(q, DIM);
    setenv("IMGDEX_EMB_EXACT_MAX", "100", 1);
    setenv("IMGDEX_EMB_COARSE_KEEP", "300", 1);
    int same = agree(db, q, 10);
    unsetenv("IMGDEX_EMB_EXACT_MAX");
    unsetenv("IMGDEX_EMB_COARSE_KEEP");
    /* a fifth of the collection by sign-code distance holds nearly all of the best 10 */
    CHECKF(same >= 8, "the coarse pass kept %d of the best 10", same);
    cat_close(c);
}

int main(void)
{
    RUN(int8_dots_match_scalar);
    RUN(best_m_in_order);
    RUN(compact_encoding_round_trip);
    RUN(a_set_from_the_catalogue);
    RUN(the_sidecar_is_mapped_and_checked);
    RUN(coarse_pass_keeps_the_best);
    return test_summary();
}
