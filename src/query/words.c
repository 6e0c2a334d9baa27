/* words.c — the small closed vocabularies the parser needs: number words,
 * colours, sizes, clothing, positions, multi-word object names, stop words.
 * Open-class words (nouns, adjectives) are not listed anywhere: the grammar
 * decides their role by where they stand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index/tokens.h"
#include "index/wordnet.h"
#include "query/ast.h"

static int in_list(const char *w, const char *const *list)
{
    for (int i = 0; list[i]; i++)
        if (!strcmp(w, list[i])) return i;
    return -1;
}

/* Irregular plurals of things people search for, checked before the token
 * system's lemmatiser so "people" is always "person" whatever WordNet says. */
static const char *const irregular[][2] = {
    {"people", "person"}, {"persons", "person"}, {"men", "man"}, {"women", "woman"},
    {"children", "child"}, {"kids", "kid"}, {"mice", "mouse"}, {"geese", "goose"},
    {"feet", "foot"}, {"teeth", "tooth"}, {"oxen", "ox"}, {"knives", "knife"},
    {"wolves", "wolf"}, {"leaves", "leaf"}, {"skis", "ski"}, {"buses", "bus"},
    {"glasses", "glass"}, {"benches", "bench"}, {"couches", "couch"}, {"boxes", "box"},
    {"sheep", "sheep"}, {"fish", "fish"}, {"deer", "deer"}, {"bus", "bus"},
    {"grass", "grass"}, {"glass", "glass"}, {"dress", "dress"}, {"shorts", "shorts"},
    {"jeans", "jeans"}, {"pants", "pants"}, {"trousers", "trousers"}, {"scissors", "scissors"},
    {"species", "species"}, {"series", "series"}, {"news", "news"}, {"canvas", "canvas"},
    {NULL, NULL}};

const char *q_lemma(const char *w, char *out, size_t n)
{
    for (int i = 0; irregular[i][0]; i++)
        if (!strcmp(w, irregular[i][0])) {
            snprintf(out, n, "%s", irregular[i][1]);
            return out;
        }
    lemma(w, out, n);
    /* WordNet lists some plurals as nouns of their own ("bars", "steps",
     * "arms"); for a query a plural is the plural of its singular. */
    size_t l = strlen(w);
    if (!strcmp(out, w) && l > 3 && w[l - 1] == 's' && w[l - 2] != 's' && w[l - 2] != 'u' && w[l - 2] != 'i') {
        char stem[Q_WORD];
        snprintf(stem, sizeof stem, "%.*s", (int)(l - 1), w);
        if (wn_in_index(stem, 'n')) snprintf(out, n, "%s", stem);
    }
    return out;
}

int q_is_colour(const char *w, char *canon, size_t n)
{
    static const char *const c[] = {"red", "orange", "yellow", "green", "blue", "purple", "pink",
                                    "brown", "black", "white", "grey", "gray", "violet", "golden",
                                    "gold", "silver", "beige", "tan", NULL};
    static const char *const canonical[] = {"red", "orange", "yellow", "green", "blue", "purple", "pink",
                                            "brown", "black", "white", "grey", "grey", "purple", "yellow",
                                            "yellow", "grey", "brown", "brown"};
    int i = in_list(w, c);
    if (i < 0) return 0;
    if (canon) snprintf(canon, n, "%s", canonical[i]);
    return 1;
}

int q_is_size(const char *w, char *canon, size_t n)
{
    static const char *const s[] = {"small", "little", "tiny", "big", "large", "huge", "giant",
                                    "medium", NULL};
    static const char *const canonical[] = {"small", "small", "small", "large", "large", "large",
                                            "large", "medium"};
    int i = in_list(w, s);
    if (i < 0) return 0;
    if (canon) snprintf(canon, n, "%s", canonical[i]);
    return 1;
}

