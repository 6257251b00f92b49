/* repl.h: the interactive session of the `dial` program (src/repl.c). */
#ifndef DIAL_REPL_H
#define DIAL_REPL_H

#include "dial.h"

/* Read statements from the terminal on standard input and run them in vm,
 * printing the value of each expression statement, until Ctrl-D or :quit.
 * Line editing, history and completion when built with readline or
 * libedit. Returns the program's exit status (0). */
int repl_run(dial_vm *vm);

#endif
