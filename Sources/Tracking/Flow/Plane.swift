// Single-channel float images ("planes") and the small kernels the flow code needs.
// Layout: row-major, `data[y * width + x]`, no padding. Values are grey levels in [0, 255]
// unless a function says otherwise.

public struct Plane: Sendable {
    public let width: Int
    public let height: Int
    public var data: [Float]

    public init(width: Int, height: Int, data: [Float]) {
        precondition(data.count == width * height)
        self.width = width; self.height = height; self.data = data
    }

    public init(width: Int, height: Int, value: Float = 0) {
        self.width = width; self.height = height
        data = [Float](repeating: value, count: width * height)
    }

    @inline(__always) public subscript(x: Int, y: Int) -> Float {
        get { data[y * width + x] }
        set { data[y * width + x] = newValue }
    }

    /// Grey level of interleaved RGB bytes (ITU-R BT.601 luma: 0.299 R + 0.587 G + 0.114 B).
    public init(grayFromRGB rgb: [UInt8], width: Int, height: Int) {
        precondition(rgb.count == width * height * 3)
        self.width = width; self.height = height
        var out = [Float](repeating: 0, count: width * height)
        rgb.withUnsafeBufferPointer { s in
            for i in 0..<(width * height) {
                out[i] = 0.299 * Float(s[3 * i]) + 0.587 * Float(s[3 * i + 1]) + 0.114 * Float(s[3 * i + 2])
            }
        }
        data = out
    }

    /// Half-size plane by 2×2 averaging (area interpolation); odd edges average what exists.
    public func halved() -> Plane {
        let w2 = max(1, (width + 1) / 2), h2 = max(1, (height + 1) / 2)
        var out = Plane(width: w2, height: h2)
        let w = width, h = height
        data.withUnsafeBufferPointer { s in
            out.data.withUnsafeMutableBufferPointer { o in
                for y in 0..<h2 {
                    let y0 = min(2 * y, h - 1), y1 = min(2 * y + 1, h - 1)
                    for x in 0..<w2 {
                        let x0 = min(2 * x, w - 1), x1 = min(2 * x + 1, w - 1)
                        o[y * w2 + x] = 0.25 * (s[y0 * w + x0] + s[y0 * w + x1] + s[y1 * w + x0] + s[y1 * w + x1])
                    }
                }
            }
        }
        return out
    }

    /// Bilinear sample with coordinates clamped to the image (border replicate).
    @inline(__always) public func sample(_ x: Float, _ y: Float) -> Float {
        data.withUnsafeBufferPointer { bilinear($0.baseAddress!, width, height, x, y) }
    }

    /// Central-difference gradients (∂/∂x, ∂/∂y); one-sided at the borders.
    public func gradients() -> (Plane, Plane) {
        var gx = Plane(width: width, height: height), gy = Plane(width: width, height: height)
        let w = width, h = height
        data.withUnsafeBufferPointer { S in gx.data.withUnsafeMutableBufferPointer { GX in
        gy.data.withUnsafeMutableBufferPointer { GY in
            let s = SendableConstPointer(S.baseAddress!)
            let ox = SendablePointer(GX.baseAddress!), oy = SendablePointer(GY.baseAddress!)
            Parallel.forBands(h, minBand: 32) { rows in
                for y in rows {
                    let ym = max(0, y - 1), yp = min(h - 1, y + 1)
                    let sy = 1 / Float(max(1, yp - ym))
                    for x in 0..<w {
                        let xm = max(0, x - 1), xp = min(w - 1, x + 1)
                        ox[y * w + x] = (s[y * w + xp] - s[y * w + xm]) / Float(max(1, xp - xm))
                        oy[y * w + x] = (s[yp * w + x] - s[ym * w + x]) * sy
                    }
                }
            }
        } } }
        return (gx, gy)
    }

