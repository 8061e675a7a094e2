// `gar bench faithfulness` (issue 12 point 6): how far the fast precisions are from the exact path
// on one describe request, on any checkpoint (the GAR-1B-shaped one is too big for CI; the
// committed goldens are covered by BF16FaithfulnessTests / Int8FaithfulnessTests).
//
// The request (`gar describe`: one image, one mask, greedy, `maxNewTokens` tokens, the first
// step's logits recorded) runs in f32 first — the reference — then once per listed precision.
// Each run loads its own model and releases it before the next (a full-size model is ~3 GB in
// memory; two are never held). Per precision: the max relative first-step logit error
// (max |Δ logit| / max |f32 logit|), whether the first token is kept, the length of the greedy
// prefix identical to f32's, the ids and text, the seconds. Verdict (README "Precision
// faithfulness"): faithful when the first token is kept and at least ⌈5/8 · N⌉ of the N reference
// tokens are identical (5 of 8: issue 12's rule at full size).
import Foundation
import Models
import Tensors

public struct FaithfulnessOptions: Sendable {
    public var modelDirectory: String
    public var imagePath: String
    public var maskPath: String
    /// The precisions compared with f32 (f32 itself is the reference, not listed).
    public var precisions: [Precision] = [.bf16, .int8]
    public var maxNewTokens = 8
    /// nil = all CPUs.
    public var threads: Int?

    public init(modelDirectory: String, imagePath: String, maskPath: String) {
        self.modelDirectory = modelDirectory
        self.imagePath = imagePath
        self.maskPath = maskPath
    }
}

public struct FaithfulnessResult: Encodable, Sendable {
    /// One precision's run of the request.
    public struct Run: Encodable, Sendable {
        public var precision: String
        public var kernels: String
        public var tokenIds: [Int]
        public var text: String
        public var stoppedOnEos: Bool
        /// Loading the model plus running the request.
        public var seconds: Double
        public var loadSeconds: Double
    }
    /// A fast precision against the f32 reference: its run's keys and the comparison's, in one
    /// JSON object.
    public struct Mode: Encodable, Sendable {
        public var run: Run
        /// max |Δ logit| / max |f32 logit| at the first generated position.
        public var maxRelativeLogitError: Double
        public var firstTokenKept: Bool
        /// Leading greedy ids identical to the reference's (of `compared_tokens`).
        public var identicalPrefix: Int
        public var faithful: Bool

        private enum Keys: String, CodingKey { case maxRelativeLogitError, firstTokenKept, identicalPrefix, faithful }

        public func encode(to encoder: Encoder) throws {
            try run.encode(to: encoder)
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(maxRelativeLogitError, forKey: .maxRelativeLogitError)
            try c.encode(firstTokenKept, forKey: .firstTokenKept)
            try c.encode(identicalPrefix, forKey: .identicalPrefix)
            try c.encode(faithful, forKey: .faithful)
        }
    }

    public var model: String
    public var image: String
    public var mask: String
    public var maxNewTokens: Int
    public var threads: Int
    /// The reference's generated ids (N ≤ max_new_tokens: fewer when it stopped on EOS).
    public var comparedTokens: Int
    /// Identical leading ids needed to be faithful: ⌈5/8 · N⌉.
    public var requiredPrefix: Int
    public var rule: String
    public var reference: Run
    public var modes: [Mode]
    /// README "JSON outputs" (`bench faithfulness`).
    public var schemaVersion = 1

    public func table() -> String {
        let n = comparedTokens
        var lines = ["gar bench faithfulness — model \(model), image \(image), mask \(mask)",
                     "\(maxNewTokens) greedy tokens at most, threads \(threads); reference f32: \(reference.tokenIds) \"\(reference.text)\" "
                         + String(format: "(%.2f s)", reference.seconds),
                     "",
                     "precision  max rel. logit error  first token  identical prefix  seconds  verdict"]
        func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: max(n, s.count + 1), withPad: " ", startingAt: 0) }
        for m in modes {
            lines.append(pad(m.run.precision, 11) + pad(String(format: "%.2e", m.maxRelativeLogitError), 22)
                         + pad(m.firstTokenKept ? "kept" : "changed", 13) + pad("\(m.identicalPrefix)/\(n)", 18)
                         + pad(String(format: "%.2f", m.run.seconds), 9) + (m.faithful ? "faithful" : "not faithful"))
        }
        lines.append("")
        for m in modes { lines.append("\(m.run.precision): \(m.run.tokenIds) \"\(m.run.text)\"") }
        lines.append("rule: \(rule); here \(requiredPrefix) of \(n)")
        return lines.joined(separator: "\n")
    }

    /// Schema `bench faithfulness` version 1 (README "JSON outputs").
    public func json() throws -> String {
        try JSONOutput.string(self, pretty: true)
    }
}

