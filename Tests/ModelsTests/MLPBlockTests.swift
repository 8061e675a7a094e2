// A prefill chunk on the f32 path runs the MLP in blocks of intermediate features (LlamaDecoder
// `mlpBlock`, 2,048 for GAR-1B: the chunk holds [T, 2·2048] of MLP activations instead of
// [T, 2·8192]). The blocks are row ranges of [Wgate; Wup] and column ranges of Wdown
// (`LinearLayer.applyRows` / `applyColumns`); the result must be the whole MLP's up to the order
// of the down product's sum.
import Basics
import Checkpoints
import Tensors
import Testing
@testable import Models

@Suite struct MLPBlockTests {
    /// I = 96 in blocks of 40: two full blocks and a short one.
    static let block = 40

    static func output(rows: Int, mlpBlock: Int, precision: Precision = .f32) -> (out: [Float], bench: DecoderLayerBench) {
        let bench = DecoderLayerBench(spec: DecoderLayerBenchTests.tinySpec, precision: precision, rows: rows, past: 3, mlpBlock: mlpBlock)
        bench.run()
        return (bench.output, bench)
    }

    @Test func blocksGiveTheWholeMLP() {
        let rows = 2 * LinearLayer.gemvRowLimit + 3
        let (blocked, b) = Self.output(rows: rows, mlpBlock: Self.block)
        let (whole, w) = Self.output(rows: rows, mlpBlock: .max)
        #expect(b.decoder.mlpBlock == Self.block && w.decoder.mlpBlock == 96)
        // The blocked state holds [T, 2·40] of MLP activations, the whole one [T, 2·96].
        #expect(b.state.mlp.count == rows * 2 * Self.block && w.state.mlp.count == rows * 2 * 96)
        let scale = Double(whole.map(abs).max()!)
        let err = Double(zip(blocked, whole).map { abs($0 - $1) }.max()!)
        #expect(err <= 1e-6 * scale, "max |Δ| \(err) of \(scale)")
        #expect(blocked != b.input)
    }

    /// Fewer rows than `gemvRowLimit` (a decode step, a short last chunk) run the MLP whole, in a
    /// state sized for blocks.
    @Test func shortChunksRunWhole() {
        for rows in 1 ..< LinearLayer.gemvRowLimit {
            let (blocked, _) = Self.output(rows: rows, mlpBlock: Self.block)
            let (whole, _) = Self.output(rows: rows, mlpBlock: .max)
            #expect(blocked == whole, "\(rows) rows")
        }
    }

    /// Packed matrices (bf16, int8) run whole products: their decoders do not block.
    @Test(arguments: [Precision.bf16, .int8])
    func packedPrecisionsRunWhole(precision: Precision) {
        let (_, b) = Self.output(rows: LinearLayer.gemvRowLimit + 2, mlpBlock: Self.block, precision: precision)
        #expect(b.decoder.mlpBlock == 96)
    }

    /// `applyColumns` over all column blocks (the first writing, the others accumulating) sums to
    /// `apply`; `applyRows` is `apply`'s rows.
    @Test func rowAndColumnBlocksOfALayer() {
        var rng = SplitMix64(seed: 7)
        let T = 6, C = 50, OC = 30
        let x = (0 ..< T * C).map { _ in Float(rng.nextUnit() * 2 - 1) }
        let wf = (0 ..< OC * C).map { _ in Float(rng.nextUnit() * 2 - 1) }
        let bits = wf.map { UInt16(truncatingIfNeeded: $0.bitPattern >> 16) }
        for storage in [MatrixStorage.f32(wf), .bf16(bits)] {
            let layer = LinearLayer(outFeatures: OC, inFeatures: C, weight: storage, precision: .f32)
            #expect(layer.supportsBlocks)
            var scratch = [Float](repeating: 0, count: 7 * C)   // several chunks of rows
            var whole = [Float](repeating: 0, count: T * OC), rowsOut = whole
            var sum = [Float](repeating: .nan, count: T * OC)   // the first block overwrites, the others add
            scratch.withUnsafeMutableBufferPointer { sb in
                layer.apply(x, rows: T, out: &whole, scratch: sb)
                // Rows 5 ..< 23 into columns 5 ..< 23 of a [T, OC] output.
                rowsOut.withUnsafeMutableBufferPointer { layer.applyRows(5 ..< 23, x, rows: T, out: $0.baseAddress! + 5, outRowStride: OC, scratch: sb) }
                for k0 in stride(from: 0, to: C, by: 16) {
                    let k = k0 ..< min(C, k0 + 16)
                    let xk = (0 ..< T).flatMap { t in x[t * C + k.lowerBound ..< t * C + k.upperBound] }
                    layer.applyColumns(k, xk, rows: T, out: &sum, accumulate: k0 > 0, scratch: sb)
                }
            }
            let scale = whole.map(abs).max()!
            for t in 0 ..< T {
                for o in 0 ..< OC {
                    let (got, want) = (rowsOut[t * OC + o], whole[t * OC + o])
                    if (5 ..< 23).contains(o) { #expect(abs(got - want) <= 1e-6 * scale) } else { #expect(got == 0) }
                }
            }
            #expect(zip(sum, whole).map { abs($0 - $1) }.max()! <= 1e-5 * scale)
        }
    }
}
