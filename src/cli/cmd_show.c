/* cmd_show.c — `imgdex show PATH_OR_ID [--json]`: one image's stored description. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "index/catalogue.h"
#include "image/fingerprint.h"
#include "index/dups.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: imgdex [--db PATH] show PATH_OR_ID [--json] [--masks]\n\n"
        "Everything the database knows about one image: file facts, the caption,\n"
        "every region (objects, faces, text, SAM segments) with its box, size, position and\n"
        "colours, the relations between them and the words read in the image.\n\n"
        "options:\n"
        "  --json      the description as JSON (schema in docs/catalogue.md)\n"
        "  --masks     draw each region's mask (SAM segments, people) under it\n");
}

static void print_text(const cat_image *im, const description *d, int masks)
{
    printf("%s\n", im->path);
    printf("  id          %lld\n", (long long)im->id);
    printf("  file        %lld bytes, %dx%d %s, sha256 %s\n", im->size, im->width, im->height,
           im->format[0] ? im->format : "?", im->hash);
    if (im->taken_at[0]) printf("  taken       %s\n", im->taken_at);
    if (im->camera[0]) printf("  camera      %s\n", im->camera);
    if (im->has_gps) printf("  gps         %.6f, %.6f\n", im->lat, im->lon);
    printf("  indexed     %s UTC by %s\n", im->indexed_at, im->describer);
    if (d->caption[0]) printf("caption       %s\n", d->caption);
    if (d->clip_caption[0]) printf("clip caption  %s\n", d->clip_caption);
    if (d->scene[0]) printf("scene         %s\n", d->scene);
    printf("brightness    %.2f\n", (double)d->brightness);
    if (d->nregions) printf("regions\n");
    for (int i = 0; i < d->nregions; i++) {
        const region *r = &d->regions[i];
        printf("  %3d %-6s %-16s %.2f  box %.2f %.2f %.2f %.2f  %-6s %-14s", i, region_kind_name(r->kind),
               r->label, (double)r->score, (double)r->x0, (double)r->y0, (double)r->x1, (double)r->y1,
               region_size_name(r->size), r->position);
        for (int k = 0; k < r->ncolours; k++)
            printf(" %s:%.0f%%", r->colours[k].name, 100.0 * r->colours[k].share);
        if (r->attrs[0]) printf("  %s", r->attrs);
        if (r->mask_len) printf("  [mask]");
        printf("\n");
        if (r->caption[0]) printf("      \"%s\"\n", r->caption);
        if (masks && r->mask_len) {
            /* the mask drawn over its box, indented under the region */
            char *t = region_mask_text(r, d->width, d->height, 48);
            for (char *line = t, *nl; *line; line = nl + 1) {
                nl = strchr(line, '\n');
                printf("        %.*s\n", (int)(nl - line), line);
            }
            free(t);
        }
    }
    if (d->nrelations) printf("relations\n");
    for (int i = 0; i < d->nrelations; i++) {
        const relation *r = &d->relations[i];
        const char *a = r->a >= 0 && r->a < d->nregions ? d->regions[r->a].label : "?";
        const char *b = r->b >= 0 && r->b < d->nregions ? d->regions[r->b].label : "?";
        printf("  %s#%d %s %s#%d  %.2f\n", a, r->a, r->rel, b, r->b, (double)r->weight);
    }
    if (d->nwords) {
        printf("text         ");
        for (int i = 0; i < d->nwords; i++) printf(" \"%s\"", d->words[i].text);
        printf("\n");
    }
    for (int pass = 0; pass < 2; pass++) {
        /* the tagger's words, then CLIP's labels of the whole image */
        int any = 0;
        for (int i = 0; i < d->ntags; i++) {
            const desc_tag *t = &d->tags[i];
            if (t->region != 0 || (pass == 0) != !strcmp(t->group, "tagger")) continue;
            printf("%s%s %.2f", any ? ", " : pass == 0 ? "tags          " : "clip tags     ", t->label, (double)t->score);
            any = 1;
        }
        if (any) printf("\n");
    }
    if (d->embedding) printf("embedding     %s, %d dimensions\n", d->emb_model, d->emb_dim);
    if (d->joint) printf("joint         %s, %d dimensions\n", d->joint_model, d->joint_dim);
    if (d->features) printf("features      %s, %d dimensions\n", d->features_kind, d->nfeatures);
    if (d->stages[0]) printf("stages        %s\n", d->stages);
}

/* The other members of the image's duplicate group, nearest first; each
 * compared with this image. */