int q_is_clothing(const char *w)
{
    static const char *const c[] = {"shirt", "shirts", "t-shirt", "tshirt", "jacket", "coat", "dress",
                                    "hat", "cap", "sweater", "jersey", "uniform", "jeans", "pants",
                                    "trousers", "shorts", "skirt", "top", "helmet", "suit", "hoodie",
                                    "scarf", "vest", "shoes", "boots", "outfit", "costume", "clothes",
                                    "blouse", "sweatshirt", "swimsuit", "bikini", "wetsuit", "gown",
                                    "tie", "jackets", "coats", "dresses", "hats", "caps", NULL};
    return in_list(w, c) >= 0;
}

int q_clothing_part(const char *w)
{
    static const char *const top[] = {"shirt", "shirts", "t-shirt", "tshirt", "jacket", "jackets", "coat",
                                      "coats", "sweater", "jersey", "top", "hoodie", "vest", "blouse",
                                      "sweatshirt", NULL};
    static const char *const bottom[] = {"jeans", "pants", "trousers", "shorts", "skirt", NULL};
    return in_list(w, top) >= 0 ? 1 : in_list(w, bottom) >= 0 ? 2 : 0;
}

/* Words that carry no meaning for the search when they stand alone. */
int q_is_stopword(const char *w)
{
    static const char *const s[] = {"the", "a", "an", "of", "is", "are", "was", "were", "be", "this",
                                    "that", "these", "those", "it", "its", "there", "their", "his",
                                    "her", "some", "any", "and", "or", "with", "to", "at", "for",
                                    "from", "as", "by", "showing",
                                    "shows", "who", "which", "while", "into", "has", "have", "very",
                                    /* adverbs and pronouns that captions put where a noun
                                     * could stand ("runs through the grass", "looks at him") */
                                    "through", "down", "up", "off", "out", "around", "along",
                                    "across", "towards", "toward", "outside", "about", "during",
                                    "together", "midair", "him", "them", "something", "someone",
                                    "does", "doing", "being",
                                    "against", "past", "among", "after", "before", "away", "s",
                                    NULL};
    return in_list(w, s) >= 0;
}

/* Verbs of captions ("a dog runs through the grass", "two children play"):
 * after a noun they end the noun phrase instead of becoming its head.
 * Base forms; the -s/-es/-ies forms and "-ed" of a few are derived. */
int q_is_verb(const char *w)
{
    static const char *const v[] = {
        "run", "jump", "play", "stand", "sit", "walk", "ride", "hold", "look", "watch", "climb",
        "catch", "swim", "throw", "pose", "smile", "wait", "lie", "lay", "carry", "chase", "wear",
        "splash", "fly", "kick", "hit", "eat", "skate", "dive", "pull", "push", "lean", "kneel",
        "crawl", "roll", "bite", "fight", "wrestle", "drive", "read", "talk", "sing", "sleep",
        "stare", "hug", "perform", "make", "take", "get", "go", "come", "leap", "grab", "reach",
        "fetch", "dig", "shake", "bathe", "paddle", "hike", "bounce", "blow", "pet", "feed", "sell",
        "try", "attempt", "do", "tackle", "chew", "lick", "sniff", "trot", "wade", "cook", "use",
        "laugh", "cheer", "shoot", "jog", "spray", "gather", "hang", "hop", "prepare", "balance",
        "stretch", "sail", "crouch", "peer", "observe", "enjoy", "hurdle", "pick", "cling", "lounge",
        "sprint", "dash", "rush", "glide", "soar", "float", "squat", "dressed", "surrounded",
        "covered", "seated", "wrapped", "filled", "lined", "tied", NULL};
    size_t l = strlen(w);
    for (int i = 0; v[i]; i++) {
        size_t n = strlen(v[i]);
        if (strncmp(w, v[i], n)) continue;
        const char *t = w + n;
        if (!*t || !strcmp(t, "s") || !strcmp(t, "es")) return 1;
    }
    /* "carries", "tries", "flies" */
    if (l > 4 && !strcmp(w + l - 3, "ies")) {
        char b[64];
        snprintf(b, sizeof b, "%.*sy", (int)(l - 3), w);
        for (int i = 0; v[i]; i++)
            if (!strcmp(b, v[i])) return 1;
    }
    return 0;
}

