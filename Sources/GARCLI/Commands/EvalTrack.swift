import ArgumentParser
import Foundation
import Pipeline

struct EvalTrack: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval-track",
        abstract: "Evaluate the tracker on a DAVIS-layout dataset (J, F, J&F per sequence, semi-supervised protocol).",
        discussion: """
            DATASET holds JPEGImages/<res>/<seq>/*.jpg and Annotations/<res>/<seq>/*.png (palette index per
            object, or 0/255 single-object masks). Each sequence is tracked from its first annotation; J and F
            are computed on frames 1..n-2 as the official davis2017-evaluation does (agreement to 1e-6 is
            tested). --baseline copy scores the first-frame mask copied to every frame.
            """)

    @Argument(help: "DAVIS-layout dataset folder.") var dataset: String
    @Option(parsing: .upToNextOption, help: "Sequences to evaluate (default: all).") var sequences: [String] = []
    @Option(help: "Baseline instead of the tracker: copy.") var baseline: String?
    @Option(help: "Resolution folder.") var res = "480p"
    @Option(help: "Also write the predicted masks (palette PNGs) to this folder.") var save: String?
    @Flag(help: "Print JSON (with per-frame J and F).") var json = false
    @Flag(help: "No progress on stderr.") var quiet = false
    @Flag(help: "Score prompt → mask instead of tracking: tight box, one click, box + click on the first, middle and last frame of each sequence (IoU and time per prompt).")
    var prompts = false
    @Flag(help: "Ablation: compute the tracker's flow on the whole frame instead of a region around the objects.")
    var wholeFrameFlow = false
    @Flag(help: "With --prompts: run GrabCut's naive twin (the slow reference) instead of the fast one.")
    var naiveGrabcut = false

    func validate() throws {
        if let b = baseline, b != "copy" { throw ValidationError("--baseline must be 'copy' (got '\(b)')") }
        if prompts && (baseline != nil || save != nil) { throw ValidationError("--prompts takes no --baseline or --save") }
        if wholeFrameFlow && (prompts || baseline != nil) { throw ValidationError("--whole-frame-flow goes with the tracker (no --prompts or --baseline)") }
        if naiveGrabcut && !prompts { throw ValidationError("--naive-grabcut goes with --prompts") }
    }

    func run() async throws {
        if prompts {
            var p = PromptEvalOptions(dataset: dataset)
            p.sequences = sequences.isEmpty ? nil : sequences
            p.resolution = res; p.quiet = quiet; p.naiveGrabCut = naiveGrabcut
            let r = try PromptEvalJob.run(p)
            if json {
                print(try JSONOutput.string(r, pretty: true))
            } else {
                print(r.table, terminator: "")
            }
            return
        }
        var o = EvalTrackOptions(dataset: dataset)
        o.sequences = sequences.isEmpty ? nil : sequences
        o.resolution = res; o.baseline = baseline; o.quiet = quiet; o.wholeFrameFlow = wholeFrameFlow
        if let save {   // the predicted PNGs carry the annotations' names
            let annotations = URL(fileURLWithPath: dataset).appendingPathComponent("Annotations/\(res)").path
            try parsingOptions { try AtomicOutput.refuseInputs([dataset, annotations], asFolder: save, option: "--save") { _ in false } }
            if AtomicOutput.canonicalPath(save).hasPrefix(AtomicOutput.canonicalPath(dataset) + "/") {   // e.g. JPEGImages/480p
                throw ValidationError("--save \(save): is inside the dataset \(dataset); its PNGs would mix with the dataset's files, choose a folder outside it")
            }
        }
        o.saveTo = save.map { URL(fileURLWithPath: $0) }
        let r = try EvalTrackJob.run(o)
        if json {
            print(try JSONOutput.string(r, pretty: true))
        } else {
            print(r.table, terminator: "")
        }
    }
}
