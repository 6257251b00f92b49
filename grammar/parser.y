/* parser.y: dial's grammar (Bison 3.8: pure, reentrant, with locations).
 * Turns lexer.re's tokens into the tree of ast.h, reports syntax errors in
 * diag.h's format with recovery at statement level, and defines
 * parse_source (parse.h).
 *
 * Conventions the compiler relies on:
 *  - a binary operator's node is located at the operator token (first_*)
 *    up to the end of its right operand, a call at its callee (so errors
 *    and tracebacks point at the function name), an index at its [;
 *    a statement at its first token;
 *  - N_IF, N_FOR, N_WHILE and N_SLICE always have all their children
 *    (3, 4, 3, 3), absent ones NULL; N_FOR and N_WHILE have op 0 or 1;
 *  - parentheses leave no node; `-1` is N_UNOP of N_NUM 1;
 *  - trees deeper than PARSE_MAXDEPTH are refused, so the compiler may
 *    recurse over the tree. */

%code requires {
#include "ast.h"
typedef struct PState PState;
}

%code provides {
int dial_yylex(DIAL_YYSTYPE *lval, Loc *lloc, PState *p);
}

%code {
#include <limits.h>
#include <stdarg.h>
#include <string.h>

#include "lex.h"
#include "parse.h"
#include "prim.h"

static void yyerror(const Loc *loc, PState *p, const char *msg);

/* Every constructor below returns NULL only after reporting a fatal error
 * (out of memory, nesting too deep); the action then aborts the parse. */
#define OK(e) do { if (!(e)) YYABORT; } while (0)

static Loc span(Loc from, Loc to)
{
    from.last_line = to.last_line;
    from.last_column = to.last_column;
    return from;
}

static Node *out_of_memory(PState *p, Loc at)
{
    parse_error(p, at.first_line, at.first_column, "out of memory");
    p->stop = 1;
    return NULL;
}

static Node *add(PState *p, Node *parent, Node *child)
{
    if (!ast_add(p->arena, parent, child)) return out_of_memory(p, parent->loc);
    if (ast_depth(parent) > PARSE_MAXDEPTH) {
        parse_toodeep(p, parent->loc.first_line, parent->loc.first_column);
        return NULL;
    }
    return parent;
}

/* A node with n children given after n. */
static Node *tree(PState *p, int kind, int op, Loc loc, int n, ...)
{
    Node *t = ast_node(p->arena, kind, loc);
    if (!t) return out_of_memory(p, loc);
    t->op = op;
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n && t; i++) t = add(p, t, va_arg(ap, Node *));
    va_end(ap);
    return t;
}

/* Turn a list built by the grammar into the node it stands for. */
static Node *become(Node *list, int kind, Loc loc)
{
    list->kind = kind;
    list->loc = loc;
    return list;
}

/* Put `first` in front of the children of `list` (a callee, an indexed
 * value): the list is built before its head is known to be needed. */
static Node *prepend(PState *p, Node *list, Node *first)
{
    if (!add(p, list, first)) return NULL;
    memmove(list->k + 1, list->k, (size_t)(list->n - 1) * sizeof *list->k);
    list->k[0] = first;
    return list;
}

/* An assignment target: a name, or a name indexed any number of times. */
static int assignable(const Node *t)
{
    while (t->kind == N_INDEX) t = t->k[0];
    return t->kind == N_NAME;
}

static void not_assignable(PState *p, Loc at)
{
    parse_error(p, at.first_line, at.first_column,
                "cannot assign to this expression");
}

static Node *assign(PState *p, Loc loc, Loc tloc, Node *target, int op,
                    Node *value)
{
    if (!assignable(target)) not_assignable(p, tloc);
    return tree(p, N_ASSIGN, op, loc, 2, target, value);
}

/* Multiple assignment takes plain names only. */
static Node *mtarget(PState *p, Node *list, Node *target, Loc tloc)
{
    if (target->kind != N_NAME) not_assignable(p, tloc);
    return add(p, list, target);
}

static Node *named(Node *n, const Node *name)
{
    n->str = name->str;
    return n;
}

/* A name node for a keyword used as a name (`rule not`). */
static Node *keyword_name(PState *p, Loc at, const char *s)
{
    Node *n = tree(p, N_NAME, 0, at, 0);
    if (n) n->str = arena_strdup(p->arena, s, strlen(s));
    return n;
}
}

%define api.prefix {dial_yy}
%define api.token.prefix {TK_}
%define api.pure full
%define api.value.type {Node *}
%define api.location.type {Loc}
%define parse.error custom
%define parse.lac full
%locations
%param {PState *p}
%initial-action { @$ = (Loc){1, 1, 1, 1}; }
%expect 0

