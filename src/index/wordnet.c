/* wordnet.c — WordNet 3.0 database files read in place.
 *
 * Why mmap and binary search instead of loading: index.noun alone is 4.8 MB
 * and data.noun 15 MB; parsing them would cost far more than the 50 ms a
 * search may take to start.  Both index.<pos> and <pos>.exc are sorted by
 * their first field (byte order), so a lookup is ~20 line comparisons, and a
 * synset is one line of data.<pos> found by its byte offset.
 */
#include "index/wordnet.h"

#include <ctype.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct wfile { const char *p; size_t n; } wfile;

enum { F_IDX_N, F_IDX_V, F_IDX_A, F_IDX_R, F_DATA_N, F_EXC_N, F_EXC_V, F_EXC_A, F_COUNT };
static const char *const file_names[F_COUNT] = {
    "index.noun", "index.verb", "index.adj", "index.adv", "data.noun",
    "noun.exc", "verb.exc", "adj.exc",
};
static wfile files[F_COUNT];
static int wn_ok;
/* data.verb and data.adj: only the back-off of words imgdex's trained model
 * does not know (textbag.c) reads them; missing, they just give nothing. */
static wfile data_v, data_a;
static pthread_once_t wn_once = PTHREAD_ONCE_INIT;

static int map_file(const char *dir, const char *name, wfile *f)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size <= 0) { close(fd); return -1; }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return -1;
    f->p = p;
    f->n = (size_t)st.st_size;
    return 0;
}

static void wn_init(void)
{
    const char *dir = getenv("IMGDEX_WORDNET");
    if (!dir || !*dir) dir = "/usr/share/wordnet";
    for (int i = 0; i < F_COUNT; i++) {
        if (map_file(dir, file_names[i], &files[i]) != 0) {
            /* The mappings stay for the life of the process (read-only,
             * shared with the page cache); a missing file disables WordNet. */
            return;
        }
    }
    wn_ok = 1;
    map_file(dir, "data.verb", &data_v);
    map_file(dir, "data.adj", &data_a);
}

int wn_available(void)
{
    pthread_once(&wn_once, wn_init);
    return wn_ok;
}

/* Key normalised as WordNet spells lemmas: lower case, '_' for ' '. */
static void wn_key(const char *w, char *k, size_t n)
{
    size_t i = 0;
    for (; *w && i + 1 < n; w++) k[i++] = *w == ' ' ? '_' : (char)tolower((unsigned char)*w);
    k[i] = 0;
}

/* Compare the first field of the line at p (ends at ' ' or '\n') with key. */
static int cmp_field(const char *p, const char *end, const char *key)
{
    for (;; p++, key++) {
        int a = (p < end && *p != ' ' && *p != '\n') ? (unsigned char)*p : 0;
        int b = (unsigned char)*key;
        if (a != b || !a) return a - b;
    }
}

/* Binary search for the line whose first field is key; returns its start. */
static const char *find_line(const wfile *f, const char *key)
{
    const char *base = f->p, *end = f->p + f->n;
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *ls = base + mid;
        while (ls > base + lo && ls[-1] != '\n') ls--;
        const char *le = memchr(ls, '\n', (size_t)(end - ls));
        if (!le) le = end;
        /* The licence header lines start with spaces: smaller than any key. */
        int c = ls[0] == ' ' ? -1 : cmp_field(ls, le, key);
        if (c == 0) return ls;
        if (c < 0) lo = (size_t)(le - base) + 1;
        else hi = (size_t)(ls - base);
    }
    return NULL;
}

static const wfile *index_file(char pos)
{
    switch (pos) {
    case 'n': return &files[F_IDX_N];
    case 'v': return &files[F_IDX_V];
    case 'a': return &files[F_IDX_A];
    case 'r': return &files[F_IDX_R];
    }
    return NULL;
}

int wn_in_index(const char *word, char pos)
{
    if (!wn_available() || !word || !*word) return 0;
    char k[96];
    wn_key(word, k, sizeof k);
    const wfile *f = index_file(pos);
    return f && find_line(f, k) != NULL;
}

int wn_exception(const char *word, char pos, char *out, size_t n)
{
    if (!wn_available() || !word || !*word) return 0;
    const wfile *f = pos == 'n' ? &files[F_EXC_N] : pos == 'v' ? &files[F_EXC_V]
                   : pos == 'a' ? &files[F_EXC_A] : NULL;
    if (!f) return 0;
    char k[96];
    wn_key(word, k, sizeof k);
    const char *l = find_line(f, k);
    if (!l) return 0;
    const char *p = strchr(l, ' ');
    if (!p || p[1] == '\n') return 0;
    p++;
    size_t i = 0;
    for (; *p && *p != ' ' && *p != '\n' && i + 1 < n; p++) out[i++] = *p == '_' ? ' ' : *p;
    out[i] = 0;
    return i > 0;
}

