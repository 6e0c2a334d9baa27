/* bpe.c — CLIP vocabulary loading and byte-level BPE merging.
 *
 * Tokens are ids from the start: each byte maps to the id of its printable
 * stand-in character (and, at the end of a word, of that character + "</w>"),
 * and every merge rule is a pair of ids -> (rank, merged id) in a hash
 * table, so encoding never builds or hashes strings.
 */
#include "models/text/bpe.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "models/text/bpe_text.h"

/* CLIP uses the first 49152 - 256 - 2 merges of its merge list. */
#define CLIP_MERGES (49152 - 256 - 2)

typedef struct { uint64_t key; int rank, id; } merge_slot;
typedef struct { char *s; int id; } str_slot;

struct bpe_vocab {
    int size, sot, eot;
    int byte_id[256], byte_end_id[256];   /* byte's char, and char + "</w>" */
    merge_slot *merges;                    /* open addressing, key 0 = empty */
    size_t mcap;
    str_slot *strs;                        /* token string -> id, load time only */
    size_t scap;
    size_t sused;
};

/* ---- hash tables ---------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void str_put(bpe_vocab *v, const char *s, int id)
{
    if (2 * (v->sused + 1) > v->scap) {
        size_t ncap = v->scap ? v->scap * 2 : 1 << 16;
        str_slot *n = xcalloc(ncap, sizeof *n);
        for (size_t i = 0; i < v->scap; i++) {
            if (!v->strs[i].s) continue;
            size_t j = hash_str(v->strs[i].s) & (ncap - 1);
            while (n[j].s) j = (j + 1) & (ncap - 1);
            n[j] = v->strs[i];
        }
        free(v->strs);
        v->strs = n;
        v->scap = ncap;
    }
    size_t j = hash_str(s) & (v->scap - 1);
    while (v->strs[j].s) {
        if (!strcmp(v->strs[j].s, s)) {
            v->strs[j].id = id;
            return;
        }
        j = (j + 1) & (v->scap - 1);
    }
    v->strs[j].s = xstrdup(s);
    v->strs[j].id = id;
    v->sused++;
}

static int str_get(const bpe_vocab *v, const char *s)
{
    if (!v->scap) return -1;
    size_t j = hash_str(s) & (v->scap - 1);
    while (v->strs[j].s) {
        if (!strcmp(v->strs[j].s, s)) return v->strs[j].id;
        j = (j + 1) & (v->scap - 1);
    }
    return -1;
}

static uint64_t pair_key(int a, int b) { return ((uint64_t)(uint32_t)a << 32 | (uint32_t)b) + 1; }

static void merge_put(bpe_vocab *v, int a, int b, int rank, int id)
{
    uint64_t k = pair_key(a, b);
    size_t j = mix64(k) & (v->mcap - 1);
    while (v->merges[j].key && v->merges[j].key != k) j = (j + 1) & (v->mcap - 1);
    if (v->merges[j].key == k) return;   /* the first (best) rank wins */
    v->merges[j].key = k;
    v->merges[j].rank = rank;
    v->merges[j].id = id;
}

static const merge_slot *merge_get(const bpe_vocab *v, int a, int b)
{
    uint64_t k = pair_key(a, b);
    size_t j = mix64(k) & (v->mcap - 1);
    while (v->merges[j].key) {
        if (v->merges[j].key == k) return &v->merges[j];
        j = (j + 1) & (v->mcap - 1);
    }
    return NULL;
}

void bpe_free(bpe_vocab *v)
{
    if (!v) return;
    for (size_t i = 0; i < v->scap; i++) free(v->strs[i].s);
    free(v->strs);
    free(v->merges);
    free(v);
}

/* ---- the byte <-> printable character table (GPT-2 / CLIP) ----------- */

/* Printable Latin-1 bytes stand for themselves; the other 68 bytes are
 * given the code points 256, 257, ... in byte order, so every token is
 * printable text.  Fills cps[b] for each byte; order[] lists bytes in the
 * order CLIP's vocabulary enumerates them (printable ones first). */
