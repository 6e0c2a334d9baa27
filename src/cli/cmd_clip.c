/* cmd_clip.c — `imgdex clip`.  Placeholder until its issue lands. */
#include <stdio.h>

#include "cli/cli.h"

int cmd_clip(int argc, char **argv, const char *db)
{
    (void)argc; (void)argv; (void)db;
    fprintf(stderr, "imgdex: 'clip' is not built yet\n");
    return 2;
}
