/* pty-drive.c: run a program on a pseudo-terminal and drive it from a
 * script, for testing the interactive session (t/repl.test).
 *
 *     pty-drive SCRIPT COMMAND [ARGS...]
 *
 * COMMAND runs as a session leader with the terminal (80x24) as its
 * controlling terminal and standard input, output and error, so Ctrl-C
 * typed on it raises SIGINT as on a real terminal. The SCRIPT's lines:
 *
 *     send TEXT        type TEXT
 *     expect TEXT      wait until the output (since the last match) holds TEXT
 *     interrupt TEXT   type Ctrl-C, again every 200 ms, until the output holds TEXT
 *     suspend          stop COMMAND, put the terminal in canonical mode with
 *                      echo (as a shell does at Ctrl-Z), then continue it (fg)
 *     exit N           wait until COMMAND exits with status N
 *     timeout SECONDS  the wait of each later line (default 5, or $PTY_DRIVE_TIMEOUT)
 *
 * TEXT is the rest of the line after one space, with C escapes: \n \r \t
 * \\ \e and \xHH (\x03 is Ctrl-C, \x04 Ctrl-D). Output is matched with
 * carriage returns and terminal escape sequences (ESC [ ... letter) taken
 * out. Blank lines and lines starting with '#' are skipped.
 *
 * Exit status 0 when every line succeeded; 77 when there is no
 * pseudo-terminal to be had; else 1, with the line that
 * failed and the output since the last match on stderr. COMMAND still
 * running at the end gets Ctrl-C and Ctrl-D (every second), so that it can
 * exit by itself (and a memory checker around it report), and is killed
 * if it has not within the timeout. With PTY_DRIVE_SHOW set in the
 * environment, the whole output goes to stderr at the end. Uses only POSIX
 * (posix_openpt). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static int master = -1;
static pid_t child = -1;
static int child_status = -1; /* from waitpid, once it has exited */
static int closed;             /* the terminal reads EOF or EIO */
static char *out;              /* output, filtered */
static size_t nout, capout, matched;
static int esc;                /* inside an escape sequence: 1 after ESC, 2 after ESC [ */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "pty-drive: %s: %s\n", what, strerror(errno));
    if (child > 0) kill(child, SIGKILL);
    exit(1);
}

static void keep(char c)
{
    if (esc == 1) {
        esc = c == '[' ? 2 : 0;
        return;
    }
    if (esc == 2) {
        if (c >= 0x40 && c <= 0x7e) esc = 0;
        return;
    }
    if (c == '\033') {
        esc = 1;
        return;
    }
    if (c == '\r') return;
    if (nout + 2 > capout) {
        capout = capout ? 2 * capout : 4096;
        if (!(out = realloc(out, capout))) die("out of memory");
    }
    out[nout++] = c;
    out[nout] = '\0';
}

/* Read what the terminal has within `wait` seconds; notice the child's
 * exit. */
static void pump(double wait)
{
    if (child_status < 0) {
        int st;
        if (waitpid(child, &st, WNOHANG) == child) child_status = st;
    }
    if (closed) {
        if (child_status < 0 && wait > 0) poll(NULL, 0, wait < 0.02 ? (int)(wait * 1000) : 20);
        return;
    }
    struct pollfd p = {master, POLLIN, 0};
    int ms = (int)(wait * 1000);
    if (ms > 50) ms = 50; /* look at waitpid now and then */
    if (poll(&p, 1, ms) <= 0) return;
    char buf[4096];
    ssize_t n = read(master, buf, sizeof buf);
    if (n <= 0) {
        if (n == 0 || errno == EIO) closed = 1;
        else if (errno != EINTR && errno != EAGAIN) die("read");
        return;
    }
    for (ssize_t k = 0; k < n; k++) keep(buf[k]);
}

static void type(const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(master, s, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) die("write");
        s += w;
        n -= (size_t)w;
    }
}

/* Unescape TEXT in place; its length. */
static size_t unescape(char *s)
{
    char *d = s;
    for (const char *p = s; *p; p++) {
        if (*p != '\\' || !p[1]) {
            *d++ = *p;
            continue;
        }
        switch (*++p) {
        case 'n': *d++ = '\n'; break;
        case 'r': *d++ = '\r'; break;
        case 't': *d++ = '\t'; break;
        case 'e': *d++ = '\033'; break;
        case 'x': {
            char hex[3] = {p[1], p[1] ? p[2] : 0, 0};
            *d++ = (char)strtol(hex, NULL, 16);
            p += 2;
            break;
        }
        default: *d++ = *p;
        }
    }
    *d = '\0';
    return (size_t)(d - s);
}

static void show_output(void)
{
    fprintf(stderr, "pty-drive: output%s:\n", matched ? " since the last match" : "");
    for (size_t k = matched; k < nout; k++) {
        unsigned char c = (unsigned char)out[k];
        if (c == '\n' || (c >= 32 && c < 127)) fputc(c, stderr);
        else fprintf(stderr, "\\x%02x", c);
    }
    fputs("\n(end of output)\n", stderr);
}

