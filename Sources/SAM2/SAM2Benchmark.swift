// The per-frame stages `gar bench track --sam2` times (Pipeline/Track/SAM2Bench.swift runs them
// and the transformers reference on the same inputs): image encoder (+ neck), prompt → mask
// decoder, and in video mode memory attention over a full memory bank and the memory encoder.
import Basics
import Foundation
import Tensors

/// The inputs of one benchmark run (written to a file for the reference too).
public struct SAM2BenchmarkInputs: Sendable {
    /// `[3, S, S]` pixel values per frame.
    public var frames: [Tensor]
    /// A box prompt in model-input coordinates.
    public var box: SAM2Box
    /// A full memory bank: `[M, 64]` features and positional encodings, the last `pointerTokens`
    /// rows object-pointer tokens; `current` / `currentPE` `[E², C]` level-2 features and their
    /// encoding; `highResMask` `[S, S]` logits for the memory encoder.
    public var memory: Tensor, memoryPE: Tensor, pointerTokens: Int
    public var current: Tensor, currentPE: Tensor, highResMask: Tensor
}

/// Seconds per frame of each stage: wall clock, and the process's CPU time (all threads) — on a
/// shared machine the CPU time shows the work done when the wall clock mostly shows the waiting.
public struct SAM2StageTimes: Sendable {
    public var encoder: [Double] = [], decoder: [Double] = [], memoryAttention: [Double] = [], memoryEncoder: [Double] = []
    public var encoderCPU: [Double] = [], decoderCPU: [Double] = [], memoryAttentionCPU: [Double] = [], memoryEncoderCPU: [Double] = []
}

public enum SAM2Benchmark {
    /// Deterministic inputs: `count` synthetic 720×540 frames (a gradient, a moving bright ellipse)
    /// preprocessed to the model's square; a bank as the video loop holds at its fullest
    /// (`num_maskmem` spatial memories and `max_object_pointers_in_encoder` pointers).
    public static func inputs(model: SAM2Model, video: SAM2VideoComponents?, frames count: Int) throws -> SAM2BenchmarkInputs {
        let W = 720, H = 540, S = model.config.imageSize, E = model.config.embeddingSize
        let C = model.config.visionConfig.fpnHiddenSize
        var frames: [Tensor] = []
        for f in 0 ..< count {
            var pixels = [UInt8](repeating: 0, count: W * H * 3)
            let cx = 300 + 20 * Double(f), cy = 250 + 10 * Double(f)
            for y in 0 ..< H {
                for x in 0 ..< W {
                    let inside = pow((Double(x) - cx) / 140, 2) + pow((Double(y) - cy) / 100, 2) < 1
                    let i = (y * W + x) * 3
                    pixels[i] = inside ? 230 : UInt8(60 + 80 * x / W)
                    pixels[i + 1] = inside ? 200 : UInt8(90 + 60 * y / H)
                    pixels[i + 2] = inside ? 40 : UInt8(120 + 40 * (x + y) / (W + H))
                }
            }
            frames.append(try SAM2Processing.preprocess(ImageU8(width: W, height: H, channels: 3, pixels: pixels), size: S))
        }
        var rng = SplitMix64(seed: 20261206)
        func random(_ n: Int, scale: Float) -> [Float] { (0 ..< n).map { _ in Float(rng.nextUnit() * 2 - 1) * scale } }
        let memories = video?.config.numMaskmem ?? 7
        let pointers = (video?.config.maxObjectPointersInEncoder ?? 16) * (C / 64)
        let M = memories * E * E + pointers
        let memory = Tensor(shape: [M, 64], random(M * 64, scale: 2).map(roundToBFloat16))
        let memoryPE = Tensor(shape: [M, 64], random(M * 64, scale: 1))
        let box = SAM2Box(x0: Float(160) * Float(S) / Float(W), y0: Float(150) * Float(S) / Float(H),
                          x1: Float(440) * Float(S) / Float(W), y1: Float(350) * Float(S) / Float(H))
        return SAM2BenchmarkInputs(frames: frames, box: box, memory: memory, memoryPE: memoryPE, pointerTokens: pointers,
                                   current: Tensor(shape: [E * E, C], random(E * E * C, scale: 2)),
                                   currentPE: sinePositionalEncoding(side: E, channels: C),
                                   highResMask: Tensor(shape: [S, S], random(S * S, scale: 8)))
    }

    /// Times every stage on every frame (wall clock).
    public static func run(model: SAM2Model, video: SAM2VideoComponents?, inputs: SAM2BenchmarkInputs,
                           progress: (String) -> Void = { _ in }) throws -> SAM2StageTimes {
        func cpuSeconds() -> Double {
            var ts = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        }
        func timed<T>(_ wall: inout [Double], _ cpu: inout [Double], _ body: () throws -> T) rethrows -> T {
            let t0 = DispatchTime.now().uptimeNanoseconds, c0 = cpuSeconds()
            let r = try body()
            wall.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            cpu.append(cpuSeconds() - c0)
            return r
        }
        var t = SAM2StageTimes()
        for (i, pixels) in inputs.frames.enumerated() {
            let features = timed(&t.encoder, &t.encoderCPU) { model.encode(pixels) }
            _ = try timed(&t.decoder, &t.decoderCPU) { try model.predict(features, box: inputs.box, multimaskOutput: true) }
            if let video {
                let bank = (memory: inputs.memory, positional: inputs.memoryPE, pointerTokens: inputs.pointerTokens)
                _ = timed(&t.memoryAttention, &t.memoryAttentionCPU) {
                    video.conditionedFeatures(current: inputs.current, currentPE: inputs.currentPE, bank: bank)
                }
                _ = timed(&t.memoryEncoder, &t.memoryEncoderCPU) {
                    video.memoryEncoder(pixelFeatures: inputs.current, highResMasks: inputs.highResMask, objectScoreLogit: 1, maskFromPrompt: false)
                }
            }
            progress("frame \(i + 1)/\(inputs.frames.count)")
        }
        return t
    }
}