%token END 0 "end of input"
%token NEWLINE "newline"
%token NAME "name" NUMBER "number" STRING "string"
%token FN "'fn'" RETURN "'return'" IF "'if'" ELSE "'else'" FOR "'for'"
%token IN "'in'" WHILE "'while'" BREAK "'break'" CONTINUE "'continue'"
%token AND "'and'" OR "'or'" NOT "'not'" RULE "'rule'"
%token CHECKPOINT "'checkpoint'"
%token DOTDOT "'..'" EQ "'=='" NE "'!='" LE "'<='" GE "'>='"
%token ADDEQ "'+='" SUBEQ "'-='" MULEQ "'*='" DIVEQ "'/='" ARROW "'->'"

%left OR
%left AND
%precedence NOT
%nonassoc EQ NE '<' LE '>' GE
%left '+' '-'
%left '*' '/' '%' '@'
%precedence NEG
%right '^'

%%

program
    : stmts                     { p->program = become($1, N_PROGRAM, (Loc){1, 1, 1, 1}); }
    ;

/* A block's statements, in an N_BLOCK; empty statements leave nothing.
 * After an error, parsing resumes at the next newline, ';' or '}', and the
 * next statement's errors are reported at once (yyerrok in sep). */
stmts
    : opt_stmt                  { OK($$ = tree(p, N_BLOCK, 0, @$, 0));
                                  if ($1) OK(add(p, $$, $1)); }
    | stmts sep opt_stmt        { $$ = $1; if ($3) OK(add(p, $$, $3)); }
    ;

sep : NEWLINE { yyerrok; } | ';' { yyerrok; } ;

opt_stmt
    : %empty                    { $$ = NULL; }
    | stmt
    | error                     { $$ = NULL; }
    ;

block
    : '{' stmts '}'             { $$ = become($2, N_BLOCK, @$); }
    ;

stmt
    : expr                      { OK($$ = tree(p, N_EXPR, 0, @$, 1, $1)); }
    | expr '=' expr             { OK($$ = assign(p, @$, @1, $1, -1, $3)); }
    | expr ADDEQ expr           { OK($$ = assign(p, @$, @1, $1, BIN_ADD, $3)); }
    | expr SUBEQ expr           { OK($$ = assign(p, @$, @1, $1, BIN_SUB, $3)); }
    | expr MULEQ expr           { OK($$ = assign(p, @$, @1, $1, BIN_MUL, $3)); }
    | expr DIVEQ expr           { OK($$ = assign(p, @$, @1, $1, BIN_DIV, $3)); }
    | targets '=' expr          { OK($$ = add(p, become($1, N_MASSIGN, @$), $3)); }
    | FN NAME '(' params ')' block
                                { OK($$ = add(p, named(become($4, N_FN, @$), $2), $6)); }
    | RULE rulename '(' params ')' ARROW results block
                                { $$ = named(become($4, N_RULE, @$), $2);
                                  $$->op = $$->n;
                                  for (int i = 0; i < $7->n; i++) OK(add(p, $$, $7->k[i]));
                                  OK(add(p, $$, $8)); }
    | ifstmt
    | FOR NAME IN expr DOTDOT expr block
                                { OK($$ = tree(p, N_FOR, 0, @$, 4, $4, $6, $7, NULL));
                                  named($$, $2); }
    | FOR NAME IN expr DOTDOT expr CHECKPOINT block
                                { OK($$ = tree(p, N_FOR, 1, @$, 4, $4, $6, $8, NULL));
                                  named($$, $2); }
    | FOR NAME IN expr DOTDOT expr CHECKPOINT '(' expr ')' block
                                { OK($$ = tree(p, N_FOR, 1, @$, 4, $4, $6, $11, $9));
                                  named($$, $2); }
    | WHILE expr block          { OK($$ = tree(p, N_WHILE, 0, @$, 3, $2, $3, NULL)); }
    | WHILE expr CHECKPOINT block
                                { OK($$ = tree(p, N_WHILE, 1, @$, 3, $2, $4, NULL)); }
    | WHILE expr CHECKPOINT '(' expr ')' block
                                { OK($$ = tree(p, N_WHILE, 1, @$, 3, $2, $7, $5)); }
    | BREAK                     { OK($$ = tree(p, N_BREAK, 0, @$, 0)); }
    | CONTINUE                  { OK($$ = tree(p, N_CONTINUE, 0, @$, 0)); }
    | RETURN                    { OK($$ = tree(p, N_RETURN, 0, @$, 0)); }
    | RETURN exprs              { $$ = become($2, N_RETURN, @$); }
    | block
    ;