/* What Ctrl-Z, the shell and fg do to the program's terminal. */
static void suspend(const char *slave)
{
    int st;
    if (kill(child, SIGSTOP) || waitpid(child, &st, WUNTRACED) != child) die("SIGSTOP");
    if (!WIFSTOPPED(st)) {
        child_status = st;
        return;
    }
    int s = open(slave, O_RDWR | O_NOCTTY);
    struct termios t;
    if (s < 0 || tcgetattr(s, &t)) die(slave);
    t.c_lflag |= ICANON | ECHO | ISIG;
    if (tcsetattr(s, TCSANOW, &t)) die("tcsetattr");
    close(s);
    if (kill(child, SIGCONT)) die("SIGCONT");
}

static const char *start(char **argv)
{
    master = posix_openpt(O_RDWR | O_NOCTTY);
    const char *name = NULL;
    if (master < 0 || grantpt(master) || unlockpt(master) || !(name = ptsname(master))) {
        fprintf(stderr, "pty-drive: no pseudo-terminal: %s\n", strerror(errno));
        exit(77);
    }
    fflush(NULL);
    child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
        setsid();
        int s = open(name, O_RDWR);
        if (s < 0) _exit(126);
#ifdef TIOCSCTTY
        ioctl(s, TIOCSCTTY, 0);
#endif
        struct winsize ws = {24, 80, 0, 0};
        ioctl(s, TIOCSWINSZ, &ws);
        dup2(s, 0);
        dup2(s, 1);
        dup2(s, 2);
        if (s > 2) close(s);
        close(master);
        execvp(argv[0], argv);
        fprintf(stderr, "pty-drive: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    return name;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fputs("usage: pty-drive SCRIPT COMMAND [ARGS...]\n", stderr);
        return 2;
    }
    FILE *script = fopen(argv[1], "r");
    if (!script) die(argv[1]);
    double timeout = getenv("PTY_DRIVE_TIMEOUT") ? atof(getenv("PTY_DRIVE_TIMEOUT")) : 5;
    signal(SIGPIPE, SIG_IGN);
    const char *slave = start(argv + 2);

    char line[4096];
    int lineno = 0, failed = 0;
    while (!failed && fgets(line, sizeof line, script)) {
        lineno++;
        line[strcspn(line, "\n")] = '\0';
        if (!line[0] || line[0] == '#') continue;
        char *word = line, *text = line + strcspn(line, " ");
        if (*text) *text++ = '\0';
        size_t n = unescape(text);
        double end = now() + timeout;
        if (strcmp(word, "send") == 0) {
            type(text, n);
        } else if (strcmp(word, "expect") == 0 || strcmp(word, "interrupt") == 0) {
            int intr = word[0] == 'i';
            double next = 0;
            char *hit;
            while (!(hit = strstr(out ? out + matched : "", text))) {
                if (intr && now() >= next) {
                    type("\003", 1);
                    next = now() + 0.2;
                }
                if (now() > end || (closed && child_status >= 0)) break;
                pump(end - now());
            }
            if (hit) {
                matched = (size_t)(hit - out) + strlen(text);
            } else {
                fprintf(stderr, "pty-drive: %s:%d: '%s %s' failed: %s\n", argv[1], lineno, word,
                        line + strlen(word) + 1, closed ? "the program ended" : "timed out");
                show_output();
                failed = 1;
            }
        } else if (strcmp(word, "suspend") == 0) {
            suspend(slave);
        } else if (strcmp(word, "exit") == 0) {
            while (child_status < 0 && now() < end) pump(end - now());
            int want = atoi(text);
            if (child_status < 0 || !WIFEXITED(child_status) || WEXITSTATUS(child_status) != want) {
                if (child_status < 0)
                    fprintf(stderr, "pty-drive: %s:%d: still running after %g s\n", argv[1], lineno, timeout);
                else if (WIFSIGNALED(child_status))
                    fprintf(stderr, "pty-drive: %s:%d: killed by signal %d\n", argv[1], lineno,
                            WTERMSIG(child_status));
                else
                    fprintf(stderr, "pty-drive: %s:%d: exit status %d, not %d\n", argv[1], lineno,
                            WEXITSTATUS(child_status), want);
                show_output();
                failed = 1;
            }
        } else if (strcmp(word, "timeout") == 0) {
            timeout = atof(text);
        } else {
            fprintf(stderr, "pty-drive: %s:%d: unknown command '%s'\n", argv[1], lineno, word);
            failed = 1;
        }
    }
    fclose(script);
    if (getenv("PTY_DRIVE_SHOW")) {
        matched = 0;
        show_output();
    }
    /* Ctrl-C drops a line being typed or run, Ctrl-D then ends the
     * session at the fresh prompt */
    for (double end = now() + timeout, next = 0; child_status < 0 && !closed && now() < end;) {
        if (now() >= next) {
            if (write(master, "\x03", 1) != 1) break;
            for (double t = now() + 0.2; child_status < 0 && !closed && now() < t;) pump(t - now());
            if (write(master, "\x04", 1) != 1) break;
            next = now() + 1;
        }
        pump(next - now());
    }
    if (child_status < 0) {
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
    }
    free(out);
    close(master);
    return failed;
}
