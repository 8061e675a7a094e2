// `gar batch DIR_OR_LIST --pipeline SPEC --out RESULTS.jsonl [--shard i/N] [--resume]`: every
// item through the pipeline, one JSON line per item:
//
//     {"id": "clip.mp4", "input": "videos/clip.mp4", "status": "ok", "result": {gar-video-answer-1}}
//     {"id": "bad.mp4", "input": "videos/bad.mp4", "status": "error", "error": "videos/bad.mp4: ..."}
//
// A bad item never stops the batch: its error is its line. The results file is the ledger
// (JSONLLedger): with --resume finished items are skipped and failed ones retried. The model is
// loaded once (at the first item that needs it) and shared; vision features are cached per item.
//
// One run per results file (JSONLLedger locks it). Every line also records the pipeline it was
// made with — "spec_hash" (FNV-1a of the effective spec after --set, with the model directory)
// and "spec_overrides" (the --set values) — and --resume refuses, before any work, a results
// file whose finished lines were made with another pipeline: mixing them would be silently wrong.
import Foundation
import Tensors

public struct BatchOptions: Sendable {
    public var items: String
    /// The effective spec (with the overrides applied).
    public var spec: PipelineSpec
    /// The `--set` values applied to `spec` (recorded in each line, shown when --resume refuses).
    public var overrides: [String] = []
    public var out: String
    public var shard: Shard?
    public var resume = false
    /// nil = the spec's model.
    public var modelDirectory: String?
    public var threads: Int?
    /// Compute precision of the model (the CLI resolves flag > spec > GAR_PRECISION > CPU default).
    public var precision: Precision = .f32
    /// The tracker (the CLI resolves --tracker/--sam2 > spec > GAR_SAM2); part of `spec_hash`.
    public var tracker: TrackerChoice = .flow
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
    /// README "JSON outputs" (`batch summary`).
    public var schemaVersion = 1
}

/// One results line.
struct BatchRecord: Codable {
    var id: String
    var input: String
    var status: String
    var error: String?
    var result: VideoAnswer?
    var specHash: String
    var specOverrides: [String]
    /// README "JSON outputs" (`batch result line`; 2: `spec_hash`, `spec_overrides`).
    var schemaVersion = 2
}

public enum BatchJob {
    public static func run(_ o: BatchOptions, engine given: VideoRegionEngine? = nil) throws -> BatchSummary {
        let all = try BatchItems.discover(o.items)
        let mine = o.shard?.select(all) ?? all
        let existed = FileManager.default.fileExists(atPath: o.out)
        let hash = specHash(o)
        var unrecorded = false
        let ledger = try JSONLLedger(path: o.out, resume: o.resume) { r in
            guard r.status == "ok" else { return }   // failed items run again anyway
            guard let recorded = r.object["spec_hash"] as? String else { unrecorded = true; return }
            guard recorded == hash else {
                let before = (r.object["spec_overrides"] as? [String]) ?? []
                throw PipelineError.invalidInput(what: o.out, reason: "--resume with another pipeline: its finished items were made with spec \(recorded) "
                    + "and \(describe(before)), this run has spec \(hash) and \(describe(o.overrides)), tracker \(o.tracker) "
                    + "(resume with the same pipeline file, --set values, --model and tracker, or write to another --out)")
            }
        }
        if unrecorded {
            printErr("warning: \(o.out): lines written by an older gar record no pipeline; --resume cannot check that it is the same")
        }
        // The model (and SAM 2.1 when it tracks) loads once, before the first item; a model that
        // cannot load stops the batch (no item could succeed), unlike an item's own errors — and
        // leaves no empty results file.
        var engine = given
        var sam2: SAM2Tracking? = nil
        if mine.contains(where: { !ledger.finished.contains($0.id) }) {
            do {
                sam2 = try o.tracker.sam2Model.map(SAM2Tracking.load)
                if engine == nil {
                    guard let dir = o.modelDirectory ?? o.spec.model else {
                        throw PipelineError.invalidInput(what: "--model", reason: "no model directory given (and the pipeline \(o.spec.source) names none)")
                    }
                    engine = try VideoRegionEngine(modelDirectory: dir, precision: o.precision)
                }
            } catch {
                if !existed { try? FileManager.default.removeItem(atPath: o.out) }
                throw error
            }
        }
        var summary = BatchSummary(items: all.count, shardItems: mine.count, skipped: 0, ok: 0, failed: 0, out: o.out)
        let progress = Progress("batch\(o.shard.map { " shard \($0)" } ?? "")", total: mine.count, quiet: o.quiet)
        let encoder = JSONOutput.encoder()
        for item in mine {
            if ledger.finished.contains(item.id) {
                summary.skipped += 1
                progress.advance(note: "\(item.id) (done before)")
                continue
            }
            var record = BatchRecord(id: item.id, input: item.input, status: "ok", specHash: hash, specOverrides: o.overrides)
            do {
                record.result = try runItem(item, o, engine: engine!, sam2: sam2)
            } catch {
                record.status = "error"
                record.error = "\(error)"
            }
            engine?.cache.removeAll()
            // Items run quiet (one progress line each); their warnings (damaged data, a prompt the
            // segmenter could not separate) are in the record and, unless --quiet, on stderr.
            if !o.quiet { for w in record.result?.warnings ?? [] { printErr("warning: \(item.id): \(w)") } }
            try ledger.append(id: item.id, status: record.status, json: try encoder.encode(record))
            if record.status == "ok" { summary.ok += 1 } else { summary.failed += 1 }
            progress.advance(note: "\(item.id) \(record.status)")
        }
        progress.finish(note: "ok \(summary.ok), failed \(summary.failed), skipped \(summary.skipped)")
        return summary
    }

