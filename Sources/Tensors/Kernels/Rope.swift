// Rotary position embeddings in the two conventions GAR uses (GAR-SPEC §4.4 and §7.1):
//
// * Vision tower (timm `RotaryEmbeddingCat` + `apply_rot_embed_cat`): a fixed 2-D table over the
//   patch grid, rotation of INTERLEAVED pairs (2j, 2j+1); the first `prefix` tokens (CLS) are
//   not rotated.
// * Llama decoder (Hugging Face `LlamaRotaryEmbedding` + `apply_rotary_pos_emb`): inverse
//   frequencies with llama3 scaling, rotation of the HALF-SPLIT pairs (i, i + D/2).
//
// Tables are built in Float32 with the same operation order as the reference so they match it
// to the last bit except where libm's sinf/cosf/powf round differently from torch's vectorised
// ones (≤ 1 ulp).

/// Sine/cosine tables: `sin`, `cos` are `[P, D]` row-major (P positions, D head dim).
public struct RopeTable: Sendable, Equatable {
    public let positions: Int
    public let headDim: Int
    public let sin: [Float]
    public let cos: [Float]

    public init(positions: Int, headDim: Int, sin: [Float], cos: [Float]) {
        precondition(sin.count == positions * headDim && cos.count == positions * headDim, "RopeTable: size")
        self.positions = positions
        self.headDim = headDim
        self.sin = sin
        self.cos = cos
    }
}

public enum Rope {
    /// timm `freq_bands(num_bands, temperature, step=1)`: `1 / temperature^(i / num_bands)`.
    public static func visionBands(count nb: Int, temperature: Float = 10000) -> [Float] {
        (0 ..< nb).map { i in 1 / libmPowf(temperature, Float(i) / Float(nb)) }
    }

    /// The 2-D table of timm `RotaryEmbeddingCat(dim: D, in_pixels: false)` for a
    /// `gridHeight × gridWidth` patch grid (row-major tokens, p = row·W + col).
    ///
    /// With `grid_indexing` 'xy' (the Perception Encoder's) the angles per token are
    /// `[x·b_0 … x·b_{nb−1}, y·b_0 … y·b_{nb−1}]`; with 'ij' the y block comes first. Each angle is
    /// repeated twice (repeat-interleave), `nb = D/4`, `x = (col + offset) / W · refW` and
    /// `y = (row + offset) / H · refH` in Float32 (no rescale without a reference shape).
    public static func visionTable(gridHeight H: Int, gridWidth W: Int, headDim D: Int,
                                   temperature: Float = 10000, gridOffset: Float,
                                   refFeatHeight: Int? = nil, refFeatWidth: Int? = nil,
                                   indexing: String = "xy") -> RopeTable {
        precondition(indexing == "xy" || indexing == "ij", "visionTable: indexing must be 'xy' or 'ij'")
        precondition(D % 4 == 0, "vision RoPE needs a head dim divisible by 4, got \(D)")
        let nb = D / 4
        let bands = visionBands(count: nb, temperature: temperature)
        var sinT = [Float](repeating: 0, count: H * W * D)
        var cosT = [Float](repeating: 0, count: H * W * D)
        for row in 0 ..< H {
            for col in 0 ..< W {
                var x = Float(col) + gridOffset
                var y = Float(row) + gridOffset
                if let refW = refFeatWidth, let refH = refFeatHeight {
                    x = x / Float(W) * Float(refW)
                    y = y / Float(H) * Float(refH)
                }
                let base = (row * W + col) * D
                let (first, second) = indexing == "xy" ? (x, y) : (y, x)
                for j in 0 ..< 2 * nb {
                    let angle = (j < nb ? first : second) * bands[j % nb]
                    let s = libmSinf(angle), c = libmCosf(angle)
                    sinT[base + 2 * j] = s; sinT[base + 2 * j + 1] = s
                    cosT[base + 2 * j] = c; cosT[base + 2 * j + 1] = c
                }
            }
        }
        return RopeTable(positions: H * W, headDim: D, sin: sinT, cos: cosT)
    }

    /// Hugging Face `_compute_default_rope_parameters`: `1 / theta^(2i / D)` for i < D/2, Float32.
    public static func defaultInvFreq(headDim D: Int, theta: Float) -> [Float] {
        (0 ..< D / 2).map { i in 1 / libmPowf(theta, Float(2 * i) / Float(D)) }
    }

