/* unit-api.c: every function of the public API (dial.h), its misuse, and
 * the promises to hosts: limits and interrupts leave the VM usable, arrays
 * of a freed VM are errors rather than crashes, host memory is never
 * written, two VMs in two threads do not interfere. Uses dial.h only, and
 * links the installed library's export list. Prints TAP. */
#include <dial.h>

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"

static int run(dial_vm *vm, const char *code)
{
    return dial_exec(vm, "test", code, strlen(code), 0);
}

/* The error report contains `text`. */
static int says(dial_vm *vm, const char *text)
{
    if (strstr(dial_error(vm), text)) return 1;
    printf("# error was: %s\n", dial_error(vm));
    return 0;
}

static double num(const dial_array *a)
{
    double x = NAN;
    dial_array_number(a, &x);
    return x;
}

static dial_array *vec(dial_vm *vm, int n, const double *x)
{
    int64_t s = n;
    return dial_array_new(vm, 1, &s, x);
}

/* -- host functions used below -------------------------------------------- */

/* scale(x, k) = x * k, derivative given */
static int scale(dial_vm *vm, void *ud, dial_array *const *a, int n, dial_array **out)
{
    (void)n;
    ++*(int *)ud;
    double k;
    if (dial_array_number(a[1], &k)) return dial_fail(vm, "scale: k must be a number");
    int64_t m = dial_array_size(a[0]);
    double *y = malloc((size_t)(m + 1) * sizeof *y);
    for (int64_t i = 0; i < m; i++) y[i] = dial_array_data(a[0])[i] * k;
    *out = dial_array_new(vm, dial_array_ndim(a[0]), dial_array_shape(a[0]), y);
    free(y);
    return DIAL_OK;
}

static int scale_rev(dial_vm *vm, void *ud, dial_array *const *a, int n, const dial_array *out,
                     const dial_array *dout, dial_array **da)
{
    (void)ud, (void)n, (void)out;
    double k = num(a[1]), dk = 0;
    int64_t m = dial_array_size(a[0]);
    double *dx = malloc((size_t)(m + 1) * sizeof *dx);
    const double *x = dial_array_data(a[0]), *dy = dial_array_data(dout);
    for (int64_t i = 0; i < m; i++) {
        dx[i] = dy[i] * k;
        dk += dy[i] * x[i];
    }
    da[0] = dial_array_new(vm, dial_array_ndim(a[0]), dial_array_shape(a[0]), dx);
    da[1] = dial_number(vm, dk);
    free(dx);
    return DIAL_OK;
}

/* a derivative giving the wrong shape */
static int bad_rev(dial_vm *vm, void *ud, dial_array *const *a, int n, const dial_array *out,
                   const dial_array *dout, dial_array **da)
{
    (void)ud, (void)n, (void)out, (void)dout, (void)a;
    int64_t s = 7;
    da[0] = dial_array_new(vm, 1, &s, NULL);
    return DIAL_OK;
}

static int ident(dial_vm *vm, void *ud, dial_array *const *a, int n, dial_array **out)
{
    (void)ud, (void)n;
    *out = dial_array_new(vm, dial_array_ndim(a[0]), dial_array_shape(a[0]), dial_array_data(a[0]));
    return DIAL_OK;
}

static int failing(dial_vm *vm, void *ud, dial_array *const *a, int n, dial_array **out)
{
    (void)ud, (void)a, (void)n, (void)out;
    return dial_fail(vm, "failing: as asked");
}

static int silent_fail(dial_vm *vm, void *ud, dial_array *const *a, int n, dial_array **out)
{
    (void)vm, (void)ud, (void)a, (void)n, (void)out;
    return 42;
}

static int no_result(dial_vm *vm, void *ud, dial_array *const *a, int n, dial_array **out)
{
    (void)vm, (void)ud, (void)a, (void)n, (void)out;
    return DIAL_OK;
}

/* Tries to re-enter the VM, then makes a tuple (1, 2). */
static int reenter(dial_vm *vm, void *ud, dial_array *const *a, int n, dial_array **out)
{
    (void)a, (void)n;
    *(int *)ud = dial_exec(vm, "inner", "1", 1, 0);
    dial_array *it[2] = {dial_number(vm, 1), dial_number(vm, 2)};
    *out = dial_tuple_new(vm, it, 2);
    dial_array_free(it[0]);
    dial_array_free(it[1]);
    return DIAL_OK;
}

static void on_release(void *ud) { ++*(int *)ud; }

/* -- threads ------------------------------------------------------------------- */

typedef struct Job {
    double result;
    int rc;
} Job;

static void *work(void *arg)
{
    Job *j = arg;
    dial_vm *vm = dial_new();
    j->rc = -1;
    if (!vm) return NULL;
    const char *code =
        "fn f(x) { s = 0; for i in 0..200 { s = s + sum(sin(x * i) * x) }; return s }";
    double x[50];
    for (int i = 0; i < 50; i++) x[i] = i / 50.0;
    dial_array *a = NULL, *v = NULL, *g = NULL;
    if ((j->rc = run(vm, code)) == DIAL_OK && (a = vec(vm, 50, x)) &&
        (j->rc = dial_grad(vm, "f", NULL, 0, &a, 1, &v, &g)) == DIAL_OK)
        j->result = num(v) + dial_array_data(g)[17];
    dial_array_free(a);
    dial_array_free(v);
    dial_array_free(g);
    dial_free(vm);
    return NULL;
}

