/* expand.c — what a word should also match, from WordNet.
 *
 * Weights (documented in docs/tokens.md): the word itself 1.0; a synonym
 * (same synset) 0.9; a kind of the word ("animal" -> "dog") 0.8 for a
 * direct hyponym, times 0.96 per further level, never below 0.4; a more
 * general COCO label for a specific word ("puppy" -> "dog": the detector
 * can only ever say dog) the same as the kind in the other direction.
 * Senses: vocabulary words use the sense imgdex means (wordnet.c); other
 * words their three most frequent senses, each rank costing 10 %.
 */
#include "index/tokens.h"
#include "index/wordnet.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ANC 64

/* WordNet files buses and trains under "public transport", not under
 * "vehicle", and a kitten only under "young mammal"; people searching
 * photos disagree.  Extra is-a links: */
static const char *const extra_parents[][2] = {
    {"bus", "motor vehicle"}, {"train", "wheeled vehicle"}, {"kitten", "cat"},
    {"puppy", "dog"}, {NULL, NULL},
};

/* Ancestors (all, abstract ones included) of a synset, plus the extra links
 * of a vocabulary word. */
static int ancestors_of(const char *word, uint32_t off, uint32_t *anc, int *dist, int max)
{
    int n = wn_hypernyms(off, anc, dist, max, 1);
    for (int i = 0; word && extra_parents[i][0]; i++) {
        if (strcmp(extra_parents[i][0], word)) continue;
        uint32_t p = wn_vocab_sense(extra_parents[i][1]);
        if (!p) continue;
        uint32_t a2[MAX_ANC];
        int d2[MAX_ANC];
        int n2 = wn_hypernyms(p, a2, d2, MAX_ANC, 1);
        for (int k = -1; k < n2 && n < max; k++) {
            uint32_t o = k < 0 ? p : a2[k];
            int d = k < 0 ? 1 : d2[k] + 1, dup = 0;
            for (int j = 0; j < n; j++) if (anc[j] == o) { dup = 1; if (d < dist[j]) dist[j] = d; }
            if (!dup) { anc[n] = o; dist[n++] = d; }
        }
    }
    return n;
}

/* Ancestors of every vocabulary word, computed once: is-a tests against the
 * vocabulary are then a scan of a short list instead of a graph walk. */
typedef struct vanc {
    const char *word;
    uint32_t sense;
    uint32_t anc[MAX_ANC];
    int dist[MAX_ANC];
    int n;
} vanc;

static vanc *vocab_anc;
static int nvocab;
static pthread_once_t anc_once = PTHREAD_ONCE_INIT;

/* The vocabulary's senses and ancestors touch ~3000 synset lines spread over
 * 20 MB of WordNet: ~10 ms in a new process, a fifth of search's startup
 * budget.  They only change with WordNet or our tables, so the first
 * process writes them to a small file ($IMGDEX_CACHE_DIR, else
 * $XDG_CACHE_HOME/imgdex, else ~/.cache/imgdex) and later ones read it.
 * A missing, stale or damaged file is recomputed; an unwritable directory
 * just means no cache. */
typedef struct vanc_rec { uint32_t sense; int32_t n; uint32_t anc[MAX_ANC]; int32_t dist[MAX_ANC]; } vanc_rec;
#define CACHE_MAGIC "IMGDEXW1"

static int cache_path(char *out, size_t n)
{
    const char *d = getenv("IMGDEX_CACHE_DIR");
    if (d && *d) return snprintf(out, n, "%s/wordnet-vocab.bin", d) < (int)n ? 0 : -1;
    d = getenv("XDG_CACHE_HOME");
    if (d && *d) return snprintf(out, n, "%s/imgdex/wordnet-vocab.bin", d) < (int)n ? 0 : -1;
    d = getenv("HOME");
    if (d && *d) return snprintf(out, n, "%s/.cache/imgdex/wordnet-vocab.bin", d) < (int)n ? 0 : -1;
    return -1;
}

static uint64_t cache_key(void)
{
    char extra[512] = "v1";
    size_t k = strlen(extra);
    for (int i = 0; extra_parents[i][0]; i++)
        k += (size_t)snprintf(extra + k, sizeof extra - k, "|%s>%s", extra_parents[i][0], extra_parents[i][1]);
    return wn_cache_key(extra);
}

