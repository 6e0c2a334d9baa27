/* fit.c — train_fit: vocabularies, both heads, and the model file. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "models/joint.h"
#include "train/internal.h"

void train_hparams_default(train_hparams *h)
{
    memset(h, 0, sizeof *h);
    h->dim = 256;
    h->hidden = 512;
    h->word_dim = 300;
    h->batch = 128;
    h->loss = TRAIN_LOSS_INFONCE;
    h->lr = 2e-3f;
    h->decay = 1e-3f;
    h->in_drop = 0.6f;
    h->hid_drop = 0.5f;
    h->word_drop = 0.1f;
    h->temp = 0.05f;
    h->learn_temp = 1;
    h->margin = 0.2f;
    h->patience = 5;
    h->word_floor = 2;
    h->tag_floor = 20;
    h->tag_hidden = 512;
    h->tag_epochs = 40;
    h->tag_lr = 5e-4f;
}

void train_report_free(train_report *r)
{
    free(r->ep);
    r->ep = NULL;
}

/* Soft tag targets (share of an image's captions using the tag) for
 * training, binary ones (some caption uses it) for dev. */
static void tag_targets(const lemmas *l, const train_data *d, const vocab *tags, float *soft, uint8_t *hard)
{
    int T = tags->n;
    int *ncap = xcalloc((size_t)d->n + 1, sizeof *ncap);
    uint8_t *seen = xcalloc((size_t)T + 1, 1);
    for (int c = 0; c < d->ncap; c++) ncap[d->cap_image[c]]++;
    for (int c = 0; c < d->ncap; c++) {
        int im = d->cap_image[c];
        memset(seen, 0, (size_t)T);
        for (int k = l->off[c]; k < l->off[c + 1]; k++) {
            int t = vocab_find(tags, l->lem[k]);
            if (t < 0 || seen[t]) continue;
            seen[t] = 1;
            if (soft) soft[(size_t)im * T + t] += 1.0f / ncap[im];
            if (hard) hard[(size_t)im * T + t] = 1;
        }
    }
    free(ncap);
    free(seen);
}

static const char *base_name(const char *p)
{
    const char *s = p ? strrchr(p, '/') : NULL;
    return s ? s + 1 : p ? p : "";
}

static int contains_ci(const char *h, const char *n)
{
    for (; h && *h; h++) {
        size_t i = 0;
        while (n[i] && h[i] && tolower((unsigned char)h[i]) == n[i]) i++;
        if (!n[i]) return 1;
    }
    return 0;
}

