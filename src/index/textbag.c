/* textbag.c — text to content lemmas, and WordNet back-off for lemmas the
 * trained model does not know (textbag.h). */
#include "index/textbag.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index/tokens.h"
#include "index/wordnet.h"

_Static_assert(sizeof ((textbag_term *)0)->word == TEXTBAG_WORD, "a back-off term holds a lemma");

/* Next word: letters/digits (and UTF-8 bytes), with inner '-' and '\''. */
static const char *next_word(const char *s, char *w, size_t n)
{
    while (*s && !isalnum((unsigned char)*s) && !((unsigned char)*s & 0x80)) s++;
    if (!*s) return NULL;
    size_t i = 0;
    for (;; s++) {
        unsigned char c = (unsigned char)*s;
        int inner = (c == '-' || c == '\'') && i > 0 &&
                    (isalnum((unsigned char)s[1]) || ((unsigned char)s[1] & 0x80));
        if (!(isalnum(c) || (c & 0x80) || inner)) break;
        if (i + 1 < n) w[i++] = (char)tolower(c);
    }
    w[i] = 0;
    /* possessive "dog's" -> "dog"; "dogs'" lost its apostrophe above */
    if (i > 2 && w[i - 2] == '\'' && w[i - 1] == 's') w[i - 2] = 0;
    return s;
}

static int add_lemma(const char *word, char (*out)[TEXTBAG_WORD], int n, int max)
{
    if (n >= max || !*word || token_is_stopword(word)) return n;
    char l[TEXTBAG_WORD];
    lemma(word, l, sizeof l);
    if (!*l || token_is_stopword(l)) return n;
    snprintf(out[n], TEXTBAG_WORD, "%s", l);
    return n + 1;
}

static int wn_knows(const char *w)
{
    return wn_in_index(w, 'n') || wn_in_index(w, 'v') || wn_in_index(w, 'a') || wn_in_index(w, 'r');
}

int textbag_lemmas(const char *text, char (*out)[TEXTBAG_WORD], int max)
{
    int n = 0;
    char w[TEXTBAG_WORD * 2];
    const char *s = text ? text : "";
    while (n < max && (s = next_word(s, w, sizeof w))) {
        if (!strchr(w, '-') || !wn_available()) {
            n = add_lemma(w, out, n, max);
            continue;
        }
        char l[TEXTBAG_WORD];
        lemma(w, l, sizeof l);
        if (wn_knows(l)) {          /* "t-shirt" */
            n = add_lemma(w, out, n, max);
            continue;
        }
        char *save = NULL;
        for (char *part = strtok_r(w, "-", &save); part; part = strtok_r(NULL, "-", &save))
            n = add_lemma(part, out, n, max);
    }
    return n;
}

/* ---- back-off ------------------------------------------------------------ */

typedef struct node { uint32_t off; char pos; int depth; float f; } node;

#define MAX_NODES 512
#define MAX_DEPTH 4

static float step_weight(int depth)
{
    static const float w[MAX_DEPTH + 1] = {0.9f, 0.8f, 0.7f, 0.6f, 0.5f};
    return w[depth < MAX_DEPTH ? depth : MAX_DEPTH];
}

/* Known lemmas among the words of one synset. */
static int harvest(const node *nd, const char *self, int (*known)(void *, const char *), void *ctx,
                   textbag_term *out, int n, int max)
{
    char words[16][48];
    int nw = wn_synset_words_pos(nd->off, nd->pos, words, 16);
    for (int i = 0; i < nw; i++) {
        if (!strcmp(words[i], self)) continue;
        /* The model's vocabulary holds lemmas: "ran" in a synset is "run". */
        char l[TEXTBAG_WORD];
        if (strchr(words[i], ' ')) snprintf(l, sizeof l, "%s", words[i]);
        else lemma(words[i], l, sizeof l);
        if (known(ctx, l)) n = term_list_add(out, n, max, l, step_weight(nd->depth) * nd->f);
    }
    return n;
}

