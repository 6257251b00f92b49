/* unit-revolve.c: TAP test of the checkpointing schedules (revolve.c).
 * Runs every schedule on a model chain whose states are step numbers and
 * checks each action against it: the index an action reports is the
 * state's, steps are reversed once each in the order n-1 .. 0, no more than
 * s slots are alive, every slot is free at the end. The counts are checked
 * against a dynamic programme over t(n, s) = min_j j + t(n-j, s-1) +
 * t(j, s), computed here independently of revolve.c, and against the
 * fewest snapshot writes among time-optimal schedules (another DP). Exits
 * 1 if any test fails. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "revolve.h"

#include "tap.h"

/* --- the independent optimum ---------------------------------------------- */

#define DP_N 10000 /* T(m, c) for m <= DP_N */
#define DP_S 100   /* and c <= DP_S; c >= m behaves as c = m */
#define W_N 400    /* the fewest writes for m <= W_N */
#define W_S 12
#define INF (INT64_MAX / 4)

static int64_t *T[DP_S + 1]; /* T[c][m] */

static int64_t dp_t(int64_t m, int64_t c)
{
    if (m <= 1) return 0;
    if (c <= 0) return INF;
    if (c > m) c = m;
    return c <= DP_S ? T[c][m] : m - 1; /* c >= m-1: every state kept */
}

static int64_t split_cost(int64_t m, int64_t c, int64_t j)
{
    return j + dp_t(m - j, c - 1) + dp_t(j, c);
}

/* The cost is convex in j (for c >= 2; c = 1 allows j = m-1 only): binary
 * search for the first j whose successor is no cheaper. */
static void dp_fill(void)
{
    for (int c = 1; c <= DP_S; c++) {
        T[c] = malloc((DP_N + 1) * sizeof *T[c]);
        T[c][0] = T[c][1] = 0;
        for (int64_t m = 2; m <= DP_N; m++) {
            int64_t lo = c == 1 ? m - 1 : 1, hi = m - 1; /* one slot: j = m-1 only */
            while (lo < hi) {
                int64_t mid = (lo + hi) / 2;
                if (split_cost(m, c, mid + 1) < split_cost(m, c, mid))
                    lo = mid + 1;
                else
                    hi = mid;
            }
            T[c][m] = split_cost(m, c, lo);
        }
    }
}

/* W[c][m]: the fewest writes to reverse m steps whose first state is
 * stored already, among time-optimal schedules. */
static int64_t W[W_S + 1][W_N + 1];

static void dp_writes(void)
{
    for (int c = 1; c <= W_S; c++)
        for (int64_t m = 0; m <= W_N; m++) {
            int64_t best = m <= 1 ? 0 : INF;
            for (int64_t j = 1; j < m; j++) {
                if (split_cost(m, c, j) != dp_t(m, c)) continue;
                int64_t w = (m - j >= 2) + (m - j >= 2 ? W[c - 1][m - j] : 0) + W[c][j];
                if (w < best) best = w;
            }
            W[c][m] = best;
        }
}

/* With s >= n-1 slots the only schedule of n-1 advances stores each of
 * x_0 .. x_{n-2} once. */
static int64_t dp_min_writes(int64_t n, int64_t s)
{
    if (n <= 1) return 0;
    return s >= n - 1 ? n - 1 : 1 + W[s][n];
}

/* beta(s, r) = C(s+r, s) by doubles (exact far enough for the tests) and
 * the repetition number */
static int64_t reps(int64_t n, int64_t s)
{
    if (n <= 1) return 0;
    if (s > n) s = n;
    double b = 1;
    int64_t r = 0;
    while (b < (double)n) {
        r++;
        b = b * (double)(s + r) / (double)r;
    }
    return r;
}

/* --- the model chain ------------------------------------------------------ */

typedef struct {
    int64_t n, s;
    int64_t *slot;  /* slot[k]: the state held, -1: free */
    int64_t *evals; /* body evaluations per step (NULL: not counted) */
    int64_t cur;    /* the current state, -1: undefined */
    int64_t cache;  /* the step whose cache is alive, -1: none */
    int64_t next;   /* the next step to reverse */
    int64_t alive, peak, advances, taped, writes, actions;
    char err[160];
} model;

