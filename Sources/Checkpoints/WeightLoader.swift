// Strict, scoped weight loading (candle's `VarBuilder.pp`, mlx's verify options):
//
//     let loader = WeightLoader(checkpoint)
//     let llm = loader.scope("mllm.model.language_model")
//     for i in 0 ..< layers {
//         let layer = llm.scope("layers.\(i)")
//         let q = try layer.take("self_attn.q_proj.weight", shape: [hidden, hidden])
//         …
//     }
//     let head = try loader.scope("mllm").takeOptional("lm_head.weight", shape: [vocab, hidden])
//         ?? embedTokens                           // tied weights: absent key → use the embeddings
//     try loader.finish()                         // throws one error listing every problem
//
// `take` never throws for a missing or mis-shaped key: it records the problem and returns a
// zero placeholder of the expected shape, so one run reports everything. `finish()` then fails
// with the complete list (missing, wrong shape, unused). To bound memory when a checkpoint is
// entirely wrong, placeholders share storage per size and, beyond `placeholderBudget` elements,
// `take` throws the report gathered so far.
import Synchronization
import Tensors

public final class WeightLoader: Sendable {
    public let checkpoint: Checkpoint
    /// Most placeholder elements allocated before loading stops early (256 MB of Float32).
    public let placeholderBudget: Int

    private struct State {
        var consumed = Set<String>()
        var report: LoadReport
        var placeholders: [Int: [Float]] = [:]
        var placeholderElements = 0
    }
    private let state: Mutex<State>

    /// Drop the mapped pages of each tensor after converting it (keeps peak RSS ≈ Float32 size).
    public let releasePagesAfterLoad: Bool

    public init(_ checkpoint: Checkpoint, placeholderBudget: Int = 64 << 20, releasePagesAfterLoad: Bool = true) {
        self.checkpoint = checkpoint
        self.placeholderBudget = placeholderBudget
        self.releasePagesAfterLoad = releasePagesAfterLoad
        self.state = Mutex(State(report: LoadReport(source: checkpoint.source)))
    }

    /// A view of the keys under `prefix` ("" for the root).
    public func scope(_ prefix: String) -> WeightScope { WeightScope(loader: self, prefix: prefix) }

    /// The problems found so far plus every checkpoint key nobody took or ignored.
    public var report: LoadReport {
        state.withLock { s in
            var r = s.report
            r.unused = checkpoint.names.filter { !s.consumed.contains($0) }
            return r
        }
    }

    /// Throws `CheckpointError.load` unless every requested key was present with the right
    /// shape and every checkpoint key was consumed.
    public func finish() throws {
        let r = report
        if !r.isClean { throw CheckpointError.load(r) }
    }

    // MARK: internals used by WeightScope

    func markConsumed(_ key: String) { _ = state.withLock { $0.consumed.insert(key) } }

    func placeholder(_ key: String, shape: [Int], problem: (inout LoadReport) -> Void) throws -> Tensor {
        let n = Tensor.count(of: shape)
        let storage: [Float]? = state.withLock { s in
            problem(&s.report)
            if let existing = s.placeholders[n] { return existing }
            guard s.placeholderElements + n <= placeholderBudget else { return nil }
            let zeros = [Float](repeating: 0, count: n)
            s.placeholders[n] = zeros
            s.placeholderElements += n
            return zeros
        }
        guard let storage else {
            var r = report
            r.stoppedEarly = true
            throw CheckpointError.load(r)
        }
        return Tensor(shape: shape, storage)
    }
}

/// A prefix-scoped view of a `WeightLoader`. Cheap to copy.
public struct WeightScope: Sendable {
    public let loader: WeightLoader
    /// Dotted prefix, "" at the root.
    public let prefix: String

    /// A nested scope: `scope("layers.3")` under `model` is `model.layers.3`.
    public func scope(_ name: String) -> WeightScope {
        WeightScope(loader: loader, prefix: key(name))
    }

    /// The full checkpoint key of `name` in this scope.
    public func key(_ name: String) -> String {
        if prefix.isEmpty { return name }
        if name.isEmpty { return prefix }
        return prefix + "." + name
    }

    public func contains(_ name: String) -> Bool { loader.checkpoint.contains(key(name)) }

    /// Loads `name` as Float32 with exactly `shape`. A missing key, a different shape or an
    /// unreadable dtype is recorded (see `WeightLoader.finish()`) and a zero placeholder of
    /// `shape` is returned.
    public func take(_ name: String, shape: [Int]) throws -> Tensor {
        let k = key(name)
        guard let info = loader.checkpoint.info(k) else {
            return try loader.placeholder(k, shape: shape) { $0.missing.append(k) }
        }
        loader.markConsumed(k)
        return try load(k, info: info, shape: shape)
    }

    /// Like `take`, but an absent key is not a problem: returns nil (tied weights, optional
    /// biases). A present key with the wrong shape is still reported.
    public func takeOptional(_ name: String, shape: [Int]) throws -> Tensor? {
        let k = key(name)
        guard let info = loader.checkpoint.info(k) else { return nil }
        loader.markConsumed(k)
        return try load(k, info: info, shape: shape)
    }

    /// Marks a key as deliberately unused (e.g. a buffer the model recomputes). Absent keys are fine.
    public func ignore(_ name: String) {
        let k = key(name)
        if loader.checkpoint.contains(k) { loader.markConsumed(k) }
    }

    /// The raw stored bytes of `name` (no conversion), recorded as consumed; nil (and recorded
    /// as a problem) when missing or mis-shaped.
    public func takeRaw(_ name: String, shape: [Int]) -> RawTensorView? {
        let k = key(name)
        guard let info = loader.checkpoint.info(k) else {
            _ = try? loader.placeholder(k, shape: [0]) { $0.missing.append(k) }
            return nil
        }
        loader.markConsumed(k)
        guard info.shape == shape else {
            _ = try? loader.placeholder(k, shape: [0]) { $0.mismatched.append(.init(name: k, expected: shape, found: info.shape)) }
            return nil
        }
        return try? loader.checkpoint.view(k)
    }

    private func load(_ k: String, info: TensorInfo, shape: [Int]) throws -> Tensor {
        guard info.shape == shape else {
            return try loader.placeholder(k, shape: shape) { $0.mismatched.append(.init(name: k, expected: shape, found: info.shape)) }
        }
        guard info.dtype.convertsToFloat else {
            return try loader.placeholder(k, shape: shape) { $0.unreadable.append("\(k) (\(info.dtype.rawValue))") }
        }
        let view = try loader.checkpoint.view(k)
        let t = try view.tensor()
        if loader.releasePagesAfterLoad, let file = loader.checkpoint.file(of: k) {
            let start = file.dataOffset + info.dataRange.lowerBound
            file.file.release(start ..< start + info.dataRange.count)
        }
        return t
    }
}
