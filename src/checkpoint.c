/* checkpoint.c: the runner of checkpointed loops (see checkpoint.h).
 *
 * A state is the tuple of the carried values; the loop index is not part
 * of it, since the schedule names the step of every action. Snapshots are
 * references (arrays are immutable under copy on write), counted in bytes
 * of the arrays they hold. The record the forward sweep leaves on the tape
 * is a tuple: n, s, the first index, the number of schedule actions taken,
 * x_0, the read values u, the slots, and the loop's position. The reverse
 * starts the same schedule again and replays that many actions without
 * running them, so the schedule's state needs no home between sweeps.
 *
 * A `while` loop (its condition a function of the state) runs online: every
 * step of its forward sweep is taped, only the latest step's cache kept, and
 * snapshots placed as the online schedule (ro_step) says; its reverse
 * replays those placements and then follows ro_next.
 *
 * The reverse is one call of the loop's back function (ad.c: back_fn),
 * which holds the state in registers and runs the advances and turns
 * inline; its OP_CKNEXT comes back here (ckpt_next) for the next action,
 * doing the stores, restores and frees on those registers itself, so a
 * reversed step costs no call and no tuple. */
#include "checkpoint.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "revolve.h"
#include "tape.h"

enum { R_N, R_S, R_START, R_TAKEN, R_X0, R_U, R_SLOTS, R_LINE, R_COL, R_ADV, R_ONLINE, R_TAPED, R__N };

/* The schedule the reverse follows: the offline cursor, or the online
 * state (both started again and brought to where the forward left them). */
typedef struct Sched {
    int online;
    rv_cursor cu;
    ro_state st;
} Sched;

/* One run of a loop: the functions, the state and the counts. */
typedef struct Run {
    Vm *vm;
    const Value *adv, *fwd, *tail;  /* steps untaped; one taped; its reverse */
    Value u;               /* tuple of the read values */
    int64_t start;
    int nv;
    Value *cur;            /* the current state: nv values */
    Value *slot;           /* the record's slots */
    int64_t advances, taped;
    Value *args;           /* room for a step's arguments */
    Sched *sc;             /* the reverse's schedule */
    int no;                /* the reverse's block accumulators of outer
                              products, after the read values' adjoints
                              (ad.c: turn_outer) */
} Run;

static size_t state_bytes(const Value *v, int n)
{
    size_t b = 0;
    for (int k = 0; k < n; k++)
        b += v[k].t == T_ARR ? (size_t)v[k].u.a->n * sizeof(double) : v[k].t == T_NUM ? sizeof(double) : 0;
    return b;
}

static void snap_account(Ctx *c, int d, size_t bytes, int add)
{
    Tape *t = &c->tape;
    if (add) {
        t->snapshots += (size_t)d;
        t->snapshot_bytes += bytes;
    } else {
        t->snapshots -= (size_t)d;
        t->snapshot_bytes -= bytes;
    }
    if (t->snapshots > t->snapshots_peak) t->snapshots_peak = t->snapshots;
    if (t->snapshot_bytes > t->snapshot_bytes_peak) t->snapshot_bytes_peak = t->snapshot_bytes;
}

static Value tuple_value(Tuple *t)
{
    Value v;
    v.t = T_TUPLE;
    v.u.tu = t;
    return v;
}

static Value tuple_of(Ctx *c, const Value *v, int n)
{
    Tuple *t = tup_new(c, n);
    if (!t) return val_nil();
    for (int k = 0; k < n; k++) val_set(c, &t->v[k], &v[k]);
    return tuple_value(t);
}

/* The values of a state held as a function's result: one value, or a
 * tuple of nv. */
static int unpack(Ctx *c, Value *r, Value *to, int nv)
{
    if (nv == 1) {
        val_decref(c, &to[0]);
        to[0] = *r;
        *r = val_nil();
        return 0;
    }
    if (r->t != T_TUPLE || r->u.tu->n != nv) return ctx_err(c, "internal error: a loop step's state");
    for (int k = 0; k < nv; k++) val_set(c, &to[k], &r->u.tu->v[k]);
    val_decref(c, r);
    return 0;
}

