/* lexer.re: dial's tokens (re2c 3.0), handed to the Bison parser through
 * dial_yylex. The lexer owns the newline rules: a newline ends a statement
 * except inside () and [], and a newline before `else` is dropped so that
 * `}` and `else` may sit on different lines. It also tracks bracket nesting
 * (refusing it past PARSE_MAXDEPTH) and notes when the input ends inside a
 * bracket or string, which the REPL reads as "incomplete".
 *
 * The text may contain NUL bytes, so the end is found by re2c's sentinel
 * with bounds checks (re2c:eof), not by the NUL alone. Lexical errors are
 * reported and lexing goes on: a bad number or string still yields a token,
 * so the parser does not add a second error for it, and an unexpected
 * character sends the parser into recovery without one. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lex.h"
#include "parser.h"

static int isident(unsigned c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9') || c == '_';
}

static int column(const PState *p, const unsigned char *at)
{
    return (int)(at - p->linestart) + 1;
}

/* The token [p->tok, p->cur), which lies on the current line. */
static int token(PState *p, Loc *lloc, int kind)
{
    lloc->first_line = lloc->last_line = p->line;
    lloc->first_column = column(p, p->tok);
    lloc->last_column = column(p, p->cur) - 1;
    p->endline = p->line;
    p->endcol = column(p, p->cur);
    return kind;
}

/* "what 'text'" at `at`, text shown as parse_quote does. */
static void lex_error(PState *p, const unsigned char *at, const char *what,
                      const unsigned char *s, size_t n)
{
    Sbuf m;
    sb_init(&m);
    parse_quote(&m, (const char *)s, n);
    parse_error(p, p->line, column(p, at), "%s %s", what, sb_str(&m));
    sb_free(&m);
}

static void out_of_memory(PState *p, const Loc *at)
{
    parse_error(p, at->first_line, at->first_column, "out of memory");
    p->stop = 1;
}

/* A leaf node for the token just read; NULL (and the parse stops) when
 * memory runs out. */
static Node *leaf(PState *p, int kind, const Loc *at)
{
    Node *n = ast_node(p->arena, kind, *at);
    if (!n) out_of_memory(p, at);
    return n;
}

/* End of input is reported just after the last token, not on the blank
 * lines or comments that may follow it. */
static int at_end(PState *p, Loc *lloc)
{
    if (!p->eof_seen) {
        p->eof_seen = 1;
        if (p->nest > 0 && p->nerrs == 0) p->open_at_eof = 1;
    }
    lloc->first_line = lloc->last_line = p->endline;
    lloc->first_column = lloc->last_column = p->endcol;
    return TK_END;
}

/* A run of newlines, blank lines and comments. Returns whether it ends a
 * statement: not inside () or [], nor when `else` follows. */
static int newlines(PState *p)
{
    for (const unsigned char *q = p->tok; q < p->cur; q++) {
        if (*q == '\n') {
            p->line++;
            p->linestart = q + 1;
        }
    }
    if (p->nest > 0 && p->open[p->nest - 1] != '{') return 0;
    const unsigned char *q = p->cur;
    size_t left = (size_t)(p->lim - q);
    return !(left >= 4 && memcmp(q, "else", 4) == 0
             && (left == 4 || !isident(q[4])));
}

static int open_bracket(PState *p, Loc *lloc, char c)
{
    if (p->nest == PARSE_MAXDEPTH) parse_toodeep(p, p->line, column(p, p->tok));
    else p->open[p->nest++] = c;
    return token(p, lloc, c);
}

static int close_bracket(PState *p, Loc *lloc, char c)
{
    if (p->nest > 0) p->nest--;
    /* A block's '}' ends its statement when newlines count here, so
     * `if c { return a } return b` needs no ';' (see dial_yylex). */
    p->after_block = c == '}' && (p->nest == 0 || p->open[p->nest - 1] == '{');
    return token(p, lloc, c);
}

/* The value of the number text s[0..n), which is well formed. strtod
 * wants a NUL-terminated copy, and reads the C locale's '.': a host may
 * have set another locale, so retry with its radix character (snprintf
 * tells it, thread-safely). */
static double to_double(PState *p, const unsigned char *s, size_t n)
{
    Sbuf *b = &p->scratch;
    sb_clear(b);
    sb_add(b, (const char *)s, n);
    char *end;
    double v = strtod(sb_str(b), &end);
    const unsigned char *dot = memchr(s, '.', n);
    if (end == sb_str(b) + n || !dot) return v;
    char radix[16];
    snprintf(radix, sizeof radix, "%.1f", 0.5);
    sb_clear(b);
    sb_add(b, (const char *)s, (size_t)(dot - s));
    sb_add(b, radix + 1, strlen(radix) - 2);   /* between "0" and "5" */
    sb_add(b, (const char *)dot + 1, n - (size_t)(dot - s) - 1);
    return strtod(sb_str(b), NULL);
}

