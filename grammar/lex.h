/* lex.h: the state shared by the re2c lexer (lexer.re) and the Bison
 * parser (parser.y). Private to those two files and ast.c.
 *
 * One PState per parse_source call holds everything mutable, so parses in
 * several threads never meet. */
#ifndef DIAL_LEX_H
#define DIAL_LEX_H

#include "ast.h"
#include "diag.h"
#include "sbuf.h"

/* The compiler walks the tree recursively: deeper trees and bracket
 * nesting are refused, so a hostile input cannot overflow its C stack. */
#define PARSE_MAXDEPTH 1000
/* Longer names are refused: every message quoting a name, and every name
 * grad derives from one, stays short. */
#define PARSE_MAXNAME 255

typedef struct PState {
    Arena *arena;
    const Source *src;
    Sbuf *errs;

    /* lexer: cursor over src->text, start of the current token and line */
    const unsigned char *cur, *lim, *tok, *linestart;
    int line;
    int nest;                        /* brackets open now, in open[] */
    char open[PARSE_MAXDEPTH];       /* '(' '[' '{' */
    int endline, endcol;             /* just after the last token */
    const unsigned char *badend;     /* end of the last unexpected byte */
    const char *lastname;            /* text of the last name token */
    Sbuf scratch;                    /* a number's text for strtod */
    int after_block;                 /* the last token was a block's '}' */
    int pending;                     /* a token held back behind a separator */
    int pend_tok;
    Node *pend_val;
    Loc pend_loc;

    int nerrs;
    int stop;         /* fatal error or too many: lexer says end of input */
    int eof_seen;
    int open_at_eof;  /* input ended in a bracket or string, error-free */
    int eof_error;    /* the lexer already reported the end (a string) */
    Node *program;
} PState;

/* Report an error at line:col, counting it; past PARSE_MAXERRS it reports
 * `too many errors` once and stops the parse. */
void parse_error(PState *p, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The nesting error: reported once, and it stops the parse. */
void parse_toodeep(PState *p, int line, int col);
/* Append s[0..n) to b for a message: quoted, non-printable bytes as \xNN,
 * cut with `...` when long. */
void parse_quote(Sbuf *b, const char *s, size_t n);

/* ast.c keeps each node's depth (1 for a leaf, 1 + its deepest child)
 * beside the node; ast.h is a fixed interface, hence this declaration. */
int ast_depth(const Node *n);

#endif
