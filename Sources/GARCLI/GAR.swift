// The `gar` command-line tool: a thin shell over the Pipeline module. Every subcommand
// lives in its own file under Commands/; behaviour belongs in Pipeline, not here. How a run
// ends (exit codes, the error line, stdout errors) is in ExitStatus.swift.
import ArgumentParser
import Foundation

@main
struct GAR: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gar",
        abstract: "Grasp Any Region on CPUs: track regions in videos and describe or question them.",
        discussion: "Exit status: 0 success, 1 runtime error (input, decode, I/O, model), 64 usage error; errors are one line on stderr starting with 'error: '.",
        version: "0.1.0",
        subcommands: [
            Probe.self, Frames.self,
            Inspect.self, Tokenize.self,
            Describe.self, Ask.self, Caption.self,
            Track.self, EvalTrack.self, Eval.self,
            Run.self, Batch.self,
            Bench.self,
            Serve.self,
        ]
    )

    /// Replaces ArgumentParser's entry point: one error convention for every command.
    static func main() async {
        Foundation.exit(await ExitStatus.run(Array(CommandLine.arguments.dropFirst())))
    }
}
