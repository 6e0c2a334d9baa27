/* gloss.c — starting word vectors from WordNet (Debian's wordnet-base), so
 * that words seen in few captions start near words with similar meanings.
 *
 * A word's context is the word itself, the content lemmas of the glosses of its three most
 * frequent senses as noun, verb and adjective, plus the words of those
 * synsets and of their direct hypernyms.  Contexts are weighted tf-idf over
 * the vocabulary, and a word's vector is the random projection of its
 * context (each context lemma has a fixed pseudo-random vector derived
 * from its spelling and the seed): words whose definitions share words
 * start with a high cosine. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index/wordnet.h"
#include "train/internal.h"

typedef struct ctx { char w[TEXTBAG_WORD]; float n; } ctx;
typedef struct bag { ctx *c; int n, cap; } bag;

static void bag_add(bag *b, const char *w, float k)
{
    for (int i = 0; i < b->n; i++)
        if (!strcmp(b->c[i].w, w)) {
            b->c[i].n += k;
            return;
        }
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 32;
        b->c = xrealloc(b->c, (size_t)b->cap * sizeof *b->c);
    }
    snprintf(b->c[b->n].w, TEXTBAG_WORD, "%s", w);
    b->c[b->n++].n = k;
}

static void bag_text(bag *b, const char *text, const char *self, float k)
{
    char lem[64][TEXTBAG_WORD];
    int n = textbag_lemmas(text, lem, 64);
    for (int i = 0; i < n; i++) if (strcmp(lem[i], self)) bag_add(b, lem[i], k);
}

static void context_of(const char *word, bag *b)
{
    static const char poses[] = {'n', 'v', 'a'};
    for (int p = 0; p < 3; p++) {
        uint32_t off[3];
        int no = wn_senses(word, poses[p], off, 3);
        for (int i = 0; i < no; i++) {
            char gloss[2048];
            float k = 1.0f / (float)((i + 1) * (i + 1));   /* rarer senses matter less */
            if (wn_gloss(off[i], poses[p], gloss, sizeof gloss)) bag_text(b, gloss, word, k);
            char words[16][48];
            int nw = wn_synset_words_pos(off[i], poses[p], words, 16);
            for (int j = 0; j < nw; j++) bag_text(b, words[j], word, 2 * k);
            uint32_t up[8];
            char upos[8];
            int nu = wn_pointers(off[i], poses[p], poses[p] == 'a' ? "&" : "@", up, upos, 8);
            for (int u = 0; u < nu; u++) {
                nw = wn_synset_words_pos(up[u], upos[u], words, 4);
                for (int j = 0; j < nw; j++) bag_text(b, words[j], word, k);
            }
        }
    }
}

static uint64_t hash_word(const char *w, uint64_t seed)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    for (; *w; w++) h = (h ^ (unsigned char)*w) * 0x100000001b3ULL;
    return h;
}

typedef struct dfe { const char *w; int df; } dfe;
static int cmp_dfe(const void *a, const void *b) { return strcmp(((const dfe *)a)->w, ((const dfe *)b)->w); }

int gloss_vectors(const vocab *v, int E, uint64_t seed, float norm, float *out)
{
    if (!wn_available()) return 0;
    bag *bags = xcalloc((size_t)v->n + 1, sizeof *bags);
    int total = 0;
    for (int i = 0; i < v->n; i++) {
        context_of(v->w[i], &bags[i]);
        total += bags[i].n;
    }
    /* document frequency of each context lemma over the vocabulary */
    dfe *all = xmalloc(((size_t)total + 1) * sizeof *all);
    int na = 0;
    for (int i = 0; i < v->n; i++)
        for (int k = 0; k < bags[i].n; k++) all[na++] = (dfe){bags[i].c[k].w, 1};
    qsort(all, (size_t)na, sizeof *all, cmp_dfe);
    int nd = 0;
    for (int i = 0; i < na; i++) {
        if (nd && !strcmp(all[nd - 1].w, all[i].w)) all[nd - 1].df++;
        else all[nd++] = all[i];
    }
    float *r = xmalloc((size_t)E * sizeof *r);
    int done = 0;
    for (int i = 0; i < v->n; i++) {
        if (!bags[i].n) continue;
        float *o = out + (size_t)i * E;
        memset(o, 0, (size_t)E * sizeof *o);
        for (int k = 0; k < bags[i].n; k++) {
            dfe key = {bags[i].c[k].w, 0}, *h = bsearch(&key, all, (size_t)nd, sizeof *all, cmp_dfe);
            float idf = logf((float)(v->n + 1) / (float)(h ? h->df : 1));
            rng g = {hash_word(bags[i].c[k].w, seed)};
            for (int j = 0; j < E; j++) r[j] = rng_uniform(&g) * 2 - 1;
            float wgt = bags[i].c[k].n * idf;
            for (int j = 0; j < E; j++) o[j] += wgt * r[j];
        }
        /* half the word's own random vector, half its context: "puppy" (a
         * young dog) then leans towards dog, whose own half is "dog" */
        double s = 0;
        for (int j = 0; j < E; j++) s += (double)o[j] * o[j];
        rng g = {hash_word(v->w[i], seed)};
        for (int j = 0; j < E; j++) r[j] = rng_uniform(&g) * 2 - 1;
        double s2 = 0;
        for (int j = 0; j < E; j++) s2 += (double)r[j] * r[j];
        float a = s > 0 ? (float)(1 / sqrt(s)) : 0, b = (float)(1 / sqrt(s2));
        for (int j = 0; j < E; j++) o[j] = a * o[j] + b * r[j];
        s = 0;
        for (int j = 0; j < E; j++) s += (double)o[j] * o[j];
        float k = norm / (float)sqrt(s);
        for (int j = 0; j < E; j++) o[j] *= k;
        done++;
    }
    for (int i = 0; i < v->n; i++) free(bags[i].c);
    free(bags);
    free(all);
    free(r);
    return done;
}
