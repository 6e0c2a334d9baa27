/* score.c — one image against the whole query.
 *
 * score = ( Σ_phrases W_PHRASE·phrase + Σ_relations W_RELATION·relation
 *         + W_TEXT·text + Σ_quoted W_OCR·ocr + W_CLIP·clip ) / Σ weights
 *         − W_NEGATION · Σ_negated presence
 *
 * phrase   = max over regions r of  label(r)·conf(r)·attrs(r)·position(r),
 *            times the count agreement; 0.5 × "the noun is in the caption"
 *            when no region is of that kind (things detectors do not see)
 * relation = max over region pairs of  sqrt(phrase_a(ra)·phrase_b(rb))·holds(ra,rb)
 *            where holds is the larger of the box geometry (geom.c) and the
 *            describer's stored relation weight
 * text     = fraction of the query's words found in caption/scene words
 *            (or the normalised BM25 when the token tables exist)
 * ocr      = per quoted text, the mean over its words of the best OCR match
 * clip     = cosine of query text and image embedding, mapped to 0..1
 * Every part is 0..1, so the score is too before negations subtract.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "index/tokens.h"
#include "models/models.h"
#include "query/rank.h"

static float clamp01(float v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

/* ---- label weights ---------------------------------------------------------- */

/* Query words that name a kind of detector label (or a synonym).  The token
 * system's WordNet expansion adds to this; these cover the words where
 * WordNet's first sense is not the one people mean in photos. */
static const struct { const char *word, *label; float w; } syn[] = {
    {"man", "person", 0.85f}, {"woman", "person", 0.85f}, {"boy", "person", 0.85f},
    {"girl", "person", 0.85f}, {"child", "person", 0.85f}, {"kid", "person", 0.85f},
    {"guy", "person", 0.85f}, {"lady", "person", 0.85f}, {"people", "person", 1.0f},
    {"human", "person", 0.95f}, {"player", "person", 0.8f}, {"rider", "person", 0.8f},
    {"baby", "person", 0.8f}, {"toddler", "person", 0.8f}, {"adult", "person", 0.85f},
    {"skier", "person", 0.8f}, {"surfer", "person", 0.8f}, {"biker", "person", 0.8f},
    {"cyclist", "person", 0.8f}, {"crowd", "person", 0.7f}, {"pedestrian", "person", 0.85f},
    {"puppy", "dog", 0.85f}, {"pup", "dog", 0.85f}, {"doggy", "dog", 0.9f}, {"hound", "dog", 0.85f},
    {"kitten", "cat", 0.85f}, {"kitty", "cat", 0.9f}, {"automobile", "car", 0.95f},
    {"auto", "car", 0.9f}, {"bike", "bicycle", 0.95f}, {"cycle", "bicycle", 0.85f},
    {"motorbike", "motorcycle", 0.95f}, {"plane", "airplane", 0.95f}, {"aeroplane", "airplane", 0.95f},
    {"aircraft", "airplane", 0.85f}, {"jet", "airplane", 0.85f}, {"ship", "boat", 0.9f},
    {"sofa", "couch", 0.95f}, {"couch", "sofa", 0.95f}, {"tv", "tv", 1}, {"television", "tv", 0.95f},
    {"monitor", "tv", 0.7f}, {"laptop", "laptop", 1}, {"phone", "cell phone", 0.9f},
    {"cellphone", "cell phone", 0.95f}, {"table", "dining table", 0.85f}, {"plant", "potted plant", 0.85f},
    {"pony", "horse", 0.85f}, {"foal", "horse", 0.85f}, {"calf", "cow", 0.85f}, {"cattle", "cow", 0.9f},
    {"bull", "cow", 0.8f}, {"lamb", "sheep", 0.85f}, {"ball", "sports ball", 0.9f},
    {"football", "sports ball", 0.85f}, {"soccer ball", "sports ball", 0.9f},
    {"tennis ball", "sports ball", 0.9f}, {"racket", "tennis racket", 0.9f},
    {"racquet", "tennis racket", 0.9f}, {"glass", "wine glass", 0.8f}, {"hydrant", "fire hydrant", 0.95f},
    {"sign", "stop sign", 0.7f}, {"lorry", "truck", 0.95f}, {"van", "truck", 0.7f},
    {"van", "car", 0.7f}, {"taxi", "car", 0.85f}, {"cab", "car", 0.85f}, {"suv", "car", 0.85f},
    {"coach", "bus", 0.8f}, {"doughnut", "donut", 1}, {"teddy", "teddy bear", 0.9f},
    {"skis", "skis", 1}, {"ski", "skis", 1}, {"skateboarder", "person", 0.8f},
    {"face", "face", 1}, {"face", "person", 0.6f}, {"text", "text", 1}, {"writing", "text", 0.9f},
    {"bird", "bird", 1}, {"seagull", "bird", 0.85f}, {"gull", "bird", 0.85f}, {"duck", "bird", 0.8f},
    {"eagle", "bird", 0.85f}, {"pigeon", "bird", 0.85f}, {"parrot", "bird", 0.85f}, {"owl", "bird", 0.85f},
    /* people words of captions that WordNet does not lead to "person" */
    {"family", "person", 0.8f}, {"couple", "person", 0.8f}, {"group", "person", 0.7f},
    {"team", "person", 0.8f}, {"choir", "person", 0.8f}, {"audience", "person", 0.75f},
    {"kayaker", "person", 0.8f}, {"canoer", "person", 0.8f}, {"cycler", "person", 0.8f},
    {"bicyclist", "person", 0.8f}, {"snowboarder", "person", 0.8f}, {"wakeboarder", "person", 0.8f},
    {"rollerblader", "person", 0.8f}, {"he", "person", 0.7f}, {"she", "person", 0.7f},
    {"teen", "person", 0.85f}, {"teenager", "person", 0.85f}, {"male", "person", 0.8f},
    {"female", "person", 0.8f}, {"others", "person", 0.6f}, {"they", "person", 0.6f},
    {"lab", "dog", 0.85f}, {"labrador", "dog", 0.9f}, {"retriever", "dog", 0.9f}, {"pooch", "dog", 0.9f},
    /* dog breeds of captions; WordNet does not reach "dog" from these */
    {"pitbull", "dog", 0.9f}, {"terrier", "dog", 0.9f}, {"poodle", "dog", 0.9f}, {"collie", "dog", 0.9f},
    {"beagle", "dog", 0.9f}, {"dachshund", "dog", 0.9f}, {"husky", "dog", 0.9f}, {"shepherd", "dog", 0.85f},
    {"greyhound", "dog", 0.9f}, {"dalmatian", "dog", 0.9f}, {"chihuahua", "dog", 0.9f}, {"pug", "dog", 0.9f},
    {"spaniel", "dog", 0.9f}, {"corgi", "dog", 0.9f}, {"corgie", "dog", 0.9f}, {"rottweiler", "dog", 0.9f},
    {"doberman", "dog", 0.9f}, {"mutt", "dog", 0.9f}, {"sheepdog", "dog", 0.9f}, {"bulldog", "dog", 0.9f},
    {"schnauzer", "dog", 0.9f}, {"whippet", "dog", 0.9f}, {"canine", "dog", 0.9f}, {"bernard", "dog", 0.85f},
    {"setter", "dog", 0.85f}, {"boxer", "dog", 0.6f}, {"sheltie", "dog", 0.9f}, {"weimaraner", "dog", 0.9f},
};

