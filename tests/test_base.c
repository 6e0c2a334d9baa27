/* test_base.c — errors, paths and hashing in src/base. */
#include "test.h"

#include "base/base.h"

TEST(err_keeps_root_cause_and_prefixes)
{
    ierr e = {0};
    err_set(&e, "%s: truncated JPEG data", "a.jpg");
    err_set(&e, "later error");
    CHECK_STR(e.msg, "a.jpg: truncated JPEG data");
    err_prefix(&e, "indexing %s", "/photos");
    CHECK_STR(e.msg, "indexing /photos: a.jpg: truncated JPEG data");
}

TEST(sha256_known_vector)
{
    char hex[65];
    sha256_hex("abc", 3, hex);   /* FIPS 180-2 example */
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(file_sha256_matches_memory_and_names_missing_file)
{
    const char *dir = test_tmpdir("base");
    char path[600], a[65], b[65];
    snprintf(path, sizeof path, "%s/f.bin", dir);
    FILE *f = fopen(path, "wb");
    CHECK(f);
    for (int i = 0; i < 200000; i++) fputc(i * 7 & 255, f);
    fclose(f);
    ierr e = {0};
    CHECK(file_sha256(path, a, &e) == 0);
    size_t n;
    unsigned char *d = file_read_all(path, &n, &e);
    CHECK(d && n == 200000);
    sha256_hex(d, n, b);
    free(d);
    CHECK_STR(a, b);
    snprintf(path, sizeof path, "%s/missing", dir);
    CHECK(file_sha256(path, a, &e) == -1);
    CHECK(strstr(e.msg, "missing") && strstr(e.msg, "No such file"));
}

TEST(default_db_follows_env)
{
    char buf[4096];
    ierr e = {0};
    setenv("IMGDEX_DB", "/tmp/x/one.db", 1);
    CHECK(path_default_db(buf, sizeof buf, &e) == 0);
    CHECK_STR(buf, "/tmp/x/one.db");
    unsetenv("IMGDEX_DB");
    const char *dir = test_tmpdir("xdg");
    setenv("XDG_DATA_HOME", dir, 1);
    CHECK(path_default_db(buf, sizeof buf, &e) == 0);
    char want[4096];
    snprintf(want, sizeof want, "%s/imgdex/index.db", dir);
    CHECK_STR(buf, want);
}

int main(void)
{
    RUN(err_keeps_root_cause_and_prefixes);
    RUN(sha256_known_vector);
    RUN(file_sha256_matches_memory_and_names_missing_file);
    RUN(default_db_follows_env);
    return test_summary();
}
