import Foundation
// Variational refinement of a dense flow (the last stage of DIS, after Brox et al. 2004 and
// OpenCV's VariationalRefinement): minimise over increments (du, dv)
//
//   E = Σ δ·Ψ(data) + γ·Ψ(gradient) + α·Ψ(|∇(u+du)|² + |∇(v+dv)|²),   Ψ(s²) = sqrt(s² + ε²)
//
// with the data terms linearised around the current flow (I1 and its derivatives warped by the
// flow, averaged with I0's derivatives), each constancy term normalised by its local gradient
// energy (+ ζ²), fixed-point iterations that freeze the robust weights, and red-black SOR sweeps
// for the resulting 2×2-per-pixel linear system.
//
// The flow covers a rectangle `domain` of the pyramid level (the whole level, or a region of
// interest): domain pixel (x, y) is level pixel (domain.x0 + x, domain.y0 + y); I1 is sampled on
// the whole level. The domain's border has no smoothness edges to the outside.
// Layout: every buffer is a row-major W×H Float plane over the domain (W×H = domain size).
//
// Two implementations: `refine` (SIMD8 over a row, per-fixed-point coefficients precomputed,
// masked red-black SOR) and its naive twin `refineNaive` (per pixel, scalar), compared by tests.

struct VariationalRefinement {
    var alpha: Float, delta: Float, gamma: Float
    var iterations: Int
    var sorIterations = 5
    var omega: Float = 1.6
    let zeta2: Float = 0.01, eps2: Float = 0.000001

    /// Per-pixel linearised terms (channels, each W×H, channel c at `t + c · stride`):
    /// 0 Ix, 1 Iy, 2 Iz, 3 Ixx, 4 Ixy, 5 Iyy, 6 Ixz, 7 Iyz, 8 δ-normaliser, 9 γ-normaliser.
    /// Pixels whose warped position leaves the level keep all terms 0 (no data term).
    static let terms = 10

    /// Fills the term channels (which must be zeroed) for the current flow. Shared by both
    /// implementations.
    func computeTerms(_ t: UnsafeMutablePointer<Float>, stride n: Int, flow: FlowField,
                      p0: FlowPyramid, p1: FlowPyramid, level s: Int, domain D: LevelRect) {
        let w = flow.width, h = flow.height
        let lw = p0.levels[s].width, lh = p0.levels[s].height
        let delta = self.delta, gamma = self.gamma, zeta2 = self.zeta2
        let i0 = p0.levels[s], i1 = p1.levels[s]
        let planes0 = [p0.gx[s], p0.gy[s], p0.gxx[s], p0.gxy[s], p0.gyy[s]]
        let planes1 = [i1, p1.gx[s], p1.gy[s], p1.gxx[s], p1.gxy[s], p1.gyy[s]]
        let tp = SendablePointer(t)
        flow.u.withUnsafeBufferPointer { U in flow.v.withUnsafeBufferPointer { V in
            let up = SendableConstPointer(U.baseAddress!), vp = SendableConstPointer(V.baseAddress!)
            let a = planes1.map { p in p.data.withUnsafeBufferPointer { SendableConstPointer($0.baseAddress!) } }
            let b = planes0.map { p in p.data.withUnsafeBufferPointer { SendableConstPointer($0.baseAddress!) } }
            let i0p = i0.data.withUnsafeBufferPointer { SendableConstPointer($0.baseAddress!) }
            withExtendedLifetime((planes0, planes1, i0)) {
                Parallel.forBands(h, minBand: 16) { rows in
                    let t = tp.p
                    for y in rows {
                        for x in 0..<w {
                            let k = y * w + x
                            let X = D.x0 + x, Y = D.y0 + y, K = Y * lw + X
                            let fx = Float(X) + up[k], fy = Float(Y) + vp[k]
                            // No data term where the flow leaves the level.
                            guard fx >= 0 && fx <= Float(lw - 1) && fy >= 0 && fy <= Float(lh - 1) else { continue }
                            let x0 = min(Int(fx), lw - 2), y0 = min(Int(fy), lh - 2)
                            let ax = fx - Float(x0), ay = fy - Float(y0)
                            let w00 = (1 - ax) * (1 - ay), w01 = ax * (1 - ay), w10 = (1 - ax) * ay, w11 = ax * ay
                            let o = y0 * lw + x0
                            @inline(__always) func warped(_ c: Int) -> Float {
                                let p = a[c]
                                return w00 * p[o] + w01 * p[o + 1] + w10 * p[o + lw] + w11 * p[o + lw + 1]
                            }
                            let w1 = warped(0), w1x = warped(1), w1y = warped(2)
                            let ix = 0.5 * (w1x + b[0][K]), iy = 0.5 * (w1y + b[1][K])
                            let ixx = 0.5 * (warped(3) + b[2][K]), ixy = 0.5 * (warped(4) + b[3][K])
                            let iyy = 0.5 * (warped(5) + b[4][K])
                            t[k] = ix; t[n + k] = iy; t[2 * n + k] = w1 - i0p[K]
                            t[3 * n + k] = ixx; t[4 * n + k] = ixy; t[5 * n + k] = iyy
                            t[6 * n + k] = w1x - b[0][K]; t[7 * n + k] = w1y - b[1][K]
                            t[8 * n + k] = delta / (ix * ix + iy * iy + zeta2)
                            t[9 * n + k] = gamma / (ixx * ixx + 2 * ixy * ixy + iyy * iyy + zeta2)
                        }
                    }
                }
            }
        } }
    }

