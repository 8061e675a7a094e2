import ArgumentParser
import Foundation
import Pipeline

/// `gar batch DIR_OR_LIST --pipeline SPEC --out RESULTS.jsonl [--shard i/N] [--resume]` and
/// `gar batch merge --out ALL.jsonl PART.jsonl...` (Pipeline.BatchJob, JSONLLedger).
struct Batch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Run a pipeline over a folder (or list) of videos into JSONL; resumable and shardable.",
        subcommands: [BatchRun.self, BatchMerge.self],
        defaultSubcommand: BatchRun.self)
}

struct BatchRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a pipeline over a folder (or list) of videos (the default `gar batch` action).",
        discussion: """
        Items: every video file and frame folder in DIR, with side files naming its regions \
        (STEM.regions: one --region string per line, or STEM.annotation.json) and optionally its \
        questions (STEM.questions); or a list (.jsonl: {"video", "regions", "annotation", \
        "questions", "id"} per line; other text: one video path per line). One JSON line per item \
        ("status": "ok" with "result", or "error" with "error"); a bad video never stops the batch. \
        Lines are appended and fsync'ed one by one: --resume skips finished items and retries failed \
        ones. --shard i/N takes items i, i+N, … (in id order); --shard auto reads Slurm \
        (SLURM_ARRAY_TASK_ID/COUNT) or Kubernetes (JOB_COMPLETION_INDEX + GAR_SHARDS). Merge shard \
        files with `gar batch merge`. Examples: pipelines/batch/.
        """)

    @Argument(help: ArgumentHelp("Folder of videos, or a list file.", valueName: "dir-or-list"))
    var items: String

    @Option(help: ArgumentHelp("Pipeline spec (YAML).", valueName: "yaml"))
    var pipeline: String

    @Option(help: ArgumentHelp("Results file (JSONL).", valueName: "results.jsonl"))
    var out: String

    @Option(parsing: .unconditional, help: ArgumentHelp("This process's part: i/N (0 <= i < N) or auto.", valueName: "i/N"))
    var shard: String?

    @Flag(help: "Continue an existing results file: skip finished items, retry failed ones.")
    var resume = false

    @Option(help: ArgumentHelp("Model directory (default: the spec's `model`).", valueName: "dir"))
    var model: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a spec key (repeatable).", valueName: "key=value"))
    var settings: [String] = []

    @Option(help: "Threads for the model (default: all CPUs).")
    var threads: Int?

    @Flag(help: "No progress lines on stderr.")
    var quiet = false

    @OptionGroup var precision: PrecisionOption

    @OptionGroup var trackerOptions: TrackerOptions

    func validate() throws {
        try checkThreads(threads)
    }

    func run() async throws {
        // Items and their side files are read from the videos folder: the results go elsewhere.
        let itemsFile = AtomicOutput.isDirectory(items) ? [] : [items]
        if itemsFile.isEmpty {
            let folder = AtomicOutput.canonicalPath(items), results = AtomicOutput.canonicalPath(out)
            if results == folder || results.hasPrefix(folder + "/") {
                throw ValidationError("--out \(out): is \(results == folder ? "the" : "inside the") input folder \(items), "
                    + "where gar reads the videos and their side files; write the results elsewhere")
            }
        }
        try parsingOptions { try AtomicOutput.refuseInputs(itemsFile + [pipeline] + [model, trackerOptions.sam2].compactMap { $0 }, asFile: out, option: "--out") }
        var o = BatchOptions(items: items, spec: try PipelineSpec.load(path: pipeline, overrides: settings), out: out)
        o.overrides = settings
        o.shard = try parsingOptions { try shard.map { try Shard.parse($0) } }
        o.resume = resume
        o.modelDirectory = model
        o.threads = threads
        o.precision = try precision.resolve(spec: o.spec.precision)
        o.tracker = try trackerOptions.resolve(spec: o.spec.tracker)
        o.quiet = quiet
        let summary = try BatchJob.run(o)
        print(try JSONOutput.string(summary))
    }
}

struct BatchMerge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge results files (e.g. one per shard) into one, one line per item.",
        discussion: "Per id the last \"ok\" line wins, else the last line; sorted by id; written atomically.")

    @Option(help: ArgumentHelp("Merged results file.", valueName: "all.jsonl"))
    var out: String

    @Argument(help: ArgumentHelp("Results files to merge.", valueName: "part.jsonl"))
    var parts: [String]

    func validate() throws {
        if parts.isEmpty { throw ValidationError("give at least one results file to merge") }
    }

    func run() async throws {
        try parsingOptions { try AtomicOutput.refuseInputs(parts, asFile: out, option: "--out") }
        let (ok, failed) = try JSONLLedger.merge(parts, into: out)
        print(try JSONOutput.string(BatchMergeSummary(ok: ok, failed: failed, out: out)))
    }
}

/// What `gar batch merge` prints (README "JSON outputs").
struct BatchMergeSummary: Encodable {
    var ok: Int
    var failed: Int
    var out: String
    var schemaVersion = 1
}
