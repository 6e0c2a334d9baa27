/* parser.c — recursive descent over the tokens of lexer.c.
 *
 *   query    := item*
 *   item     := FILTER | STRING | '-' (WORD | STRING)
 *             | ('no' | 'without' | 'not' | 'except') phrase (('or'|'and'|',') phrase)*
 *             | clause | separator
 *   clause   := phrase (verb* REL phrase | verb* 'between' phrase 'and' phrase)*
 *   phrase   := quantity? modifier* NOUN suffix*
 *   quantity := 'a' | 'an' | 'the' | 'one' | NUMBER | 'two'.. | 'many' | 'several' | 'a few'
 *             | 'a couple of' | 'a group of' | 'at least' N | 'more than' N ...
 *   suffix   := ('in' | 'wearing' | 'with') det? COLOUR* CLOTHING      attribute of the phrase
 *             | ('in' | 'at' | 'on') 'the'? POSITION ('corner'|'side')? global position
 *
 * Nouns and adjectives are open classes, so the grammar decides by position:
 * in a run of content words the last one that is not a colour or size is
 * the head noun ("a small white dog"), the words before it modify it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/ast.h"

typedef struct P {
    q_tok *t;
    int n, i;
    query *q;
    ierr *e;
} P;

static const q_tok *tok(P *p, int k)
{
    int j = p->i + k;
    return j < p->n ? &p->t[j] : &p->t[p->n - 1];
}

static int is_w(P *p, int k, const char *w)
{
    const q_tok *t = tok(p, k);
    return t->type == T_WORD && !strcmp(t->text, w);
}

static int fail(P *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(P *p, const char *fmt, ...)
{
    va_list ap;
    char msg[512];
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    err_set(p->e, "%s", msg);
    return -1;
}

/* Column just after token k (for "expected ... after X"). */
static int col_after(P *p, int k)
{
    const q_tok *t = tok(p, k);
    return t->col + (int)strlen(t->text);
}

/* Nothing but separators left: a dangling word here is a malformed query,
 * while inside a sentence the same word is just loose English. */
static int at_end(P *p)
{
    for (int k = p->i; k < p->n; k++)
        if (p->t[k].type != T_SEP && p->t[k].type != T_END) return 0;
    return 1;
}

static int is_adverb(const char *w)
{
    return !strcmp(w, "very") || !strcmp(w, "really") || !strcmp(w, "quite") || !strcmp(w, "extremely") ||
           !strcmp(w, "rather") || !strcmp(w, "fairly") || !strcmp(w, "pretty");
}

/* ---- relations ------------------------------------------------------------ */

static const struct { const char *words; const char *rel; } rels[] = {
    {"to the left of", "left_of"}, {"on the left of", "left_of"}, {"at the left of", "left_of"},
    {"to the left side of", "left_of"}, {"left of", "left_of"},
    {"to the right of", "right_of"}, {"on the right of", "right_of"}, {"at the right of", "right_of"},
    {"to the right side of", "right_of"}, {"right of", "right_of"},
    {"on top of", "on"}, {"on", "on"}, {"onto", "on"}, {"upon", "on"}, {"atop", "on"},
    {"riding on", "on"}, {"riding", "on"}, {"sitting on", "on"}, {"standing on", "on"},
    {"lying on", "on"}, {"laying on", "on"}, {"sits on", "on"}, {"stands on", "on"},
    {"above", "above"}, {"over", "above"}, {"higher than", "above"},
    {"below", "below"}, {"under", "below"}, {"underneath", "below"}, {"beneath", "below"},
    {"lower than", "below"},
    {"next to", "next_to"}, {"beside", "next_to"}, {"besides", "next_to"}, {"alongside", "next_to"},
    {"by", "next_to"}, {"side by side with", "next_to"},
    {"near", "near"}, {"near to", "near"}, {"close to", "near"}, {"nearby", "near"},
    {"holding", "near"}, {"carrying", "near"},
    {"behind", "behind"}, {"in back of", "behind"},
    {"in front of", "in_front"},
    {"inside of", "inside"}, {"inside", "inside"}, {"in", "inside"}, {"within", "inside"},
    {"between", "between"}, {"in between", "between"},
    {"far from", "far"}, {"away from", "far"},
};