/* Skip n space-separated fields. */
static const char *skip_fields(const char *p, int n)
{
    while (n-- > 0) {
        while (*p && *p != ' ' && *p != '\n') p++;
        while (*p == ' ') p++;
    }
    return p;
}

int wn_noun_senses(const char *word, uint32_t *off, int max)
{
    return wn_senses(word, 'n', off, max);
}

int wn_senses(const char *word, char pos, uint32_t *off, int max)
{
    if (!wn_available() || !word || !*word) return 0;
    const wfile *f = index_file(pos);
    if (!f) return 0;
    char k[96];
    wn_key(word, k, sizeof k);
    const char *l = find_line(f, k);
    if (!l) return 0;
    /* lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt tagsense_cnt offsets */
    const char *p = skip_fields(l, 2);
    int nsyn = atoi(p);
    p = skip_fields(p, 1);
    int np = atoi(p);
    p = skip_fields(p, 1 + np + 2);
    int n = 0;
    for (int i = 0; i < nsyn && n < max && *p && *p != '\n'; i++) {
        off[n++] = (uint32_t)strtoul(p, NULL, 10);
        p = skip_fields(p, 1);
    }
    return n;
}

static const wfile *data_file(char pos)
{
    return pos == 'n' ? &files[F_DATA_N] : pos == 'v' ? &data_v : pos == 'a' ? &data_a : NULL;
}

/* The synset line at offset in data.<pos>, or NULL when the offset is not one. */
static const char *synset_line_pos(uint32_t off, char pos)
{
    const wfile *f = data_file(pos);
    if (!f || !f->p) return NULL;
    if (off == 0 || off >= f->n || (off > 0 && f->p[off - 1] != '\n')) return NULL;
    const char *l = f->p + off;
    if (strtoul(l, NULL, 10) != off) return NULL;
    return l;
}

/* The synset line at offset, or NULL when the offset is not one. */
static const char *synset_line(uint32_t off)
{
    const wfile *f = &files[F_DATA_N];
    if (off == 0 || off >= f->n || (off > 0 && f->p[off - 1] != '\n')) return NULL;
    const char *l = f->p + off;
    if (strtoul(l, NULL, 10) != off) return NULL;
    return l;
}

int wn_synset_words(uint32_t off, char words[][48], int max)
{
    return wn_synset_words_pos(off, 'n', words, max);
}

int wn_synset_words_pos(uint32_t off, char pos, char words[][48], int max)
{
    if (!wn_available()) return 0;
    const char *l = synset_line_pos(off, pos);
    if (!l) return 0;
    const char *p = skip_fields(l, 3);
    int cnt = (int)strtol(p, NULL, 16);
    p = skip_fields(p, 1);
    int n = 0;
    for (int i = 0; i < cnt && *p && *p != '\n'; i++) {
        if (n < max) {
            size_t j = 0;
            for (; *p && *p != ' ' && j + 1 < 48; p++) {
                char c = *p == '_' ? ' ' : (char)tolower((unsigned char)*p);
                if (c == '(') break;          /* adjective markers "(p)" */
                words[n][j++] = c;
            }
            words[n][j] = 0;
            int dup = 0;
            for (int q = 0; q < n; q++) if (!strcmp(words[q], words[n])) dup = 1;
            if (!dup && j) n++;
        }
        p = skip_fields(p, 2);
    }
    return n;
}

/* Hypernym (and instance hypernym) pointers of a synset.  General synsets
 * ("person", "animal") carry hundreds of hyponym pointers, so rather than
 * stepping field by field we jump from '@' to '@': no word contains one, and
 * the gloss after '|' is never reached. */
static int parents(uint32_t off, uint32_t *out, int max)
{
    const char *l = synset_line(off);
    if (!l) return 0;
    const wfile *f = &files[F_DATA_N];
    const char *end = memchr(l, '|', (size_t)(f->p + f->n - l));
    if (!end) end = memchr(l, '\n', (size_t)(f->p + f->n - l));
    if (!end) return 0;
    int n = 0;
    for (const char *p = l; n < max && (p = memchr(p, '@', (size_t)(end - p))); p++) {
        if (p[-1] != ' ') continue;
        const char *q = p + 1;
        if (*q == 'i') q++;
        if (*q != ' ') continue;
        out[n++] = (uint32_t)strtoul(q + 1, NULL, 10);
    }
    return n;
}

