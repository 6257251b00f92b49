/* MATMUL: A[i][j] = sin(1024 i + j), B[i][j] = cos(1024 i + j), both 1024 x 1024;
   C = A B ten times through cblas_dgemm; prints sum(C * C). The inputs are built
   as dial builds them (the same sin and cos calls), so both processes do the
   same work besides the products. bench/run links the BLAS dial's configure
   found (BLAS_CFLAGS and BLAS_LIBS of its build tree), else OpenBLAS through
   pkg-config. The in-program time is the CPU time of every BLAS thread. */
#include <math.h>
#include <stdlib.h>
#include <cblas.h>
#include "clock.h"

enum { N = 1024, PRODUCTS = 10 };

int main(void)
{
    double *a = malloc(sizeof(double) * N * N), *b = malloc(sizeof(double) * N * N);
    double *c = malloc(sizeof(double) * N * N);
    for (long i = 0; i < (long)N * N; i++) {
        a[i] = sin((double)i);
        b[i] = cos((double)i);
    }
    double t0 = bench_now();              /* inputs built: the workload starts here */
    for (int r = 0; r < PRODUCTS; r++)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1.0, a, N, b, N, 0.0,
                    c, N);
    double s = 0;
    for (long i = 0; i < (long)N * N; i++) s += c[i] * c[i];
    bench_report(t0);
    printf("%.17g\n", s);
    free(a);
    free(b);
    free(c);
    return 0;
}
