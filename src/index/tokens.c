/* tokens.c — the token tables: what tokens_put writes for one image.
 *
 * Two tables, because queries ask two kinds of question:
 *   tok_fts   "which images talk about these words?"  FTS5 + BM25, one row
 *             per image (rowid = image id), five columns weighted apart so a
 *             detected label counts more than a word of the caption and far
 *             more than a WordNet hypernym.
 *   tok_terms "which images have a region that is a kind of X / is red?"
 *             one row per (term, image, region, source), clustered by term
 *             (WITHOUT ROWID), so a term is one index range scan.
 * Hypernyms are expanded at index time (a dog region also stores "canine",
 * "mammal", "animal" ...) so that "animal" is a single lookup at query
 * time; hyponym expansion of the query ("vehicle" -> car, bus ...) is
 * term_expand, for matching the labels of regions.
 */
#include "index/tokens.h"
#include "index/wordnet.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *tokens_schema_sql(void)
{
    return
        "CREATE VIRTUAL TABLE IF NOT EXISTS tok_fts USING fts5("
        "  labels, hyper, caption, ocr, attrs,"
        "  tokenize = 'unicode61 remove_diacritics 2');\n"
        "CREATE TABLE IF NOT EXISTS tok_terms("
        "  term TEXT NOT NULL,"
        "  image_id INTEGER NOT NULL,"
        "  region INTEGER NOT NULL,"
        "  source TEXT NOT NULL,"
        "  weight REAL NOT NULL,"
        "  PRIMARY KEY (term, image_id, region, source)) WITHOUT ROWID;\n"
        "CREATE INDEX IF NOT EXISTS tok_terms_image ON tok_terms(image_id);\n"
        /* Best first: the top candidates for a term without reading all of
         * its rows ("person" is in half of all photos). */
        "CREATE INDEX IF NOT EXISTS tok_terms_best ON tok_terms(term, source, weight DESC);\n";
}

int token_is_stopword(const char *w)
{
    static const char *const stop[] = {
        "a", "about", "an", "and", "are", "as", "at", "be", "been", "being", "but", "by",
        "can", "do", "does", "for", "from", "had", "has", "have", "having", "he", "her",
        "here", "his", "i", "if", "in", "into", "is", "it", "its", "me", "my", "of", "on",
        "onto", "or", "our", "she", "so", "some", "such", "than", "that", "the", "their",
        "them", "then", "there", "these", "they", "this", "those", "to", "too", "up", "us",
        "very", "was", "we", "were", "what", "when", "where", "which", "while", "who",
        "whom", "whose", "why", "will", "with", "would", "you", "your", NULL,
    };
    if (!w || !*w) return 1;
    for (int i = 0; stop[i]; i++) if (!strcmp(stop[i], w)) return 1;
    return 0;
}

/* ---- growing text buffers ---------------------------------------------- */

typedef struct sbuf { char *p; size_t n, cap; } sbuf;

static void sb_add(sbuf *b, const char *s)
{
    size_t l = strlen(s);
    if (!l) return;
    if (b->n + l + 2 > b->cap) {
        b->cap = (b->n + l + 2) * 2;
        b->p = xrealloc(b->p, b->cap);
    }
    if (b->n) b->p[b->n++] = ' ';
    memcpy(b->p + b->n, s, l);
    b->n += l;
    b->p[b->n] = 0;
}

static const char *sb_str(const sbuf *b) { return b->p ? b->p : ""; }

/* Next word of text (letters/digits, and any UTF-8 byte), lower-cased. */
static const char *next_word(const char *s, char *w, size_t n)
{
    while (*s && !isalnum((unsigned char)*s) && !((unsigned char)*s & 0x80)) s++;
    if (!*s) return NULL;
    size_t i = 0;
    while (*s && (isalnum((unsigned char)*s) || ((unsigned char)*s & 0x80) || *s == '\'')) {
        if (i + 1 < n) w[i++] = (char)tolower((unsigned char)*s);
        s++;
    }
    while (i > 0 && w[i - 1] == '\'') i--;
    w[i] = 0;
    /* possessive "dog's" -> "dog" */
    if (i > 2 && w[i - 2] == '\'' && w[i - 1] == 's') w[i - 2] = 0;
    return s;
}

