/* vecblob.c — the encodings of stored columns that need no database:
 * compact vectors (catalogue.h) and region colours (fpstore.h). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index/catalogue.h"
#include "index/fpstore.h"

/* "red:0.61 white:0.22" <-> colour_share[] */
void cat_colours_format(const region *r, char *out, size_t n)
{
    size_t used = 0;
    out[0] = 0;
    for (int i = 0; i < r->ncolours && i < DESC_MAX_COLOURS; i++) {
        int w = snprintf(out + used, n - used, "%s%s:%.3f", i ? " " : "", r->colours[i].name,
                         (double)r->colours[i].share);
        if (w < 0 || (size_t)w >= n - used) break;
        used += (size_t)w;
    }
}

void cat_colours_parse(const char *s, region *r)
{
    r->ncolours = 0;
    while (s && *s && r->ncolours < DESC_MAX_COLOURS) {
        while (*s == ' ') s++;
        const char *colon = strchr(s, ':');
        if (!colon) break;
        colour_share *cs = &r->colours[r->ncolours];
        size_t len = (size_t)(colon - s);
        if (len >= sizeof cs->name) len = sizeof cs->name - 1;
        memcpy(cs->name, s, len);
        cs->name[len] = 0;
        char *end;
        cs->share = strtof(colon + 1, &end);
        r->ncolours++;
        s = end;
    }
}

void cat_vec_encode_i8(const float *v, int dim, void *out)
{
    float mx = 0;
    for (int j = 0; j < dim; j++) mx = fabsf(v[j]) > mx ? fabsf(v[j]) : mx;
    float scale = mx > 0 ? mx / 127.0f : 1.0f;
    memcpy(out, &scale, 4);
    int8_t *q = (int8_t *)out + 4;
    for (int j = 0; j < dim; j++) {
        long r = lroundf(v[j] / scale);
        q[j] = (int8_t)(r > 127 ? 127 : r < -127 ? -127 : r);
    }
}

int cat_vec_decode(const void *blob, int bytes, int dim, float *out)
{
    if (!blob || dim <= 0) return -1;
    if ((size_t)bytes == (size_t)dim * sizeof(float)) {
        memcpy(out, blob, (size_t)bytes);
        return 0;
    }
    if ((size_t)bytes != CAT_VEC_I8_BYTES(dim)) return -1;
    float scale;
    memcpy(&scale, blob, 4);
    const int8_t *q = (const int8_t *)blob + 4;
    for (int j = 0; j < dim; j++) out[j] = scale * (float)q[j];
    return 0;
}
