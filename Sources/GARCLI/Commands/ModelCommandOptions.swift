// Option groups shared by the commands that run the GAR model (describe, ask; caption reuses them).
import ArgumentParser
import Foundation
import Models
import Pipeline
import Tensors

/// `--model DIR`.
struct ModelDirectoryOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("GAR checkpoint directory (config.json, model*.safetensors, tokenizer files, preprocessor_config.json).", valueName: "dir"))
    var model: String

    @OptionGroup var precision: PrecisionOption
}

/// `--precision f32|bf16` and `--verbose`, on every command that runs the model.
struct PrecisionOption: ParsableArguments {
    @Option(help: ArgumentHelp("Compute precision: f32 (exact) or bf16 (bf16 inputs, f32 accumulation). Default: the pipeline's model.precision, else $GAR_PRECISION, else bf16 on CPUs with native bf16 (AVX512_BF16), else f32.",
                               valueName: "f32|bf16"),
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

/// Generation, replay and threading settings.
struct GenerationArguments: ParsableArguments {
    @Option(name: .customLong("max-new-tokens"), parsing: .unconditional, help: "Most tokens to generate (the reference uses 1024).")
    var maxNewTokens = 1024

    @Option(parsing: .unconditional, help: "Sampling temperature; 0 = greedy, as the reference.")
    var temperature: Float = 0

    @Option(name: .customLong("top-p"), parsing: .unconditional, help: "Nucleus sampling threshold in (0, 1] (with --temperature > 0).")
    var topP: Float = 1

    @Option(parsing: .unconditional, help: "Seed of the sampling random stream.")
    var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: "Threads for the model (default: all CPUs).")
    var threads: Int?

    @Flag(name: .customLong("single-bos"), help: "One BOS token as in training (default: two, as the reference eval path).")
    var singleBOS = false

    @Flag(name: .customLong("corrected-box-scaling"), help: "Replay the region itself instead of the reference's doubly scaled box (not what the weights were trained with).")
    var correctedBoxScaling = false

    @Flag(name: .customLong("per-region-boxes"), help: "ask: each region's own box instead of the reference's last-mask box for all.")
    var perRegionBoxes = false

    @OptionGroup var logits: LogitsOption

    var requestOptions: RequestOptions {
        imageRequestOptions(maxNewTokens: maxNewTokens, temperature: temperature, topP: topP, seed: seed,
                            correctedBoxScaling: correctedBoxScaling, perRegionBoxes: perRegionBoxes, singleBOS: singleBOS)
    }

    func validate() throws {
        try checkGeneration(requestOptions)
        try checkThreads(threads)
    }
}

/// The one check of a --threads value (every model command takes one).
func checkThreads(_ threads: Int?) throws {
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
}

/// The request options of the image commands (describe, ask --image): the reference's defaults
/// (`GenerationOptions()`) for the values not given. (Video commands take theirs from the spec.)
func imageRequestOptions(maxNewTokens: Int?, temperature: Float?, topP: Float?, seed: UInt64?,
                         correctedBoxScaling: Bool, perRegionBoxes: Bool, singleBOS: Bool) -> RequestOptions {
    let d = GenerationOptions()
    var o = RequestOptions(generation: GenerationOptions(maxNewTokens: maxNewTokens ?? d.maxNewTokens, temperature: temperature ?? d.temperature,
                                                         topP: topP ?? d.topP, seed: seed ?? d.seed),
                           replay: ReplayOptions(correctedBoxScaling: correctedBoxScaling, perRegionBoxes: perRegionBoxes))
    o.doubleBOS = !singleBOS
    return o
}

/// Refuses generation values that make no sense (a usage error).
func checkGeneration(_ o: RequestOptions) throws {
    do { try o.generation.validate() } catch { throw ValidationError("\(error)") }
}
