/* lexer.c — query text to tokens: words, "quoted text", key:value filters,
 * a leading '-' (exclusion) and separators.  Columns count characters
 * (UTF-8 code points) from 1, so error messages point where the user looks. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/ast.h"

static const char *const filter_keys[] = {"date", "after", "before", "camera", "path", "text",
                                          "width", "height", "format", NULL};

static int is_filter_key(const char *w)
{
    for (int i = 0; filter_keys[i]; i++)
        if (!strcmp(w, filter_keys[i])) return 1;
    return 0;
}

typedef struct lx {
    const char *s;
    size_t i;
    int col;                 /* column of s[i] */
    q_tok *t;
    int n, cap;
} lx;

static int cont_byte(unsigned char c) { return (c & 0xC0) == 0x80; }

static void adv(lx *l)
{
    l->i++;
    while (l->s[l->i] && cont_byte((unsigned char)l->s[l->i])) l->i++;
    l->col++;
}

static q_tok *push(lx *l, int type, int col)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->t = xrealloc(l->t, (size_t)l->cap * sizeof *l->t);
    }
    q_tok *t = &l->t[l->n++];
    memset(t, 0, sizeof *t);
    t->type = type;
    t->col = col;
    return t;
}

static int word_byte(unsigned char c)
{
    return isalnum(c) || c >= 0x80 || c == '\'' || c == '_' || c == '-' || c == '.';
}

/* “curly” quotes are accepted as well as straight ones. */
static int open_quote(const char *p) { return *p == '"' || !strncmp(p, "\xE2\x80\x9C", 3); }
static int close_quote(const char *p)
{
    return *p == '"' || !strncmp(p, "\xE2\x80\x9D", 3) || !strncmp(p, "\xE2\x80\x9C", 3);
}

/* Reads a quoted string starting at the quote; lower-cases it. */
static int read_quoted(lx *l, char *out, size_t n, ierr *e)
{
    int col = l->col;
    adv(l);
    size_t o = 0;
    while (l->s[l->i] && !close_quote(l->s + l->i)) {
        size_t start = l->i;
        adv(l);
        for (size_t k = start; k < l->i && o + 1 < n; k++) out[o++] = (char)tolower((unsigned char)l->s[k]);
    }
    out[o] = 0;
    if (!l->s[l->i]) {
        err_set(e, "unterminated quote at column %d", col);
        return -1;
    }
    adv(l);
    /* trim */
    char *p = out;
    while (*p == ' ') p++;
    memmove(out, p, strlen(p) + 1);
    for (o = strlen(out); o && out[o - 1] == ' '; o--) out[o - 1] = 0;
    if (!out[0]) {
        err_set(e, "empty quotes at column %d", col);
        return -1;
    }
    return 0;
}

/* A word: letters, digits, and inside it ' - . _ ; trailing punctuation and
 * a possessive 's are dropped. */
static void read_word(lx *l, char *out, size_t n)
{
    size_t o = 0;
    while (l->s[l->i] && word_byte((unsigned char)l->s[l->i])) {
        size_t start = l->i;
        adv(l);
        for (size_t k = start; k < l->i && o + 1 < n; k++) out[o++] = (char)tolower((unsigned char)l->s[k]);
    }
    out[o] = 0;
    while (o && (out[o - 1] == '.' || out[o - 1] == '-' || out[o - 1] == '\'' || out[o - 1] == '_'))
        out[--o] = 0;
    if (o > 2 && !strcmp(out + o - 2, "'s")) out[o - 2] = 0;
}

static int lex_filter(lx *l, q_tok *t, ierr *e)
{
    const char *s = l->s;
    if (s[l->i] == ':') {
        strcpy(t->op, ":");
        adv(l);
    } else {
        t->op[0] = s[l->i];
        adv(l);
        if (s[l->i] == '=') {
            t->op[1] = '=';
            adv(l);
        }
        while (s[l->i] == ' ') adv(l);
    }
    t->vcol = l->col;
    if (open_quote(s + l->i)) {
        t->quoted = 1;
        return read_quoted(l, t->text, sizeof t->text, e);
    }
    size_t o = 0;
    while (s[l->i] && !isspace((unsigned char)s[l->i])) {
        size_t start = l->i;
        adv(l);
        for (size_t k = start; k < l->i && o + 1 < sizeof t->text; k++) t->text[o++] = s[k];
    }
    t->text[o] = 0;
    return 0;
}

q_tok *q_lex(const char *text, int *ntok, ierr *e)
{
    lx l = {.s = text, .col = 1};
    const char *s = text;
    while (s[l.i]) {
        unsigned char c = (unsigned char)s[l.i];
        int col = l.col;
        if (isspace(c)) {
            adv(&l);
        } else if (open_quote(s + l.i)) {
            q_tok *t = push(&l, T_STRING, col);
            if (read_quoted(&l, t->text, sizeof t->text, e)) goto fail;
        } else if (c == '-' && (l.i == 0 || isspace((unsigned char)s[l.i - 1]))) {
            adv(&l);
            size_t j = l.i;
            while (s[j] && (isspace((unsigned char)s[j]) || s[j] == '-')) j++;
            if (!s[j]) {
                err_set(e, "'-' needs a word right after it at column %d", col);
                goto fail;
            }
            if (isspace((unsigned char)s[l.i]) || s[l.i] == '-') {
                /* a dash between words ("two adults - a man and a woman") */
                if (l.n && l.t[l.n - 1].type != T_SEP) push(&l, T_SEP, col);
                continue;
            }
            push(&l, T_MINUS, col);
        } else if (word_byte(c) && c != '\'' && c != '.' && c != '-') {
            char w[256];
            read_word(&l, w, sizeof w);
            /* key:value or key>value etc. */
            size_t j = l.i;
            while (s[j] == ' ') j++;
            int colon = s[l.i] == ':';
            int cmp = s[j] == '>' || s[j] == '<' || (s[j] == '=' && j == l.i);
            if (colon || cmp) {
                if (!is_filter_key(w)) {
                    if (colon) {
                        err_set(e, "unknown filter '%s:' at column %d (known: date after before camera "
                                   "path text width height format)", w, col);
                        goto fail;
                    }
                } else {
                    q_tok *t = push(&l, T_FILTER, col);
                    snprintf(t->key, sizeof t->key, "%s", w);
                    while (l.i < j) adv(&l);
                    if (lex_filter(&l, t, e)) goto fail;
                    continue;
                }
            }
            /* hyphenated words are separate words ("top-right", "black-and-white"),
             * except the few that are one word */
            if (strchr(w, '-') && strcmp(w, "t-shirt") && strcmp(w, "x-ray")) {
                char *save, *p = strtok_r(w, "-", &save);
                int pc = col;
                while (p) {
                    q_tok *t = push(&l, T_WORD, pc);
                    snprintf(t->text, sizeof t->text, "%s", p);
                    pc += (int)strlen(p) + 1;
                    p = strtok_r(NULL, "-", &save);
                }
            } else if (w[0]) {
                q_tok *t = push(&l, T_WORD, col);
                snprintf(t->text, sizeof t->text, "%s", w);
            }
        } else {
            /* punctuation separates phrases: "dog, cat" */
            adv(&l);
            if (l.n && l.t[l.n - 1].type != T_SEP) push(&l, T_SEP, col);
        }
    }
    push(&l, T_END, l.col);
    *ntok = l.n;
    return l.t;
fail:
    free(l.t);
    return NULL;
}
