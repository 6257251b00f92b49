/* ast.h: the syntax tree the parser builds and the compiler walks.
 *
 * Every node lives in an Arena owned by whoever parsed (freed at once with
 * arena_free, so error recovery never leaks). A node is generic: a kind, an
 * operator code, a location, a number or a name, and children. */
#ifndef DIAL_AST_H
#define DIAL_AST_H

#include <stddef.h>

/* Bison's location type (parser.y uses it via api.location.type); lines
 * and columns are 1-based, columns count bytes; last_* is inclusive. */
typedef struct Loc {
    int first_line, first_column;
    int last_line, last_column;
} Loc;

typedef enum {
    /* expressions */
    N_NUM,      /* num */
    N_STR,      /* str: the text, escapes resolved; num = its length */
    N_NAME,     /* str; `true`/`false` are N_NUM */
    N_ARRAY,    /* [k...] */
    N_UNOP,     /* op = UN_NEG | UN_NOT; k[0] */
    N_BINOP,    /* op = BIN_* (arithmetic and comparison); k[0], k[1] */
    N_MATMUL,   /* k[0] @ k[1] */
    N_AND,      /* k[0] and k[1], short-circuit */
    N_OR,       /* k[0] or k[1], short-circuit */
    N_CALL,     /* k[0] callee, k[1..] arguments */
    N_INDEX,    /* k[0] target, k[1..] items: expressions or N_SLICE; op = 1
                   (generated code only): the result is a copy, never a view */
    N_SLICE,    /* k[0] start, k[1] stop, k[2] step; each may be NULL */
    /* statements */
    N_BLOCK,    /* k = statements: a region */
    N_EXPR,     /* k[0] */
    N_ASSIGN,   /* k[0] target (N_NAME or N_INDEX chain), k[1] value;
                   op = -1, or BIN_* for `+= -= *= /=` (x[i] += v adds in
                   place) */
    N_MASSIGN,  /* k[0..n-2] targets (N_NAME), k[n-1] value: a, b = f() */
    N_IF,       /* k[0] cond, k[1] then (N_BLOCK), k[2] else: N_BLOCK, N_IF or NULL */
    N_FOR,      /* str var; k[0] from, k[1] to, k[2] body, k[3] checkpoint
                   count or NULL; op = 1 when `checkpoint` is written */
    N_WHILE,    /* k[0] cond, k[1] body, k[2] checkpoint count or NULL;
                   op = 1 when `checkpoint` is written */
    N_BREAK,
    N_CONTINUE,
    N_RETURN,   /* k = values: none, one, or several (a tuple) */
    N_FN,       /* str name; k[0..n-2] parameters (N_NAME), k[n-1] body */
    N_RULE,     /* str primitive or function name; op = number of
                   parameters p, k[0..p-1] parameters (N_NAME), then the
                   result names (N_NAME), then k[n-1] body (N_BLOCK) */
    N_PROGRAM   /* k = top-level statements */
} NodeKind;

typedef struct Node {
    int kind;
    int op;
    Loc loc;
    double num;
    char *str;
    int n;               /* number of children */
    struct Node **k;
} Node;

typedef struct Arena Arena;

Arena *arena_new(void);
void arena_free(Arena *a);
void *arena_alloc(Arena *a, size_t n);   /* zeroed; NULL when out of memory */
char *arena_strdup(Arena *a, const char *s, size_t n);

/* Constructors return NULL only when memory runs out. */
Node *ast_node(Arena *a, int kind, Loc loc);
Node *ast_add(Arena *a, Node *parent, Node *child); /* appends; child may be NULL */

const char *ast_kindname(int kind);
/* The value an N_ASSIGN assigns: its k[1], or for `x op= e` the node
 * `x op e`, built in *tmp over kids (nothing is allocated). */
const Node *ast_assigned(const Node *s, Node *tmp, Node *kids[2]);
/* Whether the tree at e reads or names `name` anywhere. */
int ast_mentions(const Node *e, const char *name);
/* Statement n as dial-like source, indented by `indent` levels: for
 * showing the code grad generates (`dial --ad-source`). Generated names
 * ($t, d'x, %push) are printed as they are, so the text need not parse. */
struct Sbuf;
void ast_unparse(struct Sbuf *b, const Node *n, int indent);

#endif
