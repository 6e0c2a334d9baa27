/* cmd_models.c — `imgdex models SUBCOMMAND`: what models imgdex knows and
 * whether they are installed.  Each subcommand is one function in the
 * table below; adding one (e.g. `fetch`) is a function plus a line. */
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "cli/cli.h"
#include "models/fetch.h"
#include "models/models.h"

static void human_size(long long bytes, char *buf, size_t n)
{
    if (bytes >= 1000LL * 1000 * 1000) snprintf(buf, n, "%.1f GB", bytes / 1e9);
    else if (bytes >= 1000LL * 1000) snprintf(buf, n, "%.1f MB", bytes / 1e6);
    else if (bytes >= 1000) snprintf(buf, n, "%.0f kB", bytes / 1e3);
    else snprintf(buf, n, "%lld B", bytes);
}

/* models list: one line per registry entry. */
static int models_list(int argc, char **argv)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = 1;
        else {
            fprintf(stderr, "imgdex: models list: unknown option %s\n", argv[i]);
            return 1;
        }
    }
    char dir[2048];
    path_models_dir(dir, sizeof dir);
    const model_info *const *reg = models_registry();
    if (json) printf("[");
    else printf("%-24s %-16s %-9s %9s  %s\n", "NAME", "TASK", "STATUS", "SIZE", "LICENCE");
    for (int i = 0; reg[i]; i++) {
        long long bytes = 0;
        int ok = models_installed(reg[i], &bytes);
        char size[32];
        human_size(bytes, size, sizeof size);
        if (json)
            /* Registry strings are ours and contain no characters JSON
             * would need escaped. */
            printf("%s\n {\"name\":\"%s\",\"task\":\"%s\",\"installed\":%s,\"bytes\":%lld,"
                   "\"licence\":\"%s\",\"source\":\"%s\"}",
                   i ? "," : "", reg[i]->name, reg[i]->task, ok ? "true" : "false", ok ? bytes : 0,
                   reg[i]->licence, reg[i]->source);
        else
            printf("%-24s %-16s %-9s %9s  %s\n", reg[i]->name, reg[i]->task,
                   ok ? "installed" : "missing", ok ? size : "-", reg[i]->licence);
    }
    if (json) printf("\n]\n");
    else printf("\nmodels directory: %s\n", dir);
    return 0;
}

/* models fetch NAME...: the CLIP checkpoints from Hugging Face (models/fetch.c). */
static int models_fetch(int argc, char **argv)
{
    if (argc < 2 || cli_wants_help(argc, argv)) {
        fprintf(argc < 2 ? stderr : stdout,
                "usage: imgdex models fetch NAME...\n"
                "  NAME: clip-vit-base-patch32, clip-vit-base-patch16, clip-vit-large-patch14,\n"
                "  clip-vit-large-patch14-336.  Downloads config.json, vocab.json, merges.txt and\n"
                "  model.safetensors into the models directory; resumable; verified by size and,\n"
                "  for the weights, the sha256 the server publishes.  $IMGDEX_HF_ENDPOINT overrides\n"
                "  https://huggingface.co.  sam-vit-base: config.json and model.safetensors.\n");
        return argc < 2 ? 1 : 0;
    }
    for (int i = 1; i < argc; i++) {
        ierr e = {0};
        if (!fetch_repo(argv[i])) {
            fprintf(stderr, "imgdex: %s: unknown model (see imgdex models fetch --help)\n", argv[i]);
            return 1;
        }
        if (fetch_model(argv[i], 1, &e) != 0) {
            fprintf(stderr, "imgdex: models fetch %s: %s\n", argv[i], e.msg);
            return 2;
        }
        printf("%s: installed\n", argv[i]);
    }
    return 0;
}

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} subcommands[] = {
    {"list", models_list, "list [--json]    every known model: task, installed or missing, size, licence"},
    {"fetch", models_fetch, "fetch NAME...    download a CLIP or BLIP model from Hugging Face (resumable, verified)"},
};
#define NSUB (int)(sizeof subcommands / sizeof subcommands[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: imgdex models SUBCOMMAND\n\n");
    for (int i = 0; i < NSUB; i++) fprintf(f, "  %s\n", subcommands[i].help);
}

int cmd_models(int argc, char **argv, const char *db)
{
    (void)db;
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        usage(stdout);
        return 0;
    }
    if (argc < 2) {
        usage(stderr);
        return 1;
    }
    for (int i = 0; i < NSUB; i++)
        if (!strcmp(argv[1], subcommands[i].name)) return subcommands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "imgdex: models: unknown subcommand '%s'\n", argv[1]);
    usage(stderr);
    return 1;
}