    /// Hugging Face `_compute_llama3_parameters` (transformers 4.56.2), Float32, same operation
    /// order (note `a / tensor` is computed by torch as `reciprocal(tensor) · a`).
    public static func llama3InvFreq(headDim D: Int, theta: Float, factor: Float, lowFreqFactor: Float,
                                     highFreqFactor: Float, originalMaxPositions: Int) -> [Float] {
        let inv = defaultInvFreq(headDim: D, theta: theta)
        let oldContext = Float(originalMaxPositions)
        // Python computes these thresholds in double; torch compares them in Float32.
        let lowFreqWavelen = Float(Double(originalMaxPositions) / Double(lowFreqFactor))
        let highFreqWavelen = Float(Double(originalMaxPositions) / Double(highFreqFactor))
        let twoPi = Float(2 * Double.pi)
        return inv.map { f in
            let wavelen = (1 / f) * twoPi
            var scaled = wavelen > lowFreqWavelen ? f / factor : f
            let smooth = ((1 / wavelen) * oldContext - lowFreqFactor) / (highFreqFactor - lowFreqFactor)
            let smoothed = (1 - smooth) * scaled / factor + smooth * scaled
            let isMedium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen)
            if isMedium { scaled = smoothed }
            return scaled
        }
    }

    /// Half-split table for the given positions: angles `cat(freqs, freqs)` with
    /// `freqs[i] = Float(position) · invFreq[i]`, times `attentionScaling` (1 for llama3).
    public static func halfSplitTable(invFreq: [Float], positions: [Int], attentionScaling: Float = 1) -> RopeTable {
        let half = invFreq.count, D = 2 * half
        var sinT = [Float](repeating: 0, count: positions.count * D)
        var cosT = [Float](repeating: 0, count: positions.count * D)
        for (p, pos) in positions.enumerated() {
            for i in 0 ..< half {
                let angle = Float(pos) * invFreq[i]
                let s = libmSinf(angle) * attentionScaling, c = libmCosf(angle) * attentionScaling
                sinT[p * D + i] = s; sinT[p * D + half + i] = s
                cosT[p * D + i] = c; cosT[p * D + half + i] = c
            }
        }
        return RopeTable(positions: positions.count, headDim: D, sin: sinT, cos: cosT)
    }
}

extension Kernels {
    /// Interleaved-pair RoPE in place (timm `apply_rot_embed_cat`), skipping `prefix` rows:
    /// for token rows `t` in `prefix ..< T`, every head `h` of the row (at `x + t·rowStride + h·D`)
    /// is rotated with table row `t − prefix`:
    /// `out[2j] = v[2j]·cos[2j] − v[2j+1]·sin[2j]`, `out[2j+1] = v[2j+1]·cos[2j+1] + v[2j]·sin[2j+1]`.
    /// Shapes: `x` holds `T` rows of at least `H·D` floats (e.g. the q or k third of a fused qkv
    /// row, `rowStride = 3·H·D`); the table holds `T − prefix` positions.
    public static func ropeInterleaved(_ x: UnsafeMutablePointer<Float>, rowStride: Int, rows T: Int, prefix: Int,
                                       heads H: Int, table: RopeTable) {
        let D = table.headDim
        precondition(T - prefix <= table.positions && prefix >= 0 && prefix <= T, "ropeInterleaved: table too short")
        precondition(D % 2 == 0 && rowStride >= H * D, "ropeInterleaved: bad layout")
        table.sin.withUnsafeBufferPointer { sinB in
            table.cos.withUnsafeBufferPointer { cosB in
                let sp = sinB.baseAddress!, cp = cosB.baseAddress!
                parallelFor(T - prefix, grain: rowGrain(rowLength: H * D)) { r in
                    for p in r {
                        let s = sp + p * D, c = cp + p * D
                        for h in 0 ..< H {
                            let v = x + (p + prefix) * rowStride + h * D
                            var j = 0
                            while j < D {
                                let a = v[j], b = v[j + 1]
                                v[j] = a * c[j] + (-b) * s[j]
                                v[j + 1] = b * c[j + 1] + a * s[j + 1]
                                j += 2
                            }
                        }
                    }
                }
            }
        }
    }

    /// Half-split RoPE in place (Hugging Face `apply_rotary_pos_emb` / `rotate_half`): for rows
    /// `t < T` and heads `h < H` (at `x + t·rowStride + h·D`), with table row `t`:
    /// `out[i] = v[i]·cos[i] − v[i+D/2]·sin[i]`, `out[i+D/2] = v[i+D/2]·cos[i+D/2] + v[i]·sin[i+D/2]`.
    /// Row `t` uses table row `firstPosition + t` (a decoder's new rows after a KV cache).
    public static func ropeHalfSplit(_ x: UnsafeMutablePointer<Float>, rowStride: Int, rows T: Int,
                                     heads H: Int, table: RopeTable, firstPosition p0: Int = 0) {
        let D = table.headDim, half = D / 2
        precondition(p0 >= 0 && p0 + T <= table.positions, "ropeHalfSplit: table has \(table.positions) < \(p0 + T) positions")
        precondition(D % 2 == 0 && rowStride >= H * D, "ropeHalfSplit: bad layout")
        table.sin.withUnsafeBufferPointer { sinB in
            table.cos.withUnsafeBufferPointer { cosB in
                let sp = sinB.baseAddress! + p0 * D, cp = cosB.baseAddress! + p0 * D
                parallelFor(T, grain: rowGrain(rowLength: H * D)) { r in
                    for t in r {
                        let s = sp + t * D, c = cp + t * D
                        for h in 0 ..< H {
                            let v = x + t * rowStride + h * D
                            for i in 0 ..< half {
                                let a = v[i], b = v[i + half]
                                v[i] = a * c[i] + (-b) * s[i]
                                v[i + half] = b * c[i + half] + a * s[i + half]
                            }
                        }
                    }
                }
            }
        }
    }
}