/* Animals the detector mistakes for one another: on the Flickr8k dev split
 * almost half of the dogs are boxed as nothing or as a horse, sheep, cow,
 * bird, cat or bear.  A weak weight (below 0.5: no count, no negation) ranks
 * such an image above one with no animal at all, never above a real dog. */
static const char *const animals[] = {"dog", "cat", "horse", "sheep", "cow", "bear", "bird", NULL};
#define ANIMAL_CONFUSED 0.4f

/* Hypernyms people use for whole groups of detector labels. */
static const struct { const char *word; const char *labels; float w; } groups[] = {
    {"animal", "dog cat horse sheep cow elephant bear zebra giraffe bird mouse", 0.8f},
    {"pet", "dog cat", 0.8f},
    {"vehicle", "car truck bus motorcycle bicycle train boat airplane", 0.8f},
    {"furniture", "chair couch bed dining table bench", 0.8f},
    {"fruit", "banana apple orange", 0.8f},
    {"food", "banana apple sandwich orange broccoli carrot hot dog pizza donut cake", 0.75f},
};

float q_label_weight(const q_ranker *r, int p, const char *label)
{
    for (int i = 0; i < r->nsyn[p]; i++)
        if (!strcmp(r->syn[p][i].word, label)) return r->syn[p][i].w;
    if (r->without & QW_WORDNET) return 0;
    if (r->animal[p] >= 0)
        for (int a = 0; animals[a]; a++)
            if (!strcmp(animals[a], label)) return ANIMAL_CONFUSED;
    /* a label that is a kind of the noun ("dog" for "mammal") */
    float w = term_is_a(label, r->q->ph[p].noun);
    return w >= 0.5f ? w : 0;
}

static void syn_add(q_ranker *r, int p, const char *word, float w)
{
    for (int i = 0; i < r->nsyn[p]; i++)
        if (!strcmp(r->syn[p][i].word, word)) {
            if (w > r->syn[p][i].w) r->syn[p][i].w = w;
            return;
        }
    r->syn[p] = xrealloc(r->syn[p], (size_t)(r->nsyn[p] + 1) * sizeof **r->syn);
    snprintf(r->syn[p][r->nsyn[p]].word, sizeof r->syn[p][0].word, "%s", word);
    r->syn[p][r->nsyn[p]++].w = w;
}

