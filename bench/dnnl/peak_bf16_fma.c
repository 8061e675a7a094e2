// Per-core peak of the two AVX-512 multiply-add instructions GEMMs are built from: vfmadd231ps
// (f32, 32 flops per zmm instruction) and vdpbf16ps (bf16 pairs into f32, 64 flops), 12
// independent accumulators each (latency hidden), thread CPU time. On the 2-core Sapphire Rapids
// development VM (no AMX): fma 171, dpbf16 85 GFLOP/s — the bf16 dot product has half the f32
// FMA rate per flop there, so bf16 GEMMs cannot beat f32 ones on that CPU. Not part of the package:
//   cc -O2 -mavx512f -mavx512bf16 bench/dnnl/peak_bf16_fma.c -o /tmp/peak && /tmp/peak
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

static double cpu(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    (void)argv;
    // Distinct starting values, so the compiler cannot merge the accumulators.
    __m512 a0 = _mm512_set1_ps(argc), a1 = _mm512_set1_ps(argc + 1), a2 = _mm512_set1_ps(argc + 2), a3 = _mm512_set1_ps(argc + 3),
           a4 = _mm512_set1_ps(argc + 4), a5 = _mm512_set1_ps(argc + 5), a6 = _mm512_set1_ps(argc + 6), a7 = _mm512_set1_ps(argc + 7),
           a8 = _mm512_set1_ps(argc + 8), a9 = _mm512_set1_ps(argc + 9), a10 = _mm512_set1_ps(argc + 10), a11 = _mm512_set1_ps(argc + 11);
    __m512 x = _mm512_set1_ps(1e-3f * argc), y = _mm512_set1_ps(1e-3f);
    __m512bh xb = (__m512bh)_mm512_set1_epi16(0x3c00 + argc), yb = (__m512bh)_mm512_set1_epi16(0x3c00);
    long n = 100000000;
    double t = cpu();
    for (long i = 0; i < n; i++) {
#define F(k) a##k = _mm512_fmadd_ps(x, y, a##k);
        F(0) F(1) F(2) F(3) F(4) F(5) F(6) F(7) F(8) F(9) F(10) F(11)
        __asm__ volatile("" : "+v"(x));
    }
    t = cpu() - t;
    printf("fma    %.1f GFLOP/s\n", n * 12 * 32.0 / t * 1e-9);
    t = cpu();
    for (long i = 0; i < n; i++) {
#define B(k) a##k = _mm512_dpbf16_ps(a##k, xb, yb);
        B(0) B(1) B(2) B(3) B(4) B(5) B(6) B(7) B(8) B(9) B(10) B(11)
        __asm__ volatile("" : "+v"(xb));
    }
    t = cpu() - t;
    printf("dpbf16 %.1f GFLOP/s\n", n * 12 * 64.0 / t * 1e-9);
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)), _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
    printf("(checksum %g)\n", _mm512_reduce_add_ps(s));
    return 0;
}
