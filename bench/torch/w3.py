"""W3 scalar ode in PyTorch: x = 1, v = 0, dt = 1e-3, 10^6 steps of
v = v - dt*sin(x); x = x + dt*v; loss = x; gradient with respect to (x0, v0).
Scalar tensors: every step is a handful of tiny autograd nodes, which is the
point of this workload (store-all needs several GiB and tens of seconds).
Argument: forward|tape|checkpoint."""
import torch
from common import clock, mode, report, run_loop

m = mode()
N = 1000000
dt = 1e-3
x0 = torch.tensor(1.0)
v0 = torch.tensor(0.0)


def steps(state, params, a, b):
    x, v = state
    for _ in range(a, b):
        v = v - dt * torch.sin(x)
        x = x + dt * v
    return x, v


t0 = clock()
if m == "forward":
    with torch.no_grad():
        x, _ = steps((x0, v0), (), 0, N)
        report(t0, x)
else:
    x0.requires_grad_(True)
    v0.requires_grad_(True)
    x, _ = run_loop(steps, (x0, v0), N, m)
    x.backward()
    report(t0, x, x0.grad + v0.grad)