int wn_pointers(uint32_t off, char pos, const char *symbols, uint32_t *out, char *opos, int max)
{
    if (!wn_available()) return 0;
    const char *l = synset_line_pos(off, pos);
    if (!l) return 0;
    /* offset lex_filenum ss_type w_cnt (word lex_id)* p_cnt (sym offset pos src/tgt)* ... */
    const char *p = skip_fields(l, 3);
    int cnt = (int)strtol(p, NULL, 16);
    p = skip_fields(p, 1 + 2 * cnt);
    int np = atoi(p);
    p = skip_fields(p, 1);
    int n = 0;
    for (int i = 0; i < np && n < max && *p && *p != '|' && *p != '\n'; i++) {
        const char *sym = p;
        size_t sl = 0;
        while (sym[sl] && sym[sl] != ' ') sl++;
        p = skip_fields(p, 1);
        uint32_t o = (uint32_t)strtoul(p, NULL, 10);
        p = skip_fields(p, 1);
        char ps = *p == 's' ? 'a' : *p;
        p = skip_fields(p, 2);
        char want[8];
        for (const char *q = symbols; *q; ) {
            size_t k = 0;
            while (*q && *q != ',' && k + 1 < sizeof want) want[k++] = *q++;
            want[k] = 0;
            if (*q == ',') q++;
            if (k == sl && !memcmp(sym, want, sl)) {
                out[n] = o;
                if (opos) opos[n] = ps;
                n++;
                break;
            }
        }
    }
    return n;
}

int wn_gloss(uint32_t off, char pos, char *out, size_t n)
{
    if (!n) return 0;
    out[0] = 0;
    if (!wn_available()) return 0;
    const char *l = synset_line_pos(off, pos);
    if (!l) return 0;
    const char *end = strchr(l, '\n');
    const char *g = memchr(l, '|', end ? (size_t)(end - l) : strlen(l));
    if (!g || !end) return 0;
    g++;
    while (*g == ' ') g++;
    size_t k = (size_t)(end - g);
    if (k >= n) k = n - 1;
    memcpy(out, g, k);
    out[k] = 0;
    return (int)k;
}

int wn_hyper_distance(uint32_t from, uint32_t to, int max_depth)
{
    if (!wn_available() || !from || !to) return -1;
    if (from == to) return 0;
    uint32_t q[256];
    int d[256], head = 0, tail = 0;
    q[tail] = from; d[tail++] = 0;
    while (head < tail) {
        uint32_t s = q[head];
        int ds = d[head++];
        if (ds >= max_depth) continue;
        uint32_t par[16];
        int np = parents(s, par, 16);
        for (int i = 0; i < np; i++) {
            if (par[i] == to) return ds + 1;
            int seen = 0;
            for (int j = 0; j < tail; j++) if (q[j] == par[i]) { seen = 1; break; }
            if (!seen && tail < 256) { q[tail] = par[i]; d[tail++] = ds + 1; }
        }
    }
    return -1;
}

/* Ancestors too abstract to say anything about a photo. */
int wn_too_abstract(uint32_t off)
{
    char w[4][48];
    int n = wn_synset_words(off, w, 4);
    static const char *const skip[] = {
        "entity", "physical entity", "abstraction", "object", "whole", "causal agent",
        "matter", "thing", "unit", "living thing", "organism", "artifact", "instrumentality",
        "group", "relation", NULL,
    };
    for (int i = 0; i < n; i++)
        for (int j = 0; skip[j]; j++) if (!strcmp(w[i], skip[j])) return 1;
    return 0;
}

int wn_hypernyms(uint32_t off, uint32_t *anc, int *dist, int max, int all)
{
    if (!wn_available() || !off) return 0;
    uint32_t q[256];
    int d[256], head = 0, tail = 0, n = 0;
    q[tail] = off; d[tail++] = 0;
    while (head < tail) {
        uint32_t s = q[head];
        int ds = d[head++];
        if (ds >= 16) continue;
        uint32_t par[16];
        int np = parents(s, par, 16);
        for (int i = 0; i < np; i++) {
            int seen = 0;
            for (int j = 0; j < tail; j++) if (q[j] == par[i]) { seen = 1; break; }
            if (seen || tail >= 256) continue;
            q[tail] = par[i]; d[tail++] = ds + 1;
            if (n < max && (all || !wn_too_abstract(par[i]))) { anc[n] = par[i]; dist[n++] = ds + 1; }
        }
    }
    return n;
}