/* Longest relation starting at the current token; returns its name and the
 * number of words in *len, or NULL. */
static const char *match_rel(P *p, int *len)
{
    const char *best = NULL;
    int bestlen = 0;
    for (size_t r = 0; r < sizeof rels / sizeof rels[0]; r++) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s", rels[r].words);
        int k = 0, ok = 1;
        char *save, *w = strtok_r(buf, " ", &save);
        while (w) {
            if (!is_w(p, k, w)) { ok = 0; break; }
            k++;
            w = strtok_r(NULL, " ", &save);
        }
        if (ok && k > bestlen) {
            best = rels[r].rel;
            bestlen = k;
        }
    }
    *len = bestlen;
    return best;
}

/* ---- phrases ---------------------------------------------------------------- */

/* Words that end a run of content words. */
static int is_boundary(const char *w)
{
    static const char *const b[] = {"in", "on", "at", "with", "and", "or", "without", "no", "not",
                                    "of", "to", "by", "near", "next", "behind", "above", "below",
                                    "under", "over", "between", "beside", "inside", "underneath",
                                    "beneath", "onto", "upon", "atop", "except", "excluding",
                                    "wearing", "holding", "carrying", "riding", "left", "right",
                                    "is", "are", "the", "a", "an", "nor", "close", "far", "away",
                                    "within", "alongside", "besides", "while", "who", "that",
                                    "which", "from", "for", "as", "into", NULL};
    for (int i = 0; b[i]; i++)
        if (!strcmp(w, b[i])) return 1;
    return 0;
}

/* "running", "jumping": verbs that describe, not things (a few -ing nouns excepted). */
static int is_verb_ing(const char *w)
{
    static const char *const nouns[] = {"building", "painting", "ceiling", "clothing", "king", "ring",
                                        "wing", "swing", "string", "thing", "evening", "morning",
                                        "spring", "wedding", "pudding", "ping", "sing", "sibling",
                                        "ceiling", "railing", "sling", "bring", "sting", "wring",
                                        "icing", "awning", "stuffing", "topping", NULL};
    size_t l = strlen(w);
    if (l < 5 || strcmp(w + l - 3, "ing")) return 0;
    for (int i = 0; nouns[i]; i++)
        if (!strcmp(w, nouns[i])) return 0;
    return 1;
}

static int add_phrase(P *p)
{
    query *q = p->q;
    q->ph = xrealloc(q->ph, (size_t)(q->nph + 1) * sizeof *q->ph);
    q_phrase *ph = &q->ph[q->nph];
    memset(ph, 0, sizeof *ph);
    ph->cmin = 1;
    ph->cmax = -1;
    ph->px = ph->py = -1;
    return q->nph++;
}

static void add_attr(q_phrase *ph, int kind, const char *value, const char *part)
{
    if (ph->nattrs >= Q_MAX_ATTRS) return;
    q_attr *a = &ph->attrs[ph->nattrs++];
    a->kind = kind;
    snprintf(a->value, sizeof a->value, "%s", value);
    snprintf(a->part, sizeof a->part, "%s", part ? part : "");
}

static void add_free(P *p, const char *w)
{
    query *q = p->q;
    if (q_is_stopword(w)) return;
    q->free = xrealloc(q->free, (size_t)(q->nfree + 1) * sizeof *q->free);
    snprintf(q->free[q->nfree++], Q_WORD, "%s", w);
}

/* Quantity before a noun; fills cmin/cmax and returns 1 when one was read
 * (determiners count: they make a following noun obligatory). */
