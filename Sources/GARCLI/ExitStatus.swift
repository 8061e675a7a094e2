// How every `gar` command ends, in one place:
//
//   0         success (also --help and --version, printed on stdout)
//   1         runtime error: a bad input file, a decode failure, I/O (writing stdout included),
//             the model
//   64        usage error (EX_USAGE): an unknown, missing, repeated or conflicting option, or a
//             value that does not parse
//   130, 143  stopped by SIGINT / SIGTERM (InterruptCleanup deletes the temporaries first)
//
// An error is one line on stderr: "error: <what>: <problem>".
@preconcurrency import Glibc   // C's `stdout` (the stream `print` writes to); first, before Foundation re-exports it
import ArgumentParser
import Foundation
import Pipeline

enum ExitStatus {
    static let usage: Int32 = 64

    /// Parses `args`, runs the command and returns the exit status.
    static func run(_ args: [String]) async -> Int32 {
        guardStandardStreams()
        do {
            let prepared = try CommandLineCheck.prepare(args)
            var command = try GAR.parseAsRoot(prepared)
            if var async = command as? AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
        } catch {
            return report(error)
        }
        return finishStdout()
    }

    /// Prints the help text (exit 0) or the one error line, and says which status to exit with.
    static func report(_ error: Error) -> Int32 {
        let code = GAR.exitCode(for: error)
        if code == .success {
            let text = GAR.fullMessage(for: error)
            if !text.isEmpty { print(text) }
            return finishStdout()
        }
        if let exit = error as? ExitCode { return exit.rawValue }   // the command printed its error
        let message = GAR.message(for: error).split(whereSeparator: \.isNewline).joined(separator: " ")
        printErr("error: \(message)")
        return code == .validationFailure || isUsageError(error) ? usage : 1
    }

    /// A job's error about a command-line value: a --set override ("--set" or "--set KEY"), or
    /// an invalid value the job names by its flag ("--question: the question is empty").
    static func isUsageError(_ error: Error) -> Bool {
        if let spec = error as? SpecError { return spec.source.hasPrefix("--set") }
        if case let .invalidInput(what, _) = error as? PipelineError { return what.hasPrefix("--") }
        return false
    }

    /// Flushes stdout; a failed write (full disk, closed stdout) is an error, not a silent exit 0.
    static func finishStdout() -> Int32 {
        let flushFailed = fflush(stdout) != 0
        let reason = flushFailed ? String(cString: strerror(errno)) : "a write failed"
        guard flushFailed || ferror(stdout) != 0 else { return 0 }
        printErr("error: cannot write to stdout: \(reason)")
        return 1
    }

    /// A closed stdout or stderr (`gar ... >&-`) must not let a file gar opens take its
    /// descriptor (printed JSON would then land in that file): the descriptor is pointed at
    /// /dev/null opened read-only, so a write to it fails and is reported. (The Swift runtime
    /// may already have taken descriptor 1 for an internal eventfd before `main`; a write then
    /// fails too, with EINVAL.)
    static func guardStandardStreams() {
        for fd in [STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO] where fcntl(fd, F_GETFD) == -1 {
            let null = open("/dev/null", O_RDONLY)
            if null >= 0 && null != fd {
                dup2(null, fd)
                close(null)
            }
        }
    }
}

/// Options whose value is one command-line argument rule over the parse: each is refused when
/// repeated (ArgumentParser would keep the last value silently), and a negative number after
/// one is its value ("--times -1" would read as an unknown option "-1" and fail as
/// "Missing value for '--times'").
enum CommandLineCheck {
    struct OptionInfo {
        var key: String        // the preferred spelling, e.g. "--output"
        var repeating: Bool
    }

    /// `args` with "--name NEGATIVE" joined to "--name=NEGATIVE"; throws on a repeated option.
    static func prepare(_ args: [String]) throws -> [String] {
        let (options, start) = commandOptions(for: args)
        var out = Array(args[..<start])
        var seen: [String: String] = [:]   // option → how it was first given
        var i = start
        while i < args.count {
            let arg = args[i]
            i += 1
            if arg == "--" {
                out += args[(i - 1)...]
                break
            }
            guard arg.hasPrefix("-"), let info = options[String(arg.split(separator: "=", maxSplits: 1)[0])] else {
                out.append(arg)
                continue
            }
            var given = arg
            if !arg.contains("="), i < args.count {   // the value is the next argument
                let value = args[i]
                i += 1
                given = "\(arg) \(value)"
                out += isNegativeNumber(value) ? ["\(arg)=\(value)"] : [arg, value]
            } else {
                out.append(arg)
            }
            if !info.repeating {
                if let first = seen[info.key] {
                    throw ValidationError("\(info.key) is given twice (\(first), then \(given)); it takes one value")
                }
                seen[info.key] = given
            }
        }
        return out
    }

    /// "-1", "-0.5", "-10,-10,5,5", "-.5".
    static func isNegativeNumber(_ s: String) -> Bool {
        guard s.hasPrefix("-"), let c = s.dropFirst().first else { return false }
        return c.isNumber || c == "."
    }

    /// The options of the (sub)command `args` names, and where its own arguments start.
    static func commandOptions(for args: [String]) -> ([String: OptionInfo], Int) {
        guard let data = GAR._dumpHelp().data(using: .utf8),
              let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              var command = root["command"] as? [String: Any] else { return ([:], 0) }
        var start = 0
        while true {
            let subs = command["subcommands"] as? [[String: Any]] ?? []
            if start < args.count, let sub = subs.first(where: { names(of: $0).contains(args[start]) }) {
                command = sub
                start += 1
            } else if let name = command["defaultSubcommand"] as? String,
                      let sub = subs.first(where: { names(of: $0).contains(name) }) {
                command = sub
            } else {
                break
            }
        }
        var options: [String: OptionInfo] = [:]
        for arg in command["arguments"] as? [[String: Any]] ?? [] where arg["kind"] as? String == "option" {
            let spellings = (arg["names"] as? [[String: Any]] ?? []).compactMap { n -> String? in
                guard let name = n["name"] as? String else { return nil }
                return (n["kind"] as? String == "long" ? "--" : "-") + name
            }
            guard let key = spellings.first(where: { $0.hasPrefix("--") }) ?? spellings.first else { continue }
            let info = OptionInfo(key: key, repeating: arg["isRepeating"] as? Bool ?? false)
            for s in spellings { options[s] = info }
        }
        return (options, start)
    }

    static func names(of command: [String: Any]) -> [String] {
        [command["commandName"] as? String].compactMap { $0 } + (command["aliases"] as? [String] ?? [])
    }
}

/// Writes streamed text to stdout as it arrives (through C stdio, as `print` does, so a failed
/// write is seen when the run ends: ExitStatus.finishStdout).
func streamToStdout(_ piece: String) {
    fputs(piece, stdout)
    fflush(stdout)
}

/// Runs `body`, which parses command-line values in `run()`; its errors are usage errors (64).
func parsingOptions<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch { throw ValidationError("\(error)") }
}