/* Call f(index, state..., u...) into *r. */
static int call_step(Run *r, const Value *f, int64_t index, Value *res)
{
    int nu = r->u.u.tu->n, na = 1 + r->nv + nu;
    Value *args = r->args;
    args[0] = val_num((double)(r->start + index));
    memcpy(args + 1, r->cur, (size_t)r->nv * sizeof *args);
    memcpy(args + 1 + r->nv, r->u.u.tu->v, (size_t)nu * sizeof *args);
    return vm_call(r->vm, f, args, na, res);
}

/* Steps index .. index+count-1 without cache: one call of the advance
 * function, which loops over them. */
static int advance(Run *r, int64_t index, int64_t count)
{
    Ctx *c = &r->vm->ctx;
    int nu = r->u.u.tu->n;
    Value *args = r->args, res;
    args[0] = val_num((double)(r->start + index));
    args[1] = val_num((double)(r->start + index + count));
    memcpy(args + 2, r->cur, (size_t)r->nv * sizeof *args);
    memcpy(args + 2 + r->nv, r->u.u.tu->v, (size_t)nu * sizeof *args);
    if (vm_call(r->vm, r->adv, args, 2 + r->nv + nu, &res) || unpack(c, &res, r->cur, r->nv)) return -1;
    r->advances += count;
    c->tape.forward_steps += (size_t)count;
    return 0;
}

/* Slot k holds a state's nv values from r->slot[k*nv] on; a state
 * value is never nil, so a nil first value marks the slot empty. */
static void drop_slot(Ctx *c, Value *s, int nv)
{
    if (s[0].t == T_NIL) return;
    snap_account(c, 1, state_bytes(s, nv), 0);
    for (int j = 0; j < nv; j++) val_decref(c, &s[j]);
}

/* Store state cur in slot k; restore it from there. */
static int store(Run *r, int64_t k, const Value *cur)
{
    Ctx *c = &r->vm->ctx;
    Value *s = r->slot + k * r->nv;
    if (cur[0].t == T_NIL) return ctx_err(c, "internal error: an undefined loop state");
    drop_slot(c, s, r->nv);
    for (int j = 0; j < r->nv; j++) val_set(c, &s[j], &cur[j]);
    snap_account(c, 1, state_bytes(cur, r->nv), 1);
    return 0;
}

static int restore(Run *r, int64_t k, int keep, Value *cur)
{
    Ctx *c = &r->vm->ctx;
    Value *s = r->slot + k * r->nv;
    if (s[0].t == T_NIL) return ctx_err(c, "internal error: an empty checkpoint slot");
    if (keep) {
        for (int j = 0; j < r->nv; j++) val_set(c, &cur[j], &s[j]);
        return 0;
    }
    snap_account(c, 1, state_bytes(s, r->nv), 0);
    for (int j = 0; j < r->nv; j++) {       /* moved: the slot's last use */
        val_decref(c, &cur[j]);
        cur[j] = s[j];
        s[j] = val_nil();
    }
    return 0;
}

static int number(Ctx *c, const Value *v, const char *what, double *x)
{
    if (v->t != T_NUM) return ctx_err(c, "%s must be a number, not %s", what, val_typename(v));
    *x = v->u.n;
    return 0;
}

int ckpt_auto(Vm *vm, const Value *a, int nargs, Value *out)
{
    (void)nargs;
    double from = a[0].t == T_NUM ? a[0].u.n : 0, to = a[1].t == T_NUM ? a[1].u.n : 0;
    const Tuple *v = a[3 - 1].u.tu;
    double n = to > from ? ceil(to - from) : 0;
    double step = (double)state_bytes(v->v, v->n) + (double)v->n * sizeof(Value);
    size_t budget = vm->ad_budget ? vm->ad_budget : VM_AD_BUDGET;
    *out = val_num(n * a[3].u.n * step > (double)budget);
    return 0;
}

/* The slot count: the written one, or what the AD budget holds of states
 * like x_0 (one more state's worth is left for a step's cache). */
static int slots_of(Vm *vm, double count, const Value *x0, int nv, int64_t *s)
{
    if (count == -1) {
        size_t b = state_bytes(x0, nv) + (size_t)nv * sizeof(Value);
        size_t budget = vm->ad_budget ? vm->ad_budget : VM_AD_BUDGET;
        *s = (int64_t)(budget / (2 * b));
        if (*s < 1) *s = 1;
        return 0;
    }
    if (!(count >= 1) || count != floor(count) || count > 1e15)
        return ctx_err(&vm->ctx, "checkpoint(s): s must be a whole number of at least 1, not %.17g", count);
    *s = (int64_t)count;
    return 0;
}

