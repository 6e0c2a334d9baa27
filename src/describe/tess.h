/* tess.h — Tesseract's C API, loaded on first use.
 *
 * libtesseract brings some forty shared libraries with it (C++, ICU,
 * libarchive, image codecs); linked at build time they cost every imgdex
 * process ~20 ms of start-up, most of which never reads text (`search`,
 * `show`, `serve`).  So ocr.c reaches Tesseract through these pointers,
 * filled by dlopen the first time a describer opens its OCR stage.  The
 * headers still give the types, so a call through here is checked like a
 * direct one.  Internal to src/describe/. */
#ifndef IMGDEX_DESCRIBE_TESS_H
#define IMGDEX_DESCRIBE_TESS_H

#include <leptonica/allheaders.h>
#include <tesseract/capi.h>

#include "base/base.h"

typedef struct tess_api {
    __typeof__(&TessVersion) Version;
    __typeof__(&TessBaseAPICreate) Create;
    __typeof__(&TessBaseAPIInit3) Init3;
    __typeof__(&TessBaseAPIDelete) Delete;
    __typeof__(&TessBaseAPIEnd) End;
    __typeof__(&TessBaseAPISetVariable) SetVariable;
    __typeof__(&TessBaseAPISetPageSegMode) SetPageSegMode;
    __typeof__(&TessBaseAPISetImage) SetImage;
    __typeof__(&TessBaseAPISetSourceResolution) SetSourceResolution;
    __typeof__(&TessBaseAPIRecognize) Recognize;
    __typeof__(&TessBaseAPIClear) Clear;
    __typeof__(&TessBaseAPIGetIterator) GetIterator;
    __typeof__(&TessResultIteratorGetUTF8Text) ResultText;
    __typeof__(&TessResultIteratorConfidence) ResultConfidence;
    __typeof__(&TessResultIteratorWordIsFromDictionary) ResultWordIsFromDictionary;
    __typeof__(&TessResultIteratorGetPageIteratorConst) ResultPageIterator;
    __typeof__(&TessResultIteratorNext) ResultNext;
    __typeof__(&TessResultIteratorDelete) ResultDelete;
    __typeof__(&TessPageIteratorBoundingBox) PageBoundingBox;
    __typeof__(&TessDeleteText) DeleteText;
    __typeof__(&setMsgSeverity) LeptMsgSeverity;   /* Leptonica, loaded with Tesseract */
    void (*OmpMaxActiveLevels)(int);   /* libgomp's, when Tesseract uses OpenMP; else NULL */
} tess_api;

/* The API, or NULL + e ("tesseract: libtesseract.so.5 not found (Debian:
 * libtesseract5)").  Loads once per process; thread-safe. */
const tess_api *tess_load(ierr *e);

#endif
