/* unit-vm.c: the VM's promises that output alone cannot show, checked
 * through the internal API: scalar code allocates nothing, a uniquely owned
 * array is updated in place, an expression allocates at most one array per
 * step, copy on write copies once, and errors leave the VM usable. Prints
 * TAP. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "array.h"
#include "checkpoint.h"
#include "compile.h"
#include "parse.h"
#include "tape.h"
#include "vm.h"

#include "tap.h"

/* Compile and run code; 0 on success. */
static int run(Vm *vm, const char *code)
{
    const Source *src = vm_addsource(vm, "test", code, strlen(code));
    Arena *arena = arena_new();
    ParseResult pr = parse_source(arena, src, &vm->err);
    Proto *p = pr.program ? compile_chunk(vm, pr.program, src, 0, &vm->err) : NULL;
    if (!p || vm_keeparena(vm, arena)) arena_free(arena);   /* grad reads fn trees later */
    if (!p) return -1;
    return vm_run(vm, p, NULL);
}

/* Allocations made by running code. */
static long allocs(Vm *vm, const char *code)
{
    size_t before = vm->ctx.nalloc;
    if (run(vm, code)) {
        printf("# %s", sb_str(&vm->err));
        return -1;
    }
    return (long)(vm->ctx.nalloc - before);
}

/* How far memory in use rose above its level before running code. */
static size_t peak(Vm *vm, const char *code)
{
    size_t before = vm->ctx.bytes;
    vm->ctx.peak = before;
    if (run(vm, code)) {
        printf("# %s", sb_str(&vm->err));
        return (size_t)-1;
    }
    return vm->ctx.peak - before;
}

static double global_num(Vm *vm, const char *name)
{
    int g = vm_findglobal(vm, name);
    return g >= 0 && vm->g[g].t == T_NUM ? vm->g[g].u.n : -1;
}

