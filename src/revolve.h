/* revolve.h: binomial checkpointing schedules for loops reversed by AD.
 *
 * This module owns the scheduling brain only: the counting (rv_beta,
 * rv_reps, rv_t), the offline schedule of a loop whose trip count n is
 * known (rv_*, Griewank & Walther's Revolve: exactly t(n, s) untaped
 * steps, n taped ones, and among such schedules the fewest snapshot
 * writes), and the online schedule of a loop whose trip count is known only
 * when it ends (ro_*). It knows nothing of the VM: it says what to do next,
 * one action at a time; the loop runner does it. No globals; the state is
 * O(s) integers.
 *
 * The model: a loop of n steps is a chain x_{i+1} = F_i(x_i); x_i is the
 * state (every loop-carried variable, the loop index i included) before
 * step i. A slot holds one stored state. `s` counts every slot, the one
 * holding x_0 included (as Revolve counts). Any s >= 1 is valid, s >= n
 * too, and so is n = 0.
 *
 * Actions (rv_action; `index` is always the step index the action is about,
 * so the runner always knows which x_i its current state is):
 *
 *   RV_NONE          (ro_step only) nothing to store before this step.
 *   RV_ADVANCE       the current state is x_index: run steps index ..
 *                    index+count-1 without cache (count >= 1), in order,
 *                    each with its own loop index. The state becomes
 *                    x_{index+count}.
 *   RV_STORE         copy the current state x_index into slot `slot`. The
 *                    slot is free, or (ro_step only) holds an older
 *                    snapshot that is dropped: overwrite it.
 *   RV_RESTORE       make the state in slot `slot`, x_index, the current
 *                    state. keep = 1: the slot keeps it for a later
 *                    restore. keep = 0: its last use, the slot is free
 *                    afterwards (the runner may move the state instead of
 *                    copying it).
 *   RV_FREE          slot `slot` (holding x_index) is not needed again:
 *                    release it. (Online only, for a snapshot of the last
 *                    state that the cached last step made useless.)
 *   RV_STEP_REVERSE  the current state is x_index: run step index with
 *                    cache (taped), then reverse it at once (the adjoint of
 *                    x_{index+1} becomes the adjoint of x_index) and drop
 *                    its cache. The current state is undefined afterwards:
 *                    the next action is RV_RESTORE or RV_END.
 *   RV_REVERSE       (online only, once, first) reverse step index = n-1
 *                    from the cache its forward run left alive.
 *   RV_END           the schedule is over: steps n-1 .. 0 have been
 *                    reversed, in that order, and every slot is free.
 *
 * Steps are reversed exactly once each, in the order n-1, n-2, ..., 0.
 * An error (a broken invariant, out of memory) gives RV_ERROR. */
#ifndef REVOLVE_H
#define REVOLVE_H

#include <stdint.h>

#define RV_SAT INT64_MAX /* what saturating counts give when too large */

typedef enum {
    RV_NONE,
    RV_ADVANCE,
    RV_STORE,
    RV_RESTORE,
    RV_FREE,
    RV_STEP_REVERSE,
    RV_REVERSE,
    RV_END,
    RV_ERROR
} rv_kind;

typedef struct {
    rv_kind kind;
    int64_t index; /* the step (or state x_index) the action is about */
    int64_t count; /* RV_ADVANCE: how many steps */
    int64_t slot;  /* RV_STORE, RV_RESTORE, RV_FREE: the slot, 0 .. s-1 */
    int keep;      /* RV_RESTORE: 1 if the slot keeps the state */
} rv_action;

/* beta(c, r) = C(c + r, c), the longest chain c slots reverse when no step
 * runs untaped more than r times; 0 when c < 0 or r < 0; RV_SAT when it
 * does not fit. */
int64_t rv_beta(int64_t c, int64_t r);
/* The repetition number: the least r with beta(s, r) >= n (0 for n <= 1). */
int64_t rv_reps(int64_t n, int64_t s);
/* t(n, s): the fewest untaped step evaluations that reverse n steps with s
 * slots, the forward sweep included: r*n - beta(s+1, r-1); 0 for n <= 1;
 * -1 if s < 1 or n < 0; RV_SAT if it does not fit in 64 bits. */
