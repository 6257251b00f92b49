/* parse.h: source text to syntax tree (grammar/lexer.re, grammar/parser.y).
 *
 * The parser is pure and reentrant: all state lives in a Parser, the lexer
 * hands tokens to it through the same struct. Syntax errors are appended to
 * `errs` in diag.h's format; recovery goes on to report up to PARSE_MAXERRS
 * of them. */
#ifndef DIAL_PARSE_H
#define DIAL_PARSE_H

#include "ast.h"
#include "diag.h"
#include "sbuf.h"

#define PARSE_MAXERRS 10

typedef struct ParseResult {
    Node *program;   /* N_PROGRAM, or NULL when there were errors */
    int nerrs;
    int incomplete;  /* the input ended inside a block, bracket or string:
                        a REPL reads another line instead of reporting */
} ParseResult;

/* Nodes are allocated in `arena`; the caller frees it. */
ParseResult parse_source(Arena *arena, const Source *src, Sbuf *errs);

#endif
