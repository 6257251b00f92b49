"""W5 heat in PyTorch: 1000 points, 20000 steps of
u[1:-1] = u[1:-1] + 0.25*(u[2:] - 2*u[1:-1] + u[:-2]) with fixed boundaries,
loss = sum(u*u), gradient with respect to u0. The slice store is in place, as
a PyTorch user writes it (autograd records it as CopySlices).
Argument: forward|tape|checkpoint."""
import torch
from common import clock, mode, report, run_loop

m = mode()
u0 = torch.sin(3.141592653589793 * torch.arange(1000, dtype=torch.float64) / 999)


def steps(state, params, a, b):
    (u,) = state
    u = u.clone()               # never write into the caller's (or a checkpoint's) input
    for _ in range(a, b):
        u[1:-1] = u[1:-1] + 0.25 * (u[2:] - 2 * u[1:-1] + u[:-2])
    return (u,)


t0 = clock()
if m == "forward":
    with torch.no_grad():
        (u,) = steps((u0,), (), 0, 20000)
        report(t0, (u * u).sum())
else:
    u0.requires_grad_(True)
    (u,) = run_loop(steps, (u0,), 20000, m)
    loss = (u * u).sum()
    loss.backward()
    report(t0, loss, u0.grad.sum())
