// The one part of multipart/form-data the server needs: the first file part of an upload (the
// web page's FormData, `curl -F file=@clip.mp4`). The body is already in a file (size-limited);
// it is mapped, not read into memory, and the part's bytes are copied to a file of their own.
import Foundation

enum Multipart {
    /// The first part with a filename: its bytes in a new file next to `body`, and the name.
    static func firstFile(in body: URL, contentType: String) throws -> (file: URL, filename: String) {
        guard let b = contentType.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespaces) })
            .first(where: { $0.lowercased().hasPrefix("boundary=") }) else {
            throw APIError.badRequest("upload: multipart/form-data without a boundary")
        }
        let boundary = String(b.dropFirst("boundary=".count)).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        guard !boundary.isEmpty, boundary.count <= 200 else { throw APIError.badRequest("upload: bad multipart boundary") }
        let data = try Data(contentsOf: body, options: .alwaysMapped)
        let delimiter = Data("--\(boundary)".utf8)
        let crlf2 = Data("\r\n\r\n".utf8)
        var cursor = data.startIndex
        while let start = data.range(of: delimiter, in: cursor ..< data.endIndex) {
            let headersStart = start.upperBound
            // "--boundary--" ends the body.
            if data[headersStart...].starts(with: Data("--".utf8)) { break }
            guard let headersEnd = data.range(of: crlf2, in: headersStart ..< data.endIndex) else { break }
            let headers = String(decoding: data[headersStart ..< headersEnd.lowerBound], as: UTF8.self)
            let next = data.range(of: Data("\r\n--\(boundary)".utf8), in: headersEnd.upperBound ..< data.endIndex)
            guard let next else { throw APIError.badRequest("upload: the multipart body is truncated (no closing boundary)") }
            if let name = filename(in: headers) {
                let out = body.deletingLastPathComponent().appendingPathComponent(body.lastPathComponent + ".file")
                guard FileManager.default.createFile(atPath: out.path, contents: data[headersEnd.upperBound ..< next.lowerBound],
                                                     attributes: [.posixPermissions: 0o600]) else {
                    throw APIError(.internalServerError, "cannot write the upload file")
                }
                return (out, name)
            }
            cursor = next.lowerBound + 2
        }
        throw APIError.badRequest("upload: no file part in the multipart body (send the video as a form field with a filename)")
    }

    /// `filename="…"` of a part's Content-Disposition.
    static func filename(in headers: String) -> String? {
        for line in headers.split(separator: "\r\n") where line.lowercased().hasPrefix("content-disposition:") {
            guard let r = line.range(of: "filename=\"") else { continue }
            let rest = line[r.upperBound...]
            let name = rest.prefix { $0 != "\"" }
            return name.isEmpty ? "upload" : String(name.split(separator: "/").last ?? "upload")
        }
        return nil
    }
}
