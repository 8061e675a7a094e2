// Deterministic synthetic clips with exact ground truth, for tests and `gar bench track`.
//
// A textured background (smooth colour field + fine value-noise texture) pans slowly; textured
// objects (checker in the object's own coordinates, so texture moves, turns and scales with it)
// move along straight paths while rotating and scaling. Objects are drawn in order, later ones
// in front: ground truth of each object is its VISIBLE part (as DAVIS annotates), so a passing
// object occludes an earlier one. An object may leave the frame and come back (its masks are
// then empty, as they would be in a real annotation).
// Everything is pure integer/float arithmetic from the spec: same spec → same pixels.
import Video

public struct SyntheticObject: Sendable {
    public enum Shape: Sendable { case ellipse, roundedBox }
    public var shape: Shape
    /// Half sizes in pixels at scale 1.
    public var radiusX: Float, radiusY: Float
    /// Centre at frame 0 and velocity in pixels per frame.
    public var start: (x: Float, y: Float)
    public var velocity: (x: Float, y: Float)
    /// Angle at frame 0 and angular speed (radians, radians per frame).
    public var angle: Float, spin: Float
    /// Scale s(t) = 1 + scaleAmplitude · sin(2π t / scalePeriod).
    public var scaleAmplitude: Float, scalePeriod: Float
    /// Checker colours (RGB) and cell size.
    public var colorA: (UInt8, UInt8, UInt8), colorB: (UInt8, UInt8, UInt8)
    public var cell: Float
    /// Optional turn-around: after this frame the velocity is reversed (to leave and re-enter).
    public var reverseAt: Int?

    public init(shape: Shape, radiusX: Float, radiusY: Float, start: (x: Float, y: Float), velocity: (x: Float, y: Float),
                angle: Float = 0, spin: Float = 0, scaleAmplitude: Float = 0, scalePeriod: Float = 40,
                colorA: (UInt8, UInt8, UInt8), colorB: (UInt8, UInt8, UInt8), cell: Float = 7, reverseAt: Int? = nil) {
        self.shape = shape; self.radiusX = radiusX; self.radiusY = radiusY; self.start = start; self.velocity = velocity
        self.angle = angle; self.spin = spin; self.scaleAmplitude = scaleAmplitude; self.scalePeriod = scalePeriod
        self.colorA = colorA; self.colorB = colorB; self.cell = cell; self.reverseAt = reverseAt
    }

    /// Centre, angle and scale at frame t.
    func pose(_ t: Int) -> (cx: Float, cy: Float, angle: Float, scale: Float) {
        var cx = start.x, cy = start.y
        if let r = reverseAt, t > r {
            cx += velocity.x * Float(r) - velocity.x * Float(t - r); cy += velocity.y * Float(r) - velocity.y * Float(t - r)
        } else {
            cx += velocity.x * Float(t); cy += velocity.y * Float(t)
        }
        let s = 1 + scaleAmplitude * sinf(2 * Float.pi * Float(t) / scalePeriod)
        return (cx, cy, angle + spin * Float(t), s)
    }
}

public struct SyntheticClip: Sendable {
    public let width: Int, height: Int
    public let frames: [RGBImage]
    /// `masks[object][frame]`: the visible part of each object.
    public let masks: [[Mask]]

    /// Renders `count` frames of `objects` over a background panning by `pan` px/frame.
    public init(width: Int, height: Int, count: Int, objects: [SyntheticObject], pan: (x: Float, y: Float) = (0.6, 0.3), seed: UInt32 = 1) {
        self.width = width; self.height = height
        var frames: [RGBImage] = []
        var masks = [[Mask]](repeating: [], count: objects.count)
        for t in 0..<count {
            var img = RGBImage(width: width, height: height)
            var owner = [Int8](repeating: -1, count: width * height)
            let ox = pan.x * Float(t), oy = pan.y * Float(t)
            for y in 0..<height {
                for x in 0..<width {
                    let (r, g, b) = Self.background(Float(x) + ox, Float(y) + oy, seed)
                    let k = 3 * (y * width + x)
                    img.pixels[k] = r; img.pixels[k + 1] = g; img.pixels[k + 2] = b
                }
            }
            for (oi, o) in objects.enumerated() {
                let p = o.pose(t)
                let ca = cosf(-p.angle), sa = sinf(-p.angle)
                let reach = Int(max(o.radiusX, o.radiusY) * p.scale * 1.5) + 2
                let x0 = max(0, Int(p.cx) - reach), x1 = min(width - 1, Int(p.cx) + reach)
                let y0 = max(0, Int(p.cy) - reach), y1 = min(height - 1, Int(p.cy) + reach)
                guard x0 <= x1 && y0 <= y1 else { continue }
                for y in y0...y1 {
                    for x in x0...x1 {
                        let dx = (Float(x) + 0.5 - p.cx) / p.scale, dy = (Float(y) + 0.5 - p.cy) / p.scale
                        let u = ca * dx - sa * dy, v = sa * dx + ca * dy
                        guard Self.inside(o, u, v) else { continue }
                        let checker = (Int((u + 1000) / o.cell) + Int((v + 1000) / o.cell)) & 1 == 0
                        let base = checker ? o.colorA : o.colorB
                        let n = Int(Self.hash(Int32(u * 3), Int32(v * 3), seed &+ UInt32(oi + 7)) % 21) - 10
                        let k = 3 * (y * width + x)
                        img.pixels[k] = clampByte(Int(base.0) + n)
                        img.pixels[k + 1] = clampByte(Int(base.1) + n)
                        img.pixels[k + 2] = clampByte(Int(base.2) + n)
                        owner[y * width + x] = Int8(oi)
                    }
                }
            }
            for oi in 0..<objects.count {
                var m = Mask(width: width, height: height)
                for i in 0..<(width * height) where owner[i] == Int8(oi) { m.bits[i] = 1 }
                masks[oi].append(m)
            }
            frames.append(img)
        }
        self.frames = frames; self.masks = masks
    }

