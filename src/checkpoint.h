/* checkpoint.h: the runner of checkpointed loops in differentiated code.
 *
 * grad turns `for i in a..b checkpoint(s) { body }` into calls of a step
 * function v' = step(i, v, u) (ad.c: ckpt_loop), whose plain version runs
 * the untaped advances, and whose fwd/rev pair runs a step with its cache
 * and reverses it. The forward sweep hands the loop to ckpt_forward, which
 * follows a Revolve schedule (revolve.h) from x_0 up to running the last
 * step taped, and leaves a record of the schedule's snapshots on the AD
 * tape; the reverse sweep calls ckpt_reverse, which takes the record back,
 * reverses the last step and hands the rest of the schedule to the loop's
 * back function: at most s states stored, only one step's cache alive,
 * exactly t(n, s) untaped steps. Both run dial functions through vm_call,
 * so they are VM instructions (OP_CKPT), not intrinsics. */
#ifndef DIAL_CHECKPOINT_H
#define DIAL_CHECKPOINT_H

#include "vm.h"

/* args: count (-1: from the AD budget), from, to, (v..), (u..), step,
 * step'fwd, line, col. *out: the tuple of the carried values after the
 * loop. */
int ckpt_forward(Vm *vm, const Value *args, int nargs, Value *out);
/* args: the adjoints of the carried values after the loop (a tuple),
 * step'tail (reverses the taped last step), step'back (the rest, see
 * ckpt_next), the read values' adjoints so far (a tuple). *out: (the
 * carried values' adjoints before the loop, the read values' with the
 * loop's contributions added, the carried values before the loop). */
int ckpt_reverse(Vm *vm, const Value *args, int nargs, Value *out);
/* OP_CKNEXT of a loop's back function: run the reverse runner at depth
 * *run's next actions up to one the back function carries out: blk[0] =
 * 0 at the end, else blk[1] = 1 to advance over steps blk[2] .. blk[3]-1
 * untaped, 0 to run step blk[2] with its cache and reverse it; the state
 * is blk[4 ..], which a restore sets and a store reads. */
int ckpt_next(Vm *vm, const Value *run, Value *blk);
/* args: from, to, (v..), the values a step pushes. *out: 1 when a loop
 * without `checkpoint` would cache more than the AD budget (each pushed
 * value counted the size of the state), so it runs checkpointed. */
int ckpt_auto(Vm *vm, const Value *args, int nargs, Value *out);

#endif
