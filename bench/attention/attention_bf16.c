// Same-run comparison of the f32 fused attention (gk_attention_block, what the vision tower and
// the Llama prefill ran in every precision) and the fused bf16-product kernel
// (gk_attention_bf16_block) with its products as f32 FMAs (the default) and with vdpbf16ps
// (gk_attention_bf16_set_native) — one thread, thread CPU time (robust to other jobs), query blocks of
// 64 rows as Kernels.attention / attentionBF16 run them, packing included. Shapes per kv head:
// GAR vision (1,025 tokens, one head of 64, non-causal), Llama prefill (8,192 tokens causal, 4
// query heads per kv head of 64), SAM 2 memory attention (the first 1,024 of 4,096 queries over
// 28,736 keys, one head of 256). Not part of the package; from the repository root:
//     clang -O3 -fno-math-errno -ISources/CKernels/include -ISources/CKernels bench/attention/attention_bf16.c \
//        Sources/CKernels/attention_bf16.c Sources/CKernels/mathkernels.c Sources/CKernels/convert.c -o /tmp/attnbf16 -lm && /tmp/attnbf16
#include "attention_bf16.h"
#include "ckernels.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu(void) { struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

static double run(int bf16, size_t T, size_t S, size_t heads, size_t D, int causal, const float *q, const float *k, const float *v,
                  float *o) {
    const size_t block = 64, L = gk_attention_lanes(), tile = 4 * L, Spad = (S + tile - 1) / tile * tile;
    double t = cpu();
    if (bf16) {
        size_t n = gk_attention_bf16_packed_count(S, D);
        uint16_t *kp = malloc(2 * n), *vp = malloc(2 * n);
        void *scratch = malloc(gk_attention_bf16_scratch_bytes(block, D));
        gk_attention_bf16_pack(k, D, v, D, S, D, 0, gk_attention_bf16_keys(S), kp, vp);
        for (size_t h = 0; h < heads; h++)
            for (size_t t0 = 0; t0 < T; t0 += block) {
                size_t rows = T - t0 < block ? T - t0 : block;
                gk_attention_bf16_block(q + (t0 * heads + h) * D, heads * D, rows, kp, vp, S, D, 1 / sqrtf(D),
                                        (causal ? S - T : 0) + t0 + 1, causal, o + (t0 * heads + h) * D, heads * D, scratch);
            }
        free(kp), free(vp), free(scratch);
    } else {
        float *kt = calloc(D * Spad, 4), *vp = calloc(Spad * D, 4);
        float *scratch = malloc(4 * gk_attention_scratch_floats(block, D));
        for (size_t s = 0; s < S; s++)
            for (size_t d = 0; d < D; d++) kt[d * Spad + s] = k[s * D + d], vp[s * D + d] = v[s * D + d];
        for (size_t h = 0; h < heads; h++)
            for (size_t t0 = 0; t0 < T; t0 += block) {
                size_t rows = T - t0 < block ? T - t0 : block;
                gk_attention_block(q + (t0 * heads + h) * D, heads * D, rows, kt, vp, S, Spad, D, 1 / sqrtf(D),
                                   (causal ? S - T : 0) + t0 + 1, causal, o + (t0 * heads + h) * D, heads * D, scratch);
            }
        free(kt), free(vp), free(scratch);
    }
    return cpu() - t;
}

int main(void) {
    struct { const char *name; size_t T, S, heads, D; int causal; } shapes[] = {
        {"vision 1025 tokens, 1 head x 64", 1025, 1025, 1, 64, 0},
        {"llama prefill 8192 causal, 4 q heads x 64 per kv head", 8192, 8192, 4, 64, 1},
        {"SAM 2 memory attn 1024 of 4096 queries x 28736 keys, 1 x 256", 1024, 28736, 1, 256, 0},
    };
    printf("bf16 path: %s\n", gk_attention_bf16_isa());
    printf("with gk_attention_bf16_set_native(1): %s\n", gk_attention_bf16_set_native(1) ? "vdpbf16ps" : "no AVX512_BF16 on this CPU");
    gk_attention_bf16_set_native(0);
    for (int i = 0; i < 3; i++) {
        size_t T = shapes[i].T, S = shapes[i].S, H = shapes[i].heads, D = shapes[i].D;
        float *q = malloc(4 * T * H * D), *k = malloc(4 * S * D), *v = malloc(4 * S * D), *o1 = malloc(4 * T * H * D),
              *o2 = malloc(4 * T * H * D);
        srand(1);
        for (size_t j = 0; j < T * H * D; j++) q[j] = (float)rand() / RAND_MAX * 2 - 1;
        for (size_t j = 0; j < S * D; j++) k[j] = (float)rand() / RAND_MAX * 2 - 1, v[j] = (float)rand() / RAND_MAX * 2 - 1;
        double best[3] = {1e9, 1e9, 1e9};
        for (int rep = 0; rep < 3; rep++)
            for (int which = 0; which < 3; which++) {
                gk_attention_bf16_set_native(which == 2);
                double t = run(which > 0, T, S, H, D, shapes[i].causal, q, k, v, which ? o2 : o1);
                if (t < best[which]) best[which] = t;
            }
        gk_attention_bf16_set_native(0);
        double visible = shapes[i].causal ? (double)(S - T) + (T + 1) / 2.0 : (double)S;
        double flops = 4.0 * H * D * T * visible, err = 0;
        for (size_t j = 0; j < T * H * D; j++) err = fmax(err, fabs(o1[j] - o2[j]));
        printf("%s\n  f32 %.3f s (%.1f GFLOP/s) | bf16 FMA %.3f s (%.1f GFLOP/s, %.2fx) | bf16 vdpbf16ps %.3f s (%.1f GFLOP/s, %.2fx) | max|diff| %.1e\n",
               shapes[i].name, best[0], flops / best[0] / 1e9, best[1], flops / best[1] / 1e9, best[0] / best[1], best[2],
               flops / best[2] / 1e9, best[0] / best[2], err);
        free(q), free(k), free(v), free(o1), free(o2);
    }
    return 0;
}