    static func inside(_ o: SyntheticObject, _ u: Float, _ v: Float) -> Bool {
        switch o.shape {
        case .ellipse:
            return (u / o.radiusX) * (u / o.radiusX) + (v / o.radiusY) * (v / o.radiusY) <= 1
        case .roundedBox:
            let r = 0.3 * min(o.radiusX, o.radiusY)
            let qx = max(abs(u) - (o.radiusX - r), 0), qy = max(abs(v) - (o.radiusY - r), 0)
            return qx * qx + qy * qy <= r * r
        }
    }

    /// Background colour at world position (x, y): greens and blues with a fine texture.
    static func background(_ x: Float, _ y: Float, _ seed: UInt32) -> (UInt8, UInt8, UInt8) {
        let low = 0.5 + 0.25 * sinf(x * 0.031) + 0.25 * cosf(y * 0.043 + x * 0.011)
        let tex = valueNoise(x / 3, y / 3, seed) * 0.6 + valueNoise(x / 9, y / 9, seed &+ 11) * 0.4
        let r = 40 + 50 * low + 40 * tex
        let g = 90 + 70 * tex + 30 * low
        let b = 110 + 60 * (1 - low) + 50 * tex
        return (clampByte(Int(r)), clampByte(Int(g)), clampByte(Int(b)))
    }

    /// Smooth value noise in [0, 1] (bilinear between hashed lattice values).
    static func valueNoise(_ x: Float, _ y: Float, _ seed: UInt32) -> Float {
        let xf = floorf(x), yf = floorf(y)
        let ix = Int32(xf), iy = Int32(yf)
        let fx = x - xf, fy = y - yf
        let sx = fx * fx * (3 - 2 * fx), sy = fy * fy * (3 - 2 * fy)
        func h(_ a: Int32, _ b: Int32) -> Float { Float(hash(a, b, seed) & 0xFFFF) / 65535 }
        let a = h(ix, iy), b = h(ix + 1, iy), c = h(ix, iy + 1), d = h(ix + 1, iy + 1)
        return (a + (b - a) * sx) * (1 - sy) + (c + (d - c) * sx) * sy
    }

    static func hash(_ x: Int32, _ y: Int32, _ seed: UInt32) -> UInt32 {
        var h = UInt32(bitPattern: x) &* 0x27D4EB2D ^ UInt32(bitPattern: y) &* 0x165667B1 ^ seed &* 0x9E3779B9
        h ^= h >> 15; h = h &* 0x85EBCA6B; h ^= h >> 13; h = h &* 0xC2B2AE35; h ^= h >> 16
        return h
    }

    /// The standard test clip (60 frames): an orange ellipse that turns and scales, is crossed
    /// in front of by a magenta rounded box around frames 6–16, leaves through the right edge
    /// (fully out around frames 31–38) and comes back; the box also turns and scales.
    public static func standard(width: Int = 320, height: Int = 192, count: Int = 60) -> SyntheticClip {
        let sx = Float(width) / 320, sy = Float(height) / 192, tk = Float(60) / Float(max(count, 2))
        let a = SyntheticObject(shape: .ellipse, radiusX: 34 * sx, radiusY: 22 * sy, start: (180 * sx, 100 * sy),
                                velocity: (6 * sx * tk, 0.3 * sy * tk), angle: 0.2, spin: 0.03 * tk, scaleAmplitude: 0.15,
                                scalePeriod: 60 / tk, colorA: (235, 140, 30), colorB: (200, 60, 20), reverseAt: Int(34 / tk))
        let b = SyntheticObject(shape: .roundedBox, radiusX: 22 * sx, radiusY: 30 * sy, start: (300 * sx, 150 * sy),
                                velocity: (-5 * sx * tk, -1.0 * sy * tk), angle: -0.3, spin: -0.02 * tk, scaleAmplitude: 0.1,
                                scalePeriod: 30 / tk, colorA: (230, 60, 200), colorB: (250, 240, 250))
        return SyntheticClip(width: width, height: height, count: count, objects: [a, b])
    }
}

@inline(__always) func clampByte(_ v: Int) -> UInt8 { UInt8(max(0, min(255, v))) }

import Foundation