static void add_word(q_ranker *r, const char *w)
{
    for (int i = 0; i < r->nwords; i++)
        if (!strcmp(r->words[i], w)) return;
    r->words = xrealloc(r->words, (size_t)(r->nwords + 1) * sizeof *r->words);
    snprintf(r->words[r->nwords++], Q_WORD, "%s", w);
}

void q_ranker_init(q_ranker *r, const query *q, unsigned without)
{
    memset(r, 0, sizeof *r);
    r->q = q;
    r->without = without;
    r->syn = xcalloc((size_t)q->nph + 1, sizeof *r->syn);
    r->nsyn = xcalloc((size_t)q->nph + 1, sizeof *r->nsyn);
    r->animal = xcalloc((size_t)q->nph + 1, sizeof *r->animal);
    for (int p = 0; p < q->nph; p++) r->animal[p] = -1;
    for (int p = 0; p < q->nph; p++) {
        const char *n = q->ph[p].noun;
        syn_add(r, p, n, 1.0f);
        if (without & QW_WORDNET) continue;
        for (size_t i = 0; i < sizeof syn / sizeof syn[0]; i++)
            if (!strcmp(syn[i].word, n)) syn_add(r, p, syn[i].label, syn[i].w);
        /* WordNet: synonyms, kinds of it, and the general label for a
         * specific word ("puppy" -> dog); weak links (a "dog" is also
         * slang for a person) are left out */
        term_match tm[64];
        int nt = term_expand(n, tm, 64);
        for (int i = 0; i < nt; i++)
            if (tm[i].weight >= 0.5f) syn_add(r, p, tm[i].word, tm[i].weight);
        int animal = -1;
        for (int i = 0; i < r->nsyn[p] && animal < 0; i++)
            for (int a = 0; animals[a]; a++)
                if (!strcmp(r->syn[p][i].word, animals[a]) && r->syn[p][i].w >= 0.8f) animal = a;
        r->animal[p] = animal;
        /* In a sentence ("a black dog runs through the grass") they are
         * candidates too; a bare "a cat" lists cats only. */
        int content = q->nfree;
        for (int o = 0; o < q->nph; o++) content += !q->ph[o].negated;
        if (animal >= 0 && content >= 2)
            for (int a = 0; animals[a]; a++)
                if (a != animal) syn_add(r, p, animals[a], ANIMAL_CONFUSED);
        /* a word that is a kind of a detector label ("climber" is a person,
         * "retriever" a dog): term_expand does not always go that far up */
        for (int c = 0; c < 80; c++) {
            float w = term_is_a(n, coco_label(c));
            if (w >= 0.5f) syn_add(r, p, coco_label(c), w);
        }
        for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
            if (strcmp(groups[i].word, n)) continue;
            char buf[256];
            snprintf(buf, sizeof buf, "%s", groups[i].labels);
            char *save, *t = strtok_r(buf, " ", &save);
            while (t) {
                /* "hot dog" is the one two-word label in these lists */
                if (!strcmp(t, "hot")) {
                    t = strtok_r(NULL, " ", &save);
                    syn_add(r, p, "hot dog", groups[i].w);
                } else {
                    syn_add(r, p, t, groups[i].w);
                }
                t = strtok_r(NULL, " ", &save);
            }
        }
    }
    for (int p = 0; p < q->nph; p++) {
        if (q->ph[p].negated) continue;
        add_word(r, q->ph[p].noun);
        for (int a = 0; a < q->ph[p].nattrs; a++)
            if (q->ph[p].attrs[a].kind == QA_WORD) add_word(r, q->ph[p].attrs[a].value);
    }
    for (int i = 0; i < q->nfree; i++) {
        char l[Q_WORD];
        add_word(r, q_lemma(q->free[i], l, sizeof l));
    }
}

void q_ranker_free(q_ranker *r)
{
    if (!r->syn) return;
    for (int p = 0; p < r->q->nph; p++) free(r->syn[p]);
    free(r->syn);
    free(r->nsyn);
    free(r->animal);
    free(r->words);
}

/* ---- attributes ------------------------------------------------------------- */

/* Value of key in "age=30 gender=female emotion=happy"; 0 when absent. */
static int attr_get(const char *attrs, const char *key, char *out, size_t n)
{
    size_t kl = strlen(key);
    for (const char *p = attrs; p && *p;) {
        while (*p == ' ') p++;
        if (!strncmp(p, key, kl) && p[kl] == '=') {
            p += kl + 1;
            size_t i = 0;
            while (*p && *p != ' ' && i + 1 < n) out[i++] = *p++;
            out[i] = 0;
            return 1;
        }
        p = strchr(p, ' ');
    }
    return 0;
}

/* Attributes of a person come from the face inside its box when the person
 * region itself has none (a person's own attrs hold clothing colours). */
static const char *region_attrs(const q_image *im, const q_region *g)
{
    if (strstr(g->attrs, "age=") || strstr(g->attrs, "gender=") || strstr(g->attrs, "emotion=")) return g->attrs;
    for (int i = 0; i < im->nreg; i++) {
        const q_region *f = &im->reg[i];
        if (f->kind != REGION_FACE || !f->attrs[0]) continue;
        if (f->cx >= g->box.x0 && f->cx <= g->box.x1 && f->cy >= g->box.y0 && f->cy <= g->box.y1)
            return f->attrs;
    }
    return "";
}

