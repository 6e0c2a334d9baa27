/* tess.c — loading Tesseract's C API with dlopen (see tess.h for why). */
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "describe/tess.h"

#define TESS_SO "libtesseract.so.5"

static tess_api api;
static char why[256];
static int loaded;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
    /* RTLD_LOCAL: Tesseract's C++ symbols stay out of everyone else's way. */
    void *h = dlopen(TESS_SO, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(why, sizeof why, "tesseract: %s not found (Debian: libtesseract5): %s", TESS_SO, dlerror());
        return;
    }
    static const struct { const char *name; size_t off; } syms[] = {
#define S(field, name) {#name, offsetof(tess_api, field)}
        S(Version, TessVersion), S(Create, TessBaseAPICreate), S(Init3, TessBaseAPIInit3),
        S(Delete, TessBaseAPIDelete), S(End, TessBaseAPIEnd), S(SetVariable, TessBaseAPISetVariable),
        S(SetPageSegMode, TessBaseAPISetPageSegMode), S(SetImage, TessBaseAPISetImage),
        S(SetSourceResolution, TessBaseAPISetSourceResolution), S(Recognize, TessBaseAPIRecognize),
        S(Clear, TessBaseAPIClear), S(GetIterator, TessBaseAPIGetIterator),
        S(ResultText, TessResultIteratorGetUTF8Text), S(ResultConfidence, TessResultIteratorConfidence),
        S(ResultWordIsFromDictionary, TessResultIteratorWordIsFromDictionary),
        S(ResultPageIterator, TessResultIteratorGetPageIteratorConst), S(ResultNext, TessResultIteratorNext),
        S(ResultDelete, TessResultIteratorDelete), S(PageBoundingBox, TessPageIteratorBoundingBox),
        S(DeleteText, TessDeleteText), S(LeptMsgSeverity, setMsgSeverity),
#undef S
    };
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        /* dlsym searches the library and what it depends on: Leptonica too. */
        void *f = dlsym(h, syms[i].name);
        if (!f) {
            snprintf(why, sizeof why, "tesseract: %s has no %s", TESS_SO, syms[i].name);
            dlclose(h);
            return;
        }
        memcpy((char *)&api + syms[i].off, &f, sizeof f);
    }
    /* Optional: present when this Tesseract was built with OpenMP. */
    void *omp = dlsym(h, "omp_set_max_active_levels");
    memcpy(&api.OmpMaxActiveLevels, &omp, sizeof omp);
    loaded = 1;   /* the handle stays open for the life of the process */
}

const tess_api *tess_load(ierr *e)
{
    pthread_once(&once, load);
    if (!loaded) {
        err_set(e, "%s", why);
        return NULL;
    }
    return &api;
}
