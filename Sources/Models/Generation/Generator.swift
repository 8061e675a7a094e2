// The generation loop (transformers GenerationMixin greedy/sample as GARModel.generate drives it,
// GAR-SPEC §7.2): prefill the prompt embeddings once with a fresh KV cache, then one token per step
// at positions L, L+1, …; stop after a stop id (kept in the output) or `maxNewTokens` ids.
import Foundation
import Tokenizers

/// One generated token as it is produced.
public struct GeneratedToken: Sendable {
    /// The token id; -1 for the final flush (text held back until generation ended, if any).
    public var id: Int
    /// Text that became final with this token (may be empty while a character or a clean-up
    /// pattern is incomplete).
    public var text: String
    /// Zero-based step.
    public var step: Int
}

/// Receives tokens as they are generated.
public typealias TokenHandler = (GeneratedToken) -> Void

/// What a generation produced.
public struct GenerationOutput: Sendable {
    public var tokenIDs: [Int]
    public var stoppedOnStopToken: Bool
    public var prefillSeconds: Double
    public var decodeSeconds: Double
    /// Leading prompt rows taken from a prefix cache instead of being run (0 without one).
    public var reusedRows = 0
}

enum Generator {
    /// Runs prefill on `embeds [L, D]` and generates.
    /// With a `prefix` cache, the leading rows it already holds are not run again
    /// (`GenerationOutput.reusedRows`).
    static func run(decoder: LlamaDecoder, embeds: [Float], rows L: Int, options: GenerationOptions, stopTokens: Set<Int>,
                    tokenizer: Tokenizer, chunkRows: Int, prefix: PromptPrefixCache? = nil,
                    tap: (any ActivationTap)?, onToken: TokenHandler?,
                    shouldStop: (@Sendable () -> Bool)? = nil) -> GenerationOutput {
        guard let prefix else {
            let state = DecoderState(decoder: decoder, capacity: L + options.maxNewTokens, chunkRows: chunkRows)
            return run(decoder: decoder, embeds: embeds, rows: L, state: state, reused: 0, options: options, stopTokens: stopTokens,
                       tokenizer: tokenizer, tap: tap, onToken: onToken, shouldStop: shouldStop)
        }
        return prefix.withState(decoder: decoder, embeds: embeds, rows: L, capacity: L + options.maxNewTokens, chunkRows: chunkRows) { state, reused in
            run(decoder: decoder, embeds: embeds, rows: L, state: state, reused: reused, options: options, stopTokens: stopTokens,
                tokenizer: tokenizer, tap: tap, onToken: onToken, shouldStop: shouldStop)
        }
    }

    /// Prefills rows `reused ..< L` into `state` (which holds rows `0 ..< reused`) and generates.
    private static func run(decoder: LlamaDecoder, embeds: [Float], rows L: Int, state: DecoderState, reused: Int,
                            options: GenerationOptions, stopTokens: Set<Int>, tokenizer: Tokenizer,
                            tap: (any ActivationTap)?, onToken: TokenHandler?,
                            shouldStop: (@Sendable () -> Bool)?) -> GenerationOutput {
        let D = decoder.spec.hiddenSize, V = decoder.spec.vocabSize
        precondition(state.length == reused && reused < L, "Generator: \(state.length) cached rows, \(reused) reused of \(L)")
        var sampler = Sampler(options: options, vocabulary: V)
        var text = StreamingDecoder(tokenizer: tokenizer)   // garDecode, piece by piece
        let t0 = Date()
        embeds.withUnsafeBufferPointer { decoder.forward($0.baseAddress! + reused * D, rows: L - reused, state: state, tap: tap) }
        let t1 = Date()
        var ids: [Int] = []
        var stopped = false
        let row = FloatBuffer(count: D)
        for step in 0 ..< options.maxNewTokens {
            let logits = UnsafeBufferPointer(start: state.logits.pointer, count: V)
            tap.record("logits.step\(step)", shape: [V], state.logits.pointer, count: V)
            let id = sampler.next(logits)
            ids.append(id)
            if let onToken { onToken(GeneratedToken(id: id, text: text.push(id), step: step)) }
            if stopTokens.contains(id) { stopped = true; break }
            if step + 1 == options.maxNewTokens { break }
            if let shouldStop, shouldStop() { break }
            decoder.embedTokens.copyRow(id, cols: D, into: row.pointer)
            decoder.forward(row.pointer, rows: 1, state: state, tap: tap)
        }
        if let onToken {
            let rest = text.finish()
            if !rest.isEmpty { onToken(GeneratedToken(id: -1, text: rest, step: ids.count)) }
        }
        return GenerationOutput(tokenIDs: ids, stoppedOnStopToken: stopped, prefillSeconds: t1.timeIntervalSince(t0),
                                decodeSeconds: Date().timeIntervalSince(t1), reusedRows: reused)
    }
}