/* A label or phrase with its last word lemmatised ("teddy bears" -> "teddy bear"). */
static void phrase_lemma(const char *in, char *out, size_t n)
{
    char words[8][64];
    int nw = 0;
    const char *s = in;
    while (nw < 8 && (s = next_word(s, words[nw], sizeof words[nw]))) if (*words[nw]) nw++;
    out[0] = 0;
    if (!nw) return;
    char l[64];
    lemma(words[nw - 1], l, sizeof l);
    snprintf(words[nw - 1], sizeof words[nw - 1], "%s", l);
    size_t k = 0;
    for (int i = 0; i < nw; i++) {
        int m = snprintf(out + k, n - k, "%s%s", i ? " " : "", words[i]);
        if (m < 0 || (size_t)m >= n - k) break;
        k += (size_t)m;
    }
}

/* ---- terms of one image, merged before insertion ------------------------ */

typedef struct term_row { char term[48]; const char *source; int region; float weight; } term_row;
typedef struct term_set { term_row *r; int n, cap; } term_set;

/* per_image: expansions keep one row per (term, source), the best region. */
static void ts_add(term_set *t, const char *term, const char *source, int region, float w, int per_image)
{
    if (!*term || strlen(term) >= sizeof t->r[0].term) return;
    if (w < 0) w = 0;
    if (w > 1) w = 1;
    for (int i = 0; i < t->n; i++) {
        term_row *r = &t->r[i];
        if (r->source != source || strcmp(r->term, term)) continue;
        if (per_image || r->region == region) {
            if (w > r->weight) { r->weight = w; r->region = region; }
            return;
        }
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->r = xrealloc(t->r, (size_t)t->cap * sizeof *t->r);
    }
    term_row *r = &t->r[t->n++];
    snprintf(r->term, sizeof r->term, "%s", term);
    r->source = source;
    r->region = region;
    r->weight = w;
}

static void add_text(term_set *t, sbuf *col, const char *text, const char *source, float w, int lemmatise)
{
    char word[64], l[64];
    const char *s = text;
    while ((s = next_word(s, word, sizeof word))) {
        if (!*word || token_is_stopword(word)) continue;
        const char *tok = lemmatise ? lemma(word, l, sizeof l) : word;
        sb_add(col, tok);
        ts_add(t, tok, source, -1, w, 0);
    }
}

/* Face attributes "age=30 gender=female emotion=happy" -> words. */
static void add_attrs(term_set *t, sbuf *col, const char *attrs, int region)
{
    int age = -1;
    char gender[16] = "";
    const char *s = attrs;
    while (s && *s) {
        while (*s == ' ') s++;
        const char *e = s;
        while (*e && *e != ' ') e++;
        const char *eq = memchr(s, '=', (size_t)(e - s));
        if (eq) {
            char key[32], val[48];
            snprintf(key, sizeof key, "%.*s", (int)(eq - s), s);
            snprintf(val, sizeof val, "%.*s", (int)(e - eq - 1), eq + 1);
            for (char *p = val; *p; p++) *p = (char)tolower((unsigned char)*p);
            if (!strcmp(key, "age")) age = atoi(val);
            else if (!strcmp(key, "top") || !strcmp(key, "bottom")) {
                /* clothing colours ("red:62,white:20"): the region's own
                 * colours are already words; the ranking reads these */
            } else if (isalpha((unsigned char)val[0])) {
                if (!strcmp(key, "gender")) snprintf(gender, sizeof gender, "%s", val);
                sb_add(col, val);
                ts_add(t, val, "attr", region, 1.0f, 0);
            }
        }
        s = e;
    }
    /* Ages and genders become the words people search with. */
    const char *who = NULL;
    int male = !strcmp(gender, "male"), female = !strcmp(gender, "female");
    if (age >= 0 && age < 3) who = "baby";
    else if (age >= 3 && age < 13) who = male ? "boy" : female ? "girl" : "child";
    else if (age >= 13 && age < 18) who = "teenager";
    else if (male) who = "man";
    else if (female) who = "woman";
    if (who) { sb_add(col, who); ts_add(t, who, "attr", region, 0.8f, 0); }
    if (age >= 65) { sb_add(col, "old"); ts_add(t, "old", "attr", region, 0.8f, 0); }
    if (age >= 3 && age < 13) { sb_add(col, "child"); ts_add(t, "child", "attr", region, 0.8f, 0); }
}

