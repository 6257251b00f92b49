/* ast.c: the arena that owns a parse, the syntax tree's nodes, and the
 * unparser (see ast.h).
 *
 * Each node is allocated with a small hidden header in front of it: its
 * depth (so the parser can refuse trees the compiler's recursive walk could
 * not survive, without walking them) and the capacity of its child array.
 * So every node given to ast_add must come from ast_node. */
#include "ast.h"

#include <limits.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prim.h"
#include "sbuf.h"

/* ---- arena ---- */

#define ALIGN     alignof(max_align_t)
#define MINBLOCK  4096          /* a REPL line stays small ... */
#define MAXBLOCK  (1u << 20)    /* ... a big file grows blocks up to 1 MB */

typedef struct Block {
    struct Block *next;
    size_t size, used;
    alignas(max_align_t) unsigned char data[];
} Block;

struct Arena {
    Block *head;       /* the block being filled */
    size_t nextsize;   /* size of the next ordinary block */
};

Arena *arena_new(void)
{
    Arena *a = calloc(1, sizeof *a);
    if (a) a->nextsize = MINBLOCK;
    return a;
}

void arena_free(Arena *a)
{
    if (!a) return;
    Block *b = a->head;
    while (b) {
        Block *next = b->next;
        free(b);
        b = next;
    }
    free(a);
}

static Block *block_new(size_t size)
{
    if (size > SIZE_MAX - sizeof(Block)) return NULL;
    Block *b = calloc(1, sizeof(Block) + size);
    if (b) b->size = size;
    return b;
}

void *arena_alloc(Arena *a, size_t n)
{
    if (!a || n > SIZE_MAX - ALIGN) return NULL;
    n = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (n == 0) n = ALIGN;
    Block *h = a->head;
    if (h && h->size - h->used >= n) {
        void *p = h->data + h->used;
        h->used += n;
        return p;
    }
    if (n > a->nextsize / 4) {
        /* a big request gets a block of its own, kept behind the head so
         * the head's free space is not wasted */
        Block *b = block_new(n);
        if (!b) return NULL;
        b->used = n;
        if (h) {
            b->next = h->next;
            h->next = b;
        } else {
            a->head = b;
        }
        return b->data;
    }
    Block *b = block_new(a->nextsize);
    if (!b) return NULL;
    if (a->nextsize < MAXBLOCK) a->nextsize *= 2;
    b->next = h;
    a->head = b;
    b->used = n;
    return b->data;
}

char *arena_strdup(Arena *a, const char *s, size_t n)
{
    if (n == SIZE_MAX) return NULL;
    char *d = arena_alloc(a, n + 1);
    if (d && n) memcpy(d, s, n);
    return d;
}

/* ---- nodes ---- */

typedef struct Slot {
    int depth;   /* 1 for a leaf, 1 + the deepest child otherwise */
    int cap;     /* room in node.k */
    Node node;
} Slot;

static Slot *slot_of(const Node *n)
{
    return (Slot *)(void *)((char *)n - offsetof(Slot, node));
}

/* Declared in grammar/lex.h (ast.h is a fixed interface). */
int ast_depth(const Node *n);

int ast_depth(const Node *n) { return n ? slot_of(n)->depth : 0; }

Node *ast_node(Arena *a, int kind, Loc loc)
{
    Slot *s = arena_alloc(a, sizeof *s);
    if (!s) return NULL;
    s->depth = 1;
    s->node.kind = kind;
    s->node.loc = loc;
    return &s->node;
}

Node *ast_add(Arena *a, Node *parent, Node *child)
{
    if (!parent) return NULL;
    Slot *s = slot_of(parent);
    if (parent->n == s->cap) {
        if (s->cap > INT_MAX / 2) return NULL;
        int cap = s->cap ? 2 * s->cap : 4;
        Node **k = arena_alloc(a, (size_t)cap * sizeof *k);
        if (!k) return NULL;
        if (parent->n) memcpy(k, parent->k, (size_t)parent->n * sizeof *k);
        parent->k = k;
        s->cap = cap;
    }
    parent->k[parent->n++] = child;
    if (child && slot_of(child)->depth >= s->depth)
        s->depth = slot_of(child)->depth + 1;
    return parent;
}

static const char *const kindnames[] = {
    "num", "str", "name", "array", "unop", "binop", "matmul", "and", "or",
    "call", "index", "slice", "block", "expr", "assign", "massign", "if",
    "for", "while", "break", "continue", "return", "fn", "rule", "program",
};

const char *ast_kindname(int kind)
{
    if (kind < 0 || kind >= (int)(sizeof kindnames / sizeof *kindnames))
        return "?";
    return kindnames[kind];
}

/* A string literal's text, quoted, with its escapes written back. */
static void dump_str(Sbuf *b, const char *s, size_t n)
{
    sb_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '\n': sb_puts(b, "\\n"); break;
        case '\t': sb_puts(b, "\\t"); break;
        case '\r': sb_puts(b, "\\r"); break;
        case '\0': sb_puts(b, "\\0"); break;
        case '"': sb_puts(b, "\\\""); break;
        case '\\': sb_puts(b, "\\\\"); break;
        default:
            if (c < 0x20 || c == 0x7F) sb_printf(b, "\\x%02X", c);
            else sb_putc(b, (char)c);
        }
    }
    sb_putc(b, '"');
}

static void unparse_expr(Sbuf *b, const Node *n);

static void unparse_list(Sbuf *b, const Node *n, int from)
{
    for (int i = from; i < n->n; i++) {
        if (i > from) sb_puts(b, ", ");
        unparse_expr(b, n->k[i]);
    }
}

/* Operands are parenthesised whenever they are operations themselves:
 * more parentheses than needed, never a wrong reading. */
