/* rules.c: loading, checking and finding derivative rules (rules.h). */
#include "rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtins.h"
#include "parse.h"

extern const char rules_text[];

static int param_of(const Node *r, const char *n)
{
    for (int i = 0; i < r->op; i++)
        if (strcmp(r->k[i]->str, n) == 0) return i;
    return -1;
}

static int is_result(const Node *r, const char *n)
{
    for (int i = r->op; i < r->n - 1; i++)
        if (strcmp(r->k[i]->str, n) == 0) return 1;
    return 0;
}

static int assigns(const Node *e, const char *n)
{
    if (!e) return 0;
    if (e->kind == N_ASSIGN) {
        const Node *t = e->k[0];
        while (t->kind == N_INDEX) t = t->k[0];
        if (t->kind == N_NAME && strcmp(t->str, n) == 0) return 1;
    }
    for (int i = 0; i < e->n; i++)
        if (assigns(e->k[i], n)) return 1;
    return 0;
}

int rules_is_local(const Node *rule, const char *n)
{
    if (n[0] == 'd' && param_of(rule, n + 1) >= 0) return 0;
    return assigns(rule->k[rule->n - 1], n);
}

typedef struct Check {
    const Node *rule;
    const Source *src;
    Sbuf *errs;
    int nerrs;
} Check;

static void bad(Check *c, Loc at, const char *fmt, const char *name)
{
    c->nerrs++;
    diag_report(c->errs, c->src, at.first_line, at.first_column, fmt, c->rule->str, name);
}

/* Every name a rule reads is an operand, a result, dy, one of its locals,
 * a builtin or a name no script can write (a host function's derivative,
 * NAME'rev, in the rules api.c makes); every adjoint it assigns is an
 * operand's. */
static void check(Check *c, const Node *e)
{
    if (!e) return;
    const Node *r = c->rule;
    if (e->kind == N_ASSIGN && e->k[0]->kind == N_NAME) {
        const char *n = e->k[0]->str;
        if (n[0] == 'd' && param_of(r, n + 1) < 0 && (is_result(r, n + 1) || n[1] == '\0' ||
                                                      param_of(r, n) < 0))
            if (strcmp(n, "dy") == 0 || is_result(r, n + 1) || param_of(r, n + 1) < 0)
                bad(c, e->k[0]->loc,
                    "rule %s: '%s' is not the adjoint of a parameter (names starting with 'd' are adjoints)",
                    n);
        check(c, e->k[1]);
        return;
    }
    if (e->kind == N_NAME) {
        const char *n = e->str;
        if (param_of(r, n) < 0 && !is_result(r, n) && strcmp(n, "dy") != 0 &&
            !rules_is_local(r, n) && builtin_find(n) < 0 && !strchr(n, '\''))
            bad(c, e->loc, "rule %s: unknown name '%s'", n);
        return;
    }
    if (e->kind == N_CALL && e->k[0]->kind == N_NAME && builtin_find(e->k[0]->str) >= 0) {
        for (int i = 1; i < e->n; i++) check(c, e->k[i]);
        return;
    }
    for (int i = 0; i < e->n; i++) check(c, e->k[i]);
}

int rules_add(Vm *vm, const Node *rule, int user, const Source *src, Sbuf *errs)
{
    Check c = {rule, src, errs, 0};
    check(&c, rule->k[rule->n - 1]);
    if (rule->op > RULE_MAXOPS) {
        c.nerrs++;
        diag_report(errs, src, rule->loc.first_line, rule->loc.first_column,
                    "rule %s: more than %d operands", rule->str, RULE_MAXOPS);
    }
    if (rule->n - 1 - rule->op != 1) {
        c.nerrs++;
        diag_report(errs, src, rule->loc.first_line, rule->loc.first_column,
                    "rule %s: one result name is supported", rule->str);
    }
    if (c.nerrs) return -1;
    if (vm->nrules == vm->rulecap) {
        int cap = vm->rulecap ? vm->rulecap * 2 : 64;
        RuleRef *r = realloc(vm->rules, (size_t)cap * sizeof *r);
        if (!r) return -1;
        vm->rules = r;
        vm->rulecap = cap;
    }
    vm->rules[vm->nrules].node = rule;
    vm->rules[vm->nrules++].user = user;
    return 0;
}

void rules_drop(Vm *vm, const char *name)
{
    int k = 0;
    for (int i = 0; i < vm->nrules; i++)
        if (!vm->rules[i].user || strcmp(vm->rules[i].node->str, name) != 0) vm->rules[k++] = vm->rules[i];
    vm->nrules = k;
}

/* A rule with fewer operands covers a call's extra arguments (shapes,
 * axes) — except for the builtins joining any number of arrays, whose
 * extra arrays would silently get no adjoint. */
static int covers_extra(const char *name)
{
    return strcmp(name, "concat") != 0 && strcmp(name, "stack") != 0;
}

static const Node *find(const Vm *vm, const char *name, int nargs, int user)
{
    const Node *best = NULL;
    int extra = covers_extra(name);
    for (int i = vm->nrules - 1; i >= 0; i--) {
        const Node *r = vm->rules[i].node;
        if (vm->rules[i].user != user || strcmp(r->str, name) != 0 || r->op > nargs) continue;
        if (r->op == nargs) return r;
        if (extra && (!best || r->op > best->op)) best = r;
    }
    return best;
}

/* A script's rules come first: they may replace the file's. */
const Node *rules_find(const Vm *vm, const char *name, int nargs, int user)
{
    const Node *r = find(vm, name, nargs, 1);
    return r || user ? r : find(vm, name, nargs, 0);
}

/* The rule text: DIAL_RULES's file when set, else the compiled-in copy. */
static char *rules_source(const char **name, size_t *len, Sbuf *errs)
{
    const char *path = getenv("DIAL_RULES");
    if (!path || !*path) {
        *name = "derivatives.rules";
        *len = strlen(rules_text);
        return strdup(rules_text);
    }
    *name = path;
    FILE *f = fopen(path, "rb");
    if (!f) {
        sb_printf(errs, "dial: cannot open the rule file '%s'\n", path);
        return NULL;
    }
    Sbuf b;
    sb_init(&b);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) sb_add(&b, buf, n);
    fclose(f);
    *len = b.len;
    return b.s ? b.s : strdup("");
}

int rules_load(Vm *vm, Sbuf *errs)
{
    if (vm->rules_loaded) return 0;
    const char *name;
    size_t len;
    char *text = rules_source(&name, &len, errs);
    if (!text) return -1;
    const Source *src = vm_addsource(vm, name, text, len);
    free(text);
    Arena *ar = src ? arena_new() : NULL;
    if (!ar || vm_keeparena(vm, ar)) {
        arena_free(ar);
        sb_puts(errs, "dial: out of memory loading the derivative rules\n");
        return -1;
    }
    ParseResult pr = parse_source(ar, src, errs);
    if (!pr.program) return -1;
    int bad = 0;
    for (int i = 0; i < pr.program->n; i++) {
        const Node *s = pr.program->k[i];
        if (s->kind != N_RULE) {
            diag_report(errs, src, s->loc.first_line, s->loc.first_column,
                        "the rule file holds only rule declarations");
            bad = 1;
        } else if (rules_add(vm, s, 0, src, errs)) {
            bad = 1;
        }
    }
    if (bad) return -1;
    vm->rules_loaded = 1;
    return 0;
}
