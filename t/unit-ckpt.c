/* unit-ckpt.c: TAP test of checkpointed loops run by the VM (checkpoint.c),
 * through the public API. For a grid of trip counts n and snapshot counts
 * s, a differentiated loop `for i in 0..n checkpoint(s)` must make exactly
 * t(n, s) untaped step evaluations (computed here from Griewank and
 * Walther's closed form, independently of revolve.c) and n taped ones,
 * keep at most s snapshots, and give a gradient bit-identical to the one
 * the same program gets when every state is stored (s = n). The body reads
 * the loop index and carries two arrays of different shapes and a number.
 * The same loop as a `while` (online checkpointing, n unknown until it
 * ends) stays within t(n, s) + n + 1 body evaluations while
 * n <= (s+1)(s+2)/2, and within (r + 1) n beyond (r the repetition number
 * of the offline optimum), for every trip count from 0 to 40 and beyond.
 * Exits 1 if any test fails. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dial.h"

#include "tap.h"

/* C(a, b), small enough here */
static int64_t binom(int64_t a, int64_t b)
{
    if (b < 0 || b > a) return 0;
    int64_t r = 1;
    for (int64_t k = 1; k <= b; k++) r = r * (a - b + k) / k;
    return r;
}

/* t(n, s) = r n - C(s + r, r - 1), r the least with C(s + r, s) >= n */
static int64_t t_opt(int64_t n, int64_t s)
{
    if (n <= 1) return 0;
    if (s >= n - 1) return n - 1;
    int64_t r = 0;
    while (binom(s + r, s) < n) r++;
    return r * n - binom(s + r, r - 1);
}

/* The number after "key": in a JSON text. */
static long long field(const char *json, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(json, pat);
    return p ? atoll(p + strlen(pat)) : -1;
}

typedef struct Result {
    long long forward, taped, peak;
    double g[5];
} Result;

/* The program: a `for` loop, or (online) a `while` loop over a counter. */
static int run(int online, int64_t n, int64_t s, Result *res)
{
    char code[1024];
    snprintf(code, sizeof code,
             "fn f(x, y) {\n"
             "    a = x\n"
             "    b = reshape(y, 2, 2)\n"
             "    c = 0.5\n"
             "    k = 0\n"
             "    %s checkpoint(%lld) {\n"
             "        a = a + 0.001 * sin(a * (k %% 3 + 1)) * c\n"
             "        b = b * 0.999 + 0.001 * cos(sum(a))\n"
             "        c = c + 0.0001 * sum(b)\n"
             "        k = k + 1\n"
             "    }\n"
             "    return sum(a * a) + sum(b) * c\n"
             "}\n"
             "g = grad(f)([0.1, 0.2, 0.3, 0.4], [1, 2, 3, 4])\n"
             "h = grad(f, 1)([0.1, 0.2, 0.3, 0.4], [1, 2, 3, 4])[0]\n",
             online ? "while k < N" : "for i in 0..N", (long long)s);
    char *p = strstr(code, "N checkpoint");
    char num[32];
    snprintf(num, sizeof num, "%lld", (long long)n);
    memmove(p + strlen(num), p + 1, strlen(p + 1) + 1);
    memcpy(p, num, strlen(num));
    dial_vm *vm = dial_new();
    int ok = vm && dial_exec(vm, "ckpt", code, strlen(code), 0) == DIAL_OK;
    if (!ok && vm) printf("# %s", dial_error(vm));
    char stats[4096];
    dial_array *g = NULL, *h = NULL;
    if (ok) {
        dial_ad_stats(vm, stats, sizeof stats);
        res->forward = field(stats, "forward_steps");
        res->taped = field(stats, "taped_steps");
        res->peak = field(stats, "snapshots_peak");
        ok = dial_get_global(vm, "g", &g) == DIAL_OK && dial_get_global(vm, "h", &h) == DIAL_OK &&
             dial_array_size(g) == 4;
    }
    if (ok) {
        memcpy(res->g, dial_array_data(g), 4 * sizeof(double));
        ok = dial_array_number(h, &res->g[4]) == DIAL_OK;
    }
    dial_array_free(g);
    dial_array_free(h);
    dial_free(vm);
    return ok;
}

/* while loops, online: every trip count 0 .. 40 and some beyond, s 1 .. 5 */
static void online(void)
{
    for (int64_t s = 1; s <= 5; s++) {
        int64_t edge = (s + 1) * (s + 2) / 2;
        Result all;
        if (!ok(run(1, 150, 1000, &all), "while, 150 steps, s = 1000 runs")) return;
        for (int64_t n = 0; n <= 150; n += n < 40 ? 1 : 11) {
            Result r, ref;
            if (!ok(run(1, n, s, &r) && run(1, n, 1000, &ref), "while, n = %lld, s = %lld runs", (long long)n,
                    (long long)s))
                continue;
            int64_t total = r.forward + r.taped, reps = 0;
            while (binom(s + reps, s) < n) reps++;
            int64_t bound = n <= edge ? t_opt(n, s) + n + 1 : (reps + 1) * n;
            ok(total <= 2 * bound && r.peak <= s,
               "while, n = %lld, s = %lld: %lld evaluations (%s %lld), %lld snapshots at most", (long long)n,
               (long long)s, (long long)(total / 2), n <= edge ? "t(n, s) + n + 1 =" : "(r + 1) n =", (long long)bound, r.peak);
            ok(memcmp(r.g, ref.g, sizeof r.g) == 0, "while, n = %lld, s = %lld: the gradient is bit-identical to store-all",
               (long long)n, (long long)s);
        }
    }
}

int main(void)
{
    static const int64_t ns[] = {0, 1, 2, 3, 5, 10, 17, 50, 100, 1000, 3000};
    online();
    for (size_t a = 0; a < sizeof ns / sizeof *ns; a++) {
        int64_t n = ns[a];
        Result all;
        /* every state stored: the reference gradient */
        if (!ok(run(0, n, n ? n : 1, &all), "n = %lld, s = n runs", (long long)n)) continue;
        const int64_t ss[] = {1, 2, 3, 4, 10, 31, n - 1, n + 5};
        for (size_t b = 0; b < sizeof ss / sizeof *ss; b++) {
            int64_t s = ss[b];
            if (s < 1 || (s == 1 && n > 1000)) continue;
            Result r;
            if (!ok(run(0, n, s, &r), "n = %lld, s = %lld runs", (long long)n, (long long)s)) continue;
            /* two gradients taken: each loop ran twice */
            ok(r.forward == 2 * t_opt(n, s), "n = %lld, s = %lld: %lld untaped steps, 2 t(n, s) = %lld",
               (long long)n, (long long)s, r.forward, (long long)(2 * t_opt(n, s)));
            ok(r.taped == 2 * n && r.peak <= s, "n = %lld, s = %lld: %lld taped steps (2n), %lld snapshots at most",
               (long long)n, (long long)s, r.taped, r.peak);
            ok(memcmp(r.g, all.g, sizeof r.g) == 0, "n = %lld, s = %lld: the gradient is bit-identical to store-all",
               (long long)n, (long long)s);
        }
    }
    printf("1..%d\n", ntest);
    return nfail != 0;
}
