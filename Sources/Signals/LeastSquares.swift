import Foundation

/// Ordinary least squares by Householder QR (no normal equations: a level column beside small
/// differences stays accurate): the coefficients, the sum of squared residuals, each
/// coefficient's standard error and t value, and the residuals.
public struct LeastSquares: Sendable {
    public let coefficients: [Double]
    public let standardErrors: [Double]
    /// The sum of squared residuals.
    public let ssr: Double
    public let residuals: [Double]
    public let rows: Int

    /// Regresses `y` on the regressors `columns` (each as long as `y`); nil when there are no
    /// more rows than regressors, or the regressors are (numerically) collinear.
    public init?(columns: [[Double]], y: [Double]) {
        let n = y.count, k = columns.count
        guard k > 0, n > k, columns.allSatisfy({ $0.count == n }) else { return nil }
        var a = columns, qty = y
        var scale = 0.0
        for c in columns { for v in c { scale = max(scale, abs(v)) } }
        for j in 0..<k {
            // The reflection that zeroes column j below the diagonal.
            var norm = 0.0
            for i in j..<n { norm += a[j][i] * a[j][i] }
            norm = norm.squareRoot()
            guard norm > 1e-12 * max(scale, 1e-300) else { return nil }
            let alpha = a[j][j] > 0 ? -norm : norm
            var v = Array(a[j][j..<n])
            v[0] -= alpha
            var vv = 0.0
            for e in v { vv += e * e }
            guard vv > 0 else { continue }
            func reflect(_ col: inout [Double]) {
                var dot = 0.0
                for i in j..<n { dot += v[i - j] * col[i] }
                let f = 2 * dot / vv
                for i in j..<n { col[i] -= f * v[i - j] }
            }
            for c in (j + 1)..<max(j + 1, k) { reflect(&a[c]) }
            reflect(&qty)
            a[j][j] = alpha
            for i in (j + 1)..<n { a[j][i] = 0 }
        }
        // R β = (Qᵀy)[0..<k]; (XᵀX)⁻¹ = R⁻¹R⁻ᵀ.
        var beta = [Double](repeating: 0, count: k)
        for i in stride(from: k - 1, through: 0, by: -1) {
            var s = qty[i]
            for c in (i + 1)..<max(i + 1, k) { s -= a[c][i] * beta[c] }
            beta[i] = s / a[i][i]
        }
        var rInverse = [[Double]](repeating: [Double](repeating: 0, count: k), count: k)  // rows
        for c in 0..<k {
            rInverse[c][c] = 1 / a[c][c]
            for i in stride(from: c - 1, through: 0, by: -1) {
                var s = 0.0
                for m in (i + 1)...c { s += a[m][i] * rInverse[m][c] }
                rInverse[i][c] = -s / a[i][i]
            }
        }
        var ssr = 0.0
        for i in k..<n { ssr += qty[i] * qty[i] }
        let sigma2 = ssr / Double(n - k)
        standardErrors = (0..<k).map { i in
            var d = 0.0
            for c in i..<k { d += rInverse[i][c] * rInverse[i][c] }
            return (sigma2 * d).squareRoot()
        }
        residuals = (0..<n).map { i in
            var fit = 0.0
            for c in 0..<k { fit += columns[c][i] * beta[c] }
            return y[i] - fit
        }
        coefficients = beta
        self.ssr = ssr
        rows = n
    }

    public func tValue(_ i: Int) -> Double { coefficients[i] / standardErrors[i] }

    /// Akaike's criterion with Gaussian errors: nobs·(log 2π + log(ssr/nobs) + 1) + 2k.
    public var aic: Double {
        let n = Double(rows)
        return n * (log(2 * Double.pi) + log(ssr / n) + 1) + 2 * Double(coefficients.count)
    }
}
