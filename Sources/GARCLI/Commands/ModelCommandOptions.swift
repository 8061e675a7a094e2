// Option groups shared by the commands that run the GAR model (describe, ask; caption reuses them).
import ArgumentParser
import Foundation
import Models

/// `--model DIR`.
struct ModelDirectoryOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("GAR checkpoint directory (config.json, model*.safetensors, tokenizer files, preprocessor_config.json).", valueName: "dir"))
    var model: String
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
