/* parse.c: the lexer and the parser on raw bytes.
 *
 * Checks that a failed parse reports at least one error in dial's format,
 * and that a parse reporting errors gives no tree. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Source *src = src_new("fuzz", (const char *)data, size);
    Arena *arena = arena_new();
    fuzz_assert(src && arena, "out of memory");
    Sbuf errs;
    sb_init(&errs);
    ParseResult pr = parse_source(arena, src, &errs);
    fuzz_assert(!pr.program == (pr.nerrs > 0), "a tree together with errors");
    fuzz_assert(pr.program || strncmp(sb_str(&errs), "fuzz:", 5) == 0,
                "a failed parse without a report");
    sb_free(&errs);
    arena_free(arena);
    src_free(src);
    return 0;
}