static void model_init(model *m, int64_t n, int64_t s, int count_steps)
{
    memset(m, 0, sizeof *m);
    m->n = n;
    m->s = s;
    int64_t room = s < n + 2 ? s : n + 2;
    m->slot = malloc((size_t)room * sizeof *m->slot);
    for (int64_t k = 0; k < room; k++) m->slot[k] = -1;
    m->evals = count_steps ? calloc((size_t)n + 1, sizeof *m->evals) : NULL;
    m->cur = 0;
    m->cache = -1;
    m->next = n - 1;
}

static void model_free(model *m)
{
    free(m->slot);
    free(m->evals);
}

static int fail(model *m, const char *what, rv_action a)
{
    if (!m->err[0])
        snprintf(m->err, sizeof m->err, "%s (action %lld: kind %d index %lld count %lld slot %lld)",
                 what, (long long)m->actions, (int)a.kind, (long long)a.index,
                 (long long)a.count, (long long)a.slot);
    return -1;
}

static void eval(model *m, int64_t i)
{
    if (m->evals) m->evals[i]++;
}

static int slot_ok(model *m, rv_action a)
{
    int64_t room = m->s < m->n + 2 ? m->s : m->n + 2;
    return a.slot >= 0 && a.slot < room;
}

/* Apply one action of the reversal; 1 at RV_END, 0 to go on, -1 wrong. */
static int apply(model *m, rv_action a)
{
    m->actions++;
    switch (a.kind) {
    case RV_ADVANCE:
        if (m->cur != a.index || a.count < 1 || a.index + a.count >= m->next + 1)
            return fail(m, "advance from the wrong state or too far", a);
        for (int64_t i = a.index; i < a.index + a.count; i++) eval(m, i);
        m->cur += a.count;
        m->advances += a.count;
        return 0;
    case RV_STORE:
        if (m->cur != a.index || !slot_ok(m, a) || m->slot[a.slot] >= 0)
            return fail(m, "store of the wrong state or into a busy slot", a);
        m->slot[a.slot] = a.index;
        m->writes++;
        if (++m->alive > m->peak) m->peak = m->alive;
        return 0;
    case RV_RESTORE:
        if (!slot_ok(m, a) || m->slot[a.slot] != a.index)
            return fail(m, "restore of a state the slot does not hold", a);
        m->cur = a.index;
        if (!a.keep) {
            m->slot[a.slot] = -1;
            m->alive--;
        }
        return 0;
    case RV_FREE:
        if (!slot_ok(m, a) || m->slot[a.slot] != a.index)
            return fail(m, "free of a state the slot does not hold", a);
        m->slot[a.slot] = -1;
        m->alive--;
        return 0;
    case RV_STEP_REVERSE:
        if (m->cur != a.index || a.index != m->next)
            return fail(m, "taped step from the wrong state or out of order", a);
        eval(m, a.index);
        m->taped++;
        m->next--;
        m->cur = -1;
        return 0;
    case RV_REVERSE:
        if (m->cache != a.index || a.index != m->next)
            return fail(m, "reverse without that step's cache", a);
        m->cache = -1;
        m->next--;
        return 0;
    case RV_END:
        if (m->next != -1 || m->alive != 0) return fail(m, "end before all is reversed and freed", a);
        return 1;
    default:
        return fail(m, "unexpected action", a);
    }
}

static int run_offline(model *m)
{
    rv_cursor c;
    if (rv_init(&c, m->n, m->s) < 0) return -1;
    int r = 0;
    while (r == 0) r = apply(m, rv_next(&c));
    rv_free(&c);
    return r;
}

