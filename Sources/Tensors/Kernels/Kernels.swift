// Fast kernels over raw Float buffers. Every kernel documents its shapes with the legend of
// README.md (T tokens/rows, C channels/in-features, OC out-features, H heads, D head dim, …),
// checks its buffer sizes with `precondition` on entry (never inside the loops), and has a
// naive twin with the same signature in `Reference` (Sources/Tensors/Reference/) that the
// tests compare it against.

/// Optimised kernels (BLAS, SIMD, C, parallel). Naive twins: `Reference`.
public enum Kernels {}

/// Naive, obviously-correct twins of `Kernels` (Sources/Tensors/Reference/): same signatures, plain loops, Double
/// accumulation where a sum is involved. For tests and as a readable specification.
public enum Reference {}

/// Rows per parallel chunk so that one chunk holds roughly `targetElements` elements.
@inline(__always)
func rowGrain(rowLength: Int, targetElements: Int = 1 << 14) -> Int {
    max(1, targetElements / max(1, rowLength))
}