    // MARK: - Fast path

    /// Channels of the fast path's scratch buffer (each W×H with `pad` zeros before and after,
    /// so the ±1 and ±W neighbours of any pixel, and 8-wide loads from it, stay in the buffer).
    private enum Ch {
        static let u = 10, v = 11, du = 12, dv = 13
        /// Smoothness edge weights: ex (x → x+1), ey (y → y+1); 0 on the domain's last column / row.
        static let ex = 14, ey = 15
        /// The 2×2 system after folding in the smoothness of the frozen flow:
        /// [d11 a12; a12 d22] (du, dv) = (b1 + Σ w du_q, b2 + Σ w dv_q); stored as 1/d11, 1/d22.
        static let a12 = 16, b1 = 17, b2 = 18, inv11 = 19, inv22 = 20
        static let count = 21
    }

    /// Refines `flow` (the domain's flow at level s) in place.
    func refine(_ flow: inout FlowField, p0: FlowPyramid, p1: FlowPyramid, level s: Int, domain D: LevelRect) {
        let w = flow.width, h = flow.height, n = w * h
        guard w >= 3 && h >= 3 else { return }
        let pad = (w + 16 + 7) / 8 * 8, stride = n + 2 * pad
        let buf = UnsafeMutablePointer<Float>.allocate(capacity: Ch.count * stride)
        buf.initialize(repeating: 0, count: Ch.count * stride)
        defer { buf.deallocate() }
        let ch = SendablePointer(buf + pad)        // channel c at ch.p + c * stride
        computeTerms(ch.p, stride: stride, flow: flow, p0: p0, p1: p1, level: s, domain: D)
        flow.u.withUnsafeBufferPointer { U in flow.v.withUnsafeBufferPointer { V in
            (ch.p + Ch.u * stride).update(from: U.baseAddress!, count: n)
            (ch.p + Ch.v * stride).update(from: V.baseAddress!, count: n)
        } }
        for _ in 0..<iterations {
            Parallel.forBands(h, minBand: 8) { rows in
                for y in rows { self.coefficientsRow(ch.p, stride, w, h, y) }
            }
            Parallel.forBands(h, minBand: 8) { rows in
                for y in rows { self.systemRow(ch.p, stride, w, y) }
            }
            for _ in 0..<sorIterations {
                for colour in 0..<2 {
                    Parallel.forBandsFirstRowsLast(h, minBand: 8) { rows in
                        for y in rows { self.sorRow(ch.p, stride, w, y, colour) }
                    }
                }
            }
        }
        let du = ch.p + Ch.du * stride, dv = ch.p + Ch.dv * stride
        flow.u.withUnsafeMutableBufferPointer { U in flow.v.withUnsafeMutableBufferPointer { V in
            for k in 0..<n { U[k] += du[k]; V[k] += dv[k] }
        } }
    }

