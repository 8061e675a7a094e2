import ArgumentParser
import Checkpoints
import Foundation
import Models
import Pipeline
import Tensors

/// `gar bench ops`: GAR-1B-shaped blocks — the model's own Llama decoder layer (prefill and one
/// decode step, in the chosen precision, random weights in the model's layout), a vision block
/// and attention built from Tensors' kernels — against an sgemm baseline.
struct BenchOps: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ops", abstract: "Benchmark: the model's Llama decoder layer (prefill, decode step), a vision block, attention; GAR-1B shapes")

    @Option(help: "Repetitions per benchmark (mean ± sd reported).")
    var reps = 5

    @Option(help: "Threads (default: all CPUs).")
    var threads = 0

    @Option(help: "Prefill length for the Llama layer.")
    var prefill = 1024

    @Option(help: "Context length for the decode step.")
    var context = 3660

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @OptionGroup var precision: PrecisionOption

    @Option(help: "Instead: time a full strict Float32 load of this GAR checkpoint directory (and report peak RSS).")
    var checkpoint: String?

    func validate() throws {
        if prefill < 1 { throw ValidationError("--prefill must be at least 1, got \(prefill)") }
        if context < 1 { throw ValidationError("--context must be at least 1, got \(context)") }
    }

    func run() async throws {
        let precision = try precision.resolve()
        Threading.set(threads)
        if let checkpoint {
            let r = try LoadBenchmark.run(directory: checkpoint)
            let gb = { (b: Int) in String(format: "%.2f GB", Double(b) / 1e9) }
            print("threads: \(Threading.count)")
            print("| checkpoint | tensors | stored | float32 | seconds | float32 GB/s | RSS before | peak RSS |")
            print("|---|---|---|---|---|---|---|---|")
            print("| \(checkpoint) | \(r.tensors) | \(gb(r.storedBytes)) | \(gb(r.float32Bytes)) | \(String(format: "%.2f", r.seconds)) | "
                + "\(String(format: "%.2f", Double(r.float32Bytes) / 1e9 / r.seconds)) | \(r.startRSSBytes.map(gb) ?? "?") | \(r.peakRSSBytes.map(gb) ?? "?") |")
            return
        }
        let baseline = BlockBenchmarks.gemmBaseline(reps: reps)
        let gemv = BlockBenchmarks.decodeGEMV(precision: precision, reps: max(reps, 20))
        let results = [
            baseline,
            BlockBenchmarks.visionBlock(reps: reps),
            BlockBenchmarks.attention(tokens: 1025, keys: 1025, heads: 16, kvHeads: 16, headDim: 64, causal: false, reps: reps,
                                      name: "vision attention 1025 tokens, 16×64"),
            // The decoder layer the model runs (LlamaDecoder.runLayer), one bench alive at a time.
            DecoderLayerBench(spec: .gar1B, precision: precision, rows: prefill, past: 0)
                .time(reps: reps, name: "llama layer prefill \(prefill) tokens, \(precision.rawValue)"),
            BlockBenchmarks.attention(tokens: prefill, keys: prefill, heads: 32, kvHeads: 8, headDim: 64, causal: true, reps: reps,
                                      name: "llama causal attention \(prefill) tokens, GQA 32/8"),
            DecoderLayerBench(spec: .gar1B, precision: precision, rows: 1, past: context - 1)
                .time(reps: max(reps, 20), name: "llama layer decode step @\(context), \(precision.rawValue)"),
            gemv.result,
            BlockBenchmarks.handOff(),
            BlockBenchmarks.resize(path: .torchvisionV1Float, reps: reps),
            BlockBenchmarks.resize(path: .torchvisionV2UInt8, reps: reps),
        ]
        if json {
            print(try JSONOutput.string(BenchOpsReport(threads: Threading.count, precision: precision.rawValue, results: results), pretty: true))
            return
        }
        print("threads: \(Threading.count), precision: \(precision.rawValue)")
        print("| benchmark | ms (mean ± sd) | GFLOP/s | vs baseline sgemm |")
        print("|---|---|---|---|")
        for r in results {
            if r.flops == 0 {
                print(String(format: "| %@ | %.2f ± %.2f | — | — |", r.name, r.meanMs, r.sdMs))
            } else {
                print(String(format: "| %@ | %.2f ± %.2f | %.1f | %.2f |", r.name, r.meanMs, r.sdMs, r.gflops, r.gflops / baseline.gflops))
            }
        }
        let one = BlockBenchmarks.readBandwidth(threads: 1), all = BlockBenchmarks.readBandwidth(threads: Threading.count)
        let rate = Double(gemv.bytes) / (gemv.result.meanMs * 1e6)
        print(String(format: "machine read bandwidth (streaming sum of 512 MiB): %.1f GB/s on 1 thread, %.1f GB/s on %d threads",
                     one, all, Threading.count))
        print(String(format: "decode GEMV (%@, weights from memory): %.1f GB/s of weights read (%.0f %% of the %d-thread bandwidth)",
                     precision.rawValue, rate, 100 * rate / all, Threading.count))
    }
}

/// What `gar bench ops --json` prints (schema `bench ops` version 2, README "JSON outputs"; version 1
/// was a bare array with camelCase keys). `precision`: the decoder layer rows' compute precision.
struct BenchOpsReport: Encodable {
    var threads: Int
    var precision: String
    var results: [BlockBenchmarks.Result]
    var schemaVersion = 2
}