static int parse_quantity(P *p, int *cmin, int *cmax, int *expl)
{
    int any = 0;
    for (;;) {
        const q_tok *t = tok(p, 0);
        if (t->type != T_WORD) return any;
        const char *w = t->text;
        int n;
        if (!strcmp(w, "a") || !strcmp(w, "an")) {
            if (is_w(p, 1, "few")) { *cmin = 2; *cmax = 4; *expl = 1; p->i += 2; }
            else if ((is_w(p, 1, "couple") || is_w(p, 1, "pair")) && is_w(p, 2, "of")) {
                *cmin = *cmax = 2; *expl = 1; p->i += 2;
                if (is_w(p, 0, "of")) p->i++;
            } else if (is_w(p, 1, "lot") && is_w(p, 2, "of")) { *cmin = 4; *cmax = -1; *expl = 1; p->i += 3; }
            else if (is_w(p, 1, "dozen")) { *cmin = *cmax = 12; *expl = 1; p->i += 2; }
            else if (is_w(p, 2, "of") && (is_w(p, 1, "group") || is_w(p, 1, "herd") || is_w(p, 1, "flock") ||
                                          is_w(p, 1, "crowd") || is_w(p, 1, "bunch") || is_w(p, 1, "pack") ||
                                          is_w(p, 1, "team") || is_w(p, 1, "number"))) {
                *cmin = 3; *cmax = -1; *expl = 1; p->i += 3;
            } else p->i++;
        } else if (!strcmp(w, "the") || !strcmp(w, "some") || !strcmp(w, "any") || !strcmp(w, "all") ||
                   !strcmp(w, "his") || !strcmp(w, "her") || !strcmp(w, "its") || !strcmp(w, "their") ||
                   !strcmp(w, "my") || !strcmp(w, "your") || !strcmp(w, "our") || !strcmp(w, "another") ||
                   !strcmp(w, "other") || !strcmp(w, "this") || !strcmp(w, "that") || !strcmp(w, "these") ||
                   !strcmp(w, "those") || !strcmp(w, "each") || !strcmp(w, "every")) {
            p->i++;
        } else if (!strcmp(w, "many") || !strcmp(w, "numerous") || !strcmp(w, "lots") ||
                   !strcmp(w, "plenty") || !strcmp(w, "crowds") || !strcmp(w, "groups")) {
            *cmin = 4; *cmax = -1; *expl = 1; p->i++;
            if (is_w(p, 0, "of")) p->i++;
        } else if (!strcmp(w, "several")) { *cmin = 3; *cmax = -1; *expl = 1; p->i++; }
        else if (!strcmp(w, "multiple")) { *cmin = 2; *cmax = -1; *expl = 1; p->i++; }
        else if (!strcmp(w, "few")) { *cmin = 2; *cmax = 4; *expl = 1; p->i++; }
        else if (!strcmp(w, "both")) { *cmin = *cmax = 2; *expl = 1; p->i++; }
        else if ((!strcmp(w, "at") && (is_w(p, 1, "least") || is_w(p, 1, "most"))) ||
                 ((!strcmp(w, "more") || !strcmp(w, "fewer") || !strcmp(w, "less")) && is_w(p, 1, "than"))) {
            int k = q_number_word(tok(p, 2)->type == T_WORD ? tok(p, 2)->text : "");
            if (k < 0) return fail(p, "'%s %s' needs a number at column %d", w, tok(p, 1)->text, col_after(p, 1)), -1;
            if (!strcmp(w, "at") && is_w(p, 1, "least")) { *cmin = k; *cmax = -1; }
            else if (!strcmp(w, "at")) { *cmin = k ? 1 : 0; *cmax = k; }
            else if (!strcmp(w, "more")) { *cmin = k + 1; *cmax = -1; }
            else { *cmin = k > 1 ? 1 : 0; *cmax = k - 1; }
            *expl = 1;
            p->i += 3;
        } else if ((n = q_number_word(w)) >= 0 && !q_is_compound(w, tok(p, 1)->text)) {
            *cmin = *cmax = n; *expl = 1; p->i++;
            if (is_w(p, 0, "of")) p->i++;
        } else {
            return any;
        }
        any = 1;
    }
}

