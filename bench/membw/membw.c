// Read bandwidth of this machine, the yardstick of decoding (which reads every weight once per
// token): T threads each sum their share of a large buffer (default 1 GiB of floats), best of N
// passes. Build and run (not part of the package):
//     cc -O3 -march=native -fopenmp bench/membw/membw.c -o /tmp/membw && /tmp/membw [MiB] [passes]
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 1024;
    int passes = argc > 2 ? atoi(argv[2]) : 5;
    size_t n = mib * 1024 * 1024 / sizeof(float);
    float *a = aligned_alloc(64, n * sizeof(float));
    if (!a) { fprintf(stderr, "out of memory\n"); return 1; }
#pragma omp parallel for
    for (size_t i = 0; i < n; i++) a[i] = (float)(i & 1023) * 1e-3f;
    double best = 1e30, bestCPU = 1e30, sink = 0;
    for (int p = 0; p < passes; p++) {
        double t = now(), c = (double)clock() / CLOCKS_PER_SEC, total = 0;
#pragma omp parallel reduction(+ : total)
        {
            float acc[64] = {0};   // 4 vectors of independent sums: the loads, not the adds, limit
#pragma omp for
            for (size_t i = 0; i < n; i += 64)
                for (int j = 0; j < 64; j++) acc[j] += a[i + j];
            for (int j = 0; j < 64; j++) total += acc[j];
        }
        t = now() - t;
        c = (double)clock() / CLOCKS_PER_SEC - c;
        sink += total;
        if (t < best) best = t;
        if (c < bestCPU) bestCPU = c;
    }
    // Per CPU-second too: on a shared machine the wall-clock figure includes time the threads
    // waited for a core.
    printf("threads %d, %zu MiB, best of %d: %.1f GB/s wall, %.1f GB per CPU-second x threads (sum %.3g)\n",
           omp_get_max_threads(), mib, passes, n * sizeof(float) / best / 1e9,
           n * sizeof(float) / bestCPU * omp_get_max_threads() / 1e9, sink);
    free(a);
    return 0;
}
