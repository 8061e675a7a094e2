import Foundation
import Testing
@testable import Pipeline

@Suite struct SubprocessTests {
    /// A child that writes far more than a pipe holds (64 KiB) to stderr before its stdout:
    /// reading stdout first and stderr after would block forever; both are drained at once.
    @Test func bigStderrDoesNotBlock() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "yes x | head -c 300000 >&2; echo last line >&2; echo '{\"ok\":1}'; exit 3"]
        let r = try Subprocess.run(p)
        #expect(r.status == 3)
        #expect(String(decoding: r.stdout, as: UTF8.self) == "{\"ok\":1}\n")
        #expect(r.stderr.count == 300000 + "last line\n".utf8.count)
        #expect(r.lastErrorLine == "last line")
    }
}