static void print_dups_text(const cat_image *im, const dup_set *ds)
{
    for (int k = 0; ds->ngroups && k < ds->g[0].n; k++) {
        const dup_member *m = &ds->g[0].m[k];
        if (m->id == im->id) continue;
        /* m's relation to this image: FP_B_INSIDE_A = m is a crop of it. */
        const char *what = m->near ? "near-duplicate"
                           : m->how == FP_B_INSIDE_A ? "a crop of this one"
                           : m->how == FP_A_INSIDE_B ? "this one is a crop of it"
                                                     : "same picture";
        printf("duplicate     #%lld %s  (%s, fingerprint %d/%d bits%s)\n", (long long)m->id, m->path, what,
               m->dist, FP_BITS, k == 0 ? "; suggested keeper" : "");
    }
}

static void print_json(const cat_image *im, const description *d, const dup_set *dset)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)im->id);
    cJSON_AddStringToObject(o, "path", im->path);
    cJSON_AddNumberToObject(o, "size", (double)im->size);
    char ns[32];
    snprintf(ns, sizeof ns, "%lld", im->mtime_ns);   /* exact: a double would round it */
    cJSON_AddRawToObject(o, "mtime_ns", ns);
    cJSON_AddStringToObject(o, "sha256", im->hash);
    cJSON_AddStringToObject(o, "format", im->format);
    cJSON_AddNumberToObject(o, "width", im->width);
    cJSON_AddNumberToObject(o, "height", im->height);
    cJSON_AddItemToObject(o, "taken_at", im->taken_at[0] ? cJSON_CreateString(im->taken_at) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "camera", im->camera[0] ? cJSON_CreateString(im->camera) : cJSON_CreateNull());
    if (im->has_gps) {
        cJSON *g = cJSON_AddObjectToObject(o, "gps");
        cJSON_AddNumberToObject(g, "lat", im->lat);
        cJSON_AddNumberToObject(g, "lon", im->lon);
    } else {
        cJSON_AddNullToObject(o, "gps");
    }
    cJSON_AddStringToObject(o, "indexed_at", im->indexed_at);
    cJSON_AddStringToObject(o, "describer", im->describer);
    char *dj = description_to_json(d);
    cJSON *desc = dj ? cJSON_Parse(dj) : NULL;
    free(dj);
    cJSON_AddItemToObject(o, "description", desc ? desc : cJSON_CreateNull());
    /* Its group of duplicates (schema of `imgdex duplicates --json`). */
    char *dj2 = dups_to_json(dset);
    cJSON *dups = dj2 ? cJSON_Parse(dj2) : NULL;
    free(dj2);
    cJSON *groups = dups ? cJSON_DetachItemFromObject(dups, "groups") : NULL;
    cJSON *g0 = groups ? cJSON_DetachItemFromArray(groups, 0) : NULL;
    cJSON_AddItemToObject(o, "duplicates", g0 ? g0 : cJSON_CreateNull());
    cJSON_Delete(groups);
    cJSON_Delete(dups);
    char *s = json_utf8_fix(cJSON_PrintUnformatted(o));   /* a path may be any bytes */
    printf("%s\n", s);
    free(s);
    cJSON_Delete(o);
}

int cmd_show(int argc, char **argv, const char *db)
{
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    int json = 0, masks = 0;
    const char *what = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (!strcmp(argv[i], "--masks")) {
            masks = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "imgdex show: unknown option %s\n", argv[i]);
            usage(stderr);
            return 1;
        } else if (!what) {
            what = argv[i];
        } else {
            fprintf(stderr, "imgdex show: one image at a time\n");
            usage(stderr);
            return 1;
        }
    }
    if (!what) {
        fprintf(stderr, "imgdex show: which image?\n");
        usage(stderr);
        return 1;
    }
    catalogue *c = NULL;
    int64_t id = cli_find_image("imgdex", db, what, &c);
    if (!id) return 2;
    ierr e = {0};
    cat_image im;
    description d;
    if (cat_image_info(c, id, &im, &e) != 0 || cat_get(c, id, &d, &e) != 0) {
        fprintf(stderr, "imgdex: %s\n", e.msg);
        cat_close(c);
        return 2;
    }
    dup_set ds;
    if (dups_of(c, id, 0, &ds, &e) != 0) memset(&ds, 0, sizeof ds);
    cat_close(c);
    if (json) {
        print_json(&im, &d, &ds);
    } else {
        print_text(&im, &d, masks);
        print_dups_text(&im, &ds);
    }
    dup_set_free(&ds);
    description_free(&d);
    return 0;
}
