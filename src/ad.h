/* ad.h: reverse-mode differentiation by source transformation.
 *
 * grad(f, ...) compiles to a function that runs a forward sweep of f and
 * then a reverse sweep, both generated here as ordinary syntax trees and
 * compiled by compile.c. Every function f reached from differentiated code
 * gets a pair: f'fwd (f's computation, caching on the tape what the
 * reverse needs) and f'rev (taking the adjoint of f's result, returning
 * the adjoints of its parameters).
 *
 * The cache holds exactly the values the active rules read, and holds them
 * by restoring: before an assignment overwrites a variable whose value a
 * rule reads, the old value is pushed (a reference: arrays are immutable
 * under copy on write); the reverse sweep pops it back right after that
 * statement's adjoint, so each rule reads its operands as plain variables.
 * Values nothing overwrites (parameters, loop-invariant values) are never
 * pushed. Branches push their condition, loops their start and trip count.
 *
 * The derivative rules come from lib/derivatives.rules (rules.c). */
#ifndef DIAL_AD_H
#define DIAL_AD_H

#include "ast.h"
#include "sbuf.h"
#include "vm.h"

/* The Proto of grad(fn, wrt...) (value_and_grad when `value`), compiled
 * into the VM; NULL with reports in errs. `at` locates errors. */
Proto *ad_grad(Vm *vm, const Node *fn, const int *wrt, int nwrt, int value,
               const Source *src, Loc at, Sbuf *errs);

#endif
