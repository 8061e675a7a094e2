// Option groups of the video commands (caption, ask on a video, run): the input, the frames the
// model sees, the pipeline spec and its overrides, generation overrides and the output. Values
// not given on the command line come from the pipeline spec.
import ArgumentParser
import Foundation
import Pipeline
import Video

/// Frames, spec and generation overrides shared by caption / ask VIDEO / run.
struct VideoRunOptions: ParsableArguments {
    @Option(name: .customLong("frames-dir"), help: ArgumentHelp("A folder of frames (read in file-name order; frame index = position) instead of a video.", valueName: "dir"))
    var framesDir: String?

    @Option(name: .customLong("folder-fps"), parsing: .unconditional, help: "Frame rate of a --frames-dir folder (needed only for --fps sampling).")
    var folderFPS: Double?

    @Option(help: ArgumentHelp("VideoRefer-style masks per region and frame (COCO RLE): skips tracking.", valueName: "json"))
    var annotation: String?

    // .unconditional: "--frames -3" reaches validate() ("must be at least 1") instead of ArgumentParser's
    // misleading "Missing value" (a leading '-' reads as an option).
    @Option(parsing: .unconditional, help: "Frames the model sees, sampled uniformly (default: the pipeline's, 8).")
    var frames: Int?

    @Option(parsing: .unconditional, help: "Or: frames per second of video for the model.")
    var fps: Double?

    @Option(help: ArgumentHelp("Pipeline spec to use instead of the built-in one.", valueName: "yaml"))
    var pipeline: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a spec key, e.g. --set frames.rule=videorefer (repeatable).", valueName: "key=value"))
    var settings: [String] = []

    @OptionGroup var generation: GenerationFlags

    @OptionGroup var trackerOptions: TrackerOptions

    @Option(name: .customLong("overlay"), help: ArgumentHelp("Write the tracked frames with the masks blended in (mp4).", valueName: "out.mp4"))
    var overlay: String?

    @Option(name: .customLong("output"), help: ArgumentHelp("Also write the JSON answer to this file (atomically).", valueName: "file"))
    var output: String?

    @Flag(help: "No progress lines on stderr.")
    var quiet = false

    @OptionGroup var logits: LogitsOption

    func validate() throws {
        if frames != nil && fps != nil { throw ValidationError("give --frames or --fps, not both") }
        if let frames, frames < 1 { throw ValidationError("--frames must be at least 1, got \(frames)") }
        if let fps, !(fps > 0 && fps.isFinite) { throw ValidationError("--fps must be a finite rate > 0, got \(fps)") }
        if let folderFPS, !(folderFPS > 0 && folderFPS.isFinite) { throw ValidationError("--folder-fps must be a finite rate > 0, got \(folderFPS)") }
    }

    /// The spec: --pipeline file or the built-in one, with --set and the flags applied.
    func spec(builtIn: PipelineSpec.BuiltIn) throws -> PipelineSpec {
        var spec: PipelineSpec
        if let pipeline {
            spec = try PipelineSpec.load(path: pipeline, overrides: settings)
        } else if settings.isEmpty {
            spec = PipelineSpec.builtIn(builtIn)
        } else {
            spec = try PipelineSpec.parse(builtIn.text, source: "built-in \(builtIn.rawValue)", overrides: settings)
            spec.model = nil
        }
        apply(to: &spec)
        return spec
    }

    /// The flags on top of a spec.
    func apply(to spec: inout PipelineSpec) {
        if let frames { spec.frames.count = frames; spec.frames.fps = nil }
        if let fps { spec.frames.fps = fps }
        generation.apply(to: &spec.generation)
    }

    /// A request for `input` (a video path; --frames-dir wins when given).
    func request(input: String?, spec: PipelineSpec) throws -> RegionRequest {
        if input != nil && framesDir != nil { throw ValidationError("give a VIDEO or --frames-dir, not both") }
        guard let path = framesDir ?? input else { throw ValidationError("give a VIDEO (file) or --frames-dir DIR") }
        var r = RegionRequest(input: path, spec: spec)
        r.folderFPS = folderFPS
        r.annotationPath = annotation
        r.overlayPath = overlay
        r.threads = generation.threads
        r.emitLogits = logits.emitLogits
        r.quiet = quiet
        r.tracker = try trackerOptions.resolve(spec: spec.tracker)
        return r
    }

    /// Refuses, before any work, an --output or --overlay that cannot be written, names the same
    /// file as the other, or is one of the request's inputs (or of `extraInputs`, e.g. the spec).
    func checkOutputs(_ r: RegionRequest, extraInputs: [String] = []) throws {
        let prompts = r.regions.flatMap { $0.prompts.flatMap { [$0.maskPath, $0.scribblePath].compactMap { $0 } } }
        let inputs = [r.input, r.annotationPath, pipeline, r.modelDirectory, r.tracker.sam2Model].compactMap { $0 } + prompts + extraInputs
        if let output, let overlay, AtomicOutput.canonicalPath(output) == AtomicOutput.canonicalPath(overlay) {
            throw ValidationError("--output and --overlay name the same file (\(output))")
        }
        for (option, path) in [("--output", output), ("--overlay", overlay)] {
            guard let path else { continue }
            try parsingOptions { try AtomicOutput.refuseInputs(inputs, asFile: path, option: option) }
            try AtomicOutput.checkFileDestination(URL(fileURLWithPath: path))
        }
        if let overlay { try VideoWriter.checkContainer(path: overlay) }
    }

    /// Prints the answer: JSON (one object) or the streamed text's end; --output writes the JSON.
    func finish(_ answer: VideoAnswer, json: Bool) throws {
        if let output { try AtomicOutput.write(try answer.json(pretty: true) + "\n", to: URL(fileURLWithPath: output)) }
        if json {
            print(try answer.json())
        } else {
            print("")   // ends the streamed first answer; the others follow, one per line
            for more in answer.answers.dropFirst() { print(more.text) }
            for w in answer.warnings { printErr("warning: \(w)") }
        }
    }
}
