import ArgumentParser
import Foundation
import Pipeline

struct Inspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Summarise a GAR checkpoint directory and check its tensors against config.json.",
        discussion: """
        Prints the architecture from config.json, the safetensors files, dtypes, parameter counts per \
        component (found vs. implied by the config) and every missing, unused or mis-shaped tensor. \
        Exits 1 when the checkpoint does not match its config.
        """)

    @Argument(help: "Checkpoint directory (config.json + model.safetensors or a shard index).")
    var modelDir: String

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Flag(help: "List every tensor with its dtype, shape, component and status.")
    var keys = false

    func run() async throws {
        let report = try InspectReport.build(directory: modelDir, includeKeys: keys)
        print(json ? try report.json() : report.text(listKeys: keys))
        if let line = report.mismatchLine {
            printErr("error: \(line)")
            throw ExitCode(1)
        }
    }
}
