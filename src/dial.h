/* dial.h: the public API of libdial, the dial interpreter.
 *
 * A dial_vm is an independent interpreter: its globals, functions and
 * memory belong to it alone, so separate VMs may run in separate threads.
 * The library has no global state. One VM, and the arrays made from it,
 * are used by one thread at a time (dial_interrupt excepted).
 *
 * No function here exits or aborts the process; failures come back as a
 * status code (DIAL_OK is 0), with a message from dial_error() and the
 * code again from dial_error_code(). Functions returning a pointer return
 * NULL on failure.
 *
 * Messages have the form `file:line:col: error: message`, followed by the
 * source line, a caret under the column and, for runtime errors inside
 * functions, a traceback. Misuse of the API (NULL where a value is needed,
 * unknown names, wrong argument counts or shapes, arrays of another or a
 * freed VM) is DIAL_ERROR_USAGE with a message naming the function.
 *
 * Link with `pkg-config --cflags --libs dial`. */
#ifndef DIAL_H
#define DIAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DIAL_VERSION "0.1.0"

typedef struct dial_vm dial_vm;
/* A value handed between the host and a VM: an n-d float64 array (a number
 * is a 0-d array) or a tuple of values. See "Arrays" below. */
typedef struct dial_array dial_array;

/* Status codes. */
enum {
    DIAL_OK = 0,
    DIAL_ERROR_SYNTAX,     /* the source does not parse or compile */
    DIAL_ERROR_RUNTIME,    /* an error while running */
    DIAL_ERROR_FILE,       /* a file could not be read */
    DIAL_ERROR_MEMORY,     /* out of memory */
    DIAL_ERROR_USAGE,      /* the API was misused (NULL arguments, ...) */
    DIAL_INCOMPLETE,       /* DIAL_REPL: the input ends inside a block,
                              bracket or string; append more and retry */
    DIAL_ERROR_LIMIT,      /* the memory or the step limit was exceeded */
    DIAL_ERROR_INTERRUPTED /* dial_interrupt stopped the computation */
};

