"""Shared by the PyTorch peers: float64, the mode argument, checkpointed loops,
and the output convention (stdout: loss, then grad_checksum; stderr: `time S`).

Modes: forward (loss only, no autograd), tape (store-all autograd),
checkpoint (torch.utils.checkpoint over about sqrt(n) segments of the loop).
The in-program time starts once the inputs are built (after `import torch`);
it is the process's CPU time (time.process_time), as in the C and Lua peers,
so with several torch threads it is their sum."""
import math
import sys
import time

import torch
from torch.utils.checkpoint import checkpoint

torch.set_default_dtype(torch.float64)

MODES = ("forward", "tape", "checkpoint")


def mode():
    m = sys.argv[1] if len(sys.argv) > 1 else "tape"
    if m not in MODES:
        sys.exit(f"usage: {sys.argv[0]} [{'|'.join(MODES)}]")
    return m


def run_loop(steps, state, n, m, params=()):
    """Run steps(state, params, a, b) over [0, n): in one go, or (checkpoint mode)
    in about sqrt(n) segments under torch.utils.checkpoint with its default,
    reentrant implementation: a segment's forward runs without autograd (no
    graph, no saved tensors) and is recomputed with it during backward. state
    is a tuple of tensors carried by the loop; params (e.g. W in W2) are passed
    to every segment as inputs too, so that they receive their gradients."""
    if m != "checkpoint":
        return steps(state, params, 0, n)
    k = len(state)
    seg = max(1, round(math.sqrt(n)))
    for a in range(0, n, seg):
        b = min(n, a + seg)
        out = checkpoint(lambda *t, a=a, b=b: steps(t[:k], t[k:], a, b), *state, *params,
                         use_reentrant=True)
        state = out if isinstance(out, tuple) else (out,)
    return state


def clock():
    return time.process_time()


def report(t0, loss, checksum=None):
    sys.stderr.write(f"time {time.process_time() - t0:.6f}\n")
    print(repr(float(loss)))
    if checksum is not None:
        print(repr(float(checksum)))