/* The forward sweep of a `while`: before each step, the condition on the
 * state, then the online schedule's placement; every step runs taped, the
 * previous step's cache dropped. Returns the steps run, -1 on error. */
static int64_t run_online(Run *r, const Value *cond, int64_t s)
{
    Ctx *c = &r->vm->ctx;
    ro_state st;
    if (ro_init(&st, s)) return ctx_err(c, "out of memory");
    TapeMark m = tape_mark(c);
    int64_t t = 0;
    for (;; t++) {
        int nu = r->u.u.tu->n, go = 0;
        Value *args = r->args, res;
        memcpy(args, r->cur, (size_t)r->nv * sizeof *args);
        memcpy(args + r->nv, r->u.u.tu->v, (size_t)nu * sizeof *args);
        int rc = vm_call(r->vm, cond, args, r->nv + nu, &res);
        if (rc || val_truth(c, &res, &go)) {
            if (!rc) val_decref(c, &res);
            t = -1;
            break;
        }
        val_decref(c, &res);
        if (!go) break;
        rv_action act = ro_step(&st);
        if (act.kind == RV_STORE ? store(r, act.slot, r->cur) : act.kind != RV_NONE) {
            if (act.kind != RV_STORE) ctx_err(c, "internal error: the online checkpointing schedule");
            t = -1;
            break;
        }
        tape_cut(c, m);
        if (call_step(r, r->fwd, t, &res) || unpack(c, &res, r->cur, r->nv)) {
            t = -1;
            break;
        }
        c->tape.taped_steps++;
        r->taped++;
    }
    ro_free(&st);
    return t;
}

/* The forward sweep of a `for`: the schedule's actions up to its first
 * reversal, which runs step n-1 taped, its cache left on the tape for the
 * reverse. Returns the actions taken, -1 on error. */
static int64_t run_offline(Run *r, int64_t n, int64_t s)
{
    Ctx *c = &r->vm->ctx;
    rv_cursor cu;
    if (rv_init(&cu, n, s)) return ctx_err(c, "out of memory");
    int64_t taken = 0;
    for (rv_action act;; ) {
        act = rv_next(&cu);
        taken++;
        int rc = 0;
        Value res;
        if (act.kind == RV_STORE) {
            rc = store(r, act.slot, r->cur);
        } else if (act.kind == RV_ADVANCE) {
            rc = advance(r, act.index, act.count);
        } else if (act.kind == RV_STEP_REVERSE) {
            rc = call_step(r, r->fwd, act.index, &res) || unpack(c, &res, r->cur, r->nv) ? -1 : 0;
            c->tape.taped_steps++;
            r->taped++;
        } else if (act.kind != RV_END) {
            rc = ctx_err(c, "internal error: the checkpointing schedule (%d)", (int)act.kind);
        }
        if (rc) taken = -1;
        if (rc || act.kind == RV_STEP_REVERSE || act.kind == RV_END) break;
    }
    rv_free(&cu);
    return taken;
}

/* Release a record's slots (their snapshots no longer count). */
static void free_slots(Ctx *c, Tuple *slots, int nv)
{
    for (int k = 0; slots && k + nv <= slots->n; k += nv) drop_slot(c, &slots->v[k], nv);
}