static void byte_chars(uint32_t cps[256], int order[256])
{
    int n = 0, extra = 0;
    for (int b = 0; b < 256; b++) {
        int printable = (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
        if (printable) {
            cps[b] = (uint32_t)b;
            order[n++] = b;
        }
    }
    for (int b = 0; b < 256; b++) {
        int printable = (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
        if (!printable) {
            cps[b] = 256u + (uint32_t)extra++;
            order[n++] = b;
        }
    }
}

/* ---- building from (vocab, merges) ---------------------------------- */

/* After every token string is in v->strs: resolve the byte ids, the
 * special tokens and the merges (a list of "left right" lines). */
static int finish(bpe_vocab *v, const char *what, char **merges, int nmerges, ierr *e)
{
    uint32_t cps[256];
    int order[256];
    byte_chars(cps, order);
    for (int b = 0; b < 256; b++) {
        char s[16];
        size_t k = bpe_utf8_encode(&cps[b], 1, s);
        s[k] = 0;
        v->byte_id[b] = str_get(v, s);
        memcpy(s + k, "</w>", 5);
        v->byte_end_id[b] = str_get(v, s);
        if (v->byte_id[b] < 0 || v->byte_end_id[b] < 0) {
            err_set(e, "%s: vocabulary lacks the token for byte 0x%02x (not a CLIP byte-level BPE vocabulary)", what, b);
            return -1;
        }
    }
    v->sot = str_get(v, "<|startoftext|>");
    v->eot = str_get(v, "<|endoftext|>");
    if (v->sot < 0 || v->eot < 0) {
        err_set(e, "%s: vocabulary lacks <|startoftext|> or <|endoftext|>", what);
        return -1;
    }
    if (nmerges > CLIP_MERGES) nmerges = CLIP_MERGES;
    v->mcap = 1;
    while (v->mcap < 2 * (size_t)nmerges + 16) v->mcap <<= 1;
    v->merges = xcalloc(v->mcap, sizeof *v->merges);
    char buf[1024];
    for (int r = 0; r < nmerges; r++) {
        const char *line = merges[r];
        const char *sp = strchr(line, ' ');
        size_t ll = strlen(line);
        if (!sp || sp == line || !sp[1] || ll >= sizeof buf) {
            err_set(e, "%s: merge %d is not \"left right\": '%.40s'", what, r + 1, line);
            return -1;
        }
        size_t la = (size_t)(sp - line);
        memcpy(buf, line, la);
        buf[la] = 0;
        int a = str_get(v, buf);
        int b = str_get(v, sp + 1);
        memcpy(buf + la, sp + 1, ll - la);   /* "leftright" + NUL */
        int m = str_get(v, buf);
        if (a < 0 || b < 0 || m < 0) {
            err_set(e, "%s: merge %d ('%.40s') uses a token that is not in the vocabulary", what, r + 1, line);
            return -1;
        }
        merge_put(v, a, b, r, m);
    }
    /* The string table is only needed while loading. */
    for (size_t i = 0; i < v->scap; i++) free(v->strs[i].s);
    free(v->strs);
    v->strs = NULL;
    v->scap = v->sused = 0;
    return 0;
}

/* Split a text buffer into lines in place (strips \r). */
static char **split_lines(char *text, int *n)
{
    int cap = 1024, k = 0;
    char **lines = xmalloc((size_t)cap * sizeof *lines);
    for (char *p = text; *p;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        size_t l = strlen(p);
        if (l && p[l - 1] == '\r') p[l - 1] = 0;
        if (k == cap) lines = xrealloc(lines, (size_t)(cap *= 2) * sizeof *lines);
        lines[k++] = p;
        if (!nl) break;
        p = nl + 1;
    }
    *n = k;
    return lines;
}

/* Merge lines without the "#version" header and blank lines. */
static char **merge_lines(char *text, int *n)
{
    int all;
    char **lines = split_lines(text, &all);
    int k = 0;
    for (int i = 0; i < all; i++)
        if (lines[i][0] && strncmp(lines[i], "#version", 8) != 0) lines[k++] = lines[i];
    *n = k;
    return lines;
}

/* OpenAI's file holds only the merges; the vocabulary is built from them:
 * the 256 byte characters, the same with </w>, every merge result, then the
 * two special tokens (49408 in all for CLIP). */
static bpe_vocab *from_openai(const char *path, char *text, ierr *e)
{
    /* Its first line is a header of no fixed form (the released file's
     * reads '"bpe_simple_vocab_16e6.txt#version: 0.2'): CLIP skips it. */
    int n;
    char **lines = split_lines(text, &n);
    char **merges = lines + 1;
    n = n > 0 ? n - 1 : 0;
    while (n > 0 && !merges[n - 1][0]) n--;
    if (n > CLIP_MERGES) n = CLIP_MERGES;
    bpe_vocab *v = xcalloc(1, sizeof *v);
    uint32_t cps[256];
    int order[256], id = 0;
    byte_chars(cps, order);
    char s[1024];
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < 256; i++) {
            size_t k = bpe_utf8_encode(&cps[order[i]], 1, s);
            strcpy(s + k, pass ? "</w>" : "");
            str_put(v, s, id++);
        }
    for (int r = 0; r < n; r++) {
        const char *sp = strchr(merges[r], ' ');
        if (!sp || strlen(merges[r]) >= sizeof s) {
            err_set(e, "%s: line %d is not a merge \"left right\": '%.40s'", path, r + 2, merges[r]);
            free(lines);
            bpe_free(v);
            return NULL;
        }
        size_t la = (size_t)(sp - merges[r]);
        memcpy(s, merges[r], la);
        strcpy(s + la, sp + 1);
        str_put(v, s, id++);
    }
    str_put(v, "<|startoftext|>", id++);
    str_put(v, "<|endoftext|>", id++);
    v->size = id;
    int rc = finish(v, path, merges, n, e);
    free(lines);
    if (rc) {
        bpe_free(v);
        return NULL;
    }
    return v;
}

/* Read a file, transparently gunzipping (zlib's gzread passes plain files through). */
static char *read_maybe_gz(const char *path, ierr *e)
{
    gzFile g = gzopen(path, "rb");
    if (!g) {
        err_set(e, "%s: cannot open: %s", path, strerror(errno ? errno : ENOENT));
        return NULL;
    }
    size_t cap = 1 << 20, n = 0;
    char *buf = xmalloc(cap + 1);
    for (;;) {
        if (n == cap) buf = xrealloc(buf, (cap *= 2) + 1);
        int got = gzread(g, buf + n, (unsigned)(cap - n));
        if (got < 0) {
            int code;
            err_set(e, "%s: cannot decompress: %s", path, gzerror(g, &code));
            gzclose(g);
            free(buf);
            return NULL;
        }
        if (got == 0) break;
        n += (size_t)got;
        if (n > (512u << 20)) {
            err_set(e, "%s: over 512 MB, not a vocabulary", path);
            gzclose(g);
            free(buf);
            return NULL;
        }
    }
    gzclose(g);
    buf[n] = 0;
    if (memchr(buf, 0, n)) {
        err_set(e, "%s: binary data, not a vocabulary", path);
        free(buf);
        return NULL;
    }
    return buf;
}

/* vocab: a JSON object token -> id; merges: lines, or JSON array. */
static bpe_vocab *from_json_vocab(const char *what, const cJSON *vocab, char **merges, int nmerges,
                                  ierr *e)
{
    if (!cJSON_IsObject(vocab)) {
        err_set(e, "%s: vocabulary is not a JSON object of token -> id", what);
        return NULL;
    }
    bpe_vocab *v = xcalloc(1, sizeof *v);
    int maxid = -1;
    for (const cJSON *it = vocab->child; it; it = it->next) {
        if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble > 1e7) {
            err_set(e, "%s: token '%.40s' has no valid id", what, it->string);
            bpe_free(v);
            return NULL;
        }
        str_put(v, it->string, it->valueint);
        if (it->valueint > maxid) maxid = it->valueint;
    }
    v->size = maxid + 1;
    if (finish(v, what, merges, nmerges, e) != 0) {
        bpe_free(v);
        return NULL;
    }
    return v;
}

