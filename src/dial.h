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

/* Ask a running computation to stop with the error "interrupted". Safe to
 * call from a signal handler or another thread. A request made while
 * nothing runs is dropped when the next run starts. */
void dial_interrupt(dial_vm *vm);

#ifdef __cplusplus
}
#endif

#endif
