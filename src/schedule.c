/* schedule.c: dial_schedule, the text view of a checkpointing schedule
 * (revolve.h) behind `dial --schedule N S`: one line per action with a
 * picture row (steps across, time downwards), then the totals. */
#include <stdlib.h>
#include <string.h>

#include "dial.h"
#include "revolve.h"

#define PICTURE_COLS 52        /* picture columns at most: 80-column lines */
#define PICTURE_MAX_N 600      /* beyond: totals only */
#define SCHEDULE_MAX_N 1000000 /* the per-step counts are an array of n */

typedef struct {
    FILE *out;
    int64_t n, s, per; /* per: steps a picture column stands for, 0: no picture */
    int64_t *evals;    /* body evaluations per step */
    int64_t *held;     /* held[slot]: the state a slot holds, -1 free (slots < room) */
    int64_t room, done; /* steps done .. n-1 are reversed */
    int64_t advances, taped, writes, alive, peak;
    char *row;
} view;

/* The background: '.' a step still to reverse, ' ' one reversed, ':' a
 * step whose state a slot holds. */
static void row_start(view *v)
{
    int64_t cols = (v->n + v->per - 1) / v->per;
    for (int64_t c = 0; c < cols; c++) v->row[c] = c * v->per >= v->done ? ' ' : '.';
    v->row[cols] = 0;
    for (int64_t k = 0; k < v->room; k++)
        if (v->held[k] >= 0) v->row[v->held[k] / v->per] = ':';
}

static void mark(view *v, int64_t from, int64_t to, char ch)
{
    for (int64_t i = from; i < to; i++) v->row[i / v->per] = ch;
}

static void line(view *v, const char *label)
{
    if (v->per)
        fprintf(v->out, "%-26s|%s|\n", label, v->row);
    else
        fprintf(v->out, "%s\n", label);
}

static void count_evals(view *v, int64_t from, int64_t to)
{
    for (int64_t i = from; i < to; i++) v->evals[i]++;
}

static void take_slot(view *v, int64_t slot, int64_t index)
{
    if (v->held[slot] < 0 && ++v->alive > v->peak) v->peak = v->alive;
    v->held[slot] = index;
    v->writes++;
}

static void drop_slot(view *v, int64_t slot)
{
    v->held[slot] = -1;
    v->alive--;
}

/* Show and count one action of the reversal. */
static void show(view *v, rv_action a)
{
    char label[64];
    if (v->per) row_start(v);
    switch (a.kind) {
    case RV_ADVANCE:
        snprintf(label, sizeof label, "advance %lld..%lld", (long long)a.index,
                 (long long)(a.index + a.count - 1));
        count_evals(v, a.index, a.index + a.count);
        v->advances += a.count;
        if (v->per) mark(v, a.index, a.index + a.count, '-');
        break;
    case RV_STORE:
        snprintf(label, sizeof label, "store x%lld in slot %lld", (long long)a.index, (long long)a.slot);
        if (v->per) mark(v, a.index, a.index + 1, 'o');
        take_slot(v, a.slot, a.index);
        break;
    case RV_RESTORE:
        snprintf(label, sizeof label, "restore x%lld from %lld%s", (long long)a.index,
                 (long long)a.slot, a.keep ? "" : " (last)");
        if (v->per) mark(v, a.index, a.index + 1, '^');
        if (!a.keep) drop_slot(v, a.slot);
        break;
    case RV_FREE:
        snprintf(label, sizeof label, "free slot %lld (x%lld)", (long long)a.slot, (long long)a.index);
        if (v->per) mark(v, a.index, a.index + 1, 'x');
        drop_slot(v, a.slot);
        break;
    case RV_STEP_REVERSE:
    case RV_REVERSE:
        snprintf(label, sizeof label, "%s %lld", a.kind == RV_REVERSE ? "reverse (cached)" : "taped+reverse",
                 (long long)a.index);
        if (a.kind == RV_STEP_REVERSE) {
            count_evals(v, a.index, a.index + 1);
            v->taped++;
        }
        v->done = a.index;
        if (v->per) mark(v, a.index, a.index + 1, '#');
        break;
    default:
        return;
    }
    if (v->per) line(v, label);
}

/* The online forward sweep: every step runs taped; a line for each run of
 * steps between stores and one for each store. */