int ckpt_forward(Vm *vm, const Value *a, int nargs, Value *out)
{
    Ctx *c = &vm->ctx;
    double count = 0, from = 0, to = 0;
    if (number(c, &a[0], "a checkpoint count", &count) || number(c, &a[1], "a for loop's bounds", &from) ||
        number(c, &a[2], "a for loop's bounds", &to))
        return -1;
    const Tuple *v0 = a[3].u.tu;
    int online = nargs == 10, nv = v0->n;
    int64_t n = to > from ? (int64_t)ceil(to - from) : 0, s = 1;
    if (slots_of(vm, count, v0->v, nv, &s)) return -1;
    if (online && s > 1 << 20) s = 1 << 20;    /* slots a record holds */
    int64_t nslots = online ? s : s < n ? s : (n > 0 ? n : 1);
    Tuple *rec = tup_new(c, R__N);
    Tuple *slots = rec && nslots <= INT32_MAX / nv ? tup_new(c, (int)nslots * nv) : NULL;
    Value *cur = calloc((size_t)nv, sizeof *cur);
    Value *argbuf = malloc(((size_t)nv + (size_t)a[4].u.tu->n + 2) * sizeof *argbuf);
    int rc = -1;
    if (!rec || !slots || !cur || !argbuf) {
        ctx_err(c, "out of memory");
        goto done;
    }
    for (int k = 0; k < nv; k++) val_set(c, &cur[k], &v0->v[k]);
    Run r = {vm, &a[5], &a[6], NULL, a[4], (int64_t)from, nv, cur, slots->v, 0, 0, argbuf, NULL, 0};
    int64_t taken = online ? run_online(&r, &a[9], s) : run_offline(&r, n, s);
    if (taken < 0) goto done;
    if (online) n = taken;
    Value *f = rec->v;
    f[R_N] = val_num((double)n);
    f[R_S] = val_num((double)s);
    f[R_START] = val_num(from);
    f[R_TAKEN] = val_num((double)taken);
    val_set(c, &f[R_X0], &a[3]);
    val_set(c, &f[R_U], &a[4]);
    f[R_SLOTS] = tuple_value(slots);
    slots = NULL;
    f[R_LINE] = a[7];
    f[R_COL] = a[8];
    f[R_ADV] = val_num((double)r.advances);
    f[R_ONLINE] = val_num(online);
    f[R_TAPED] = val_num((double)r.taped);
    Value rv = tuple_value(rec);
    rec = NULL;
    rc = tape_push(c, &rv);
    val_decref(c, &rv);
    if (rc) goto done;
    *out = tuple_of(c, cur, nv);
    rc = out->t == T_TUPLE ? 0 : -1;
done:
    if (rec) {
        Value t = tuple_value(rec);
        val_decref(c, &t);
    }
    if (slots) {
        free_slots(c, slots, nv);
        Value t = tuple_value(slots);
        val_decref(c, &t);
    }
    for (int k = 0; cur && k < nv; k++) val_decref(c, &cur[k]);
    free(cur);
    free(argbuf);
    return rc;
}

/* The result g of a tail or back function: ($d.., $du..) into dv, du. */
static int take_state(Ctx *c, Value *g, Value *dv, Value *du, int nv, int nu)
{
    const Value *gv = g;
    if (nv + nu > 1) {
        if (g->t != T_TUPLE || g->u.tu->n != nv + nu) {
            val_decref(c, g);
            return ctx_err(c, "internal error: a checkpointed loop's adjoints");
        }
        gv = g->u.tu->v;
    }
    for (int k = 0; k < nv; k++) val_set(c, &dv[k], &gv[k]);
    for (int k = 0; k < nu; k++) val_set(c, &du[k], &gv[nv + k]);
    val_decref(c, g);
    return 0;
}

/* Reverse one step whose cache is on the tape: the tail function takes
 * the state's adjoints dv back one step and adds to the read values' du. */
static int reverse_step(Run *r, Value *dv, Value *du)
{
    Ctx *c = &r->vm->ctx;
    int nv = r->nv, nu = r->u.u.tu->n + r->no;
    Value *args = r->args, g;
    memcpy(args, dv, (size_t)nv * sizeof *args);
    memcpy(args + nv, du, (size_t)nu * sizeof *args);
    if (vm_call(r->vm, r->tail, args, nv + nu, &g)) return -1;
    return take_state(c, &g, dv, du, nv, nu);
}

/* The loop's line in the statistics. */
static void count_loop(Ctx *c, const Value *rec, const Run *r)
{
    int64_t advances = r->advances, taped = r->taped;
    int online = rec[R_ONLINE].u.n != 0;
    Tape *t = &c->tape;
    int line = (int)rec[R_LINE].u.n, col = (int)rec[R_COL].u.n;
    int64_t n = (int64_t)rec[R_N].u.n, s = (int64_t)rec[R_S].u.n;
    for (size_t k = 0; k < t->nloops; k++) {
        CkStat *l = &t->loops[k];
        if (l->line == line && l->col == col && l->n == n && l->s == s) {
            l->runs++;
            l->advances += advances;
            l->taped += taped;
            return;
        }
    }
    if (t->nloops == t->loopcap) {
        size_t cap = t->loopcap ? 2 * t->loopcap : 8;
        CkStat *ls = realloc(t->loops, cap * sizeof *ls);
        if (!ls) return;             /* statistics only */
        t->loops = ls;
        t->loopcap = cap;
    }
    t->loops[t->nloops++] = (CkStat){line, col, online, n, s, rv_t(n, s), advances, taped, 1};
}

