import ArgumentParser
import Foundation
import Pipeline
import Video

/// `gar probe VIDEO`: stream facts as JSON (thin shell over Pipeline.ProbeJob).
struct Probe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Describe a video file as JSON (container, codec, profile, pixel format, sizes, rotation, SAR, fps, duration).")

    @Argument(help: "Video file.")
    var video: String

    @Flag(name: .customLong("count-frames"), help: "Add the exact frame count (packet index, or a decode pass when the index is not clean).")
    var countFrames = false

    @Flag(help: "Also count frames by decoding every one (slow; a cross-check).")
    var decode = false

    @Option(parsing: .unconditional, help: "Decoder threads (0 = one per core).")
    var threads = 0

    @Option(name: .shortAndLong, help: "Write the JSON to this file (atomically) instead of stdout.")
    var output: String?

    func validate() throws {
        try checkDecoderThreads(threads)
    }

    func run() async throws {
        if let output { try parsingOptions { try AtomicOutput.refuseInputs([video], asFile: output, option: "--output") } }
        let report = try ProbeJob.run(path: video, countFrames: countFrames, decode: decode, threads: threads)
        let json = try ProbeJob.json(report)
        if let output {
            try AtomicOutput.write(json + "\n", to: URL(fileURLWithPath: output))
        } else {
            print(json)
        }
    }
}
