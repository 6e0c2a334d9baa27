/* fuzz_query.c — libFuzzer target for the query parser (and the AST's JSON):
 * any bytes must parse or fail with a message, never crash, leak or read
 * out of bounds.  Built by `make fuzz` with clang -fsanitize=fuzzer,address. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "query/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    ierr e = {0};
    query *q = query_parse(text, &e);
    if (q) {
        char *j = query_to_json(q);
        if (!j || j[0] != '{') abort();
        free(j);
        query_free(q);
    } else if (!e.msg[0]) {
        abort();   /* a failure must say why */
    }
    free(text);
    return 0;
}