int textbag_backoff(const char *lem, int (*known)(void *ctx, const char *lemma), void *ctx,
                    textbag_term *out, int max)
{
    if (!lem || !*lem || max <= 0 || !wn_available()) return 0;
    static const char poses[] = {'n', 'v', 'a'};
    node *q = xmalloc(MAX_NODES * sizeof *q);
    int head = 0, tail = 0;
    for (int p = 0; p < 3; p++) {
        uint32_t off[3];
        int no = wn_senses(lem, poses[p], off, 3);
        for (int i = 0; i < no && tail < MAX_NODES; i++)
            q[tail++] = (node){off[i], poses[p], 0, 1.0f - 0.1f * (float)i};
    }
    int n = 0, found_depth = -1;
    while (head < tail) {
        node nd = q[head++];
        if (found_depth >= 0 && nd.depth > found_depth) break;     /* nearest level only */
        if (nd.depth > 0 && nd.pos == 'n' && wn_too_abstract(nd.off)) continue;
        int before = n;
        n = harvest(&nd, lem, known, ctx, out, n, max);
        if (n > before || (n == max && found_depth < 0 && n > 0)) found_depth = nd.depth;
        if (nd.depth >= MAX_DEPTH) continue;
        uint32_t next[32];
        char npos[32];
        /* hypernyms for nouns and verbs, "similar to" for adjectives, and
         * derivations ("swimmer" -> "swim") from the word's own senses */
        const char *sym = nd.pos == 'a' ? "&" : "@,@i";
        int nn = wn_pointers(nd.off, nd.pos, sym, next, npos, 32);
        if (nd.depth == 0) nn += wn_pointers(nd.off, nd.pos, "+", next + nn, npos + nn, 32 - nn);
        for (int i = 0; i < nn && tail < MAX_NODES; i++) {
            int seen = 0;
            for (int j = 0; j < tail && !seen; j++) seen = q[j].off == next[i] && q[j].pos == npos[i];
            if (!seen) q[tail++] = (node){next[i], npos[i], nd.depth + 1, nd.f};
        }
    }
    free(q);
    term_list_sort(out, n);
    return n;
}

/* ---- text embedding -------------------------------------------------------- */

static int model_knows(void *ctx, const char *l)
{
    return joint_word_index(ctx, l) >= 0;
}

#define BAG_MAX 64
#define BACKOFF_MAX 4

int textbag_weigh(char (*lem)[TEXTBAG_WORD], int nl, int (*known)(void *ctx, const char *lemma),
                  void *ctx, textbag_term *out, int max, int *unknown)
{
    int n = 0, miss = 0;
    for (int i = 0; i < nl && n < max; i++) {
        if (known(ctx, lem[i])) {
            snprintf(out[n].word, sizeof out[n].word, "%s", lem[i]);
            out[n++].weight = 1.0f;
            continue;
        }
        textbag_term bo[BACKOFF_MAX];
        int nb = textbag_backoff(lem[i], known, ctx, bo, BACKOFF_MAX);
        if (!nb) {
            miss++;
            continue;
        }
        float sum = 0;
        for (int k = 0; k < nb; k++) sum += bo[k].weight;
        for (int k = 0; k < nb && n < max; k++) {
            out[n] = bo[k];
            out[n++].weight = bo[k].weight * bo[k].weight / sum;
        }
    }
    if (unknown) *unknown = miss;
    return n;
}

int textbag_embed(const joint_model *m, const char *text, float *out, int *unknown)
{
    char lem[BAG_MAX][TEXTBAG_WORD];
    int nl = textbag_lemmas(text, lem, BAG_MAX);
    textbag_term t[BAG_MAX * 2];
    int miss = 0;
    int nt = textbag_weigh(lem, nl, model_knows, (void *)m, t, BAG_MAX * 2, &miss);
    const char *words[BAG_MAX * 2];
    float wts[BAG_MAX * 2];
    for (int i = 0; i < nt; i++) {
        words[i] = t[i].word;
        wts[i] = t[i].weight;
    }
    int known = joint_embed_lemmas(m, words, wts, nt, out);
    if (unknown) *unknown = miss;
    return known ? nl - miss : 0;   /* lemmas, not stand-ins */
}
