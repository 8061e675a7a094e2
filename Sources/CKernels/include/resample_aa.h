// Antialiased (bicubic) resampling passes in float32 with PyTorch's exact arithmetic, for the GAR
// image processor (torchvision v1 F.resize on a float32 tensor → aten _upsample_bicubic2d_aa, CPU).
// Owned by the Models module (issue 4); see Sources/Models/Processing/BicubicResize.swift.
#ifndef GAR_CKERNELS_RESAMPLE_AA_H
#define GAR_CKERNELS_RESAMPLE_AA_H
#include <stddef.h>
#include <stdint.h>

/// Horizontal pass: for each of `rows` rows of `src` (row stride `in_w`) and each output column o,
///   dst[r * out_w + o] = Σ_j src[r * in_w + start[o] + j] · w[o * max_taps + j],  j < taps[o]
/// accumulated as aten's AVX2/AVX-512 build does: acc = s0·w0; then, for j = 1 … taps−1, the first
/// 4·⌊(taps−1)/4⌋ terms as acc + (s·w) (two roundings) and the remaining ones as fma(s, w, acc).
void gk_resample_rows_f32(const float *src, size_t rows, size_t in_w, float *dst, size_t out_w,
                          const int32_t *start, const int32_t *taps, const float *w, size_t max_taps);

/// Vertical pass over a plane of `width` columns: output rows `[row0, row0 + nrows)` of
///   dst[o * width + x] = Σ_j src[(start[o] + j) * width + x] · w[o * max_taps + j]
/// with the same accumulation order as gk_resample_rows_f32.
void gk_resample_cols_f32(const float *src, size_t width, float *dst, size_t row0, size_t nrows,
                          const int32_t *start, const int32_t *taps, const float *w, size_t max_taps);

#endif
