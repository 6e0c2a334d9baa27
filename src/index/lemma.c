/* lemma.c — base forms of English words, the way WordNet's morphy finds them:
 * first the exception lists (mice -> mouse, ran -> run), then detaching
 * inflectional endings and keeping a candidate only when WordNet knows it
 * as a lemma of that part of speech.
 *
 * Preferences are tuned for describing photos: a word that is a noun stays
 * a noun ("glasses", "bus", "bed"), except "-ing" forms, which usually
 * describe what someone is doing ("running" -> "run") unless the noun is the
 * usual reading ("building", "painting").  Without WordNet a few plain
 * suffix rules keep index and query consistent.
 */
#include "index/tokens.h"
#include "index/wordnet.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Photo vocabulary that morphy would get wrong for us. */
static const char *const overrides[][2] = {
    {"people", "person"}, {"persons", "person"}, {"folks", "person"},
    {"grey", "grey"}, {"gray", "grey"}, {"colour", "colour"}, {"color", "colour"},
    {"colours", "colour"}, {"colors", "colour"}, {"donuts", "donut"}, {"tvs", "tv"},
    {"skis", "ski"}, {NULL, NULL},
};

/* -ing nouns whose noun reading is the one photos mean. */
static const char *const ing_nouns[] = {
    "building", "painting", "clothing", "ceiling", "railing", "wedding", "evening",
    "morning", "crossing", "parking", "bedding", "icing", "frosting", "stuffing",
    "landing", "awning", "siding", "lightning", "pudding", "dumpling", "sibling",
    "offspring", "string", "spring", "ring", "swing", "wing", "king", "thing", "earring",
    "sling", "sewing", "housing", "setting", "opening", "drawing", "sporting", NULL,
};

static int in_list(const char *const *l, const char *w)
{
    for (; *l; l++) if (!strcmp(*l, w)) return 1;
    return 0;
}

static int ends(const char *w, size_t n, const char *suf)
{
    size_t s = strlen(suf);
    return n > s && !memcmp(w + n - s, suf, s);
}

/* Try the detachment rules of pos; a candidate counts only when it is in
 * the index of that part of speech. */
static int detach(const char *w, char pos, char *out, size_t n)
{
    static const char *const noun[][2] = {
        {"ses", "s"}, {"xes", "x"}, {"zes", "z"}, {"ches", "ch"}, {"shes", "sh"},
        {"men", "man"}, {"ies", "y"}, {"s", ""}, {NULL, NULL}};
    static const char *const verb[][2] = {
        {"ies", "y"}, {"es", "e"}, {"es", ""}, {"s", ""}, {"ed", "e"}, {"ed", ""},
        {"ing", "e"}, {"ing", ""}, {NULL, NULL}};
    static const char *const adj[][2] = {
        {"er", ""}, {"est", ""}, {"er", "e"}, {"est", "e"}, {NULL, NULL}};
    const char *const (*r)[2] = pos == 'n' ? noun : pos == 'v' ? verb : adj;
    size_t len = strlen(w);
    char cand[96];
    for (int i = 0; r[i][0]; i++) {
        if (!ends(w, len, r[i][0])) continue;
        size_t stem = len - strlen(r[i][0]);
        if (stem + strlen(r[i][1]) + 1 > sizeof cand || stem < 2) continue;
        memcpy(cand, w, stem);
        strcpy(cand + stem, r[i][1]);
        if (wn_in_index(cand, pos)) { snprintf(out, n, "%s", cand); return 1; }
        /* morphy misses doubled consonants that verb.exc does not list
         * ("skipping" -> "skip"): undouble and retry. */
        if (pos != 'n' && !*r[i][1] && stem >= 3 && cand[stem - 1] == cand[stem - 2]
            && !strchr("aeiouls", cand[stem - 1])) {
            cand[stem - 1] = 0;
            if (wn_in_index(cand, pos)) { snprintf(out, n, "%s", cand); return 1; }
        }
    }
    return 0;
}

/* Without WordNet: plain rules, good enough to keep index and query aligned. */
static void simple_rules(char *w)
{
    size_t n = strlen(w);
    if (n > 4 && ends(w, n, "ies")) strcpy(w + n - 3, "y");
    else if (n > 4 && (ends(w, n, "ches") || ends(w, n, "shes") || ends(w, n, "sses") ||
                       ends(w, n, "xes"))) w[n - 2] = 0;
    else if (n > 3 && ends(w, n, "s") && !ends(w, n, "ss") && !ends(w, n, "us")) w[n - 1] = 0;
}

const char *lemma(const char *word, char *out, size_t n)
{
    if (!out || n == 0) return out;
    char w[96];
    size_t len = 0;
    for (; word && word[len] && len + 1 < sizeof w; len++)
        w[len] = (char)tolower((unsigned char)word[len]);
    w[len] = 0;
    int alpha = len > 0;
    for (size_t i = 0; i < len; i++)
        if (!isalpha((unsigned char)w[i]) && w[i] != '-' && w[i] != '\'') alpha = 0;
    if (!alpha || len < 3) { snprintf(out, n, "%s", w); return out; }
    for (int i = 0; overrides[i][0]; i++)
        if (!strcmp(overrides[i][0], w)) { snprintf(out, n, "%s", overrides[i][1]); return out; }
    if (!wn_available()) { simple_rules(w); snprintf(out, n, "%s", w); return out; }

    char b[96];
    if (wn_exception(w, 'n', b, sizeof b)) { snprintf(out, n, "%s", b); return out; }
    int noun = wn_in_index(w, 'n');
    if (ends(w, len, "ing") && !in_list(ing_nouns, w)) {
        if (wn_exception(w, 'v', b, sizeof b) || detach(w, 'v', b, sizeof b)) {
            snprintf(out, n, "%s", b); return out;
        }
    }
    if (noun) { snprintf(out, n, "%s", w); return out; }
    if (wn_exception(w, 'v', b, sizeof b)) { snprintf(out, n, "%s", b); return out; }
    if (detach(w, 'n', b, sizeof b)) { snprintf(out, n, "%s", b); return out; }
    if (!wn_in_index(w, 'a') && !wn_in_index(w, 'r') && detach(w, 'v', b, sizeof b)) {
        snprintf(out, n, "%s", b); return out;
    }
    if (wn_exception(w, 'a', b, sizeof b)) { snprintf(out, n, "%s", b); return out; }
    if (!wn_in_index(w, 'a') && detach(w, 'a', b, sizeof b)) { snprintf(out, n, "%s", b); return out; }
    snprintf(out, n, "%s", w);
    return out;
}
