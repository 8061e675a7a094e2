// Next-token choice: greedy argmax (what every GAR demo and eval script does: do_sample=False), or
// seeded temperature + top-p sampling (Hugging Face TemperatureLogitsWarper then TopPLogitsWarper
// semantics; the random stream is our own, so sampled tokens are reproducible for a seed but are
// not the ones PyTorch's generator would draw).
import Basics

/// How tokens are generated.
public struct GenerationOptions: Sendable, Equatable {
    /// At most this many new tokens (the reference eval uses 1024).
    public var maxNewTokens: Int = 1024
    /// 0 = greedy (argmax, first index on ties). > 0 = sample from softmax(logits / temperature).
    public var temperature: Float = 0
    /// Nucleus sampling: keep the most probable tokens whose cumulative probability reaches `topP`
    /// (at least one). 1 keeps all. Only used when sampling.
    public var topP: Float = 1
    /// Seed of the sampling random stream.
    public var seed: UInt64 = 0
    /// Ids that end generation (the id itself is kept in the output). nil = the model's default:
    /// the tokenizer's eos, as the reference eval passes it.
    public var stopTokenIDs: Set<Int>?

    public init(maxNewTokens: Int = 1024, temperature: Float = 0, topP: Float = 1, seed: UInt64 = 0, stopTokenIDs: Set<Int>? = nil) {
        self.maxNewTokens = maxNewTokens
        self.temperature = temperature
        self.topP = topP
        self.seed = seed
        self.stopTokenIDs = stopTokenIDs
    }

    public static let greedy = GenerationOptions()

    /// Throws for values that make no sense (negative temperature, top-p outside (0, 1]).
    public func validate() throws {
        guard maxNewTokens >= 1 else { throw ModelError.invalidInput("max new tokens must be at least 1, got \(maxNewTokens)") }
        guard temperature >= 0, temperature.isFinite else { throw ModelError.invalidInput("temperature must be ≥ 0, got \(temperature)") }
        guard topP > 0, topP <= 1 else { throw ModelError.invalidInput("top-p must be in (0, 1], got \(topP)") }
    }
}

/// Picks tokens from logits. Holds its scratch (allocated once per request, not per token).
struct Sampler {
    let options: GenerationOptions
    private var rng: SplitMix64
    private var probabilities: [Double]
    private var order: [Int32]

    init(options: GenerationOptions, vocabulary V: Int) {
        self.options = options
        rng = SplitMix64(seed: options.seed)
        let sampling = options.temperature > 0
        probabilities = sampling ? [Double](repeating: 0, count: V) : []
        order = sampling ? [Int32](repeating: 0, count: V) : []
    }

    /// Index of the largest logit (first on ties; NaN never wins) — torch.argmax.
    static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        var bestValue = -Float.infinity
        for i in 0 ..< logits.count where logits[i] > bestValue {
            bestValue = logits[i]
            best = i
        }
        return best
    }

    mutating func next(_ logits: UnsafeBufferPointer<Float>) -> Int {
        guard options.temperature > 0 else { return Sampler.argmax(logits) }
        let V = logits.count
        let t = Double(options.temperature)
        var maxLogit = -Double.infinity
        for i in 0 ..< V where logits[i].isFinite { maxLogit = max(maxLogit, Double(logits[i]) / t) }
        guard maxLogit.isFinite else { return Sampler.argmax(logits) }
        var total = 0.0
        for i in 0 ..< V {
            let p = logits[i].isFinite ? libmExpDouble(Double(logits[i]) / t - maxLogit) : 0
            probabilities[i] = p
            total += p
        }
        var count = V
        if options.topP < 1 {
            // Most probable first (ties: lower id first), keep the shortest prefix reaching top-p.
            for i in 0 ..< V { order[i] = Int32(i) }
            let probs = probabilities
            order.sort { probs[Int($0)] > probs[Int($1)] || (probs[Int($0)] == probs[Int($1)] && $0 < $1) }
            var cumulative = 0.0
            count = 0
            let target = Double(options.topP) * total
            while count < V {
                cumulative += probabilities[Int(order[count])]
                count += 1
                if cumulative >= target { break }
            }
            var kept = 0.0
            for j in 0 ..< count { kept += probabilities[Int(order[j])] }
            total = kept
        }
        let u = rng.nextUnit() * total
        var acc = 0.0
        if options.topP < 1 {
            for j in 0 ..< count {
                acc += probabilities[Int(order[j])]
                if u < acc { return Int(order[j]) }
            }
            return Int(order[count - 1])
        }
        var last = 0
        for i in 0 ..< V where probabilities[i] > 0 {
            acc += probabilities[i]
            last = i
            if u < acc { return i }
        }
        return last
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@inline(__always) func libmExpDouble(_ x: Double) -> Double { exp(x) }
