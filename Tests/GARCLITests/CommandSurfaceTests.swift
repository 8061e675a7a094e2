// The command surface of `gar`: every subcommand the README documents is registered and has
// help, and the tool reports its version. Catches a command file dropped from the root list.
import Foundation
import Testing

@Suite struct CommandSurfaceTests {
    static let commands = ["probe", "frames", "inspect", "tokenize", "describe", "ask", "caption",
                           "track", "eval-track", "run", "batch", "bench", "serve"]
    static let benches = ["decode", "e2e", "model", "ops", "tokenizer", "track", "videorefer"]

    @Test func rootHelpListsEveryCommand() throws {
        let r = try E2E.run(["--help"])
        #expect(r.status == 0)
        for c in Self.commands {
            #expect(r.stdout.contains("\n  \(c) ") || r.stdout.contains("\n  \(c)\n"), "gar --help does not list \(c)")
        }
    }

    @Test(arguments: commands) func subcommandHasHelp(_ command: String) throws {
        let r = try E2E.run([command, "--help"])
        #expect(r.status == 0, "gar \(command) --help failed: \(r.stderr)")
        #expect(r.stdout.contains("USAGE: gar \(command)"))
    }

    @Test(arguments: benches) func benchSubcommandHasHelp(_ bench: String) throws {
        let r = try E2E.run(["bench", bench, "--help"])
        #expect(r.status == 0, "gar bench \(bench) --help failed: \(r.stderr)")
        #expect(r.stdout.contains("USAGE: gar bench \(bench)"))
    }

    @Test func unknownCommandFails() throws {
        let r = try E2E.run(["no-such-command"])
        #expect(r.status != 0)
    }
}
