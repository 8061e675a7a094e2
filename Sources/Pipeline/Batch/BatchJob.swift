// `gar batch DIR_OR_LIST --pipeline SPEC --out RESULTS.jsonl [--shard i/N] [--resume]`: every
// item through the pipeline, one JSON line per item:
//
//     {"id": "clip.mp4", "input": "videos/clip.mp4", "status": "ok", "result": {gar-video-answer-1}}
//     {"id": "bad.mp4", "input": "videos/bad.mp4", "status": "error", "error": "videos/bad.mp4: ..."}
//
// A bad item never stops the batch: its error is its line. The results file is the ledger
// (JSONLLedger): with --resume finished items are skipped and failed ones retried. The model is
// loaded once (at the first item that needs it) and shared; vision features are cached per item.
import Foundation
import Tensors

public struct BatchOptions: Sendable {
    public var items: String
    public var spec: PipelineSpec
    public var out: String
    public var shard: Shard?
    public var resume = false
    /// nil = the spec's model.
    public var modelDirectory: String?
    public var threads: Int?
    /// Compute precision of the model (the CLI resolves flag > spec > GAR_PRECISION > CPU default).
    public var precision: Precision = .f32
    public var quiet = false

    public init(items: String, spec: PipelineSpec, out: String) {
        self.items = items
        self.spec = spec
        self.out = out
    }
}

public struct BatchSummary: Codable, Sendable {
    /// Items found (all shards).
    public var items: Int
    /// Items of this shard.
    public var shardItems: Int
    /// Skipped: already finished in the results file.
    public var skipped: Int
    public var ok: Int
    public var failed: Int
    public var out: String
}

/// One results line.
struct BatchRecord: Codable {
    var id: String
    var input: String
    var status: String
    var error: String?
    var result: VideoAnswer?
}

public enum BatchJob {
    public static func run(_ o: BatchOptions, engine given: VideoRegionEngine? = nil) throws -> BatchSummary {
        let all = try BatchItems.discover(o.items)
        let mine = o.shard?.select(all) ?? all
        let existed = FileManager.default.fileExists(atPath: o.out)
        let ledger = try JSONLLedger(path: o.out, resume: o.resume)
        // The model loads once, before the first item; a model that cannot load stops the batch
        // (no item could succeed), unlike an item's own errors — and leaves no empty results file.
        var engine = given
        if engine == nil && mine.contains(where: { !ledger.finished.contains($0.id) }) {
            do {
                guard let dir = o.modelDirectory ?? o.spec.model else {
                    throw PipelineError.invalidInput(what: "--model", reason: "no model directory given (and the pipeline \(o.spec.source) names none)")
                }
                engine = try VideoRegionEngine(modelDirectory: dir, precision: o.precision)
            } catch {
                if !existed { try? FileManager.default.removeItem(atPath: o.out) }
                throw error
            }
        }
        var summary = BatchSummary(items: all.count, shardItems: mine.count, skipped: 0, ok: 0, failed: 0, out: o.out)
        let progress = Progress("batch\(o.shard.map { " shard \($0)" } ?? "")", total: mine.count, quiet: o.quiet)
        let encoder = VideoAnswer.encoder()
        for item in mine {
            if ledger.finished.contains(item.id) {
                summary.skipped += 1
                progress.advance(note: "\(item.id) (done before)")
                continue
            }
            var record = BatchRecord(id: item.id, input: item.input, status: "ok")
            do {
                record.result = try runItem(item, o, engine: engine!)
            } catch {
                record.status = "error"
                record.error = "\(error)"
            }
            engine?.cache.removeAll()
            try ledger.append(id: item.id, status: record.status, json: try encoder.encode(record))
            if record.status == "ok" { summary.ok += 1 } else { summary.failed += 1 }
            progress.advance(note: "\(item.id) \(record.status)")
        }
        progress.finish(note: "ok \(summary.ok), failed \(summary.failed), skipped \(summary.skipped)")
        return summary
    }

    static func runItem(_ item: BatchItem, _ o: BatchOptions, engine: VideoRegionEngine) throws -> VideoAnswer {
        var r = VideoRegionRequest(input: item.input, spec: o.spec)
        r.modelDirectory = o.modelDirectory
        r.threads = o.threads
        r.quiet = true
        r.annotationPath = item.annotation
        if item.annotation == nil {
            guard FileManager.default.fileExists(atPath: item.input) else { throw PipelineError.io(path: item.input, reason: "no such file") }
            guard !item.regions.isEmpty else {
                throw PipelineError.invalidInput(what: item.input, reason: "no regions: add a side file with its stem and .regions (one --region string per line) or .annotation.json")
            }
            r.regionTexts = item.regions
            r.regions = try item.regions.enumerated().map { try RegionInputs.parseRegion($0.element, index: $0.offset) }
        }
        if let q = item.questions { r.questions = q.map { VideoQuestion($0) } }
        return try VideoRegionJob.run(r, engine: engine)
    }
}
