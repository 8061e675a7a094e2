// Tensor-level operations: thin, shape-checked wrappers over `Kernels` that allocate their
// result. Model code that wants to reuse buffers calls the `into:` variants or `Kernels` directly.
// Shapes use the README legend; "[…, C]" means any leading dimensions (flattened to rows).

public enum Ops {
    // MARK: products

    /// `x[…, C] · w[OC, C]ᵀ + bias[OC]` → `[…, OC]` (PyTorch `F.linear`).
    public static func linear(_ x: Tensor, _ w: Tensor, bias: Tensor? = nil) -> Tensor {
        precondition(w.rank == 2, "linear: weight must be [out, in], got \(w.shape)")
        var y = Tensor(shape: Array(x.shape.dropLast()) + [w.shape[0]])
        linear(x, w, bias: bias, into: &y)
        return y
    }

    /// `linear` writing into a preallocated `y` of shape `[…, OC]`.
    public static func linear(_ x: Tensor, _ w: Tensor, bias: Tensor?, into y: inout Tensor) {
        precondition(w.rank == 2 && x.rowLength == w.shape[1],
                     "linear: x \(x.shape) does not match weight \(w.shape)")
        precondition(bias == nil || bias!.count == w.shape[0], "linear: bias \(bias!.shape) vs weight \(w.shape)")
        precondition(y.count == x.rowCount * w.shape[0], "linear: output \(y.shape) for x \(x.shape) · w \(w.shape)")
        let rows = x.rowCount
        x.withUnsafeBufferPointer { xb in
            w.withUnsafeBufferPointer { wb in
                y.withUnsafeMutableBufferPointer { yb in
                    if let bias {
                        bias.withUnsafeBufferPointer { bb in
                            Kernels.linear(x: xb, weight: wb, bias: bb, out: yb, rows: rows, inFeatures: w.shape[1], outFeatures: w.shape[0])
                        }
                    } else {
                        Kernels.linear(x: xb, weight: wb, bias: nil, out: yb, rows: rows, inFeatures: w.shape[1], outFeatures: w.shape[0])
                    }
                }
            }
        }
    }

