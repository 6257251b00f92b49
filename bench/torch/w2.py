"""W2 rnn in PyTorch: 2000 steps of h = tanh(W @ h + xs[t]) with 256 units,
loss = sum(h), gradients with respect to W and h0 (grad_checksum = their sums).
Argument: forward|tape|checkpoint."""
import torch
from common import clock, mode, report, run_loop

m = mode()
W = (0.01 * torch.sin(torch.arange(256 * 256, dtype=torch.float64))).reshape(256, 256)
xs = 0.001 * torch.cos(torch.arange(2000, dtype=torch.float64).reshape(2000, 1)
                       + torch.arange(256, dtype=torch.float64).reshape(1, 256))
h0 = torch.zeros(256)


def steps(state, params, a, b):
    (h,) = state
    (W,) = params
    for t in range(a, b):
        h = torch.tanh(W @ h + xs[t])
    return (h,)


t0 = clock()
if m == "forward":
    with torch.no_grad():
        (h,) = steps((h0,), (W,), 0, 2000)
        report(t0, h.sum())
else:
    W.requires_grad_(True)
    h0.requires_grad_(True)
    (h,) = run_loop(steps, (h0,), 2000, m, (W,))
    loss = h.sum()
    loss.backward()
    report(t0, loss, W.grad.sum() + h0.grad.sum())
