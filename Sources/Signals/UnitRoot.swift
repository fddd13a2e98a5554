import Foundation

/// The deterministic terms of a Dickey–Fuller regression.
public enum Deterministic: String, Sendable {
    /// No constant (`n`): the residuals of a cointegrating regression.
    case none = "n"
    /// A constant (`c`).
    case constant = "c"
}

/// MacKinnon's approximate p-values (MacKinnon 1994, response surfaces) and critical values
/// (MacKinnon 2010) for Dickey–Fuller and Engle–Granger statistics, for 1–6 I(1) series.
/// Published coefficients, as statsmodels tabulates them (`tsa/adfvalues.py`).
public enum MacKinnon {
    struct Table {
        let star, min, max: [Double]
        /// Polynomial coefficients in the statistic, lowest degree first (small p: 3; large p: 4).
        let small, large: [[Double]]
    }

    static let none = Table(
        star: [-1.04, -1.53, -2.68, -3.09, -3.07, -3.77], min: [-19.04, -19.62, -21.21, -23.25, -21.63, -25.74],
        max: [.infinity, 1.51, 0.86, 0.88, 1.05, 1.24],
        small: scaled([[0.6344, 1.2378, 3.2496], [1.9129, 1.3857, 3.5322], [2.7648, 1.4502, 3.4186], [3.4336, 1.4835, 3.19],
                       [4.0999, 1.5533, 3.59], [4.5388, 1.5344, 2.9807]], [1, 1, 1e-2]),
        large: scaled([[0.4797, 9.3557, -0.6999, 3.3066], [1.5578, 8.558, -2.083, -3.3549], [2.2268, 6.8093, -3.2362, -5.4448],
                       [2.7654, 6.4502, -3.0811, -4.4946], [3.2684, 6.8051, -2.6778, -3.4972], [3.7268, 7.167, -2.3648, -2.8288]], [1, 1e-1, 1e-1, 1e-2]))
    static let constant = Table(
        star: [-1.61, -2.62, -3.13, -3.47, -3.78, -3.93], min: [-18.83, -18.86, -23.48, -28.07, -25.96, -23.27],
        max: [2.74, 0.92, 0.55, 0.61, 0.79, 1],
        small: scaled([[2.1659, 1.4412, 3.8269], [2.92, 1.5012, 3.9796], [3.4699, 1.4856, 3.164], [3.9673, 1.4777, 2.6315],
                       [4.5509, 1.5338, 2.9545], [5.1399, 1.6036, 3.4445]], [1, 1, 1e-2]),
        large: scaled([[1.7339, 9.3202, -1.2745, -1.0368], [2.1945, 6.4695, -2.9198, -4.2377], [2.5893, 4.5168, -3.6529, -5.0074],
                       [3.0387, 4.5452, -3.3666, -4.1921], [3.5049, 5.2098, -2.9158, -3.3468], [3.9489, 5.8933, -2.5359, -2.721]], [1, 1e-1, 1e-1, 1e-2]))

    /// MacKinnon 2010, constant: per N, the 1 %, 5 % and 10 % rows of (β∞, β1, β2, β3) in 1/nobs.
    static let critical: [[[Double]]] = [
        [[-3.43035, -6.5393, -16.786, -79.433], [-2.86154, -2.8903, -4.234, -40.040], [-2.56677, -1.5384, -2.809, 0]],
        [[-3.89644, -10.9519, -33.527, 0], [-3.33613, -6.1101, -6.823, 0], [-3.04445, -4.2412, -2.720, 0]],
        [[-4.29374, -14.4354, -33.195, 47.433], [-3.74066, -8.5632, -10.852, 27.982], [-3.45218, -6.2143, -3.718, 0]],
        [[-4.64332, -18.1031, -37.972, 0], [-4.09600, -11.2349, -11.175, 0], [-3.81020, -8.3931, -4.137, 0]],
        [[-4.95756, -21.8883, -45.142, 0], [-4.41519, -14.0405, -12.575, 0], [-4.13157, -10.7417, -3.784, 0]],
    ]

    static func scaled(_ rows: [[Double]], _ by: [Double]) -> [[Double]] { rows.map { zip($0, by).map(*) } }

    /// The p-value of `statistic` for `series` I(1) series (1: ADF; 2: a pair's Engle–Granger).
    public static func pValue(_ statistic: Double, _ regression: Deterministic, series: Int) -> Double {
        let t = regression == .none ? none : constant, i = max(1, min(series, 6)) - 1
        if statistic > t.max[i] { return 1 }
        if statistic < t.min[i] { return 0 }
        let c = statistic <= t.star[i] ? t.small[i] : t.large[i]
        var z = 0.0
        for coefficient in c.reversed() { z = z * statistic + coefficient }
        return normalCDF(z)
    }