public enum FaithfulnessBenchmark {
    public static let rule = "faithful = the first token kept and at least ⌈5/8 · N⌉ of the N greedy tokens identical to f32's (5 of 8)"

    /// Identical leading tokens needed of `n`: ⌈5n/8⌉.
    public static func requiredPrefix(_ n: Int) -> Int { (5 * n + 7) / 8 }

    /// `--precisions`: a comma-separated list of bf16 / int8, each at most once (f32 is the reference).
    public static func parsePrecisions(_ text: String) throws -> [Precision] {
        let names = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var list: [Precision] = []
        for name in names {
            let p: Precision
            do { p = try Precision.parse(name) } catch { throw PipelineError.invalidInput(what: "--precisions", reason: error.description) }
            if p == .f32 { throw PipelineError.invalidInput(what: "--precisions", reason: "f32 is the reference and always runs first; list only the others") }
            if list.contains(p) { throw PipelineError.invalidInput(what: "--precisions", reason: "\(p.rawValue) is listed twice") }
            list.append(p)
        }
        return list
    }

    public static func run(_ o: FaithfulnessOptions, log: (String) -> Void = printErr) throws -> FaithfulnessResult {
        guard o.maxNewTokens >= 1 else { throw PipelineError.invalidInput(what: "--max-new-tokens", reason: "must be at least 1, got \(o.maxNewTokens)") }
        guard !o.precisions.isEmpty, !o.precisions.contains(.f32) else {
            throw PipelineError.invalidInput(what: "--precisions", reason: "list one or more of bf16, int8 (f32 is the reference)")
        }
        var options = RequestOptions()
        options.generation = GenerationOptions(maxNewTokens: o.maxNewTokens, temperature: 0)

        var base = ImageRegionRequest(modelDirectory: o.modelDirectory, imagePath: o.imagePath, maskPaths: [o.maskPath],
                                      question: nil, options: options, threads: o.threads)
        base.emitLogits = true
        _ = try ImageRegionJob.readInputs(base)   // a bad image or mask fails here, before any progress line

        /// One precision's run; the model is loaded inside and released when it returns.
        func describe(_ precision: Precision) throws -> (run: FaithfulnessResult.Run, logits: [Float]) {
            log("bench: \(precision.rawValue): loading \(o.modelDirectory) and generating \(o.maxNewTokens) tokens…")
            var request = base
            request.precision = precision
            let start = Date()
            let answer = try ImageRegionJob.run(request)
            let seconds = Date().timeIntervalSince(start)
            guard let logits = answer.firstStepLogits else {
                throw PipelineError.invalidInput(what: o.modelDirectory, reason: "the \(precision.rawValue) run recorded no first-step logits")
            }
            log("bench: \(precision.rawValue): \(answer.tokenIds.count) tokens in \(String(format: "%.2f", seconds)) s")
            return (.init(precision: precision.rawValue, kernels: precision.kernelSummary, tokenIds: answer.tokenIds, text: answer.text,
                          stoppedOnEos: answer.stoppedOnEos, seconds: seconds, loadSeconds: answer.timings.load), logits)
        }

        let reference = try describe(.f32)
        let n = reference.run.tokenIds.count
        let required = requiredPrefix(n)
        var modes: [FaithfulnessResult.Mode] = []
        for precision in o.precisions {
            let (run, logits) = try describe(precision)
            guard logits.count == reference.logits.count else {
                throw PipelineError.invalidInput(what: o.modelDirectory, reason: "\(precision.rawValue) gave \(logits.count) logits, f32 \(reference.logits.count)")
            }
            let prefix = zip(run.tokenIds, reference.run.tokenIds).prefix { $0 == $1 }.count
            let kept = run.tokenIds.first != nil && run.tokenIds.first == reference.run.tokenIds.first
            modes.append(.init(run: run, maxRelativeLogitError: ModelBenchmark.maxRelativeDifference(logits, reference.logits),
                               firstTokenKept: kept, identicalPrefix: prefix, faithful: kept && prefix >= required))
        }
        return FaithfulnessResult(model: o.modelDirectory, image: o.imagePath, mask: o.maskPath, maxNewTokens: o.maxNewTokens,
                                  threads: o.threads ?? Threading.count, comparedTokens: n, requiredPrefix: required, rule: rule,
                                  reference: reference.run, modes: modes)
    }
}