static int sched_init(Sched *sc, int online, int64_t n, int64_t s, int64_t taken)
{
    sc->online = online;
    if (!online) {
        if (rv_init(&sc->cu, n, s)) return -1;
        for (int64_t k = 0; k < taken; k++) rv_next(&sc->cu);
        return 0;
    }
    if (ro_init(&sc->st, s)) return -1;
    for (int64_t k = 0; k < n; k++) ro_step(&sc->st);
    if (ro_end(&sc->st)) {
        ro_free(&sc->st);
        return -1;
    }
    return 0;
}

static rv_action sched_next(Sched *sc) { return sc->online ? ro_next(&sc->st) : rv_next(&sc->cu); }

static void sched_free(Sched *sc)
{
    if (sc->online) ro_free(&sc->st);
    else rv_free(&sc->cu);
}

static void set_num(Ctx *c, Value *v, double x)
{
    val_decref(c, v);
    *v = val_num(x);
}

int ckpt_next(Vm *vm, const Value *run, Value *blk)
{
    Ctx *c = &vm->ctx;
    int d = run->t == T_NUM ? (int)run->u.n : -1;
    if (d < 0 || d >= vm->cknest || !vm->ckrun[d]) return ctx_err(c, "internal error: no loop runner");
    Run *r = vm->ckrun[d];
    for (;;) {
        rv_action act = sched_next(r->sc);
        switch (act.kind) {
        case RV_END:
            set_num(c, &blk[0], 0);
            return 0;
        case RV_ADVANCE:
            set_num(c, &blk[0], 1);
            set_num(c, &blk[1], 1);
            set_num(c, &blk[2], (double)(r->start + act.index));
            set_num(c, &blk[3], (double)(r->start + act.index + act.count));
            r->advances += act.count;
            c->tape.forward_steps += (size_t)act.count;
            return 0;
        case RV_STEP_REVERSE:
            set_num(c, &blk[0], 1);
            set_num(c, &blk[1], 0);
            set_num(c, &blk[2], (double)(r->start + act.index));
            c->tape.taped_steps++;
            r->taped++;
            return 0;
        case RV_FREE:
            drop_slot(c, r->slot + act.slot * r->nv, r->nv);
            break;
        case RV_REVERSE: {
            /* the adjoints $d.., $du.., $oacc.. (na of them) follow the
             * state and the read values; the call may move the stack:
             * they are moved out and back */
            int at = 4 + r->nv + r->u.u.tu->n, na = r->nv + r->u.u.tu->n + r->no, rc;
            size_t off = (size_t)(blk - vm->stack);
            Value *tmp = r->args + na;   /* reverse_step's arguments are below */
            memcpy(tmp, blk + at, (size_t)na * sizeof *tmp);
            for (int k = 0; k < na; k++) blk[at + k] = val_nil();
            rc = reverse_step(r, tmp, tmp + r->nv);
            blk = vm->stack + off;
            memcpy(blk + at, tmp, (size_t)na * sizeof *tmp);
            if (rc) return -1;
            break;
        }
        case RV_STORE:
            if (store(r, act.slot, blk + 4)) return -1;
            break;
        case RV_RESTORE:
            if (restore(r, act.slot, act.keep, blk + 4)) return -1;
            break;
        default:
            return ctx_err(c, "internal error: the checkpointing schedule (%d)", (int)act.kind);
        }
    }
}

/* The back function's arguments: the runner's depth, the action's four
 * numbers, the state, the read values, the state's adjoints and the read
 * values' so far, and the block accumulators. */
static Value *back_args(Run *r, int depth, const Value *dv, const Value *du)
{
    int nv = r->nv, nu = r->u.u.tu->n;
    Value *args = r->args;
    for (int k = 0; k < 5 + nv; k++) args[k] = val_num(0);
    args[0] = val_num(depth);
    memcpy(args + 5 + nv, r->u.u.tu->v, (size_t)nu * sizeof *args);
    memcpy(args + 5 + nv + nu, dv, (size_t)nv * sizeof *args);
    memcpy(args + 5 + 2 * nv + nu, du, (size_t)(nu + r->no) * sizeof *args);
    return args;
}