typedef struct Stopper {
    dial_vm *vm;
    volatile int done;
} Stopper;

static void *stopper(void *arg)
{
    Stopper *s = arg;
    struct timespec t = {0, 20 * 1000 * 1000};
    while (!s->done) {
        nanosleep(&t, NULL);
        dial_interrupt(s->vm);
    }
    return NULL;
}

/* -- every path to a limit ------------------------------------------------------ */

/* Code that stops at a limit set beforehand, and what it exercises. */
typedef struct Limited {
    const char *code, *what;
} Limited;

static const Limited by_memory[] = {
    {"m = arange(200000)", "an array from a builtin"},
    {"m = reshape(arange(1000), 1000, 1) + arange(1000)", "broadcasting"},
    {"m = outer(arange(1000), arange(1000))", "an outer product"},
    {"m = ones(1000, 1) @ ones(1, 1000)", "a matrix product"},
    {"m = concat(ones(60000), ones(60000), ones(60000))", "concatenation"},
    {"m = stack(ones(60000), ones(60000), ones(60000))", "stacking"},
    {"fn tp(x) { s = 0; for i in 0..1000 { s = s + sum(sin(x * i)) }; return s }\nm = grad(tp)(ones(100))",
     "arrays on the AD tape"},
    {"fn ts(x) { s = x; for i in 0..1000000 { s = sin(s) * x }; return s }\nm = grad(ts)(0.5)",
     "numbers on the AD tape (its own stack)"},
    {"fn tc(x) { for i in 0..1000 checkpoint(200) { x = sin(x) }; return sum(x) }\nm = grad(tc)(ones(1000))",
     "snapshots of a checkpointed for loop"},
    {"fn tw(x) { i = 0; while i < 1000 checkpoint(200) { x = sin(x); i = i + 1 }; return sum(x) }\n"
     "m = grad(tw)(ones(1000))",
     "snapshots of a checkpointed while loop"},
    {"fn tu(x) { return x, x, x }\nfn tus() { a = 0; for i in 0..100000 { a = tu(a) }; return a }\nm = tus()",
     "tuples"},
};

static const Limited by_steps[] = {
    {"while 1 { }", "a runaway loop"},
    {"fn rec(n) { return rec(n + 1) + 1 }\nm = rec(0)", "recursion"},
    {"fn sg(x) { s = x; for i in 0..100000 { s = s * 1.0000001 }; return s }\nm = grad(sg)(1)",
     "a loop in differentiated code"},
    {"fn sc(x) { for i in 0..100000 checkpoint(10) { x = x * 1.0000001 }; return x }\nm = grad(sc)(1)",
     "a checkpointed for loop"},
    {"fn sw(x) { i = 0; while i < 100000 checkpoint(10) { x = x * 1.0000001; i = i + 1 }; return x }\n"
     "m = grad(sw)(1)",
     "a checkpointed while loop"},
};

/* Each code stops with DIAL_ERROR_LIMIT; then the VM holds what it held
 * before (nothing leaked) and runs new code, gradients included. */
static void limited(dial_vm *vm, const Limited *cases, int n, const char *limit)
{
    for (int k = 0; k < n; k++) {
        size_t before = dial_memory_used(vm);
        int rc = run(vm, cases[k].code);
        ok(rc == DIAL_ERROR_LIMIT && says(vm, limit), "%s: %s", limit, cases[k].what);
        ok(dial_memory_used(vm) == before, "... holds no more memory than before (%zu, %zu bytes)", before,
           dial_memory_used(vm));
        dial_array *r = NULL;
        double v = 0;
        ok(run(vm, "fn sq3(x) { return sum(x * x * x) }\nafter = sum(arange(10)) + grad(sq3)(2)") == DIAL_OK &&
               dial_get_global(vm, "after", &r) == DIAL_OK && dial_array_number(r, &v) == DIAL_OK && v == 57,
           "... and runs new code");
        dial_array_free(r);
    }
}

static void limits(void)
{
    dial_vm *vm = dial_new();
    FILE *devnull = fopen("/dev/null", "w");
    dial_set_output(vm, devnull);
    dial_set_memory_limit(vm, 1 << 20);
    limited(vm, by_memory, (int)(sizeof by_memory / sizeof *by_memory), "memory limit exceeded");
    size_t len = 2 << 20;
    char *big = malloc(len + 16);
    memcpy(big, "m = \"", 5);
    memset(big + 5, 'a', len - 6);
    big[len - 1] = '"';
    ok(dial_exec(vm, "big", big, len, 0) == DIAL_ERROR_LIMIT && says(vm, "memory limit exceeded"),
       "memory limit exceeded: a 2 MB string literal");
    free(big);
    dial_set_memory_limit(vm, 0);
    dial_set_step_limit(vm, 1000);
    limited(vm, by_steps, (int)(sizeof by_steps / sizeof *by_steps), "step limit exceeded");
    dial_set_step_limit(vm, 0);
    dial_array *deep = NULL;
    ok(run(vm, "fn pair(x) { return x, 1 }\ndeep = 0\nfor i in 0..1000000 { deep = pair(deep) }") == DIAL_OK &&
           dial_get_global(vm, "deep", &deep) == DIAL_OK && dial_tuple_size(deep) == 2,
       "a tuple nested 10^6 deep goes to the host");
    ok(run(vm, "deep = 0") == DIAL_OK, "... and back");
    dial_array_free(deep);
    dial_free(vm);
    fclose(devnull);
}

