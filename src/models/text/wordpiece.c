/* wordpiece.c — BERT's WordPiece tokenizer (see wordpiece.h). */
#include "models/text/wordpiece.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "models/text/bpe_text.h"   /* UTF-8 decoding and encoding */

/* wordpiece_unicode.c, generated from Python's unicodedata. */
extern const uint32_t wp_uni_punct[][2], wp_uni_control[][2], wp_uni_zs[][2], wp_uni_mn[][2];
extern const int wp_uni_punct_n, wp_uni_control_n, wp_uni_zs_n, wp_uni_mn_n;
extern const uint32_t wp_uni_fold[][4];
extern const int wp_uni_fold_n;

struct wp_vocab {
    char **tok;
    int n;
    int *slot;          /* open-addressing hash of token -> id, -1 empty */
    size_t nslot;
    int special[5];     /* [PAD] [UNK] [CLS] [SEP] [MASK], -1 if absent */
};

static int in_ranges(const uint32_t (*r)[2], int n, uint32_t c)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (c < r[mid][0]) hi = mid - 1;
        else if (c > r[mid][1]) lo = mid + 1;
        else return 1;
    }
    return 0;
}

static int is_punct(uint32_t c)
{
    if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126))
        return 1;
    return in_ranges(wp_uni_punct, wp_uni_punct_n, c);
}

/* Where Python's str.split() cuts a cleaned text: BERT splits words there. */
static int is_space(uint32_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x2028 || c == 0x2029 ||
           in_ranges(wp_uni_zs, wp_uni_zs_n, c);
}

static int is_cjk(uint32_t c)
{
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
           (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) ||
           (c >= 0x2B820 && c <= 0x2CEAF) || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/* Lower-case, decompose, drop non-spacing marks: up to 3 code points into out. */
static int fold(uint32_t c, uint32_t *out)
{
    if (c >= 0xAC00 && c <= 0xD7A3) {   /* Hangul syllable: L V (T) jamo */
        uint32_t s = c - 0xAC00;
        out[0] = 0x1100 + s / 588;
        out[1] = 0x1161 + (s % 588) / 28;
        if (s % 28) {
            out[2] = 0x11A7 + s % 28;
            return 3;
        }
        return 2;
    }
    if (in_ranges(wp_uni_mn, wp_uni_mn_n, c)) return 0;
    int lo = 0, hi = wp_uni_fold_n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (c < wp_uni_fold[mid][0]) hi = mid - 1;
        else if (c > wp_uni_fold[mid][0]) lo = mid + 1;
        else {
            int k = 0;
            for (; k < 3 && wp_uni_fold[mid][1 + k]; k++) out[k] = wp_uni_fold[mid][1 + k];
            return k;
        }
    }
    out[0] = c;
    return 1;
}

static uint64_t hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static int lookup(const wp_vocab *v, const char *s, size_t n)
{
    for (size_t i = hash(s, n) & (v->nslot - 1);; i = (i + 1) & (v->nslot - 1)) {
        int id = v->slot[i];
        if (id < 0) return -1;
        if (strlen(v->tok[id]) == n && !memcmp(v->tok[id], s, n)) return id;
    }
}

wp_vocab *wp_load(const char *path, ierr *e)
{
    size_t len;
    char *buf = (char *)file_read_all(path, &len, e);
    if (!buf) return NULL;
    wp_vocab *v = xcalloc(1, sizeof *v);
    int cap = 0;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && buf[j] != '\n') j++;
        size_t k = j;
        if (k > i && buf[k - 1] == '\r') k--;
        if (v->n == cap) {
            cap = cap ? 2 * cap : 1024;
            v->tok = xrealloc(v->tok, (size_t)cap * sizeof *v->tok);
        }
        v->tok[v->n] = xmalloc(k - i + 1);
        memcpy(v->tok[v->n], buf + i, k - i);
        v->tok[v->n][k - i] = 0;
        v->n++;
        i = j + 1;
    }
    free(buf);
    if (!v->n) {
        err_set(e, "%s: empty vocabulary", path);
        wp_free(v);
        return NULL;
    }
    for (v->nslot = 16; v->nslot < (size_t)v->n * 2; v->nslot *= 2) {}
    v->slot = xmalloc(v->nslot * sizeof *v->slot);
    memset(v->slot, 0xff, v->nslot * sizeof *v->slot);
    for (int id = 0; id < v->n; id++) {
        size_t n = strlen(v->tok[id]);
        if (lookup(v, v->tok[id], n) >= 0) continue;
        size_t i = hash(v->tok[id], n) & (v->nslot - 1);
        while (v->slot[i] >= 0) i = (i + 1) & (v->nslot - 1);
        v->slot[i] = id;
    }
    static const char *const names[5] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    for (int i = 0; i < 5; i++) v->special[i] = wp_id(v, names[i]);
    if (v->special[1] < 0) {
        err_set(e, "%s: no [UNK] token: not a BERT vocab.txt", path);
        wp_free(v);
        return NULL;
    }
    return v;
}

