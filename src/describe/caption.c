/* caption.c — a plain English sentence and scene words from the structure.
 *
 * Deterministic on purpose: the same description always reads the same, so
 * the caption can be shown, diffed and indexed as text.  The sentence is a
 * few clauses joined by "; ": what is there (counted), where the notable
 * things are and what colour, the strongest relation, faces, and any text.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe/internal.h"

const char *count_word(int n, char *buf, size_t sz)
{
    static const char *const w[] = {"no", "one", "two", "three", "four", "five", "six",
                                    "seven", "eight", "nine", "ten", "eleven", "twelve"};
    if (n >= 0 && n <= 12) snprintf(buf, sz, "%s", w[n]);
    else snprintf(buf, sz, "%d", n);
    return buf;
}

static int ends(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

const char *plural(const char *label, char *buf, size_t sz)
{
    static const char *const irregular[][2] = {
        {"person", "people"}, {"mouse", "mice"}, {"knife", "knives"}, {"sheep", "sheep"},
        {"skis", "skis"}, {"scissors", "scissors"}, {"broccoli", "broccoli"}, {"man", "men"},
        {"woman", "women"}, {"child", "children"}, {"fish", "fish"}, {"deer", "deer"},
        {"hair drier", "hair driers"}, {"skateboard", "skateboards"},
    };
    for (size_t i = 0; i < sizeof irregular / sizeof irregular[0]; i++)
        if (!strcmp(label, irregular[i][0])) { snprintf(buf, sz, "%s", irregular[i][1]); return buf; }
    size_t n = strlen(label);
    if (ends(label, "s") || ends(label, "x") || ends(label, "ch") || ends(label, "sh"))
        snprintf(buf, sz, "%ses", label);
    else if (n >= 2 && label[n - 1] == 'y' && !strchr("aeiou", label[n - 2]))
        snprintf(buf, sz, "%.*sies", (int)(n - 1), label);
    else
        snprintf(buf, sz, "%ss", label);
    return buf;
}

const char *caption_article(const char *word)
{
    return strchr("aeiou", tolower((unsigned char)word[0])) ? "an" : "a";
}

/* Appends with "; " between clauses, never overflowing. */
static void clause(char *out, size_t n, const char *fmt, const char *a, const char *b,
                   const char *c, const char *d)
{
    size_t len = strlen(out);
    if (len + 3 >= n) return;
    if (len) { snprintf(out + len, n - len, "; "); len += 2; }
    snprintf(out + len, n - len, fmt, a, b, c, d);
}

/* "at the top left", "on the right", "in the centre" */
static const char *where(const region *r)
{
    static const char *const grid[3][3] = {
        {"at the top left", "at the top", "at the top right"},
        {"on the left", "in the centre", "on the right"},
        {"at the bottom left", "at the bottom", "at the bottom right"},
    };
    int col = r->cx < 1.0f / 3 ? 0 : r->cx > 2.0f / 3 ? 2 : 1;
    int row = r->cy < 1.0f / 3 ? 0 : r->cy > 2.0f / 3 ? 2 : 1;
    return grid[row][col];
}

const char *relation_phrase(const char *rel)
{
    static const char *const map[][2] = {
        {"left_of", "to the left of"}, {"right_of", "to the right of"}, {"above", "above"},
        {"below", "below"}, {"next_to", "next to"}, {"on", "on"}, {"in_front", "in front of"},
        {"behind", "behind"},
    };
    /* "inside" is left out: for boxes it mostly means overlapping. */
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(rel, map[i][0])) return map[i][1];
    return NULL;
}

/* Places that take "on" rather than "in". */
const char *caption_place_prep(const char *place)
{
    static const char *const on[] = {"beach", "field", "street", "road", "grass", "lawn", "snow",
                                     "water", "lake", "river", "sea", "ocean", "mountain", "hill",
                                     "sidewalk", "bridge", "track", "court", "stage", "boat", "farm",
                                     "runway", "playground", "trail", "sand", "rock", "ice", "shore"};
    for (size_t i = 0; i < sizeof on / sizeof on[0]; i++)
        if (strstr(place, on[i])) return "on";
    return "in";
}

static int achromatic(const char *c)
{
    return !strcmp(c, "black") || !strcmp(c, "white") || !strcmp(c, "grey");
}

static float image_share(const description *ds, const char *c)
{
    if (!ds->nregions) return 0;
    const region *im = &ds->regions[0];
    for (int i = 0; i < im->ncolours; i++)
        if (!strcmp(im->colours[i].name, c)) return im->colours[i].share;
    return 0;
}