int tokens_delete(sqlite3 *db, int64_t image_id, ierr *e)
{
    static const char *const sql[] = {
        "DELETE FROM tok_fts WHERE rowid = ?1",
        "DELETE FROM tok_terms WHERE image_id = ?1",
    };
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, sql[i], -1, &st, NULL) != SQLITE_OK) {
            err_set(e, "token tables: %s", sqlite3_errmsg(db));
            sqlite3_finalize(st);
            return -1;
        }
        sqlite3_bind_int64(st, 1, image_id);
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) {
            err_set(e, "token tables: deleting image %lld: %s", (long long)image_id, sqlite3_errmsg(db));
            return -1;
        }
    }
    return 0;
}

int tokens_put(sqlite3 *db, int64_t image_id, const description *ds, ierr *e)
{
    if (!db || !ds) { err_set(e, "tokens_put: no database or description"); return -1; }
    if (tokens_delete(db, image_id, e) != 0) return -1;

    sbuf labels = {0}, hyper = {0}, caption = {0}, ocr = {0}, attrs = {0};
    term_set t = {0};
    for (int i = 0; i < ds->nregions; i++) {
        const region *r = &ds->regions[i];
        float sc = r->score > 0 ? r->score : 1.0f;
        if (r->kind != REGION_IMAGE && r->label[0]) {
            char lab[64];
            phrase_lemma(r->label, lab, sizeof lab);
            if (*lab) {
                sb_add(&labels, lab);
                ts_add(&t, lab, "label", i, sc, 0);
                wn_term x[WN_LABEL_MAX];
                int nx = wn_label_terms(r->label, x, WN_LABEL_MAX);
                if (!nx && strcmp(lab, r->label)) nx = wn_label_terms(lab, x, WN_LABEL_MAX);
                for (int k = 0; k < nx; k++) {
                    sb_add(&hyper, x[k].word);
                    ts_add(&t, x[k].word, x[k].dist ? "hyper" : "syn", i, sc * x[k].weight, 1);
                }
            }
        }
        for (int c = 0; c < r->ncolours && c < DESC_MAX_COLOURS; c++) {
            char col[16];
            snprintf(col, sizeof col, "%s", r->colours[c].name);
            for (char *p = col; *p; p++) *p = (char)tolower((unsigned char)*p);
            if (!*col) continue;
            if (r->colours[c].share >= 0.15f) sb_add(&attrs, col);
            ts_add(&t, col, "colour", i, r->colours[c].share, 0);
        }
        if (r->attrs[0]) add_attrs(&t, &attrs, r->attrs, i);
        /* A part's own caption (BLIP on a SAM segment): words of the
         * picture, a little less sure than the whole image's caption. */
        if (r->caption[0]) add_text(&t, &caption, r->caption, "caption", 0.6f, 1);
    }
    add_text(&t, &caption, ds->caption, "caption", 1.0f, 1);
    add_text(&t, &caption, ds->clip_caption, "caption", 0.8f, 1);
    add_text(&t, &attrs, ds->scene, "scene", 1.0f, 1);
    /* The tagger's words (lemmas, with P(word | image)): terms the search
     * reads by probability (its tags term).  Not words of the text BM25
     * sees: the tags term weighs them by probability, and
     * `--without tags` must take them out entirely. */
    for (int i = 0; i < ds->ntags; i++) {
        const desc_tag *g = &ds->tags[i];
        if (strcmp(g->group, "tagger") || !g->label[0]) continue;
        ts_add(&t, g->label, "tag", -1, g->score, 0);
    }
    for (int i = 0; i < ds->nwords; i++) {
        char word[64];
        const char *s = ds->words[i].text;
        /* OCR words stay verbatim (lower case) so quoted text matches as written. */
        while ((s = next_word(s, word, sizeof word))) {
            if (!*word) continue;
            sb_add(&ocr, word);
            ts_add(&t, word, "ocr", -1, ds->words[i].conf, 0);
        }
    }

    int rc = -1;
    sqlite3_stmt *fts = NULL, *ins = NULL;
    if (sqlite3_prepare_v2(db, "INSERT INTO tok_fts(rowid, labels, hyper, caption, ocr, attrs) "
                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6)", -1, &fts, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO tok_terms(term, image_id, region, source, weight) "
                               "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO UPDATE SET "
                               "weight = max(weight, excluded.weight)", -1, &ins, NULL) != SQLITE_OK) {
        err_set(e, "token tables: %s (was the schema of tokens_schema_sql created?)", sqlite3_errmsg(db));
        goto done;
    }
    sqlite3_bind_int64(fts, 1, image_id);
    sqlite3_bind_text(fts, 2, sb_str(&labels), -1, SQLITE_STATIC);
    sqlite3_bind_text(fts, 3, sb_str(&hyper), -1, SQLITE_STATIC);
    sqlite3_bind_text(fts, 4, sb_str(&caption), -1, SQLITE_STATIC);
    sqlite3_bind_text(fts, 5, sb_str(&ocr), -1, SQLITE_STATIC);
    sqlite3_bind_text(fts, 6, sb_str(&attrs), -1, SQLITE_STATIC);
    if (sqlite3_step(fts) != SQLITE_DONE) {
        err_set(e, "token tables: image %lld: %s", (long long)image_id, sqlite3_errmsg(db));
        goto done;
    }
    for (int i = 0; i < t.n; i++) {
        sqlite3_reset(ins);
        sqlite3_bind_text(ins, 1, t.r[i].term, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 2, image_id);
        sqlite3_bind_int(ins, 3, t.r[i].region);
        sqlite3_bind_text(ins, 4, t.r[i].source, -1, SQLITE_STATIC);
        sqlite3_bind_double(ins, 5, t.r[i].weight);
        if (sqlite3_step(ins) != SQLITE_DONE) {
            err_set(e, "token tables: image %lld: %s", (long long)image_id, sqlite3_errmsg(db));
            goto done;
        }
    }
    rc = 0;
done:
    sqlite3_finalize(fts);
    sqlite3_finalize(ins);
    free(labels.p); free(hyper.p); free(caption.p); free(ocr.p); free(attrs.p);
    free(t.r);
    return rc;
}

int tokens_fts_query(const char *text, int any, char *out, size_t n)
{
    if (!out || n == 0) return 0;
    out[0] = 0;
    char word[64], l[64];
    const char *s = text ? text : "";
    size_t k = 0;
    int used = 0;
    while ((s = next_word(s, word, sizeof word))) {
        if (!*word || token_is_stopword(word)) continue;
        lemma(word, l, sizeof l);
        /* FTS5 strings are double-quoted; a quote inside is doubled. */
        char q[140];
        size_t j = 0;
        q[j++] = '"';
        for (const char *p = l; *p && j + 3 < sizeof q; p++) {
            if (*p == '"') q[j++] = '"';
            q[j++] = *p;
        }
        q[j++] = '"';
        q[j] = 0;
        int m = snprintf(out + k, n - k, "%s%s", used ? (any ? " OR " : " AND ") : "", q);
        if (m < 0 || (size_t)m >= n - k) { out[k] = 0; break; }
        k += (size_t)m;
        used++;
    }
    return used;
}
