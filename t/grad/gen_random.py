#!/usr/bin/env python3
"""gen_random.py: random differentiable dial programs for t/grad.

    python3 t/grad/gen_random.py SEED [COUNT [FEATURES]] > prog.dial
    cat prog.dial t/grad/fd.inc | dial -

writes COUNT (default 20) random functions of a vector x of 4 elements, each
checked against finite differences by fd.inc's check(). FEATURES (default
"calls,tuples") says which of helper calls, tuple-returning helpers and
dead values ("dead": values unused, or used only on a path not taken)
appear; without "dead" every variable also feeds the result. The functions mix
smooth elementwise operations, reductions, indexing and slices, matrix
products with constants, stores into buffers, loops with carried state,
branches on the data, calls to random helper functions (several levels,
expressions as arguments, tuples). Operations with kinks or domain edges
are written so that their arguments stay away from them (log(1 + y*y),
y / (1.5 + y*y), ...). Not run by make check (it needs Python): it is the
generator of t/grad/random.dial, and a way to hunt for wrong gradients with
other seeds.
"""
import random
import sys

N = 4   # length of x


class Gen:
    def __init__(self, rnd, features):
        self.r = rnd
        self.calls = "calls" in features
        self.tuples = "tuples" in features
        self.dead = "dead" in features
        self.helpers = []     # (name, nparams, returns_tuple)
        self.out = []

    def num(self):
        return "%.2f" % self.r.uniform(-1.5, 1.5)

    # a branch threshold: 3 decimals ending in 5, never equal to a point's
    # 2-decimal coordinate (finite differences must not cross the branch)
    def thr(self):
        return "%.3f" % (round(self.r.uniform(-1.5, 1.5), 2) + 0.005)

    # an expression of the vector variables vs and scalar variables ss
    def vec(self, vs, ss, depth):
        r = self.r
        if depth <= 0 or r.random() < 0.2:
            return r.choice(vs)
        k = r.randrange(14)
        a = self.vec(vs, ss, depth - 1)
        if k == 0:
            return "(%s + %s)" % (a, self.vec(vs, ss, depth - 1))
        if k == 1:
            return "(%s - %s * %s)" % (a, self.num(), self.vec(vs, ss, depth - 1))
        if k == 2:
            return "(%s * %s)" % (a, self.vec(vs, ss, depth - 1))
        if k == 3:
            b = self.vec(vs, ss, depth - 1)
            return "(%s / (1.5 + %s * %s))" % (a, b, b)
        if k == 4:
            return "%s(%s)" % (r.choice(["sin", "cos", "tanh"]), a)
        if k == 5:
            return "log(1 + %s * %s)" % (a, a)
        if k == 6:
            return "sqrt(1 + %s * %s)" % (a, a)
        if k == 7:
            return "exp(tanh(%s))" % a
        if k == 8:
            return "(%s * %s)" % (a, self.sca(vs, ss, depth - 1))
        if k == 9:
            return "(%s @ M%d)" % (a, r.randrange(2))
        if k == 10:
            return "%s[::-1]" % a
        if k == 11:
            return "(%s * W%d)" % (a, r.randrange(2))
        if k == 12 and self.helpers and self.calls:
            h = [h for h in self.helpers if not h[2]]
            if h:
                name, np_, _ = r.choice(h)
                args = [a] + [self.vec(vs, ss, depth - 1) for _ in range(np_ - 1)]
                return "%s(%s)" % (name, ", ".join(args))
        return "(%s ^ 2)" % a

    def sca(self, vs, ss, depth):
        r = self.r
        if depth <= 0 or r.random() < 0.25:
            if ss and r.random() < 0.6:
                return r.choice(ss)
            return "%s[%d]" % (r.choice(vs), r.randrange(N))
        k = r.randrange(9)
        if k == 0:
            return "sum(%s)" % self.vec(vs, ss, depth - 1)
        if k == 1:
            return "mean(%s)" % self.vec(vs, ss, depth - 1)
        if k == 2:
            a = self.vec(vs, ss, depth - 1)
            return "(%s @ %s)" % (a, self.vec(vs, ss, depth - 1))
        if k == 3:
            return "norm(%s)" % self.vec(vs, ss, depth - 1)
        if k == 4:
            return "sum(%s[%d:%d])" % (self.vec(vs, ss, depth - 1), r.randrange(0, 2), r.randrange(2, N + 1))
        if k == 5:
            return "(%s * %s)" % (self.sca(vs, ss, depth - 1), self.sca(vs, ss, depth - 1))
        if k == 6:
            return "sin(%s)" % self.sca(vs, ss, depth - 1)
        if k == 7:
            return "sum(sum(outer(%s, %s), 0) * W0)" % (self.vec(vs, ss, depth - 1), self.vec(vs, ss, depth - 1))
        return "(%s + %s)" % (self.sca(vs, ss, depth - 1), self.num())

    # a block of statements defining new variables; returns (lines, vs, ss)
    def stmts(self, vs, ss, n, depth, indent):
        r = self.r
        lines = []
        vs, ss = list(vs), list(ss)
        pad = "    " * indent
        for _ in range(n):
            k = r.randrange(10)
            if k <= 3:
                v = "v%d" % r.randrange(1000)
                lines.append("%s%s = %s" % (pad, v, self.vec(vs, ss, depth)))
                vs.append(v)
            elif k <= 5:
                s = "s%d" % r.randrange(1000)
                lines.append("%s%s = %s" % (pad, s, self.sca(vs, ss, depth)))
                ss.append(s)
            elif k == 6:       # a loop carrying one vector variable
                v = r.choice(vs[1:] or vs)
                if v == "x":
                    v2 = "c%d" % r.randrange(1000)
                    lines.append("%s%s = x * 1" % (pad, v2))
                    vs.append(v2)
                    v = v2
                steps = r.randrange(0, 5)
                lines.append("%sfor i in %d..%d {" % (pad, r.randrange(0, 2), steps))
                lines.append("%s    %s = %s + 0.1 * sin(%s) * (i + 1)" % (pad, v, v, self.vec(vs, ss, depth - 1)))
                lines.append("%s}" % pad)
            elif k == 7:       # a branch on the data, assigning an existing variable
                if len(vs) > 1:
                    v = r.choice(vs[1:])
                    c = self.sca(vs, ss, depth - 1)
                    lines.append("%sif %s > %s {" % (pad, c, self.thr()))
                    if self.dead:
                        e = self.vec(vs, ss, depth - 1)
                    else:      # only values live on both paths, never v = v
                        e = "(%s + 0.5 * sin(%s))" % (v, self.vec([vs[0], v], [], depth - 1))
                    lines.append("%s    %s = %s" % (pad, v, e))
                    lines.append("%s} else {" % pad)
                    lines.append("%s    %s = %s * %s" % (pad, v, v, self.num()))
                    lines.append("%s}" % pad)
            elif k == 8:       # stores into a buffer
                b = "b%d" % r.randrange(1000)
                lines.append("%s%s = zeros(%d)" % (pad, b, N))
                for j in r.sample(range(N), r.randrange(1, N + 1)):
                    lines.append("%s%s[%d] = %s" % (pad, b, j, self.sca(vs, ss, depth - 1)))
                if r.random() < 0.5:
                    lines.append("%s%s[1:3] = %s[0:2] * %s" % (pad, b, r.choice(vs), self.sca(vs, ss, depth - 1)))
                vs.append(b)
            else:              # a tuple-returning helper
                h = [h for h in self.helpers if h[2] and self.tuples]
                if h:
                    name, np_, _ = r.choice(h)
                    p, q = "p%d" % r.randrange(1000), "q%d" % r.randrange(1000)
                    args = [self.vec(vs, ss, depth - 1) for _ in range(np_)]
                    lines.append("%s%s, %s = %s(%s)" % (pad, p, q, name, ", ".join(args)))
                    vs += [p, q]
        return lines, vs, ss

    # every variable of vs and ss, so that none is dead (unless "dead")
    def live(self, vs, ss):
        if self.dead:
            return ""
        terms = ["sum(%s)" % v for v in vs] + list(ss)
        return " + 0.01 * (%s)" % " + ".join(terms)

    def helper(self, i):
        r = self.r
        np_ = r.randrange(1, 3)
        tup = r.random() < 0.3
        params = ["y%d" % j for j in range(np_)]
        lines, vs, ss = self.stmts(params, [], r.randrange(1, 4), 2, 1)
        name = "h%d" % i
        body = ["fn %s(%s) {" % (name, ", ".join(params))] + lines
        if tup:
            body.append("    return %s%s, %s" % (self.vec(vs, ss, 2), self.live(vs, ss), self.vec(vs, ss, 2)))
        else:
            body.append("    return %s%s" % (self.vec(vs, ss, 2), self.live(vs, ss)))
        body.append("}")
        self.out += body
        self.helpers.append((name, np_, tup))

    def function(self, i):
        r = self.r
        lines, vs, ss = self.stmts(["x"], [], r.randrange(2, 6), 3, 1)
        name = "f%d" % i
        self.out.append("fn %s(x) {" % name)
        self.out += lines
        self.out.append("    return %s%s" % (self.sca(vs, ss, 3), self.live(vs, ss)))
        self.out.append("}")
        pt = ", ".join("%.2f" % r.uniform(-1.2, 1.2) for _ in range(N))
        self.out.append('check("random %s", %s, grad(%s), [%s])' % (name, name, name, pt))


def main():
    seed = int(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    features = sys.argv[3] if len(sys.argv) > 3 else "calls,tuples"
    g = Gen(random.Random(seed), features)
    g.out.append("# generated by t/grad/gen_random.py %d %d %s" % (seed, count, features))
    g.out.append("M0 = reshape(sin(arange(%d)) * 0.5, %d, %d)" % (N * N, N, N))
    g.out.append("M1 = reshape(cos(arange(%d)) * 0.5, %d, %d)" % (N * N, N, N))
    g.out.append("W0 = [0.3, -0.7, 1.1, 0.5]")
    g.out.append("W1 = [1.2, 0.4, -0.3, 0.8]")
    for i in range(4):
        g.helper(i)
    for i in range(count):
        g.function(i)
    print("\n".join(g.out))


if __name__ == "__main__":
    main()