/* Flags of dial_exec. */
enum {
    DIAL_ECHO = 1,         /* print the value of a final expression statement */
    DIAL_DISASM = 2,       /* list the bytecode on the output instead of running */
    DIAL_REPL = 4,         /* report unfinished input as DIAL_INCOMPLETE */
    DIAL_AD_SOURCE = 8     /* print the functions grad generates, as dial-like
                              source, on the output instead of running */
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
 * next call on the VM. With a NULL vm, a fixed message. */
const char *dial_error(const dial_vm *vm);
/* The status code of the last call on the VM that returns one (DIAL_OK
 * after success; DIAL_ERROR_USAGE for a NULL vm). */
int dial_error_code(const dial_vm *vm);

/* Where `print` writes (stdout by default). */
void dial_set_output(dial_vm *vm, FILE *out);

/* Bind the global `args` to a tuple of the given strings. */
int dial_set_args(dial_vm *vm, int argc, char **argv);

/* The AD statistics of everything differentiated so far, as one JSON
 * object: forward_steps, taped_steps, snapshots_peak, snapshot_bytes_peak,
 * tape_bytes_peak, pushes. Writes at most `size` bytes including the NUL
 * and returns the full length, like snprintf. */
int dial_ad_stats(const dial_vm *vm, char *buf, size_t size);

/* Print on `out` the binomial checkpointing schedule of a loop of n steps
 * with s snapshot slots (s counts the slot of the loop's initial state):
 * one line per action with a picture row (steps across, time downwards;
 * for n up to 600, a column standing for several steps beyond 52), then
 * the totals: untaped advances against the optimum t(n, s), taped steps,
 * snapshot writes, peak slots. online: the schedule of a `while` loop that
 * turns out to run n steps (its forward sweep is taped, only the latest
 * step's cache kept). DIAL_ERROR_USAGE unless 0 <= n <= 10^6 and s >= 1;
 * DIAL_ERROR_MEMORY. */
int dial_schedule(FILE *out, long long n, long long s, int online);

/* Ask a running computation to stop with the error "interrupted"
 * (DIAL_ERROR_INTERRUPTED). Safe to call from a signal handler or another
 * thread, as long as the VM is not being freed. A request made while
 * nothing runs is dropped when the next run starts. The VM stays usable. */
void dial_interrupt(dial_vm *vm);

/* -- Limits --------------------------------------------------------------
 * Exceeding a limit stops the run with DIAL_ERROR_LIMIT; everything it
 * allocated is released and the VM stays usable (raise the limit and run
 * again). */

/* The most bytes of arrays, strings and tuples the VM may hold at once
 * (host memory wrapped by dial_array_wrap does not count); 0, the
 * default, for no limit. A limit below what is already held only makes
 * further allocations fail. */
int dial_set_memory_limit(dial_vm *vm, size_t bytes);
/* The bytes the memory limit counts that the VM holds now: its globals,
 * the arrays the host holds handles to, and nothing a finished or stopped
 * run left behind. */
size_t dial_memory_used(const dial_vm *vm);
/* The most steps one run may take (each dial_exec, dial_call or dial_grad
 * is a run); steps are loop iterations (backward jumps) and calls of dial
 * functions, so straight-line code is never cut short. 0, the default, for
 * no limit. */
int dial_set_step_limit(dial_vm *vm, uint64_t steps);
/* The AD memory budget in bytes: how much cache differentiated code may
 * keep before loops are checkpointed (0: the default, no budget). Stored
 * for the checkpointing of loops; read back with dial_ad_budget. */
int dial_set_ad_budget(dial_vm *vm, size_t bytes);
size_t dial_ad_budget(const dial_vm *vm);

/* -- Arrays ----------------------------------------------------------------
 * A dial_array is a handle owned by the host: every function returning one
 * hands the host a new handle, which the host releases with
 * dial_array_free. Handles belong to the VM that made them and may be
 * passed only to it (another VM's array is DIAL_ERROR_USAGE). Arrays have
 * value semantics: what a VM later does never changes an array the host
 * holds, and dial never writes into host memory.
 *
 * When the VM is freed first, its handles stay valid as handles but are
 * empty: accessors return -1 or NULL, passing them is DIAL_ERROR_USAGE,
 * and dial_array_free still frees them (it must still be called). */

/* A new array of the given shape (ndim 0 to 16, extents >= 0) with
 * product(shape) elements copied from data in C order (row major); NULL
 * data gives zeros. NULL on error (see dial_error). */
dial_array *dial_array_new(dial_vm *vm, int ndim, const int64_t *shape, const double *data);
/* A number (a 0-d array). */
dial_array *dial_number(dial_vm *vm, double x);
/* An array over host memory, without copying: data (C order, ndim >= 1)
 * is read in place by dial, never written (a store into it inside dial
 * copies first, as copy on write does for a shared array). The host
 * keeps the memory alive and unchanged while the VM may read it: until
 * `release` (when not NULL) is called with `ud`, which happens once no
 * value of the VM refers to the memory any more, at the latest in
 * dial_free. (A value kept in a global keeps referring to the memory.)
 * Changes the host makes to the memory between runs are seen by later
 * runs. NULL on error, and then `release` is not called. */
dial_array *dial_array_wrap(dial_vm *vm, int ndim, const int64_t *shape, double *data,
                            void (*release)(void *ud), void *ud);
/* A tuple of the given values (copied references; n >= 0). */
dial_array *dial_tuple_new(dial_vm *vm, dial_array *const *items, int n);

/* The number of dimensions (0 for a number); -1 for a tuple, NULL or an
 * array whose VM was freed. */
int dial_array_ndim(const dial_array *a);
/* The extents (ndim of them; a valid pointer for ndim 0); NULL for a
 * tuple, NULL or a freed VM's array. Valid while the handle lives. */
const int64_t *dial_array_shape(const dial_array *a);
/* The element count; -1 as for dial_array_ndim. */
int64_t dial_array_size(const dial_array *a);
/* The elements in C order, read-only; NULL as for dial_array_shape (and
 * possibly for size 0). Valid while the handle lives. */
const double *dial_array_data(const dial_array *a);
/* The value of a one-element array or a number in *x; DIAL_ERROR_USAGE
 * otherwise. */
int dial_array_number(const dial_array *a, double *x);
/* The length of a tuple; -1 when `a` is not a tuple. */
int dial_tuple_size(const dial_array *a);
/* A new handle to item i of a tuple; NULL when out of range. */
dial_array *dial_tuple_get(const dial_array *a, int i);
/* Release a handle. NULL is allowed. */
void dial_array_free(dial_array *a);

/* -- Globals and calls ----------------------------------------------------- */

/* Bind the global `name` to a value (a new global when unknown). Scripts
 * compiled afterwards see it. */
int dial_set_global(dial_vm *vm, const char *name, const dial_array *value);
/* A new handle to the value of global `name` (an array, number or tuple);
 * DIAL_ERROR_USAGE when there is no such global or it holds a function. */
int dial_get_global(dial_vm *vm, const char *name, dial_array **value);

/* Call the function `name` (a `fn` of a script run in this VM, a host
 * function, or a builtin) with nargs arguments. *result (when result is
 * not NULL) receives its value: an array, a number, or a tuple for
 * `return a, b`; NULL for a function that returns nothing.
 * Runtime errors are DIAL_ERROR_RUNTIME (with the position in the
 * script), limits DIAL_ERROR_LIMIT, interrupts DIAL_ERROR_INTERRUPTED. */
int dial_call(dial_vm *vm, const char *name, dial_array *const *args, int nargs,
              dial_array **result);

/* The gradient of the scalar function `name` (a `fn` of a script) at
 * args, with respect to parameters argnums[0 .. nargnums) (NULL and 0:
 * parameter 0), as value_and_grad(name, argnums...) computes it.
 * *value (when not NULL) receives the function's value, grads[k] the
 * gradient for argnums[k] (of that argument's shape); on failure they are
 * all set to NULL. The derivative is compiled on first use and kept (a
 * redefinition of the function compiles it again); compile errors (a
 * host function without derivative, say) are DIAL_ERROR_SYNTAX. */
int dial_grad(dial_vm *vm, const char *name, const int *argnums, int nargnums,
              dial_array *const *args, int nargs, dial_array **value, dial_array **grads);

/* -- Host functions ---------------------------------------------------------
 * A host function is a C function dial code calls by name. It borrows its
 * arguments (handles valid during the call only; do not free them) and
 * stores a new handle (from dial_array_new, dial_number, dial_tuple_new
 * or dial_array_wrap, of this vm) in *out, which dial takes over. It
 * returns DIAL_OK, or another code after dial_fail(vm, message): the run
 * then stops with a runtime error at the call. Inside a host function,
 * only the array functions may be called on vm (not dial_exec, dial_call,
 * dial_grad, dial_register), and no dial_interrupt is needed: a long host
 * computation is not interruptible by dial. */
typedef int (*dial_host_fn)(dial_vm *vm, void *ud, dial_array *const *args, int nargs,
                            dial_array **out);

/* The reverse-mode derivative of a host function: given its arguments,
 * its result `out` and the adjoint `dout` (of out's shape) of the result,
 * store in dargs[k] the adjoint of args[k] (of args[k]'s shape; NULL means
 * zero). Same rules as dial_host_fn. */
typedef int (*dial_host_rev)(dial_vm *vm, void *ud, dial_array *const *args, int nargs,
                             const dial_array *out, const dial_array *dout, dial_array **dargs);

/* Make `name` (an identifier that is not a builtin's name) a global
 * function of nargs (0 to 8 with rev, else 0 to 64) arguments, calling fn
 * with `ud`. With rev, the function is differentiable: inside grad it is a
 * primitive whose derivative rule calls rev (its arguments and result are
 * kept for the reverse sweep). Without rev, a call of it on a
 * differentiated value is a compile error of grad ("no derivative rule").
 * Register before compiling scripts that call it; registering a name
 * again replaces the function (and its derivative: registered again
 * without one, code differentiated earlier stops with an error where it
 * would have used the old derivative, and grad no longer accepts it). */
int dial_register(dial_vm *vm, const char *name, int nargs, dial_host_fn fn, dial_host_rev rev,
                  void *ud);

/* For host functions: set the message of the error they are about to
 * return, and return DIAL_ERROR_RUNTIME. */
int dial_fail(dial_vm *vm, const char *message);

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