const char *region_colour_word(const description *ds, const region *r)
{
    if (!r->ncolours) return NULL;
    if (r->colours[0].share >= 0.3f) return r->colours[0].name;
    /* No clear majority: a distinct hue names the thing (the red frame of a
     * bicycle among grey tyres and spokes) — unless that hue is what the
     * whole picture is full of (grass showing through a zebra's box). */
    for (int i = 0; i < r->ncolours && i < 2; i++)
        if (!achromatic(r->colours[i].name) && r->colours[i].share >= 0.18f &&
            image_share(ds, r->colours[i].name) < 0.25f)
            return r->colours[i].name;
    return NULL;
}

/* Value of key in "k=v k=v" attrs, into out. */
static int attr(const char *attrs, const char *key, char *out, size_t n)
{
    size_t kl = strlen(key);
    for (const char *p = attrs; (p = strstr(p, key)); p += kl)
        if ((p == attrs || p[-1] == ' ') && p[kl] == '=') {
            size_t len = strcspn(p + kl + 1, " ");
            snprintf(out, n, "%.*s", (int)len, p + kl + 1);
            return 1;
        }
    out[0] = 0;
    return 0;
}

/* "woman, about 30, happy" from a face's attributes. */
static void face_words(const char *attrs, char *out, size_t n)
{
    char g[16], a[16], em[32];
    out[0] = 0;
    int age = attr(attrs, "age", a, sizeof a) ? atoi(a) : -1;
    if (attr(attrs, "gender", g, sizeof g))
        snprintf(out, n, "%s", !strcmp(g, "female") ? (age >= 0 && age < 16 ? "girl" : "woman")
                                                    : (age >= 0 && age < 16 ? "boy" : "man"));
    if (age >= 0) {
        size_t len = strlen(out);
        snprintf(out + len, n - len, "%sabout %d", len ? ", " : "", (age + 2) / 5 * 5);
    }
    if (attr(attrs, "emotion", em, sizeof em) && strcmp(em, "neutral")) {
        size_t len = strlen(out);
        snprintf(out + len, n - len, "%s%s", len ? ", " : "", em);
    }
}

typedef struct thing { const char *label; int count; float area; int best; } thing;

static int thing_small(const thing *t, const description *ds)
{
    return ds->regions[t->best].area < 0.02f;
}

static int thing_before(const thing *a, const thing *b, const description *ds)
{
    int sa = thing_small(a, ds), sb = thing_small(b, ds);
    if (sa != sb) return sb;
    if (a->count != b->count) return a->count > b->count;
    return a->area > b->area;
}

/* Distinct object labels, in caption order; *nbig = how many are not small. */
static int collect_kinds(const description *ds, thing kinds[16], int *nbig_out)
{
    int nk = 0;
    for (int i = 1; i < ds->nregions; i++) {
        const region *r = &ds->regions[i];
        if (r->kind != REGION_OBJECT) continue;
        int k = 0;
        while (k < nk && strcmp(kinds[k].label, r->label)) k++;
        if (k == nk) {
            if (nk == 16) continue;
            kinds[nk].label = r->label; kinds[nk].count = 0; kinds[nk].area = 0; kinds[nk].best = i;
            nk++;
        }
        kinds[k].count++;
        kinds[k].area += r->area;
        if (r->area > ds->regions[kinds[k].best].area * 1.05f) kinds[k].best = i;   /* clearly larger */
    }
    /* Order: big things before small ones, then more numerous first ("two
     * dogs and a person"), then larger first.  Small things (a frisbee) get a
     * clause of their own rather than a place in the head count. */
    for (int i = 1; i < nk; i++)
        for (int j = i; j > 0 && thing_before(&kinds[j], &kinds[j - 1], ds); j--) {
            thing t = kinds[j]; kinds[j] = kinds[j - 1]; kinds[j - 1] = t;
        }

    int nbig = 0;
    while (nbig < nk && (nbig == 0 || !thing_small(&kinds[nbig], ds))) nbig++;
    *nbig_out = nbig;
    return nk;
}