/* ("in"|"at"|"on") "the"? POSITION ... ; returns 1 when consumed. */
static int parse_position(P *p, q_phrase *ph)
{
    if (!(is_w(p, 0, "in") || is_w(p, 0, "at") || is_w(p, 0, "on") || is_w(p, 0, "to"))) return 0;
    int k = 1;
    if (is_w(p, k, "the")) k++;
    const q_tok *a = tok(p, k), *b = tok(p, k + 1);
    if (a->type != T_WORD) return 0;
    if (!strcmp(a->text, "foreground") || !strcmp(a->text, "background")) {
        add_attr(ph, QA_SIZE, a->text[0] == 'f' ? "large" : "small", NULL);
        p->i += k + 1;
        return 1;
    }
    float x, y;
    const char *name = NULL;
    int used = 0;
    if (b->type == T_WORD && (name = q_position(a->text, b->text, &x, &y)) && strchr(name, ' ')) used = 2;
    else if ((name = q_position(a->text, NULL, &x, &y))) used = 1;
    else if (b->type == T_WORD && (name = q_position(a->text, b->text, &x, &y))) used = 2;
    if (!name) return 0;
    int j = k + used;
    if (is_w(p, j, "corner") || is_w(p, j, "side") || is_w(p, j, "part") || is_w(p, j, "half") ||
        is_w(p, j, "edge"))
        j++;
    /* "on the left of X" is a relation, not a position */
    if (is_w(p, j, "of")) {
        if (is_w(p, j + 1, "the") && (is_w(p, j + 2, "image") || is_w(p, j + 2, "picture") ||
                                      is_w(p, j + 2, "photo") || is_w(p, j + 2, "frame")))
            j += 3;
        else
            return 0;
    }
    snprintf(ph->position, sizeof ph->position, "%s", name);
    ph->px = x;
    ph->py = y;
    p->i += j;
    return 1;
}

/* ("in"|"wearing"|"with"|"dressed in") det? COLOUR* CLOTHING? */
static int parse_clothing(P *p, q_phrase *ph)
{
    int k;
    if (is_w(p, 0, "in") || is_w(p, 0, "wearing") || is_w(p, 0, "with")) k = 1;
    else if (is_w(p, 0, "dressed") && is_w(p, 1, "in")) k = 2;
    else return 0;
    if (is_w(p, k, "a") || is_w(p, k, "an") || is_w(p, k, "the")) k++;
    char colours[4][Q_WORD];
    int nc = 0;
    for (;;) {
        const q_tok *t = tok(p, k);
        char canon[Q_WORD];
        if (t->type != T_WORD || !q_is_colour(t->text, canon, sizeof canon)) break;
        if (nc < 4) snprintf(colours[nc++], Q_WORD, "%s", canon);
        k++;
        if (is_w(p, k, "and") && tok(p, k + 1)->type == T_WORD && q_is_colour(tok(p, k + 1)->text, NULL, 0)) k++;
    }
    const q_tok *t = tok(p, k);
    int clothing = t->type == T_WORD && q_is_clothing(t->text);
    if (clothing) {
        char part[Q_WORD];
        q_lemma(t->text, part, sizeof part);
        if (!strcmp(part, "shirts")) snprintf(part, sizeof part, "shirt");
        for (int c = 0; c < nc; c++) add_attr(ph, QA_COLOUR, colours[c], part);
        if (!nc) add_attr(ph, QA_WORD, part, NULL);
        p->i += k + 1;
        return 1;
    }
    /* "a woman in red" */
    if (nc && !is_w(p, 0, "with")) {
        for (int c = 0; c < nc; c++) add_attr(ph, QA_COLOUR, colours[c], "clothes");
        p->i += k;
        return 1;
    }
    return 0;
}

/* Returns the phrase index, -1 on error (p->e set), -2 when there is no
 * phrase here (nothing consumed, or only colour/size words went to free text). */
