/* fetch.h — downloading model files over HTTP(S) with libcurl.
 *
 * Files land as NAME.part and are renamed only once complete and verified,
 * so an interrupted or failed download never leaves a file that looks
 * installed; a later attempt resumes the .part with an HTTP Range request.
 */
#ifndef IMGDEX_FETCH_H
#define IMGDEX_FETCH_H

#include "base/base.h"

/* What the server says a file should be, from a HEAD request: the size
 * (Hugging Face's X-Linked-Size for LFS files, else Content-Length) and,
 * when the server publishes it (X-Linked-Etag of LFS files), the sha256.
 * size -1 / sha256 "" when unknown. */
typedef struct fetch_expect {
    long long size;
    char sha256[65];
} fetch_expect;

int fetch_head(const char *url, fetch_expect *x, ierr *e);

/* Download url to dest (via dest.part, resuming it).  Verified against x
 * (fields that are unknown are not checked; at least the size must be known).
 * Progress on stderr when progress is set.  -1 + e, and no dest, on failure;
 * a .part that failed verification is deleted, an interrupted one is kept
 * for resuming. */
int fetch_file(const char *url, const char *dest, const fetch_expect *x, int progress, ierr *e);

/* `imgdex models fetch NAME`: every file of a known model (CLIP, BLIP) from
 * $IMGDEX_HF_ENDPOINT (default https://huggingface.co)/<repo>/resolve/main/
 * into <models dir>/NAME/.  Returns 0, or -1 + e. */
int fetch_model(const char *name, int progress, ierr *e);
/* The Hugging Face repository of a model name, NULL when not fetchable. */
const char *fetch_repo(const char *name);

#endif