static void unparse_operand(Sbuf *b, const Node *n)
{
    int op = n && (n->kind == N_BINOP || n->kind == N_UNOP || n->kind == N_MATMUL ||
                   n->kind == N_AND || n->kind == N_OR);
    if (op) sb_putc(b, '(');
    unparse_expr(b, n);
    if (op) sb_putc(b, ')');
}

static void unparse_expr(Sbuf *b, const Node *n)
{
    if (!n) return;
    switch (n->kind) {
    case N_NUM: sb_printf(b, "%.17g", n->num); break;
    case N_STR: dump_str(b, n->str, (size_t)n->num); break;
    case N_NAME: sb_puts(b, n->str); break;
    case N_ARRAY: sb_putc(b, '['); unparse_list(b, n, 0); sb_putc(b, ']'); break;
    case N_UNOP:
        sb_puts(b, n->op == UN_NEG ? "-" : n->op == UN_NOT ? "not " : prim_unname[n->op]);
        unparse_operand(b, n->k[0]);
        break;
    case N_BINOP:
    case N_MATMUL:
    case N_AND:
    case N_OR: {
        const char *sym = n->kind == N_MATMUL ? "@" : n->kind == N_AND ? "and" : n->kind == N_OR ? "or"
                          : prim_binsym[n->op] ? prim_binsym[n->op] : prim_binname[n->op];
        unparse_operand(b, n->k[0]);
        sb_printf(b, " %s ", sym);
        unparse_operand(b, n->k[1]);
        break;
    }
    case N_CALL:
        unparse_operand(b, n->k[0]);
        sb_putc(b, '(');
        unparse_list(b, n, 1);
        sb_putc(b, ')');
        break;
    case N_INDEX:
        unparse_operand(b, n->k[0]);
        sb_puts(b, n->op == 1 ? "[copy " : "[");
        unparse_list(b, n, 1);
        sb_putc(b, ']');
        break;
    case N_SLICE:
        unparse_expr(b, n->k[0]);
        sb_putc(b, ':');
        unparse_expr(b, n->k[1]);
        if (n->k[2]) sb_putc(b, ':');
        unparse_expr(b, n->k[2]);
        break;
    default: sb_printf(b, "<%s>", ast_kindname(n->kind)); break;
    }
}

static void unparse_block(Sbuf *b, const Node *n, int indent)
{
    sb_puts(b, "{\n");
    for (int i = 0; n && i < n->n; i++) ast_unparse(b, n->k[i], indent + 1);
    for (int i = 0; i < indent; i++) sb_puts(b, "    ");
    sb_putc(b, '}');
}

void ast_unparse(Sbuf *b, const Node *n, int indent)
{
    if (!n) return;
    for (int i = 0; i < indent; i++) sb_puts(b, "    ");
    switch (n->kind) {
    case N_BLOCK: unparse_block(b, n, indent); break;
    case N_EXPR: unparse_expr(b, n->k[0]); break;
    case N_ASSIGN:
        unparse_expr(b, n->k[0]);
        if (n->op >= 0) sb_printf(b, " %s= ", prim_binsym[n->op]);
        else sb_puts(b, " = ");
        unparse_expr(b, n->k[1]);
        break;
    case N_MASSIGN:
        for (int i = 0; i + 1 < n->n; i++) sb_printf(b, "%s%s", i ? ", " : "", n->k[i]->str);
        sb_puts(b, " = ");
        unparse_expr(b, n->k[n->n - 1]);
        break;
    case N_IF:
        for (;;) {
            sb_puts(b, "if ");
            unparse_expr(b, n->k[0]);
            sb_putc(b, ' ');
            unparse_block(b, n->k[1], indent);
            if (!n->k[2]) break;
            sb_puts(b, " else ");
            if (n->k[2]->kind != N_IF) {
                unparse_block(b, n->k[2], indent);
                break;
            }
            n = n->k[2];
        }
        break;
    case N_FOR:
        sb_printf(b, "for %s in ", n->str);
        unparse_expr(b, n->k[0]);
        sb_puts(b, "..");
        unparse_expr(b, n->k[1]);
        sb_puts(b, n->op ? " checkpoint " : " ");
        unparse_block(b, n->k[2], indent);
        break;
    case N_WHILE:
        sb_puts(b, "while ");
        unparse_expr(b, n->k[0]);
        sb_puts(b, n->op ? " checkpoint " : " ");
        unparse_block(b, n->k[1], indent);
        break;
    case N_BREAK: sb_puts(b, "break"); break;
    case N_CONTINUE: sb_puts(b, "continue"); break;
    case N_RETURN: sb_puts(b, n->n ? "return " : "return"); unparse_list(b, n, 0); break;
    case N_FN:
        sb_printf(b, "fn %s(", n->str);
        for (int i = 0; i + 1 < n->n; i++) sb_printf(b, "%s%s", i ? ", " : "", n->k[i]->str);
        sb_puts(b, ") ");
        unparse_block(b, n->k[n->n - 1], indent);
        break;
    default: unparse_expr(b, n); break;
    }
    sb_putc(b, '\n');
}

int ast_mentions(const Node *e, const char *name)
{
    if (!e) return 0;
    if (e->kind == N_NAME) return strcmp(e->str, name) == 0;
    for (int i = 0; i < e->n; i++)
        if (ast_mentions(e->k[i], name)) return 1;
    return 0;
}

const Node *ast_assigned(const Node *s, Node *tmp, Node *kids[2])
{
    if (s->op < 0) return s->k[1];
    *tmp = *s;
    tmp->kind = N_BINOP;
    kids[0] = s->k[0];
    kids[1] = s->k[1];
    tmp->k = kids;
    tmp->n = 2;
    return tmp;
}
