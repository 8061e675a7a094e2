// Small C kernels where Swift cannot reach the instruction (F16C, bulk bf16 widening),
// compiled -O3 even in debug builds. Every kernel picks its code path at run time from
// the CPU's features, so the binary runs on any x86-64 or arm64 machine.
#ifndef GAR_CKERNELS_H
#define GAR_CKERNELS_H
#include <stddef.h>
#include <stdint.h>

/// bf16 -> f32 for n values (exact: a bf16 is the top half of an f32).
void gk_bf16_to_f32(const uint16_t *src, float *dst, size_t n);
/// f32 -> bf16 with round-to-nearest-even (NaN stays NaN), as torch's .to(bfloat16).
void gk_f32_to_bf16(const float *src, uint16_t *dst, size_t n);
/// IEEE half -> f32 for n values (F16C when the CPU has it).
void gk_f16_to_f32(const uint16_t *src, float *dst, size_t n);
/// f32 -> IEEE half, round-to-nearest-even.
void gk_f32_to_f16(const float *src, uint16_t *dst, size_t n);
/// 1 when the running CPU supports AVX2+FMA+F16C (x86-64), else 0.
int gk_cpu_has_avx2_fma_f16c(void);

#endif