    /// The recorded identity of the pipeline: FNV-1a 64 of the effective spec's full text
    /// (every field, as Swift prints it), with the model directory and the tracker (as resolved)
    /// that will really be used.
    static func specHash(_ o: BatchOptions) -> String {
        var s = o.spec
        s.source = ""   // where it was read from does not change the results
        s.model = (o.modelDirectory ?? s.model).map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        // The resolved tracker replaces the spec's settings (a flag or GAR_SAM2 may have chosen it).
        s.tracker.kind = o.tracker.sam2Model == nil ? .flow : .sam2
        s.tracker.sam2Model = o.tracker.sam2Model.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        return VideoRegionJob.fnv1a(Array(String(reflecting: s).utf8))
    }

    static func describe(_ overrides: [String]) -> String {
        overrides.isEmpty ? "no --set" : overrides.map { "--set \($0)" }.joined(separator: " ")
    }

    static func runItem(_ item: BatchItem, _ o: BatchOptions, engine: VideoRegionEngine, sam2: SAM2Tracking? = nil) throws -> VideoAnswer {
        var r = RegionRequest(input: item.input, spec: o.spec)
        r.modelDirectory = o.modelDirectory
        r.threads = o.threads
        r.tracker = o.tracker
        r.quiet = true
        r.annotationPath = item.annotation
        if let problem = item.problem { throw problem }
        if item.annotation == nil {
            guard FileManager.default.fileExists(atPath: item.input) else { throw PipelineError.io(path: item.input, reason: "no such file") }
            guard !item.regions.isEmpty else {
                throw PipelineError.invalidInput(what: item.input, reason: "no regions: give a side file with its stem and .regions (one region string per line) or .annotation.json, or in a list \"regions\" or \"annotation\"")
            }
            // As RegionRequest.setRegions, but each region's error names the item's line and field.
            r.regions = try item.regions.enumerated().map { k, text in
                do { return try RegionInputs.parseRegion(text, index: k) } catch { throw itemError(error, item, region: k) }
            }
            r.regionTexts = item.regions
        }
        if let q = item.questions {
            if let i = q.firstIndex(where: { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }) {
                throw PipelineError.invalidInput(what: "\(item.questionsSource)[\(i)]", reason: "the question is empty")
            }
            r.questions = q.map { VideoQuestion($0) }
        }
        do { return try VideoRegionJob.run(r, engine: engine, sam2: sam2) } catch { throw itemError(error, item) }
    }

    /// An item's error in the item's own terms: the region and question checks are shared with
    /// `gar ask`, whose messages name its flags (`--region '…'`, `--frame 5`, `<Prompt0>`); here
    /// they name the line and field the value came from (`items.jsonl line 3 regions[0]`).
    /// `region`: the error came from parsing region string k.
    static func itemError(_ error: Error, _ item: BatchItem, region: Int? = nil) -> Error {
        guard case let .invalidInput(what, reason) = error as? PipelineError else { return error }
        func source(_ k: Int) -> String { "\(k < item.regionSources.count ? item.regionSources[k] : "region \(k)") '\(item.regions[k])'" }
        if let k = region {   // "--region 'box=1,2': ..." or "--box 1,2: ..."
            let detail = what.hasPrefix("--region ") ? reason : "\(flagsAsFields(what)): \(reason)"
            return PipelineError.invalidInput(what: source(k), reason: flagsAsFields(detail))
        }
        var named = flagsAsFields(what)
        if let k = item.regions.indices.first(where: { what.hasPrefix("<Prompt\($0)>") || what.hasSuffix("(<Prompt\($0)>)") }) {
            named = "\(source(k)): \(named)"
        } else if what == "--question" {
            named = item.questionsSource
        }
        return PipelineError.invalidInput(what: named, reason: flagsAsFields(reason))
    }

    /// "--box 1,2" → "box=1,2" (the spelling of a region string), "--question" → "question".
    static func flagsAsFields(_ s: String) -> String {
        var out = s.replacingOccurrences(of: "--object NAME", with: "another region string")
        for key in ["mask", "box", "point", "scribble", "frame"] { out = out.replacingOccurrences(of: "--\(key) ", with: "\(key)=") }
        for key in ["region", "question", "annotation"] { out = out.replacingOccurrences(of: "--\(key)", with: key) }
        return out
    }
}