    /// Robust data weights and smoothness weights of row y for the frozen increments; writes
    /// a12, b1, b2, a11 (into inv11), a22 (into inv22), ex, ey.
    @inline(__always)
    private func coefficientsRow(_ c: UnsafeMutablePointer<Float>, _ n: Int, _ w: Int, _ h: Int, _ y: Int) {
        typealias V8 = SIMD8<Float>
        @inline(__always) func ld(_ ch: Int, _ k: Int) -> V8 { load8(UnsafePointer(c + ch * n), k) }
        @inline(__always) func st(_ ch: Int, _ k: Int, _ x: V8) { store8(c + ch * n, k, x) }
        let eps2 = V8(repeating: self.eps2), half = V8(repeating: 0.5), alpha = V8(repeating: self.alpha)
        var x = 0
        if y + 1 < h {
            // Lanes with x + 1 < w and y + 1 < h: both edges exist.
            while x + 8 <= w - 1 {
                let k = y * w + x
                let ix = ld(0, k), iy = ld(1, k), iz = ld(2, k)
                let ixx = ld(3, k), ixy = ld(4, k), iyy = ld(5, k), ixz = ld(6, k), iyz = ld(7, k)
                let d = ld(Ch.du, k), e = ld(Ch.dv, k)
                let rd = iz + ix * d + iy * e
                let pd = ld(8, k) * half / (rd * rd + eps2).squareRoot()
                let rgx = ixz + ixx * d + ixy * e, rgy = iyz + ixy * d + iyy * e
                let pg = ld(9, k) * half / (rgx * rgx + rgy * rgy + eps2).squareRoot()
                st(Ch.inv11, k, pd * ix * ix + pg * (ixx * ixx + ixy * ixy))
                st(Ch.a12, k, pd * ix * iy + pg * (ixx * ixy + ixy * iyy))
                st(Ch.inv22, k, pd * iy * iy + pg * (ixy * ixy + iyy * iyy))
                st(Ch.b1, k, V8() - pd * ix * iz - pg * (ixx * ixz + ixy * iyz))
                st(Ch.b2, k, V8() - pd * iy * iz - pg * (ixy * ixz + iyy * iyz))
                let cu = ld(Ch.u, k) + d, cv = ld(Ch.v, k) + e
                let ru = ld(Ch.u, k + 1) + ld(Ch.du, k + 1) - cu, rv = ld(Ch.v, k + 1) + ld(Ch.dv, k + 1) - cv
                let bu = ld(Ch.u, k + w) + ld(Ch.du, k + w) - cu, bv = ld(Ch.v, k + w) + ld(Ch.dv, k + w) - cv
                let ws = alpha * half / (ru * ru + rv * rv + bu * bu + bv * bv + eps2).squareRoot()
                st(Ch.ex, k, ws); st(Ch.ey, k, ws)
                x += 8
            }
        }
        while x < w { coefficientsPixel(c, n, w, h, x, y); x += 1 }
    }