void wp_free(wp_vocab *v)
{
    if (!v) return;
    for (int i = 0; i < v->n; i++) free(v->tok[i]);
    free(v->tok);
    free(v->slot);
    free(v);
}

int wp_size(const wp_vocab *v) { return v->n; }

int wp_id(const wp_vocab *v, const char *token) { return lookup(v, token, strlen(token)); }

const char *wp_token(const wp_vocab *v, int id) { return id >= 0 && id < v->n ? v->tok[id] : NULL; }

typedef struct out_ids {
    int *ids, max, n;
} out_ids;

static void put(out_ids *o, int id)
{
    if (o->n < o->max) o->ids[o->n] = id;
    o->n++;
}

/* One word (already folded, no spaces or punctuation) into pieces. */
static void word(const wp_vocab *v, const uint32_t *cp, int n, out_ids *o)
{
    if (n > 100) {
        put(o, v->special[1]);
        return;
    }
    char *buf = xmalloc((size_t)n * 4 + 3);
    int first = o->n;
    for (int start = 0; start < n;) {
        int found = -1, end = n;
        for (; end > start; end--) {
            size_t len = 0;
            if (start > 0) buf[len++] = '#', buf[len++] = '#';
            len += bpe_utf8_encode(cp + start, end - start, buf + len);
            if ((found = lookup(v, buf, len)) >= 0) break;
        }
        if (found < 0) {
            o->n = first;   /* the whole word is unknown */
            put(o, v->special[1]);
            break;
        }
        put(o, found);
        start = end;
    }
    free(buf);
}

int wp_encode(const wp_vocab *v, const char *text, int *ids, int max)
{
    out_ids o = {ids, max, 0};
    size_t len = strlen(text);
    uint32_t *cp = xmalloc((len + 1) * sizeof *cp);
    int n = bpe_utf8_decode(text, len, cp);
    /* Each input code point folds to at most 3. */
    uint32_t *w = xmalloc(((size_t)n * 3 + 1) * sizeof *w);
    for (int i = 0; i < n;) {
        uint32_t c = cp[i];
        if (is_space(c) || c == 0 || c == 0xFFFD || c >= BPE_RAW || in_ranges(wp_uni_control, wp_uni_control_n, c)) {
            i++;
            continue;
        }
        /* One whitespace-delimited word: fold it, then split at punctuation;
         * a CJK ideograph is a word of its own. */
        int wn = 0;
        if (is_cjk(c)) {
            w[wn++] = c;
            i++;
        } else {
            for (; i < n; i++) {
                uint32_t d = cp[i];
                if (is_space(d) || is_cjk(d)) break;
                if (d == 0 || d == 0xFFFD || d >= BPE_RAW || in_ranges(wp_uni_control, wp_uni_control_n, d))
                    continue;
                wn += fold(d, w + wn);
            }
        }
        int start = 0;
        for (int k = 0; k <= wn; k++) {
            if (k < wn && !is_punct(w[k])) continue;
            if (k > start) word(v, w + start, k - start, &o);
            if (k < wn) word(v, w + k, 1, &o);
            start = k + 1;
        }
    }
    free(w);
    free(cp);
    return o.n;
}

char *wp_decode(const wp_vocab *v, const int *ids, int n)
{
    size_t cap = 16;
    for (int i = 0; i < n; i++)
        if (ids[i] >= 0 && ids[i] < v->n) cap += strlen(v->tok[ids[i]]) + 1;
    char *s = xmalloc(cap);
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= v->n) continue;
        int special = 0;
        for (int k = 0; k < 5; k++) special |= ids[i] == v->special[k];
        if (special) continue;
        const char *t = v->tok[ids[i]];
        if (len && !strncmp(t, "##", 2)) t += 2;   /* " ##" glued */
        else if (len) s[len++] = ' ';
        size_t tl = strlen(t);
        memcpy(s + len, t, tl);
        len += tl;
    }
    s[len] = 0;
    /* Hugging Face's clean-up of tokenization spaces. */
    static const char *const from[] = {" .", " ?", " !", " ,", " ' ", " n't", " 'm", " 's", " 've", " 're"};
    static const char *const to[] = {".", "?", "!", ",", "'", "n't", "'m", "'s", "'ve", "'re"};
    for (size_t r = 0; r < sizeof from / sizeof *from; r++) {
        size_t fl = strlen(from[r]), tl = strlen(to[r]), w = 0;
        for (size_t i = 0; i < len;) {
            if (!strncmp(s + i, from[r], fl)) {
                memcpy(s + w, to[r], tl);
                w += tl;
                i += fl;
            } else {
                s[w++] = s[i++];
            }
        }
        len = w;
        s[len] = 0;
    }
    return s;
}