static int has_word(const char *text, const char *w)
{
    size_t l = strlen(w);
    for (const char *p = text; (p = strstr(p, w)); p += l) {
        int startok = p == text || p[-1] == ' ';
        char e = p[l];
        if (startok && (e == 0 || e == ' ' || e == 's' || e == ',' || e == '.')) return 1;
    }
    return 0;
}

/* Agreement of a word attribute ("young", "happy", "man") with face
 * attributes; -1 when the word is not one the describer measures. */
static float face_word(const char *word, const char *attrs)
{
    static const char *const emotions[] = {"happy", "sad", "angry", "surprised", "neutral",
                                           "fearful", "disgusted", NULL};
    char v[32];
    if (!strcmp(word, "smiling") || !strcmp(word, "laughing") || !strcmp(word, "cheerful")) word = "happy";
    for (int i = 0; emotions[i]; i++)
        if (!strcmp(word, emotions[i])) {
            if (!attr_get(attrs, "emotion", v, sizeof v)) return 0.5f;
            return !strcmp(v, word) ? 1.0f : 0.1f;
        }
    int male = !strcmp(word, "man") || !strcmp(word, "boy") || !strcmp(word, "male") || !strcmp(word, "guy");
    int female = !strcmp(word, "woman") || !strcmp(word, "girl") || !strcmp(word, "female") ||
                 !strcmp(word, "lady");
    int young = !strcmp(word, "young") || !strcmp(word, "child") || !strcmp(word, "kid") ||
                !strcmp(word, "boy") || !strcmp(word, "girl") || !strcmp(word, "baby");
    int old = !strcmp(word, "old") || !strcmp(word, "elderly") || !strcmp(word, "senior");
    if (!male && !female && !young && !old) return -1;
    float s = 1, n = 0;
    if (male || female) {
        if (attr_get(attrs, "gender", v, sizeof v)) s *= (!strcmp(v, male ? "male" : "female")) ? 1.0f : 0.2f;
        else s *= 0.7f;
        n++;
    }
    if (young || old) {
        if (attr_get(attrs, "age", v, sizeof v)) {
            float age = (float)atof(v);
            s *= young ? clamp01((35 - age) / 15) : clamp01((age - 40) / 20);
        } else {
            s *= 0.6f;
        }
        n++;
    }
    return s;
}

/* Colour c on the part of a person that clothing word `part` covers, from
 * the describer's "top=red:62,white:20 bottom=blue:71"; -1 when that part
 * was not measured (or the word is not worn on one). */
static float part_colour_agree(const q_region *g, const char *part, const char *c)
{
    int where = q_clothing_part(part);
    char v[96];
    if (!where || !attr_get(g->attrs, where == 1 ? "top" : "bottom", v, sizeof v)) return -1;
    size_t cl = strlen(c);
    for (const char *p = v; *p;) {
        if (!strncmp(p, c, cl) && p[cl] == ':') return clamp01((float)atoi(p + cl + 1) / 100 / 0.3f);
        p += strcspn(p, ",");
        if (*p == ',') p++;
    }
    return 0;
}

static float colour_agree(const q_region *g, const char *c)
{
    if (!g->ncol) return 0.5f;   /* never measured: neither for nor against */
    for (int i = 0; i < g->ncol; i++)
        if (!strcmp(g->col[i].name, c)) return clamp01(g->col[i].share / 0.3f);
    return 0;
}

/* Mean agreement of the phrase's attributes with region g (1 when none). */
static float attrs_agree(const q_ranker *r, const q_image *im, const q_phrase *ph, const q_region *g,
                         cJSON *why)
{
    float sum = 0;
    int n = 0;
    const char *attrs = region_attrs(im, g);
    for (int a = 0; a < ph->nattrs; a++) {
        const q_attr *at = &ph->attrs[a];
        float s;
        if (at->kind == QA_COLOUR) {
            if (r->without & QW_COLOURS) continue;
            s = at->part[0] ? part_colour_agree(g, at->part, at->value) : -1;
            if (s < 0) s = colour_agree(g, at->value);
        } else if (at->kind == QA_SIZE && !strcmp(g->label, "person") && !strcmp(at->value, "small")) {
            /* "a little girl", "a small boy": a child, whatever the box size */
            s = face_word("young", attrs);
        } else if (at->kind == QA_SIZE) {
            int want = !strcmp(at->value, "small") ? SIZE_SMALL : !strcmp(at->value, "large") ? SIZE_LARGE : SIZE_MEDIUM;
            int d = abs(want - g->size);
            s = d == 0 ? 1.0f : d == 1 ? 0.4f : 0.0f;
        } else {
            s = face_word(at->value, attrs);
            if (s < 0) s = has_word(im->text, at->value) ? 1.0f : 0.4f;
        }
        if (why) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, at->kind == QA_COLOUR ? "colour" : at->kind == QA_SIZE ? "size" : "word",
                                    at->value);
            if (at->part[0]) cJSON_AddStringToObject(o, "on", at->part);
            cJSON_AddNumberToObject(o, "agree", round(s * 1000) / 1000);
            cJSON_AddItemToArray(why, o);
        }
        sum += s;
        n++;
    }
    /* the noun itself may say something about the face: "a woman" */
    float fw = face_word(ph->noun, attrs);
    if (fw >= 0 && strcmp(g->label, ph->noun)) {
        sum += fw;
        n++;
    }
    return n ? sum / (float)n : 1.0f;
}