int main(void)
{
    /* -- NULL VM ---------------------------------------------------------- */
    ok(dial_exec(NULL, "x", "1", 1, 0) == DIAL_ERROR_USAGE, "dial_exec(NULL vm) is a usage error");
    ok(dial_exec_file(NULL, "x", 0) == DIAL_ERROR_USAGE, "dial_exec_file(NULL vm)");
    ok(strlen(dial_error(NULL)) > 0, "dial_error(NULL) has a message");
    ok(dial_error_code(NULL) == DIAL_ERROR_USAGE, "dial_error_code(NULL)");
    ok(dial_set_args(NULL, 0, NULL) == DIAL_ERROR_USAGE, "dial_set_args(NULL vm)");
    ok(dial_ad_stats(NULL, NULL, 0) < 0, "dial_ad_stats(NULL vm)");
    dial_interrupt(NULL);
    dial_set_output(NULL, stdout);
    dial_free(NULL);
    ok(dial_set_memory_limit(NULL, 1) == DIAL_ERROR_USAGE && dial_set_step_limit(NULL, 1) == DIAL_ERROR_USAGE &&
       dial_set_ad_budget(NULL, 1) == DIAL_ERROR_USAGE && dial_ad_budget(NULL) == 0,
       "limit setters with a NULL vm");
    ok(!dial_array_new(NULL, 0, NULL, NULL) && !dial_number(NULL, 1) &&
       !dial_array_wrap(NULL, 1, (int64_t[]){1}, (double[]){1}, NULL, NULL) && !dial_tuple_new(NULL, NULL, 0),
       "array constructors with a NULL vm give NULL");
    ok(dial_call(NULL, "f", NULL, 0, NULL) == DIAL_ERROR_USAGE, "dial_call(NULL vm)");
    ok(dial_grad(NULL, "f", NULL, 0, NULL, 0, NULL, NULL) == DIAL_ERROR_USAGE, "dial_grad(NULL vm)");
    ok(dial_register(NULL, "f", 0, ident, NULL, NULL) == DIAL_ERROR_USAGE, "dial_register(NULL vm)");
    ok(dial_set_global(NULL, "x", NULL) == DIAL_ERROR_USAGE && dial_get_global(NULL, "x", NULL) == DIAL_ERROR_USAGE,
       "globals with a NULL vm");
    ok(dial_fail(NULL, "x") == DIAL_ERROR_RUNTIME, "dial_fail(NULL vm)");
    ok(dial_array_ndim(NULL) == -1 && !dial_array_shape(NULL) && dial_array_size(NULL) == -1 &&
       !dial_array_data(NULL) && dial_tuple_size(NULL) == -1 && !dial_tuple_get(NULL, 0),
       "accessors of NULL");
    double x0;
    ok(dial_array_number(NULL, &x0) == DIAL_ERROR_USAGE, "dial_array_number(NULL)");
    dial_array_free(NULL);

    dial_vm *vm = dial_new();
    ok(vm != NULL, "dial_new");
    FILE *out = tmpfile();
    dial_set_output(vm, out);

    /* -- running code ------------------------------------------------------- */
    ok(run(vm, "x = 1 +") == DIAL_ERROR_SYNTAX && dial_error_code(vm) == DIAL_ERROR_SYNTAX &&
       says(vm, "test:1:"), "syntax error: code and position");
    ok(run(vm, "y = [1, 2][5]") == DIAL_ERROR_RUNTIME && says(vm, "test:1:") &&
       dial_error_code(vm) == DIAL_ERROR_RUNTIME, "runtime error: code and position");
    ok(run(vm, "print(1)") == DIAL_OK && dial_error_code(vm) == DIAL_OK && !*dial_error(vm),
       "success clears the error");
    ok(dial_exec(vm, "x", NULL, 0, 0) == DIAL_ERROR_USAGE && says(vm, "NULL code"), "dial_exec(NULL code)");
    ok(dial_exec_file(vm, NULL, 0) == DIAL_ERROR_USAGE, "dial_exec_file(NULL path)");
    ok(dial_exec_file(vm, "/nonexistent/dial", 0) == DIAL_ERROR_FILE &&
       dial_error_code(vm) == DIAL_ERROR_FILE && says(vm, "/nonexistent/dial"), "dial_exec_file: missing file");
    ok(dial_exec(vm, "r", "fn f(x) {", 9, DIAL_REPL) == DIAL_INCOMPLETE, "DIAL_REPL: incomplete input");
    ok(dial_exec(vm, "d", "z = 2", 5, DIAL_DISASM) == DIAL_OK, "DIAL_DISASM");
    ok(dial_exec(vm, "e", "3 * 4", 5, DIAL_ECHO) == DIAL_OK, "DIAL_ECHO");
    char *argv[] = {"a", "bb"};
    ok(dial_set_args(vm, 2, argv) == DIAL_OK && run(vm, "print(args[1])") == DIAL_OK, "dial_set_args");
    ok(dial_set_args(vm, 1, NULL) == DIAL_ERROR_USAGE, "dial_set_args(NULL argv)");
    char stats[512];
    ok(dial_ad_stats(vm, stats, sizeof stats) > 0 && strstr(stats, "tape_bytes_peak"), "dial_ad_stats");
    rewind(out);
    char buf[256] = "";
    size_t got = fread(buf, 1, sizeof buf - 1, out);
    buf[got] = 0;
    ok(strcmp(buf, "1\n12\nbb\n") == 0 || (strstr(buf, "12\n") && strstr(buf, "bb\n")),
       "print and echo write to dial_set_output's stream");
    FILE *devnull = fopen("/dev/null", "w");
    dial_set_output(vm, devnull);
    fclose(out);

    /* -- arrays --------------------------------------------------------------- */
    int64_t s23[2] = {2, 3};
    double d6[6] = {1, 2, 3, 4, 5, 6};
    dial_array *a = dial_array_new(vm, 2, s23, d6);
    ok(a && dial_array_ndim(a) == 2 && dial_array_shape(a)[0] == 2 && dial_array_shape(a)[1] == 3 &&
       dial_array_size(a) == 6 && dial_array_data(a)[5] == 6, "dial_array_new copies shape and data");
    d6[0] = 100;
    ok(dial_array_data(a)[0] == 1, "dial_array_new copied the data");
    dial_array *z = dial_array_new(vm, 2, s23, NULL);
    ok(z && dial_array_data(z)[3] == 0, "NULL data gives zeros");
    ok(dial_array_number(a, &x0) == DIAL_ERROR_USAGE, "dial_array_number of a 6-element array");
    dial_array *n = dial_number(vm, 2.5);
    ok(n && dial_array_ndim(n) == 0 && dial_array_size(n) == 1 && num(n) == 2.5 && dial_array_shape(n),
       "dial_number");
    ok(!dial_array_new(vm, 1, (int64_t[]){-1}, NULL) && dial_error_code(vm) == DIAL_ERROR_USAGE &&
       says(vm, "negative"), "negative extent");
    ok(!dial_array_new(vm, 17, s23, NULL) && dial_error_code(vm) == DIAL_ERROR_USAGE, "17 dimensions");
    ok(!dial_array_new(vm, 2, NULL, NULL) && dial_error_code(vm) == DIAL_ERROR_USAGE, "NULL shape");
    ok(!dial_array_new(vm, 2, (int64_t[]){1 << 30, 1 << 30}, NULL) &&
       dial_error_code(vm) == DIAL_ERROR_USAGE, "a shape too large");
    int64_t empty = 0;
    dial_array *e = dial_array_new(vm, 1, &empty, NULL);
    ok(e && dial_array_size(e) == 0, "an empty array");
    dial_array *items[3] = {a, n, e};
    dial_array *t = dial_tuple_new(vm, items, 3);
    ok(t && dial_tuple_size(t) == 3 && dial_array_ndim(t) == -1 && !dial_array_data(t) &&
       !dial_array_shape(t) && dial_array_size(t) == -1, "dial_tuple_new; array accessors of a tuple");
    dial_array *t1 = dial_tuple_get(t, 1);
    ok(t1 && num(t1) == 2.5 && !dial_tuple_get(t, 3) && !dial_tuple_get(t, -1) && !dial_tuple_get(a, 0) &&
       dial_tuple_size(a) == -1, "dial_tuple_get");
    ok(!dial_tuple_new(vm, NULL, 2) && dial_error_code(vm) == DIAL_ERROR_USAGE, "dial_tuple_new(NULL items)");
    dial_array *withnull[2] = {a, NULL};
    ok(!dial_tuple_new(vm, withnull, 2) && dial_error_code(vm) == DIAL_ERROR_USAGE && says(vm, "NULL array"),
       "dial_tuple_new with a NULL item");

    /* arrays over host memory */
    double host[4] = {1, 2, 3, 4};
    int released = 0;
    int64_t s4 = 4;
    dial_array *w = dial_array_wrap(vm, 1, &s4, host, on_release, &released);
    ok(w && dial_array_data(w) == host, "dial_array_wrap reads host memory in place");
    ok(!dial_array_wrap(vm, 0, NULL, host, NULL, NULL) && !dial_array_wrap(vm, 1, &s4, NULL, NULL, NULL) &&
       dial_error_code(vm) == DIAL_ERROR_USAGE, "dial_array_wrap: ndim 0 and NULL data are usage errors");
    ok(dial_set_global(vm, "hw", w) == DIAL_OK &&
       run(vm, "hw2 = hw; hw2[0] = 99; hw3 = hw * 2; hw[1] = 7; hwv = hw[1:]; hwv[0] = 5") == DIAL_OK,
       "stores into an array over host memory run");
    ok(host[0] == 1 && host[1] == 2 && host[2] == 3, "... and never write the host's memory");
    dial_array *g = NULL;
    ok(dial_get_global(vm, "hw", &g) == DIAL_OK && dial_array_data(g)[1] == 7 && dial_array_data(g)[0] == 1,
       "... the global holds its own copy after the store");
    dial_array_free(g);
    host[3] = 40;
    ok(dial_get_global(vm, "hw3", &g) == DIAL_OK && dial_array_data(g)[3] == 8, "values computed from host memory are copies");
    dial_array_free(g);
    dial_array_free(w);
    ok(released == 0 || released == 1, "release not before the VM dropped the memory");
    ok(run(vm, "hw = 0; hw2 = 0; hw3 = 0; hwv = 0") == DIAL_OK && released == 1,
       "release called once the VM no longer refers to the memory");
    double host2[2] = {3, 4};
    int released2 = 0;
    dial_array *w2 = dial_array_wrap(vm, 1, (int64_t[]){2}, host2, on_release, &released2);
    ok(dial_set_global(vm, "kept", w2) == DIAL_OK, "a global refers to host memory");
    dial_array_free(w2);
    ok(released2 == 0, "... so freeing the handle does not release it");

    /* globals */
    ok(dial_set_global(vm, "gx", a) == DIAL_OK && run(vm, "gy = sum(gx)") == DIAL_OK &&
       dial_get_global(vm, "gy", &g) == DIAL_OK && num(g) == 21, "dial_set_global / dial_get_global");
    dial_array_free(g);
    ok(dial_set_global(vm, "1x", a) == DIAL_ERROR_USAGE && dial_set_global(vm, NULL, a) == DIAL_ERROR_USAGE &&
       dial_set_global(vm, "q", NULL) == DIAL_ERROR_USAGE, "dial_set_global misuse");
    ok(dial_get_global(vm, "nosuch", &g) == DIAL_ERROR_USAGE && !g && says(vm, "no global 'nosuch'"),
       "dial_get_global: unknown name");
    ok(run(vm, "fn sq(x) { return x * x }\nfn two(x) { return x, 2 * x }\nfn nothing(x) { }\nfn loop() { while 1 { } }\n"
               "fn big(n) { return zeros(n) }\nfn deep(n) { return deep(n + 1) }\nfn vec(x) { return x * [1, 2] }\n"
               "fn str() { return \"s\" }") == DIAL_OK,
       "define functions");
    ok(dial_get_global(vm, "sq", &g) == DIAL_ERROR_USAGE && says(vm, "not an array"), "dial_get_global of a function");
    ok(dial_get_global(vm, "sq", NULL) == DIAL_ERROR_USAGE, "dial_get_global(NULL out)");

    /* -- calls ------------------------------------------------------------------ */
    dial_array *r = NULL;
    ok(dial_call(vm, "sq", &a, 1, &r) == DIAL_OK && dial_array_ndim(r) == 2 && dial_array_data(r)[4] == 25,
       "dial_call returns an array");
    dial_array_free(r);
    ok(dial_call(vm, "sq", &n, 1, &r) == DIAL_OK && num(r) == 6.25, "dial_call with a number");
    dial_array_free(r);
    ok(dial_call(vm, "two", &n, 1, &r) == DIAL_OK && dial_tuple_size(r) == 2, "dial_call returns a tuple");
    dial_array *r1 = dial_tuple_get(r, 1);
    ok(num(r1) == 5, "... whose items are read with dial_tuple_get");
    dial_array_free(r1);
    dial_array_free(r);
    ok(dial_call(vm, "sum", &a, 1, &r) == DIAL_OK && num(r) == 21, "dial_call of a builtin");
    dial_array_free(r);
    ok(dial_call(vm, "sq", &t, 1, &r) == DIAL_ERROR_RUNTIME && !r, "a tuple argument where an array is needed: runtime error");
    ok(dial_call(vm, "nothing", &n, 1, &r) == DIAL_OK && r == NULL, "a function returning nothing gives NULL");
    ok(dial_call(vm, "sq", &n, 1, NULL) == DIAL_OK, "result NULL: value dropped");
    ok(dial_call(vm, "str", NULL, 0, &r) == DIAL_ERROR_USAGE && !r && says(vm, "not an array"),
       "a string result is a usage error");
    ok(dial_call(vm, "nosuch", &a, 1, &r) == DIAL_ERROR_USAGE && says(vm, "unknown function 'nosuch'"),
       "dial_call: unknown function");
    ok(dial_call(vm, NULL, &a, 1, &r) == DIAL_ERROR_USAGE, "dial_call: NULL name");
    ok(dial_call(vm, "sq", NULL, 1, &r) == DIAL_ERROR_USAGE, "dial_call: NULL args");
    ok(dial_call(vm, "sq", withnull + 1, 1, &r) == DIAL_ERROR_USAGE && says(vm, "NULL array"), "dial_call: a NULL argument");
    ok(dial_call(vm, "sq", &a, 2, &r) == DIAL_ERROR_USAGE && says(vm, "takes 1 argument (2 given)"),
       "dial_call: wrong arity");
    ok(dial_call(vm, "sum", NULL, 0, &r) == DIAL_ERROR_USAGE && says(vm, "sum()"), "dial_call: builtin's arity");
    ok(dial_call(vm, "gx", &a, 1, &r) == DIAL_ERROR_USAGE && says(vm, "not a function"), "dial_call of an array");
    ok(dial_call(vm, "sq", &a, -1, &r) == DIAL_ERROR_USAGE, "dial_call: negative nargs");
    ok(dial_call(vm, "vec", &a, 1, &r) == DIAL_ERROR_RUNTIME && says(vm, "test:") && says(vm, "vec"),
       "wrong shapes inside: runtime error with the position");
    ok(dial_call(vm, "sq", &a, 1, &r) == DIAL_OK, "the VM is usable after a runtime error");
    dial_array_free(r);

    /* -- gradients ------------------------------------------------------------- */
    ok(run(vm, "fn f(x, y) { return sum(x * x * y) }\nfn nonscalar(x) { return x }") == DIAL_OK, "define f");
    dial_array *xy[2] = {vec(vm, 3, (double[]){1, 2, 3}), dial_number(vm, 2)};
    dial_array *val = NULL, *gr[2] = {NULL, NULL};
    ok(dial_grad(vm, "f", NULL, 0, xy, 2, &val, gr) == DIAL_OK && num(val) == 28 &&
       dial_array_data(gr[0])[2] == 12 && dial_array_size(gr[0]) == 3, "dial_grad: value and gradient of parameter 0");
    dial_array_free(val);
    dial_array_free(gr[0]);
    int both[2] = {1, 0};
    ok(dial_grad(vm, "f", both, 2, xy, 2, NULL, gr) == DIAL_OK && num(gr[0]) == 14 &&
       dial_array_data(gr[1])[1] == 8, "dial_grad: parameters 1 and 0, no value");
    dial_array_free(gr[0]);
    dial_array_free(gr[1]);
    ok(dial_grad(vm, "f", both, 2, xy, 2, NULL, gr) == DIAL_OK && num(gr[0]) == 14, "dial_grad again (compiled once)");
    dial_array_free(gr[0]);
    dial_array_free(gr[1]);
    {
        /* an error inside f's generated code names f's chunk, not grad's */
        const char *def = "fn outside(x) {\n    y = x * 2\n    return sum(y[5])\n}\n";
        ok(dial_exec(vm, "model.dial", def, strlen(def), 0) == DIAL_OK &&
               run(vm, "g = grad(outside)([1, 2])") == DIAL_ERROR_RUNTIME && says(vm, "model.dial:3:17: error: index 5") &&
               says(vm, "return sum(y[5])"),
           "an error in a differentiated function defined in another chunk points into that chunk");
    }
    ok(dial_grad(vm, "f", (int[]){2}, 1, xy, 2, &val, gr) == DIAL_ERROR_USAGE && !val && !gr[0] &&
       says(vm, "not a parameter index"), "dial_grad: argnum out of range");
    ok(dial_grad(vm, "f", NULL, 0, xy, 1, &val, gr) == DIAL_ERROR_USAGE && says(vm, "takes 2 arguments"),
       "dial_grad: wrong arity");
    ok(dial_grad(vm, "nosuch", NULL, 0, xy, 1, &val, gr) == DIAL_ERROR_USAGE && says(vm, "not a function defined with fn"),
       "dial_grad: unknown function");
    ok(dial_grad(vm, NULL, NULL, 0, xy, 1, &val, gr) == DIAL_ERROR_USAGE, "dial_grad: NULL name");
    ok(dial_grad(vm, "f", NULL, 0, xy, 2, &val, NULL) == DIAL_ERROR_USAGE, "dial_grad: NULL grads");
    ok(dial_grad(vm, "nonscalar", NULL, 0, xy, 1, &val, gr) == DIAL_ERROR_RUNTIME && says(vm, "shape"),
       "dial_grad of a non-scalar function: runtime error naming the shape");
    ok(run(vm, "fn f(x, y) { return sum(x * y) }") == DIAL_OK &&
       dial_grad(vm, "f", NULL, 0, xy, 2, &val, gr) == DIAL_OK && dial_array_data(gr[0])[0] == 2,
       "a redefined function is differentiated again");
    dial_array_free(val);
    dial_array_free(gr[0]);

    /* -- host functions ---------------------------------------------------------- */
    int calls = 0, inner = -1;
    ok(dial_register(vm, "scale", 2, scale, scale_rev, &calls) == DIAL_OK, "dial_register with a derivative");
    ok(dial_register(vm, "ident", 1, ident, NULL, NULL) == DIAL_OK, "dial_register without a derivative");
    ok(dial_register(vm, "badrev", 1, ident, bad_rev, NULL) == DIAL_OK &&
       dial_register(vm, "failing", 0, failing, NULL, NULL) == DIAL_OK &&
       dial_register(vm, "silent", 0, silent_fail, NULL, NULL) == DIAL_OK &&
       dial_register(vm, "noresult", 0, no_result, NULL, NULL) == DIAL_OK &&
       dial_register(vm, "reenter", 0, reenter, NULL, &inner) == DIAL_OK, "more host functions");
    ok(dial_register(vm, "sin", 1, ident, NULL, NULL) == DIAL_ERROR_USAGE && says(vm, "builtin"),
       "dial_register: a builtin's name");
    ok(dial_register(vm, "a b", 1, ident, NULL, NULL) == DIAL_ERROR_USAGE &&
       dial_register(vm, NULL, 1, ident, NULL, NULL) == DIAL_ERROR_USAGE &&
       dial_register(vm, "h", 1, NULL, NULL, NULL) == DIAL_ERROR_USAGE &&
       dial_register(vm, "h", -1, ident, NULL, NULL) == DIAL_ERROR_USAGE &&
       dial_register(vm, "h", 9, ident, scale_rev, NULL) == DIAL_ERROR_USAGE,
       "dial_register misuse: name, NULL fn, nargs");
    ok(run(vm, "fn h(x) { return sum(scale(x, 3) * x) }\nprint(h([1, 2]))") == DIAL_OK && calls == 1,
       "dial code calls a host function");
    dial_array *hx = vec(vm, 2, (double[]){1, 2});
    ok(dial_grad(vm, "h", NULL, 0, &hx, 1, &val, gr) == DIAL_OK && num(val) == 15 &&
       dial_array_data(gr[0])[0] == 6 && dial_array_data(gr[0])[1] == 12,
       "grad through a host function uses its derivative");
    dial_array_free(val);
    dial_array_free(gr[0]);
    ok(run(vm, "fn hk(x, k) { return sum(scale(x, k)) }") == DIAL_OK &&
       dial_grad(vm, "hk", (int[]){1}, 1, (dial_array *[]){hx, n}, 2, NULL, gr) == DIAL_OK && num(gr[0]) == 3,
       "... with respect to a number argument");
    dial_array_free(gr[0]);
    ok(dial_call(vm, "scale", (dial_array *[]){hx, n}, 2, &r) == DIAL_OK && dial_array_data(r)[1] == 5,
       "dial_call of a host function");
    dial_array_free(r);
    ok(dial_call(vm, "scale", (dial_array *[]){hx, hx}, 2, &r) == DIAL_ERROR_RUNTIME &&
       says(vm, "k must be a number"), "dial_fail's message");
    ok(run(vm, "fn hi(x) { return sum(ident(x)) }") == DIAL_OK &&
       dial_grad(vm, "hi", NULL, 0, &hx, 1, &val, gr) == DIAL_ERROR_SYNTAX && says(vm, "no derivative rule for 'ident'"),
       "grad through a host function without derivative: compile error");
    ok(run(vm, "print(grad(hi)([1]))") == DIAL_ERROR_SYNTAX, "... also in a script");
    ok(run(vm, "fn hc(x) { return sum(x) + sum(ident([1, 2])) }\nprint(grad(hc)([1, 2]))") == DIAL_OK,
       "a host function on constants inside grad needs no derivative");
    ok(run(vm, "fn hb(x) { return sum(badrev(x)) }") == DIAL_OK &&
       dial_grad(vm, "hb", NULL, 0, &hx, 1, &val, gr) == DIAL_ERROR_RUNTIME && says(vm, "gave shape (7,)"),
       "a derivative of the wrong shape: runtime error");
    ok(run(vm, "failing()") == DIAL_ERROR_RUNTIME && says(vm, "failing: as asked") && says(vm, "test:1:1"),
       "a failing host function: runtime error at the call");
    ok(run(vm, "fn fw() { return failing() }\nfw()") == DIAL_ERROR_RUNTIME && says(vm, "test:1:"),
       "... inside a function, with a traceback");
    ok(run(vm, "silent()") == DIAL_ERROR_RUNTIME && says(vm, "failed (status 42)"), "a failure without message");
    ok(run(vm, "noresult()") == DIAL_ERROR_RUNTIME && says(vm, "gave no result"), "no result");
    ok(run(vm, "print(reenter())") == DIAL_OK && inner == DIAL_ERROR_USAGE,
       "host functions cannot re-enter the VM, and may return tuples");
    ok(run(vm, "scale(1)") == DIAL_ERROR_RUNTIME && says(vm, "scale() takes 2 arguments (1 given)"),
       "a host function called with the wrong arity");
    ok(run(vm, "ident(\"s\")") == DIAL_ERROR_RUNTIME && says(vm, "takes arrays"), "a string passed to a host function");
    ok(dial_register(vm, "scale", 2, scale, NULL, &calls) == DIAL_OK &&
           dial_grad(vm, "h", NULL, 0, &hx, 1, &val, gr) == DIAL_ERROR_RUNTIME && !val && says(vm, "scale'rev"),
       "registered again without a derivative: a gradient made before stops, not using the old one");
    ok(run(vm, "fn h2(x) { return sum(scale(x, 2)) }\nprint(grad(h2)([1]))") == DIAL_ERROR_SYNTAX &&
           says(vm, "no derivative rule for 'scale'"),
       "... and grad no longer finds a rule for it");
    ok(run(vm, "print(scale([1, 2], 2))") == DIAL_OK, "... while it still runs");

    /* -- limits ------------------------------------------------------------------ */
    ok(dial_set_step_limit(vm, 1000) == DIAL_OK, "dial_set_step_limit");
    ok(dial_call(vm, "loop", NULL, 0, &r) == DIAL_ERROR_LIMIT && says(vm, "step limit") &&
       dial_error_code(vm) == DIAL_ERROR_LIMIT, "an endless loop stops at the step limit");
    ok(run(vm, "fn rec(n) { if n == 0 { return 0 }; return rec(n - 1) }\nrec(5000)") == DIAL_ERROR_LIMIT,
       "calls count as steps");
    ok(run(vm, "s = 0; for i in 0..500 { s = s + i }") == DIAL_OK, "the VM is usable after the step limit");
    ok(dial_set_step_limit(vm, 0) == DIAL_OK && run(vm, "s = 0; for i in 0..5000 { s = s + i }") == DIAL_OK,
       "step limit 0: none");
    ok(dial_set_memory_limit(vm, 1 << 20) == DIAL_OK, "dial_set_memory_limit");
    dial_array *big = dial_number(vm, 1e6);
    ok(dial_call(vm, "big", &big, 1, &r) == DIAL_ERROR_LIMIT && says(vm, "memory limit"), "the memory limit stops a run");
    ok(!dial_array_new(vm, 1, (int64_t[]){1 << 20}, NULL) && dial_error_code(vm) == DIAL_ERROR_LIMIT,
       "... and dial_array_new");
    ok(dial_set_memory_limit(vm, 0) == DIAL_OK && dial_call(vm, "big", &big, 1, &r) == DIAL_OK &&
       dial_array_size(r) == 1000000, "usable again after raising the limit");
    dial_array_free(r);
    dial_array_free(big);
    ok(dial_call(vm, "deep", &n, 1, &r) == DIAL_ERROR_RUNTIME && says(vm, "recursion"),
       "deep recursion is a runtime error");
    ok(dial_set_ad_budget(vm, 12345) == DIAL_OK && dial_ad_budget(vm) == 12345, "AD budget stored and read");

    /* interrupt from a second thread */
    Stopper st = {vm, 0};
    pthread_t th;
    pthread_create(&th, NULL, stopper, &st);
    int rc = dial_call(vm, "loop", NULL, 0, &r);
    st.done = 1;
    pthread_join(th, NULL);
    ok(rc == DIAL_ERROR_INTERRUPTED && says(vm, "interrupted"), "dial_interrupt from another thread stops a run");
    ok(dial_call(vm, "sq", &n, 1, &r) == DIAL_OK && num(r) == 6.25, "the VM is usable after an interrupt");
    dial_array_free(r);
    dial_interrupt(vm);
    ok(dial_call(vm, "sq", &n, 1, &r) == DIAL_OK, "an interrupt made while nothing runs is dropped");
    dial_array_free(r);

    /* -- handles across VMs ---------------------------------------------------------- */
    dial_vm *vm2 = dial_new();
    ok(run(vm2, "fn sq(x) { return x * x }") == DIAL_OK, "a second VM");
    ok(dial_call(vm2, "sq", &a, 1, &r) == DIAL_ERROR_USAGE && says(vm2, "another VM"),
       "an array of another VM is a usage error");
    ok(dial_call(vm, "sq", &a, 1, &r) == DIAL_OK, "... and does not disturb its own VM");
    dial_array_free(r);
    dial_array *b2 = dial_number(vm2, 3);
    ok(dial_call(vm, "h", &b2, 1, &r) == DIAL_ERROR_USAGE, "... either way");
    dial_free(vm2);
    ok(dial_array_ndim(b2) == -1 && !dial_array_data(b2) && dial_array_size(b2) == -1 &&
       dial_array_number(b2, &x0) == DIAL_ERROR_USAGE && dial_tuple_size(b2) == -1,
       "an array of a freed VM is empty");
    ok(dial_call(vm, "sq", &b2, 1, &r) == DIAL_ERROR_USAGE && says(vm, "freed VM"), "passing it is a usage error");
    ok(!dial_tuple_new(vm, &b2, 1) && dial_set_global(vm, "q", b2) == DIAL_ERROR_USAGE, "... everywhere");
    dial_array_free(b2);

    /* -- two VMs in two threads ------------------------------------------------------ */
    Job j1 = {0, 0}, j2 = {0, 0}, j0 = {0, 0};
    work(&j0);
    pthread_t th1, th2;
    pthread_create(&th1, NULL, work, &j1);
    pthread_create(&th2, NULL, work, &j2);
    pthread_join(th1, NULL);
    pthread_join(th2, NULL);
    ok(j0.rc == DIAL_OK && j1.rc == DIAL_OK && j2.rc == DIAL_OK, "two VMs in two threads run");
    ok(j1.result == j0.result && j2.result == j0.result, "... with identical results (%.17g)", j1.result);

    /* -- freeing ---------------------------------------------------------------------- */
    dial_array_free(xy[0]);
    dial_array_free(xy[1]);
    dial_array_free(hx);
    dial_array_free(z);
    dial_array_free(e);
    dial_array_free(t1);
    dial_array *left = a;      /* kept across dial_free */
    dial_free(vm);
    fclose(devnull);
    ok(released2 == 1, "dial_free releases host memory a global held");
    ok(dial_array_ndim(left) == -1 && !dial_array_shape(left), "arrays outlive their VM as empty handles");
    dial_array_free(left);
    dial_array_free(n);
    limits();
    dial_array_free(t);

    printf("1..%d\n", ntest);
    return nfail != 0;
}
