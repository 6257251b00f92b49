/* vm.h: compiled functions (Proto), the VM state, and running bytecode.
 *
 * A Vm owns everything a session creates: globals, every Proto and Source
 * ever compiled into it (functions are values that may outlive the chunk
 * that defined them, so they live as long as the Vm), the value stack and
 * the runtime context. Nothing is global: two Vms never share state. */
#ifndef DIAL_VM_H
#define DIAL_VM_H

#include "diag.h"
#include "fuse.h"
#include "opcodes.h"
#include "sbuf.h"
#include "value.h"

typedef struct Proto {
    char *name;            /* "main chunk" for top-level code */
    int nparams;
    int nregs;             /* registers the frame needs */
    Ins *code;
    int ncode;
    int *line, *col;       /* source position of each instruction */
    Value *k;              /* constants (own their references) */
    int nk;
    unsigned char *pat;    /* index patterns: [nitems, reg lo, reg hi, item...] */
    int npat;
    Kernel *kern;          /* fused kernels (FUSED) */
    int nkern;
    const Source *src;
} Proto;

typedef struct Frame {
    Proto *p;
    const Ins *pc;         /* next instruction */
    size_t base;           /* index of R[0] in the value stack */
} Frame;

struct Node;
struct Arena;

#define VM_MAXCKNEST 200   /* nested loop runners: each runs the interpreter
                              again on the C stack */

typedef struct RuleRef {
    const struct Node *node;   /* N_RULE */
    int user;                  /* declared by a script */
} RuleRef;

typedef struct Vm {
    Ctx ctx;
    Value *g;              /* globals */
    char **gname;
    int ng, gcap;
    int *ghash;            /* open addressing over gname: slot+1, 0 = empty */
    int ghcap;
    Proto **protos;        /* every function ever compiled */
    int nprotos, protocap;
    Source **srcs;
    int nsrcs, srccap;
    Value *stack;
    size_t stacksize;
    Frame *frames;
    int nframes, framecap;
    int maxdepth;          /* recursion limit in calls */
    Sbuf err;              /* the last error report */
    volatile int interrupt;
    const struct Node **gfn;   /* per global: the `fn` defining it, for grad */
    int gfncap;
    struct Arena **arenas; /* syntax trees kept for grad and rules */
    int narenas, arenacap;
    RuleRef *rules;
    int nrules, rulecap;
    int rules_loaded;
    Sbuf *adsrc;           /* when set, grad appends the source it generates */
    size_t ad_budget;      /* bytes AD may keep; 0: VM_AD_BUDGET */
    int cknest;            /* loop runners running inside each other */
    struct Run *ckrun[VM_MAXCKNEST];   /* the reverse runners by depth: their
                                          back functions' OP_CKNEXT */
    /* embedding (api.c) */
    uint64_t steps;        /* backward jumps and calls so far in this run */
    uint64_t steplimit;    /* a run stops when steps exceed it; 0: none */
    /* Runs host function `fn` (OP_HOST): borrows args, writes *out; -1
     * with the message in ctx.msg. */
    int (*host)(struct Vm *vm, int fn, const Value *args, int nargs, Value *out);
    void *hostdata;
} Vm;

/* The default AD memory budget: what a checkpointed loop without a count
 * may spend on snapshots (checkpoint.c). */
#define VM_AD_BUDGET ((size_t)256 << 20)

Vm *vm_new(void);
void vm_free(Vm *vm);

/* Global slots by name, created on first use (value nil). -1 when out of
 * memory. */
int vm_global(Vm *vm, const char *name);
int vm_findglobal(const Vm *vm, const char *name);

Proto *vm_newproto(Vm *vm, const char *name, const Source *src);
/* The syntax tree of the function a global was defined by (`fn`), or NULL;
 * grad transforms it. vm_setfnast returns the previous one. */
const struct Node *vm_fnast(const Vm *vm, const char *name);
const struct Node *vm_setfnast(Vm *vm, int slot, const struct Node *fn);
/* The VM takes an arena of syntax trees that functions or rules refer to;
 * -1 when out of memory (the arena is then the caller's). */
int vm_keeparena(Vm *vm, struct Arena *a);

/* Undo a failed compile: free protos and forget globals created after the
 * counts given. */
void vm_dropprotos(Vm *vm, int nprotos);
void vm_dropglobals(Vm *vm, int nglobals);
const Source *vm_addsource(Vm *vm, const char *name, const char *text, size_t len);

/* Run a compiled chunk (no parameters). On error returns -1 with the report
 * (position, source line, caret, traceback) in vm->err. *result receives
 * the chunk's return value when non-NULL. */
int vm_run(Vm *vm, Proto *main, Value *result);

/* Call a function value (T_FN or T_BUILTIN) with borrowed arguments, as
 * a run of its own (the host API's entry): 0 with *result a new reference,
 * or -1 with the report in vm->err. */
int vm_call(Vm *vm, const Value *fn, const Value *args, int nargs, Value *result);

/* NULL when a builtin accepts nargs arguments, else the message, in buf. */
struct Builtin;
const char *vm_arity(const struct Builtin *bi, int nargs, char *buf, size_t n);

void disasm_proto(Sbuf *out, const Proto *p);

#endif