/* ---- phrases ---------------------------------------------------------------- */

typedef struct pscore {
    float *s;            /* per region: how well it is this phrase (0..1) */
    float *lw;           /* per region: label weight */
    float best;
    int best_reg;        /* index into im->reg, -1 none */
    int count;
    float score;         /* the phrase's component */
} pscore;

static float count_agree(int n, int cmin, int cmax)
{
    int d = n < cmin ? cmin - n : (cmax >= 0 && n > cmax) ? n - cmax : 0;
    return 1.0f / (1.0f + (float)d);
}

static void score_phrase(const q_ranker *r, const q_image *im, int p, pscore *ps, cJSON *why)
{
    const q_phrase *ph = &r->q->ph[p];
    ps->s = xcalloc((size_t)im->nreg + 1, sizeof *ps->s);
    ps->lw = xcalloc((size_t)im->nreg + 1, sizeof *ps->lw);
    ps->best = 0;
    ps->best_reg = -1;
    ps->count = 0;
    cJSON *best_attrs = NULL;
    for (int i = 0; i < im->nreg; i++) {
        const q_region *g = &im->reg[i];
        if (g->kind == REGION_IMAGE) continue;
        float lw = q_label_weight(r, p, g->label);
        ps->lw[i] = lw;
        if (lw <= 0) continue;
        /* A SAM segment is (part of) a thing the detector may count too. */
        if (lw >= 0.5f && g->score >= 0.3f && g->kind != REGION_SEGMENT) ps->count++;
        float conf = 0.6f + 0.4f * clamp01(g->score);
        cJSON *aw = why ? cJSON_CreateArray() : NULL;
        float a = ph->nattrs || strcmp(g->label, ph->noun) ? attrs_agree(r, im, ph, g, aw) : 1.0f;
        float pos = ph->px >= 0 ? q_position_score(g->cx, g->cy, ph->px, ph->py) : 1.0f;
        float s = lw * conf * (0.25f + 0.75f * a) * (ph->px >= 0 ? 0.3f + 0.7f * pos : 1.0f);
        ps->s[i] = s;
        if (s > ps->best) {
            ps->best = s;
            ps->best_reg = i;
            if (best_attrs) cJSON_Delete(best_attrs);
            best_attrs = aw;
        } else if (aw) {
            cJSON_Delete(aw);
        }
    }
    float presence = ps->best;
    int from_text = 0;
    if (presence < 0.5f && has_word(im->text, ph->noun)) {
        presence = fmaxf(presence, 0.5f);
        from_text = 1;
    }
    float ca = count_agree(ps->best_reg >= 0 || from_text ? (ps->count ? ps->count : 1) : 0, ph->cmin, ph->cmax);
    float cw = ph->explicit_count ? 0.6f : 0.3f;
    ps->score = presence * (1 - cw + cw * ca);
    if (why) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "phrase", p);
        cJSON_AddStringToObject(o, "noun", ph->noun);
        if (ps->best_reg >= 0) {
            const q_region *g = &im->reg[ps->best_reg];
            cJSON_AddNumberToObject(o, "region", g->idx);
            cJSON_AddStringToObject(o, "label", g->label);
            cJSON_AddNumberToObject(o, "detector", round(g->score * 1000) / 1000);
            float bx[4] = {g->box.x0, g->box.y0, g->box.x1, g->box.y1};
            cJSON *b = cJSON_AddArrayToObject(o, "box");
            for (int k = 0; k < 4; k++) cJSON_AddItemToArray(b, cJSON_CreateNumber(round(bx[k] * 1000) / 1000));
            if (best_attrs && cJSON_GetArraySize(best_attrs)) {
                cJSON_AddItemToObject(o, "attrs", best_attrs);
                best_attrs = NULL;
            }
            if (ph->px >= 0)
                cJSON_AddNumberToObject(o, "position", round(q_position_score(g->cx, g->cy, ph->px, ph->py) * 1000) / 1000);
        } else if (from_text) {
            cJSON_AddStringToObject(o, "matched", "caption");
        }
        char c[32];
        q_count_str(ph, c, sizeof c);
        cJSON *cnt = cJSON_AddObjectToObject(o, "count");
        cJSON_AddStringToObject(cnt, "want", c);
        cJSON_AddNumberToObject(cnt, "found", ps->count);
        cJSON_AddNumberToObject(o, "score", round(ps->score * 1000) / 1000);
        cJSON_AddItemToArray(why, o);
    }
    if (best_attrs) cJSON_Delete(best_attrs);
}