static int forward(view *v, ro_state *st)
{
    int64_t from = 0;
    for (int64_t i = 0; i <= v->n; i++) {
        rv_action a = i < v->n ? ro_step(st) : (rv_action){RV_NONE, i, 0, 0, 0};
        if (a.kind == RV_ERROR) return -1;
        if ((a.kind == RV_STORE || i == v->n) && i > from && v->per) {
            char label[64];
            row_start(v);
            mark(v, from, i, '=');
            snprintf(label, sizeof label, "forward taped %lld..%lld", (long long)from, (long long)(i - 1));
            line(v, label);
        }
        if (a.kind == RV_STORE) {
            from = i;
            int64_t old = v->held[a.slot];
            char label[64];
            if (v->per) row_start(v);
            if (old >= 0) {
                v->alive--;
                if (v->per) mark(v, old, old + 1, 'x');
            }
            take_slot(v, a.slot, i);
            if (v->per) {
                mark(v, i, i + 1, 'o');
                snprintf(label, sizeof label, "store x%lld in slot %lld", (long long)i, (long long)a.slot);
                line(v, label);
            }
        }
    }
    count_evals(v, 0, v->n);
    return ro_end(st);
}

static void totals(view *v, int online)
{
    int64_t t = rv_t(v->n, v->s), r = rv_reps(v->n, v->s), worst = 0, total = 0;
    for (int64_t i = 0; i < v->n; i++) {
        total += v->evals[i];
        if (v->evals[i] > worst) worst = v->evals[i];
    }
    fprintf(v->out, "n = %lld steps, s = %lld slots (x0's slot counted)\n", (long long)v->n,
            (long long)v->s);
    if (!online) {
        fprintf(v->out, "advances %lld (optimum t(n,s) = %lld), taped %lld\n", (long long)v->advances,
                (long long)t, (long long)v->taped);
    } else {
        fprintf(v->out, "forward sweep taped %lld, advances %lld, taped reruns %lld\n", (long long)v->n,
                (long long)v->advances, (long long)v->taped);
        fprintf(v->out, "body evaluations %lld (offline optimum t(n,s)+n = %lld", (long long)total,
                (long long)(t + v->n));
        if (v->n <= rv_beta(v->s, 2)) fprintf(v->out, ", bound t(n,s)+n+1 = %lld", (long long)(t + v->n + 1));
        fprintf(v->out, ")\n");
    }
    fprintf(v->out, "snapshot writes %lld, peak slots %lld, most evaluations of one step %lld (offline %lld)\n",
            (long long)v->writes, (long long)v->peak, (long long)worst, (long long)(v->n ? r + 1 : 0));
}

static void legend(view *v, int online)
{
    if (!v->per) {
        fprintf(v->out, "(n > %d: actions and picture not shown)\n", PICTURE_MAX_N);
        return;
    }
    fprintf(v->out, "%s schedule; picture: a column is %lld step%s, time runs down.\n",
            online ? "online (while loop)" : "offline (Revolve)", (long long)v->per, v->per > 1 ? "s" : "");
    fprintf(v->out, "'-' untaped advance  'o' store  '^' restore  '#' taped and reversed\n"
                    "%s'x' dropped  ':' held in a slot  '.' still to reverse\n",
            online ? "'=' taped forward  " : "");
}

static int run(view *v, int online)
{
    rv_cursor c;
    ro_state st;
    int bad;
    if (online)
        bad = ro_init(&st, v->s) < 0 || forward(v, &st) < 0;
    else
        bad = rv_init(&c, v->n, v->s) < 0;
    for (;;) {
        if (bad) break;
        rv_action a = online ? ro_next(&st) : rv_next(&c);
        if (a.kind == RV_END || a.kind == RV_ERROR) {
            bad = a.kind == RV_ERROR;
            break;
        }
        show(v, a);
    }
    if (online)
        ro_free(&st);
    else
        rv_free(&c);
    return bad ? -1 : 0;
}

int dial_schedule(FILE *out, long long n, long long s, int online)
{
    if (!out || n < 0 || n > SCHEDULE_MAX_N || s < 1) return DIAL_ERROR_USAGE;
    view v = {.out = out, .n = n, .s = s, .done = n, .room = s < n + 1 ? s : n + 1};
    v.per = n > PICTURE_MAX_N ? 0 : n <= PICTURE_COLS ? 1 : (n + PICTURE_COLS - 1) / PICTURE_COLS;
    v.evals = calloc((size_t)n + 1, sizeof *v.evals);
    v.held = malloc((size_t)v.room * sizeof *v.held);
    v.row = malloc(PICTURE_COLS + 2);
    int rc = DIAL_ERROR_MEMORY;
    if (v.evals && v.held && v.row) {
        for (int64_t k = 0; k < v.room; k++) v.held[k] = -1;
        legend(&v, online);
        if (run(&v, online) == 0) {
            totals(&v, online);
            rc = DIAL_OK;
        }
    }
    free(v.evals);
    free(v.held);
    free(v.row);
    return rc;
}
