// Binary masks. A `Mask` is a W×H bitmap stored one byte per pixel (0 or 1), row-major
// (`bits[y * width + x]`), which is what every kernel in this module reads. COCO RLE (column-major,
// as pycocotools) lives in RLE.swift; multi-object label maps in LabelMap.swift.

/// An axis-aligned box in pixel units: `x`, `y` of the top-left pixel, `width`, `height` in pixels
/// (COCO's `[x, y, w, h]` convention; the last pixel inside is `x + width - 1`).
public struct PixelBox: Equatable, Sendable, Codable, CustomStringConvertible {
    public var x: Int, y: Int, width: Int, height: Int
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }
    /// Inclusive corners `x1,y1,x2,y2` (what `--box` takes).
    public var x2: Int { x + width - 1 }
    public var y2: Int { y + height - 1 }
    public var area: Int { width * height }
    public var description: String { "[\(x), \(y), \(width), \(height)]" }

    /// The part inside a `width`×`height` image (width or height ≤ 0 when there is none).
    public func clipped(width W: Int, height H: Int) -> PixelBox {
        let x0 = max(0, x), y0 = max(0, y)
        return PixelBox(x: x0, y: y0, width: min(W, x + width) - x0, height: min(H, y + height) - y0)
    }
}

/// A binary mask: `bits[y * width + x]` is 1 inside, 0 outside.
public struct Mask: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public var bits: [UInt8]

    /// An empty (all-zero) mask.
    public init(width: Int, height: Int) {
        precondition(width >= 0 && height >= 0)
        self.width = width; self.height = height
        bits = [UInt8](repeating: 0, count: width * height)
    }

    /// Wraps a row-major byte buffer; any nonzero byte counts as inside.
    public init(width: Int, height: Int, bits: [UInt8]) {
        precondition(bits.count == width * height, "Mask: \(bits.count) bytes for \(width)x\(height)")
        self.width = width; self.height = height
        self.bits = bits.map { $0 != 0 ? 1 : 0 }
    }

    /// A mask from a predicate on pixel coordinates (tests and synthetic data).
    public init(width: Int, height: Int, _ inside: (Int, Int) -> Bool) {
        self.init(width: width, height: height)
        for y in 0..<height { for x in 0..<width where inside(x, y) { bits[y * width + x] = 1 } }
    }

    public subscript(x: Int, y: Int) -> Bool {
        get { bits[y * width + x] != 0 }
        set { bits[y * width + x] = newValue ? 1 : 0 }
    }

    /// Number of pixels inside.
    public var area: Int {
        bits.withUnsafeBufferPointer { p in
            var n = 0
            for v in p { n &+= Int(v) }
            return n
        }
    }

    public var isEmpty: Bool { !bits.contains(1) }

    /// Tight bounding box of the pixels inside, or nil for an empty mask. Equals pycocotools'
    /// `toBbox` (which is pixel-exact) as integers.
    public var boundingBox: PixelBox? {
        let w = width, h = height
        guard w > 0 && h > 0 else { return nil }
        return bits.withUnsafeBufferPointer { buf -> PixelBox? in
            let p = buf.baseAddress!
            /// Any nonzero byte in row y (8 bytes at a time).
            func rowHasAny(_ y: Int) -> Bool {
                let r = UnsafeRawPointer(p + y * w)
                var x = 0
                while x + 8 <= w { if r.loadUnaligned(fromByteOffset: x, as: UInt64.self) != 0 { return true }; x += 8 }
                while x < w { if p[y * w + x] != 0 { return true }; x += 1 }
                return false
            }
            var y0 = 0
            while y0 < h && !rowHasAny(y0) { y0 += 1 }
            guard y0 < h else { return nil }
            var y1 = h - 1
            while !rowHasAny(y1) { y1 -= 1 }
            // Columns: each row only needs scanning left of the leftmost and right of the
            // rightmost column found so far.
            var x0 = w, x1 = -1
            for y in y0...y1 {
                let r = p + y * w
                var x = 0
                while x < x0 && r[x] == 0 { x += 1 }
                if x < x0 { x0 = x }
                var z = w - 1
                while z > x1 && r[z] == 0 { z -= 1 }
                if z > x1 { x1 = z }
            }
            return PixelBox(x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1)
        }
    }

    /// Naive twin of `boundingBox`: every pixel tested.
    func boundingBoxNaive() -> PixelBox? {
        var x0 = width, y0 = height, x1 = -1, y1 = -1
        for y in 0..<height { for x in 0..<width where bits[y * width + x] != 0 {
            x0 = min(x0, x); x1 = max(x1, x); y0 = min(y0, y); y1 = max(y1, y)
        } }
        return x1 < 0 ? nil : PixelBox(x: x0, y: y0, width: x1 - x0 + 1, height: y1 - y0 + 1)
    }

    /// Intersection over union. Two empty masks have IoU 1 (DAVIS' convention for J).
    public func iou(_ other: Mask) -> Double {
        precondition(width == other.width && height == other.height, "Mask.iou: sizes differ")
        var inter = 0, uni = 0
        bits.withUnsafeBufferPointer { a in
            other.bits.withUnsafeBufferPointer { b in
                for i in 0..<a.count {
                    inter &+= Int(a[i] & b[i])
                    uni &+= Int(a[i] | b[i])
                }
            }
        }
        return uni == 0 ? 1 : Double(inter) / Double(uni)
    }

    /// Pixel-wise AND / OR / AND-NOT.
    public func intersection(_ o: Mask) -> Mask { combine(o) { $0 & $1 } }
    public func union(_ o: Mask) -> Mask { combine(o) { $0 | $1 } }
    public func subtracting(_ o: Mask) -> Mask { combine(o) { $0 & ($1 ^ 1) } }

    private func combine(_ o: Mask, _ f: (UInt8, UInt8) -> UInt8) -> Mask {
        precondition(width == o.width && height == o.height, "Mask: sizes differ")
        var r = Mask(width: width, height: height)
        for i in 0..<bits.count { r.bits[i] = f(bits[i], o.bits[i]) }
        return r
    }

    /// Nearest-neighbour resize (pixel centres), for moving masks between the tracking
    /// resolution and a frame's own size.
    public func resized(width w: Int, height h: Int) -> Mask {
        if w == width && h == height { return self }
        var r = Mask(width: w, height: h)
        guard width > 0 && height > 0 else { return r }
        for y in 0..<h {
            let sy = min(height - 1, (2 * y + 1) * height / (2 * h))
            for x in 0..<w {
                let sx = min(width - 1, (2 * x + 1) * width / (2 * w))
                r.bits[y * w + x] = bits[sy * width + sx]
            }
        }
        return r
    }
}