    /// The 1 %, 5 % and 10 % critical values with a constant, for `series` (1–5) and `nobs` observations (nil: asymptotic).
    public static func criticalValues(series: Int, nobs: Int?) -> [Double] {
        critical[max(1, min(series, 5)) - 1].map { b in
            guard let nobs else { return b[0] }
            let x = 1 / Double(nobs)
            return b[0] + x * (b[1] + x * (b[2] + x * b[3]))
        }
    }

    static func normalCDF(_ z: Double) -> Double { 0.5 * erfc(-z / 2.0.squareRoot()) }
}

/// The augmented Dickey–Fuller test: Δx_t on x_{t−1} and p lagged differences (and a constant),
/// p chosen by AIC up to `maxLag` on a common sample, then the regression run again on all the
/// rows p allows; the statistic is the t value of x_{t−1}.
public struct DickeyFuller: Sendable, Equatable {
    public var statistic: Double
    public var pValue: Double
    public var usedLag: Int
    /// Rows of the final regression.
    public var nobs: Int

    /// nil when the series is too short for the lag search, or constant.
    public static func test(_ x: [Double], regression: Deterministic = .constant, maxLag: Int? = nil) -> DickeyFuller? {
        let n = x.count, deterministic = regression == .none ? 0 : 1
        let longest = n / 2 - deterministic - 1
        let top = maxLag ?? min(longest, Int((12 * pow(Double(n) / 100, 0.25)).rounded(.up)))
        guard top >= 0, top <= longest, let lo = x.min(), let hi = x.max(), lo != hi else { return nil }
        let d = (0..<(n - 1)).map { x[$0 + 1] - x[$0] }
        // The lag search: every candidate on the rows the longest lag leaves.
        var best: (aic: Double, lag: Int)?
        for lag in 0...top {
            guard let fit = regress(x, d, lags: lag, rowsFrom: top, deterministic: deterministic) else { continue }
            if best.map({ fit.aic < $0.aic }) ?? true { best = (fit.aic, lag) }
        }
        guard let lag = best?.lag, let fit = regress(x, d, lags: lag, rowsFrom: lag, deterministic: deterministic) else { return nil }
        let statistic = fit.tValue(0)
        return DickeyFuller(statistic: statistic, pValue: MacKinnon.pValue(statistic, regression, series: 1), usedLag: lag, nobs: fit.rows)
    }

    /// Δx_t (t from `rowsFrom`) on x_t's level, `lags` lagged differences, and a constant last.
    static func regress(_ x: [Double], _ d: [Double], lags: Int, rowsFrom first: Int, deterministic: Int) -> LeastSquares? {
        let rows = first..<d.count
        var columns = [rows.map { x[$0] }]
        for l in stride(from: 1, through: lags, by: 1) { columns.append(rows.map { d[$0 - l] }) }
        if deterministic == 1 { columns.append([Double](repeating: 1, count: rows.count)) }
        return LeastSquares(columns: columns, y: Array(d[rows]))
    }
}

/// Engle–Granger's two-step test that `y` and `x` are cointegrated: `y = α + β·x + e` by OLS,
/// then the augmented Dickey–Fuller statistic of the residuals (no constant), whose p-value is
/// MacKinnon's for two series with a constant. β is the hedge ratio.
public struct Cointegration: Sendable, Equatable {
    public var statistic: Double
    public var pValue: Double
    public var hedgeRatio: Double
    public var intercept: Double
    public var usedLag: Int

    /// nil when the series differ in length, are too short, or a side is constant. Collinear
    /// series (R² within 100·√ε of 1) are cointegrated outright: statistic −∞, p 0.
    public static func engleGranger(_ y: [Double], _ x: [Double], maxLag: Int? = nil) -> Cointegration? {
        guard y.count == x.count, y.count > 3,
              let fit = LeastSquares(columns: [x, [Double](repeating: 1, count: x.count)], y: y) else { return nil }
        let mean = y.reduce(0, +) / Double(y.count)
        let tss = y.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        guard tss > 0 else { return nil }
        let (beta, alpha) = (fit.coefficients[0], fit.coefficients[1])
        if 1 - fit.ssr / tss >= 1 - 100 * Double.ulpOfOne.squareRoot() {
            return Cointegration(statistic: -.infinity, pValue: 0, hedgeRatio: beta, intercept: alpha, usedLag: 0)
        }
        guard let adf = DickeyFuller.test(fit.residuals, regression: .none, maxLag: maxLag) else { return nil }
        return Cointegration(statistic: adf.statistic, pValue: MacKinnon.pValue(adf.statistic, .constant, series: 2), hedgeRatio: beta,
                             intercept: alpha, usedLag: adf.usedLag)
    }
}
