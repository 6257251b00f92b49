/* disasm.c: bytecode listings for `dial --disasm`, one line per
 * instruction with its source position, then the constants. */
#include <string.h>

#include "array.h"
#include "builtins.h"
#include "tape.h"
#include "vm.h"

static void rk(Sbuf *b, const Proto *p, int isk, int x)
{
    if (!isk) {
        sb_printf(b, " r%d", x);
        return;
    }
    sb_printf(b, " k%d(", x);
    fmt_value(b, &p->k[x]);
    sb_putc(b, ')');
}

static void pattern(Sbuf *b, const Proto *p, int off)
{
    const unsigned char *pat = p->pat + off;
    int r = pat[1] | pat[2] << 8;
    sb_putc(b, ' ');
    sb_putc(b, '[');
    for (int k = 0; k < pat[0]; k++) {
        if (k) sb_puts(b, ", ");
        if (!(pat[3 + k] & IX_SLICE)) {
            sb_printf(b, "r%d", r++);
            continue;
        }
        for (int j = 0; j < 3; j++) {
            if (j) sb_putc(b, ':');
            if (pat[3 + k] & (1 << j)) sb_printf(b, "r%d", r++);
        }
    }
    sb_putc(b, ']');
}

/* A kernel in postfix: leaves as registers, constants as numbers. */
static void kernel(Sbuf *b, const Proto *p, int a, int y, int pc)
{
    const Kernel *k = &p->kern[y];
    sb_printf(b, " r%d =%s", a, k->reduce == KR_SUM ? " sum" : "");
    for (int j = 0; j < k->nops; j++) {
        const KOp *op = &k->ops[j];
        int ins[2] = {op->a, op->b};
        sb_puts(b, " (");
        for (int s = 0; s < (op->unary ? 1 : 2); s++) {
            int slot = ins[s];
            if (s) sb_putc(b, ' ');
            if (slot < k->nleaf) sb_printf(b, "r%d", k->leafreg[slot]);
            else if (slot < k->nleaf + k->nconst) fmt_num(b, k->konst[slot - k->nleaf]);
            else sb_printf(b, "$%d", slot - k->nleaf - k->nconst);
        }
        sb_printf(b, " %s)", op->unary ? prim_unname[op->op] : prim_binname[op->op]);
    }
    sb_printf(b, " else -> %d", pc + 1 + k->skip);
}

static void operands(Sbuf *b, const Proto *p, int pc)
{
    const Ins *i = &p->code[pc];
    int a = i->a, x = i->u.bc.b, y = i->u.bc.c;
    switch (i->op) {
    case OP_JMP: sb_printf(b, " -> %d", pc + 1 + i->u.sbx); return;
    case OP_JT: case OP_JF: case OP_JZERO: case OP_FORPREP: case OP_FORLOOP:
        sb_printf(b, " r%d -> %d", a, pc + 1 + i->u.sbx);
        return;
    case OP_LOADK: sb_printf(b, " r%d", a); rk(b, p, 1, x); return;
    case OP_GETG: sb_printf(b, " r%d g%d", a, x); return;
    case OP_SETG: sb_printf(b, " g%d r%d", a, x); return;
    case OP_CALLB: sb_printf(b, " r%d %s %d", a, builtins[x].name, y); return;
    case OP_INTRIN: sb_printf(b, " r%d %s %d", a, intrinsics[x].name, y); return;
    case OP_INDEX: sb_printf(b, " r%d r%d", a, x); pattern(b, p, y); return;
    case OP_INDEX1: sb_printf(b, " r%d r%d", a, x); rk(b, p, i->f & F_CK, y); return;
    case OP_SETINDEX:
        sb_printf(b, " %c%d", i->f & F_GLOBAL ? 'g' : 'r', a);
        pattern(b, p, y);
        return;
    case OP_FUSEDIDX:
        sb_printf(b, " r%d", a);
        pattern(b, p, x);
        sb_printf(b, " %s kernel %d", i->f & F_ADD ? "+=" : "=", y);
        return;
    case OP_SETINDEX1:
        sb_printf(b, " %c%d r%d r%d", i->f & F_GLOBAL ? 'g' : 'r', a, x, y);
        return;
    case OP_MOVE: case OP_COPY: case OP_BOOL: sb_printf(b, " r%d r%d", a, x); return;
    case OP_CLEAR: case OP_CALL: case OP_RET: case OP_UNSITE: sb_printf(b, " r%d %d", a, x); return;
    case OP_SITE: case OP_TAKE: case OP_ADDTAKE: sb_printf(b, " r%d r%d", a, x); return;
    case OP_CKNEXT: sb_printf(b, " r%d r%d", x, y); return;
    case OP_SITEREC: case OP_SINCOS: sb_printf(b, " r%d r%d r%d", a, x, y); return;
    case OP_ADDOUTER: case OP_OUTERACC: sb_printf(b, " r%d r%d r%d", a, x, y); return;
    case OP_CKPT: sb_printf(b, " r%d %s %d", a, i->f == 1 ? "reverse" : i->f == 2 ? "choose" : "forward", x); return;
    case OP_PUSH: case OP_POP: sb_printf(b, " r%d", a); return;
    case OP_ACCR: sb_printf(b, " r%d", a); rk(b, p, i->f & F_BK, x); sb_printf(b, " r%d #%d", y, i->f >> 4); return;
    case OP_ACC: sb_printf(b, " r%d", a); rk(b, p, i->f & F_BK, x); return;
    case OP_FUSED: kernel(b, p, a, y, pc); return;
    case OP_TUPLE: case OP_UNPACK: case OP_NEWARR: sb_printf(b, " r%d r%d %d", a, x, y); return;
    }
    sb_printf(b, " r%d", a);
    rk(b, p, i->f & F_BK, x);
    if (i->op == OP_MATMUL || (i->op >= OP_BIN0 && i->op < OP_UN0)) rk(b, p, i->f & F_CK, y);
}

void disasm_proto(Sbuf *b, const Proto *p)
{
    sb_printf(b, "%s%s%s (%s): %d parameter%s, %d register%s, %d constant%s, %d instruction%s\n",
              strcmp(p->name, "main chunk") ? "function '" : "", p->name,
              strcmp(p->name, "main chunk") ? "'" : "", p->src ? p->src->name : "?",
              p->nparams, p->nparams == 1 ? "" : "s", p->nregs, p->nregs == 1 ? "" : "s",
              p->nk, p->nk == 1 ? "" : "s", p->ncode, p->ncode == 1 ? "" : "s");
    for (int pc = 0; pc < p->ncode; pc++) {
        int start = (int)b->len;
        sb_printf(b, "  %4d  [%d:%d]", pc, p->line[pc], p->col[pc]);
        while ((int)b->len - start < 20) sb_putc(b, ' ');
        sb_printf(b, "%-10s", op_names[p->code[pc].op]);
        operands(b, p, pc);
        sb_putc(b, '\n');
    }
}
