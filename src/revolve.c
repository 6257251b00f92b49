/* revolve.c: binomial checkpointing schedules (see revolve.h). */
#include <stdlib.h>
#include <string.h>

#include "revolve.h"

/* --- counting ------------------------------------------------------------ */

static int64_t mul_sat(int64_t a, int64_t b)
{
    if (a == 0 || b == 0) return 0;
    if (a >= RV_SAT / b) return RV_SAT;
    return a * b;
}

static int64_t gcd(int64_t a, int64_t b)
{
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* v * num / den, exact when the result is an integer (it is a binomial
 * here) and v * num would overflow: divide out gcd(v, den) first, the rest
 * of den then divides num. */
static int64_t muldiv_sat(int64_t v, int64_t num, int64_t den)
{
    if (v == RV_SAT) return RV_SAT;
    int64_t p;
    if (!__builtin_mul_overflow(v, num, &p) && p < RV_SAT) return p / den;   /* no gcd's divisions */
    int64_t g = gcd(v, den);
    return mul_sat(v / g, num / (den / g));
}

int64_t rv_beta(int64_t c, int64_t r)
{
    if (c < 0 || r < 0) return 0;
    int64_t k = c < r ? c : r, big = c < r ? r : c;
    if (big >= RV_SAT - k) return RV_SAT;
    int64_t v = 1;
    for (int64_t i = 1; i <= k && v != RV_SAT; i++) v = muldiv_sat(v, big + i, i);
    return v;
}

int64_t rv_reps(int64_t n, int64_t s)
{
    if (n <= 1) return 0;
    if (s >= n - 1) return 1;
    if (s <= 1) return n - 1;
    int64_t r = 0, b = 1; /* b = beta(s, r) */
    while (b < n) {
        r++;
        b = muldiv_sat(b, s + r, r);
    }
    return r;
}

int64_t rv_t(int64_t n, int64_t s)
{
    if (n < 0 || s < 1) return -1;
    if (n <= 1) return 0;
    if (s >= n - 1) return n - 1;
    int64_t r = rv_reps(n, s);
    int64_t rn = mul_sat(r, n), sub = rv_beta(s + 1, r - 1);
    if (rn == RV_SAT || sub == RV_SAT) return RV_SAT;
    return rn - sub;
}

/* How far to advance from a state stored in stack slot `top`, with d steps
 * left to reverse and c = slots - top slots for them (the stored state's
 * included): an optimal split j (advance j, store, reverse the d - j steps
 * beyond with c - 1 slots, then the j before with c), chosen as Revolve
 * chooses it, which also writes the fewest snapshots. With r the
 * repetition number: j = beta(c, r-2) while d <= beta(c, r-1) +
 * beta(c-2, r-1); j = beta(c, r-1) once d >= beta(c, r) - beta(c-3, r);
 * between them, the d - j steps beyond get beta(c-1, r-1) + beta(c-2, r-1). */
static int64_t advance_by(rv_cursor *cu, int64_t d, int64_t c)
{
    if (c > d) c = d; /* more slots than steps change nothing */
    if (c >= d - 1) return 1;   /* r = 1: a slot for every state left */
    /* r, and with it the split's bounds, stay the same for many advances
     * with the same c: the binomials are computed once for them */
    rv_split *m = &cu->memo[c & 15];
    if (m->c != c || d <= m->lo || d > m->hi) {
        int64_t r = rv_reps(d, c), b3 = rv_beta(c - 2, r - 1);
        m->c = c;
        m->lo = rv_beta(c, r - 1);
        m->hi = rv_beta(c, r);
        m->near = m->lo + b3;
        m->far = m->hi - rv_beta(c - 3, r);
        m->mid = rv_beta(c - 1, r - 1) + b3;
        m->first = rv_beta(c, r - 2);
    }
    int64_t j = d <= m->near ? m->first : d >= m->far ? m->lo : d - m->mid;
    return j < 1 ? 1 : j;
}

/* --- offline ------------------------------------------------------------- */

static rv_action act(rv_kind kind, int64_t index, int64_t count, int64_t slot, int keep)
{
    rv_action a = {kind, index, count, slot, keep};
    return a;
}

/* A cursor over steps lo .. hi-1 with `slots` slots; pos has room for
 * min(slots, hi - lo) + 1 entries. prestored: x_lo is already in stack
 * slot 0 and the current state is undefined; else the current state is
 * x_lo and no slot is used. */
static void setup(rv_cursor *c, int64_t lo, int64_t hi, int64_t slots, int64_t *pos,
                  const int64_t *map, int prestored)
{
    c->lo = lo;
    c->hi = c->fine = hi;
    c->slots = slots;
    c->pos = pos;
    c->map = map;
    c->owned = 0;
    c->top = prestored ? 0 : -1;
    c->cur = prestored ? -1 : lo;
    if (prestored) pos[0] = lo;
    memset(c->memo, 0, sizeof c->memo);   /* c = 0: no split yet */
}

int rv_init(rv_cursor *c, int64_t n, int64_t s)
{
    memset(c, 0, sizeof *c);
    if (n < 0 || s < 1) return -1;
    int64_t room = (s < n ? s : n) + 1;
    int64_t *pos = malloc((size_t)room * sizeof *pos);
    if (!pos) return -1;
    setup(c, 0, n, s, pos, NULL, 0);
    c->owned = 1;
    return 0;
}

void rv_free(rv_cursor *c)
{
    if (c->owned) free(c->pos);
    c->pos = NULL;
    c->owned = 0;
}

static int64_t slot_of(const rv_cursor *c, int64_t k) { return c->map ? c->map[k] : k; }

static rv_action restore_top(rv_cursor *c)
{
    int64_t k = c->top, i = c->pos[k];
    int keep = c->fine - i > 1;
    if (!keep) c->top--;
    c->cur = i;
    return act(RV_RESTORE, i, 0, slot_of(c, k), keep);
}

rv_action rv_next(rv_cursor *c)
{
    if (!c->pos) return act(RV_ERROR, 0, 0, 0, 0);
    if (c->fine <= c->lo) return act(RV_END, c->lo, 0, 0, 0);
    if (c->cur < 0) {
        if (c->top < 0) return act(RV_ERROR, 0, 0, 0, 0);
        return restore_top(c);
    }
    int64_t d = c->fine - c->cur;
    if (d == 1) {
        c->fine--;
        c->cur = -1;
        return act(RV_STEP_REVERSE, c->fine, 0, 0, 0);
    }
    if (c->top < 0 || c->pos[c->top] != c->cur) {
        if (c->top + 1 >= c->slots) return act(RV_ERROR, c->cur, 0, 0, 0);
        c->pos[++c->top] = c->cur;
        return act(RV_STORE, c->cur, 0, slot_of(c, c->top), 0);
    }
    int64_t j = advance_by(c, d, c->slots - c->top);
    c->cur += j;
    return act(RV_ADVANCE, c->cur - j, j, 0, 0);
}

/* --- online: the plan ------------------------------------------------------
 * Process(b, c, L) builds, from a snapshot of x_b, the configuration in
 * which c slots reverse the longest chain with repetition number L:
 *   Process(b, c, 0): store x_{b+1} .. x_{b+c-1} (level 0);
 *   Process(b, c, L): Process(b, c, L-1), then store x_{b'} with
 *     b' = b + beta(c, L) at level L, then Process(b', c-1, L);
 *   Process(b, 1, L): nothing.
 * The loop runs Process(0, s, infinity). A frame is a Process under way:
 * cur = 0 while it stores level 0 (k of them so far), else the level of
 * its next store. */

static int push_frame(ro_state *st, int64_t b, int64_t c, int64_t target)
{
    if (st->depth == st->frcap) {
        int64_t cap = st->frcap ? 2 * st->frcap : 8;
        ro_frame *f = realloc(st->fr, (size_t)cap * sizeof *f);
        if (!f) return -1;
        st->fr = f;
        st->frcap = cap;
    }
    ro_frame f = {b, c, target, 0, 0};
    st->fr[st->depth++] = f;
    return 0;
}

/* Set next_t, next_lvl to the plan's next store (RV_SAT: none). */
static int plan_next(ro_state *st)
{
    while (st->depth > 0) {
        ro_frame *f = &st->fr[st->depth - 1];
        if (f->c <= 1) {
            st->depth--;
            continue;
        }
        if (f->cur == 0 && f->k < f->c - 1) {
            f->k++;
            st->next_t = f->b + f->k;
            st->next_lvl = 0;
            return 0;
        }
        if (f->cur == 0) f->cur = 1;
        if (f->cur > f->target) {
            st->depth--;
            continue;
        }
        int64_t step = rv_beta(f->c, f->cur);
        if (step == RV_SAT || f->b >= RV_SAT - step) break;
        int64_t lvl = f->cur++, b = f->b + step, c = f->c - 1;
        st->next_t = b;
        st->next_lvl = lvl;
        return push_frame(st, b, c, lvl);
    }
    st->next_t = RV_SAT;
    return 0;
}

static int grow(ro_state *st)
{
    int64_t cap = st->cap ? 2 * st->cap : 16;
    if (cap > st->s) cap = st->s;
    ro_snap *p = realloc(st->snap, (size_t)cap * sizeof *p);
    if (!p) return -1;
    st->snap = p;
    st->cap = cap;
    return 0;
}

int ro_init(ro_state *st, int64_t s)
{
    memset(st, 0, sizeof *st);
    if (s < 1) return -1;
    st->s = s;
    st->next_t = 0;
    st->next_lvl = RV_SAT; /* x_0: never dropped */
    return grow(st);
}

void ro_free(ro_state *st)
{
    free(st->snap);
    free(st->fr);
    free(st->held);
    free(st->subpos);
    free(st->submap);
    memset(st, 0, sizeof *st);
}

/* The snapshot to drop for a new one of level `lvl`: the latest (not x_0)
 * whose level is below that of a later one, the new one included (Wang,
 * Moin & Iaccarino's "dispensable" checkpoint). */
static int64_t dispensable(const ro_state *st, int64_t lvl)
{
    int64_t m = lvl;
    for (int64_t k = st->used - 1; k >= 1; k--) {
        if (st->snap[k].lvl < m) return k;
        if (st->snap[k].lvl > m) m = st->snap[k].lvl;
    }
    return -1;
}

/* Store x_t at level lvl; the snapshot's slot. -1 on failure. */
static int64_t add_snapshot(ro_state *st, int64_t lvl)
{
    int64_t slot;
    if (st->used < st->s) {
        if (st->used == st->cap && grow(st) < 0) return -1;
        slot = st->used;
    } else {
        int64_t k = dispensable(st, lvl);
        if (k < 0) return -1;
        slot = st->snap[k].slot;
        memmove(st->snap + k, st->snap + k + 1, (size_t)(st->used - k - 1) * sizeof *st->snap);
        st->used--;
    }
    ro_snap sn = {st->t, lvl, slot};
    st->snap[st->used++] = sn;
    return slot;
}

rv_action ro_step(ro_state *st)
{
    if (st->phase) return act(RV_ERROR, st->t, 0, 0, 0);
    int64_t t = st->t;
    if (t != st->next_t) {
        st->t++;
        return act(RV_NONE, t, 0, 0, 0);
    }
    int64_t slot = add_snapshot(st, st->next_lvl);
    if (slot < 0) return act(RV_ERROR, t, 0, 0, 0);
    if (t == 0 && push_frame(st, 0, st->s, RV_SAT) < 0) return act(RV_ERROR, t, 0, 0, 0);
    if (plan_next(st) < 0) return act(RV_ERROR, t, 0, 0, 0);
    st->t++;
    return act(RV_STORE, t, 0, slot, 0);
}

/* --- online: the reversal --------------------------------------------------
 * Phases: 1 free a snapshot of x_{n-1}; 2 reverse step n-1 from its cache;
 * 3 the segments between snapshots, the last first. */

int ro_end(ro_state *st)
{
    if (st->phase) return -1;
    st->n = st->t;
    st->phase = 1;
    int64_t room = (st->s < st->n ? st->s : st->n) + 1;
    st->held = calloc((size_t)(st->cap ? st->cap : 1), 1);
    st->subpos = malloc((size_t)room * sizeof *st->subpos);
    st->submap = malloc((size_t)room * sizeof *st->submap);
    if (!st->held || !st->subpos || !st->submap) return -1;
    for (int64_t k = 0; k < st->used; k++) st->held[st->snap[k].slot] = 1;
    return 0;
}

/* Set up the offline schedule of the last segment still to reverse: the
 * steps from its snapshot to seg_end (where the reversed ones begin), with
 * the snapshot's slot and s - j - 1 slots no earlier snapshot holds. */
static void start_segment(ro_state *st)
{
    int64_t j = st->used - 1, lo = st->snap[j].pos, hi = st->seg_end;
    int64_t slots = st->s - j, len = hi - lo;
    if (slots > len) slots = len;
    st->submap[0] = st->snap[j].slot;
    int64_t q = 0;
    for (int64_t k = 1; k < slots; k++) {
        while (q < st->cap && st->held[q]) q++;
        st->submap[k] = q++;
    }
    setup(&st->sub, lo, hi, slots, st->subpos, st->submap, 1);
    st->in_sub = 1;
}

rv_action ro_next(ro_state *st)
{
    int64_t n = st->n;
    if (st->phase == 1) {
        st->phase = 2;
        st->seg_end = n - 1;
        if (st->used > 0 && st->snap[st->used - 1].pos == n - 1) {
            int64_t slot = st->snap[--st->used].slot;
            st->held[slot] = 0;
            return act(RV_FREE, n - 1, 0, slot, 0);
        }
    }
    if (st->phase == 2) {
        st->phase = 3;
        if (n >= 1) return act(RV_REVERSE, n - 1, 0, 0, 0);
    }
    if (st->phase != 3) return act(RV_ERROR, 0, 0, 0, 0);
    for (;;) {
        if (!st->in_sub) {
            if (st->used == 0) return act(RV_END, 0, 0, 0, 0);
            start_segment(st);
        }
        rv_action a = rv_next(&st->sub);
        if (a.kind != RV_END) return a;
        st->in_sub = 0;
        st->held[st->snap[--st->used].slot] = 0;
        st->seg_end = st->snap[st->used].pos;
    }
}
