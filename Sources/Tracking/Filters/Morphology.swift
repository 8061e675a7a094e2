// Binary morphology with round (disk) structuring elements, exact for any radius, through the
// squared Euclidean distance transform (Felzenszwalb & Huttenlocher 2012): O(W·H) whatever the
// radius, so the 81×81 and 31×31 ellipses of the tracker cost the same as a 3×3.
// Layout: masks are row-major 0/1 bytes (`Mask.bits`); distances are row-major Float.

/// Scratch buffers of the 1-D distance transform (one per band). Raw buffers, not arrays in a
/// class: array properties of a class pay a dynamic exclusivity check on every access (measured:
/// a third of the transform's time).
struct Envelope {
    let f: UnsafeMutablePointer<Float>, z: UnsafeMutablePointer<Float>
    let v: UnsafeMutablePointer<Int>
    init(_ n: Int) {
        f = .allocate(capacity: n); z = .allocate(capacity: n + 1); v = .allocate(capacity: n)
    }
    func deallocate() { f.deallocate(); z.deallocate(); v.deallocate() }

    /// In place: line[i·stride] ← min_p (i − p)² + line[p·stride], i, p in 0..<count.
    func run(_ line: UnsafeMutablePointer<Float>, stride: Int, count n: Int) {
        for i in 0..<n { f[i] = line[i * stride] }
        var k = 0
        v[0] = 0; z[0] = -.infinity; z[1] = .infinity
        if n > 1 {
            for q in 1..<n {
                var s: Float
                while true {
                    let p = v[k]
                    s = ((f[q] + Float(q * q)) - (f[p] + Float(p * p))) / Float(2 * (q - p))
                    if s <= z[k] && k > 0 { k -= 1 } else { break }
                }
                k += 1; v[k] = q; z[k] = s; z[k + 1] = .infinity
            }
        }
        k = 0
        for q in 0..<n {
            while z[k + 1] < Float(q) { k += 1 }
            let p = v[k]
            line[q * stride] = Float((q - p) * (q - p)) + f[p]
        }
    }
}

public enum Morphology {
    /// Squared distance of every pixel to the nearest pixel where `bits` == `target`
    /// (+∞ if there is none). Row-major W×H.
    public static func squaredDistance(_ bits: [UInt8], width w: Int, height h: Int, to target: UInt8 = 1) -> [Float] {
        let far: Float = 1e20          // "no target pixel": larger than any squared distance
        var d = [Float](repeating: 0, count: w * h)
        for i in 0..<(w * h) { d[i] = bits[i] == target ? 0 : far }
        // Columns, then rows (each band of columns / rows is independent): 1-D lower envelope of
        // the parabolas (q − p)² + f(p).
        d.withUnsafeMutableBufferPointer { D in
            let dp = SendablePointer(D.baseAddress!)
            Parallel.forBands(w, minBand: 32) { cols in
                let buf = Envelope(max(w, h))
                defer { buf.deallocate() }
                for x in cols { buf.run(dp.p + x, stride: w, count: h) }
            }
            Parallel.forBands(h, minBand: 32) { rows in
                let buf = Envelope(max(w, h))
                defer { buf.deallocate() }
                for y in rows { buf.run(dp.p + y * w, stride: 1, count: w) }
            }
        }
        return d
    }

    /// Dilation by the disk dx² + dy² ≤ r². Works on the mask's bounding box grown by r only.
    public static func dilate(_ m: Mask, radius r: Int) -> Mask {
        if r <= 0 { return m }
        var out = Mask(width: m.width, height: m.height)
        guard let b = m.boundingBox else { return out }
        let x0 = max(0, b.x - r), y0 = max(0, b.y - r)
        let x1 = min(m.width, b.x + b.width + r), y1 = min(m.height, b.y + b.height + r)
        let cw = x1 - x0, ch = y1 - y0
        var crop = [UInt8](repeating: 0, count: cw * ch)
        for y in 0..<ch { for x in 0..<cw { crop[y * cw + x] = m.bits[(y + y0) * m.width + x + x0] } }
        let d = squaredDistance(crop, width: cw, height: ch, to: 1)
        let r2 = Float(r * r)
        for y in 0..<ch { for x in 0..<cw where d[y * cw + x] <= r2 { out.bits[(y + y0) * m.width + x + x0] = 1 } }
        return out
    }