static int cache_load(vanc *va, int n)
{
    char path[1024];
    if (cache_path(path, sizeof path) != 0) return 0;
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char magic[8];
    uint64_t key;
    int32_t cnt;
    int ok = fread(magic, 1, 8, f) == 8 && !memcmp(magic, CACHE_MAGIC, 8) && fread(&key, sizeof key, 1, f) == 1 &&
             key == cache_key() && fread(&cnt, sizeof cnt, 1, f) == 1 && cnt == n;
    vanc_rec *r = ok ? xmalloc((size_t)n * sizeof *r) : NULL;
    if (ok) ok = fread(r, sizeof *r, (size_t)n, f) == (size_t)n && fgetc(f) == EOF;
    fclose(f);
    for (int i = 0; ok && i < n; i++) if (r[i].n < 0 || r[i].n > MAX_ANC) ok = 0;
    for (int i = 0; ok && i < n; i++) {
        va[i].sense = r[i].sense;
        va[i].n = r[i].n;
        memcpy(va[i].anc, r[i].anc, sizeof va[i].anc);
        memcpy(va[i].dist, r[i].dist, sizeof va[i].dist);
    }
    free(r);
    return ok;
}

static void cache_save(const vanc *va, int n)
{
    char path[1024], tmp[1100];
    if (cache_path(path, sizeof path) != 0) return;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *sl = strrchr(dir, '/');
    if (!sl) return;
    *sl = 0;
    ierr e = {0};
    if (path_mkdirs(dir, &e) != 0) return;
    snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) return;
    uint64_t key = cache_key();
    int32_t cnt = n;
    int ok = fwrite(CACHE_MAGIC, 1, 8, f) == 8 && fwrite(&key, sizeof key, 1, f) == 1 &&
             fwrite(&cnt, sizeof cnt, 1, f) == 1;
    for (int i = 0; ok && i < n; i++) {
        vanc_rec r;
        memset(&r, 0, sizeof r);
        r.sense = va[i].sense;
        r.n = va[i].n;
        memcpy(r.anc, va[i].anc, sizeof r.anc);
        memcpy(r.dist, va[i].dist, sizeof r.dist);
        ok = fwrite(&r, sizeof r, 1, f) == 1;
    }
    if (fclose(f) != 0) ok = 0;
    if (!ok || rename(tmp, path) != 0) unlink(tmp);
}

static void anc_init(void)
{
    const char *const *v = wn_vocabulary();
    int n = 0;
    while (v[n]) n++;
    vocab_anc = xcalloc((size_t)n, sizeof *vocab_anc);
    for (int i = 0; i < n; i++) vocab_anc[i].word = v[i];
    nvocab = n;
    if (!wn_available() || cache_load(vocab_anc, n)) return;
    for (int i = 0; i < n; i++) {
        vanc *a = &vocab_anc[i];
        a->sense = wn_vocab_sense(v[i]);
        if (a->sense) a->n = ancestors_of(v[i], a->sense, a->anc, a->dist, MAX_ANC);
    }
    cache_save(vocab_anc, n);
}

static const vanc *vocab_find(const char *w)
{
    pthread_once(&anc_once, anc_init);
    for (int i = 0; i < nvocab; i++) if (!strcmp(vocab_anc[i].word, w)) return &vocab_anc[i];
    return NULL;
}

/* 0.9 for the same synset; 0.8 for a direct kind, a little less per level
 * (WordNet's depth differs between branches for no visual reason, so the
 * decay is gentle), never below 0.5. */
static float dist_weight(int d)
{
    if (d == 0) return 0.9f;
    float w = 0.8f;
    for (int i = 1; i < d; i++) w *= 0.98f;
    return w < 0.5f ? 0.5f : w;
}

/* A word's senses, each with the ancestors and a factor for its rank. */
typedef struct wsense { uint32_t off; float f; uint32_t anc[MAX_ANC]; int dist[MAX_ANC]; int n; } wsense;

static int senses_of(const char *w, wsense *s, int max, int with_anc)
{
    int n = 0;
    const vanc *va = vocab_find(w);
    if (va && va->sense && n < max) {
        s[n].off = va->sense; s[n].f = 1.0f;
        s[n].n = va->n;
        memcpy(s[n].anc, va->anc, sizeof va->anc);
        memcpy(s[n].dist, va->dist, sizeof va->dist);
        n++;
    }
    uint32_t o[3];
    int no = wn_noun_senses(w, o, 3);
    for (int i = 0; i < no && n < max; i++) {
        int dup = 0;
        for (int j = 0; j < n; j++) if (s[j].off == o[i]) dup = 1;
        if (dup) continue;
        s[n].off = o[i];
        s[n].f = (va ? 0.9f : 1.0f) - 0.1f * (float)i;
        s[n].n = with_anc ? ancestors_of(NULL, o[i], s[n].anc, s[n].dist, MAX_ANC) : 0;
        n++;
    }
    return n;
}