int ckpt_reverse(Vm *vm, const Value *a, int nargs, Value *out)
{
    Ctx *c = &vm->ctx;
    (void)nargs;
    Value recv;
    if (tape_pop(c, &recv)) return -1;
    if (recv.t != T_TUPLE || recv.u.tu->n != R__N) {
        val_decref(c, &recv);
        return ctx_err(c, "internal error: the AD tape holds no checkpoint record");
    }
    Value *rec = recv.u.tu->v;
    int64_t n = (int64_t)rec[R_N].u.n, s = (int64_t)rec[R_S].u.n, taken = (int64_t)rec[R_TAKEN].u.n;
    int online = rec[R_ONLINE].u.n != 0;
    const Tuple *x0 = rec[R_X0].u.tu;
    int nv = x0->n, nu = rec[R_U].u.tu->n, rc = -1, sched = 0, depth = vm->cknest - 1;
    /* the tail's parameters: $d.., $du.., then the accumulators */
    int no = a[1].t == T_FN ? a[1].u.fn->nparams - nv - nu : -1;
    if (no < 0) {
        val_decref(c, &recv);
        return ctx_err(c, "internal error: a checkpointed loop's tail function");
    }
    /* du: the read values' adjoints, then the accumulators (0: empty) */
    Value *dv = calloc((size_t)nv, sizeof *dv), *du = calloc((size_t)(nu + no) + 1, sizeof *du), g = val_nil();
    Value *argbuf = malloc((2 * (size_t)nv + 2 * (size_t)(nu + no) + 5) * sizeof *argbuf);
    Sched sc;
    if (!dv || !du || !argbuf || sched_init(&sc, online, n, s, taken)) {
        ctx_err(c, "out of memory");
        goto done;
    }
    sched = 1;
    for (int k = 0; k < nv; k++) val_set(c, &dv[k], &a[0].u.tu->v[k]);
    for (int k = 0; k < nu; k++) val_set(c, &du[k], &a[3].u.tu->v[k]);
    for (int k = nu; k < nu + no; k++) du[k] = val_num(0);
    Run r = {vm, NULL, NULL, &a[1], rec[R_U], (int64_t)rec[R_START].u.n, nv, NULL,
             rec[R_SLOTS].u.tu->v, (int64_t)rec[R_ADV].u.n, (int64_t)rec[R_TAPED].u.n, argbuf, &sc, no};
    /* offline, the forward ended running the last step: its cache is on the
     * tape, reverse it here (online, the schedule says when) */
    if (!online && n > 0 && reverse_step(&r, dv, du)) goto done;
    /* the rest in one call of the back function, which runs the steps and
     * asks OP_CKNEXT for each action */
    if (depth < 0 || depth >= VM_MAXCKNEST || vm->ckrun[depth]) {
        ctx_err(c, "internal error: the loop runner's depth");
        goto done;
    }
    vm->ckrun[depth] = &r;
    int crc = vm_call(vm, &a[2], back_args(&r, depth, dv, du), 5 + 2 * nv + 2 * nu + no, &g);
    vm->ckrun[depth] = NULL;
    if (crc || take_state(c, &g, dv, du, nv, nu)) goto done;
    count_loop(c, rec, &r);
    Tuple *t = tup_new(c, 2 * nv + nu);
    if (!t) goto done;
    for (int k = 0; k < nv; k++) {
        t->v[k] = dv[k];
        dv[k] = val_nil();
        val_set(c, &t->v[nv + nu + k], &x0->v[k]);
    }
    for (int k = 0; k < nu; k++) {
        t->v[nv + k] = du[k];
        du[k] = val_nil();
    }
    out->t = T_TUPLE;
    out->u.tu = t;
    rc = 0;
done:
    val_decref(c, &g);
    if (sched) sched_free(&sc);
    free_slots(c, rec[R_SLOTS].u.tu, nv);   /* slots an error left filled */
    for (int k = 0; dv && k < nv; k++) val_decref(c, &dv[k]);
    for (int k = 0; du && k < nu + no; k++) val_decref(c, &du[k]);
    free(dv);
    free(du);
    free(argbuf);
    val_decref(c, &recv);
    return rc;
}