/* ---- relations -------------------------------------------------------------- */

static float stored_rel(const q_image *im, int ia, int ib, const char *rel)
{
    /* "a behind b" is stored as "b in_front a" */
    int a = im->reg[ia].idx, b = im->reg[ib].idx;
    if (!strcmp(rel, "behind")) {
        int t = a;
        a = b;
        b = t;
        rel = "in_front";
    }
    float best = 0;
    for (int i = 0; i < im->nrel; i++)
        if (im->rel[i].a == a && im->rel[i].b == b && !strcmp(im->rel[i].rel, rel) && im->rel[i].w > best)
            best = im->rel[i].w;
    return best;
}

static float score_relation(const q_image *im, const q_rel *rl, const pscore *ps, cJSON *why)
{
    const pscore *A = &ps[rl->a], *B = &ps[rl->b], *C = rl->c >= 0 ? &ps[rl->c] : NULL;
    float best = 0;
    int ba = -1, bb = -1, bc = -1;
    float bgeo = 0;
    for (int i = 0; i < im->nreg; i++) {
        if (A->s[i] <= 0.05f) continue;
        for (int j = 0; j < im->nreg; j++) {
            if (j == i || B->s[j] <= 0.05f) continue;
            if (C) {
                for (int k = 0; k < im->nreg; k++) {
                    if (k == i || k == j || C->s[k] <= 0.05f) continue;
                    float g = q_rel_geom("between", &im->reg[i].box, &im->reg[j].box, &im->reg[k].box);
                    float s = cbrtf(A->s[i] * B->s[j] * C->s[k]) * g;
                    if (s > best) { best = s; ba = i; bb = j; bc = k; bgeo = g; }
                }
                continue;
            }
            float g = q_rel_geom(rl->rel, &im->reg[i].box, &im->reg[j].box, NULL);
            g = fmaxf(g, stored_rel(im, i, j, rl->rel));
            float s = sqrtf(A->s[i] * B->s[j]) * g;
            if (s > best) { best = s; ba = i; bb = j; bgeo = g; }
        }
    }
    if (why) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "rel", rl->rel);
        cJSON_AddNumberToObject(o, "a", rl->a);
        cJSON_AddNumberToObject(o, "b", rl->b);
        if (C) cJSON_AddNumberToObject(o, "c", rl->c);
        if (ba >= 0) {
            cJSON *rg = cJSON_AddArrayToObject(o, "regions");
            cJSON_AddItemToArray(rg, cJSON_CreateNumber(im->reg[ba].idx));
            cJSON_AddItemToArray(rg, cJSON_CreateNumber(im->reg[bb].idx));
            if (bc >= 0) cJSON_AddItemToArray(rg, cJSON_CreateNumber(im->reg[bc].idx));
            cJSON_AddNumberToObject(o, "holds", round(bgeo * 1000) / 1000);
        }
        cJSON_AddBoolToObject(o, "held", bgeo >= 0.5f);
        cJSON_AddNumberToObject(o, "score", round(best * 1000) / 1000);
        cJSON_AddItemToArray(why, o);
    }
    return best;
}

/* ---- scene words ------------------------------------------------------------ */

/* Things no detector boxes but whose colour fills the frame: grass and fields
 * are green, snow white, water blue, sand and dirt brown.  The whole-image
 * region's colour shares are the evidence; "night" is the scene's darkness. */
static const struct { const char *word, *colour; float w; } stuff[] = {
    {"grass", "green", 0.8f}, {"grassy", "green", 0.7f}, {"field", "green", 0.5f},
    {"lawn", "green", 0.8f}, {"yard", "green", 0.6f}, {"park", "green", 0.2f},
    {"forest", "green", 0.5f}, {"tree", "green", 0.3f}, {"wooded", "green", 0.3f},
    {"meadow", "green", 0.6f},
    {"snow", "white", 0.6f}, {"snowy", "white", 0.5f}, {"winter", "white", 0.3f},
    {"water", "blue", 0.2f}, {"ocean", "blue", 0.5f}, {"sea", "blue", 0.5f}, {"lake", "blue", 0.25f},
    {"pool", "blue", 0.4f}, {"wave", "blue", 0.5f}, {"surf", "blue", 0.5f}, {"surfer", "blue", 0.6f},
    {"swim", "blue", 0.4f}, {"swimming", "blue", 0.4f}, {"sky", "blue", 0.7f},
    {"mountain", "blue", 0.3f},
    {"beach", "white", 0.35f}, {"sand", "white", 0.25f}, {"dirt", "brown", 0.25f},
    {"night", "black", 0.8f}, {"dark", "black", 0.3f}, {"stage", "black", 0.6f},
    {"crowd", "black", 0.4f}, {"sunset", "black", 0.5f},
    {"street", "grey", 0.3f}, {"road", "grey", 0.4f}, {"sidewalk", "grey", 0.35f},
};