/* A number token; `bad` when it already failed (an exponent without
 * digits). A number glued to letters, digits or a single dot, as in
 * `12abc` or `1.5.2`, is malformed as a whole. */
static int number(PState *p, DIAL_YYSTYPE *lval, Loc *lloc, int bad)
{
    const unsigned char *q;
    if (!bad && p->cur[-1] == '.' && p->cur < p->lim && *p->cur == '.')
        p->cur--;   /* `1..5` is 1 .. 5 */
    for (q = p->cur; q < p->lim; q++)
        if (!isident(*q) && !(*q == '.' && !(q + 1 < p->lim && q[1] == '.')))
            break;
    if (q > p->cur) bad = 1;
    p->cur = q;

    size_t n = (size_t)(p->cur - p->tok);
    double v = 0;
    if (bad) {
        lex_error(p, p->tok, "malformed number", p->tok, n);
    } else {
        v = to_double(p, p->tok, n);
        if (isinf(v)) {
            lex_error(p, p->tok, "number out of range", p->tok, n);
            v = 0;
        }
    }
    token(p, lloc, TK_NUMBER);
    if (!(*lval = leaf(p, N_NUM, lloc))) return at_end(p, lloc);
    (*lval)->num = v;
    return TK_NUMBER;
}

static int boolean(PState *p, DIAL_YYSTYPE *lval, Loc *lloc, double v)
{
    token(p, lloc, TK_NUMBER);
    if (!(*lval = leaf(p, N_NUM, lloc))) return at_end(p, lloc);
    (*lval)->num = v;
    return TK_NUMBER;
}

static int name(PState *p, DIAL_YYSTYPE *lval, Loc *lloc)
{
    size_t n = (size_t)(p->cur - p->tok);
    if (n > PARSE_MAXNAME) {
        char what[64];
        snprintf(what, sizeof what, "name longer than %d characters", PARSE_MAXNAME);
        lex_error(p, p->tok, what, p->tok, n);
    }
    token(p, lloc, TK_NAME);
    Node *v = leaf(p, N_NAME, lloc);
    if (!v) return at_end(p, lloc);
    v->str = arena_strdup(p->arena, (const char *)p->tok, n);
    if (!v->str) {
        out_of_memory(p, lloc);
        return at_end(p, lloc);
    }
    *lval = v;
    p->lastname = v->str;
    return TK_NAME;
}

/* A string literal [p->tok, p->cur): `closed` when it has its closing
 * quote. Escapes are resolved into arena memory; the text may hold NULs,
 * so its length goes to num. */
static int string(PState *p, DIAL_YYSTYPE *lval, Loc *lloc, int closed)
{
    const unsigned char *s = p->tok + 1, *e = closed ? p->cur - 1 : p->cur;
    if (!closed) {
        if (p->cur == p->lim && p->nerrs == 0) {
            p->open_at_eof = 1;
            p->eof_error = 1;
        }
        parse_error(p, p->line, column(p, p->tok), "unterminated string");
    }
    token(p, lloc, TK_STRING);
    Node *v = leaf(p, N_STR, lloc);
    char *d = v ? arena_alloc(p->arena, (size_t)(e - s) + 1) : NULL;
    if (!d) {
        if (v) out_of_memory(p, lloc);
        return at_end(p, lloc);
    }
    size_t n = 0;
    for (const unsigned char *q = s; q < e; q++) {
        if (*q != '\\') {
            d[n++] = (char)*q;
            continue;
        }
        if (q + 1 == e) break;   /* `"abc\` cut off by the end of the line */
        switch (*++q) {
        case 'n': d[n++] = '\n'; break;
        case 't': d[n++] = '\t'; break;
        case 'r': d[n++] = '\r'; break;
        case '0': d[n++] = '\0'; break;
        case '\\': d[n++] = '\\'; break;
        case '"': d[n++] = '"'; break;
        default: lex_error(p, q - 1, "unknown escape sequence", q - 1, 2);
        }
    }
    v->str = d;
    v->num = (double)n;
    *lval = v;
    return TK_STRING;
}

/* A byte no token starts with; a UTF-8 character counts as one, and a
 * run of them is reported once. The parser gets Bison's error token: it
 * skips the rest of the statement without a second report about it. */
static int unexpected(PState *p, Loc *lloc)
{
    if (p->tok != p->badend)
        lex_error(p, p->tok, "unexpected character", p->tok,
                  (size_t)(p->cur - p->tok));
    p->badend = p->cur;
    return token(p, lloc, TK_DIAL_YYerror);
}

