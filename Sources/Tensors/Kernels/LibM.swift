// Scalar libm functions used by the reference kernels and table builders.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

@inline(__always) func libmExp(_ x: Double) -> Double { exp(x) }
@inline(__always) func libmErf(_ x: Double) -> Double { erf(x) }
@inline(__always) func libmSinf(_ x: Float) -> Float { sinf(x) }
@inline(__always) func libmCosf(_ x: Float) -> Float { cosf(x) }
@inline(__always) func libmPowf(_ x: Float, _ y: Float) -> Float { powf(x, y) }
@inline(__always) func libmSqrt(_ x: Double) -> Double { sqrt(x) }