static int parse_phrase(P *p)
{
    int start = p->i;
    int cmin = 1, cmax = -1, expl = 0;
    int q = parse_quantity(p, &cmin, &cmax, &expl);
    if (q < 0) return -1;
    /* "a photo of a dog" is a dog */
    if ((is_w(p, 0, "photo") || is_w(p, 0, "picture") || is_w(p, 0, "image") || is_w(p, 0, "photograph") ||
         is_w(p, 0, "pic") || is_w(p, 0, "shot")) && is_w(p, 1, "of")) {
        p->i += 2;
        int cmin2 = 1, cmax2 = -1, expl2 = 0;
        if (parse_quantity(p, &cmin2, &cmax2, &expl2) < 0) return -1;
        if (expl2) { cmin = cmin2; cmax = cmax2; expl = expl2; }
        q = 1;
    }
    while (is_w(p, 0, "very") || is_adverb(tok(p, 0)->type == T_WORD ? tok(p, 0)->text : "")) p->i++;
    /* content words, kept in order; adverbs skipped, "black and white" kept */
    int idx[8];
    int first = p->i, nw = 0;
    while (nw < 8) {
        const q_tok *t = tok(p, 0);
        if (t->type == T_WORD && is_adverb(t->text)) { p->i++; continue; }
        if (nw > 0 && t->type == T_WORD && !strcmp(t->text, "and") && q_is_colour(p->t[idx[nw - 1]].text, NULL, 0) &&
            tok(p, 1)->type == T_WORD && q_is_colour(tok(p, 1)->text, NULL, 0)) {
            p->i++;
            continue;
        }
        if (t->type != T_WORD || is_boundary(t->text) || q_is_stopword(t->text)) break;
        if (nw > 0 && (is_verb_ing(t->text) || q_is_verb(t->text))) break;
        if (nw == 0 && !q && is_verb_ing(t->text)) break;
        if (nw > 0 && q_number_word(t->text) >= 0) break;
        idx[nw++] = p->i;
        p->i++;
    }
    (void)first;
    if (nw == 0) {
        /* "next to her", "each other", "number 7": pronouns and numbers may
         * end a sentence; "a", "the" or a count with nothing after may not */
        const char *last = p->i > start ? p->t[p->i - 1].text : "";
        int pronoun = !strcmp(last, "her") || !strcmp(last, "his") || !strcmp(last, "its") ||
                      !strcmp(last, "their") || !strcmp(last, "my") || !strcmp(last, "your") ||
                      !strcmp(last, "our") || !strcmp(last, "another") || !strcmp(last, "other") ||
                      !strcmp(last, "this") || !strcmp(last, "that") || !strcmp(last, "these") ||
                      !strcmp(last, "those") || !strcmp(last, "each") || !strcmp(last, "every") ||
                      !strcmp(last, "all") || !strcmp(last, "some") || !strcmp(last, "any") ||
                      !strcmp(last, "both") || !strcmp(last, "few") || !strcmp(last, "several") ||
                      !strcmp(last, "many") || !strcmp(last, "one") ||
                      (q_number_word(last) >= 0 && p->q->nph > 0);
        if (p->i > start && at_end(p) && !pronoun) {
            int k = p->i - start;
            p->i = start + k - 1;
            int c = col_after(p, 0);
            const char *prev = tok(p, 0)->text;
            p->i = start + k;
            return fail(p, "expected a noun after '%s' at column %d", prev, c);
        }
        return -2;   /* determiners before loose words: the caller moves on */
    }
    int head = -1;
    for (int k = nw - 1; k >= 0; k--) {
        const char *w = p->t[idx[k]].text;
        if (!q_is_colour(w, NULL, 0) && !q_is_size(w, NULL, 0)) { head = k; break; }
    }
    /* "an orange" is the fruit */
    if (head < 0 && q && !strcmp(p->t[idx[nw - 1]].text, "orange")) head = nw - 1;
    if (head < 0) {
        if (q && at_end(p) && p->q->nph == 0) {
            p->i--;
            int c = col_after(p, 0);
            p->i++;
            return fail(p, "expected a noun after '%s' at column %d", p->t[idx[nw - 1]].text, c);
        }
        for (int k = 0; k < nw; k++) add_free(p, p->t[idx[k]].text);
        return -2;
    }
    int id = add_phrase(p);
    q_phrase *ph = &p->q->ph[id];
    ph->col = p->t[start].col;
    const char *hw = p->t[idx[head]].text;
    char lem[Q_WORD];
    q_lemma(hw, lem, sizeof lem);
    int mods_end = head;
    if (head > 0 && q_is_compound(p->t[idx[head - 1]].text, lem)) {
        snprintf(ph->noun, sizeof ph->noun, "%s %s", p->t[idx[head - 1]].text, lem);
        snprintf(ph->word, sizeof ph->word, "%s %s", p->t[idx[head - 1]].text, hw);
        mods_end = head - 1;
    } else {
        snprintf(ph->noun, sizeof ph->noun, "%s", lem);
        snprintf(ph->word, sizeof ph->word, "%s", hw);
    }
    for (int k = 0; k < nw; k++) {
        if (k >= mods_end && k <= head) continue;
        const char *w = p->t[idx[k]].text;
        char canon[Q_WORD];
        if (q_is_colour(w, canon, sizeof canon)) add_attr(ph, QA_COLOUR, canon, NULL);
        else if (q_is_size(w, canon, sizeof canon)) add_attr(ph, QA_SIZE, canon, NULL);
        else add_attr(ph, QA_WORD, w, NULL);
    }
    int plural = strcmp(lem, hw) != 0 && strcmp(hw, "sheep") && strcmp(hw, "fish") && strcmp(hw, "deer");
    if (!expl && plural) cmin = 2;
    ph->cmin = cmin;
    ph->cmax = cmax;
    ph->explicit_count = expl;
    /* suffixes, in any order */
    for (;;) {
        ph = &p->q->ph[id];
        if (parse_position(p, ph)) continue;
        if (parse_clothing(p, ph)) continue;
        break;
    }
    return id;
}

