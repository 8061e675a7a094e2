// Where the time of a one-row decode step goes (`gar bench model`'s decode profile, issue 12):
// `LlamaDecoder` adds each stage's wall time and the bytes it reads (weights; the KV cache for
// attention) when the `DecoderState` carries a profile. Off (nil) in every real request.
import Dispatch

public final class DecodeProfile {
    public enum Stage: String, CaseIterable, Sendable {
        case norms = "RMS norms (2 per layer + final)"
        case qkv = "q|k|v GEMV"
        case ropeCache = "RoPE + KV cache write"
        case attention = "attention over the KV cache"
        case o = "o GEMV"
        case residual = "residual adds"
        case gateUp = "gate|up GEMV"
        case siluMul = "silu(gate)·up"
        case down = "down GEMV"
        case head = "lm_head GEMV"
    }

    /// Seconds and bytes read per stage, summed over the steps.
    public private(set) var seconds = [Double](repeating: 0, count: Stage.allCases.count)
    public private(set) var bytes = [Double](repeating: 0, count: Stage.allCases.count)
    /// Steps recorded (one per `LlamaDecoder.forward` of one row).
    public internal(set) var steps = 0

    public init() {}

    public func seconds(_ stage: Stage) -> Double { seconds[Stage.allCases.firstIndex(of: stage)!] }
    public func bytes(_ stage: Stage) -> Double { bytes[Stage.allCases.firstIndex(of: stage)!] }

    /// Runs `body` and adds its time (and `bytes`) to `stage`.
    @inline(__always) func measure(_ stage: Stage, bytes n: Int = 0, _ body: () -> Void) {
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        let i = Stage.allCases.firstIndex(of: stage)!
        seconds[i] += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        bytes[i] += Double(n)
    }
}

extension Optional where Wrapped == DecodeProfile {
    /// `body`, timed into the profile when there is one.
    @inline(__always) func measure(_ stage: DecodeProfile.Stage, bytes n: Int = 0, _ body: () -> Void) {
        guard let p = self else { body(); return }
        p.measure(stage, bytes: n, body)
    }
}
