// Direct access to the decoder for benchmarks, tests and tools that run the language model on
// their own embeddings (the request API in GARSession builds the embeddings itself).
import Tensors

extension GARModel {
    /// Token embeddings `[ids.count, D]` (row-major) from the embedding table.
    public func embed(_ ids: [Int]) -> [Float] {
        let D = textWidth, V = spec.text.vocabSize
        precondition(ids.allSatisfy { $0 >= 0 && $0 < V }, "GARModel.embed: id outside the vocabulary")
        var out = [Float](repeating: 0, count: ids.count * D)
        out.withUnsafeMutableBufferPointer { decoder.embed(ids, into: $0.baseAddress!) }
        return out
    }

    /// A fresh KV cache and scratch for up to `capacity` positions.
    public func makeDecoderState(capacity: Int, chunkRows: Int = DecoderState.defaultChunkRows) -> DecoderState {
        DecoderState(decoder: decoder, capacity: capacity, chunkRows: chunkRows)
    }

    /// Runs `rows` embeddings `[rows, D]` at the next positions of `state` and returns the logits
    /// of the last row `[V]`.
    public func forward(_ embeddings: [Float], rows: Int, state: DecoderState, tap: (any ActivationTap)? = nil) -> [Float] {
        precondition(embeddings.count == rows * textWidth, "GARModel.forward: \(embeddings.count) floats for \(rows) rows")
        embeddings.withUnsafeBufferPointer { decoder.forward($0.baseAddress!, rows: rows, state: state, tap: tap) }
        return Array(UnsafeBufferPointer(start: state.logits.pointer, count: spec.text.vocabSize))
    }

    /// Index of the largest logit (first on ties), as greedy decoding picks it.
    public static func argmax(_ logits: [Float]) -> Int {
        logits.withUnsafeBufferPointer { Sampler.argmax($0) }
    }
}
