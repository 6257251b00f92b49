/* rules.h: the derivative rules (lib/derivatives.rules, and `rule`
 * declarations in scripts).
 *
 * The rule file is compiled into libdial (rules_text.c, generated from the
 * file at build time), so an embedding host needs no files; the environment
 * variable DIAL_RULES may name another file to load instead (for working on
 * the rules). Rules are parsed by the same parser, once per VM, and kept as
 * syntax trees that ad.c instantiates. */
#ifndef DIAL_RULES_H
#define DIAL_RULES_H

#include "ast.h"
#include "diag.h"
#include "sbuf.h"
#include "vm.h"

/* The most operands a rule may have. */
#define RULE_MAXOPS 8

/* Load the rule file into vm (once); -1 with reports in errs. */
int rules_load(Vm *vm, Sbuf *errs);

/* Check a rule (N_RULE) and add it; a script's rule for one of its
 * functions (`user`) replaces differentiating the function's body. */
int rules_add(Vm *vm, const Node *rule, int user, const Source *src, Sbuf *errs);
/* Forget the user rules of `name` (a host function registered again
 * without a derivative). */
void rules_drop(Vm *vm, const char *name);

/* The rule for `name` called with nargs arguments: one with exactly nargs
 * operands, else the one with the most operands below nargs (the rest are
 * not differentiated). With `user`, only rules declared by scripts. */
const Node *rules_find(const Vm *vm, const char *name, int nargs, int user);

/* Whether n is a local of the rule's body (assigned in it, not an adjoint). */
int rules_is_local(const Node *rule, const char *n);

#endif
