/* repl.c: the interactive session of the `dial` program. It reads a line
 * (through readline or libedit when configure found one, else straight
 * from the terminal), collects lines while the input is unfinished
 * (DIAL_REPL reports DIAL_INCOMPLETE: an open block, bracket or string),
 * runs the statements with the value of an expression statement printed
 * (DIAL_ECHO), and carries out the `:` commands. It uses only the public
 * API (dial.h).
 *
 * Ctrl-C: SIGINT is blocked except while waiting for input (pselect) and
 * while code runs. While waiting, it discards the line being typed and any
 * unfinished statement; while code runs, it interrupts the VM
 * (dial_interrupt), which stops with the error "interrupted". Blocking it
 * elsewhere means no Ctrl-C falls between the two. SIGCONT (fg after
 * Ctrl-Z), blocked and opened alike, sets readline's terminal mode again
 * and redraws the line. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#ifdef HAVE_READLINE
#include DIAL_READLINE_H
#include DIAL_HISTORY_H
#endif

#include "repl.h"

#define HISTORY_LINES 1000

static dial_vm *running;                  /* the VM SIGINT interrupts, while code runs */
static volatile sig_atomic_t interrupted; /* SIGINT while waiting for input */
static volatile sig_atomic_t continued;   /* SIGCONT: back in the foreground after Ctrl-Z */
static sigset_t waitmask;                 /* the signal mask with SIGINT, SIGCONT open */
static int wakeup[2] = {-1, -1};          /* a pipe the handlers write to, so a wait
                                             always ends (EINTR alone does not after
                                             a stop: the wait may be restarted) */

static void wake(void)
{
    int e = errno;
    ssize_t n = wakeup[1] >= 0 ? write(wakeup[1], "", 1) : 0;
    (void)n; /* a full pipe already holds a wake-up */
    errno = e;
}

static void on_sigint(int sig)
{
    (void)sig;
    if (running) {
        dial_interrupt(running);
    } else {
        interrupted = 1;
        wake();
    }
}

static void on_sigcont(int sig)
{
    (void)sig;
    continued = 1;
    wake();
}

static void terminal_again(void);

/* Wait until standard input has something to read: 1, or 0 for a Ctrl-C. */
static int wait_input(void)
{
    for (;;) {
        if (interrupted) {
            interrupted = 0;
            return 0;
        }
        if (continued) {
            continued = 0;
            terminal_again();
        }
        fd_set in;
        FD_ZERO(&in);
        FD_SET(STDIN_FILENO, &in);
        int nfds = STDIN_FILENO + 1;
        if (wakeup[0] >= 0) {
            FD_SET(wakeup[0], &in);
            if (wakeup[0] >= nfds) nfds = wakeup[0] + 1;
        }
        int r = pselect(nfds, &in, NULL, NULL, NULL, &waitmask);
        if (r < 0 && errno != EINTR) return 1; /* a read reports errors */
        if (r > 0 && wakeup[0] >= 0 && FD_ISSET(wakeup[0], &in)) {
            char drain[64];
            while (read(wakeup[0], drain, sizeof drain) > 0) {}
            continue;
        }
        if (r > 0) return 1;
    }
}

/* Run code (or the file `path` when code is NULL) with SIGINT interrupting
 * it; an error is reported on stderr. Returns the status of dial_exec. */
static int run(dial_vm *vm, const char *code, size_t len, const char *path, unsigned flags)
{
    sigset_t old;
    running = vm;
    sigprocmask(SIG_SETMASK, &waitmask, &old);
    int rc = code ? dial_exec(vm, "stdin", code, len, flags) : dial_exec_file(vm, path, flags);
    sigprocmask(SIG_SETMASK, &old, NULL);
    running = NULL;
    fflush(stdout);
    if (rc != DIAL_OK && rc != DIAL_INCOMPLETE) {
        fputs(dial_error(vm), stderr);
        fflush(stderr);
    }
    return rc;
}

/* --- Reading a line ------------------------------------------------------- */

enum { GOT_LINE, GOT_EOF, GOT_INTR };

#ifdef HAVE_READLINE
static char *rl_line;
static int rl_got;

static void on_line(char *line)
{
    rl_line = line;
    rl_got = 1;
    rl_callback_handler_remove();
}

/* readline's callback interface, so that a Ctrl-C while waiting can
 * abandon the line (the way Python's readline module does it). */
