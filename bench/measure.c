/* measure OUT PROGRAM ARGS...: run PROGRAM, then write
   "WALL_SECONDS CPU_SECONDS MAXRSS_KIB" to OUT.
   bench/run compiles this and starts every timed program through it, so that
   - the wall time is taken right around fork/exec/wait (process start-up included,
     no Python spawn cost), with CLOCK_MONOTONIC;
   - the CPU time (user + system) and the peak RSS are the child's own rusage
     from wait4: CPU time is what a loaded machine disturbs least.
     The peak RSS is ru_maxrss. (Reading it from the
     Python runner's children instead would count the runner's memory too: a
     child created by fork/vfork inherits the parent's RSS high-water mark.)
   stdin/stdout/stderr pass through; the exit status is the program's (128+n if
   killed by signal n, 127 if it could not be started). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: measure OUT PROGRAM [ARGS...]\n");
        return 2;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) {
        perror("measure: fork");
        return 127;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        perror("measure: exec");
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) {
        perror("measure: wait4");
        return 127;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    FILE *out = fopen(argv[1], "w");
    if (out) {
        fprintf(out, "%.6f %.6f %ld\n",
                (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec),
                ru.ru_utime.tv_sec + ru.ru_stime.tv_sec
                    + 1e-6 * (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec),
                ru.ru_maxrss);
        fclose(out);
    }
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}
