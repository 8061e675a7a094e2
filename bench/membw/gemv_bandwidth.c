// bf16 GEMV (the decode kernel of both precisions) against a plain sum over the same matrix: one
// thread, thread CPU time (robust to other jobs). Not part of the package; from the repository root:
//     cc -O3 -march=native -ISources/CKernels/include bench/membw/gemv_bandwidth.c Sources/CKernels/gemv_bf16.c \
//        Sources/CKernels/mathkernels.c -o /tmp/gemvbw -lm && /tmp/gemvbw
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "gemv_bf16.h"
static double cpu(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
int main(void) {
    size_t rows = 16384, cols = 2048;   // GAR-1B gate+up (64 MB of bf16)
    uint16_t *w = malloc(rows * cols * 2); float *x = malloc(cols * 4), *y = malloc(rows * 4);
    for (size_t i = 0; i < rows * cols; i++) w[i] = 0x3f80 ^ (i & 0x7f);
    for (size_t i = 0; i < cols; i++) x[i] = 1e-3f * i;
    // read bandwidth yardstick on the same buffer: sum of all bf16 words as 64-bit loads
    double bestSum = 1e9, bestGemv = 1e9; volatile uint64_t sink = 0;
    for (int rep = 0; rep < 5; rep++) {
        double t = cpu(); uint64_t s[8] = {0}; const uint64_t *p = (const uint64_t *)w;
        for (size_t i = 0; i < rows * cols / 4; i += 8) for (int j = 0; j < 8; j++) s[j] += p[i + j];
        t = cpu() - t; for (int j = 0; j < 8; j++) sink += s[j]; if (t < bestSum) bestSum = t;
        t = cpu(); gk_gemv_bf16(w, cols, rows, cols, x, y); t = cpu() - t; if (t < bestGemv) bestGemv = t;
    }
    double bytes = rows * cols * 2.0;
    printf("one thread, %.0f MB bf16 matrix: sum %.1f GB/s, gk_gemv_bf16 %.1f GB/s (%.0f%%) per CPU-second\n", bytes / 1e6,
           bytes / bestSum / 1e9, bytes / bestGemv / 1e9, 100 * bestSum / bestGemv);
    return 0;
}