static int write_model(const embed_result *er, const tagger_result *tr, const vocab *words, const vocab *tags,
                       const float *mean, const float *scale, int F, const char *kind, const train_opts *o,
                       const train_report *r, ierr *e)
{
    const embed_model *m = &er->m;
    joint_spec s;
    memset(&s, 0, sizeof s);
    s.name = "flickr8k-joint";
    if (!contains_ci(o->captions, "flickr8k")) s.name = "joint";
    s.feature_kind = kind;
    s.feature_dim = F;
    s.dim = m->D;
    s.feat_mean = mean;
    s.feat_scale = scale;
    s.image_layers = m->img.layers;
    for (int k = 0; k <= m->img.layers; k++) s.image_sizes[k] = m->img.sizes[k];
    for (int k = 0; k < m->img.layers; k++) {
        s.image_w[k] = m->img.l[k].W.w;
        s.image_b[k] = m->img.l[k].b.w;
    }
    s.nwords = words->n;
    s.word_dim = m->E;
    s.words = (const char *const *)words->w;
    s.word_vecs = m->words.w;
    s.text_w = m->proj.W.w;
    s.text_b = m->proj.b.w;
    if (tr) {
        s.ntags = tags->n;
        s.tags = (const char *const *)tags->w;
        s.tagger_layers = tr->net.layers;
        for (int k = 0; k <= tr->net.layers; k++) s.tagger_sizes[k] = tr->net.sizes[k];
        for (int k = 0; k < tr->net.layers; k++) {
            s.tagger_w[k] = tr->net.l[k].W.w;
            s.tagger_b[k] = tr->net.l[k].b.w;
        }
    }
    char trained_on[1024], split[1024], epochs[128], seed[32], dev[512], loss[256], map[64], secs[64],
        created[64], licence[512], hp[512];
    if (o->trained_on) snprintf(trained_on, sizeof trained_on, "%s", o->trained_on);
    else if (contains_ci(o->captions, "flickr8k"))
        snprintf(trained_on, sizeof trained_on, "Flickr8k (%s), train split", base_name(o->captions));
    else snprintf(trained_on, sizeof trained_on, "%s, train split", base_name(o->captions));
    snprintf(split, sizeof split, "train %s (%d images, %d captions); dev %s (%d images, %d captions)",
             base_name(o->split), r->train_images, r->train_captions, base_name(o->dev), r->dev_images,
             r->dev_captions);
    snprintf(epochs, sizeof epochs, "%d (best on dev, of %d run)", r->best_epoch, r->epochs_run);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed);
    snprintf(dev, sizeof dev, "text->image over %d dev images, %d captions: R@1 %.4f R@5 %.4f R@10 %.4f median %g",
             r->dev_images, r->dev_captions, r->best.r1, r->best.r5, r->best.r10, r->best.median_rank);
    if (o->hp.loss == TRAIN_LOSS_INFONCE)
        snprintf(loss, sizeof loss, "symmetric InfoNCE, temperature %.4f (%s)", expf(-m->logscale.w[0]),
                 o->hp.learn_temp ? "learned" : "fixed");
    else
        snprintf(loss, sizeof loss, "hinge on the hardest negatives (VSE++), margin %.2f", o->hp.margin);
    snprintf(map, sizeof map, "%.4f", r->tagger_map);
    snprintf(secs, sizeof secs, "%.0f wall, %.0f CPU", r->seconds_embed + r->seconds_tagger, r->cpu_seconds);
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    if (contains_ci(o->captions, "flickr8k"))
        snprintf(licence, sizeof licence, "trained on Flickr8k: research use (the Flickr8k images and captions "
                 "are for research use only)");
    else
        snprintf(licence, sizeof licence, "trained on %s: the licence of that data applies", base_name(o->captions));
    const train_hparams *h = &o->hp;
    snprintf(hp, sizeof hp,
             "dim %d hidden %d word_dim %d batch %d lr %g decay %g in_drop %g hid_drop %g word_drop %g "
             "word_floor %d tag_floor %d tag_hidden %d tag_lr %g patience %d gloss_init %d",
             h->dim, h->hidden, h->word_dim, h->batch, h->lr, h->decay, h->in_drop, h->hid_drop, h->word_drop,
             h->word_floor, h->tag_floor, h->tag_hidden, h->tag_lr, h->patience, h->gloss_init);
    const char *keys[] = {"trained_on", "split", "epochs", "seed", "dev", "loss", "tagger_dev_map",
                          "train_seconds", "created", "licence", "hparams", "command"};
    const char *vals[] = {trained_on, split, epochs, seed, dev, loss, map, secs, created, licence, hp,
                          o->command ? o->command : ""};
    s.meta_keys = keys;
    s.meta_vals = vals;
    s.nmeta = (int)(sizeof keys / sizeof keys[0]);
    return joint_save(o->out, &s, e);
}

static double cpu_now(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec * 1e-6;
}