    /// Scalar version of `coefficientsRow` for one pixel (row tails and the naive twin).
    @inline(__always)
    private func coefficientsPixel(_ c: UnsafeMutablePointer<Float>, _ n: Int, _ w: Int, _ h: Int, _ x: Int, _ y: Int) {
        let k = y * w + x
        let ix = c[k], iy = c[n + k], iz = c[2 * n + k]
        let ixx = c[3 * n + k], ixy = c[4 * n + k], iyy = c[5 * n + k], ixz = c[6 * n + k], iyz = c[7 * n + k]
        let d = c[Ch.du * n + k], e = c[Ch.dv * n + k]
        let rd = iz + ix * d + iy * e
        let pd = c[8 * n + k] * 0.5 / (rd * rd + eps2).squareRoot()
        let rgx = ixz + ixx * d + ixy * e, rgy = iyz + ixy * d + iyy * e
        let pg = c[9 * n + k] * 0.5 / (rgx * rgx + rgy * rgy + eps2).squareRoot()
        c[Ch.inv11 * n + k] = pd * ix * ix + pg * (ixx * ixx + ixy * ixy)
        c[Ch.a12 * n + k] = pd * ix * iy + pg * (ixx * ixy + ixy * iyy)
        c[Ch.inv22 * n + k] = pd * iy * iy + pg * (ixy * ixy + iyy * iyy)
        c[Ch.b1 * n + k] = -pd * ix * iz - pg * (ixx * ixz + ixy * iyz)
        c[Ch.b2 * n + k] = -pd * iy * iz - pg * (ixy * ixz + iyy * iyz)
        let u = c + Ch.u * n, v = c + Ch.v * n, du = c + Ch.du * n, dv = c + Ch.dv * n
        let cu = u[k] + d, cv = v[k] + e
        let ru = x + 1 < w ? u[k + 1] + du[k + 1] - cu : 0, rv = x + 1 < w ? v[k + 1] + dv[k + 1] - cv : 0
        let bu = y + 1 < h ? u[k + w] + du[k + w] - cu : 0, bv = y + 1 < h ? v[k + w] + dv[k + w] - cv : 0
        let ws = alpha * 0.5 / (ru * ru + rv * rv + bu * bu + bv * bv + eps2).squareRoot()
        c[Ch.ex * n + k] = x + 1 < w ? ws : 0
        c[Ch.ey * n + k] = y + 1 < h ? ws : 0
    }

    /// Folds the smoothness of the frozen flow into the system of row y:
    /// d11 = a11 + Σ w, b1 += Σ w (u_q − u_p) (same for v); stores 1/d11, 1/d22.
    /// d11 ≥ Σ w > 0 (every pixel of a ≥ 3×3 domain has an edge, and edge weights are > 0).
    @inline(__always)
    private func systemRow(_ c: UnsafeMutablePointer<Float>, _ n: Int, _ w: Int, _ y: Int) {
        typealias V8 = SIMD8<Float>
        @inline(__always) func ld(_ ch: Int, _ k: Int) -> V8 { load8(UnsafePointer(c + ch * n), k) }
        @inline(__always) func st(_ ch: Int, _ k: Int, _ x: V8) { store8(c + ch * n, k, x) }
        // Neighbour reads across the row ends are harmless: the edge weight there is 0 (ex of the
        // last column, ey of the row above the domain = padding) and the value read is finite.
        var x = 0
        let one = V8(repeating: 1)
        while x + 8 <= w {
            let k = y * w + x
            let el = ld(Ch.ex, k - 1), er = ld(Ch.ex, k), eu = ld(Ch.ey, k - w), ed = ld(Ch.ey, k)
            let sw = el + er + eu + ed
            let u = ld(Ch.u, k), v = ld(Ch.v, k)
            let cu = el * (ld(Ch.u, k - 1) - u) + er * (ld(Ch.u, k + 1) - u) + eu * (ld(Ch.u, k - w) - u) + ed * (ld(Ch.u, k + w) - u)
            let cv = el * (ld(Ch.v, k - 1) - v) + er * (ld(Ch.v, k + 1) - v) + eu * (ld(Ch.v, k - w) - v) + ed * (ld(Ch.v, k + w) - v)
            st(Ch.b1, k, ld(Ch.b1, k) + cu); st(Ch.b2, k, ld(Ch.b2, k) + cv)
            st(Ch.inv11, k, one / (ld(Ch.inv11, k) + sw)); st(Ch.inv22, k, one / (ld(Ch.inv22, k) + sw))
            x += 8
        }
        while x < w {
            let k = y * w + x
            let ex = c + Ch.ex * n, ey = c + Ch.ey * n, u = c + Ch.u * n, v = c + Ch.v * n
            let el = ex[k - 1], er = ex[k], eu = ey[k - w], ed = ey[k]
            let sw = el + er + eu + ed
            let cu = el * (u[k - 1] - u[k]) + er * (u[k + 1] - u[k]) + eu * (u[k - w] - u[k]) + ed * (u[k + w] - u[k])
            let cv = el * (v[k - 1] - v[k]) + er * (v[k + 1] - v[k]) + eu * (v[k - w] - v[k]) + ed * (v[k + w] - v[k])
            c[Ch.b1 * n + k] += cu; c[Ch.b2 * n + k] += cv
            c[Ch.inv11 * n + k] = 1 / (c[Ch.inv11 * n + k] + sw); c[Ch.inv22 * n + k] = 1 / (c[Ch.inv22 * n + k] + sw)
            x += 1
        }
    }