    /// Matrix product of 2-D tensors: `a[M, K] · b[K, N]` (or `b[N, K]ᵀ` with `transposeB`).
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeB: Bool = false) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2, "matmul: 2-D tensors only, got \(a.shape), \(b.shape)")
        let m = a.shape[0], k = a.shape[1], n = transposeB ? b.shape[0] : b.shape[1]
        precondition((transposeB ? b.shape[1] : b.shape[0]) == k, "matmul: \(a.shape) · \(b.shape) (transposeB: \(transposeB))")
        var c = Tensor(shape: [m, n])
        a.withUnsafeBufferPointer { ab in
            b.withUnsafeBufferPointer { bb in
                c.withUnsafeMutableBufferPointer { cb in
                    Kernels.gemm(transA: false, transB: transposeB, m: m, n: n, k: k, alpha: 1,
                                 a: ab.baseAddress!, lda: k, b: bb.baseAddress!, ldb: transposeB ? k : n,
                                 beta: 0, c: cb.baseAddress!, ldc: n)
                }
            }
        }
        return c
    }

    // MARK: normalisation and activations

    /// LayerNorm over the last dimension (`weight`, `bias`: `[C]`).
    public static func layerNorm(_ x: Tensor, weight: Tensor, bias: Tensor?, eps: Float) -> Tensor {
        precondition(weight.count == x.rowLength && (bias == nil || bias!.count == x.rowLength),
                     "layerNorm: weight \(weight.shape) for x \(x.shape)")
        var y = Tensor(shape: x.shape)
        x.withUnsafeBufferPointer { xb in
            weight.withUnsafeBufferPointer { wb in
                y.withUnsafeMutableBufferPointer { yb in
                    if let bias {
                        bias.withUnsafeBufferPointer { bb in
                            Kernels.layerNorm(xb, weight: wb, bias: bb, eps: eps, out: yb, rows: x.rowCount, cols: x.rowLength)
                        }
                    } else {
                        Kernels.layerNorm(xb, weight: wb, bias: nil, eps: eps, out: yb, rows: x.rowCount, cols: x.rowLength)
                    }
                }
            }
        }
        return y
    }

    /// RMSNorm over the last dimension, Hugging Face Llama semantics (`weight`: `[C]`).
    public static func rmsNorm(_ x: Tensor, weight: Tensor, eps: Float) -> Tensor {
        precondition(weight.count == x.rowLength, "rmsNorm: weight \(weight.shape) for x \(x.shape)")
        var y = Tensor(shape: x.shape)
        x.withUnsafeBufferPointer { xb in
            weight.withUnsafeBufferPointer { wb in
                y.withUnsafeMutableBufferPointer { yb in
                    Kernels.rmsNorm(xb, weight: wb, eps: eps, out: yb, rows: x.rowCount, cols: x.rowLength)
                }
            }
        }
        return y
    }

    /// Exact-erf GELU.
    public static func gelu(_ x: Tensor) -> Tensor {
        var y = x
        y.withUnsafeMutableBufferPointer { Kernels.gelu(UnsafeBufferPointer($0), $0) }
        return y
    }

    /// SiLU.
    public static func silu(_ x: Tensor) -> Tensor {
        var y = x
        y.withUnsafeMutableBufferPointer { Kernels.silu(UnsafeBufferPointer($0), $0) }
        return y
    }

    /// Row softmax of `scale · x` over the last dimension.
    public static func softmax(_ x: Tensor, scale: Float = 1) -> Tensor {
        var y = x
        y.withUnsafeMutableBufferPointer { Kernels.softmaxRows($0, rows: x.rowCount, cols: x.rowLength, scale: scale) }
        return y
    }

    // MARK: elementwise

    /// `a + b` (same shapes).
    public static func add(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.shape == b.shape, "add: \(a.shape) vs \(b.shape)")
        var y = a
        addInPlace(&y, b)
        return y
    }

    /// `a += b` (same element count).
    public static func addInPlace(_ a: inout Tensor, _ b: Tensor) {
        precondition(a.count == b.count, "addInPlace: \(a.shape) vs \(b.shape)")
        b.withUnsafeBufferPointer { bb in a.withUnsafeMutableBufferPointer { Kernels.addInPlace($0, bb) } }
    }

    // MARK: vision helpers

    /// Conv2d(C→D, kernel = stride = P, no padding) as GEMM: `image: [C, H, W]`,
    /// `weight: [D, C, P, P]`, `bias: [D]?` → tokens `[(H/P)·(W/P), D]`.
    public static func patchEmbed(_ image: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
        precondition(image.rank == 3 && weight.rank == 4 && weight.shape[1] == image.shape[0] && weight.shape[2] == weight.shape[3],
                     "patchEmbed: image \(image.shape), weight \(weight.shape)")
        let C = image.shape[0], H = image.shape[1], W = image.shape[2], P = weight.shape[2], D = weight.shape[0]
        var y = Tensor(shape: [(H / P) * (W / P), D])
        image.withUnsafeBufferPointer { ib in
            weight.withUnsafeBufferPointer { wb in
                y.withUnsafeMutableBufferPointer { yb in
                    if let bias {
                        bias.withUnsafeBufferPointer { bb in
                            Kernels.patchEmbed(image: ib, channels: C, height: H, width: W, patch: P, weight: wb, bias: bb, embedDim: D, out: yb)
                        }
                    } else {
                        Kernels.patchEmbed(image: ib, channels: C, height: H, width: W, patch: P, weight: wb, bias: nil, embedDim: D, out: yb)
                    }
                }
            }
        }
        return y
    }

    /// Adaptive average pooling of a channels-last grid `x: [H·W, C]` → `[Ho·Wo, C]`.
    public static func adaptiveAvgPool2d(_ x: Tensor, height: Int, width: Int, outHeight: Int, outWidth: Int) -> Tensor {
        precondition(x.rank == 2 && x.shape[0] == height * width, "adaptiveAvgPool2d: x \(x.shape) is not [\(height)·\(width), C]")
        let C = x.shape[1]
        var y = Tensor(shape: [outHeight * outWidth, C])
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer {
                Kernels.adaptiveAvgPool2d(xb, height: height, width: width, channels: C, outHeight: outHeight, outWidth: outWidth, out: $0)
            }
        }
        return y
    }

    /// RoI-Align of one box over a channels-last map `features: [H·W, C]` → `[outH·outW, C]`.
    public static func roiAlign(_ features: Tensor, height: Int, width: Int, box: RoIBox, parameters: RoIAlignParameters) -> Tensor {
        precondition(features.rank == 2 && features.shape[0] == height * width, "roiAlign: features \(features.shape) is not [\(height)·\(width), C]")
        let C = features.shape[1]
        var y = Tensor(shape: [parameters.outHeight * parameters.outWidth, C])
        features.withUnsafeBufferPointer { fb in
            y.withUnsafeMutableBufferPointer {
                Kernels.roiAlign(features: fb, height: height, width: width, channels: C, box: box, parameters: parameters, out: $0)
            }
        }
        return y
    }

    // MARK: attention

    /// Attention with `q: [T, H·D]`, `k, v: [S, Hkv·D]` → `[T, H·D]`; see `Kernels.attention`.
    public static func attention(q: Tensor, k: Tensor, v: Tensor, heads H: Int, kvHeads Hkv: Int,
                                 scale: Float? = nil, causalOffset: Int? = nil) -> Tensor {
        precondition(q.rank == 2 && k.rank == 2 && v.rank == 2 && k.shape == v.shape, "attention: q \(q.shape), k \(k.shape), v \(v.shape)")
        precondition(q.shape[1] % H == 0, "attention: q width \(q.shape[1]) not divisible by \(H) heads")
        let D = q.shape[1] / H, T = q.shape[0], S = k.shape[0]
        precondition(k.shape[1] == Hkv * D, "attention: k width \(k.shape[1]) is not \(Hkv)×\(D)")
        var out = Tensor(shape: [T, H * D])
        let layout = AttentionLayout(qRowStride: H * D, kRowStride: Hkv * D, vRowStride: Hkv * D, outRowStride: H * D)
        q.withUnsafeBufferPointer { qb in
            k.withUnsafeBufferPointer { kb in
                v.withUnsafeBufferPointer { vb in
                    out.withUnsafeMutableBufferPointer { ob in
                        Kernels.attention(q: qb.baseAddress!, k: kb.baseAddress!, v: vb.baseAddress!, out: ob.baseAddress!,
                                          layout: layout, queries: T, keys: S, heads: H, kvHeads: Hkv, headDim: D,
                                          scale: scale ?? 1 / Float(D).squareRoot(), causalOffset: causalOffset)
                    }
                }
            }
        }
        return out
    }
}