/* The forward sweep of a while loop of n steps, then its reversal. */
static int run_online(model *m)
{
    ro_state st;
    if (ro_init(&st, m->s) < 0) return -1;
    int r = 0;
    for (int64_t i = 0; i < m->n && r == 0; i++) {
        rv_action a = ro_step(&st);
        if (a.index != i) r = fail(m, "ro_step at the wrong index", a);
        else if (a.kind == RV_STORE) {
            if (!slot_ok(m, a)) r = fail(m, "store into a slot beyond s", a);
            else {
                if (m->slot[a.slot] < 0 && ++m->alive > m->peak) m->peak = m->alive;
                m->slot[a.slot] = i;
                m->writes++;
            }
        } else if (a.kind != RV_NONE)
            r = fail(m, "ro_step neither stores nor passes", a);
        eval(m, i); /* run taped, only this step's cache kept */
        m->cache = i;
        m->cur = i + 1;
        m->taped++;
    }
    if (r == 0 && ro_end(&st) < 0) r = -1;
    m->cur = -1;
    while (r == 0) r = apply(m, ro_next(&st));
    ro_free(&st);
    return r;
}

/* --- the tests ------------------------------------------------------------ */

static void test_counting(void)
{
    ok(rv_t(50, 7) == 105 && rv_t(1000, 10) == 3636 && rv_t(1000, 31) == 2439 &&
           rv_t(10000, 20) == 37976,
       "t(50,7)=105, t(1000,10)=3636, t(1000,31)=2439, t(10000,20)=37976");
    ok(rv_t(0, 1) == 0 && rv_t(1, 1) == 0 && rv_t(2, 1) == 1 && rv_t(5, 100) == 4 &&
           rv_t(-1, 3) == -1 && rv_t(5, 0) == -1,
       "t for n = 0, 1, 2, s >= n, and bad arguments");
    int64_t n7 = 10000000;
    ok(rv_t(n7, 1) == n7 * (n7 - 1) / 2 && rv_t(n7, n7) == n7 - 1 &&
           rv_t(n7, INT64_MAX) == n7 - 1 && rv_t(n7, n7 - 2) == n7,
       "t(10^7, s) for s = 1, 10^7, INT64_MAX, 10^7 - 2");
    ok(rv_reps(n7, 2) == 4471 && rv_beta(2, 4471) >= n7 && rv_beta(2, 4470) < n7,
       "repetition number for n = 10^7, s = 2");
    ok(rv_beta(60, 60) == RV_SAT && rv_beta(3, 2) == 10 && rv_beta(-1, 5) == 0 &&
           rv_beta(INT64_MAX, 1) == RV_SAT,
       "beta saturates and is 0 for c < 0");
    int bad = 0;
    for (int64_t c = 1; c <= DP_S; c++)
        for (int64_t m = 0; m <= DP_N; m++)
            if (rv_t(m, c) != dp_t(m, c) && bad++ < 3)
                printf("# t(%lld, %lld) = %lld, the DP says %lld\n", (long long)m,
                       (long long)c, (long long)rv_t(m, c), (long long)dp_t(m, c));
    ok(!bad, "rv_t equals the DP for every n <= %d, s <= %d", DP_N, DP_S);
    bad = 0;
    for (int64_t c = 1; c <= 12; c++)
        for (int64_t m = 2; m <= 3000; m++)
            if (rv_reps(m, c) != reps(m, c) && bad++ < 3)
                printf("# reps(%lld, %lld) = %lld\n", (long long)m, (long long)c,
                       (long long)rv_reps(m, c));
    ok(!bad, "repetition numbers agree for n <= 3000, s <= 12");
}

/* One offline schedule; writes checked when the DP knows them. */
static int check_offline(int64_t n, int64_t s, int verbose)
{
    model m;
    model_init(&m, n, s, n <= 2000);
    int r = run_offline(&m);
    int64_t want = dp_t(n, s <= DP_S ? s : (s > n ? n : s));
    int good = r == 1 && m.advances == want && m.taped == n && m.peak <= s;
    if (good && n <= W_N && (s <= W_S || s >= n)) good = m.writes == dp_min_writes(n, s);
    if (good && m.evals) {
        int64_t rr = reps(n, s);
        for (int64_t i = 0; i < n; i++) good &= m.evals[i] <= rr + 1;
    }
    if (!good || verbose)
        printf("# offline n=%lld s=%lld: %s advances %lld (t %lld) taped %lld writes %lld peak %lld %s\n",
               (long long)n, (long long)s, good ? "ok" : "WRONG", (long long)m.advances,
               (long long)want, (long long)m.taped, (long long)m.writes, (long long)m.peak, m.err);
    model_free(&m);
    return good;
}

