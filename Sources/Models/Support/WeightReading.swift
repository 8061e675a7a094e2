// Reading weights through the strict scoped loader of Checkpoints, in the two forms the models use:
// f32 arrays (converted once, pages of the mapping dropped afterwards) and matrices kept in their
// storage format (bf16 copied as is). Every tensor is named by its entry in the loaders' key tables
// (Checkpoints/GARKeySchema.swift), read from the root scope: no key is spelled here or in a loader. Missing or mis-shaped keys are recorded by the loader and
// reported together by `WeightLoader.finish()`; here they read as zeros.
import Checkpoints
import Foundation
import Tensors

extension WeightScope {
    /// The f32 values of `key` (exactly its shape).
    func floats(_ key: TensorKey) throws -> [Float] {
        try take(key.name, shape: key.shape).storage
    }

    /// One matrix `[Σ rows, cols]` made of the given `[rows_i, cols]` tensors stacked in order
    /// (q | k | v fused at load, STYLE.md §7 rule 3). Kept as bf16 when every part is stored as
    /// bf16, else converted to f32.
    func stackedMatrix(_ keys: [TensorKey]) throws -> MatrixStorage {
        let cols = keys[0].shape[1]
        precondition(keys.allSatisfy { $0.shape.count == 2 && $0.shape[1] == cols }, "stackedMatrix: parts of different widths")
        let parts = keys.map { (name: $0.name, rows: $0.shape[0]) }
        let total = parts.reduce(0) { $0 + $1.rows } * cols
        var views: [RawTensorView?] = []
        for p in parts { views.append(takeRaw(p.name, shape: [p.rows, cols])) }
        let allBF16 = views.allSatisfy { $0?.info.dtype == .bf16 }
        if allBF16 {
            let bits = [UInt16](unsafeUninitializedCapacity: total) { buf, initialized in
                var offset = 0
                for (p, view) in zip(parts, views) {
                    let n = p.rows * cols
                    let dst = UnsafeMutableRawPointer(buf.baseAddress! + offset)
                    if let view { copyParallel(from: view.bytes.baseAddress!, to: dst, bytes: n * 2) }
                    offset += n
                }
                initialized = total
            }
            release(parts.map(\.name), views)
            return .bf16(bits)
        }
        var floats = [Float](repeating: 0, count: total)
        var failure: Error?
        floats.withUnsafeMutableBufferPointer { buf in
            var offset = 0
            for (p, view) in zip(parts, views) {
                let n = p.rows * cols
                if let view {
                    guard view.info.dtype.convertsToFloat else {
                        failure = ModelError.modelFiles(path: loader.checkpoint.source,
                                                        problem: "tensor \(key(p.name)) has dtype \(view.info.dtype.rawValue), expected a float type")
                        return
                    }
                    do { try view.convert(into: UnsafeMutableBufferPointer(rebasing: buf[offset ..< offset + n])) } catch { failure = error; return }
                }
                offset += n
            }
        }
        if let failure { throw failure }
        release(parts.map(\.name), views)
        return .f32(floats)
    }

    /// The f32 layer `y = x·Wᵀ + b` of `weight [out, in…]` (trailing dimensions flattened: a
    /// conv kernel is its im2col GEMM matrix) and `bias [out]`.
    func linear(_ weight: TensorKey, bias: TensorKey?, precision: Precision) throws -> LinearLayer {
        LinearLayer(outFeatures: weight.shape[0], inFeatures: weight.shape.dropFirst().reduce(1, *), weight: .f32(try floats(weight)),
                    bias: try bias.map(floats), precision: precision)
    }

    /// The layer `y = x·Wᵀ + b` of a 2-D `weight [out, in]`; on the f32 path kept in its storage
    /// format: bf16 stays bf16 (half the memory of an f32 copy; widened per call into the caller's
    /// scratch — exact, so results equal an f32 copy's). The fast paths pack from f32 as `linear`
    /// does (oneDNN's blocked bf16 layout, int8).
    func storedLinear(_ weight: TensorKey, bias: TensorKey?, precision: Precision) throws -> LinearLayer {
        guard precision == .f32 else { return try linear(weight, bias: bias, precision: precision) }
        precondition(weight.shape.count == 2, "storedLinear: \(weight.name) is not a matrix")
        return LinearLayer(outFeatures: weight.shape[0], inFeatures: weight.shape[1], weight: try matrix(weight),
                           bias: try bias.map(floats), precision: precision)
    }

    /// A single matrix in its storage format.
    func matrix(_ key: TensorKey) throws -> MatrixStorage {
        try stackedMatrix([key])
    }

    /// Marks the keys the tables declare as ignored (accepted unread when present).
    func ignore(_ keys: [TensorKey]) {
        for key in keys where key.optional { ignore(key.name) }
    }

    /// Drops the mapped pages of tensors already copied (keeps resident memory near the model size).
    private func release(_ names: [String], _ views: [RawTensorView?]) {
        guard loader.releasePagesAfterLoad else { return }
        for (name, view) in zip(names, views) {
            guard let view, let file = loader.checkpoint.file(of: key(name)) else { continue }
            let start = file.dataOffset + view.info.dataRange.lowerBound
            file.file.release(start ..< start + view.info.dataRange.count)
        }
    }
}

/// memcpy split across threads (copying out of a mapped file is bound by page faults).
func copyParallel(from src: UnsafeRawPointer, to dst: UnsafeMutableRawPointer, bytes: Int) {
    let chunk = 1 << 22
    let chunks = (bytes + chunk - 1) / chunk
    parallelFor(chunks) { r in
        for c in r {
            let lo = c * chunk
            (dst + lo).copyMemory(from: src + lo, byteCount: min(chunk, bytes - lo))
        }
    }
}
