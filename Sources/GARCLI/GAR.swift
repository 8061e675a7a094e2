// The `gar` command-line tool: a thin shell over the Pipeline module. Every subcommand
// lives in its own file under Commands/; behaviour belongs in Pipeline, not here.
import ArgumentParser
import Foundation

@main
struct GAR: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gar",
        abstract: "Grasp Any Region on CPUs: track regions in videos and describe or question them.",
        version: "0.1.0",
        subcommands: [
            Probe.self, Frames.self,
            Inspect.self, Tokenize.self,
            Describe.self, Ask.self, Caption.self,
            Track.self, EvalTrack.self,
            Run.self, Batch.self,
            Bench.self,
        ]
    )
}
