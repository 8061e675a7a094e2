// `--tracker auto|flow|sam2` and `--sam2 DIR`: the tracker choice of every command that tracks
// (track, caption, ask on a video, run, batch). Resolved once here, with the pipeline spec's
// `tracker.kind` / `tracker.sam2_model` and $GAR_SAM2 (Pipeline/Track/TrackerChoice.swift);
// mistakes are usage errors (exit 64).
import ArgumentParser
import Pipeline

extension TrackerKind: ExpressibleByArgument {}

struct TrackerOptions: ParsableArguments {
    @Option(name: .customLong("tracker"), help: ArgumentHelp("Tracker: auto (SAM 2.1 when a checkpoint is given by --sam2, the pipeline's tracker.sam2_model or $GAR_SAM2, else the weight-free one), flow (weight-free) or sam2. Default: the pipeline's tracker.kind, else auto.",
                                                      valueName: "auto|flow|sam2"))
    var kind: TrackerKind?

    @Option(name: .customLong("sam2"), help: ArgumentHelp("SAM 2.1 checkpoint directory (Hugging Face layout: config.json + model.safetensors).", valueName: "dir"))
    var sam2: String?

    var given: Bool { kind != nil || sam2 != nil }

    /// The choice: these flags > the spec's tracker settings > $GAR_SAM2.
    func resolve(spec: PipelineSpec.Tracker = PipelineSpec.Tracker()) throws -> TrackerChoice {
        try parsingOptions { try TrackerChoice.resolve(kind: kind, sam2: sam2, spec: spec) }
    }
}
