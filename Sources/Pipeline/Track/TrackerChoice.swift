// Which tracker turns the prompts into masks and propagates them: the weight-free one (`flow`,
// Sources/Tracking) or SAM 2.1 (`sam2`: image mode for the prompts, video mode for the
// propagation; SAM2Tracking.swift). Every command that tracks takes `--tracker auto|flow|sam2` and
// `--sam2 DIR`; pipeline specs take `tracker.kind` and `tracker.sam2_model`. The choice is resolved
// once, by the front end, into a `TrackerChoice` that the jobs take (as they take the precision):
//
//   kind      --tracker, else the spec's tracker.kind, else auto
//   model     --sam2, else the spec's tracker.sam2_model (relative to the spec file), else $GAR_SAM2
//   auto      sam2 when a model is found, else flow
//   sam2      needs a model: without one it is a usage error (exit 64)
//   flow      the weight-free tracker (a model given with --sam2 is then a conflicting option)
//
// A model directory that does not load is a runtime error naming it (exit 1), raised before any
// work by `SAM2Tracking.load`.
import Foundation

/// `tracker.kind` / `--tracker`.
public enum TrackerKind: String, Sendable, Equatable, CaseIterable {
    case auto, flow, sam2
}

/// The tracker a job uses, resolved (`TrackerChoice.resolve`).
public enum TrackerChoice: Sendable, Equatable, CustomStringConvertible {
    /// The weight-free tracker (GrabCut prompts, optical-flow propagation).
    case flow
    /// SAM 2.1 from this checkpoint directory (Hugging Face layout: config.json + model.safetensors).
    case sam2(model: String)

    /// The environment variable naming a default SAM 2.1 checkpoint (used by `auto`).
    public static let environmentVariable = "GAR_SAM2"

    /// What the JSON outputs record: `"flow"` or `"sam2"`.
    public var name: String {
        switch self {
        case .flow: return "flow"
        case .sam2: return "sam2"
        }
    }

    /// The SAM 2.1 checkpoint directory (nil for flow).
    public var sam2Model: String? {
        if case let .sam2(model) = self { return model }
        return nil
    }

    public var description: String { sam2Model.map { "sam2 (\($0))" } ?? "flow" }

    /// flag > spec > environment (see the top of this file). `kind`/`sam2` are the command-line
    /// values (nil: not given). Errors are usage errors naming the option (`--tracker ...`).
    public static func resolve(kind flagKind: TrackerKind?, sam2 flagModel: String?, spec: PipelineSpec.Tracker,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws -> TrackerChoice {
        if let flagModel, flagModel.isEmpty { throw PipelineError.invalidInput(what: "--sam2", reason: "needs a directory") }
        let kind = flagKind ?? spec.kind
        if kind == .flow && flagModel != nil {
            throw PipelineError.invalidInput(what: "--sam2 \(flagModel!)", reason: "conflicts with --tracker flow (the weight-free tracker takes no checkpoint)")
        }
        let env = environment[environmentVariable].flatMap { $0.isEmpty ? nil : $0 }
        let model = flagModel ?? spec.sam2Model ?? env
        switch kind {
        case .flow: return .flow
        case .auto: return model.map { .sam2(model: $0) } ?? .flow
        case .sam2:
            guard let model else {
                throw PipelineError.invalidInput(what: flagKind == nil ? "--tracker (the pipeline's tracker.kind: sam2)" : "--tracker sam2", reason: "needs a SAM 2.1 checkpoint: give --sam2 DIR, tracker.sam2_model in the pipeline, or set \(environmentVariable)")
            }
            return .sam2(model: model)
        }
    }
}