/* "two dogs and a person": up to four kinds of thing, counted. */
static void head_phrase(const thing *kinds, int shown, char *what, size_t wn)
{
    char w[64], p[64];
    what[0] = 0;
    for (int k = 0; k < shown; k++) {
        size_t len = strlen(what);
        const char *sep = k == 0 ? "" : k == shown - 1 ? " and " : ", ";
        if (kinds[k].count == 1)
            snprintf(what + len, wn - len, "%s%s %s", sep, caption_article(kinds[k].label), kinds[k].label);
        else
            snprintf(what + len, wn - len, "%s%s %s", sep, count_word(kinds[k].count, w, sizeof w),
                     plural(kinds[k].label, p, sizeof p));
    }
}

int caption_subjects(const description *ds, char out[][160], int max)
{
    thing kinds[16];
    int nbig, nk = collect_kinds(ds, kinds, &nbig), n = 0;
    if (!nk || max <= 0) return 0;
    int shown = nbig < 4 ? nbig : 4;
    head_phrase(kinds, shown, out[n++], 160);
    if (shown > 1 && n < max) head_phrase(kinds, 1, out[n++], 160);
    const region *r = &ds->regions[kinds[0].best];
    const char *col = region_colour_word(ds, r);
    if (n < max && kinds[0].count == 1 && col)
        snprintf(out[n++], 160, "%s %s %s", caption_article(col), col, r->label);
    return n;
}

/* The strongest spatial relation between two different kinds of thing,
 * favouring big things; NULL when none is clear. */
static const relation *strongest_relation(const description *ds)
{
    const relation *best = NULL;
    float bs = 0;
    for (int i = 0; i < ds->nrelations; i++) {
        const relation *rl = &ds->relations[i];
        if (!relation_phrase(rl->rel) || rl->a >= ds->nregions || rl->b >= ds->nregions) continue;
        const region *a = &ds->regions[rl->a], *b = &ds->regions[rl->b];
        if (a->kind != REGION_OBJECT || b->kind != REGION_OBJECT || !strcmp(a->label, b->label)) continue;
        float s = rl->weight * (0.5f + a->area + b->area);
        if (!best || s > bs) { best = rl; bs = s; }
    }
    return best && best->weight >= 0.5f ? best : NULL;
}

int caption_relation(const description *ds, char *out, size_t n)
{
    const relation *r = strongest_relation(ds);
    if (!r) return 0;
    const char *a = ds->regions[r->a].label, *b = ds->regions[r->b].label;
    snprintf(out, n, "%s %s %s %s %s", caption_article(a), a, relation_phrase(r->rel), caption_article(b), b);
    return 1;
}

void caption_build(const description *ds, const char *place, char *out, size_t n)
{
    out[0] = 0;
    thing kinds[16];
    int nbig, nk = collect_kinds(ds, kinds, &nbig);
    char what[256], w[64], p[64];
    int shown = nbig < 4 ? nbig : 4;
    head_phrase(kinds, shown, what, sizeof what);
    char placeph[96] = "";
    if (place && *place) snprintf(placeph, sizeof placeph, " %s %s %s", caption_place_prep(place), caption_article(place), place);
    const region *im = ds->nregions ? &ds->regions[0] : NULL;
    if (nk) {
        clause(out, n, "%s%s%s%s", what, placeph, "", "");
    } else {
        /* Nothing detected: say what the picture looks like. */
        const char *tone = ds->brightness < 0.25f ? "dark " : ds->brightness > 0.7f ? "bright " : "";
        char cols[64] = "";
        if (im && im->ncolours) {
            snprintf(cols, sizeof cols, ", mostly %s", im->colours[0].name);
            if (im->ncolours > 1 && im->colours[1].share > 0.2f) {
                size_t len = strlen(cols);
                snprintf(cols + len, sizeof cols - len, " and %s", im->colours[1].name);
            }
        }
        char ph[160];
        snprintf(ph, sizeof ph, "%s", placeph[0] ? placeph + 1 : "");
        if (ph[0]) clause(out, n, "a %sphoto %s%s%s", tone, ph, cols, "");
        else clause(out, n, "a %sphoto%s%s%s", tone, cols, "", "");
    }

    /* Colour and place of the two most prominent things, then of the small
     * things left out of the head count. */
    int details = 0;
    for (int k = 0; k < nk && details < 4; k++) {
        if (k >= 2 && k < shown) continue;
        const region *r = &ds->regions[kinds[k].best];
        const char *col = region_colour_word(ds, r);
        int coloured = col != NULL;
        if (!coloured && k < shown) continue;
        char ph[96];
        if (coloured) snprintf(ph, sizeof ph, "%s %s", caption_article(col), col);
        else snprintf(ph, sizeof ph, "%s", caption_article(r->label));
        if (kinds[k].count > 1 && k >= shown)
            clause(out, n, "%s %s%s%s", count_word(kinds[k].count, w, sizeof w),
                   plural(r->label, p, sizeof p), "", "");
        else if (coloured && !strcmp(r->label, "person"))   /* people wear colours */
            clause(out, n, "a person in %s %s%s%s", col, where(r), "", "");
        else
            clause(out, n, "%s %s %s%s", ph, r->label, where(r), "");
        details++;
    }

    const relation *best = strongest_relation(ds);
    if (best)
        clause(out, n, "the %s is %s the %s%s", ds->regions[best->a].label, relation_phrase(best->rel),
               ds->regions[best->b].label, "");

    /* Faces with what the attribute model said. */
    int nfaces = 0;
    for (int i = 1; i < ds->nregions; i++) nfaces += ds->regions[i].kind == REGION_FACE;
    if (nfaces == 1) {
        for (int i = 1; i < ds->nregions; i++)
            if (ds->regions[i].kind == REGION_FACE) {
                char who[96];
                face_words(ds->regions[i].attrs, who, sizeof who);
                if (who[0]) clause(out, n, "a face (%s)%s%s%s", who, "", "", "");
                else clause(out, n, "a face%s%s%s%s", "", "", "", "");
            }
    } else if (nfaces > 1) {
        clause(out, n, "%s faces%s%s%s", count_word(nfaces, w, sizeof w), "", "", "");
    }

    if (ds->nwords) {
        char txt[160] = "";
        for (int i = 0; i < ds->nwords && i < 8; i++) {
            size_t len = strlen(txt);
            snprintf(txt + len, sizeof txt - len, "%s%s", i ? " " : "", ds->words[i].text);
        }
        clause(out, n, "text: '%s'%s%s%s", txt, "", "", "");
    }
}

