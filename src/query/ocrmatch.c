/* ocrmatch.c — how well an image's OCR words match a quoted query text:
 * per query word the best stored word (exact 1, one edit 0.7 for words of
 * 4+ letters, contained 0.6 for 3+), weighted by the reader's confidence,
 * averaged over the query's words. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "query/rank.h"

static int edit1(const char *a, const char *b)
{
    /* 1 when a and b differ by at most one edit */
    size_t la = strlen(a), lb = strlen(b);
    if (la > lb + 1 || lb > la + 1) return 0;
    size_t i = 0, j = 0;
    int edits = 0;
    while (i < la && j < lb) {
        if (a[i] == b[j]) { i++; j++; continue; }
        if (++edits > 1) return 0;
        if (la > lb) i++;
        else if (lb > la) j++;
        else { i++; j++; }
    }
    return edits + (int)(la - i) + (int)(lb - j) <= 1;
}

static void lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z') *s += 32;
}

static float ocr_word_score(const q_image *im, const char *w, char *found, size_t n)
{
    float best = 0;
    found[0] = 0;
    for (int i = 0; i < im->nocr; i++) {
        char t[64];
        snprintf(t, sizeof t, "%s", im->ocr[i].text);
        lower(t);
        /* strip punctuation at the ends: "STOP." */
        size_t l = strlen(t);
        while (l && !((t[l - 1] >= 'a' && t[l - 1] <= 'z') || (t[l - 1] >= '0' && t[l - 1] <= '9'))) t[--l] = 0;
        char *b = t;
        while (*b && !((*b >= 'a' && *b <= 'z') || (*b >= '0' && *b <= '9'))) b++;
        float s = !strcmp(b, w) ? 1.0f : (strlen(w) >= 4 && edit1(b, w)) ? 0.7f : (strlen(w) >= 3 && strstr(b, w)) ? 0.6f : 0;
        s *= 0.7f + 0.3f * (im->ocr[i].conf < 0 ? 0 : im->ocr[i].conf > 1 ? 1 : im->ocr[i].conf);
        if (s > best) {
            best = s;
            snprintf(found, n, "%s", im->ocr[i].text);
        }
    }
    return best;
}

float q_score_ocr(const q_image *im, const q_text *t, cJSON *why)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", t->text);
    float sum = 0;
    int n = 0;
    cJSON *m = why ? cJSON_CreateArray() : NULL;
    char *save, *w = strtok_r(buf, " \t", &save);
    while (w) {
        char found[64];
        float s = ocr_word_score(im, w, found, sizeof found);
        if (m && s > 0) cJSON_AddItemToArray(m, cJSON_CreateString(found));
        sum += s;
        n++;
        w = strtok_r(NULL, " \t", &save);
    }
    float s = n ? sum / (float)n : 0;
    if (why) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "text", t->text);
        cJSON_AddItemToObject(o, "matched", m);
        cJSON_AddNumberToObject(o, "score", round(s * 1000) / 1000);
        if (t->negated) cJSON_AddTrueToObject(o, "negated");
        cJSON_AddItemToArray(why, o);
    }
    return s;
}
