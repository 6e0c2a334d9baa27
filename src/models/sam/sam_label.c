/* sam_label.c — naming a segment after the detector box it lies in, the
 * describer's rule for turning SAM segments into labelled regions. */
#include <stdlib.h>

#include "models/sam/sam_impl.h"

int sam_segment_box(const sam_segment *s, const det_box *boxes, int n, float min_share, float *share)
{
    if (share) *share = 0;
    if (!s->area || n <= 0) return -1;
    long *in = calloc((size_t)n, sizeof *in);
    if (!in) return -1;
    /* Runs are column-major: walk them, counting each pixel whose centre
     * falls inside each box (boxes are normalised to the image). */
    size_t pos = 0;
    for (int r = 0; r < s->ncounts; r++) {
        size_t end = pos + s->counts[r];
        if (r % 2)
            for (size_t p = pos; p < end && p < (size_t)s->w * s->h; p++) {
                float x = ((float)(p / (size_t)s->h) + 0.5f) / s->w, y = ((float)(p % (size_t)s->h) + 0.5f) / s->h;
                for (int b = 0; b < n; b++)
                    in[b] += x >= boxes[b].x0 && x <= boxes[b].x1 && y >= boxes[b].y0 && y <= boxes[b].y1;
            }
        pos = end;
    }
    int best = -1;
    for (int b = 0; b < n; b++)
        if (best < 0 || in[b] > in[best] || (in[b] == in[best] && boxes[b].score > boxes[best].score)) best = b;
    float f = (float)in[best] / (float)s->area;
    free(in);
    if (share) *share = f;
    return f >= min_share ? best : -1;
}
