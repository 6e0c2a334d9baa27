/* safetensors.c — mmap loader for .safetensors (see safetensors.h). */
#include "engine/safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct st_file {
    char *path;
    const unsigned char *map;
    size_t size;
    st_tensor *t;
    int n;
    char **mkey, **mval;     /* __metadata__ string entries */
    int nmeta;
};

float st_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31;
    uint32_t exp = (h >> 10) & 31, man = h & 1023, bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else {            /* subnormal: renormalise */
            exp = 127 - 15 + 1;
            while (!(man & 1024)) { man <<= 1; exp--; }
            bits = sign | (exp << 23) | ((man & 1023) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

float st_bf16_to_f32(uint16_t h)
{
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static int dtype_size(const char *s, st_dtype *dt)
{
    static const struct { const char *name; int size; st_dtype dt; } tab[] = {
        {"F32", 4, ST_F32}, {"F16", 2, ST_F16}, {"BF16", 2, ST_BF16}, {"F64", 8, ST_OTHER},
        {"I64", 8, ST_OTHER}, {"I32", 4, ST_OTHER}, {"I16", 2, ST_OTHER}, {"I8", 1, ST_OTHER},
        {"U8", 1, ST_OTHER}, {"BOOL", 1, ST_OTHER}, {"U16", 2, ST_OTHER}, {"U32", 4, ST_OTHER},
        {"U64", 8, ST_OTHER}, {"F8_E4M3", 1, ST_OTHER}, {"F8_E5M2", 1, ST_OTHER},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (!strcmp(s, tab[i].name)) {
            *dt = tab[i].dt;
            return tab[i].size;
        }
    return 0;
}

void st_close(st_file *f)
{
    if (!f) return;
    for (int i = 0; i < f->n; i++) free(f->t[i].name);
    free(f->t);
    for (int i = 0; i < f->nmeta; i++) {
        free(f->mkey[i]);
        free(f->mval[i]);
    }
    free(f->mkey);
    free(f->mval);
    if (f->map) munmap((void *)f->map, f->size);
    free(f->path);
    free(f);
}

/* Fill one st_tensor from its header entry; every number is validated. */
static int parse_entry(st_file *f, const cJSON *it, size_t data_start, st_tensor *t, ierr *e)
{
    const char *name = it->string;
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(it, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(it, "shape");
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(it, "data_offsets");
    if (!cJSON_IsString(dt) || !cJSON_IsArray(shape) || !cJSON_IsArray(off) ||
        cJSON_GetArraySize(off) != 2) {
        err_set(e, "%s: tensor '%s': header entry lacks dtype, shape or data_offsets", f->path, name);
        return -1;
    }
    int esize = dtype_size(dt->valuestring, &t->dtype);
    if (!esize) {
        err_set(e, "%s: tensor '%s': unknown dtype '%s'", f->path, name, dt->valuestring);
        return -1;
    }
    snprintf(t->dtype_name, sizeof t->dtype_name, "%s", dt->valuestring);
    t->ndim = cJSON_GetArraySize(shape);
    if (t->ndim > 8) {
        err_set(e, "%s: tensor '%s': %d dimensions (at most 8)", f->path, name, t->ndim);
        return -1;
    }
    double nelem = 1;
    for (int d = 0; d < t->ndim; d++) {
        const cJSON *s = cJSON_GetArrayItem(shape, d);
        if (!cJSON_IsNumber(s) || s->valuedouble < 0 || s->valuedouble > 1e12 ||
            s->valuedouble != (double)(long long)s->valuedouble) {
            err_set(e, "%s: tensor '%s': bad shape", f->path, name);
            return -1;
        }
        t->shape[d] = (long long)s->valuedouble;
        nelem *= s->valuedouble;
    }
    const cJSON *b = cJSON_GetArrayItem(off, 0), *en = cJSON_GetArrayItem(off, 1);
    if (!cJSON_IsNumber(b) || !cJSON_IsNumber(en) || b->valuedouble < 0 ||
        en->valuedouble < b->valuedouble || en->valuedouble > 1e15) {
        err_set(e, "%s: tensor '%s': bad data_offsets", f->path, name);
        return -1;
    }
    size_t begin = (size_t)b->valuedouble, end = (size_t)en->valuedouble;
    if (nelem * esize != (double)(end - begin)) {
        err_set(e, "%s: tensor '%s': %zu data bytes for %.0f elements of %s", f->path, name,
                end - begin, nelem, t->dtype_name);
        return -1;
    }
    if (end > f->size - data_start) {
        err_set(e, "%s: tensor '%s': data ends at byte %zu, past the end of the file (%zu bytes; truncated?)",
                f->path, name, data_start + end, f->size);
        return -1;
    }
    t->nelem = (size_t)nelem;
    t->nbytes = end - begin;
    t->data = f->map + data_start + begin;
    t->name = xstrdup(name);
    return 0;
}

st_file *st_open(const char *path, ierr *e)
{
    st_file *f = xcalloc(1, sizeof *f);
    f->path = xstrdup(path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        err_set(e, "%s: cannot open: %s", path, strerror(errno));
        st_close(f);
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        err_set(e, "%s: not a regular file", path);
        close(fd);
        st_close(f);
        return NULL;
    }
    f->size = (size_t)st.st_size;
    if (f->size < 10) {
        err_set(e, "%s: %zu bytes is too short for a safetensors file", path, f->size);
        close(fd);
        st_close(f);
        return NULL;
    }
    void *m = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) {
        err_set(e, "%s: cannot map: %s", path, strerror(errno));
        st_close(f);
        return NULL;
    }
    f->map = m;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | f->map[i];
    if (hlen > f->size - 8 || hlen > (100u << 20)) {
        err_set(e, "%s: header length %llu is past the end of the %zu-byte file (not safetensors?)",
                path, (unsigned long long)hlen, f->size);
        st_close(f);
        return NULL;
    }
    cJSON *h = cJSON_ParseWithLength((const char *)f->map + 8, (size_t)hlen);
    if (!cJSON_IsObject(h)) {
        err_set(e, "%s: header is not a JSON object (not safetensors?)", path);
        cJSON_Delete(h);
        st_close(f);
        return NULL;
    }
    int cap = cJSON_GetArraySize(h);
    f->t = xcalloc((size_t)cap + 1, sizeof *f->t);
    for (const cJSON *it = h->child; it; it = it->next) {
        /* A name given twice would leave it to chance which tensor (or
         * which metadata) a loader gets: the file is refused instead. */
        for (const cJSON *pr = h->child; pr != it; pr = pr->next)
            if (!strcmp(pr->string, it->string)) {
                err_set(e, "%s: header names '%s' twice", path, it->string);
                goto fail;
            }
        if (!strcmp(it->string, "__metadata__")) {
            /* The format allows only string values; anything else is skipped. */
            int nm = cJSON_IsObject(it) ? cJSON_GetArraySize(it) : 0;
            f->mkey = xcalloc((size_t)nm + 1, sizeof *f->mkey);
            f->mval = xcalloc((size_t)nm + 1, sizeof *f->mval);
            for (const cJSON *m = nm ? it->child : NULL; m; m = m->next) {
                if (!cJSON_IsString(m) || f->nmeta >= nm) continue;
                f->mkey[f->nmeta] = xstrdup(m->string);
                f->mval[f->nmeta++] = xstrdup(m->valuestring);
            }
            continue;
        }
        if (!cJSON_IsObject(it)) {
            err_set(e, "%s: header entry '%s' is not an object", path, it->string);
            goto fail;
        }
        if (parse_entry(f, it, 8 + (size_t)hlen, &f->t[f->n], e) != 0) goto fail;
        f->n++;
    }
    cJSON_Delete(h);
    /* madvise(MADV_WILLNEED) here cost seconds on a 600 MB file: pages come in as used. */
    return f;
fail:
    cJSON_Delete(h);
    st_close(f);
    return NULL;
}

const char *st_path(const st_file *f) { return f->path; }
int st_count(const st_file *f) { return f->n; }
const st_tensor *st_at(const st_file *f, int i) { return i >= 0 && i < f->n ? &f->t[i] : NULL; }

const st_tensor *st_find(const st_file *f, const char *name)
{
    /* A checkpoint has a few hundred tensors and this runs once per tensor
     * at load: a linear scan costs microseconds. */
    for (int i = 0; i < f->n; i++)
        if (!strcmp(f->t[i].name, name)) return &f->t[i];
    return NULL;
}

const float *st_get_f32(const st_file *f, const char *name, int ndim, long long *shape,
                        float **owned, ierr *e)
{
    *owned = NULL;
    const st_tensor *t = st_find(f, name);
    if (!t) {
        err_set(e, "%s: no tensor '%s'", f->path, name);
        return NULL;
    }
    /* A scalar may be stored as shape [] or [1]. */
    int scalar_ok = ndim == 0 && t->nelem == 1;
    if (!scalar_ok && t->ndim != ndim) {
        err_set(e, "%s: tensor '%s' has %d dimensions, expected %d", f->path, name, t->ndim, ndim);
        return NULL;
    }
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0) shape[d] = t->shape[d];
        else if (shape[d] != t->shape[d]) {
            char got[128] = "", want[128] = "";
            for (int k = 0; k < ndim; k++) {
                size_t a = strlen(got), b = strlen(want);
                snprintf(got + a, sizeof got - a, "%s%lld", k ? "x" : "", t->shape[k]);
                snprintf(want + b, sizeof want - b, "%s%lld", k ? "x" : "", shape[k]);
            }
            err_set(e, "%s: tensor '%s' is %s, expected %s", f->path, name, got, want);
            return NULL;
        }
    }
    if (t->dtype == ST_F32) {
        if (((uintptr_t)t->data & 3) == 0) return t->data;
        float *o = xmalloc(t->nelem * sizeof *o + 1);
        memcpy(o, t->data, t->nelem * 4);
        *owned = o;
        return o;
    }
    if (t->dtype == ST_F16 || t->dtype == ST_BF16) {
        float *o = xmalloc(t->nelem * sizeof *o + 1);
        const unsigned char *p = t->data;
        for (size_t i = 0; i < t->nelem; i++) {
            uint16_t h = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
            o[i] = t->dtype == ST_F16 ? st_f16_to_f32(h) : st_bf16_to_f32(h);
        }
        *owned = o;
        return o;
    }
    err_set(e, "%s: tensor '%s' is %s (only F32, F16 and BF16 are supported)", f->path, name,
            t->dtype_name);
    return NULL;
}

const char *st_meta(const st_file *f, const char *key)
{
    for (int i = 0; f && i < f->nmeta; i++)
        if (!strcmp(f->mkey[i], key)) return f->mval[i];
    return NULL;
}

/* ---- writing ------------------------------------------------------------ */

uint16_t st_f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t exp = (x >> 23) & 255, man = x & 0x7fffffu;
    if (exp == 255) return (uint16_t)(sign | 0x7c00u | (man ? 0x200u : 0));   /* inf, nan */
    int e = (int)exp - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7c00u);
    if (e <= 0) {
        /* subnormal half (or zero): shift the full mantissa into place */
        if (e < -10) return (uint16_t)sign;
        man |= 0x800000u;
        int shift = 14 - e;
        uint32_t h = man >> shift, rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1))) h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = (uint32_t)e << 10 | man >> 13, rem = man & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) h++;   /* may carry into the exponent: right */
    return (uint16_t)(sign | h);
}