    /// Bilinear resize to an arbitrary size (pixel-centre aligned), values multiplied by `scale`.
    public func resized(width w: Int, height h: Int, scale: Float = 1) -> Plane {
        var out = Plane(width: w, height: h)
        let sx = Float(width) / Float(w), sy = Float(height) / Float(h)
        let sw = width, sh = height
        data.withUnsafeBufferPointer { s in
            out.data.withUnsafeMutableBufferPointer { o in
                let src = SendableConstPointer(s.baseAddress!), dst = SendablePointer(o.baseAddress!)
                Parallel.forBands(h) { rows in
                    for y in rows {
                        let fy = (Float(y) + 0.5) * sy - 0.5
                        for x in 0..<w {
                            let fx = (Float(x) + 0.5) * sx - 0.5
                            dst[y * w + x] = scale * bilinear(src.p, sw, sh, fx, fy)
                        }
                    }
                }
            }
        }
        return out
    }
}

/// Bilinear interpolation at (x, y) of a W×H row-major plane, coordinates clamped to
/// [0, W−1] × [0, H−1] (border replicate).
@inline(__always)
func bilinear(_ p: UnsafePointer<Float>, _ w: Int, _ h: Int, _ x: Float, _ y: Float) -> Float {
    let cx = min(max(x, 0), Float(w - 1)), cy = min(max(y, 0), Float(h - 1))
    let x0 = min(Int(cx), w - 2 < 0 ? 0 : w - 2), y0 = min(Int(cy), h - 2 < 0 ? 0 : h - 2)
    let ax = cx - Float(x0), ay = cy - Float(y0)
    let x1 = min(x0 + 1, w - 1), y1 = min(y0 + 1, h - 1)
    let a = p[y0 * w + x0], b = p[y0 * w + x1], c = p[y1 * w + x0], d = p[y1 * w + x1]
    return (a + (b - a) * ax) * (1 - ay) + (c + (d - c) * ax) * ay
}

/// `bilinear` of two planes of the same size at the same point (one set of weights).
@inline(__always)
func bilinear2(_ p: UnsafePointer<Float>, _ q: UnsafePointer<Float>, _ w: Int, _ h: Int, _ x: Float, _ y: Float) -> (Float, Float) {
    let cx = min(max(x, 0), Float(w - 1)), cy = min(max(y, 0), Float(h - 1))
    let x0 = min(Int(cx), w - 2 < 0 ? 0 : w - 2), y0 = min(Int(cy), h - 2 < 0 ? 0 : h - 2)
    let ax = cx - Float(x0), ay = cy - Float(y0)
    let x1 = min(x0 + 1, w - 1), y1 = min(y0 + 1, h - 1)
    let i00 = y0 * w + x0, i01 = y0 * w + x1, i10 = y1 * w + x0, i11 = y1 * w + x1
    let pa = (p[i00] + (p[i01] - p[i00]) * ax) * (1 - ay) + (p[i10] + (p[i11] - p[i10]) * ax) * ay
    let qa = (q[i00] + (q[i01] - q[i00]) * ax) * (1 - ay) + (q[i10] + (q[i11] - q[i10]) * ax) * ay
    return (pa, qa)
}

/// A dense flow field: pixel (x, y) of image A moves to (x + u, y + v) in image B
/// (`I_A(x) ≈ I_B(x + F(x))`). Row-major, same size as A.
public struct FlowField: Sendable {
    public let width: Int
    public let height: Int
    public var u: [Float]
    public var v: [Float]

    public init(width: Int, height: Int) {
        self.width = width; self.height = height
        u = [Float](repeating: 0, count: width * height); v = u
    }

    /// Bilinear resize to another resolution, scaling the vectors by the size ratio.
    public func resized(width w: Int, height h: Int) -> FlowField {
        var out = FlowField(width: w, height: h)
        out.u = Plane(width: width, height: height, data: u).resized(width: w, height: h, scale: Float(w) / Float(width)).data
        out.v = Plane(width: width, height: height, data: v).resized(width: w, height: h, scale: Float(h) / Float(height)).data
        return out
    }
}