/* Agreement of the whole image with the query's scene words: their
 * weighted sum in *num and the sum of their weights in *den (0 when the
 * query has none).  The weights say how much the colour tells about the
 * word (measured on the Flickr8k dev split: grass is nearly always green,
 * water only sometimes blue). */
static void scene_agree(const q_ranker *r, const q_image *im, float *num, float *den)
{
    const q_region *whole = NULL;
    for (int i = 0; i < im->nreg && !whole; i++)
        if (im->reg[i].kind == REGION_IMAGE) whole = &im->reg[i];
    *num = *den = 0;
    for (int w = 0; w < r->nwords; w++)
        for (size_t k = 0; k < sizeof stuff / sizeof stuff[0]; k++) {
            if (strcmp(r->words[w], stuff[k].word)) continue;
            float share = 0;
            for (int j = 0; whole && j < whole->ncol; j++)
                if (!strcmp(whole->col[j].name, stuff[k].colour)) share = whole->col[j].share;
            *num += stuff[k].w * clamp01(share / SCENE_FULL);
            *den += stuff[k].w;
            break;
        }
}

/* ---- the learnt terms ------------------------------------------------------- */

/* The structured sums of the last image this thread scored (tuning dumps). */
static _Thread_local struct { double num, den, pen; } last;

void q_score_structured(double *num, double *den, double *penalty)
{
    *num = last.num;
    *den = last.den;
    *penalty = last.pen;
}

static q_learnt learnt = {W_EMB, W_TAG, EMB_MID, EMB_T, TAG_FULL};
static pthread_once_t learnt_once = PTHREAD_ONCE_INIT;

static void learnt_init(void)
{
    const char *t = getenv("IMGDEX_RANK_TUNE");
    if (!t || !*t) return;
    q_learnt v = learnt;
    if (sscanf(t, "%f %f %f %f %f", &v.w_emb, &v.w_tag, &v.emb_mid, &v.emb_t, &v.tag_full) == 5 && v.emb_t > 0 &&
        v.tag_full > 0)
        learnt = v;
}

const q_learnt *q_learnt_params(void)
{
    pthread_once(&learnt_once, learnt_init);
    return &learnt;
}

float q_emb_part(const q_ranker *r, const q_image *im)
{
    const q_learnt *L = q_learnt_params();
    if (!r->have_emb || (r->without & QW_EMBEDDING) || im->emb != im->emb) return -1;
    return 1.0f / (1.0f + expf(-(im->emb - L->emb_mid) / L->emb_t));
}

float q_tag_part(const q_ranker *r, const q_image *im)
{
    if (!r->ntagw || (r->without & QW_TAGS)) return -1;
    float t = 0, full = q_learnt_params()->tag_full;
    for (int i = 0; i < r->ntagw; i++) t += clamp01(im->tagp[i] / full);
    return t / (float)r->ntagw;
}

int q_structured_hit(const q_ranker *r, const q_image *im)
{
    if (r->without & QW_STRUCTURED) return 0;
    const query *q = r->q;
    for (int p = 0; p < q->nph; p++) {
        if (q->ph[p].negated) continue;
        for (int i = 0; i < im->nreg; i++)
            if (im->reg[i].kind != REGION_IMAGE && q_label_weight(r, p, im->reg[i].label) >= 0.5f) return 1;
        if (has_word(im->text, q->ph[p].noun)) return 1;
    }
    for (int i = 0; i < r->nwords; i++)
        if (has_word(im->text, r->words[i])) return 1;
    if (im->bm25 > 0) return 1;
    for (int i = 0; i < q->ntxt; i++)
        if (!q->txt[i].negated && im->nocr) return 1;
    return 0;
}

/* ---- the whole image -------------------------------------------------------- */