int q_number_word(const char *w)
{
    static const char *const n[] = {"zero", "one", "two", "three", "four", "five", "six", "seven",
                                    "eight", "nine", "ten", "eleven", "twelve", "thirteen",
                                    "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
                                    "nineteen", "twenty", NULL};
    int i = in_list(w, n);
    if (i >= 0) return i;
    if (!strcmp(w, "dozen")) return 12;
    if (w[0] >= '0' && w[0] <= '9') {
        char *end;
        long v = strtol(w, &end, 10);
        if (*end == 0 && v <= 1000) return (int)v;
    }
    return -1;
}

/* Positions on a 3x3 grid; targets are the centres of the cells (or of the
 * half for "left", "top"...).  Callers pass one or two words. */
const char *q_position(const char *a, const char *b, float *px, float *py)
{
    static const struct { const char *a, *b, *name; float x, y; } pos[] = {
        {"top", "left", "top left", 0.17f, 0.17f},       {"upper", "left", "top left", 0.17f, 0.17f},
        {"top", "right", "top right", 0.83f, 0.17f},     {"upper", "right", "top right", 0.83f, 0.17f},
        {"bottom", "left", "bottom left", 0.17f, 0.83f}, {"lower", "left", "bottom left", 0.17f, 0.83f},
        {"bottom", "right", "bottom right", 0.83f, 0.83f}, {"lower", "right", "bottom right", 0.83f, 0.83f},
        {"top", "centre", "top", 0.5f, 0.17f},           {"top", "center", "top", 0.5f, 0.17f},
        {"top", "middle", "top", 0.5f, 0.17f},
        {"bottom", "centre", "bottom", 0.5f, 0.83f},     {"bottom", "center", "bottom", 0.5f, 0.83f},
        {"bottom", "middle", "bottom", 0.5f, 0.83f},
        {"centre", NULL, "centre", 0.5f, 0.5f},          {"center", NULL, "centre", 0.5f, 0.5f},
        {"middle", NULL, "centre", 0.5f, 0.5f},
        {"top", NULL, "top", 0.5f, 0.17f},               {"upper", NULL, "top", 0.5f, 0.17f},
        {"bottom", NULL, "bottom", 0.5f, 0.83f},         {"lower", NULL, "bottom", 0.5f, 0.83f},
        {"left", NULL, "left", 0.17f, 0.5f},             {"right", NULL, "right", 0.83f, 0.5f},
    };
    for (size_t i = 0; i < sizeof pos / sizeof pos[0]; i++) {
        if (strcmp(a, pos[i].a)) continue;
        if (pos[i].b && (!b || strcmp(b, pos[i].b))) continue;
        *px = pos[i].x;
        *py = pos[i].y;
        return pos[i].name;
    }
    return NULL;
}

/* Two-word object names of the detector's vocabulary (COCO) and a few common
 * others: "a stop sign" is one thing, not a sign modified by "stop". */
int q_is_compound(const char *a, const char *b)
{
    static const char *const c[][2] = {
        {"traffic", "light"}, {"fire", "hydrant"}, {"stop", "sign"}, {"parking", "meter"},
        {"sports", "ball"}, {"baseball", "bat"}, {"baseball", "glove"}, {"tennis", "racket"},
        {"wine", "glass"}, {"hot", "dog"}, {"potted", "plant"}, {"dining", "table"},
        {"cell", "phone"}, {"mobile", "phone"}, {"teddy", "bear"}, {"hair", "drier"},
        {"hair", "dryer"}, {"tennis", "ball"}, {"soccer", "ball"}, {"polar", "bear"},
        {"ice", "cream"}, {"police", "car"}, {"fire", "truck"}, {"race", "car"},
        {"sea", "lion"}, {NULL, NULL}};
    for (int i = 0; c[i][0]; i++)
        if (!strcmp(a, c[i][0]) && !strcmp(b, c[i][1])) return 1;
    return 0;
}
