/* compile.h: syntax tree to bytecode.
 *
 * A chunk (a file, a -e string, a REPL line) compiles to one Proto for its
 * top-level code plus one per function; all are registered in the Vm.
 * Names resolve at compile time: locals to registers, top-level names to
 * global slots, the rest to builtins; a name that is none of these is a
 * compile error with its position. */
#ifndef DIAL_COMPILE_H
#define DIAL_COMPILE_H

#include "ast.h"
#include "vm.h"

/* Returns the chunk's Proto, or NULL with the reports in errs. When `echo`
 * is set (the REPL), a final expression statement's value is returned by
 * the chunk instead of discarded. */
Proto *compile_chunk(Vm *vm, const Node *program, const Source *src,
                     int echo, Sbuf *errs);

/* Compile one function (N_FN) that is not bound to a global, such as the
 * functions grad generates. Its Proto is registered in the VM; NULL on
 * errors. */
Proto *compile_function(Vm *vm, const Node *fn, const Source *src, Sbuf *errs);

#endif
