// `gar bench ops`'s decoder rows: one layer of the model's own `LlamaDecoder` — `runLayer`, the
// function `forward` runs for a prefill chunk and for a one-row decode step — built from random
// weights in the model's layout (bf16 matrices as GAR checkpoints store them, q | k | v and
// gate | up stacked) and packed for the precision asked for, as `GARModel.load` packs them. No
// checkpoint needed; the shape is a `TextModelSpec` (GAR-1B's by default).
import Basics
import Checkpoints
import Tensors

public final class DecoderLayerBench {
    /// A one-layer decoder of the spec's layer shape (no vocabulary: the head is never run).
    let decoder: LlamaDecoder
    let state: DecoderState
    /// The rows the layer runs on, `[rows, D]`, at positions `past ..< past + rows`.
    let input: [Float]
    public let rows: Int
    public let past: Int

    /// `rows` new rows after `past` cached positions (a prefill: past = 0; a decode step: rows = 1).
    /// The cache of the first `past` positions is filled with random keys and values.
    /// `mlpBlock`: intermediate features per MLP block of a prefill (the model's default unless a
    /// test asks for another).
    public init(spec: TextModelSpec, precision: Precision, rows: Int, past: Int, seed: UInt64 = 1,
                mlpBlock: Int = LlamaDecoder.defaultMLPBlock) {
        precondition(rows >= 1 && past >= 0, "DecoderLayerBench: rows \(rows), past \(past)")
        var layerSpec = spec
        layerSpec.numLayers = 1
        layerSpec.vocabSize = 1
        var rng = SplitMix64(seed: seed)
        func floats(_ n: Int, scale: Float, offset: Float = 0) -> [Float] {
            (0 ..< n).map { _ in offset + Float(rng.nextUnit() * 2 - 1) * scale }
        }
        func bf16(_ rows: Int, _ cols: Int, scale: Float) -> MatrixStorage {
            .bf16(floats(rows * cols, scale: scale).map { UInt16(truncatingIfNeeded: $0.bitPattern >> 16) })
        }
        let D = spec.hiddenSize, I = spec.intermediateSize
        let q = spec.numHeads * spec.headDim, kv = spec.numKVHeads * spec.headDim
        let layer: LlamaDecoder.LayerWeights = (inputNorm: floats(D, scale: 0.1, offset: 1), qkv: bf16(q + 2 * kv, D, scale: 0.02),
                                                o: bf16(D, q, scale: 0.02), postNorm: floats(D, scale: 0.1, offset: 1),
                                                gateUp: bf16(2 * I, D, scale: 0.02), down: bf16(D, I, scale: 0.01))
        decoder = LlamaDecoder(spec: layerSpec, embedTokens: bf16(1, D, scale: 0.02), finalNorm: floats(D, scale: 0.1, offset: 1),
                               untiedHead: nil, precision: precision, mlpBlock: mlpBlock) { _ in layer }
        let state = DecoderState(decoder: decoder, capacity: past + rows, chunkRows: rows)
        let cached = floats(2 * past * kv, scale: 1)
        cached.withUnsafeBufferPointer { c in
            state.cache.write(layer: 0, first: 0, rows: past, k: c.baseAddress!, v: c.baseAddress! + past * kv, stride: kv)
        }
        self.state = state
        input = floats(rows * D, scale: 1)
        self.rows = rows
        self.past = past
    }

    /// Runs the layer once on `input` (the cache's new rows are overwritten each time).
    public func run() {
        state.length = past
        input.withUnsafeBufferPointer { state.x.pointer.update(from: $0.baseAddress!, count: $0.count) }
        decoder.runLayer(0, decoder.layers[0], rows: rows, state: state)
    }

    /// The layer's output rows `[rows, D]` of the last `run()`.
    public var output: [Float] { Array(UnsafeBufferPointer(start: state.x.pointer, count: rows * decoder.spec.hiddenSize)) }

    /// Matrix-multiply FLOPs of one run (attention over the cache included).
    public var flops: Double {
        let s = decoder.spec, D = Double(s.hiddenSize), I = Double(s.intermediateSize)
        let q = Double(s.numHeads * s.headDim), kv = Double(s.numKVHeads * s.headDim), T = Double(rows)
        return 2 * T * (D * (q + 2 * kv) + q * D + 3 * D * I) + 4 * q * T * (Double(past) + (T + 1) / 2)
    }

    /// Times `reps` runs after one warm-up run.
    public func time(reps: Int, name: String) -> BlockBenchmarks.Result {
        BlockBenchmarks.time(name, reps: reps, flops: flops) { run() }
    }
}
