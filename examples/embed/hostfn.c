/* hostfn.c: a C function with its derivative, called from dial code and
 * differentiated by grad.
 *
 * swish(x, beta) = x * sigmoid(beta * x), elementwise over the array x, is
 * written in C and registered with its reverse-mode derivative; a dial
 * function uses it, and dial_grad's gradient is checked against central
 * finite differences computed with dial_call. */
#include <dial.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static double sigmoid(double t) { return 1 / (1 + exp(-t)); }

/* y = swish(x, beta) */
static int swish(dial_vm *vm, void *ud, dial_array *const *args, int nargs, dial_array **out)
{
    (void)ud;
    (void)nargs;
    double beta;
    if (dial_array_number(args[1], &beta) != DIAL_OK) return dial_fail(vm, "swish: beta must be a number");
    int64_t n = dial_array_size(args[0]);
    const double *x = dial_array_data(args[0]);
    if (n < 0) return dial_fail(vm, "swish: x must be an array");
    double *y = malloc((size_t)(n ? n : 1) * sizeof *y);
    if (!y) return dial_fail(vm, "swish: out of memory");
    for (int64_t i = 0; i < n; i++) y[i] = x[i] * sigmoid(beta * x[i]);
    *out = dial_array_new(vm, dial_array_ndim(args[0]), dial_array_shape(args[0]), y);
    free(y);
    return *out ? DIAL_OK : DIAL_ERROR_MEMORY;
}

/* Given dy: dx = dy * (s + beta x s (1 - s)), dbeta = sum(dy * x^2 s (1 - s)) */
static int swish_rev(dial_vm *vm, void *ud, dial_array *const *args, int nargs,
                     const dial_array *out, const dial_array *dout, dial_array **dargs)
{
    (void)ud;
    (void)nargs;
    (void)out;
    double beta, dbeta = 0;
    dial_array_number(args[1], &beta);
    int64_t n = dial_array_size(args[0]);
    const double *x = dial_array_data(args[0]), *dy = dial_array_data(dout);
    double *dx = malloc((size_t)(n ? n : 1) * sizeof *dx);
    if (!dx) return dial_fail(vm, "swish: out of memory");
    for (int64_t i = 0; i < n; i++) {
        double s = sigmoid(beta * x[i]), ds = s * (1 - s);
        dx[i] = dy[i] * (s + beta * x[i] * ds);
        dbeta += dy[i] * x[i] * x[i] * ds;
    }
    dargs[0] = dial_array_new(vm, dial_array_ndim(args[0]), dial_array_shape(args[0]), dx);
    dargs[1] = dial_number(vm, dbeta);
    free(dx);
    return dargs[0] && dargs[1] ? DIAL_OK : DIAL_ERROR_MEMORY;
}

/* A host function without derivative. */
static int cube(dial_vm *vm, void *ud, dial_array *const *args, int nargs, dial_array **out)
{
    (void)ud;
    (void)nargs;
    double x;
    if (dial_array_number(args[0], &x) != DIAL_OK) return dial_fail(vm, "cube: takes a number");
    *out = dial_number(vm, x * x * x);
    return *out ? DIAL_OK : DIAL_ERROR_MEMORY;
}

static const char script[] =
    "fn f(x, beta) {\n"
    "    h = swish(x * x, beta) + sin(x)\n"
    "    return sum(h * h) / len(x)\n"
    "}\n"
    "fn g(x) { return cube(x) }\n";

static double call_f(dial_vm *vm, const double *x, int64_t n, double beta)
{
    dial_array *a[2] = {dial_array_new(vm, 1, &n, x), dial_number(vm, beta)}, *r = NULL;
    double v = NAN;
    if (dial_call(vm, "f", a, 2, &r) == DIAL_OK) dial_array_number(r, &v);
    dial_array_free(r);
    dial_array_free(a[0]);
    dial_array_free(a[1]);
    return v;
}

int main(void)
{
    dial_vm *vm = dial_new();
    if (!vm) return 1;
    if (dial_register(vm, "swish", 2, swish, swish_rev, NULL) != DIAL_OK ||
        dial_register(vm, "cube", 1, cube, NULL, NULL) != DIAL_OK ||
        dial_exec(vm, "script", script, sizeof script - 1, 0) != DIAL_OK) {
        fputs(dial_error(vm), stderr);
        dial_free(vm);
        return 1;
    }
    enum { N = 5 };
    double x[N] = {-1.5, -0.3, 0.2, 0.9, 2.0}, beta = 1.3;
    int64_t n = N;
    dial_array *args[2] = {dial_array_new(vm, 1, &n, x), dial_number(vm, beta)};
    dial_array *value, *grad[2];
    int wrt[2] = {0, 1};
    if (dial_grad(vm, "f", wrt, 2, args, 2, &value, grad) != DIAL_OK) {
        fputs(dial_error(vm), stderr);
        dial_free(vm);
        return 1;
    }
    double v, gb, worst = 0, h = 1e-6;
    dial_array_number(value, &v);
    dial_array_number(grad[1], &gb);
    const double *gx = dial_array_data(grad[0]);
    printf("f = %.10f\n", v);
    for (int i = 0; i <= N; i++) {
        double xp[N], xm[N], bp = beta, bm = beta;
        for (int j = 0; j < N; j++) xp[j] = xm[j] = x[j];
        if (i < N) xp[i] += h, xm[i] -= h;
        else bp += h, bm -= h;
        double fd = (call_f(vm, xp, n, bp) - call_f(vm, xm, n, bm)) / (2 * h);
        double an = i < N ? gx[i] : gb, err = fabs(an - fd) / fmax(1, fabs(fd));
        if (err > worst) worst = err;
        if (i < N) printf("df/dx[%d]  grad %+.8f  finite differences %+.8f\n", i, an, fd);
        else printf("df/dbeta  grad %+.8f  finite differences %+.8f\n", an, fd);
    }
    printf("%s: largest relative difference %.1e\n", worst < 1e-6 ? "gradient ok" : "gradient WRONG", worst);

    /* cube has no derivative: differentiating through it does not compile */
    dial_array *g0 = NULL, *three = dial_number(vm, 3);
    int rc = dial_grad(vm, "g", NULL, 0, &three, 1, NULL, &g0);
    printf("grad of g without a derivative: %s\n", rc == DIAL_ERROR_SYNTAX ? "compile error" : "UNEXPECTED");
    fputs(dial_error(vm), stdout);

    dial_array_free(three);
    dial_array_free(value);
    dial_array_free(grad[0]);
    dial_array_free(grad[1]);
    dial_array_free(args[0]);
    dial_array_free(args[1]);
    dial_free(vm);
    return worst >= 1e-6 || rc != DIAL_ERROR_SYNTAX;
}
