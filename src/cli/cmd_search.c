/* cmd_search.c — `imgdex search`.  Placeholder until its issue lands. */
#include <stdio.h>

#include "cli/cli.h"

int cmd_search(int argc, char **argv, const char *db)
{
    (void)argc; (void)argv; (void)db;
    fprintf(stderr, "imgdex: 'search' is not built yet\n");
    return 2;
}