    /// Erosion by the disk dx² + dy² ≤ r² (pixels outside the image count as inside, so the
    /// border does not erode). Works on the mask's bounding box grown by r + 1 only: every pixel
    /// outside the box is 0, and a 0 farther than r from the box cannot decide the result.
    public static func erode(_ m: Mask, radius r: Int) -> Mask {
        if r <= 0 { return m }
        var out = Mask(width: m.width, height: m.height)
        guard let b = m.boundingBox else { return out }
        let x0 = max(0, b.x - r - 1), y0 = max(0, b.y - r - 1)
        let x1 = min(m.width, b.x + b.width + r + 1), y1 = min(m.height, b.y + b.height + r + 1)
        let cw = x1 - x0, ch = y1 - y0
        var crop = [UInt8](repeating: 0, count: cw * ch)
        for y in 0..<ch { for x in 0..<cw { crop[y * cw + x] = m.bits[(y + y0) * m.width + x + x0] } }
        let d = squaredDistance(crop, width: cw, height: ch, to: 0)
        let r2 = Float(r * r)
        for y in 0..<ch { for x in 0..<cw where d[y * cw + x] > r2 { out.bits[(y + y0) * m.width + x + x0] = 1 } }
        return out
    }

    /// Naive twin of `erode`: a pixel stays when no background pixel of the image lies in the
    /// disk around it.
    static func erodeNaive(_ m: Mask, radius r: Int) -> Mask {
        var out = Mask(width: m.width, height: m.height)
        for y in 0..<m.height { for x in 0..<m.width where m[x, y] {
            var keep = true
            for dy in -r...r where keep { for dx in -r...r where dx * dx + dy * dy <= r * r {
                let xx = x + dx, yy = y + dy
                if xx >= 0 && xx < m.width && yy >= 0 && yy < m.height && !m[xx, yy] { keep = false; break }
            } }
            out[x, y] = keep
        } }
        return out
    }

    /// Naive twin of `dilate`: scans the disk around every pixel.
    static func dilateNaive(_ m: Mask, radius r: Int) -> Mask {
        var out = Mask(width: m.width, height: m.height)
        for y in 0..<m.height { for x in 0..<m.width {
            var hit = false
            for dy in -r...r where !hit { for dx in -r...r where dx * dx + dy * dy <= r * r {
                let xx = x + dx, yy = y + dy
                if xx >= 0 && xx < m.width && yy >= 0 && yy < m.height && m[xx, yy] { hit = true; break }
            } }
            out[x, y] = hit
        } }
        return out
    }

    /// Connected components (4-connectivity) of a mask: labels (0 = outside, 1...n) and sizes.
    public static func components(_ m: Mask) -> (labels: [Int32], sizes: [Int]) {
        let w = m.width, h = m.height
        var labels = [Int32](repeating: 0, count: w * h)
        var sizes: [Int] = [0]
        var stack: [Int] = []
        for start in 0..<(w * h) where m.bits[start] != 0 && labels[start] == 0 {
            let id = Int32(sizes.count)
            var size = 0
            labels[start] = id; stack.append(start)
            while let p = stack.popLast() {
                size += 1
                let x = p % w, y = p / w
                if x > 0 && m.bits[p - 1] != 0 && labels[p - 1] == 0 { labels[p - 1] = id; stack.append(p - 1) }
                if x + 1 < w && m.bits[p + 1] != 0 && labels[p + 1] == 0 { labels[p + 1] = id; stack.append(p + 1) }
                if y > 0 && m.bits[p - w] != 0 && labels[p - w] == 0 { labels[p - w] = id; stack.append(p - w) }
                if y + 1 < h && m.bits[p + w] != 0 && labels[p + w] == 0 { labels[p + w] = id; stack.append(p + w) }
            }
            sizes.append(size)
        }
        return (labels, sizes)
    }
}
