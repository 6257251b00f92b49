"""W1 seed loop in PyTorch: 100 elements, 1000 steps of s = s + 0.01*sin(s),
loss = sum(s*s), gradient with respect to s0. Argument: forward|tape|checkpoint."""
import torch
from common import clock, mode, report, run_loop

m = mode()
s0 = 0.01 * torch.arange(100, dtype=torch.float64)


def steps(state, params, a, b):
    (s,) = state
    for _ in range(a, b):
        s = s + 0.01 * torch.sin(s)
    return (s,)


t0 = clock()
if m == "forward":
    with torch.no_grad():
        (s,) = steps((s0,), (), 0, 1000)
        report(t0, (s * s).sum())
else:
    s0.requires_grad_(True)
    (s,) = run_loop(steps, (s0,), 1000, m)
    loss = (s * s).sum()
    loss.backward()
    report(t0, loss, s0.grad.sum())