uint16_t st_f32_to_bf16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7f800000u) == 0x7f800000u && (x & 0x7fffffu)) return (uint16_t)(x >> 16 | 0x40);
    x += 0x7fffu + ((x >> 16) & 1);
    return (uint16_t)(x >> 16);
}

static const char *dtype_str(st_dtype d)
{
    return d == ST_F16 ? "F16" : d == ST_BF16 ? "BF16" : "F32";
}

int st_write(const char *path, const st_out *t, int n, const char *const *keys,
             const char *const *vals, int nmeta, ierr *e)
{
    cJSON *h = cJSON_CreateObject();
    if (nmeta > 0) {
        cJSON *m = cJSON_AddObjectToObject(h, "__metadata__");
        for (int i = 0; i < nmeta; i++) cJSON_AddStringToObject(m, keys[i], vals[i] ? vals[i] : "");
    }
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        if (t[i].dtype != ST_F32 && t[i].dtype != ST_F16 && t[i].dtype != ST_BF16) {
            err_set(e, "%s: tensor '%s': can only write F32, F16 or BF16", path, t[i].name);
            cJSON_Delete(h);
            return -1;
        }
        if (cJSON_GetObjectItemCaseSensitive(h, t[i].name)) {
            err_set(e, "%s: tensor '%s' given twice", path, t[i].name);
            cJSON_Delete(h);
            return -1;
        }
        size_t nelem = 1;
        cJSON *o = cJSON_AddObjectToObject(h, t[i].name);
        cJSON_AddStringToObject(o, "dtype", dtype_str(t[i].dtype));
        cJSON *sh = cJSON_AddArrayToObject(o, "shape");
        for (int d = 0; d < t[i].ndim; d++) {
            cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)t[i].shape[d]));
            nelem *= (size_t)t[i].shape[d];
        }
        size_t bytes = nelem * (t[i].dtype == ST_F32 ? 4 : 2);
        cJSON *of = cJSON_AddArrayToObject(o, "data_offsets");
        cJSON_AddItemToArray(of, cJSON_CreateNumber((double)off));
        cJSON_AddItemToArray(of, cJSON_CreateNumber((double)(off + bytes)));
        off += bytes;
    }
    char *js = cJSON_PrintUnformatted(h);
    cJSON_Delete(h);
    size_t hl = strlen(js), padded = (hl + 8 + 7) / 8 * 8 - 8;   /* data starts 8-aligned */

    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
    FILE *fp = fopen(tmp, "wb");
    if (!fp) {
        err_set(e, "%s: cannot create: %s", tmp, strerror(errno));
        free(js);
        return -1;
    }
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    int ok = fwrite(len8, 1, 8, fp) == 8 && fwrite(js, 1, hl, fp) == hl;
    for (size_t i = hl; ok && i < padded; i++) ok = fputc(' ', fp) != EOF;
    free(js);
    unsigned char buf[8192];
    for (int i = 0; ok && i < n; i++) {
        size_t nelem = 1;
        for (int d = 0; d < t[i].ndim; d++) nelem *= (size_t)t[i].shape[d];
        size_t k = 0;
        for (size_t j = 0; ok && j < nelem; j++) {
            float v = t[i].data[j];
            if (t[i].dtype == ST_F32) {
                uint32_t x;
                memcpy(&x, &v, 4);
                for (int b = 0; b < 4; b++) buf[k++] = (unsigned char)(x >> (8 * b));
            } else {
                uint16_t x = t[i].dtype == ST_F16 ? st_f32_to_f16(v) : st_f32_to_bf16(v);
                buf[k++] = (unsigned char)x;
                buf[k++] = (unsigned char)(x >> 8);
            }
            if (k + 4 > sizeof buf || j + 1 == nelem) {
                ok = fwrite(buf, 1, k, fp) == k;
                k = 0;
            }
        }
    }
    if (fclose(fp) != 0) ok = 0;
    if (!ok) {
        err_set(e, "%s: write error: %s", tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        err_set(e, "%s: cannot rename into place: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}
