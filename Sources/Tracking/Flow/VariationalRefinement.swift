// Variational refinement of a dense flow (the last stage of DIS, after Brox et al. 2004 and
// OpenCV's VariationalRefinement): minimise over increments (du, dv)
//
//   E = Σ δ·Ψ(data) + γ·Ψ(gradient) + α·Ψ(|∇(u+du)|² + |∇(v+dv)|²),   Ψ(s²) = sqrt(s² + ε²)
//
// with the data terms linearised around the current flow (I1 and its derivatives warped by the
// flow, averaged with I0's derivatives), each constancy term normalised by its local gradient
// energy (+ ζ²), fixed-point iterations that freeze the robust weights, and red-black SOR sweeps
// for the resulting 2×2-per-pixel linear system.
// Layout: every buffer is a row-major W×H Float plane of the level being refined.

struct VariationalRefinement {
    var alpha: Float, delta: Float, gamma: Float
    var iterations: Int
    var sorIterations = 5
    var omega: Float = 1.6
    let zeta2: Float = 0.01, eps2: Float = 0.000001

    /// Per-pixel linearised terms (channels of one buffer, each W×H):
    /// 0 Ix, 1 Iy, 2 Iz, 3 Ixx, 4 Ixy, 5 Iyy, 6 Ixz, 7 Iyz, 8 δ-normaliser, 9 γ-normaliser.
    static let terms = 10

    func refine(_ flow: inout FlowField, p0: FlowPyramid, p1: FlowPyramid, level s: Int) {
        let w = flow.width, h = flow.height, n = w * h
        guard w >= 3 && h >= 3 else { return }
        var T = [Float](repeating: 0, count: Self.terms * n)
        // System per pixel: a11 a12 a22 b1 b2, smoothness edge weights sx (x→x+1), sy (y→y+1).
        var S = [Float](repeating: 0, count: 7 * n)
        var du = [Float](repeating: 0, count: n), dv = du
        let delta = self.delta, gamma = self.gamma, zeta2 = self.zeta2, eps2 = self.eps2, alpha = self.alpha
        let i0 = p0.levels[s], i1 = p1.levels[s]
        let planes0 = [p0.gx[s], p0.gy[s], p0.gxx[s], p0.gxy[s], p0.gyy[s]]
        let planes1 = [i1, p1.gx[s], p1.gy[s], p1.gxx[s], p1.gxy[s], p1.gyy[s]]
        flow.u.withUnsafeBufferPointer { U in flow.v.withUnsafeBufferPointer { V in
        T.withUnsafeMutableBufferPointer { TB in
            let up = SendableConstPointer(U.baseAddress!), vp = SendableConstPointer(V.baseAddress!)
            let t = SendablePointer(TB.baseAddress!)
            let a = planes1.map { p in p.data.withUnsafeBufferPointer { SendableConstPointer($0.baseAddress!) } }
            let b = planes0.map { p in p.data.withUnsafeBufferPointer { SendableConstPointer($0.baseAddress!) } }
            let i0p = i0.data.withUnsafeBufferPointer { SendableConstPointer($0.baseAddress!) }
            withExtendedLifetime((planes0, planes1, i0)) {
                Parallel.forBands(h, minBand: 16) { rows in
                    for y in rows {
                        for x in 0..<w {
                            let k = y * w + x
                            let fx = Float(x) + up[k], fy = Float(y) + vp[k]
                            // No data term where the flow leaves the image.
                            guard fx >= 0 && fx <= Float(w - 1) && fy >= 0 && fy <= Float(h - 1) else { continue }
                            let x0 = min(Int(fx), w - 2), y0 = min(Int(fy), h - 2)
                            let ax = fx - Float(x0), ay = fy - Float(y0)
                            let w00 = (1 - ax) * (1 - ay), w01 = ax * (1 - ay), w10 = (1 - ax) * ay, w11 = ax * ay
                            let o = y0 * w + x0
                            @inline(__always) func warped(_ c: Int) -> Float {
                                let p = a[c]
                                return w00 * p[o] + w01 * p[o + 1] + w10 * p[o + w] + w11 * p[o + w + 1]
                            }
                            let w1 = warped(0), w1x = warped(1), w1y = warped(2)
                            let ix = 0.5 * (w1x + b[0][k]), iy = 0.5 * (w1y + b[1][k])
                            let ixx = 0.5 * (warped(3) + b[2][k]), ixy = 0.5 * (warped(4) + b[3][k])
                            let iyy = 0.5 * (warped(5) + b[4][k])
                            t[k] = ix; t[n + k] = iy; t[2 * n + k] = w1 - i0p[k]
                            t[3 * n + k] = ixx; t[4 * n + k] = ixy; t[5 * n + k] = iyy
                            t[6 * n + k] = w1x - b[0][k]; t[7 * n + k] = w1y - b[1][k]
                            t[8 * n + k] = delta / (ix * ix + iy * iy + zeta2)
                            t[9 * n + k] = gamma / (ixx * ixx + 2 * ixy * ixy + iyy * iyy + zeta2)
                        }
                    }
                }
            }
        } } }

        for _ in 0..<iterations {
            T.withUnsafeBufferPointer { TB in S.withUnsafeMutableBufferPointer { SB in
            du.withUnsafeBufferPointer { DU in dv.withUnsafeBufferPointer { DV in
            flow.u.withUnsafeBufferPointer { U in flow.v.withUnsafeBufferPointer { V in
                let t = SendableConstPointer(TB.baseAddress!), sy = SendablePointer(SB.baseAddress!)
                let dup = SendableConstPointer(DU.baseAddress!), dvp = SendableConstPointer(DV.baseAddress!)
                let up = SendableConstPointer(U.baseAddress!), vp = SendableConstPointer(V.baseAddress!)
                Parallel.forBands(h, minBand: 16) { rows in
                    for y in rows {
                        for x in 0..<w {
                            let k = y * w + x
                            // Robust data weights for the frozen increments.
                            let ix = t[k], iy = t[n + k], iz = t[2 * n + k]
                            let ixx = t[3 * n + k], ixy = t[4 * n + k], iyy = t[5 * n + k]
                            let ixz = t[6 * n + k], iyz = t[7 * n + k]
                            let d = du_(dup, k), e = dvp[k]
                            let rd = iz + ix * d + iy * e
                            let pd = t[8 * n + k] * 0.5 / (rd * rd + eps2).squareRoot()
                            let rgx = ixz + ixx * d + ixy * e, rgy = iyz + ixy * d + iyy * e
                            let pg = t[9 * n + k] * 0.5 / (rgx * rgx + rgy * rgy + eps2).squareRoot()
                            sy[k] = pd * ix * ix + pg * (ixx * ixx + ixy * ixy)
                            sy[n + k] = pd * ix * iy + pg * (ixx * ixy + ixy * iyy)
                            sy[2 * n + k] = pd * iy * iy + pg * (ixy * ixy + iyy * iyy)
                            sy[3 * n + k] = -pd * ix * iz - pg * (ixx * ixz + ixy * iyz)
                            sy[4 * n + k] = -pd * iy * iz - pg * (ixy * ixz + iyy * iyz)
                            // Smoothness weights of the edges to the right and below.
                            let cu = up[k] + d, cv = vp[k] + e
                            let ru = x + 1 < w ? up[k + 1] + dup[k + 1] - cu : 0
                            let rv = x + 1 < w ? vp[k + 1] + dvp[k + 1] - cv : 0
                            let bu = y + 1 < h ? up[k + w] + dup[k + w] - cu : 0
                            let bv = y + 1 < h ? vp[k + w] + dvp[k + w] - cv : 0
                            let g = ru * ru + rv * rv + bu * bu + bv * bv
                            let ws = alpha * 0.5 / (g + eps2).squareRoot()
                            sy[5 * n + k] = x + 1 < w ? ws : 0
                            sy[6 * n + k] = y + 1 < h ? ws : 0
                        }
                    }
                }
            } } } } } }
            for _ in 0..<sorIterations {
                for colour in 0..<2 { sor(colour: colour, w: w, h: h, u: flow.u, v: flow.v, du: &du, dv: &dv, S: S) }
            }
        }
        for k in 0..<n { flow.u[k] += du[k]; flow.v[k] += dv[k] }
    }