static int add_rel(P *p, int a, const char *rel, int b, int c, int col)
{
    query *q = p->q;
    q->rel = xrealloc(q->rel, (size_t)(q->nrel + 1) * sizeof *q->rel);
    q_rel *r = &q->rel[q->nrel++];
    memset(r, 0, sizeof *r);
    r->a = a;
    r->b = b;
    r->c = c;
    snprintf(r->rel, sizeof r->rel, "%s", rel);
    r->col = col;
    return 0;
}

/* A phrase that must follow a relation word. */
static int need_phrase(P *p, int relstart)
{
    int before = p->i;
    int r = parse_phrase(p);
    if (r == -2 && at_end(p) && p->i == before) {
        char what[80] = "";
        for (int k = relstart; k < p->i && k < p->n; k++) {
            if (what[0]) strncat(what, " ", sizeof what - strlen(what) - 1);
            strncat(what, p->t[k].text, sizeof what - strlen(what) - 1);
        }
        int save = p->i;
        p->i--;
        int c = col_after(p, 0);
        p->i = save;
        return fail(p, "expected something after '%s' at column %d", what, c);
    }
    return r;
}

static int parse_clause(P *p)
{
    int a = parse_phrase(p);
    if (a == -1) return -1;
    if (a == -2) {
        const q_tok *t = tok(p, 0);
        if (t->type == T_WORD) add_free(p, t->text);
        p->i++;
        return 0;
    }
    for (;;) {
        int save = p->i;
        /* verbs and copulas before a relation: "a dog is sitting on a sofa" */
        while (tok(p, 0)->type == T_WORD &&
               (is_w(p, 0, "is") || is_w(p, 0, "are") || is_verb_ing(tok(p, 0)->text) ||
                q_is_verb(tok(p, 0)->text))) {
            int len;
            if (match_rel(p, &len)) break;
            if (is_verb_ing(tok(p, 0)->text) || q_is_verb(tok(p, 0)->text)) add_free(p, tok(p, 0)->text);
            p->i++;
        }
        int len;
        const char *rel = match_rel(p, &len);
        if (!rel) {
            if (p->i != save && tok(p, 0)->type == T_WORD) {
                /* "a dog chasing a ball": keep both phrases, no relation */
                return 0;
            }
            return 0;
        }
        int relstart = p->i, col = tok(p, 0)->col;
        /* "the tree she sits on": a relation led by a verb may end a sentence too */
        int verb_led = len > 1 && (q_is_verb(tok(p, 0)->text) || is_verb_ing(tok(p, 0)->text));
        p->i += len;
        /* a one-word preposition may end a sentence ("a man looks on") */
        int b = (len == 1 || verb_led) && strcmp(rel, "between") && at_end(p) ? -2 : need_phrase(p, relstart);
        if (b == -1) return -1;
        if (b == -2) return 0;   /* nothing usable after it: no relation */
        if (!strcmp(rel, "between")) {
            int c = -2;
            if (is_w(p, 0, "and") || (tok(p, 0)->type == T_SEP && tok(p, 1)->type == T_WORD)) {
                int andpos = p->i;
                p->i++;
                c = need_phrase(p, andpos);
                if (c == -1) return -1;
            } else if (p->q->ph[b].cmin >= 2) {
                c = b;   /* "between the trees": two of the same kind */
            } else if (p->q->nph <= 2) {
                /* a short query that says "between" means it */
                return fail(p, "'between' needs two things ('between A and B') at column %d", col);
            } else {
                return 0;
            }
            if (c == -2) return 0;
            add_rel(p, a, rel, b, c, col);
            a = c;
        } else {
            add_rel(p, a, rel, b, -1, col);
            a = b;
        }
    }
}

