import ArgumentParser
import Foundation
import Pipeline

struct BenchTrack: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "track",
        abstract: "Benchmark the weight-free tracker (ms per frame) against its own optical flow, on synthetic frames")

    @Option(help: "Frame width.") var width = 854
    @Option(help: "Frame height.") var height = 480
    @Option(help: "Frames per repetition (the synthetic motion is scaled to the clip length; 60 = its natural speed).") var frames = 60
    @Option(help: "Repetitions.") var reps = 2
    @Option(help: "Objects tracked at once (1 or 2).") var objects = 1
    @Flag(help: "Print JSON instead of a table.") var json = false

    func validate() throws {
        guard width >= 64 && height >= 64 else { throw ValidationError("--width and --height must be at least 64") }
        guard frames >= 3 else { throw ValidationError("--frames must be at least 3") }
        guard reps >= 1 else { throw ValidationError("--reps must be at least 1") }
        guard (1...2).contains(objects) else { throw ValidationError("--objects must be 1 or 2") }
    }

    func run() async throws {
        var o = TrackBenchOptions()
        o.width = width; o.height = height; o.frames = frames; o.repetitions = reps; o.objects = objects
        let report = TrackBench.run(o, progress: Pipeline.Progress("bench track", total: 4 * reps))
        if json {
            print(try JSONOutput.string(report, pretty: true))
        } else {
            print(report.table, terminator: "")
        }
    }
}