static int read_line(const char *prompt, char **line)
{
    rl_got = 0;
    rl_line = NULL;
    rl_callback_handler_install(prompt, on_line);
    while (!rl_got) {
        if (!wait_input()) {
            rl_free_line_state();
#if !defined(HAVE_LIBEDIT) && defined(RL_READLINE_VERSION) && RL_READLINE_VERSION >= 0x0700
            rl_callback_sigcleanup();
#endif
            rl_cleanup_after_signal();
            rl_callback_handler_remove();
            fputs("^C\n", stdout);
            fflush(stdout);
            return GOT_INTR;
        }
        rl_callback_read_char();
    }
    *line = rl_line;
    return rl_line ? GOT_LINE : GOT_EOF;
}
#else
/* The terminal edits the line (canonical mode); read it a byte at a time,
 * so that nothing past the newline is taken. */
static int read_line(const char *prompt, char **line)
{
    char *s = NULL;
    size_t n = 0, cap = 0;
    fputs(prompt, stdout);
    fflush(stdout);
    for (;;) {
        if (!wait_input()) {
            free(s);
            fputs("\n", stdout); /* the terminal has echoed ^C */
            fflush(stdout);
            return GOT_INTR;
        }
        char c;
        ssize_t r = read(STDIN_FILENO, &c, 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0 && n == 0) {
            free(s);
            return GOT_EOF;
        }
        if (r <= 0 || c == '\n') break;
        if (n + 2 > cap) {
            char *t = realloc(s, cap = cap ? 2 * cap : 128);
            if (!t) {
                free(s);
                fputs("dial: out of memory\n", stderr);
                return GOT_EOF;
            }
            s = t;
        }
        s[n++] = c;
    }
    if (!s && !(s = malloc(1))) return GOT_EOF;
    s[n] = '\0';
    *line = s;
    return GOT_LINE;
}
#endif

/* --- Commands -------------------------------------------------------------- */

typedef struct Command {
    const char *name;
    const char *arg;                          /* the argument's name, or NULL */
    const char *help;
    int (*run)(dial_vm *vm, const char *arg); /* 1: leave the session */
} Command;

static int cmd_help(dial_vm *vm, const char *arg);
static int cmd_load(dial_vm *vm, const char *arg);
static int cmd_disasm(dial_vm *vm, const char *arg);
static int cmd_stats(dial_vm *vm, const char *arg);
static int cmd_quit(dial_vm *vm, const char *arg);

static const Command commands[] = {
    {"help", NULL, "this text", cmd_help},
    {"load", "FILE", "run the program in FILE; its definitions stay", cmd_load},
    {"disasm", "NAME", "list the bytecode of the function NAME", cmd_disasm},
    {"stats", NULL, "the AD statistics of the session so far (JSON)", cmd_stats},
    {"quit", NULL, "leave the session (as Ctrl-D does)", cmd_quit},
};
#define NCOMMANDS ((int)(sizeof commands / sizeof commands[0]))

static char *history_file; /* NULL: no history kept */

/* The command a line `:name arg` names (its whole name, or a prefix of
 * only one name), or NULL; *arg gets the argument, blanks trimmed at the
 * start, and *namelen the length of the name typed. */
static const Command *find_command(const char *line, const char **arg, size_t *namelen)
{
    const char *s = line + strspn(line, " \t") + 1; /* past the ':' */
    size_t n = strcspn(s, " \t");
    *arg = s + n + strspn(s + n, " \t");
    *namelen = n;
    const Command *found = NULL;
    for (int k = 0; k < NCOMMANDS && n; k++)
        if (strncmp(commands[k].name, s, n) == 0) {
            if (!commands[k].name[n]) return &commands[k]; /* the whole name */
            if (found) return NULL;                          /* ambiguous */
            found = &commands[k];
        }
    return found;
}

/* Carry out the command on `line` (which starts with ':'); 1 to leave. */
static int command(dial_vm *vm, char *line)
{
    const char *arg;
    size_t n;
    const Command *c = find_command(line, &arg, &n);
    if (!c) {
        const char *name = line + strspn(line, " \t");
        fprintf(stderr, "dial: unknown command '%.*s' (:help lists the commands)\n",
                (int)n + 1, name);
        return 0;
    }
    size_t len = strlen(arg); /* trim the end */
    while (len && (arg[len - 1] == ' ' || arg[len - 1] == '\t')) len--;
    line[arg - line + len] = '\0';
    if (c->arg && !*arg)
        fprintf(stderr, "dial: usage: :%s %s\n", c->name, c->arg);
    else if (!c->arg && *arg)
        fprintf(stderr, "dial: :%s takes no argument\n", c->name);
    else
        return c->run(vm, arg);
    return 0;
}