static int parse_date(const char *s)
{
    int y, m = 1, d = 1;
    char tail;
    int n = sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail);
    size_t l = strlen(s);
    if (!(l == 4 || l == 7 || l == 10)) return -1;
    for (size_t i = 0; i < l; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || ((i == 4 || i == 7) && s[i] == '-'))) return -1;
    if (n < 1 || y < 1800 || y > 2200 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return -1;
    return 0;
}

static int parse_filter(P *p)
{
    const q_tok *t = tok(p, 0);
    query *q = p->q;
    if (!strcmp(t->key, "text")) {
        if (!t->text[0]) return fail(p, "text: needs some text at column %d", t->vcol);
        q->txt = xrealloc(q->txt, (size_t)(q->ntxt + 1) * sizeof *q->txt);
        q_text *x = &q->txt[q->ntxt++];
        memset(x, 0, sizeof *x);
        for (size_t i = 0; t->text[i] && i + 1 < sizeof x->text; i++)
            x->text[i] = (char)((t->text[i] >= 'A' && t->text[i] <= 'Z') ? t->text[i] + 32 : t->text[i]);
        x->col = t->col;
        p->i++;
        return 0;
    }
    int numeric = !strcmp(t->key, "width") || !strcmp(t->key, "height");
    if (strcmp(t->op, ":") && !numeric)
        return fail(p, "%s needs ':' (%s:VALUE) at column %d", t->key, t->key, t->col);
    q_filter f = {0};
    snprintf(f.key, sizeof f.key, "%s", t->key);
    snprintf(f.op, sizeof f.op, "%s", strcmp(t->op, ":") ? t->op : (numeric ? "=" : ":"));
    snprintf(f.value, sizeof f.value, "%s", t->text);
    f.col = t->col;
    if (numeric) {
        char *end;
        f.num = strtod(t->text, &end);
        if (!t->text[0] || *end || f.num < 0)
            return fail(p, "%s%s needs a number at column %d", t->key, t->op, t->vcol);
    } else if (!strcmp(t->key, "date") || !strcmp(t->key, "after") || !strcmp(t->key, "before")) {
        if (parse_date(t->text))
            return fail(p, "%s: needs a date like 2013, 2013-05 or 2013-05-20 at column %d", t->key, t->vcol);
    } else if (!t->text[0]) {
        return fail(p, "%s: needs a value at column %d", t->key, t->vcol);
    }
    q->flt = xrealloc(q->flt, (size_t)(q->nflt + 1) * sizeof *q->flt);
    q->flt[q->nflt++] = f;
    p->i++;
    return 0;
}

