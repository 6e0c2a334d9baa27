/* cmd_train.c — `imgdex train`: train imgdex's own tagger and joint
 * embedding on a captioned image set (src/train/train.h). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "train/train.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: imgdex train --images DIR --captions TSV --split TRAIN --dev DEV --out FILE [options]\n\n"
        "Index the images of both splits (or reuse an up-to-date database: the catalogue\n"
        "caches their feature vectors), build the vocabulary from the TRAIN captions and\n"
        "train imgdex's tagger and image-text joint embedding on the stored features;\n"
        "the DEV split only chooses the epoch (early stopping on its text->image recall).\n"
        "Writes one model file (safetensors, docs/models.md); point imgdex at it with\n"
        "$IMGDEX_JOINT.  TSV lines are filename<TAB>caption; split files list filenames.\n\n"
        "options:\n"
        "  --db PATH          database to index into (default: one of train's own, next to\n"
        "                     the main database, named after the image folder)\n"
        "  --epochs N         at most N epochs of the embedding (default 20; the learning\n"
        "                     rate follows a cosine over them)\n"
        "  --seed N           random seed (default 1); same seed and threads, same model\n"
        "  --jobs N           indexing threads (default: cores)\n"
        "  --no-tagger        the embedding only\n"
        "  --no-index         use the database as it is (images not in it are left out)\n"
        "  --no-progress      no per-epoch lines on stderr\n"
        "  --json             summary as JSON on stdout\n"
        "model and training (defaults in docs/models.md):\n"
        "  --dim N --hidden N --word-dim N --batch N --lr X --decay X --patience N\n"
        "  --loss infonce|hinge --temp X --fixed-temp --margin X\n"
        "  --in-drop X --hid-drop X --word-drop X --word-floor N --tag-floor N\n"
        "  --tag-hidden N --tag-epochs N --tag-lr X\n"
        "  --gloss-init       start word vectors from WordNet glosses\n");
}

static void own_db(const char *main_db, const char *images, char *out, size_t n)
{
    char rimg[PATH_MAX], dir[PATH_MAX], hex[65];
    if (!realpath(images, rimg)) snprintf(rimg, sizeof rimg, "%s", images);
    sha256_hex(rimg, strlen(rimg), hex);
    snprintf(dir, sizeof dir, "%s", main_db);
    snprintf(out, n, "%s/train-%.12s.db", dirname(dir), hex);
}

typedef struct numopt { const char *name; int is_int; void *p; double lo, hi; } numopt;

int cmd_train(int argc, char **argv, const char *db)
{
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    train_opts o;
    memset(&o, 0, sizeof o);
    index_opts_default(&o.index);
    train_hparams_default(&o.hp);
    o.seed = 1;
    o.progress = 1;
    int json = 0, seed = 1;
    const char *mydb = NULL;
    numopt nums[] = {
        {"--epochs", 1, &o.epochs, 1, 100000}, {"--seed", 1, &seed, 0, 2147483647},
        {"--jobs", 1, &o.index.jobs, 1, 1024}, {"--dim", 1, &o.hp.dim, 2, 4096},
        {"--hidden", 1, &o.hp.hidden, 0, 16384}, {"--word-dim", 1, &o.hp.word_dim, 2, 4096},
        {"--batch", 1, &o.hp.batch, 2, 65536}, {"--patience", 1, &o.hp.patience, 0, 100000},
        {"--word-floor", 1, &o.hp.word_floor, 1, 1000000}, {"--tag-floor", 1, &o.hp.tag_floor, 1, 1000000},
        {"--tag-hidden", 1, &o.hp.tag_hidden, 0, 16384}, {"--tag-epochs", 1, &o.hp.tag_epochs, 1, 100000},
        {"--lr", 0, &o.hp.lr, 1e-7, 1}, {"--decay", 0, &o.hp.decay, 0, 1}, {"--temp", 0, &o.hp.temp, 1e-3, 10},
        {"--margin", 0, &o.hp.margin, 0, 2}, {"--in-drop", 0, &o.hp.in_drop, 0, 0.95},
        {"--hid-drop", 0, &o.hp.hid_drop, 0, 0.95}, {"--word-drop", 0, &o.hp.word_drop, 0, 0.95},
        {"--tag-lr", 0, &o.hp.tag_lr, 1e-7, 1},
    };
    int nnums = (int)(sizeof nums / sizeof nums[0]);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1, done = 0;
        for (int k = 0; k < nnums && !done; k++) {
            if (strcmp(a, nums[k].name)) continue;
            done = 1;
            char *end;
            errno = 0;
            double x = v ? strtod(v, &end) : 0;
            if (!v || errno || *end || end == v || x < nums[k].lo || x > nums[k].hi ||
                (nums[k].is_int && x != (double)(long long)x)) {
                fprintf(stderr, "imgdex train: %s needs a %s in %g..%g\n", a, nums[k].is_int ? "whole number" : "number",
                        nums[k].lo, nums[k].hi);
                return 1;
            }
            if (nums[k].is_int) *(int *)nums[k].p = (int)x;
            else *(float *)nums[k].p = (float)x;
        }
        if (done) {
            i++;
            continue;
        }
        if (!strcmp(a, "--images")) o.images_dir = v;
        else if (!strcmp(a, "--captions")) o.captions = v;
        else if (!strcmp(a, "--split")) o.split = v;
        else if (!strcmp(a, "--dev")) o.dev = v;
        else if (!strcmp(a, "--out")) o.out = v;
        else if (!strcmp(a, "--db")) mydb = v;
        else if (!strcmp(a, "--loss")) {
            if (v && !strcmp(v, "infonce")) o.hp.loss = TRAIN_LOSS_INFONCE;
            else if (v && !strcmp(v, "hinge")) o.hp.loss = TRAIN_LOSS_HINGE;
            else {
                fprintf(stderr, "imgdex train: --loss is infonce or hinge\n");
                return 1;
            }
        } else {
            takes = 0;
            if (!strcmp(a, "--json")) json = 1;
            else if (!strcmp(a, "--no-progress")) o.progress = 0, o.index.progress = 0;
            else if (!strcmp(a, "--no-tagger")) o.no_tagger = 1;
            else if (!strcmp(a, "--no-index")) o.no_index = 1;
            else if (!strcmp(a, "--fixed-temp")) o.hp.learn_temp = 0;
            else if (!strcmp(a, "--gloss-init")) o.hp.gloss_init = 1;
            else {
                fprintf(stderr, "imgdex train: unknown argument %s\n", a);
                usage(stderr);
                return 1;
            }
        }
        if (takes) {
            if (!v) {
                fprintf(stderr, "imgdex train: %s needs a value\n", a);
                return 1;
            }
            i++;
        }
    }
    if (!o.images_dir || !o.captions || !o.split || !o.dev || !o.out) {
        fprintf(stderr, "imgdex train: --images, --captions, --split, --dev and --out are required\n");
        usage(stderr);
        return 1;
    }
    o.seed = (uint64_t)seed;
    char dbbuf[PATH_MAX + 64];
    if (mydb) o.db = mydb;
    else {
        own_db(db, o.images_dir, dbbuf, sizeof dbbuf);
        o.db = dbbuf;
    }
    /* the command line, recorded in the model */
    char cmdline[4096] = "imgdex train";
    for (int i = 1; i < argc; i++) {
        size_t k = strlen(cmdline);
        snprintf(cmdline + k, sizeof cmdline - k, " %s", argv[i]);
    }
    o.command = cmdline;

    train_report r;
    ierr e = {0};
    if (train_run(&o, &r, &e) != 0) {
        fprintf(stderr, "imgdex: %s\n", e.msg);
        train_report_free(&r);
        return 2;
    }
    if (r.missing) log_warn("%d images of the splits are not in %s", r.missing, o.images_dir);
    if (r.no_features) log_warn("%d images have no feature vector and were left out", r.no_features);
    if (json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "out", o.out);
        cJSON_AddNumberToObject(j, "model_bytes", (double)r.model_bytes);
        cJSON_AddNumberToObject(j, "train_images", r.train_images);
        cJSON_AddNumberToObject(j, "train_captions", r.train_captions);
        cJSON_AddNumberToObject(j, "dev_images", r.dev_images);
        cJSON_AddNumberToObject(j, "dev_captions", r.dev_captions);
        cJSON_AddNumberToObject(j, "missing_images", r.missing);
        cJSON_AddNumberToObject(j, "images_without_features", r.no_features);
        cJSON_AddNumberToObject(j, "described", r.described);
        cJSON_AddNumberToObject(j, "feature_dim", r.feature_dim);
        cJSON_AddNumberToObject(j, "words", r.nwords);
        cJSON_AddNumberToObject(j, "tags", r.ntags);
        cJSON_AddNumberToObject(j, "dev_unknown_lemmas", r.dev_unknown);
        cJSON_AddNumberToObject(j, "epochs_run", r.epochs_run);
        cJSON_AddNumberToObject(j, "best_epoch", r.best_epoch);
        cJSON *d = cJSON_AddObjectToObject(j, "dev");
        cJSON_AddNumberToObject(d, "recall@1", r.best.r1);
        cJSON_AddNumberToObject(d, "recall@5", r.best.r5);
        cJSON_AddNumberToObject(d, "recall@10", r.best.r10);
        cJSON_AddNumberToObject(d, "median_rank", r.best.median_rank);
        cJSON_AddNumberToObject(d, "mean_rank", r.best.mean_rank);
        cJSON_AddNumberToObject(d, "mrr", r.best.mrr);
        cJSON_AddNumberToObject(d, "chance_recall@10", r.chance_r10);
        cJSON_AddNumberToObject(d, "tagger_map", r.tagger_map);
        cJSON *ep = cJSON_AddArrayToObject(j, "epochs");
        for (int i = 0; i < r.epochs_run; i++) {
            cJSON *x = cJSON_CreateObject();
            cJSON_AddNumberToObject(x, "loss", r.ep[i].loss);
            cJSON_AddNumberToObject(x, "recall@1", r.ep[i].dev.r1);
            cJSON_AddNumberToObject(x, "recall@5", r.ep[i].dev.r5);
            cJSON_AddNumberToObject(x, "recall@10", r.ep[i].dev.r10);
            cJSON_AddNumberToObject(x, "median_rank", r.ep[i].dev.median_rank);
            cJSON_AddNumberToObject(x, "seconds", r.ep[i].seconds);
            cJSON_AddItemToArray(ep, x);
        }
        cJSON_AddNumberToObject(j, "tagger_epochs", r.tagger_epochs);
        cJSON *s = cJSON_AddObjectToObject(j, "seconds");
        cJSON_AddNumberToObject(s, "index", r.seconds_index);
        cJSON_AddNumberToObject(s, "embedding", r.seconds_embed);
        cJSON_AddNumberToObject(s, "tagger", r.seconds_tagger);
        cJSON_AddNumberToObject(s, "total", r.seconds);
        cJSON_AddNumberToObject(s, "training_cpu", r.cpu_seconds);
        cJSON_AddStringToObject(j, "db", o.db);
        char *str = cJSON_PrintUnformatted(j);
        printf("%s\n", str);
        free(str);
        cJSON_Delete(j);
    } else {
        printf("model         %s (%.1f MB)\n", o.out, r.model_bytes / 1e6);
        printf("data          %d train images (%d captions), %d dev images (%d captions), %d features\n",
               r.train_images, r.train_captions, r.dev_images, r.dev_captions, r.feature_dim);
        printf("vocabulary    %d words, %d tags\n", r.nwords, r.ntags);
        printf("embedding     epoch %d of %d: dev R@1 %.4f R@5 %.4f R@10 %.4f median %g (chance R@10 %.4f)\n",
               r.best_epoch, r.epochs_run, r.best.r1, r.best.r5, r.best.r10, r.best.median_rank, r.chance_r10);
        if (r.ntags) printf("tagger        dev mAP %.4f (%d epochs)\n", r.tagger_map, r.tagger_epochs);
        printf("time          index %.1f s, embedding %.1f s, tagger %.1f s, total %.1f s (training CPU %.0f s)\n",
               r.seconds_index, r.seconds_embed, r.seconds_tagger, r.seconds, r.cpu_seconds);
    }
    train_report_free(&r);
    return 0;
}