/* Distance from a sense (with its ancestor list) up to synset `to`. */
static int up_dist(uint32_t off, const uint32_t *anc, const int *dist, int n, uint32_t to)
{
    if (off == to) return 0;
    for (int i = 0; i < n; i++) if (anc[i] == to) return dist[i];
    return -1;
}

/* term_is_a is asked the same few (label, noun) pairs for every region a
 * search scores, and each answer costs WordNet lookups: remember them. */
typedef struct isa_memo { char label[48], term[48]; float w; int used; } isa_memo;
static isa_memo isa_cache[1024];
static pthread_mutex_t isa_mu = PTHREAD_MUTEX_INITIALIZER;

static float term_is_a_uncached(const char *label, const char *term);

static unsigned isa_slot(const char *label, const char *term)
{
    uint32_t h = 2166136261u;
    for (const char *p = label; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
    h = (h ^ 0xff) * 16777619u;
    for (const char *p = term; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
    return h % (sizeof isa_cache / sizeof isa_cache[0]);
}

float term_is_a(const char *label, const char *term)
{
    if (!label || !term || !*label || !*term) return 0;
    if (!strcmp(label, term)) return 1.0f;
    if (!wn_available()) return 0;
    if (strlen(label) >= sizeof isa_cache[0].label || strlen(term) >= sizeof isa_cache[0].term)
        return term_is_a_uncached(label, term);
    unsigned h = isa_slot(label, term);
    pthread_mutex_lock(&isa_mu);
    isa_memo *m = &isa_cache[h];
    if (m->used && !strcmp(m->label, label) && !strcmp(m->term, term)) {
        float w = m->w;
        pthread_mutex_unlock(&isa_mu);
        return w;
    }
    pthread_mutex_unlock(&isa_mu);
    float w = term_is_a_uncached(label, term);
    pthread_mutex_lock(&isa_mu);
    snprintf(m->label, sizeof m->label, "%s", label);
    snprintf(m->term, sizeof m->term, "%s", term);
    m->w = w;
    m->used = 1;
    pthread_mutex_unlock(&isa_mu);
    return w;
}

static float term_is_a_uncached(const char *label, const char *term)
{
    wsense ts[4], ls[4];
    int nt = senses_of(term, ts, 4, 0);
    if (!nt) return 0;
    const vanc *va = vocab_find(label);
    int nl = va && va->sense ? senses_of(label, ls, 1, 1) : senses_of(label, ls, 4, 1);
    float best = 0;
    for (int i = 0; i < nl; i++)
        for (int j = 0; j < nt; j++) {
            int d = up_dist(ls[i].off, ls[i].anc, ls[i].dist, ls[i].n, ts[j].off);
            if (d < 0) continue;
            float w = dist_weight(d) * ls[i].f * ts[j].f;
            if (w > best) best = w;
        }
    return best;
}

int term_list_add(term_match *out, int n, int max, const char *w, float wt)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(out[i].word, w)) { if (wt > out[i].weight) out[i].weight = wt; return n; }
    if (n >= max) {
        int lo = 0;
        for (int i = 1; i < n; i++) if (out[i].weight < out[lo].weight) lo = i;
        if (out[lo].weight >= wt) return n;
        snprintf(out[lo].word, sizeof out[lo].word, "%s", w);
        out[lo].weight = wt;
        return n;
    }
    snprintf(out[n].word, sizeof out[n].word, "%s", w);
    out[n].weight = wt;
    return n + 1;
}

static int by_weight(const void *a, const void *b)
{
    const term_match *x = a, *y = b;
    if (x->weight != y->weight) return x->weight < y->weight ? 1 : -1;
    return strcmp(x->word, y->word);
}

void term_list_sort(term_match *out, int n)
{
    if (n > 1) qsort(out, (size_t)n, sizeof *out, by_weight);
}