int64_t rv_t(int64_t n, int64_t s);

/* How advances split d steps with c slots, for every d in lo < d <= hi
 * (one repetition number): see revolve.c, advance_by. */
typedef struct {
    int64_t c, lo, hi, near, far, mid, first;
} rv_split;

/* --- Offline: n known ----------------------------------------------------
 * rv_init, then rv_next until RV_END; the current state starts as x_0 (in
 * no slot). The first action stores x_0 into slot 0 when n >= 2. Slots are
 * used as a stack: a store always goes to the lowest free slot. */
typedef struct {
    int64_t lo, hi;      /* the steps reversed: lo .. hi-1 */
    int64_t slots;       /* slots this schedule may use */
    int64_t *pos;        /* pos[k]: the index of the state in stack slot k */
    const int64_t *map;  /* the runner's slot of stack slot k; NULL: k */
    int64_t top;         /* the highest stack slot in use, -1: none */
    int64_t cur;         /* the current state's index, -1: undefined */
    int64_t fine;        /* steps fine .. hi-1 are reversed */
    int owned;           /* pos was allocated by rv_init */
    rv_split memo[16];   /* by c mod 16 */
} rv_cursor;

/* 0, or -1 when n < 0, s < 1 or out of memory. */
int rv_init(rv_cursor *c, int64_t n, int64_t s);
rv_action rv_next(rv_cursor *c);
void rv_free(rv_cursor *c);

/* --- Online: n known when the loop ends ----------------------------------
 * ro_init; then before each step i (once the loop condition holds),
 * ro_step: it returns RV_STORE (store x_i in that slot, overwriting the
 * snapshot it held, if any) or RV_NONE; then the runner runs step i WITH
 * cache, dropping the previous step's cache (only the latest is kept).
 * When the condition fails (n = the number of steps run), ro_end, then
 * ro_next until RV_END, like rv_next: its first actions are RV_FREE for a
 * snapshot of x_{n-1} (if one was taken) and RV_REVERSE of step n-1.
 *
 * At most s snapshots are alive at any time. Snapshots are placed by a
 * recursive plan (like Stumm & Walther's for n <= beta(s, 2), and with Wang,
 * Moin & Iaccarino's levels to choose which snapshot to drop): the
 * snapshots at any moment split the steps run so far into segments each
 * reversible within the repetition number the offline optimum for that
 * many steps has, so no step runs more than rv_reps(n, s) + 1 times in all;
 * for n <= beta(s, 2) the total body evaluations (taped and untaped) stay
 * within t(n, s) + n + 1. The reversal runs the offline schedule on each
 * segment, the last first, segment j with s - j slots. */
typedef struct {
    int64_t b, c, target, cur, k;
} ro_frame;

typedef struct {
    int64_t pos, lvl, slot; /* the state x_pos, its level, its slot */
} ro_snap;

typedef struct {
    int64_t s;            /* slots */
    int64_t t;            /* steps run so far: the state is x_t */
    int64_t used, cap;    /* snapshots alive; room in the arrays */
    ro_snap *snap;        /* the snapshots, in order of position */
    ro_frame *fr;         /* the plan: the stack of unfinished processes */
    int64_t depth, frcap;
    int64_t next_t, next_lvl; /* the next planned store */
    /* the reversal, after ro_end */
    int phase;
    int64_t n, seg_end;   /* steps seg_end .. n-1 are reversed */
    char *held;           /* held[slot]: a snapshot being kept */
    int64_t *subpos, *submap;
    rv_cursor sub;
    int in_sub;
} ro_state;

int ro_init(ro_state *st, int64_t s);
rv_action ro_step(ro_state *st);
int ro_end(ro_state *st);
rv_action ro_next(ro_state *st);
void ro_free(ro_state *st);

#endif