    /// One red-black SOR half-sweep over row y: pixels with (x + y) % 2 == colour. A colour's
    /// pixels only read pixels of the other colour, so 8 lanes are computed at once and only the
    /// colour's lanes are kept (the others are stored back unchanged).
    @inline(__always)
    private func sorRow(_ c: UnsafeMutablePointer<Float>, _ n: Int, _ w: Int, _ y: Int, _ colour: Int) {
        typealias V8 = SIMD8<Float>
        @inline(__always) func ld(_ ch: Int, _ k: Int) -> V8 { load8(UnsafePointer(c + ch * n), k) }
        let du = c + Ch.du * n, dv = c + Ch.dv * n
        let omega = V8(repeating: self.omega)
        // Lane i of a chunk starting at an even x is pixel x + i: updated when (i + y + colour) is even.
        let lanes = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7) &+ Int32((y + colour) & 1)
        let mask = (lanes & 1) .== 0
        var x = 0
        while x + 8 <= w {
            let k = y * w + x
            let el = ld(Ch.ex, k - 1), er = ld(Ch.ex, k), eu = ld(Ch.ey, k - w), ed = ld(Ch.ey, k)
            let nu = el * ld(Ch.du, k - 1) + er * ld(Ch.du, k + 1) + eu * ld(Ch.du, k - w) + ed * ld(Ch.du, k + w)
            let nv = el * ld(Ch.dv, k - 1) + er * ld(Ch.dv, k + 1) + eu * ld(Ch.dv, k - w) + ed * ld(Ch.dv, k + w)
            let a12 = ld(Ch.a12, k)
            let d = ld(Ch.du, k), e = ld(Ch.dv, k)
            let d1 = d.replacing(with: d + omega * ((ld(Ch.b1, k) + nu - a12 * e) * ld(Ch.inv11, k) - d), where: mask)
            let e1 = e.replacing(with: e + omega * ((ld(Ch.b2, k) + nv - a12 * d1) * ld(Ch.inv22, k) - e), where: mask)
            store8(du, k, d1); store8(dv, k, e1)
            x += 8
        }
        x += (x + y + colour) & 1
        while x < w {
            let k = y * w + x
            let ex = c + Ch.ex * n, ey = c + Ch.ey * n
            let el = ex[k - 1], er = ex[k], eu = ey[k - w], ed = ey[k]
            let nu = el * du[k - 1] + er * du[k + 1] + eu * du[k - w] + ed * du[k + w]
            let nv = el * dv[k - 1] + er * dv[k + 1] + eu * dv[k - w] + ed * dv[k + w]
            let a12 = c[Ch.a12 * n + k]
            du[k] += self.omega * ((c[Ch.b1 * n + k] + nu - a12 * dv[k]) * c[Ch.inv11 * n + k] - du[k])
            dv[k] += self.omega * ((c[Ch.b2 * n + k] + nv - a12 * du[k]) * c[Ch.inv22 * n + k] - dv[k])
            x += 2
        }
    }

    // MARK: - Naive twin

    /// Naive twin of `refine`: per pixel, scalar, the smoothness sums recomputed from the flow
    /// in every SOR step (the formulation the fast path rearranges).
    func refineNaive(_ flow: inout FlowField, p0: FlowPyramid, p1: FlowPyramid, level s: Int, domain D: LevelRect) {
        let w = flow.width, h = flow.height, n = w * h
        guard w >= 3 && h >= 3 else { return }
        var T = [Float](repeating: 0, count: Self.terms * n)
        // System per pixel: a11 a12 a22 b1 b2, smoothness edge weights sx (x→x+1), sy (y→y+1).
        var S = [Float](repeating: 0, count: 7 * n)
        var du = [Float](repeating: 0, count: n), dv = du
        T.withUnsafeMutableBufferPointer { computeTerms($0.baseAddress!, stride: n, flow: flow, p0: p0, p1: p1, level: s, domain: D) }
        for _ in 0..<iterations {
            for y in 0..<h {
                for x in 0..<w {
                    let k = y * w + x
                    let ix = T[k], iy = T[n + k], iz = T[2 * n + k]
                    let ixx = T[3 * n + k], ixy = T[4 * n + k], iyy = T[5 * n + k]
                    let ixz = T[6 * n + k], iyz = T[7 * n + k]
                    let d = du[k], e = dv[k]
                    let rd = iz + ix * d + iy * e
                    let pd = T[8 * n + k] * 0.5 / (rd * rd + eps2).squareRoot()
                    let rgx = ixz + ixx * d + ixy * e, rgy = iyz + ixy * d + iyy * e
                    let pg = T[9 * n + k] * 0.5 / (rgx * rgx + rgy * rgy + eps2).squareRoot()
                    S[k] = pd * ix * ix + pg * (ixx * ixx + ixy * ixy)
                    S[n + k] = pd * ix * iy + pg * (ixx * ixy + ixy * iyy)
                    S[2 * n + k] = pd * iy * iy + pg * (ixy * ixy + iyy * iyy)
                    S[3 * n + k] = -pd * ix * iz - pg * (ixx * ixz + ixy * iyz)
                    S[4 * n + k] = -pd * iy * iz - pg * (ixy * ixz + iyy * iyz)
                    let cu = flow.u[k] + d, cv = flow.v[k] + e
                    let ru = x + 1 < w ? flow.u[k + 1] + du[k + 1] - cu : 0
                    let rv = x + 1 < w ? flow.v[k + 1] + dv[k + 1] - cv : 0
                    let bu = y + 1 < h ? flow.u[k + w] + du[k + w] - cu : 0
                    let bv = y + 1 < h ? flow.v[k + w] + dv[k + w] - cv : 0
                    let ws = alpha * 0.5 / (ru * ru + rv * rv + bu * bu + bv * bv + eps2).squareRoot()
                    S[5 * n + k] = x + 1 < w ? ws : 0
                    S[6 * n + k] = y + 1 < h ? ws : 0
                }
            }
            for _ in 0..<sorIterations {
                for colour in 0..<2 {
                    for y in 0..<h {
                        var x = (y + colour) & 1
                        while x < w {
                            let k = y * w + x
                            // Σ over neighbours q of w_pq, w_pq (u_q + du_q − u_p), w_pq (v_q + dv_q − v_p).
                            var sw: Float = 0, su: Float = 0, sv: Float = 0
                            let uk = flow.u[k], vk = flow.v[k]
                            func edge(_ q: Int, _ e: Float) {
                                sw += e; su += e * (flow.u[q] + du[q] - uk); sv += e * (flow.v[q] + dv[q] - vk)
                            }
                            if x > 0 { edge(k - 1, S[5 * n + k - 1]) }
                            if x + 1 < w { edge(k + 1, S[5 * n + k]) }
                            if y > 0 { edge(k - w, S[6 * n + k - w]) }
                            if y + 1 < h { edge(k + w, S[6 * n + k]) }
                            let d11 = S[k] + sw, d22 = S[2 * n + k] + sw, a12 = S[n + k]
                            if d11 > 0 { du[k] = (1 - omega) * du[k] + omega * (S[3 * n + k] + su - a12 * dv[k]) / d11 }
                            if d22 > 0 { dv[k] = (1 - omega) * dv[k] + omega * (S[4 * n + k] + sv - a12 * du[k]) / d22 }
                            x += 2
                        }
                    }
                }
            }
        }
        for k in 0..<n { flow.u[k] += du[k]; flow.v[k] += dv[k] }
    }
}

/// Unaligned store of 8 consecutive floats.
@inline(__always) func store8(_ p: UnsafeMutablePointer<Float>, _ at: Int, _ x: SIMD8<Float>) {
    UnsafeMutableRawPointer(p + at).storeBytes(of: x, as: SIMD8<Float>.self)
}