/* ---- the vocabulary and the senses we mean ----------------------------- */

/* word as imgdex uses it, the WordNet lemma, and a gloss fragment picking the
 * sense (NULL: the most frequent sense). */
typedef struct vocab_sense { const char *word, *lemma, *gloss; } vocab_sense;

static const vocab_sense vocab_senses[] = {
    /* COCO-80, in the standard order */
    {"person", "person", NULL}, {"bicycle", "bicycle", NULL}, {"car", "car", NULL},
    {"motorcycle", "motorcycle", NULL}, {"airplane", "airplane", NULL}, {"bus", "bus", NULL},
    {"train", "train", "railway"}, {"truck", "truck", NULL}, {"boat", "boat", NULL},
    {"traffic light", "traffic light", NULL}, {"fire hydrant", "fire hydrant", NULL},
    {"stop sign", "street sign", NULL}, {"parking meter", "parking meter", NULL},
    {"bench", "bench", "seat"}, {"bird", "bird", "egg-laying"}, {"cat", "cat", "feline"},
    {"dog", "dog", NULL}, {"horse", "horse", "hoofed"}, {"sheep", "sheep", "ruminant"},
    {"cow", "cow", "cattle"}, {"elephant", "elephant", NULL}, {"bear", "bear", "mammal"},
    {"zebra", "zebra", NULL}, {"giraffe", "giraffe", NULL}, {"backpack", "backpack", NULL},
    {"umbrella", "umbrella", NULL}, {"handbag", "handbag", NULL}, {"tie", "tie", "neckwear"},
    {"suitcase", "suitcase", NULL}, {"frisbee", "frisbee", NULL}, {"skis", "ski", NULL},
    {"snowboard", "snowboard", NULL}, {"sports ball", "ball", "game"}, {"kite", "kite", "plaything"},
    {"baseball bat", "baseball bat", NULL}, {"baseball glove", "baseball glove", NULL},
    {"skateboard", "skateboard", NULL}, {"surfboard", "surfboard", NULL},
    {"tennis racket", "tennis racket", NULL}, {"bottle", "bottle", "vessel"},
    {"wine glass", "wineglass", NULL}, {"cup", "cup", "drinking"}, {"fork", "fork", "cutlery"},
    {"knife", "knife", "edge tool"}, {"spoon", "spoon", "cutlery"}, {"bowl", "bowl", "vessel"},
    {"banana", "banana", "crescent"}, {"apple", "apple", "fruit"}, {"sandwich", "sandwich", NULL},
    {"orange", "orange", "fruit"}, {"broccoli", "broccoli", "flower heads"}, {"carrot", "carrot", "edible root"},
    {"hot dog", "hotdog", "on a bun"}, {"pizza", "pizza", NULL}, {"donut", "doughnut", "friedcake"},
    {"cake", "cake", "baked"}, {"chair", "chair", "seat"}, {"couch", "couch", "upholstered"},
    {"potted plant", "pot plant", NULL}, {"bed", "bed", "furniture"},
    {"dining table", "dining table", NULL}, {"toilet", "toilet", "fixture"},
    {"tv", "tv", "electronic"}, {"laptop", "laptop", NULL}, {"mouse", "mouse", "hand-operated"},
    {"remote", "remote control", NULL}, {"keyboard", "keyboard", "keys"},
    {"cell phone", "cellular telephone", NULL}, {"microwave", "microwave", "oven"},
    {"oven", "oven", NULL}, {"toaster", "toaster", "electric"}, {"sink", "sink", "plumbing"},
    {"refrigerator", "refrigerator", "white goods"}, {"book", "book", "physical objects"},
    {"clock", "clock", NULL}, {"vase", "vase", NULL}, {"scissors", "scissors", NULL},
    {"teddy bear", "teddy", NULL}, {"hair drier", "hair drier", NULL}, {"toothbrush", "toothbrush", NULL},
    /* other region labels and common photo words */
    {"face", "face", "front of the human head"}, {"text", "text", NULL},
    {"man", "man", NULL}, {"woman", "woman", NULL}, {"boy", "male child", NULL},
    {"girl", "girl", NULL}, {"child", "child", "young person"}, {"baby", "baby", NULL},
    {"player", "player", NULL}, {"puppy", "puppy", NULL}, {"kitten", "kitten", NULL},
    {"pony", "pony", NULL}, {"duck", "duck", NULL}, {"fish", "fish", NULL},
    {"tree", "tree", NULL}, {"grass", "grass", NULL}, {"flower", "flower", NULL},
    {"sky", "sky", NULL}, {"cloud", "cloud", NULL}, {"water", "water", NULL},
    {"sea", "sea", NULL}, {"beach", "beach", NULL}, {"sand", "sand", NULL},
    {"lake", "lake", NULL}, {"river", "river", NULL}, {"snow", "snow", NULL},
    {"mountain", "mountain", NULL}, {"hill", "hill", NULL}, {"rock", "rock", "mineral"},
    {"field", "field", NULL}, {"park", "park", NULL}, {"road", "road", NULL},
    {"street", "street", NULL}, {"city", "city", NULL}, {"building", "building", NULL},
    {"house", "house", NULL}, {"wall", "wall", NULL}, {"window", "window", NULL},
    {"door", "door", NULL}, {"bridge", "bridge", NULL}, {"fence", "fence", NULL},
    {"ball", "ball", "game"}, {"toy", "toy", NULL}, {"shirt", "shirt", NULL},
    {"jacket", "jacket", NULL}, {"hat", "hat", NULL}, {"dress", "dress", NULL},
    {"helmet", "helmet", NULL}, {"pool", "pool", NULL}, {"crowd", "crowd", NULL},
    {"van", "van", NULL}, {"taxi", "taxi", NULL}, {"ship", "ship", NULL},
    {"lorry", "lorry", NULL}, {"plane", "airplane", NULL}, {"bike", "bicycle", NULL},
    {"animal", "animal", NULL}, {"vehicle", "vehicle", NULL}, {"food", "food", NULL},
    {"fruit", "edible fruit", NULL}, {"furniture", "furniture", NULL}, {"sign", "sign", "public display"},
    {NULL, NULL, NULL},
};

