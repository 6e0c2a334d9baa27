/* cmd_models.c — `imgdex models`.  Placeholder until its issue lands. */
#include <stdio.h>

#include "cli/cli.h"

int cmd_models(int argc, char **argv, const char *db)
{
    (void)argc; (void)argv; (void)db;
    fprintf(stderr, "imgdex: 'models' is not built yet\n");
    return 2;
}
