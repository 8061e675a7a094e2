// `gar serve` refuses unsafe or bad settings before it loads anything (through the binary).
import Foundation
import Testing

@Suite struct ServeCommandTests {
    @Test func aNetworkAddressNeedsAToken() throws {
        let r = try E2E.run(["serve", "--model", "Tests/Fixtures/gar-tiny", "--host", "0.0.0.0", "--port", "0"], environment: ["GAR_SERVE_TOKEN": ""])
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.lastErrorLine.hasPrefix("error: --host 0.0.0.0 is not a loopback address: give --token"))
        #expect(r.stderr.split(separator: "\n").count == 1)
    }

    @Test func badValuesAreUsageErrors() throws {
        for (args, words) in [(["--port", "70000"], "--port must be in 0...65535"),
                              (["--media-root", "/no/such/folder"], "not a directory"),
                              (["--token", ""], "--token is empty"),
                              (["--max-upload-mb", "0"], "--max-upload-mb")] {
            let port = args.contains("--port") ? [] : ["--port", "0"]
            let r = try E2E.run(["serve", "--model", "Tests/Fixtures/gar-tiny"] + port + args)
            #expect(r.status == 64, "\(args): \(r.stderr)")
            #expect(r.lastErrorLine.contains(words), "\(args): \(r.stderr)")
        }
    }
}

/// `gar serve` takes the tracker choice of every tracking command: `--tracker sam2` without a
/// checkpoint is a usage error, a missing checkpoint folder a runtime error naming it.
@Suite struct ServeTrackerTests {
    @Test func trackerMistakes() throws {
        let usage = try E2E.run(["serve", "--model", "Tests/Fixtures/gar-tiny", "--port", "0", "--tracker", "sam2"])
        #expect(usage.status == 64, "\(usage.stderr)")
        #expect(usage.lastErrorLine.contains("--tracker"), "\(usage.stderr)")
        let missing = try E2E.run(["serve", "--model", "Tests/Fixtures/gar-tiny", "--port", "0", "--sam2", "/no/such/sam2"])
        #expect(missing.status == 1, "\(missing.stderr)")
        #expect(missing.lastErrorLine.hasPrefix("error: /no/such/sam2"), "\(missing.stderr)")
    }
}
