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

    @Flag(help: "Only the attention rows: old vs new kernels at the vision (1,025 tokens, 16×64), Llama prefill (--prefill and 8,192 tokens, causal, GQA 32/8) and SAM 2 memory-attention (4,096 × 28,736 keys, one head of 256) shapes.")
    var attentionOnly = false

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
        if attentionOnly {
            let rows = [baseline] + attentionRows()
            if json {
                print(try JSONOutput.string(BenchOpsReport(threads: Threading.count, precision: precision.rawValue, results: rows), pretty: true))
            } else {
                print("threads: \(Threading.count), bf16 attention: \(Kernels.attentionBF16Kernel)")
                printTable(rows, baseline: baseline)
            }
            return
        }
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
        printTable(results, baseline: baseline)
        let one = BlockBenchmarks.readBandwidth(threads: 1), all = BlockBenchmarks.readBandwidth(threads: Threading.count)
        let rate = Double(gemv.bytes) / (gemv.result.meanMs * 1e6)
        print(String(format: "machine read bandwidth (streaming sum of 512 MiB): %.1f GB/s on 1 thread, %.1f GB/s on %d threads",
                     one, all, Threading.count))
        print(String(format: "decode GEMV (%@, weights from memory): %.1f GB/s of weights read (%.0f %% of the %d-thread bandwidth)",
                     precision.rawValue, rate, 100 * rate / all, Threading.count))
    }
}

extension BenchOps {
    /// Old vs new attention kernels at the three shapes where attention dominates (same run): the
    /// f32 fused kernel (what GAR's vision tower and Llama prefill run in every precision) and the
    /// previous oneDNN bf16 attention (SAM 2's, before) against the fused bf16 kernel.
    func attentionRows() -> [BlockBenchmarks.Result] {
        var rows: [BlockBenchmarks.Result] = []
        for kernel in [BlockBenchmarks.AttentionKernel.f32, .bf16] {
            rows.append(BlockBenchmarks.attention(tokens: 1025, keys: 1025, heads: 16, kvHeads: 16, headDim: 64, causal: false,
                                                  kernel: kernel, reps: reps, name: "vision attention 1025 tokens, 16×64"))
        }
        for tokens in Set([prefill, 8192]).sorted() {
            for kernel in [BlockBenchmarks.AttentionKernel.f32, .bf16] {
                rows.append(BlockBenchmarks.attention(tokens: tokens, keys: tokens, heads: 32, kvHeads: 8, headDim: 64, causal: true,
                                                      kernel: kernel, reps: reps, name: "llama causal attention \(tokens) tokens, GQA 32/8"))
            }
        }
        for kernel in [BlockBenchmarks.AttentionKernel.bf16OneDNN, .bf16] {
            rows.append(BlockBenchmarks.attention(tokens: 4096, keys: 28736, heads: 1, kvHeads: 1, headDim: 256, causal: false,
                                                  kernel: kernel, reps: reps, name: "SAM 2 memory attention 4096 × 28736 keys, 1×256"))
        }
        return rows
    }

    func printTable(_ results: [BlockBenchmarks.Result], baseline: BlockBenchmarks.Result) {
        print("| benchmark | ms (mean ± sd) | GFLOP/s | vs baseline sgemm |")
        print("|---|---|---|---|")
        for r in results {
            if r.flops == 0 {
                print(String(format: "| %@ | %.2f ± %.2f | — | — |", r.name, r.meanMs, r.sdMs))
            } else {
                print(String(format: "| %@ | %.2f ± %.2f | %.1f | %.2f |", r.name, r.meanMs, r.sdMs, r.gflops, r.gflops / baseline.gflops))
            }
        }
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
