"""W4 rosenbrock in PyTorch: x of 10^7, x[i] = 0.5 + 0.1*sin(i),
f = sum(100*(x[1:] - x[:-1]^2)^2 + (1 - x[:-1])^2), gradient with respect to x.
No loop, so no checkpoint variant. Argument: forward|tape."""
import sys

import torch
from common import clock, mode, report

m = mode()
if m == "checkpoint":
    sys.exit("w4.py: no loop to checkpoint")
x = 0.5 + 0.1 * torch.sin(torch.arange(10000000, dtype=torch.float64))


def rosen(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


t0 = clock()
if m == "forward":
    with torch.no_grad():
        report(t0, rosen(x))
else:
    x.requires_grad_(True)
    loss = rosen(x)
    loss.backward()
    report(t0, loss, x.grad.sum())
