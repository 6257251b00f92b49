/* api-repl.c: the API the REPL uses beyond running code (dial.h):
 * dial_name lists globals, builtins and keywords for completion, and
 * dial_disasm lists a function's bytecode; misuse comes back as errors.
 * Uses only the public API. Prints TAP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dial.h"

static int ntest, nfail;

static void ok(int cond, const char *name)
{
    ntest++;
    if (!cond) nfail++;
    printf("%sok %d - %s\n", cond ? "" : "not ", ntest, name);
}

/* Whether dial_name lists `name` among the kinds given. */
static int listed(const dial_vm *vm, const char *name, unsigned kinds)
{
    const char *s;
    for (int i = 0; (s = dial_name(vm, i, kinds)); i++)
        if (strcmp(s, name) == 0) return 1;
    return 0;
}

/* dial_disasm's listing of `name` (malloc'ed), or NULL with its status. */
static char *disasm(dial_vm *vm, const char *name, int *rc)
{
    FILE *f = tmpfile();
    if (!f) return NULL;
    *rc = dial_disasm(vm, name, f);
    long n = ftell(f);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    rewind(f);
    if (s) s[fread(s, 1, (size_t)n, f)] = '\0';
    fclose(f);
    return s;
}

int main(void)
{
    dial_vm *vm = dial_new();
    if (!vm) {
        puts("Bail out! dial_new failed");
        return 1;
    }
    const char *code = "fn sq(x) { return x * x }\nk = 5\ng = grad(sq)\np = print\n";
    ok(dial_exec(vm, "t", code, strlen(code), 0) == DIAL_OK, "the definitions run");

    unsigned all = DIAL_NAME_GLOBAL | DIAL_NAME_BUILTIN | DIAL_NAME_KEYWORD;
    ok(listed(vm, "sq", DIAL_NAME_GLOBAL) && listed(vm, "k", DIAL_NAME_GLOBAL) &&
           listed(vm, "g", DIAL_NAME_GLOBAL), "globals are listed");
    ok(!listed(vm, "sum", DIAL_NAME_GLOBAL) && !listed(vm, "while", DIAL_NAME_GLOBAL),
       "DIAL_NAME_GLOBAL lists no builtin or keyword");
    ok(listed(vm, "linspace", DIAL_NAME_BUILTIN) && listed(vm, "grad", DIAL_NAME_BUILTIN) &&
           listed(vm, "value_and_grad", DIAL_NAME_BUILTIN) && !listed(vm, "sq", DIAL_NAME_BUILTIN),
       "builtins are listed, grad and value_and_grad included");
    ok(listed(vm, "while", DIAL_NAME_KEYWORD) && listed(vm, "checkpoint", DIAL_NAME_KEYWORD) &&
           !listed(vm, "sum", DIAL_NAME_KEYWORD), "keywords are listed");
    ok(listed(vm, "sq", all) && listed(vm, "exp", all) && listed(vm, "fn", all),
       "the kinds combine");
    const char *bad = "zz = nosuch + 1\n";
    ok(dial_exec(vm, "t", bad, strlen(bad), 0) != DIAL_OK && !listed(vm, "zz", all),
       "a global whose definition failed is not listed");
    ok(!dial_name(vm, -1, all) && !dial_name(vm, 100000, all) && !dial_name(vm, 0, 0) &&
           !dial_name(NULL, 0, all), "out of range, no kinds or no VM: NULL");

    int rc = -1;
    char *s = disasm(vm, "sq", &rc);
    ok(rc == DIAL_OK && s && strstr(s, "function 'sq'") && strstr(s, "RET"),
       "dial_disasm lists a function");
    free(s);
    s = disasm(vm, "g", &rc);
    ok(rc == DIAL_OK && s && strstr(s, "RET"), "dial_disasm lists a function made by grad");
    free(s);
    s = disasm(vm, "nosuch", &rc);
    ok(rc == DIAL_ERROR_USAGE && s && !*s && strstr(dial_error(vm), "no global 'nosuch'"),
       "an unknown name: DIAL_ERROR_USAGE, nothing written, a message");
    free(s);
    s = disasm(vm, "k", &rc);
    ok(rc == DIAL_ERROR_USAGE && strstr(dial_error(vm), "not a compiled function (number)"),
       "a number is not a function");
    free(s);
    s = disasm(vm, "print", &rc);
    ok(rc == DIAL_ERROR_USAGE && strstr(dial_error(vm), "(a builtin)"), "a builtin has no bytecode");
    free(s);
    s = disasm(vm, "p", &rc);
    ok(rc == DIAL_ERROR_USAGE && strstr(dial_error(vm), "(a builtin)"),
       "a global holding a builtin has no bytecode");
    free(s);
    ok(dial_disasm(vm, NULL, stdout) == DIAL_ERROR_USAGE && *dial_error(vm) &&
           dial_disasm(vm, "sq", NULL) == DIAL_ERROR_USAGE &&
           dial_disasm(NULL, "sq", stdout) == DIAL_ERROR_USAGE,
       "NULL arguments: DIAL_ERROR_USAGE");
    ok(dial_exec(vm, "t", "sq(k)", 5, 0) == DIAL_OK, "the VM is usable after the errors");

    dial_free(vm);
    printf("1..%d\n", ntest);
    return nfail != 0;
}