/* `a, b = f()`: the targets of a multiple assignment, in an N_MASSIGN. */
targets
    : expr ',' expr             { OK($$ = tree(p, N_MASSIGN, 0, @$, 0));
                                  OK(mtarget(p, $$, $1, @1));
                                  OK(mtarget(p, $$, $3, @3)); }
    | targets ',' expr          { OK($$ = mtarget(p, $1, $3, @3)); }
    ;

ifstmt
    : IF expr block             { OK($$ = tree(p, N_IF, 0, @$, 3, $2, $3, NULL)); }
    | IF expr block ELSE block  { OK($$ = tree(p, N_IF, 0, @$, 3, $2, $3, $5)); }
    | IF expr block ELSE ifstmt { OK($$ = tree(p, N_IF, 0, @$, 3, $2, $3, $5)); }
    ;

/* A rule is named after a primitive; `not` is one, though a keyword. */
rulename
    : NAME
    | NOT                       { OK($$ = keyword_name(p, @1, "not")); }
    ;

params
    : %empty                    { OK($$ = tree(p, N_BLOCK, 0, @$, 0)); }
    | names
    ;

names
    : NAME                      { OK($$ = tree(p, N_BLOCK, 0, @$, 1, $1)); }
    | names ',' NAME            { OK($$ = add(p, $1, $3)); }
    ;

results
    : NAME                      { OK($$ = tree(p, N_BLOCK, 0, @$, 1, $1)); }
    | '(' names ')'             { $$ = $2; }
    ;

/* One or more expressions, in an N_BLOCK the caller turns into what it
 * needs (N_RETURN, N_ARRAY, N_CALL). */
exprs
    : expr                      { OK($$ = tree(p, N_BLOCK, 0, @$, 1, $1)); }
    | exprs ',' expr            { OK($$ = add(p, $1, $3)); }
    ;

expr
    : expr OR expr              { OK($$ = tree(p, N_OR, 0, span(@2, @3), 2, $1, $3)); }
    | expr AND expr             { OK($$ = tree(p, N_AND, 0, span(@2, @3), 2, $1, $3)); }
    | NOT expr                  { OK($$ = tree(p, N_UNOP, UN_NOT, @$, 1, $2)); }
    | expr EQ expr              { OK($$ = tree(p, N_BINOP, BIN_EQ, span(@2, @3), 2, $1, $3)); }
    | expr NE expr              { OK($$ = tree(p, N_BINOP, BIN_NE, span(@2, @3), 2, $1, $3)); }
    | expr '<' expr             { OK($$ = tree(p, N_BINOP, BIN_LT, span(@2, @3), 2, $1, $3)); }
    | expr LE expr              { OK($$ = tree(p, N_BINOP, BIN_LE, span(@2, @3), 2, $1, $3)); }
    | expr '>' expr             { OK($$ = tree(p, N_BINOP, BIN_GT, span(@2, @3), 2, $1, $3)); }
    | expr GE expr              { OK($$ = tree(p, N_BINOP, BIN_GE, span(@2, @3), 2, $1, $3)); }
    | expr '+' expr             { OK($$ = tree(p, N_BINOP, BIN_ADD, span(@2, @3), 2, $1, $3)); }
    | expr '-' expr             { OK($$ = tree(p, N_BINOP, BIN_SUB, span(@2, @3), 2, $1, $3)); }
    | expr '*' expr             { OK($$ = tree(p, N_BINOP, BIN_MUL, span(@2, @3), 2, $1, $3)); }
    | expr '/' expr             { OK($$ = tree(p, N_BINOP, BIN_DIV, span(@2, @3), 2, $1, $3)); }
    | expr '%' expr             { OK($$ = tree(p, N_BINOP, BIN_MOD, span(@2, @3), 2, $1, $3)); }
    | expr '@' expr             { OK($$ = tree(p, N_MATMUL, 0, span(@2, @3), 2, $1, $3)); }
    | '-' expr %prec NEG        { OK($$ = tree(p, N_UNOP, UN_NEG, @$, 1, $2)); }
    | expr '^' expr             { OK($$ = tree(p, N_BINOP, BIN_POW, span(@2, @3), 2, $1, $3)); }
    | postfix
    ;

postfix
    : primary
    | postfix '(' ')'           { OK($$ = tree(p, N_CALL, 0, @$, 1, $1)); }
    | postfix '(' exprs ')'     { OK($$ = prepend(p, become($3, N_CALL, @$), $1)); }
    | postfix '(' exprs ',' ')' { OK($$ = prepend(p, become($3, N_CALL, @$), $1)); }
    | postfix '[' items ']'     { OK($$ = prepend(p, become($3, N_INDEX, span(@2, @4)), $1)); }
    ;