static int lex_token(DIAL_YYSTYPE *lval, Loc *lloc, PState *p)
{
    const unsigned char *mark;
    *lval = NULL;
    for (;;) {
        if (p->stop) return at_end(p, lloc);
        p->tok = p->cur;
        /*!re2c
        re2c:api:style = free-form;
        re2c:define:YYCTYPE = "unsigned char";
        re2c:define:YYCURSOR = "p->cur";
        re2c:define:YYLIMIT = "p->lim";
        re2c:define:YYMARKER = "mark";
        re2c:yyfill:enable = 0;
        re2c:eof = 0;

        D      = [0-9];
        MANT   = D+ ("." D*)? | "." D+;
        WS     = [ \t\r\f\v];
        STRING = ["] ([^"\\\n] | "\\" [^\n])*;
        UTF8   = [\xC2-\xDF] [\x80-\xBF] | [\xE0-\xEF] [\x80-\xBF]{2}
               | [\xF0-\xF4] [\x80-\xBF]{3};

        $                        { return at_end(p, lloc); }
        WS+                      { continue; }
        "#" [^\n]*               { continue; }
        "\n" (WS | "\n" | "#" [^\n]*)* {
            int col = column(p, p->tok);
            Loc at = {p->line, col, p->line, col};
            if (!newlines(p)) continue;
            *lloc = at;
            return TK_NEWLINE;
        }

        MANT ([eE] [+-]? D+)?    { return number(p, lval, lloc, 0); }
        MANT [eE] [+-]?          { return number(p, lval, lloc, 1); }
        STRING ["]               { return string(p, lval, lloc, 1); }
        STRING "\\"?             { return string(p, lval, lloc, 0); }

        "fn"         { return token(p, lloc, TK_FN); }
        "return"     { return token(p, lloc, TK_RETURN); }
        "if"         { return token(p, lloc, TK_IF); }
        "else"       { return token(p, lloc, TK_ELSE); }
        "for"        { return token(p, lloc, TK_FOR); }
        "in"         { return token(p, lloc, TK_IN); }
        "while"      { return token(p, lloc, TK_WHILE); }
        "break"      { return token(p, lloc, TK_BREAK); }
        "continue"   { return token(p, lloc, TK_CONTINUE); }
        "and"        { return token(p, lloc, TK_AND); }
        "or"         { return token(p, lloc, TK_OR); }
        "not"        { return token(p, lloc, TK_NOT); }
        "rule"       { return token(p, lloc, TK_RULE); }
        "checkpoint" { return token(p, lloc, TK_CHECKPOINT); }
        "true"       { return boolean(p, lval, lloc, 1); }
        "false"      { return boolean(p, lval, lloc, 0); }
        [A-Za-z_][A-Za-z0-9_]* { return name(p, lval, lloc); }

        "(" { return open_bracket(p, lloc, '('); }
        "[" { return open_bracket(p, lloc, '['); }
        "{" { return open_bracket(p, lloc, '{'); }
        ")" { return close_bracket(p, lloc, ')'); }
        "]" { return close_bracket(p, lloc, ']'); }
        "}" { return close_bracket(p, lloc, '}'); }

        ".." { return token(p, lloc, TK_DOTDOT); }
        "==" { return token(p, lloc, TK_EQ); }
        "!=" { return token(p, lloc, TK_NE); }
        "<=" { return token(p, lloc, TK_LE); }
        ">=" { return token(p, lloc, TK_GE); }
        "+=" { return token(p, lloc, TK_ADDEQ); }
        "-=" { return token(p, lloc, TK_SUBEQ); }
        "*=" { return token(p, lloc, TK_MULEQ); }
        "/=" { return token(p, lloc, TK_DIVEQ); }
        "->" { return token(p, lloc, TK_ARROW); }
        [,;:=+\-*/%^@<>] { return token(p, lloc, *p->tok); }

        UTF8 { return unexpected(p, lloc); }
        *    { return unexpected(p, lloc); }
        */
    }
}

/* Tokens for the parser. After a block's '}', a token that can only start
 * a new statement gets a separator in front of it, as if a newline had
 * been written there. */
int dial_yylex(DIAL_YYSTYPE *lval, Loc *lloc, PState *p)
{
    if (p->pending) {
        p->pending = 0;
        *lval = p->pend_val;
        *lloc = p->pend_loc;
        return p->pend_tok;
    }
    int after = p->after_block;
    p->after_block = 0;
    int t = lex_token(lval, lloc, p);
    if (!after) return t;
    switch (t) {
    case TK_END: case TK_NEWLINE: case TK_ELSE: case TK_DIAL_YYerror:
    case ';': case '}': case ')': case ']': case ',':
        return t;
    }
    p->pending = 1;
    p->pend_tok = t;
    p->pend_val = *lval;
    p->pend_loc = *lloc;
    *lval = NULL;
    lloc->last_line = lloc->first_line;
    lloc->last_column = lloc->first_column;
    return TK_NEWLINE;
}