static const char *const *vocab_list;
static pthread_once_t vocab_once = PTHREAD_ONCE_INIT;

static void vocab_init(void)
{
    size_t n = 0;
    while (vocab_senses[n].word) n++;
    static const char *list[sizeof vocab_senses / sizeof vocab_senses[0]];
    for (size_t i = 0; i < n; i++) list[i] = vocab_senses[i].word;
    list[n] = NULL;
    vocab_list = list;
}

const char *const *wn_vocabulary(void)
{
    pthread_once(&vocab_once, vocab_init);
    return vocab_list;
}

static uint32_t sense_by_gloss(const char *lemma, const char *gloss)
{
    uint32_t off[32];
    int n = wn_noun_senses(lemma, off, 32);
    if (n == 0) return 0;
    if (!gloss) return off[0];
    for (int i = 0; i < n; i++) {
        const char *l = synset_line(off[i]);
        if (!l) continue;
        const char *e = strchr(l, '\n');
        const char *g = memchr(l, '|', e ? (size_t)(e - l) : strlen(l));
        if (!g) continue;
        size_t gl = strlen(gloss);
        for (const char *p = g; p + gl <= e; p++)
            if (!strncmp(p, gloss, gl)) return off[i];
    }
    return off[0];
}

uint32_t wn_vocab_sense(const char *word)
{
    if (!wn_available() || !word) return 0;
    for (int i = 0; vocab_senses[i].word; i++)
        if (!strcmp(vocab_senses[i].word, word))
            return sense_by_gloss(vocab_senses[i].lemma, vocab_senses[i].gloss);
    return sense_by_gloss(word, NULL);
}

/* ---- identity of what a cache derived from WordNet depends on ---------- */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) { h ^= b[i]; h *= 0x100000001b3ULL; }
    return h;
}

uint64_t wn_cache_key(const char *extra)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int i = 0; vocab_senses[i].word; i++) {
        const char *f[3] = {vocab_senses[i].word, vocab_senses[i].lemma, vocab_senses[i].gloss};
        for (int k = 0; k < 3; k++) h = fnv(h, f[k] ? f[k] : "-", strlen(f[k] ? f[k] : "-") + 1);
    }
    if (extra) h = fnv(h, extra, strlen(extra));
    const char *dir = getenv("IMGDEX_WORDNET");
    char path[1024];
    snprintf(path, sizeof path, "%s/data.noun", dir && *dir ? dir : "/usr/share/wordnet");
    struct stat st;
    if (stat(path, &st) == 0) {
        int64_t v[2] = {(int64_t)st.st_size, (int64_t)st.st_mtime};
        h = fnv(h, v, sizeof v);
    }
    return h;
}