int term_expand(const char *lem, term_match *out, int max)
{
    if (!lem || !*lem || max <= 0) return 0;
    int n = term_list_add(out, 0, max, lem, 1.0f);
    if (!wn_available()) return n;
    wsense ts[4];
    int nt = senses_of(lem, ts, 4, 1);
    if (!nt) return n;
    char words[16][48];
    int nw = wn_synset_words(ts[0].off, words, 16);
    for (int i = 0; i < nw; i++) if (strcmp(words[i], lem)) n = term_list_add(out, n, max, words[i], 0.9f);

    /* Kinds of it in our vocabulary ("vehicle" -> car), and the nearest
     * COCO label above it ("puppy" -> dog: a detector says dog). */
    pthread_once(&anc_once, anc_init);
    float up_best = 0;
    float up_w[128] = {0};
    for (int i = 0; i < nvocab; i++) {
        const vanc *v = &vocab_anc[i];
        if (!v->sense || !strcmp(v->word, lem)) continue;
        float down = 0;
        for (int j = 0; j < nt; j++) {
            int d = up_dist(v->sense, v->anc, v->dist, v->n, ts[j].off);
            if (d >= 0 && dist_weight(d) * ts[j].f > down) down = dist_weight(d) * ts[j].f;
            /* upwards only from the main sense: "plant" is not a person
             * because one rare sense of it is an actor in the audience */
            if (i < 80 && i < 128 && j == 0) {
                int u = up_dist(ts[j].off, ts[j].anc, ts[j].dist, ts[j].n, v->sense);
                if (u > 0 && dist_weight(u) * ts[j].f > up_w[i]) up_w[i] = dist_weight(u) * ts[j].f;
            }
        }
        if (down > 0) n = term_list_add(out, n, max, v->word, down);
        if (i < 80 && up_w[i] > up_best) up_best = up_w[i];
    }
    for (int i = 0; i < 80 && i < nvocab && up_best > 0; i++)
        if (up_w[i] >= up_best - 1e-6f) n = term_list_add(out, n, max, vocab_anc[i].word, up_best);
    term_list_sort(out, n);
    return n;
}

/* ---- expansions of a region label for the index ------------------------ */

typedef struct lcache { char label[48]; wn_term t[WN_LABEL_MAX]; int n; } lcache;
static lcache cache[256];
static int ncache;
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;

static int label_terms_uncached(const char *label, wn_term *out, int max)
{
    int n = 0;
    uint32_t s = wn_vocab_sense(label);
    if (!s) return 0;
    char words[8][48];
    int nw = wn_synset_words(s, words, 8);
    for (int i = 0; i < nw && n < max; i++) {
        if (!strcmp(words[i], label)) continue;
        snprintf(out[n].word, sizeof out[n].word, "%s", words[i]);
        out[n].weight = 0.9f; out[n].dist = 0; n++;
    }
    uint32_t anc[MAX_ANC];
    int dist[MAX_ANC];
    int na = ancestors_of(label, s, anc, dist, MAX_ANC);
    for (int a = 0; a < na && n < max; a++) {
        if (wn_too_abstract(anc[a])) continue;
        nw = wn_synset_words(anc[a], words, 3);
        for (int i = 0; i < nw && n < max; i++) {
            int dup = !strcmp(words[i], label);
            for (int j = 0; j < n && !dup; j++) if (!strcmp(out[j].word, words[i])) dup = 1;
            if (dup) continue;
            snprintf(out[n].word, sizeof out[n].word, "%s", words[i]);
            out[n].weight = dist_weight(dist[a]); out[n].dist = dist[a]; n++;
        }
    }
    return n;
}

int wn_label_terms(const char *label, wn_term *out, int max)
{
    if (!label || !*label || !wn_available()) return 0;
    pthread_mutex_lock(&cache_mu);
    for (int i = 0; i < ncache; i++) {
        if (!strcmp(cache[i].label, label)) {
            int n = cache[i].n < max ? cache[i].n : max;
            memcpy(out, cache[i].t, (size_t)n * sizeof *out);
            pthread_mutex_unlock(&cache_mu);
            return n;
        }
    }
    pthread_mutex_unlock(&cache_mu);
    wn_term t[WN_LABEL_MAX];
    int n = label_terms_uncached(label, t, WN_LABEL_MAX);
    pthread_mutex_lock(&cache_mu);
    if (ncache < 256 && strlen(label) < sizeof cache[0].label) {
        snprintf(cache[ncache].label, sizeof cache[ncache].label, "%s", label);
        memcpy(cache[ncache].t, t, (size_t)n * sizeof *t);
        cache[ncache].n = n;
        ncache++;
    }
    pthread_mutex_unlock(&cache_mu);
    if (n > max) n = max;
    memcpy(out, t, (size_t)n * sizeof *out);
    return n;
}