static int cmd_help(dial_vm *vm, const char *arg)
{
    (void)vm, (void)arg;
    puts("Type statements; the value of an expression statement is printed. A statement\n"
         "continues on the next line (prompt '... ') while a block, bracket or string is\n"
         "open. Definitions stay for the rest of the session, also after an error.\n"
         "\n"
         "Commands (any unique prefix will do, e.g. :q):");
    for (int k = 0; k < NCOMMANDS; k++) {
        char head[32];
        snprintf(head, sizeof head, ":%s%s%s", commands[k].name, commands[k].arg ? " " : "",
                 commands[k].arg ? commands[k].arg : "");
        printf("  %-14s %s\n", head, commands[k].help);
    }
    puts("\n"
         "Ctrl-C stops a running computation, or discards the line being typed.\n"
         "Ctrl-D leaves.");
#ifdef HAVE_READLINE
    printf("Tab completes names, builtins, keywords and commands. History: %s\n",
           history_file ? history_file : "off ($DIAL_HISTORY is empty)");
#else
    puts("No line editing or history: dial was built without readline.");
#endif
    fflush(stdout);
    return 0;
}

static int cmd_load(dial_vm *vm, const char *arg)
{
    run(vm, NULL, 0, arg, 0);
    return 0;
}

static int cmd_disasm(dial_vm *vm, const char *arg)
{
    if (dial_disasm(vm, arg, stdout) != DIAL_OK) fprintf(stderr, "%s", dial_error(vm));
    return 0;
}

static int cmd_stats(dial_vm *vm, const char *arg)
{
    (void)arg;
    char buf[512];
    int n = dial_ad_stats(vm, buf, sizeof buf);
    if (n < 0) return 0;
    if ((size_t)n < sizeof buf) {
        puts(buf);
    } else {
        char *big = malloc((size_t)n + 1);
        if (big) dial_ad_stats(vm, big, (size_t)n + 1);
        puts(big ? big : "dial: out of memory");
        free(big);
    }
    fflush(stdout);
    return 0;
}

static int cmd_quit(dial_vm *vm, const char *arg)
{
    (void)vm, (void)arg;
    return 1;
}

/* --- History and completion ------------------------------------------------ */

/* $DIAL_HISTORY when set (empty: none), else ~/.dial_history. */
static char *history_path(void)
{
    const char *env = getenv("DIAL_HISTORY");
    if (env) return *env ? strdup(env) : NULL;
    const char *home = getenv("HOME");
    if (!home || !*home) return NULL;
    size_t n = strlen(home) + sizeof "/.dial_history";
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/.dial_history", home);
    return p;
}

#ifdef HAVE_READLINE
static dial_vm *completing;  /* the session's VM */
static unsigned name_kinds;  /* what complete_name offers */

static char *complete_name(const char *text, int state)
{
    static int i;
    static size_t n;
    if (!state) {
        i = 0;
        n = strlen(text);
    }
    for (const char *s; (s = dial_name(completing, i++, name_kinds));)
        if (strncmp(s, text, n) == 0) return strdup(s);
    return NULL;
}

static int is_keyword(const char *s)
{
    const char *k;
    for (int i = 0; (k = dial_name(completing, i, DIAL_NAME_KEYWORD)); i++)
        if (strcmp(s, k) == 0) return 1;
    return 0;
}

static char *complete_command(const char *text, int state)
{
    static int i;
    if (!state) i = 0;
    while (i < NCOMMANDS)
        if (strncmp(commands[i++].name, text, strlen(text)) == 0)
            return strdup(commands[i - 1].name);
    return NULL;
}

/* The command whose argument the cursor is in, or NULL. */
static const Command *in_argument(void)
{
    const char *line = rl_line_buffer + strspn(rl_line_buffer, " \t"), *arg;
    size_t n;
    if (*line != ':' || !line[1 + strcspn(line + 1, " \t")]) return NULL;
    return find_command(line, &arg, &n);
}

static char name_breaks[] = " \t\n\"'()[]{},;:=+-*/%^@<>!&|";
static char path_breaks[] = " \t\n";

/* A file name after :load may hold '/', '.', '-' ... */
static char *word_breaks(void)
{
    const Command *c = in_argument();
    return c && c->run == cmd_load ? path_breaks : name_breaks;
}

static char **complete(const char *text, int start, int end)
{
    (void)end;
    size_t lead = strspn(rl_line_buffer, " \t");
    rl_attempted_completion_over = 1; /* no file names unless said */
    name_kinds = DIAL_NAME_GLOBAL | DIAL_NAME_BUILTIN | DIAL_NAME_KEYWORD;
    if (rl_line_buffer[lead] == ':') {
        const Command *c = in_argument();
        if (!c && (size_t)start == lead + 1) return rl_completion_matches(text, complete_command);
        if (c && c->run == cmd_load) rl_attempted_completion_over = 0;
        if (!c || c->run != cmd_disasm) return NULL;
        name_kinds = DIAL_NAME_GLOBAL;
    }
    char **m = rl_completion_matches(text, complete_name);
    /* A space after a keyword; a name is likely followed by '(', '[' ...
     * One match is m[0] alone, or in libedit m[0] and m[1] alike. */
    int one = m && (!m[1] || (!m[2] && strcmp(m[0], m[1]) == 0));
    rl_completion_append_character = one && is_keyword(m[0]) ? ' ' : '\0';
    return m;
}

