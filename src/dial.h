/* dial.h: the public API of libdial, the dial interpreter.
 *
 * A dial_vm is an independent interpreter: its globals, functions and
 * memory belong to it alone, so separate VMs may run in separate threads.
 * No function here exits or aborts the process; failures come back as a
 * status code, with a message from dial_error().
 *
 * Messages have the form `file:line:col: error: message`, followed by the
 * source line, a caret under the column and, for runtime errors inside
 * functions, a traceback. */
#ifndef DIAL_H
#define DIAL_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DIAL_VERSION "0.1.0"

typedef struct dial_vm dial_vm;

/* Status codes. */
enum {
    DIAL_OK = 0,
    DIAL_ERROR_SYNTAX,     /* the source does not parse or compile */
    DIAL_ERROR_RUNTIME,    /* an error while running */
    DIAL_ERROR_FILE,       /* a file could not be read */
    DIAL_ERROR_MEMORY,     /* out of memory */
    DIAL_ERROR_USAGE,      /* the API was misused (NULL arguments, ...) */
    DIAL_INCOMPLETE        /* DIAL_REPL: the input ends inside a block,
                              bracket or string; append more and retry */
};

/* Flags of dial_exec. */
enum {
    DIAL_ECHO = 1,         /* print the value of a final expression statement */
    DIAL_DISASM = 2,       /* list the bytecode on the output instead of running */
    DIAL_REPL = 4          /* report unfinished input as DIAL_INCOMPLETE */
};

/* A new VM, or NULL when out of memory. */
dial_vm *dial_new(void);
/* Free a VM and everything it holds. NULL is allowed. */
void dial_free(dial_vm *vm);

/* Compile and run `len` bytes of source; `name` is used in messages.
 * Globals and functions persist in the VM across calls. */
int dial_exec(dial_vm *vm, const char *name, const char *code, size_t len, unsigned flags);
/* The same for a whole file. */
int dial_exec_file(dial_vm *vm, const char *path, unsigned flags);

/* The report of the last failed call ("" after success). Valid until the
 * next call on the VM. */
const char *dial_error(const dial_vm *vm);

/* Where `print` writes (stdout by default). */
void dial_set_output(dial_vm *vm, FILE *out);

/* Bind the global `args` to a tuple of the given strings. */
int dial_set_args(dial_vm *vm, int argc, char **argv);

/* The AD statistics of everything differentiated so far, as one JSON
 * object: forward_steps, taped_steps, snapshots_peak, snapshot_bytes_peak,
 * tape_bytes_peak, pushes. Writes at most `size` bytes including the NUL
 * and returns the full length, like snprintf. */
int dial_ad_stats(const dial_vm *vm, char *buf, size_t size);

/* Ask a running computation to stop with the error "interrupted". Safe to
 * call from a signal handler or another thread. A request made while
 * nothing runs is dropped when the next run starts. */
void dial_interrupt(dial_vm *vm);

/* --- Introspection, for interactive front ends (the REPL) --------------- */

/* Kinds of names, for dial_name. */
enum {
    DIAL_NAME_GLOBAL = 1,  /* a global holding a value (functions included) */
    DIAL_NAME_BUILTIN = 2, /* a builtin function, grad and value_and_grad */
    DIAL_NAME_KEYWORD = 4  /* a reserved word of the language */
};

/* The i-th (from 0) of the names of the kinds in `kinds` (DIAL_NAME_*
 * or-ed): globals in the order they were created, then builtins, then
 * keywords. NULL past the last one, or when vm is NULL. The string is
 * valid until the VM next runs code. For completion: call with i = 0, 1,
 * ... until NULL. */
const char *dial_name(const dial_vm *vm, int i, unsigned kinds);

/* Write the bytecode listing of the function the global `name` holds to
 * `out` (a function defined with `fn`, or one made by grad). An unknown
 * name, a value that is not a compiled function (a builtin, a number ...)
 * or a NULL name or stream gives DIAL_ERROR_USAGE with the reason in
 * dial_error(); so does a NULL vm, without one. */
int dial_disasm(dial_vm *vm, const char *name, FILE *out);

#ifdef __cplusplus
}
#endif

#endif
