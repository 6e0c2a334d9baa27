/* caption.c — a plain English sentence and scene words from the structure.
 *
 * Deterministic on purpose: the same description always reads the same, so
 * the caption can be shown, diffed and indexed as text.  The sentence is a
 * few clauses joined by "; ": what is there (counted), where the notable
 * things are and what colour, the strongest relation, faces, and any text.
 */
#include <ctype.h>
#include <stdio.h>
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

static const char *article(const char *word)
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

static const char *rel_phrase(const char *rel)
{
    static const char *const map[][2] = {
        {"left_of", "to the left of"}, {"right_of", "to the right of"}, {"above", "above"},
        {"below", "below"}, {"next_to", "next to"}, {"on", "on"}, {"in_front", "in front of"},
        {"behind", "behind"}, {"inside", "inside"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(rel, map[i][0])) return map[i][1];
    return NULL;
}

/* Places that take "on" rather than "in". */
static const char *place_prep(const char *place)
{
    static const char *const on[] = {"beach", "field", "street", "road", "grass", "lawn", "snow",
                                     "water", "lake", "river", "sea", "ocean", "mountain", "hill",
                                     "sidewalk", "bridge", "track", "court", "stage", "boat", "farm",
                                     "runway", "playground", "trail", "sand", "rock", "ice", "shore"};
    for (size_t i = 0; i < sizeof on / sizeof on[0]; i++)
        if (strstr(place, on[i])) return "on";
    return "in";
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

void caption_build(const description *ds, const char *place, char *out, size_t n)
{
    out[0] = 0;
    /* Distinct object labels, largest total area first. */
    thing kinds[16];
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

    char what[256] = "", w[64], p[64];
    int shown = nbig < 4 ? nbig : 4;
    for (int k = 0; k < shown; k++) {
        size_t len = strlen(what);
        const char *sep = k == 0 ? "" : k == shown - 1 ? " and " : ", ";
        if (kinds[k].count == 1)
            snprintf(what + len, sizeof what - len, "%s%s %s", sep, article(kinds[k].label), kinds[k].label);
        else
            snprintf(what + len, sizeof what - len, "%s%s %s", sep, count_word(kinds[k].count, w, sizeof w),
                     plural(kinds[k].label, p, sizeof p));
    }
    char placeph[96] = "";
    if (place && *place) snprintf(placeph, sizeof placeph, " %s %s %s", place_prep(place), article(place), place);
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
        int coloured = r->ncolours && r->colours[0].share >= 0.3f;
        if (!coloured && k < shown) continue;
        char ph[96];
        if (coloured) snprintf(ph, sizeof ph, "%s %s", article(r->colours[0].name), r->colours[0].name);
        else snprintf(ph, sizeof ph, "%s", article(r->label));
        if (kinds[k].count > 1 && k >= shown)
            clause(out, n, "%s %s%s%s", count_word(kinds[k].count, w, sizeof w),
                   plural(r->label, p, sizeof p), "", "");
        else
            clause(out, n, "%s %s %s%s", ph, r->label, where(r), "");
        details++;
    }

    /* The strongest spatial relation between two different kinds of thing. */
    const relation *best = NULL;
    for (int i = 0; i < ds->nrelations; i++) {
        const relation *rl = &ds->relations[i];
        if (!rel_phrase(rl->rel) || rl->a >= ds->nregions || rl->b >= ds->nregions) continue;
        const region *a = &ds->regions[rl->a], *b = &ds->regions[rl->b];
        if (a->kind != REGION_OBJECT || b->kind != REGION_OBJECT || !strcmp(a->label, b->label)) continue;
        /* prefer relations between big things */
        float s = rl->weight * (0.5f + a->area + b->area);
        if (!best || s > best->weight * (0.5f + ds->regions[best->a].area + ds->regions[best->b].area))
            best = rl;
    }
    if (best && best->weight >= 0.5f)
        clause(out, n, "the %s is %s the %s%s", ds->regions[best->a].label, rel_phrase(best->rel),
               ds->regions[best->b].label, "");

    /* Faces with what the attribute model said. */
    int nfaces = 0;
    for (int i = 1; i < ds->nregions; i++) nfaces += ds->regions[i].kind == REGION_FACE;
    if (nfaces == 1) {
        for (int i = 1; i < ds->nregions; i++)
            if (ds->regions[i].kind == REGION_FACE) {
                if (ds->regions[i].attrs[0]) clause(out, n, "a face (%s)%s%s%s", ds->regions[i].attrs, "", "", "");
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
