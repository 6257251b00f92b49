"""Shared by the PyTorch peers: float64, the mode argument, checkpointed loops,
and the output convention (stdout: loss, then grad_checksum; stderr: `time S`).

Modes: forward (loss only, no autograd), tape (store-all autograd),
checkpoint (torch.utils.checkpoint over about sqrt(n) segments of the loop).
The in-program time starts once the inputs are built (after `import torch`)."""
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


def run_loop(steps, state, n, m):
    """Run steps(state, a, b) over [0, n): in one go, or (checkpoint mode) in
    segments whose activations are recomputed during backward. State is a tuple
    of tensors. use_reentrant=False so tensors the steps close over (W in W2)
    still get their gradients."""
    if m != "checkpoint":
        return steps(state, 0, n)
    seg = max(1, round(math.sqrt(n)))
    for a in range(0, n, seg):
        b = min(n, a + seg)
        state = checkpoint(lambda *s, a=a, b=b: steps(s, a, b), *state, use_reentrant=False)
    return state


def clock():
    return time.perf_counter()


def report(t0, loss, checksum=None):
    sys.stderr.write(f"time {time.perf_counter() - t0:.6f}\n")
    print(repr(float(loss)))
    if checksum is not None:
        print(repr(float(checksum)))