int main(void)
{
    Vm *vm = vm_new();
    FILE *devnull = fopen("/dev/null", "w");
    vm->ctx.out = devnull;

    ok(run(vm, "fn f(n) { s = 0; for i in 0..n { s = s + i * 0.5 - sin(s) } return s }\n"
               "fn g(n) { x = zeros(1000); y = ones(1000)\n"
               "          for i in 0..n { x = x + y }\n"
               "          return x[999] }\n"
               "fn h(n) { x = zeros(1000)\n"
               "          for i in 0..n { x = x * 1.0001 + 0.5 }\n"
               "          return x[0] }\n"
               "fn e(a, b) { return 100 * a * a + b * b }\n") == 0,
       "definitions compile");
    long a1 = allocs(vm, "r = f(10)"), a2 = allocs(vm, "r = f(100000)");
    ok(a1 >= 0 && a1 == a2, "a scalar loop allocates nothing per iteration");
    a1 = allocs(vm, "r = g(10)");
    a2 = allocs(vm, "r = g(1000)");
    ok(a1 >= 0 && a1 == a2, "x = x + y on a uniquely owned x runs in place");
    ok(global_num(vm, "r") == 1000, "... and computes x + y");
    a1 = allocs(vm, "r = h(10)");
    a2 = allocs(vm, "r = h(1000)");
    ok(a1 >= 0 && a1 == a2, "x = x * 1.0001 + 0.5 allocates nothing per iteration");
    ok(run(vm, "fn acc(n) { x = zeros(1000); for i in 0..n { x[0:10] += 1; x[5] += 0.5 } return x[5] }") == 0,
       "indexed += compiles");
    a1 = allocs(vm, "r = acc(10)");
    a2 = allocs(vm, "r = acc(1000)");
    ok(a1 >= 0 && a1 == a2 && global_num(vm, "r") == 1500, "x[a:b] += v adds in place");
    ok(run(vm, "a = full(100, 2); b = full(100, 3); b1 = full(1, 3)") == 0, "globals a, b, b1");
    a1 = allocs(vm, "r = e(a, b)");
    ok(a1 == 1, "100*a*a + b*b on arrays of one shape runs fused: one array, the result");
    a1 = allocs(vm, "r = e(a, b1)");
    ok(a1 == 2, "with broadcasting it runs op by op: two arrays for four steps");
    ok(run(vm, "r = e(a, b1)[7]") == 0 && global_num(vm, "r") == 409, "... and computes 409");
    ok(run(vm, "r = e(a, b)[7]") == 0 && global_num(vm, "r") == 409, "... and computes 409");

    ok(run(vm, "x = zeros(10); x[3] = 1") == 0, "store into a unique global");
    a1 = allocs(vm, "x[4] = 2");
    ok(a1 == 0, "a store into a uniquely owned array does not copy");
    a1 = allocs(vm, "y = x; y[0] = 5");
    ok(a1 == 1, "a store into a shared array copies once");
    ok(run(vm, "r = x[0] + 10 * y[0] + 100 * x[4]") == 0 && global_num(vm, "r") == 250,
       "... and the other holder keeps its value");
    a1 = allocs(vm, "y[1] = 6");
    ok(a1 == 0, "after the copy the array is unique again");

    ok(run(vm, "fn loop(n) { return loop(n + 1) }\nloop(0)") != 0 &&
           strstr(sb_str(&vm->err), "recursion deeper than") != NULL,
       "infinite recursion is an error");
    ok(vm->nframes == 0, "the error unwound every frame");
    ok(run(vm, "r = f(3) * 0 + 7") == 0 && global_num(vm, "r") == 7,
       "the VM runs again after an error, keeping its functions");
    ok(run(vm, "z = zeros(2, 3) + zeros(4)") != 0 &&
           strstr(sb_str(&vm->err), "(2, 3) (4,)") != NULL,
       "a broadcast error names both shapes");
    /* Peak memory shows whether a block's arrays were released before the
     * code after the block allocated: each array is 40 KB. The block's
     * array sits above the registers the later code uses, so only its
     * release can free it in time. */
    ok(peak(vm, "if 1 { p1 = 0; p2 = 0; p3 = 0; u = zeros(5000) }\nw1 = zeros(5000)") < 2 * 40000,
       "a block's locals are released when the block ends");
    ok(peak(vm, "for i in 0..3 { p1 = 0; p2 = 0; p3 = 0; t = zeros(5000) }\n"
                "w2 = zeros(5000); w3 = zeros(5000)") < 3 * 40000,
       "a loop body's locals are released when the loop ends");
    ok(peak(vm, "fn k() { p1 = 0; p2 = 0; q = zeros(5000); return 1 }\n"
                "for i in 0..3 { k() }\nw4 = zeros(5000)") < 2 * 40000,
       "a function's locals are released when it returns");
    size_t live = vm->ctx.bytes;
    ok(run(vm, "w1 = 0; w2 = 0; w3 = 0; w4 = 0") == 0 && vm->ctx.bytes <= live - 4 * 40000,
       "assigning over the globals frees their arrays");

    /* Regions: a loop body's buffer of 10^6 elements (8 MB) and its adjoint
     * live and die with the body, in the reverse sweep too. The tape keeps
     * what the rules read (here x, a number), never the buffers. */
    ok(run(vm, "fn bufs(x) {\n"
               "    s = 0\n"
               "    for i in 0..20 {\n"
               "        buf = full(1000000, x) * (i + 1)\n"
               "        s = s + sum(sin(buf)) * 1e-6\n"
               "    }\n"
               "    return s\n"
               "}\n") == 0,
       "a loop allocating an 8 MB buffer per step compiles");
    vm->ctx.tape.bytes_peak = 0;
    size_t grew = peak(vm, "gb = grad(bufs)(0.3)");
    size_t cache = vm->ctx.tape.bytes_peak;
    ok(cache >= 20 * 8000000 && cache < 21 * 8000000,
       "the cache holds sin's operand of every step and nothing else big (%zu bytes)", cache);
    ok(grew != (size_t)-1 && grew - cache < 6 * 8000000,
       "beside it, at most a few buffers are alive at once (%zu bytes)", grew - cache);
    double want = 0;
    for (int i = 1; i <= 20; i++) want += i * cos(0.3 * i);
    ok(run(vm, "gbv = gb") == 0 && fabs(global_num(vm, "gbv") - want) < 1e-9 * fabs(want),
       "... and it is right");

    /* The loop runner's internal errors: generated code never makes them,
     * but they must be errors, not crashes. */
    Value blk[8], depth = val_num(0), name = val_nil();
    for (int k = 0; k < 8; k++) blk[k] = val_num(0);
    ok(ckpt_next(vm, &depth, blk) != 0 && strstr(vm->ctx.msg, "no loop runner") != NULL,
       "OP_CKNEXT with no reverse runner running is an error");
    ok(ckpt_next(vm, &name, blk) != 0 && strstr(vm->ctx.msg, "no loop runner") != NULL,
       "... and with a runner that is not a depth");
    Value ra[4] = {val_num(0), val_num(0), val_num(0), val_num(0)}, out = val_nil();
    ok(ckpt_reverse(vm, ra, 4, &out) != 0 && strstr(vm->ctx.msg, "AD tape is empty") != NULL,
       "the reverse runner with no record on the tape is an error");
    /* a record whose tail is not a function (its parameters give the
     * number of block accumulators) */
    Tuple *rec = tup_new(&vm->ctx, 12), *x0 = tup_new(&vm->ctx, 1), *u = tup_new(&vm->ctx, 0);
    Tuple *sl = tup_new(&vm->ctx, 1);
    for (int k = 0; k < 12; k++) rec->v[k] = val_num(k == 1);      /* n = 0, s = 1 */
    x0->v[0] = val_num(1);
    rec->v[4] = (Value){.t = T_TUPLE, .u.tu = x0};
    rec->v[5] = (Value){.t = T_TUPLE, .u.tu = u};
    rec->v[6] = (Value){.t = T_TUPLE, .u.tu = sl};
    Value rv = {.t = T_TUPLE, .u.tu = rec};
    ok(tape_push(&vm->ctx, &rv) == 0, "a forged checkpoint record goes on the tape");
    val_decref(&vm->ctx, &rv);
    ra[0] = (Value){.t = T_TUPLE, .u.tu = x0};
    ok(ckpt_reverse(vm, ra, 4, &out) != 0 && strstr(vm->ctx.msg, "tail function") != NULL &&
           vm->ctx.tape.n == 0,
       "a record whose tail is not a function is an error, and the record is released");

    vm_free(vm);
    fclose(devnull);
    printf("1..%d\n", ntest);
    return nfail != 0;
}