static void add_text(P *p, const char *s, int neg, int col)
{
    query *q = p->q;
    q->txt = xrealloc(q->txt, (size_t)(q->ntxt + 1) * sizeof *q->txt);
    q_text *x = &q->txt[q->ntxt++];
    memset(x, 0, sizeof *x);
    snprintf(x->text, sizeof x->text, "%s", s);
    x->negated = neg;
    x->col = col;
}

static int parse_negation(P *p)
{
    int wordpos = p->i;
    p->i++;
    if (is_w(p, 0, "any")) p->i++;
    for (;;) {
        if (tok(p, 0)->type == T_STRING) {
            add_text(p, tok(p, 0)->text, 1, tok(p, 0)->col);
            p->i++;
        } else {
            int r = need_phrase(p, wordpos);
            if (r == -1) return -1;
            if (r == -2) return 0;
            p->q->ph[r].negated = 1;
            p->q->ph[r].cmin = p->q->ph[r].cmax = 0;
        }
        if ((is_w(p, 0, "or") || is_w(p, 0, "nor") || is_w(p, 0, "and")) &&
            (tok(p, 1)->type == T_STRING || tok(p, 1)->type == T_WORD)) {
            wordpos = p->i;
            p->i++;
            continue;
        }
        return 0;
    }
}

query *query_parse(const char *text, ierr *e)
{
    if (!text) text = "";
    int n;
    q_tok *t = q_lex(text, &n, e);
    if (!t) return NULL;
    query *q = xcalloc(1, sizeof *q);
    q->source = xstrdup(text);
    P p = {t, n, 0, q, e};
    while (tok(&p, 0)->type != T_END) {
        const q_tok *k = tok(&p, 0);
        int r = 0;
        if (k->type == T_SEP) {
            p.i++;
        } else if (k->type == T_FILTER) {
            r = parse_filter(&p);
        } else if (k->type == T_STRING) {
            add_text(&p, k->text, 0, k->col);
            p.i++;
        } else if (k->type == T_MINUS) {
            const q_tok *w = tok(&p, 1);
            if (w->type == T_STRING) {
                add_text(&p, w->text, 1, k->col);
            } else if (w->type == T_WORD) {
                int id = add_phrase(&p);
                q_phrase *ph = &q->ph[id];
                q_lemma(w->text, ph->noun, sizeof ph->noun);
                snprintf(ph->word, sizeof ph->word, "%s", w->text);
                ph->col = k->col;
                ph->negated = 1;
                ph->cmin = ph->cmax = 0;
            } else {
                r = fail(&p, "'-' needs a word right after it at column %d", k->col);
            }
            p.i += 2;
        } else if (is_w(&p, 0, "no") || is_w(&p, 0, "without") || is_w(&p, 0, "not") ||
                   is_w(&p, 0, "except") || is_w(&p, 0, "excluding") || is_w(&p, 0, "nor")) {
            r = parse_negation(&p);
        } else {
            r = parse_clause(&p);
        }
        if (r < 0) {
            free(t);
            query_free(q);
            return NULL;
        }
    }
    free(t);
    if (!q->nph && !q->ntxt && !q->nflt && !q->nfree) {
        err_set(e, "empty query: say what to look for, e.g. \"a dog on a sofa\"");
        query_free(q);
        return NULL;
    }
    return q;
}

void query_free(query *q)
{
    if (!q) return;
    free(q->source);
    free(q->ph);
    free(q->rel);
    free(q->flt);
    free(q->txt);
    free(q->free);
    free(q);
}