int train_fit(const train_data *tr, const train_data *dev, const char *feature_kind, const train_opts *o,
              train_report *r, ierr *e)
{
    double t0 = now_seconds(), c0 = cpu_now();
    if (tr->n < 2 || dev->n < 1 || tr->dim != dev->dim || tr->dim < 1) {
        err_set(e, "training needs at least 2 train and 1 dev images of the same feature length "
                "(have %d and %d images, %d and %d floats)", tr->n, dev->n, tr->dim, dev->dim);
        return -1;
    }
    int F = tr->dim;
    r->train_images = tr->n;
    r->train_captions = tr->ncap;
    r->dev_images = dev->n;
    r->dev_captions = dev->ncap;
    r->feature_dim = F;
    r->chance_r10 = dev->n ? (10.0 < dev->n ? 10.0 / dev->n : 1.0) : 0;

    lemmas ltr, ldev;
    lemmas_build(tr, &ltr);
    lemmas_build(dev, &ldev);
    vocab words, tags;
    vocab_build(&ltr, tr, o->hp.word_floor, 0, 0, &words);
    vocab_build(&ltr, tr, o->hp.tag_floor, 1, 1, &tags);
    r->nwords = words.n;
    r->ntags = o->no_tagger ? 0 : tags.n;
    int rc = -1;
    float *mean = xmalloc((size_t)F * sizeof *mean), *scale = xmalloc((size_t)F * sizeof *scale);
    float *Xtr = NULL, *Xdev = NULL, *Ytr = NULL;
    uint8_t *Ydev = NULL;
    caps ctr, cdev;
    memset(&ctr, 0, sizeof ctr);
    memset(&cdev, 0, sizeof cdev);
    embed_result er;
    tagger_result tg;
    memset(&er, 0, sizeof er);
    memset(&tg, 0, sizeof tg);
    int have_tagger = 0;
    if (words.n < 1) {
        err_set(e, "no caption word is in %d or more training captions: nothing to learn", o->hp.word_floor);
        goto out;
    }
    if (o->progress)
        fprintf(stderr, "train: %d images (%d captions), dev %d images (%d captions), %d features, %d words, %d tags\n",
                tr->n, tr->ncap, dev->n, dev->ncap, F, words.n, r->ntags);
    feat_stats(tr, mean, scale);
    Xtr = feat_standardise(tr, mean, scale);
    Xdev = feat_standardise(dev, mean, scale);
    caps_encode(&ltr, tr, &words, &ctr);
    caps_encode(&ldev, dev, &words, &cdev);
    r->dev_unknown = cdev.unknown;

    double t1 = now_seconds();
    float *winit = NULL;
    if (o->hp.gloss_init) {
        winit = xcalloc((size_t)words.n * o->hp.word_dim + 1, sizeof *winit);
        /* the random start's length: 0.1 per dimension */
        int ng = gloss_vectors(&words, o->hp.word_dim, o->seed, 0.1f * sqrtf((float)o->hp.word_dim), winit);
        if (o->progress) fprintf(stderr, "train: %d of %d words start from WordNet glosses\n", ng, words.n);
    }
    embed_train(Xtr, &ctr, tr->n, Xdev, &cdev, dev->n, F, words.n, winit, o, &er);
    free(winit);
    r->seconds_embed = now_seconds() - t1;
    r->epochs_run = er.epochs_run;
    r->best_epoch = er.best_epoch;
    r->best = er.best;
    r->ep = er.ep;
    er.ep = NULL;

    if (!o->no_tagger && tags.n > 0) {
        double t2 = now_seconds();
        Ytr = xcalloc((size_t)tr->n * tags.n + 1, sizeof *Ytr);
        Ydev = xcalloc((size_t)dev->n * tags.n + 1, 1);
        tag_targets(&ltr, tr, &tags, Ytr, NULL);
        tag_targets(&ldev, dev, &tags, NULL, Ydev);
        tagger_train(Xtr, tr->n, Ytr, Xdev, dev->n, Ydev, F, tags.n, o, &tg);
        have_tagger = 1;
        r->tagger_map = tg.map;
        r->tagger_epochs = tg.epochs;
        r->seconds_tagger = now_seconds() - t2;
    } else {
        r->ntags = 0;
    }
    r->seconds = now_seconds() - t0;
    r->cpu_seconds = cpu_now() - c0;
    if (write_model(&er, have_tagger ? &tg : NULL, &words, &tags, mean, scale, F, feature_kind, o, r, e) != 0)
        goto out;
    struct stat st;
    if (stat(o->out, &st) == 0) r->model_bytes = st.st_size;
    rc = 0;
out:
    embed_free(&er.m);
    free(er.ep);
    if (have_tagger) mlp_free(&tg.net);
    free(Ytr);
    free(Ydev);
    free(Xtr);
    free(Xdev);
    free(mean);
    free(scale);
    caps_free(&ctr);
    caps_free(&cdev);
    vocab_free(&words);
    vocab_free(&tags);
    lemmas_free(&ltr);
    lemmas_free(&ldev);
    return rc;
}
