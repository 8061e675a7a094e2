import ArgumentParser
import Foundation
import Models
import Pipeline

/// `gar bench model`: vision ms/tile, prefill and decode tokens/s and peak RSS of the GAR core,
/// next to the PyTorch reference run in the same command (bench/pytorch/bench_gar.py).
struct BenchModel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Benchmark the GAR model core against the PyTorch reference on the same machine.",
        discussion: """
        Runs the PyTorch reference first (when --pytorch is given) in a child process, then gar, with \
        the same thread count and workload: vision on --tiles 448² tiles, prefill of --prefill-len \
        tokens, --decode-steps greedy steps. Prints a table with ratios (or JSON with --json). Use a \
        GAR-1B-shaped checkpoint, e.g. `python Tests/Fixtures/generate/generate.py --size full --out \
        /tmp/gar-1b-random`. --llama-cpp PY (a Python with llama-cpp-python, gguf and numpy) also \
        runs llama.cpp on the checkpoint's decoder written as BF16 and Q8_0 GGUF \
        (bench/llamacpp/bench_llamacpp.py; the files go to --gguf-dir once and are reused): prefill of \
        512, 1024 and --prefill-len token ids, decode after --prefill-len, and its first-step logits \
        against gar's on the same ids.
        """)

    @Option(name: .long, help: "GAR checkpoint directory.")
    var model: String

    @Option(name: .long, help: "Threads for gar and for PyTorch (default: all CPUs).")
    var threads: Int?

    @Option(name: .long, help: "Tiles in the vision batch.")
    var tiles = 2

    @Option(name: .customLong("prefill-len"), help: "Prompt length for the prefill.")
    var prefillLength = 3700

    @Option(name: .customLong("prefill-chunk"), help: "Prompt rows per prefill pass (smaller: less memory).")
    var prefillChunk = DecoderState.defaultChunkRows

    @Option(name: .customLong("decode-steps"), help: "Greedy decode steps after the prefill.")
    var decodeSteps = 16

    @Option(name: [.long, .customLong("python")], help: "Python interpreter with the reference stack (e.g. /work/venv/ref/bin/python), run in gar's precision; omit to skip PyTorch.")
    var pytorch: String?

    @Option(name: .customLong("pytorch-script"), help: "Path of bench_gar.py (default: bench/pytorch/bench_gar.py found near the working directory or the binary).")
    var pytorchScript: String?

    @Option(name: .customLong("llama-cpp"), help: ArgumentHelp("Python interpreter with llama-cpp-python, gguf and numpy; omit to skip llama.cpp.", valueName: "python"))
    var llamaCpp: String?

    @Option(name: .customLong("llama-cpp-script"), help: "Path of bench_llamacpp.py (default: bench/llamacpp/bench_llamacpp.py found near the working directory or the binary).")
    var llamaCppScript: String?

    @Option(name: .customLong("gguf-dir"), help: ArgumentHelp("Where the GGUF files are written once and reused (default: $TMPDIR/gar-gguf).", valueName: "dir"))
    var ggufDirectory: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    @OptionGroup var precision: PrecisionOption

    func validate() throws {
        for (name, value) in [("--tiles", tiles), ("--prefill-len", prefillLength), ("--prefill-chunk", prefillChunk), ("--decode-steps", decodeSteps)]
        where value < 1 {
            throw ValidationError("\(name) must be at least 1, got \(value)")
        }
    }

    func run() async throws {
        var o = ModelBenchmarkOptions(modelDirectory: model, threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
        o.tiles = tiles
        o.prefillLength = prefillLength
        o.decodeSteps = decodeSteps
        o.prefillChunk = prefillChunk
        o.python = pytorch
        o.pytorchScript = pytorchScript
        o.llamaCpp = llamaCpp
        o.llamaCppScript = llamaCppScript
        o.ggufDirectory = ggufDirectory
        o.precision = try precision.resolve()
        let result = try ModelBenchmark.run(o)
        print(json ? try result.json() : result.table())
    }
}
