// COCO run-length encoding, byte-compatible with pycocotools (`maskApi.c`).
//
// Layout: the mask is read in COLUMN-MAJOR (Fortran) order, index = x * height + y, as COCO does.
// `counts` alternate runs of 0s and 1s and always start with a (possibly empty) run of 0s; they
// sum to height * width. The compressed string form (`rleToString`) stores each count, minus the
// count two places earlier when i > 2, as a signed LEB-like sequence of 5-bit groups: each
// character is 48 + (5 data bits | 0x20 if more groups follow); the last group's bit 0x10 is the
// sign. Decoding reverses this.

/// A COCO RLE: `size` is `[height, width]` as in COCO JSON; `counts` the uncompressed runs.
public struct RLE: Equatable, Sendable {
    public let height: Int
    public let width: Int
    public let counts: [Int]

    public init(height: Int, width: Int, counts: [Int]) throws {
        guard height >= 0, width >= 0 else { throw TrackingError.badRLE("negative size \(height)x\(width)") }
        let (area, areaOverflow) = height.multipliedReportingOverflow(by: width)
        guard !areaOverflow else { throw TrackingError.badRLE("size \(height)x\(width) is too large") }
        var total = 0
        for c in counts {
            guard c >= 0 else { throw TrackingError.badRLE("negative run length \(c)") }
            let (sum, overflow) = total.addingReportingOverflow(c)
            // Runs past height*width are an error anyway; stop before the sum can overflow.
            guard !overflow, sum <= area else {
                throw TrackingError.badRLE("runs sum to more than height*width = \(area)")
            }
            total = sum
        }
        guard total == area else {
            throw TrackingError.badRLE("runs sum to \(total), expected height*width = \(area)")
        }
        self.height = height; self.width = width; self.counts = counts
    }

    /// Encodes a mask (pycocotools `encode(np.asfortranarray(m))`).
    public init(_ mask: Mask) {
        let height = mask.height, width = mask.width
        self.height = height; self.width = width
        var runs: [Int] = []
        var value: UInt8 = 0
        var run = 0
        mask.bits.withUnsafeBufferPointer { p in
            for x in 0..<width {
                for y in 0..<height {
                    let v = p[y * width + x]
                    if v != value { runs.append(run); run = 0; value = v }
                    run += 1
                }
            }
        }
        runs.append(run)
        counts = runs
    }

    /// Decodes to a row-major mask.
    public func mask() -> Mask {
        var m = Mask(width: width, height: height)
        var idx = 0
        var value: UInt8 = 0
        m.bits.withUnsafeMutableBufferPointer { p in
            for c in counts {
                if value == 1 {
                    for k in idx..<(idx + c) {
                        let x = k / height, y = k - (k / height) * height
                        p[y * width + x] = 1
                    }
                }
                idx += c
                value ^= 1
            }
        }
        return m
    }

    /// Number of pixels inside (sum of the odd runs).
    public var area: Int {
        var a = 0
        for i in stride(from: 1, to: counts.count, by: 2) { a += counts[i] }
        return a
    }

    /// The compressed COCO string (`rleToString`), as stored in `"counts"` of COCO JSON.
    public var compressedString: String {
        var out: [UInt8] = []
        out.reserveCapacity(counts.count * 2)
        for i in 0..<counts.count {
            var x = counts[i]
            if i > 2 { x -= counts[i - 2] }
            var more = true
            while more {
                var c = x & 0x1f
                x >>= 5                        // arithmetic shift, as C's long
                more = (c & 0x10) != 0 ? x != -1 : x != 0
                if more { c |= 0x20 }
                out.append(UInt8(c + 48))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Parses the compressed COCO string (`rleFrString`).
    public init(height: Int, width: Int, compressed s: String) throws {
        var runs: [Int] = []
        let bytes = Array(s.utf8)
        var p = 0
        while p < bytes.count {
            var x = 0, k = 0
            var more = true
            var c = 0
            while more {
                guard p < bytes.count else { throw TrackingError.badRLE("truncated counts string") }
                c = Int(bytes[p]) - 48
                guard c >= 0 && c < 64 else {
                    throw TrackingError.badRLE("invalid character '\(Unicode.Scalar(bytes[p]).escaped(asASCII: true))' in counts string")
                }
                guard k < 12 else { throw TrackingError.badRLE("run length too long in counts string") }
                x |= (c & 0x1f) << (5 * k)
                more = (c & 0x20) != 0
                p += 1; k += 1
                if !more && (c & 0x10) != 0 { x |= -1 << (5 * k) }
            }
            if runs.count > 2 {
                let (sum, overflow) = x.addingReportingOverflow(runs[runs.count - 2])
                guard !overflow else { throw TrackingError.badRLE("run length overflows in counts string") }
                x = sum
            }
            runs.append(x)
        }
        try self.init(height: height, width: width, counts: runs)
    }
}

extension RLE: Codable {
    private enum Keys: String, CodingKey { case size, counts }

    /// Decodes either form COCO uses: compressed string counts or a list of integers.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let size = try c.decode([Int].self, forKey: .size)
        guard size.count == 2 else { throw TrackingError.badRLE("size must be [height, width], got \(size)") }
        if let s = try? c.decode(String.self, forKey: .counts) {
            try self.init(height: size[0], width: size[1], compressed: s)
        } else {
            try self.init(height: size[0], width: size[1], counts: try c.decode([Int].self, forKey: .counts))
        }
    }

    /// Always writes the compressed string form (what pycocotools' `encode` returns).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode([height, width], forKey: .size)
        try c.encode(compressedString, forKey: .counts)
    }
}
