import ArgumentParser
import EVMCodec
import Signals

extension Util {
    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "stats",
            abstract: "Run the statistical-arbitrage signals on series given as JSON lines (for checking them against statsmodels and numpy).",
            discussion: """
                Each line of standard input is a request and each output line its answer, or {"error": "…"}:
                {"op": "corr", "x": […], "y": […], "window": 60} → {"r": [… null until full]};
                {"op": "adf", "x": […], "regression": "c"|"n", "maxlag": n|null} → {"statistic", "pValue", "usedLag", "nobs"};
                {"op": "coint", "y0": […], "y1": […], "maxlag": n|null} → {"statistic", "pValue", "hedgeRatio", "intercept", "usedLag"};
                {"op": "spread", "a": [log prices], "b": […], "beta": 1, "window": 20, "width": 2} → {"mean", "deviation", "signal"};
                {"op": "hurst", "x": […], "window": 100} → {"hurst": [… null until full]};
                {"op": "crit", "series": 2, "nobs": n|null} → {"critical": [1 %, 5 %, 10 %]}.
                """)

        func run() throws {
            var lineNumber = 0
            for line in Input.standardInput().split(separator: 0x0a, omittingEmptySubsequences: false) {
                lineNumber += 1
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0d }) { continue }
                do {
                    Output.line(try Self.answer(try JSONValue.parse(Array(line))).text)
                } catch {
                    Output.line(JSONValue.object([("error", .string("line \(lineNumber): \(error)"))]).text)
                }
            }
        }

        static func answer(_ r: JSONValue) throws -> JSONValue {
            switch r["op"]?.stringValue {
            case "corr":
                let (x, y) = (try series(r, "x"), try series(r, "y"))
                guard x.count == y.count else { throw CLIError("x and y differ in length") }
                var t = PairCorrelationTracker(window: try int(r, "window") ?? 60)
                return .object([("r", .array(zip(x, y).map { a, b in t.add(a, b); return number(t.correlation) }))])
            case "adf":
                let regression = Deterministic(rawValue: r["regression"]?.stringValue ?? "c")
                guard let regression else { throw CLIError("regression: \"c\" or \"n\"") }
                guard let d = DickeyFuller.test(try series(r, "x"), regression: regression, maxLag: try int(r, "maxlag")) else {
                    throw CLIError("the series is too short for the lag, or constant")
                }
                return .object([("statistic", number(d.statistic)), ("pValue", number(d.pValue)), ("usedLag", .number("\(d.usedLag)")),
                                ("nobs", .number("\(d.nobs)"))])
            case "coint":
                guard let c = Cointegration.engleGranger(try series(r, "y0"), try series(r, "y1"), maxLag: try int(r, "maxlag")) else {
                    throw CLIError("the series differ in length, are too short, or one is constant")
                }
                return .object([("statistic", number(c.statistic)), ("pValue", number(c.pValue)), ("hedgeRatio", number(c.hedgeRatio)),
                                ("intercept", number(c.intercept)), ("usedLag", .number("\(c.usedLag)"))])
            case "spread": return try spread(r)
            case "hurst":
                var h = RegimeDetector(window: try int(r, "window") ?? 100)
                return .object([("hurst", .array(try series(r, "x").map { h.add($0); return number(h.hurst()) }))])
            case "crit":
                let nobs = try int(r, "nobs")
                return .object([("critical", .array(MacKinnon.criticalValues(series: try int(r, "series") ?? 1, nobs: nobs).map { number($0) }))])
            default: throw CLIError("op: one of corr, adf, coint, spread, hurst, crit")
            }
        }

        static func spread(_ r: JSONValue) throws -> JSONValue {
            let (a, b) = (try series(r, "a"), try series(r, "b"))
            guard a.count == b.count else { throw CLIError("a and b differ in length") }
            var t = SpreadTracker(window: try int(r, "window") ?? 20, width: try double(r, "width") ?? 2, hedgeRatio: try double(r, "beta") ?? 1)
            var mean: [JSONValue] = [], deviation: [JSONValue] = [], signal: [JSONValue] = []
            for (x, y) in zip(a, b) {
                let reading = t.add(logA: x, logB: y)
                mean.append(number(reading?.mean))
                deviation.append(number(reading?.deviation))
                signal.append(.string(reading.map { "\($0.signal)" } ?? "none"))
            }
            return .object([("mean", .array(mean)), ("deviation", .array(deviation)), ("signal", .array(signal))])
        }

        static func number(_ d: Double?) -> JSONValue {
            guard let d else { return .null }
            return d.isFinite ? .number("\(d)") : .string(d < 0 ? "-inf" : d > 0 ? "inf" : "nan")
        }

        static func series(_ r: JSONValue, _ key: String) throws -> [Double] {
            guard let a = r[key]?.arrayValue else { throw CLIError("\(key): an array of numbers") }
            return try a.map { v in
                guard case .number(let s) = v, let d = Double(s) else { throw CLIError("\(key): an array of numbers") }
                return d
            }
        }

        static func double(_ r: JSONValue, _ key: String) throws -> Double? {
            guard let v = r[key], !v.isNull else { return nil }
            guard case .number(let s) = v, let d = Double(s) else { throw CLIError("\(key): a number") }
            return d
        }

        static func int(_ r: JSONValue, _ key: String) throws -> Int? {
            guard let v = r[key], !v.isNull else { return nil }
            guard case .number(let s) = v, let i = Int(s), i >= 0 else { throw CLIError("\(key): a whole number ≥ 0") }
            return i
        }
    }
}
