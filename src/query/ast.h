/* ast.h — the parsed form of a query, shared by the parser, the JSON
 * printer and the ranker (internal to src/query; others use query.h).
 *
 * A query is a bag of independent constraints on one image:
 *   phrases    noun phrases ("two small white dogs in the top right");
 *              negated ones ("no cars", "-car", "without people") must be absent
 *   relations  between phrases ("A left_of B", "A between B and C")
 *   texts      quoted text that must be readable in the image (OCR)
 *   filters    metadata constraints (date:, after:, camera:, width> ...)
 *   free       words that fit no structure; they only feed the text score
 */
#ifndef IMGDEX_QUERY_AST_H
#define IMGDEX_QUERY_AST_H

#include "query/query.h"

#define Q_WORD 48
#define Q_MAX_ATTRS 8

enum q_attr_kind { QA_COLOUR, QA_SIZE, QA_WORD };

typedef struct q_attr {
    int kind;                /* enum q_attr_kind */
    char value[Q_WORD];      /* "red", "small", "happy" */
    char part[Q_WORD];       /* clothing it is on ("shirt"), or "" for the object itself */
} q_attr;

typedef struct q_phrase {
    char noun[Q_WORD];       /* lemma of the head, compounds with a space: "teddy bear" */
    char word[Q_WORD];       /* the head as written: "dogs" */
    int col;                 /* 1-based column of the phrase's first word */
    int cmin, cmax;          /* wanted count: cmax < 0 = no upper bound */
    int explicit_count;      /* count came from a number/quantifier, not a default */
    q_attr attrs[Q_MAX_ATTRS];
    int nattrs;
    char position[24];       /* "top right", "centre", "left" ... or "" */
    float px, py;            /* target centre of that position, -1 = any */
    int negated;
} q_phrase;

/* Relation names (a REL b); "between" also uses c. */
typedef struct q_rel {
    int a, b, c;             /* phrase indices; c = -1 unless between */
    char rel[16];            /* left_of right_of above below on next_to near behind in_front inside far between */
    int col;
} q_rel;

typedef struct q_filter {
    char key[16];            /* date after before camera path width height format */
    char op[3];              /* ":" ">" "<" ">=" "<=" "=" */
    char value[128];
    double num;              /* numeric value for width/height */
    int col;
} q_filter;

typedef struct q_text {
    char text[256];          /* lower-cased */
    int negated;
    int col;
} q_text;

struct query {
    char *source;
    q_phrase *ph; int nph;
    q_rel *rel; int nrel;
    q_filter *flt; int nflt;
    q_text *txt; int ntxt;
    char (*free)[Q_WORD]; int nfree;
};

/* ---- JSON (ast.c) ----------------------------------------------------------- */

struct cJSON;
struct cJSON *q_query_json(const query *q);
struct cJSON *q_phrase_json(const q_phrase *ph);
void q_count_str(const q_phrase *ph, char *buf, size_t n);

/* ---- lexer (lexer.c) ------------------------------------------------------ */

enum q_tok_type { T_WORD, T_STRING, T_FILTER, T_MINUS, T_SEP, T_END };

typedef struct q_tok {
    int type;
    char text[256];          /* word (lower-cased), string, or filter value */
    char key[16];            /* filter key */
    char op[3];              /* filter operator */
    int col;                 /* 1-based column (characters, not bytes) */
    int vcol;                /* column of a filter's value */
    int quoted;              /* filter value was quoted */
} q_tok;

/* Splits text into tokens ending with T_END; NULL + e on a lexical error. */
q_tok *q_lex(const char *text, int *ntok, ierr *e);

/* ---- vocabulary (words.c) ------------------------------------------------ */

/* Lemma of a lower-case word: the token system's, plus the irregular plurals
 * that matter for our labels. */
const char *q_lemma(const char *w, char *out, size_t n);
int q_is_colour(const char *w, char *canon, size_t n);   /* "gray" -> "grey" */
int q_is_size(const char *w, char *canon, size_t n);     /* "tiny" -> "small" */
int q_is_clothing(const char *w);
/* Where a piece of clothing is worn: 1 upper body (shirt, jacket…), 2 legs
 * (jeans, skirt…), 0 neither or all over (dress, hat, uniform…). */
int q_clothing_part(const char *w);
int q_is_stopword(const char *w);
int q_is_verb(const char *w);          /* "runs", "play": ends a noun phrase */
/* count words: "two" -> 2; returns -1 when not a number word */
int q_number_word(const char *w);
/* target centre for a position name; returns canonical name or NULL */
const char *q_position(const char *a, const char *b, float *px, float *py);
/* 1 when "a b" is a known two-word object name ("teddy bear") */
int q_is_compound(const char *a, const char *b);

#endif