/* After Ctrl-Z and fg the shell may have put the terminal back in its own
 * mode: set readline's again and redraw the line. */
static void terminal_again(void)
{
#ifdef HAVE_LIBEDIT
    rl_deprep_terminal(); /* libedit's rl_*_after_signal do nothing */
    rl_prep_terminal(1);
#else
    rl_cleanup_after_signal();
    rl_reset_after_signal();
#endif
    rl_forced_update_display();
}

static void editing_begin(dial_vm *vm)
{
    completing = vm;
    rl_readline_name = "dial";
    rl_catch_signals = 0; /* SIGINT is ours (on_sigint) */
    rl_attempted_completion_function = complete;
    rl_completion_word_break_hook = word_breaks;
    rl_completer_word_break_characters = name_breaks;
    using_history();
    stifle_history(HISTORY_LINES);
    if (history_file) read_history(history_file);
}

static void remember(const char *line)
{
    if (line[strspn(line, " \t")]) add_history(line);
}

static void editing_end(void)
{
    if (history_file) {
        int err = write_history(history_file);
        if (err) fprintf(stderr, "dial: cannot write history to '%s': %s\n", history_file,
                         strerror(err));
    }
    clear_history();
}
#else
static void terminal_again(void) {} /* the terminal edits: nothing to restore */
static void editing_begin(dial_vm *vm) { (void)vm; }
static void remember(const char *line) { (void)line; }
static void editing_end(void) {}
#endif

/* --- The session ----------------------------------------------------------- */

static void catch(int sig, void (*handler)(int), struct sigaction *old)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART; /* pselect is never restarted */
    sigaction(sig, &sa, old);
}

int repl_run(dial_vm *vm)
{
    struct sigaction oldint, oldcont;
    catch(SIGINT, on_sigint, &oldint);
    catch(SIGCONT, on_sigcont, &oldcont);
    sigset_t block, oldmask;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGCONT);
    sigprocmask(SIG_BLOCK, &block, &oldmask);
    waitmask = oldmask;
    sigdelset(&waitmask, SIGINT);
    sigdelset(&waitmask, SIGCONT);

    if (pipe(wakeup) == 0) {
        for (int k = 0; k < 2; k++) {
            fcntl(wakeup[k], F_SETFL, fcntl(wakeup[k], F_GETFL) | O_NONBLOCK);
            fcntl(wakeup[k], F_SETFD, FD_CLOEXEC);
        }
    } else {
        wakeup[0] = wakeup[1] = -1;
    }
    history_file = history_path();
    editing_begin(vm);
    printf("dial %s -- :help for help, Ctrl-D to leave\n", DIAL_VERSION);
    fflush(stdout);

    char *chunk = NULL; /* the statement so far: lines ending in '\n' */
    size_t len = 0, cap = 0;
    for (;;) {
        char *line;
        int got = read_line(len ? "... " : "> ", &line);
        if (got == GOT_INTR) {
            len = 0;
            continue;
        }
        if (got == GOT_EOF) {
            fputs("\n", stdout);
            if (len) run(vm, chunk, len, NULL, DIAL_ECHO); /* says what is unfinished */
            break;
        }
        remember(line);
        size_t n = strlen(line);
        if (!len && line[strspn(line, " \t")] == ':') {
            int leave = command(vm, line);
            free(line);
            if (leave) break;
            continue;
        }
        if (!len && !line[strspn(line, " \t")]) {
            free(line);
            continue;
        }
        if (len + n + 2 > cap) {
            size_t want = 2 * (len + n + 2);
            char *c = realloc(chunk, want);
            if (!c) {
                free(line);
                fputs("dial: out of memory\n", stderr);
                len = 0;
                continue;
            }
            chunk = c;
            cap = want;
        }
        memcpy(chunk + len, line, n);
        len += n;
        chunk[len++] = '\n';
        chunk[len] = '\0';
        free(line);
        if (run(vm, chunk, len, NULL, DIAL_ECHO | DIAL_REPL) != DIAL_INCOMPLETE) len = 0;
    }
    editing_end();
    free(history_file);
    history_file = NULL;
    free(chunk);
    sigprocmask(SIG_SETMASK, &oldmask, NULL);
    for (int k = 0; k < 2; k++) {
        if (wakeup[k] >= 0) close(wakeup[k]);
        wakeup[k] = -1;
    }
    sigaction(SIGINT, &oldint, NULL);
    sigaction(SIGCONT, &oldcont, NULL);
    return 0;
}
