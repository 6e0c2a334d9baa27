/* cmd_clip.c — `imgdex clip tokenize|embed`: CLIP's tokenizer and embeddings
 * for inspection and scripting.
 *
 *   imgdex clip tokenize [--vocab FILE | --model DIR] [TEXT...]
 *       one line of ids per TEXT (per stdin line when no TEXT is given)
 *   imgdex clip embed [--model DIR] [--text T]... [--image PATH]... [--json]
 *       one L2-normalised embedding per input, in the order given
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "models/text/bpe.h"
#include "models/clip/clip.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: imgdex clip tokenize [--vocab FILE | --model DIR] [TEXT...]\n"
               "       imgdex clip embed [--model DIR] [--text T]... [--image PATH]... [--json]\n\n"
               "tokenize: CLIP token ids (start 49406 ... end 49407), one line per TEXT, or per\n"
               "  line of standard input when no TEXT is given.  FILE: bpe_simple_vocab_16e6.txt.gz,\n"
               "  tokenizer.json or vocab.json (merges.txt beside it); default: the installed model's.\n"
               "embed: L2-normalised embeddings in the order of the arguments; --json prints\n"
               "  {\"model\", \"dim\", \"logit_scale\", \"embeddings\": [{\"text\"|\"image\", \"embedding\"}]}.\n"
               "  DIR: a Hugging Face CLIPModel directory; default $IMGDEX_CLIP_DIR or the first\n"
               "  CLIP model in the models directory.\n");
}

static bpe_vocab *open_vocab(const char *vocab, const char *model, ierr *e)
{
    if (vocab) return bpe_load(vocab, e);
    if (model) return bpe_load_dir(model, e);
    const char *env = getenv("IMGDEX_CLIP_DIR");
    if (env && *env) return bpe_load_dir(env, e);
    char dir[2048], path[4096];
    path_models_dir(dir, sizeof dir);
    static const char *const names[] = {"clip-vit-base-patch32", "clip-vit-base-patch16", "clip-vit-large-patch14"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s/vocab.json", dir, names[i]);
        FILE *f = fopen(path, "rb");
        if (f) {
            fclose(f);
            snprintf(path, sizeof path, "%s/%s", dir, names[i]);
            return bpe_load_dir(path, e);
        }
    }
    err_set(e, "no CLIP tokenizer installed in %s: give --vocab FILE (e.g. bpe_simple_vocab_16e6.txt.gz)", dir);
    return NULL;
}

static void print_ids(bpe_vocab *v, const char *text)
{
    int ids[CLIP_CONTEXT];
    int n = bpe_tokenize(v, text, ids, CLIP_CONTEXT);
    for (int i = 0; i < n; i++) printf(i ? " %d" : "%d", ids[i]);
    printf("\n");
}

static int tokenize(int argc, char **argv)
{
    const char *vocab = NULL, *model = NULL;
    int first = argc;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--vocab") && i + 1 < argc) vocab = argv[++i];
        else if (!strcmp(argv[i], "--model") && i + 1 < argc) model = argv[++i];
        else if (!strcmp(argv[i], "--")) { first = i + 1; break; }
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "imgdex clip tokenize: unknown option %s\n", argv[i]);
            usage(stderr);
            return 1;
        } else { first = i; break; }
    }
    ierr e = {0};
    bpe_vocab *v = open_vocab(vocab, model, &e);
    if (!v) {
        fprintf(stderr, "imgdex: %s\n", e.msg);
        return 2;
    }
    if (first < argc) {
        for (int i = first; i < argc; i++) print_ids(v, argv[i]);
    } else {
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, stdin)) >= 0) {
            while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
            print_ids(v, line);
        }
        free(line);
    }
    bpe_free(v);
    return 0;
}

static void json_string(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = utf8_seq_len(p);   /* bytes that are not UTF-8 (a file name) become U+FFFD */
        if (*p == '"' || *p == '\\') printf("\\%c", *p);
        else if (*p < 0x20) printf("\\u%04x", *p);
        else if (!n) printf("\\ufffd");
        else fwrite(p, 1, n, stdout);
        p += n ? n : 1;
    }
    putchar('"');
}

static int embed(int argc, char **argv)
{
    const char *model = NULL;
    int json = 0, n = 0;
    /* Inputs in argument order: kind 't' or 'i' and the string. */
    char *kind = xmalloc((size_t)argc);
    const char **val = xmalloc((size_t)argc * sizeof *val);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--model") && i + 1 < argc) model = argv[++i];
        else if (!strcmp(argv[i], "--text") && i + 1 < argc) kind[n] = 't', val[n++] = argv[++i];
        else if (!strcmp(argv[i], "--image") && i + 1 < argc) kind[n] = 'i', val[n++] = argv[++i];
        else if (!strcmp(argv[i], "--json")) json = 1;
        else {
            fprintf(stderr, "imgdex clip embed: unexpected argument %s\n", argv[i]);
            usage(stderr);
            free(kind);
            free(val);
            return 1;
        }
    }
    if (!n) {
        fprintf(stderr, "imgdex clip embed: nothing to embed (give --text or --image)\n");
        usage(stderr);
        free(kind);
        free(val);
        return 1;
    }
    ierr e = {0};
    clip_model *m = model ? clip_open(model, &e) : clip_open_default(&e);
    if (!m) {
        fprintf(stderr, "imgdex: %s\n", e.msg);
        free(kind);
        free(val);
        return 2;
    }
    int d = clip_dim(m), rc = 0;
    float *out = xmalloc((size_t)n * d * sizeof *out);
    for (int k = 0; k < n && !rc; k++) {
        if (kind[k] == 't') {
            if (clip_embed_text(m, val[k], out + (size_t)k * d, &e)) rc = 2;
        } else {
            img im = {0};
            /* Full-size decode: JPEG DCT scaling would change the pixels
             * CLIP's preprocessing (PIL) starts from. */
            img_load_opts opt = {0};
            if (img_load(val[k], &opt, &im, NULL, &e) || clip_embed_image(m, &im, out + (size_t)k * d, &e)) rc = 2;
            img_free(&im);
        }
    }
    if (rc) {
        fprintf(stderr, "imgdex: %s\n", e.msg);
    } else if (json) {
        printf("{\"model\": ");
        json_string(clip_name(m));
        printf(", \"dim\": %d, \"logit_scale\": %.6g, \"embeddings\": [", d, clip_logit_scale(m));
        for (int k = 0; k < n; k++) {
            printf("%s\n {\"%s\": ", k ? "," : "", kind[k] == 't' ? "text" : "image");
            json_string(val[k]);
            printf(", \"embedding\": [");
            for (int i = 0; i < d; i++) printf(i ? ", %.8g" : "%.8g", out[(size_t)k * d + i]);
            printf("]}");
        }
        printf("\n]}\n");
    } else {
        for (int k = 0; k < n; k++) {
            for (int i = 0; i < d; i++) printf(i ? " %.8g" : "%.8g", out[(size_t)k * d + i]);
            printf("\n");
        }
    }
    free(out);
    clip_close(m);
    free(kind);
    free(val);
    return rc;
}

int cmd_clip(int argc, char **argv, const char *db)
{
    (void)db;
    static const cli_sub subs[] = {{"tokenize", tokenize}, {"embed", embed}};
    return cli_dispatch("clip", argc, argv, subs, (int)(sizeof subs / sizeof *subs), usage);
}
