// The decoder's keys and values: per layer, rows [capacity, Hkv·hd] (row = position), stored as
// `KVStorage.f32` (the exact path) or `.bf16` (each value rounded to nearest even when written:
// half the memory — GAR-1B at 8k positions: 273 MB instead of 547 MB — and half the bytes every
// decode step reads). Which one a decoder uses is fixed at load (`LlamaDecoder.kvStorage`).
//
// Prefill attention reads f32 rows: with bf16 storage the rows a chunk sees are widened (exactly)
// into one layer's f32 scratch first (`f32Rows`); decode steps read the stored rows directly
// (`Kernels.attentionDecode`).
import CKernels
import Tensors

final class KVCache {
    let storage: KVStorage
    let layers: Int
    let capacity: Int
    /// Values per row (Hkv·hd).
    let width: Int
    private let keys: [UnsafeMutableRawPointer]
    private let values: [UnsafeMutableRawPointer]
    /// bf16 storage: one layer's rows widened to f32 for prefill attention ([capacity, width] keys,
    /// then values); allocated at the first prefill chunk.
    private var widened: FloatBuffer?

    init(storage: KVStorage, layers: Int, capacity: Int, width: Int) {
        self.storage = storage
        self.layers = layers
        self.capacity = capacity
        self.width = width
        let bytes = max(1, capacity * width * storage.bytes)
        keys = (0 ..< layers).map { _ in UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64) }
        values = (0 ..< layers).map { _ in UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64) }
    }

    deinit {
        for p in keys + values { p.deallocate() }
    }

    /// Bytes held (the rows of every layer, and the widening scratch once allocated).
    var bytes: Int { 2 * layers * capacity * width * storage.bytes + (widened?.count ?? 0) * 4 }

    /// The stored rows of `layer` (element type `storage`).
    func rows(layer: Int) -> (keys: UnsafeRawPointer, values: UnsafeRawPointer) {
        (UnsafeRawPointer(keys[layer]), UnsafeRawPointer(values[layer]))
    }

    /// Writes `rows` rows at positions `first …` of `layer`: row t's key from `k + t·stride` and
    /// value from `v + t·stride` (`width` floats each).
    func write(layer: Int, first: Int, rows: Int, k: UnsafePointer<Float>, v: UnsafePointer<Float>, stride: Int) {
        precondition(first >= 0 && first + rows <= capacity, "KVCache: rows \(first)+\(rows) outside \(capacity)")
        for t in 0 ..< rows {
            let at = (first + t) * width
            switch storage {
            case .f32:
                (keys[layer].assumingMemoryBound(to: Float.self) + at).update(from: k + t * stride, count: width)
                (values[layer].assumingMemoryBound(to: Float.self) + at).update(from: v + t * stride, count: width)
            case .bf16:
                gk_f32_to_bf16(k + t * stride, keys[layer].assumingMemoryBound(to: UInt16.self) + at, width)
                gk_f32_to_bf16(v + t * stride, values[layer].assumingMemoryBound(to: UInt16.self) + at, width)
            }
        }
    }

    /// Rows `0 ..< count` of `layer` as f32 `[count, width]` keys and values: the stored rows
    /// themselves (f32), or widened into the scratch (bf16; valid until the next call).
    func f32Rows(layer: Int, count: Int) -> (keys: UnsafePointer<Float>, values: UnsafePointer<Float>) {
        precondition(count <= capacity, "KVCache: \(count) rows of \(capacity)")
        switch storage {
        case .f32:
            return (UnsafePointer(keys[layer].assumingMemoryBound(to: Float.self)),
                    UnsafePointer(values[layer].assumingMemoryBound(to: Float.self)))
        case .bf16:
            if widened == nil { widened = FloatBuffer(count: 2 * capacity * width) }
            let k = widened!.pointer, v = k + capacity * width
            let kb = keys[layer].assumingMemoryBound(to: UInt16.self), vb = values[layer].assumingMemoryBound(to: UInt16.self)
            let chunk = 256 * width
            parallelFor((count * width + chunk - 1) / chunk) { r in
                for c in r {
                    let lo = c * chunk, n = min(chunk, count * width - lo)
                    gk_bf16_to_f32(kb + lo, k + lo, n)
                    gk_bf16_to_f32(vb + lo, v + lo, n)
                }
            }
            return (UnsafePointer(k), UnsafePointer(v))
        }
    }

    /// Copies rows `0 ..< rows` of every layer from `other` (same storage and width).
    func copy(from other: KVCache, rows: Int) {
        precondition(other.storage == storage && other.width == width && other.layers == layers && rows <= min(capacity, other.capacity),
                     "KVCache.copy: shapes")
        let n = rows * width * storage.bytes
        for i in 0 ..< layers {
            keys[i].copyMemory(from: other.keys[i], byteCount: n)
            values[i].copyMemory(from: other.values[i], byteCount: n)
        }
    }
}