items
    : item                      { OK($$ = tree(p, N_BLOCK, 0, @$, 1, $1)); }
    | items ',' item            { OK($$ = add(p, $1, $3)); }
    ;

/* A slice is located at its start, or at its first ':' when that is
 * omitted. */
item
    : expr
    | opt ':' opt               { OK($$ = tree(p, N_SLICE, 0, $1 ? @$ : span(@2, @$), 3,
                                               $1, $3, NULL)); }
    | opt ':' opt ':' opt       { OK($$ = tree(p, N_SLICE, 0, $1 ? @$ : span(@2, @$), 3,
                                               $1, $3, $5)); }
    ;

opt
    : %empty                    { $$ = NULL; }
    | expr
    ;

primary
    : NUMBER
    | STRING
    | NAME
    | '(' expr ')'              { $$ = $2; }
    | '[' ']'                   { OK($$ = tree(p, N_ARRAY, 0, @$, 0)); }
    | '[' exprs ']'             { $$ = become($2, N_ARRAY, @$); }
    | '[' exprs ',' ']'         { $$ = become($2, N_ARRAY, @$); }
    ;

%%

/* How a token is named in a message; an unexpected name, number or
 * string also shows its text (the last token lexed is the lookahead). */
static void describe(Sbuf *b, PState *p, yysymbol_kind_t sym, int unexpected)
{
    sb_puts(b, yysymbol_name(sym));
    if (unexpected && sym == YYSYMBOL_NAME && p->lastname) {
        sb_putc(b, ' ');
        parse_quote(b, p->lastname, strlen(p->lastname));
    } else if (unexpected && (sym == YYSYMBOL_NUMBER || sym == YYSYMBOL_STRING)) {
        sb_putc(b, ' ');
        parse_quote(b, (const char *)p->tok, (size_t)(p->cur - p->tok));
    }
}

static int yyreport_syntax_error(const yypcontext_t *ctx, PState *p)
{
    yysymbol_kind_t tok = yypcontext_token(ctx);
    if (tok == YYSYMBOL_YYEOF && p->eof_error) return 0;
    Sbuf m;
    sb_init(&m);
    sb_puts(&m, "unexpected ");
    describe(&m, p, tok, 1);
    yysymbol_kind_t exp[3];
    int n = yypcontext_expected_tokens(ctx, exp, 3);
    for (int i = 0; i < n; i++) {
        sb_puts(&m, i == 0 ? ", expected " : i == n - 1 ? " or " : ", ");
        describe(&m, p, exp[i], 0);
    }
    const Loc *at = yypcontext_location(ctx);
    parse_error(p, at->first_line, at->first_column, "%s", sb_str(&m));
    sb_free(&m);
    return 0;
}

/* Bison calls this only when its stack is full: deep nesting again. */
static void yyerror(const Loc *loc, PState *p, const char *msg)
{
    (void)msg;
    parse_toodeep(p, loc->first_line, loc->first_column);
}

void parse_error(PState *p, int line, int col, const char *fmt, ...)
{
    if (p->stop) return;
    if (p->nerrs == PARSE_MAXERRS) {
        diag_report(p->errs, p->src, line, col, "too many errors");
        p->stop = 1;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    diag_vreport(p->errs, p->src, line, col, fmt, ap);
    va_end(ap);
    p->nerrs++;
}

void parse_toodeep(PState *p, int line, int col)
{
    parse_error(p, line, col, "nesting too deep (more than %d levels)",
                PARSE_MAXDEPTH);
    p->stop = 1;
}

void parse_quote(Sbuf *b, const char *s, size_t n)
{
    enum { SHOWN = 40 };
    sb_putc(b, '\'');
    for (size_t i = 0; i < n && i < SHOWN; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7F) sb_putc(b, (char)c);
        else sb_printf(b, "\\x%02X", c);
    }
    if (n > SHOWN) sb_puts(b, "...");
    sb_putc(b, '\'');
}

ParseResult parse_source(Arena *arena, const Source *src, Sbuf *errs)
{
    ParseResult r = {NULL, 0, 0};
    PState p;
    memset(&p, 0, sizeof p);
    p.arena = arena;
    p.src = src;
    p.errs = errs;
    p.cur = p.tok = p.linestart = (const unsigned char *)src->text;
    p.lim = p.cur + src->len;
    p.line = p.endline = p.endcol = 1;
    sb_init(&p.scratch);
    int rc = 1;
    if (src->len > INT_MAX / 2)   /* columns are ints */
        parse_error(&p, 0, 0, "source too large");
    else
        rc = dial_yyparse(&p);
    sb_free(&p.scratch);
    r.nerrs = p.nerrs;
    if (rc == 0 && p.nerrs == 0) r.program = p.program;
    else r.incomplete = p.open_at_eof;
    return r;
}
