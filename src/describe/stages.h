/* stages.h — the describer's pipeline: stage definitions, per-describer
 * state and the per-image context the stages pass along.  Private to
 * src/describe/ (describe.c runs the table that stages.c defines).
 */
#ifndef IMGDEX_DESCRIBE_STAGES_H
#define IMGDEX_DESCRIBE_STAGES_H

#include <pthread.h>

#include "describe/internal.h"
#include "models/clip/clip.h"
#include "models/models.h"

/* Facts a stage needs or adds. */
enum {
    F_PIXELS = 1 << 0, F_OBJECTS = 1 << 1, F_FACES = 1 << 2, F_PMASK = 1 << 3,
    F_GEOMETRY = 1 << 4, F_COLOURS = 1 << 5, F_RELATIONS = 1 << 6, F_TEXT = 1 << 7,
    F_SCENE = 1 << 8, F_EMBED = 1 << 9, F_TAGS = 1 << 10, F_CAPTION = 1 << 11,
    F_CLIPCAP = 1 << 12, F_BLIPCAP = 1 << 13, F_FEATURES = 1 << 14, F_JOINT = 1 << 15,
    F_SEGMENTS = 1 << 16,
};
/* Name of the lowest fact bit in mask ("objects", "embed"...). */
const char *fact_missing(unsigned mask);

typedef struct stage_state {
    int on;                  /* opened and will run */
    char model[64];          /* model words for the version, or "missing"/"off" */
    void *h;                 /* the stage's model handle */
    double seconds;          /* time spent, summed over images */
    int runs;
} stage_state;

typedef struct dctx dctx;
typedef struct stage_def {
    const char *name;
    unsigned needs, adds;
    /* 0 = ready; -1 = skip (sets st->model to "missing"/"off", why to the reason).
     * NULL when the stage needs no model. */
    int (*open)(describer *d, stage_state *st, ierr *why);
    int (*run)(dctx *c, stage_state *st, ierr *e);
    void (*close)(describer *d, stage_state *st);
    /* 1: a stage added after catalogues existed; it names itself in the
     * describer version only when on, so that not installing its model
     * does not make every stored description look out of date. */
    int quiet_when_off;
} stage_def;

#define NSTAGES 16
extern const stage_def stage_table[NSTAGES];

struct describer {
    describe_opts o;
    stage_state st[NSTAGES];
    char version[512];
};

struct dctx {
    describer *d;
    const img *im;
    const img_meta *meta;
    description *ds;
    int cap;                 /* regions capacity */
    uint8_t *pmask;          /* person probability over the whole image, or NULL */
    int pmw, pmh;
    char place[48];          /* best scene label from CLIP, "" without */
    /* SAM segments' masks over the whole image (smw x smh, 0/255), for the
     * colour stage: smask[k] belongs to region sreg[k]. */
    uint8_t **smask;
    int *sreg, nsmask, smw, smh;
};

region *ctx_add_region(dctx *c);

/* A model shared by every describer of the process (read-only once open,
 * its calls thread-safe): the first describer opens it, the last closes it. */
typedef struct shared_model {
    pthread_mutex_t mu;
    void *m;
    int refs;
} shared_model;
#define SHARED_MODEL_INIT {PTHREAD_MUTEX_INITIALIZER, NULL, 0}
/* The model, opened with open() when no describer holds it; NULL + why. */
void *shared_model_get(shared_model *s, void *(*open)(ierr *why), ierr *why);
void shared_model_put(shared_model *s, void (*close)(void *m));
/* The clip stage's state in d (its handle is a clip_stage when on). */
stage_state *clip_state(describer *d);

#endif