static void test_offline(void)
{
    int bad = 0;
    for (int64_t n = 0; n <= 130; n++)
        for (int64_t s = 1; s <= 14; s++) bad += !check_offline(n, s, 0);
    ok(!bad, "offline: every n <= 130, s <= 14: advances = t(n,s), taped = n, fewest writes");
    bad = 0;
    for (int64_t n = 1; n <= 130; n++) {
        bad += !check_offline(n, n, 0) + !check_offline(n, n + 1, 0);
        bad += !check_offline(n, n + 100, 0) + !check_offline(n, INT64_MAX, 0);
    }
    ok(!bad, "offline: s = n, n+1, n+100, INT64_MAX (store-all)");
    bad = 0;
    for (int64_t n = 131; n <= W_N; n += 13)
        for (int64_t s = 1; s <= W_S; s++) bad += !check_offline(n, s, 0);
    ok(!bad, "offline: n in 131..400 step 13, s <= 12, writes minimal too");
    model m;
    model_init(&m, 50, 7, 0);
    ok(run_offline(&m) == 1 && m.writes == 28 && m.advances == 105,
       "n=50 s=7: 105 advances and 28 snapshot writes");
    model_free(&m);
    static const int64_t ns[] = {1000, 2500, 10000};
    static const int64_t ss[] = {1, 2, 3, 5, 10, 20, 25, 31, 100, 9999, 10000, 20000};
    bad = 0;
    for (size_t i = 0; i < sizeof ns / sizeof *ns; i++)
        for (size_t k = 0; k < sizeof ss / sizeof *ss; k++) bad += !check_offline(ns[i], ss[k], 1);
    ok(!bad, "offline: n up to 10^4, s from 1 to beyond n");
}

static int check_online(int64_t n, int64_t s, int verbose)
{
    model m;
    model_init(&m, n, s, 1);
    int r = run_online(&m);
    int64_t total = 0, worst = 0, rr = reps(n, s);
    for (int64_t i = 0; i < n; i++) {
        total += m.evals[i];
        if (m.evals[i] > worst) worst = m.evals[i];
    }
    int64_t t = dp_t(n, s <= DP_S ? s : n), bound2 = s >= n ? n : (s + 1) * (s + 2) / 2;
    int good = r == 1 && m.peak <= s && worst <= rr + 1;
    if (n <= bound2) good &= total <= t + n + 1;
    if (!good || verbose)
        printf("# online n=%lld s=%lld: %s evaluations %lld (t+n %lld) worst step %lld (r+1 %lld) "
               "writes %lld peak %lld %s\n",
               (long long)n, (long long)s, good ? "ok" : "WRONG", (long long)total,
               (long long)(t + n), (long long)worst, (long long)rr + 1, (long long)m.writes,
               (long long)m.peak, m.err);
    model_free(&m);
    return good;
}

static void test_online(void)
{
    int bad = 0;
    for (int64_t s = 1; s <= 5; s++)
        for (int64_t n = 0; n <= 40; n++) bad += !check_online(n, s, 0);
    ok(!bad, "online: every n <= 40, s <= 5");
    bad = 0;
    for (int64_t s = 1; s <= 12; s++) {
        int64_t lim = rv_beta(s, 3) + 20;
        if (lim > 1500) lim = 1500;
        for (int64_t n = 0; n <= lim; n++) bad += !check_online(n, s, 0);
    }
    ok(!bad, "online: s <= 12, every n up to beta(s,3)+20 (1500 at most): "
             "t+n+1 within beta(s,2), repetition bound beyond");
    static const int64_t big[][2] = {{2000, 3}, {3000, 10}, {5000, 20}, {1000, 1000}, {100, 1},
                                     {40, INT64_MAX}};
    bad = 0;
    for (size_t i = 0; i < sizeof big / sizeof *big; i++) bad += !check_online(big[i][0], big[i][1], 1);
    ok(!bad, "online: larger n, s = 1 and s beyond n");
}

int main(void)
{
    dp_fill();
    dp_writes();
    test_counting();
    test_offline();
    test_online();
    for (int c = 1; c <= DP_S; c++) free(T[c]);
    printf("1..%d\n", ntest);
    return nfail ? 1 : 0;
}