static void add_word(char *out, size_t n, const char *w)
{
    size_t len = strlen(out);
    if (!w || !*w || len + 2 >= n) return;
    snprintf(out + len, n - len, "%s%s", len ? " " : "", w);
}

void scene_build(const description *ds, const img_meta *meta, char *out, size_t n)
{
    out[0] = 0;
    float b = ds->brightness;
    if (b < 0.15f) { add_word(out, n, "dark"); add_word(out, n, "night"); }
    else if (b < 0.3f) add_word(out, n, "dark");
    else if (b > 0.7f) add_word(out, n, "bright");
    if (ds->width > ds->height * 23 / 20) add_word(out, n, "landscape");
    else if (ds->height > ds->width * 23 / 20) add_word(out, n, "portrait");
    else add_word(out, n, "square");
    if (ds->nregions) {
        const region *r = &ds->regions[0];
        for (int i = 0; i < r->ncolours; i++)
            if (i == 0 || r->colours[i].share >= 0.15f) add_word(out, n, r->colours[i].name);
        if (r->ncolours == 1 || (r->ncolours && r->colours[0].share > 0.8f)) {
            if (!strcmp(r->colours[0].name, "black") || !strcmp(r->colours[0].name, "white") ||
                !strcmp(r->colours[0].name, "grey"))
                add_word(out, n, "monochrome");
        }
    }
    if (meta && meta->taken_at[0]) {
        static const char *const months[] = {"january", "february", "march", "april", "may", "june", "july",
                                             "august", "september", "october", "november", "december"};
        int y, m, d, hh = -1, mm;
        if (sscanf(meta->taken_at, "%d-%d-%d %d:%d", &y, &m, &d, &hh, &mm) >= 3 && m >= 1 && m <= 12) {
            char yr[16];
            snprintf(yr, sizeof yr, "%d", y);
            add_word(out, n, yr);
            add_word(out, n, months[m - 1]);
            if (hh >= 0 && hh < 24)
                add_word(out, n, hh < 5 ? "night" : hh < 12 ? "morning" : hh < 17 ? "afternoon" : hh < 21 ? "evening" : "night");
        }
    }
    if (meta && meta->camera[0]) {
        char cam[128];
        size_t j = 0;
        for (size_t i = 0; meta->camera[i] && j + 1 < sizeof cam; i++) {
            unsigned char c = (unsigned char)meta->camera[i];
            cam[j++] = isalnum(c) || c == '-' ? (char)tolower(c) : ' ';
        }
        cam[j] = 0;
        add_word(out, n, "camera");
        add_word(out, n, cam);
    }
}
