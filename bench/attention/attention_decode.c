// A decode step's attention over a GAR-1B-shaped KV cache (16 layers, 8 kv heads of 64, 4 query
// heads per kv head, S cached positions): gk_attention_decode on f32 rows and on bf16 rows, against
// a plain streaming sum over the same bytes in the same run (the read-bandwidth ceiling). One
// thread, wall time of the best of 5 (the caches of 16 layers, 64–512 MiB, do not fit the L3).
// Not part of the package; from the repository root:
//     clang -O3 -ISources/CKernels/include -ISources/CKernels bench/attention/attention_decode.c \
//        Sources/CKernels/mathkernels.c Sources/CKernels/convert.c -o /tmp/attndec -lm && /tmp/attndec 4096
#include "ckernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

enum { LAYERS = 16, HKV = 8, G = 4, D = 64, W = HKV * D };

/// Best-of-5 seconds of one step over every layer (bf16: rows of bf16 bits), or of the plain sum.
static double run(size_t S, int bf16, int plainSum, char **k, char **v, float *q, float *out, float *scratch, float *sink) {
    const size_t eb = bf16 ? 2 : 4;
    double best = 1e30;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now();
        for (int l = 0; l < LAYERS; l++) {
            if (plainSum) {
                // int32 sum of the cache's bytes, 16 at a time (vectorised by the compiler)
                const int32_t *a = (const int32_t *)k[l], *b = (const int32_t *)v[l];
                int32_t acc[16] = {0};
                for (size_t i = 0; i < S * W * eb / 4; i += 16)
                    for (int j = 0; j < 16; j++) acc[j] += a[i + j] + b[i + j];
                for (int j = 0; j < 16; j++) *sink += (float)acc[j];
            } else {
                for (int g = 0; g < HKV; g++)
                    gk_attention_decode(q + g * G * D, G, k[l] + g * D * eb, v[l] + g * D * eb, W, bf16, S, D, 0.125f,
                                        out + g * G * D, scratch);
            }
        }
        double t = now() - t0;
        if (t < best) best = t;
    }
    return best;
}

int main(int argc, char **argv) {
    const size_t S = argc > 1 ? (size_t)atol(argv[1]) : 4096;
    float *q = malloc(HKV * G * D * 4), *out = malloc(HKV * G * D * 4);
    float *scratch = malloc(gk_attention_decode_scratch_floats(G, S, D) * 4), sink = 0;
    for (int i = 0; i < HKV * G * D; i++) q[i] = 0.01f * (float)(i % 7);
    for (int bf16 = 0; bf16 <= 1; bf16++) {
        const size_t eb = bf16 ? 2 : 4;
        char *k[LAYERS], *v[LAYERS];
        srand(1);
        for (int l = 0; l < LAYERS; l++) {
            k[l] = aligned_alloc(64, S * W * eb);  // 64-byte aligned, as KVCache allocates
            v[l] = aligned_alloc(64, S * W * eb);
            for (size_t i = 0; i < S * W; i++) {
                float a = (float)(rand() % 2000 - 1000) * 1e-3f, b = (float)(rand() % 2000 - 1000) * 1e-3f;
                if (bf16) {
                    uint32_t ua, ub;
                    memcpy(&ua, &a, 4);
                    memcpy(&ub, &b, 4);
                    ((uint16_t *)k[l])[i] = (uint16_t)(ua >> 16);
                    ((uint16_t *)v[l])[i] = (uint16_t)(ub >> 16);
                } else {
                    ((float *)k[l])[i] = a;
                    ((float *)v[l])[i] = b;
                }
            }
        }
        const double bytes = 2.0 * LAYERS * S * W * eb;
        double ts = run(S, bf16, 1, k, v, q, out, scratch, &sink), ta = run(S, bf16, 0, k, v, q, out, scratch, &sink);
        printf("S = %zu, %s rows (%.0f MiB): plain sum %.2f ms (%.1f GB/s), decode attention %.2f ms (%.1f GB/s, %.0f %% of the sum)\n",
               S, bf16 ? "bf16" : "f32 ", bytes / 1048576, ts * 1e3, bytes / ts / 1e9, ta * 1e3, bytes / ta / 1e9, 100 * ts / ta);
        for (int l = 0; l < LAYERS; l++) { free(k[l]); free(v[l]); }
    }
    return sink == 12345.0f;
}
