// Same-run comparison of the fused attention kernel before (old.inc, main) and after (new.inc,
// key blocks) — one thread, thread CPU time (robust to other jobs), causal, GAR-1B decoder shape
// per kv head: head dim 64, 32 query heads over 8 kv heads (4 query heads per packed K/V), query
// blocks of 64 rows as Kernels.attention runs them. Not part of the package; from the repository root:
//     git show f0690e5:Sources/CKernels/vecmath.inc > /tmp/old.inc    # the kernel before key blocks
//     cp Sources/CKernels/vecmath.inc /tmp/new.inc
//     cc -O3 -std=gnu11 -I/tmp -ISources/CKernels/include bench/attention/attention_blocks.c -o /tmp/attn -lm && /tmp/attn
// The row tile and query block of the new kernel can differ from the old's (4 rows, 64-row blocks):
// -DGK_AR_NEW=6 -DBLOCK_NEW=96 measured the 6-row AVX-512 tile (mathkernels.c) with old.inc = new.inc
// = the kernel of that day. Outputs are compared (max |Δ|; a row's arithmetic does not depend on the tile).
#ifndef GK_AR_NEW
#define GK_AR_NEW 4
#endif
#ifndef BLOCK_NEW
#define BLOCK_NEW 64
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#define GK_LANES 16
#define GK_AR 4
#define GK_TARGET __attribute__((target("avx512f")))
#define GK_SUFFIX old
#include "old.inc"
#undef GK_SUFFIX
#undef GK_AR
#define GK_AR GK_AR_NEW
#define GK_SUFFIX new
#include "new.inc"
#undef GK_SUFFIX
static double cpu(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
int main(int argc, char **argv) {
    const size_t D = 64, group = 4;  // query heads per kv head (32/8)
    size_t lens[] = {1024, 4096, 8192};
    for (int li = 0; li < 3; li++) {
        size_t T = lens[li], S = T, Spad = (S + 63) / 64 * 64;
        float *q = malloc(T * group * D * 4), *kt = calloc(D * Spad, 4), *v = calloc(Spad * D, 4);
        float *o1 = malloc(T * group * D * 4), *o2 = malloc(T * group * D * 4);
        float *scratch = calloc((BLOCK_NEW + 64 + 8) * D + 2 * (BLOCK_NEW + 72) + 8 * 64 + 8 * D, 4);
        srand(1);
        for (size_t i = 0; i < T * group * D; i++) q[i] = (float)rand() / RAND_MAX - 0.5f;
        for (size_t i = 0; i < D * Spad; i++) kt[i] = (float)rand() / RAND_MAX - 0.5f;
        for (size_t i = 0; i < Spad * D; i++) v[i] = (float)rand() / RAND_MAX - 0.5f;
        double best[2] = {1e9, 1e9};
        for (int rep = 0; rep < 3; rep++) {
            for (int which = 0; which < 2; which++) {
                float *o = which ? o2 : o1;
                double t = cpu();
                for (size_t h = 0; h < group; h++)
                    for (size_t t0 = 0; t0 < T; t0 += (which ? BLOCK_NEW : 64)) {
                        size_t block = which ? BLOCK_NEW : 64, rows = T - t0 < block ? T - t0 : block;
                        if (which == 0)
                            gk_attention_block_old(q + (t0 * group + h) * D, group * D, rows, kt, v, S, Spad, D, 0.125f, t0 + 1, 1,
                                                   o + (t0 * group + h) * D, group * D, scratch);
                        else
                            gk_attention_block_new(q + (t0 * group + h) * D, group * D, rows, kt, v, S, Spad, D, 0.125f, t0 + 1, 1,
                                                   o + (t0 * group + h) * D, group * D, scratch);
                    }
                t = cpu() - t;
                if (t < best[which]) best[which] = t;
            }
        }
        double flops = 4.0 * group * D * (double)T * (T + 1) / 2;   // QK and PV over the causal half
        double maxd = 0, maxo = 0;
        for (size_t i = 0; i < T * group * D; i++) {
            double d = o1[i] > o2[i] ? o1[i] - o2[i] : o2[i] - o1[i], a = o1[i] > 0 ? o1[i] : -o1[i];
            if (d > maxd) maxd = d;
            if (a > maxo) maxo = a;
        }
        printf("T=%zu: old %.3f s (%.1f GFLOP/s), new %.3f s (%.1f GFLOP/s), speed-up %.2fx, outputs %s (max |Δ| %.2e of max |o| %.2e)\n",
               T, best[0], flops / best[0] / 1e9, best[1], flops / best[1] / 1e9, best[0] / best[1],
               memcmp(o1, o2, T * group * D * 4) == 0 ? "bit-identical" : "differ", maxd, maxo);
        free(q); free(kt); free(v); free(o1); free(o2); free(scratch);
    }
    return 0;
}