    private func sor(colour: Int, w: Int, h: Int, u: [Float], v: [Float], du: inout [Float], dv: inout [Float], S: [Float]) {
        let omega = self.omega, n = w * h
        u.withUnsafeBufferPointer { U in v.withUnsafeBufferPointer { V in S.withUnsafeBufferPointer { SB in
        du.withUnsafeMutableBufferPointer { DU in dv.withUnsafeMutableBufferPointer { DV in
            let up = SendableConstPointer(U.baseAddress!), vp = SendableConstPointer(V.baseAddress!)
            let s = SendableConstPointer(SB.baseAddress!)
            let dup = SendablePointer(DU.baseAddress!), dvp = SendablePointer(DV.baseAddress!)
            Parallel.forBands(h, minBand: 16) { rows in
                for y in rows {
                    var x = (y + colour) & 1
                    while x < w {
                        let k = y * w + x
                        // Σ over neighbours q of w_pq, w_pq (u_q + du_q − u_p), w_pq (v_q + dv_q − v_p).
                        var sw: Float = 0, su: Float = 0, sv: Float = 0
                        let uk = up[k], vk = vp[k]
                        if x > 0 { let q = k - 1, e = s[5 * n + q]; sw += e; su += e * (up[q] + dup[q] - uk); sv += e * (vp[q] + dvp[q] - vk) }
                        if x + 1 < w { let q = k + 1, e = s[5 * n + k]; sw += e; su += e * (up[q] + dup[q] - uk); sv += e * (vp[q] + dvp[q] - vk) }
                        if y > 0 { let q = k - w, e = s[6 * n + q]; sw += e; su += e * (up[q] + dup[q] - uk); sv += e * (vp[q] + dvp[q] - vk) }
                        if y + 1 < h { let q = k + w, e = s[6 * n + k]; sw += e; su += e * (up[q] + dup[q] - uk); sv += e * (vp[q] + dvp[q] - vk) }
                        let d11 = s[k] + sw, d22 = s[2 * n + k] + sw, a12 = s[n + k]
                        if d11 > 0 { dup[k] = (1 - omega) * dup[k] + omega * (s[3 * n + k] + su - a12 * dvp[k]) / d11 }
                        if d22 > 0 { dvp[k] = (1 - omega) * dvp[k] + omega * (s[4 * n + k] + sv - a12 * dup[k]) / d22 }
                        x += 2
                    }
                }
            }
        } } } } }
    }
}

@inline(__always) private func du_(_ p: SendableConstPointer<Float>, _ k: Int) -> Float { p[k] }