bpe_vocab *bpe_load_hf(const char *vocab_json, const char *merges_txt, ierr *e)
{
    size_t len;
    char *vj = (char *)file_read_all(vocab_json, &len, e);
    if (!vj) return NULL;
    cJSON *j = cJSON_ParseWithLength(vj, len);
    free(vj);
    if (!j) {
        err_set(e, "%s: not valid JSON", vocab_json);
        return NULL;
    }
    char *mt = (char *)file_read_all(merges_txt, &len, e);
    if (!mt) {
        cJSON_Delete(j);
        return NULL;
    }
    int n;
    char **merges = merge_lines(mt, &n);
    bpe_vocab *v = from_json_vocab(vocab_json, j, merges, n, e);
    free(merges);
    free(mt);
    cJSON_Delete(j);
    return v;
}

static bpe_vocab *from_tokenizer_json(const char *path, ierr *e)
{
    size_t len;
    char *t = (char *)file_read_all(path, &len, e);
    if (!t) return NULL;
    cJSON *j = cJSON_ParseWithLength(t, len);
    free(t);
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(j, "model");
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *ml = cJSON_GetObjectItemCaseSensitive(model, "merges");
    if (!cJSON_IsObject(vocab) || !cJSON_IsArray(ml)) {
        err_set(e, "%s: not a tokenizer.json with a BPE model (model.vocab, model.merges)", path);
        cJSON_Delete(j);
        return NULL;
    }
    /* Merges are "a b" strings, or [a, b] pairs in newer files. */
    int n = cJSON_GetArraySize(ml), k = 0;
    char **merges = xcalloc((size_t)n + 1, sizeof *merges);
    for (const cJSON *m = ml->child; m; m = m->next) {
        if (cJSON_IsString(m)) {
            merges[k++] = xstrdup(m->valuestring);
        } else if (cJSON_IsArray(m) && cJSON_GetArraySize(m) == 2 &&
                   cJSON_IsString(m->child) && cJSON_IsString(m->child->next)) {
            size_t a = strlen(m->child->valuestring), b = strlen(m->child->next->valuestring);
            char *s = xmalloc(a + b + 2);
            memcpy(s, m->child->valuestring, a);
            s[a] = ' ';
            memcpy(s + a + 1, m->child->next->valuestring, b + 1);
            merges[k++] = s;
        }
    }
    bpe_vocab *v = from_json_vocab(path, vocab, merges, k, e);
    for (int i = 0; i < k; i++) free(merges[i]);
    free(merges);
    cJSON_Delete(j);
    return v;
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

bpe_vocab *bpe_load(const char *path, ierr *e)
{
    if (ends_with(path, ".json") && !ends_with(path, "vocab.json")) return from_tokenizer_json(path, e);
    if (ends_with(path, ".json")) {
        char m[4096];
        snprintf(m, sizeof m, "%.*smerges.txt", (int)(strlen(path) - strlen("vocab.json")), path);
        return bpe_load_hf(path, m, e);
    }
    char *text = read_maybe_gz(path, e);
    if (!text) return NULL;
    bpe_vocab *v = from_openai(path, text, e);
    free(text);
    return v;
}

bpe_vocab *bpe_load_dir(const char *dir, ierr *e)
{
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s/vocab.json", dir);
    snprintf(b, sizeof b, "%s/merges.txt", dir);
    FILE *f = fopen(a, "rb");
    if (f) {
        fclose(f);
        return bpe_load_hf(a, b, e);
    }
    snprintf(a, sizeof a, "%s/tokenizer.json", dir);
    f = fopen(a, "rb");
    if (f) {
        fclose(f);
        return from_tokenizer_json(a, e);
    }
    snprintf(a, sizeof a, "%s/bpe_simple_vocab_16e6.txt.gz", dir);
    f = fopen(a, "rb");
    if (f) {
        fclose(f);
        return bpe_load(a, e);
    }
    err_set(e, "%s: no tokenizer (vocab.json + merges.txt, tokenizer.json or bpe_simple_vocab_16e6.txt.gz)", dir);
    return NULL;
}

int bpe_vocab_size(const bpe_vocab *v) { return v->size; }
int bpe_sot(const bpe_vocab *v) { return v->sot; }
int bpe_eot(const bpe_vocab *v) { return v->eot; }

/* ---- encoding ------------------------------------------------------- */

/* BPE of one pre-split piece (its UTF-8 bytes); appends ids via *n. */
static void bpe_word(const bpe_vocab *v, const unsigned char *s, size_t len, int *ids, int max, int *n,
                     int *sym, int cap)
{
    /* Words are short; a very long run (a 10 kB string with no spaces) is
     * still correct, just processed with the quadratic loop below. */
    int m = 0;
    for (size_t i = 0; i < len && m < cap; i++) sym[m++] = i + 1 == len ? v->byte_end_id[s[i]] : v->byte_id[s[i]];
    for (;;) {
        int best = -1, brank = 0x7fffffff;
        for (int i = 0; i + 1 < m; i++) {
            const merge_slot *ms = merge_get(v, sym[i], sym[i + 1]);
            if (ms && ms->rank < brank) {
                brank = ms->rank;
                best = i;
            }
        }
        if (best < 0) break;
        int a = sym[best], b = sym[best + 1], id = merge_get(v, a, b)->id, o = 0;
        /* Merge every occurrence, left to right, as CLIP does. */
        for (int i = 0; i < m;) {
            if (i + 1 < m && sym[i] == a && sym[i + 1] == b) {
                sym[o++] = id;
                i += 2;
            } else {
                sym[o++] = sym[i++];
            }
        }
        m = o;
    }
    for (int i = 0; i < m; i++) {
        if (*n < max) ids[*n] = sym[i];
        (*n)++;
    }
}

int bpe_encode(bpe_vocab *v, const char *text, int *ids, int max)
{
    int ncp;
    uint32_t *cp = bpe_clean_cp(text, &ncp);
    char *bytes = xmalloc(4 * (size_t)ncp + 1);
    int *sym = xmalloc((4 * (size_t)ncp + 1) * sizeof *sym);
    int n = 0, pos = 0, start, len;
    while ((len = bpe_next_piece(cp, ncp, &pos, &start)) > 0) {
        size_t nb = bpe_utf8_encode(cp + start, len, bytes);
        if (len == 15 && !memcmp(bytes, "<|startoftext|>", 15)) {
            if (n < max) ids[n] = v->sot;
            n++;
        } else if (len == 13 && !memcmp(bytes, "<|endoftext|>", 13)) {
            if (n < max) ids[n] = v->eot;
            n++;
        } else {
            bpe_word(v, (const unsigned char *)bytes, nb, ids, max, &n, sym, 4 * ncp + 1);
        }
    }
    free(sym);
    free(bytes);
    free(cp);
    return n;
}

int bpe_tokenize(bpe_vocab *v, const char *text, int *ids, int ctx)
{
    if (ctx < 2) return 0;
    ids[0] = v->sot;
    int n = bpe_encode(v, text, ids + 1, ctx - 1);
    int len = n + 2;
    if (len > ctx) len = ctx;
    ids[len - 1] = v->eot;
    for (int i = len; i < ctx; i++) ids[i] = 0;
    return len;
}

char *bpe_clean(const char *text)
{
    int n;
    uint32_t *cp = bpe_clean_cp(text, &n);
    char *s = xmalloc(4 * (size_t)n + 1);
    s[bpe_utf8_encode(cp, n, s)] = 0;
    free(cp);
    return s;
}
