// `gar bench ops` times the decoder layer the model runs: DecoderLayerBench's one-layer output is
// exactly what LlamaDecoder.forward computes for that layer (the `llm.layer0.out` tap), for a
// prefill and for a one-row decode step over a cache, in both precisions. Not a timing test.
import Checkpoints
import Tensors
import Testing
@testable import Models

@Suite struct DecoderLayerBenchTests {
    /// GAR-1B's layer kinds (GQA, llama3 RoPE) at a tiny width.
    static var tinySpec: TextModelSpec {
        var s = TextModelSpec.gar1B
        s.hiddenSize = 64; s.numHeads = 4; s.numKVHeads = 2; s.headDim = 16; s.intermediateSize = 96
        return s
    }

    /// The layer output `forward` records for `bench`'s input rows at `bench.past`, on `state`.
    static func forwardLayerOutput(_ bench: DecoderLayerBench, state: DecoderState) throws -> [Float] {
        let recorder = ActivationRecorder { $0 == "llm.layer0.out" }
        state.length = bench.past
        bench.input.withUnsafeBufferPointer { bench.decoder.forward($0.baseAddress!, rows: bench.rows, state: state, tap: recorder) }
        return try #require(recorder.tensors["llm.layer0.out"]).values
    }

    @Test(arguments: Precision.allCases)
    func prefillIsTheModelsLayer(precision: Precision) throws {
        let bench = DecoderLayerBench(spec: Self.tinySpec, precision: precision, rows: 5, past: 0)
        bench.run()
        let out = bench.output
        #expect(out.count == 5 * 64 && out != bench.input)
        let fresh = DecoderState(decoder: bench.decoder, capacity: 5)
        #expect(try Self.forwardLayerOutput(bench, state: fresh) == out)
        bench.run()
        #expect(bench.output == out, "runs repeat")
    }

    @Test(arguments: Precision.allCases)
    func decodeStepIsTheModelsLayer(precision: Precision) throws {
        let bench = DecoderLayerBench(spec: Self.tinySpec, precision: precision, rows: 1, past: 6)
        bench.run()
        let out = bench.output
        #expect(try Self.forwardLayerOutput(bench, state: bench.state) == out)
    }

    /// The precision asked for is the one the layer runs in: bf16 differs from f32, a little. (A
    /// prefill block: below `LinearLayer.gemvRowLimit` rows both precisions run the same exact
    /// bf16 GEMV on the bf16-stored weights.)
    @Test func precisionIsApplied() {
        let rows = LinearLayer.gemvRowLimit + 4
        let f32 = DecoderLayerBench(spec: Self.tinySpec, precision: .f32, rows: rows, past: 0)
        let bf16 = DecoderLayerBench(spec: Self.tinySpec, precision: .bf16, rows: rows, past: 0)
        f32.run(); bf16.run()
        let a = f32.output, b = bf16.output
        #expect(a != b)
        let scale = a.map(abs).max()!
        #expect(zip(a, b).map { abs($0 - $1) }.max()! <= 0.05 * scale)
    }
}
