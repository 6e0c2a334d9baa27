/* walk.h — internal to src/index: finding the image files under a tree. */
#ifndef IMGDEX_WALK_H
#define IMGDEX_WALK_H

#include "base/base.h"

typedef struct walk_file {
    char *path;              /* absolute, canonical directory part */
    long long size, mtime_ns;
    unsigned long long dev, ino;
    int via_link;            /* reached through a symbolic link (file or directory) */
} walk_file;

typedef struct walk_result {
    walk_file *files; int n, cap;
    /* Directories that could not be read: what the catalogue holds under
     * them must not be taken for deleted. */
    char **unreadable; int nunreadable;
    char **roots; int nroots;          /* the canonical roots walked */
} walk_result;

/* Walk each root (a directory, or a single file), collecting candidate
 * image files: a known image extension, or JPEG/PNG/GIF/WebP magic bytes
 * for files without one.  Hidden files and directories (".name") are
 * skipped; symbolic links are followed, but each directory is entered
 * once (by device and inode), so link loops end.  A file reached both
 * through a link and by a path without one is listed once, under the
 * latter (one file, one catalogue row).  Files come back sorted
 * by path (strcmp, the same order as SQLite's BINARY collation).
 * Fails only when a root itself does not exist; other problems are
 * warnings. */
int walk_roots(char *const *roots, int nroots, walk_result *out, ierr *e);
void walk_free(walk_result *w);

/* 1 when path lies under root (root itself included). */
int path_under(const char *path, const char *root);

#endif