double q_score_image(const q_ranker *r, const q_image *im, cJSON **whyp)
{
    const query *q = r->q;
    cJSON *why = whyp ? cJSON_CreateObject() : NULL;
    cJSON *jp = why ? cJSON_AddArrayToObject(why, "phrases") : NULL;
    pscore *ps = xcalloc((size_t)q->nph + 1, sizeof *ps);
    double num = 0, den = 0, penalty = 0;
    cJSON *jn = NULL;
    int structured = !(r->without & QW_STRUCTURED);
    for (int p = 0; p < q->nph && structured; p++) {
        if (q->ph[p].negated) {
            score_phrase(r, im, p, &ps[p], NULL);
            /* presence without attributes: "no cars" means no car at all */
            float worst = 0;
            int wr = -1;
            for (int i = 0; i < im->nreg; i++) {
                if (ps[p].lw[i] < 0.5f) continue;
                float s = ps[p].lw[i] * (0.5f + 0.5f * clamp01(im->reg[i].score));
                if (s > worst) { worst = s; wr = i; }
            }
            if (worst > 0) {
                penalty += W_NEGATION * worst;
                if (why) {
                    if (!jn) jn = cJSON_AddArrayToObject(why, "negated");
                    cJSON *o = cJSON_CreateObject();
                    cJSON_AddStringToObject(o, "noun", q->ph[p].noun);
                    cJSON_AddNumberToObject(o, "region", im->reg[wr].idx);
                    cJSON_AddStringToObject(o, "label", im->reg[wr].label);
                    cJSON_AddNumberToObject(o, "penalty", round(W_NEGATION * worst * 1000) / 1000);
                    cJSON_AddItemToArray(jn, o);
                }
            }
            continue;
        }
        score_phrase(r, im, p, &ps[p], jp);
        num += W_PHRASE * ps[p].score;
        den += W_PHRASE;
    }
    if (!(r->without & QW_RELATIONS) && q->nrel && structured) {
        cJSON *jr = why ? cJSON_AddArrayToObject(why, "relations") : NULL;
        for (int i = 0; i < q->nrel; i++) {
            num += W_RELATION * score_relation(im, &q->rel[i], ps, jr);
            den += W_RELATION;
        }
    }
    if (r->nwords && structured) {
        int hit = 0;
        cJSON *jm = why ? cJSON_CreateArray() : NULL;
        for (int i = 0; i < r->nwords; i++)
            if (has_word(im->text, r->words[i])) {
                hit++;
                if (jm) cJSON_AddItemToArray(jm, cJSON_CreateString(r->words[i]));
            }
        float t = (float)hit / (float)r->nwords;
        /* the stronger of word overlap and BM25 from the token tables */
        t = fmaxf(t, im->bm25);
        num += W_TEXT * t;
        den += W_TEXT;
        if (why) {
            cJSON *o = cJSON_AddObjectToObject(why, "text");
            cJSON_AddItemToObject(o, "matched", jm);
            cJSON_AddNumberToObject(o, "score", round(t * 1000) / 1000);
        }
    }
    float sn = 0, sd = 0;
    if (!(r->without & QW_COLOURS) && structured) scene_agree(r, im, &sn, &sd);
    if (sd > 0) {
        num += W_SCENE * sn;
        den += W_SCENE * sd;
        if (why) cJSON_AddNumberToObject(why, "scene", round(sn / sd * 1000) / 1000);
    }
    if (!(r->without & QW_OCR) && q->ntxt && structured) {
        cJSON *jo = why ? cJSON_AddArrayToObject(why, "ocr") : NULL;
        for (int i = 0; i < q->ntxt; i++) {
            float s = q_score_ocr(im, &q->txt[i], jo);
            if (q->txt[i].negated) {
                penalty += W_NEGATION * s;
            } else {
                num += W_OCR * s;
                den += W_OCR;
            }
        }
    }
    if (r->have_clip && !(r->without & QW_CLIP) && im->clip == im->clip) {
        /* CLIP cosines of matching pairs sit around 0.25-0.35, unrelated ~0.1-0.2 */
        float c = clamp01((im->clip - 0.15f) / 0.2f);
        num += W_CLIP * c;
        den += W_CLIP;
        if (why) cJSON_AddNumberToObject(why, "clip", round(im->clip * 1000) / 1000);
    }
    last.num = num;
    last.den = den;
    last.pen = penalty;
    float ep = q_emb_part(r, im);
    if (ep >= 0) {
        num += q_learnt_params()->w_emb * ep;
        den += q_learnt_params()->w_emb;
        if (why) {
            cJSON *o = cJSON_AddObjectToObject(why, "embedding");
            cJSON_AddNumberToObject(o, "cosine", round(im->emb * 1000) / 1000);
            cJSON_AddNumberToObject(o, "score", round(ep * 1000) / 1000);
        }
    }
    float tp = q_tag_part(r, im);
    if (tp >= 0) {
        num += q_learnt_params()->w_tag * tp;
        den += q_learnt_params()->w_tag;
        if (why) {
            cJSON *o = cJSON_AddObjectToObject(why, "tags");
            cJSON *a = cJSON_AddArrayToObject(o, "words");
            for (int i = 0; i < r->ntagw; i++) {
                cJSON *t = cJSON_CreateObject();
                cJSON_AddStringToObject(t, "tag", r->tagw[i]);
                cJSON_AddNumberToObject(t, "p", round(im->tagp[i] * 1000) / 1000);
                cJSON_AddItemToArray(a, t);
            }
            cJSON_AddNumberToObject(o, "score", round(tp * 1000) / 1000);
        }
    }
    double score = (den > 0 ? num / den : 0) - penalty;
    if (why) {
        cJSON_AddNumberToObject(why, "penalty", round(penalty * 1000) / 1000);
        cJSON_AddNumberToObject(why, "total", round(score * 10000) / 10000);
        *whyp = why;
    }
    for (int p = 0; p < q->nph; p++) {
        free(ps[p].s);
        free(ps[p].lw);
    }
    free(ps);
    return score;
}
