// Option groups shared by the commands that run the GAR model (describe, ask; caption reuses them).
import ArgumentParser
import Foundation
import Models
import Pipeline
import Tensors
import Video

/// `--model DIR`.
struct ModelDirectoryOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("GAR checkpoint directory (config.json, model*.safetensors, tokenizer files, preprocessor_config.json).", valueName: "dir"))
    var model: String

    @OptionGroup var precision: PrecisionOption
}

/// `--precision f32|bf16|int8` and `--verbose`, on every command that runs the model.
struct PrecisionOption: ParsableArguments {
    @Option(help: ArgumentHelp("Compute precision: f32 (exact), bf16 (bf16 inputs, f32 accumulation) or int8 (int8 weights; not faithful). Default: the pipeline's model.precision, else $GAR_PRECISION, else bf16 on CPUs with AMX, f32 elsewhere (without AMX f32 is the faster).",
                               valueName: "f32|bf16|int8"),
            transform: { (text: String) throws -> Precision in
                do { return try Precision.parse(text) } catch let e as PrecisionNameError { throw ValidationError(e.description) }
            })
    var precision: Precision?

    @Flag(help: "Print the chosen precision and kernels to stderr.")
    var verbose = false

    /// --precision, else the spec's `model.precision`, else GAR_PRECISION, else the CPU default;
    /// with --verbose, says which on stderr.
    func resolve(spec: Precision? = nil) throws -> Precision {
        let p: Precision
        do { p = try Precision.resolve(flag: precision, spec: spec) } catch let e as PipelineError { throw ValidationError(e.description) }
        if verbose { printErr("gar: \(p.kernelSummary)") }
        return p
    }
}

/// `--emit-logits` (describe, ask, caption, run).
struct LogitsOption: ParsableArguments {
    @Flag(name: .customLong("emit-logits"), help: "Put the first generated token's logits in the JSON (first_step_logits), e.g. to compare precisions.")
    var emitLogits = false
}

/// `--max-new-tokens`, `--temperature`, `--top-p`, `--seed`, `--threads`: the generation flags of
/// every command that runs the model (describe, ask, caption, run). A value not given comes from
/// the pipeline spec on a video, from the reference's defaults (`GenerationOptions()`) on an image.
struct GenerationFlags: ParsableArguments {
    // .unconditional: "--temperature -1" reaches validate() instead of ArgumentParser's
    // misleading "Missing value" (a leading '-' reads as an option).
    @Option(name: .customLong("max-new-tokens"), parsing: .unconditional,
            help: "Most tokens to generate (default: the pipeline spec's on a video; 1024 on an image, as the reference).")
    var maxNewTokens: Int?

    @Option(parsing: .unconditional, help: "Sampling temperature; 0 = greedy (default: the pipeline spec's on a video; 0 on an image, as the reference).")
    var temperature: Float?

    @Option(name: .customLong("top-p"), parsing: .unconditional,
            help: "Nucleus sampling threshold in (0, 1], with --temperature > 0 (default: the pipeline spec's on a video; 1 on an image).")
    var topP: Float?

    @Option(parsing: .unconditional, help: "Seed of the sampling random stream (default: the pipeline spec's on a video; 0 on an image).")
    var seed: UInt64?

    @Option(parsing: .unconditional, help: "Threads for the model (default: all CPUs).")
    var threads: Int?

    func validate() throws {
        try checkThreads(threads)
        if let maxNewTokens, maxNewTokens < 1 { throw ValidationError("--max-new-tokens must be at least 1, got \(maxNewTokens)") }
        if let temperature, !(temperature >= 0 && temperature.isFinite) { throw ValidationError("--temperature must be a finite value >= 0, got \(temperature)") }
        if let topP, !(topP > 0 && topP <= 1) { throw ValidationError("--top-p must be in (0, 1], got \(topP)") }
    }

    /// The flags given, on top of a spec's generation settings.
    func apply(to generation: inout PipelineSpec.Generation) {
        if let maxNewTokens { generation.maxNewTokens = maxNewTokens }
        if let temperature { generation.temperature = temperature }
        if let topP { generation.topP = topP }
        if let seed { generation.seed = seed }
    }

    /// The request options of the image commands (describe, ask --image): the reference's
    /// defaults (`GenerationOptions()`) for the values not given.
    func imageOptions(correctedBoxScaling: Bool, perRegionBoxes: Bool, singleBOS: Bool) -> RequestOptions {
        let d = GenerationOptions()
        var o = RequestOptions(generation: GenerationOptions(maxNewTokens: maxNewTokens ?? d.maxNewTokens, temperature: temperature ?? d.temperature,
                                                             topP: topP ?? d.topP, seed: seed ?? d.seed),
                               replay: ReplayOptions(correctedBoxScaling: correctedBoxScaling, perRegionBoxes: perRegionBoxes))
        o.doubleBOS = !singleBOS
        return o
    }
}

/// `--single-bos`, `--corrected-box-scaling`, `--per-region-boxes`: where the prompt and the
/// replay may leave the reference (describe, ask).
struct ReplayFlags: ParsableArguments {
    @Flag(name: .customLong("single-bos"), help: "One BOS token as in training (default: two, as the reference eval path).")
    var singleBOS = false

    @Flag(name: .customLong("corrected-box-scaling"), help: "Replay the region itself instead of the reference's doubly scaled box (not what the weights were trained with).")
    var correctedBoxScaling = false

    @Flag(name: .customLong("per-region-boxes"), help: "Image: each region's own box instead of the reference's last-mask box for all.")
    var perRegionBoxes = false

    /// The request options of an image command: these switches and the generation flags.
    func imageOptions(_ generation: GenerationFlags) -> RequestOptions {
        generation.imageOptions(correctedBoxScaling: correctedBoxScaling, perRegionBoxes: perRegionBoxes, singleBOS: singleBOS)
    }
}

/// describe's generation flags, replay switches and --emit-logits.
struct GenerationArguments: ParsableArguments {
    @OptionGroup var flags: GenerationFlags

    @OptionGroup var replay: ReplayFlags

    @OptionGroup var logits: LogitsOption

    var requestOptions: RequestOptions { replay.imageOptions(flags) }
}

/// The one check of a --threads value (every model command takes one).
func checkThreads(_ threads: Int?) throws {
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
}

/// The one check of a decoder --threads value (probe, frames, bench decode): 0 is one per core.
func checkDecoderThreads(_ threads: Int) throws {
    guard (0 ... VideoReader.maxThreads).contains(threads) else {
        throw ValidationError("--threads must be between 0 (one per core) and \(VideoReader.maxThreads), got \(threads)")
    }
}
