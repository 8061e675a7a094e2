// A small blocking HTTP/1.1 client over a socket for the server tests: full control over what is
// sent (raw bodies, no token, a client that leaves mid-stream) and over reading a stream event by
// event. Blocking calls run on a thread of their own (`offThread`), never on the test's executor.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct HTTPReply {
    var status: Int
    var headers: [String: String]   // lower-cased names
    var body: Data
    var text: String { String(decoding: body, as: UTF8.self) }
    func json() throws -> [String: Any] {
        guard let o = try JSONSerialization.jsonObject(with: body) as? [String: Any] else { throw TestHTTPError("not a JSON object: \(text.prefix(200))") }
        return o
    }
    var error: String { ((try? json())?["error"] as? String) ?? "" }
}

struct TestHTTPError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Runs blocking `work` on a new thread.
func offThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { c in
        let t = Thread { c.resume(with: Result { try work() }) }
        t.stackSize = 1 << 20
        t.start()
    }
}

final class HTTPConnection {
    let fd: Int32
    private var buffer = Data()

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestHTTPError("socket failed") }
        var tv = timeval(tv_sec: 120, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        // A server that answered early (413) may stop reading: a send then fails instead of blocking.
        var sendTimeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &sendTimeout, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let r = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard r == 0 else { close(fd); throw TestHTTPError("connect to port \(port) failed") }
    }

    deinit { close(fd) }

    func send(_ method: String, _ path: String, headers: [String: String] = [:], body: Data? = nil) throws {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        if let body { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        var data = Data(head.utf8)
        if let body { data.append(body) }
        try write(data)
    }

    func write(_ data: Data) throws {
        try data.withUnsafeBytes { (p: UnsafeRawBufferPointer) in
            var off = 0
            while off < p.count {
                let n = Glibc.send(fd, p.baseAddress! + off, p.count - off, Int32(MSG_NOSIGNAL))
                guard n > 0 else { throw TestHTTPError("send failed (the server closed the connection)") }
                off += n
            }
        }
    }

    /// More bytes into the buffer; false at the end of the stream.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &chunk, chunk.count, 0)
        if n < 0 { throw TestHTTPError("recv failed or timed out (errno \(errno))") }
        if n == 0 { return false }
        buffer.append(contentsOf: chunk[0 ..< n])
        return true
    }

    /// Status and headers.
    func readHead() throws -> (Int, [String: String]) {
        let sep = Data("\r\n\r\n".utf8)
        while buffer.range(of: sep) == nil { guard try fill() else { throw TestHTTPError("connection closed before the headers") } }
        let r = buffer.range(of: sep)!
        let lines = String(decoding: buffer[buffer.startIndex ..< r.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        buffer = Data(buffer[r.upperBound...])
        let status = Int(lines[0].split(separator: " ")[1]) ?? 0
        var headers: [String: String] = [:]
        for l in lines.dropFirst() {
            guard let c = l.firstIndex(of: ":") else { continue }
            headers[l[..<c].lowercased()] = l[l.index(after: c)...].trimmingCharacters(in: .whitespaces)
        }
        return (status, headers)
    }

    /// The next piece of a chunked body (nil at its end).
    func readChunk() throws -> Data? {
        let crlf = Data("\r\n".utf8)
        while buffer.range(of: crlf) == nil { guard try fill() else { return nil } }
        let r = buffer.range(of: crlf)!
        let size = Int(String(decoding: buffer[buffer.startIndex ..< r.lowerBound], as: UTF8.self).split(separator: ";")[0], radix: 16) ?? 0
        buffer = Data(buffer[r.upperBound...])
        while buffer.count < size + 2 { guard try fill() else { throw TestHTTPError("truncated chunk") } }
        let out = Data(buffer.prefix(size))
        buffer = Data(buffer.dropFirst(size + 2))
        return size == 0 ? nil : out
    }

    /// The rest of the body (chunked, sized or until close).
    func readBody(_ headers: [String: String]) throws -> Data {
        if headers["transfer-encoding"]?.lowercased() == "chunked" {
            var out = Data()
            while let c = try readChunk() { out.append(c) }
            return out
        }
        if let n = headers["content-length"].flatMap(Int.init) {
            while buffer.count < n { guard try fill() else { break } }
            return Data(buffer.prefix(n))
        }
        while try fill() {}
        return buffer
    }
}

/// Server-sent events read one by one from a chunked stream.
final class EventReader {
    let connection: HTTPConnection
    private var text = ""
    init(_ c: HTTPConnection) { connection = c }

    /// (event name, data) or nil at the end.
    func next() throws -> (String, String)? {
        while true {
            if let r = text.range(of: "\n\n") {
                let block = String(text[..<r.lowerBound])
                text = String(text[r.upperBound...])
                var name = "message", data = ""
                for line in block.split(separator: "\n") {
                    if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
                    if line.hasPrefix("data: ") { data = String(line.dropFirst(6)) }
                }
                return (name, data)
            }
            guard let chunk = try connection.readChunk() else { return nil }
            text += String(decoding: chunk, as: UTF8.self)
        }
    }
}

enum HTTP {
    /// One request, the whole reply.
    static func request(_ port: Int, _ method: String, _ path: String, token: String? = nil, headers: [String: String] = [:],
                        json: Any? = nil, body: Data? = nil) async throws -> HTTPReply {
        var h = headers
        if let token { h["Authorization"] = "Bearer \(token)" }
        var payload = body
        if let json {
            payload = try JSONSerialization.data(withJSONObject: json)
            h["Content-Type"] = "application/json"
        }
        let send = payload, hh = h
        return try await offThread {
            let c = try HTTPConnection(port: port)
            // A server may answer (413) and close before the whole body is sent: read the answer anyway.
            do { try c.send(method, path, headers: hh, body: send) } catch {}
            let (status, headers) = try c.readHead()
            return HTTPReply(status: status, headers: headers, body: try c.readBody(headers))
        }
    }
}
