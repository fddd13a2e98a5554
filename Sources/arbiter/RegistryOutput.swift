import EVMCodec
import EVMPrimitives
import Registry

/// JSON views of the registry for `arbiter chains --json`.
enum RegistryJSON {
    static func s(_ v: String?) -> JSONValue { v.map(JSONValue.string) ?? .null }
    static func n(_ v: Int) -> JSONValue { .number(String(v)) }

    static func flashStatus(_ c: Chain, _ r: Registry) -> JSONValue {
        let active = r.flashSources(on: c.name).filter { $0.status == .active }
        return .object([
            ("available", .bool(!active.isEmpty)), ("sources", .array(active.map { .string($0.name) })),
            ("note", s(c.flashLoanNote)),
        ])
    }

    static func chainSummary(_ c: Chain, _ r: Registry) -> JSONValue {
        .object([
            ("name", .string(c.name)), ("id", c.id.map { .number(String($0)) } ?? .null), ("kind", .string(c.kind.rawValue)),
            ("partition", .string(c.partition)), ("blockTimeMs", n(c.blockTimeMs)), ("native", .string(c.nativeSymbol)),
            ("dexes", n(r.dexes(on: c.name).filter(\.enabled).count)), ("tokens", n(r.tokens(on: c.name).filter(\.enabled).count)),
            ("flashLoans", flashStatus(c, r)), ("mev", .string(c.mev.rawValue)), ("execution", .bool(c.execution)),
            ("enabled", .bool(c.enabled)),
        ])
    }

    static func fee(_ f: FlashFee) -> JSONValue {
        switch f {
        case .fixedPips(let p): .object([("pips", n(p))])
        case .poolFeeTier: .object([("poolFeeTier", .bool(true))])
        case .onChain(let call, let p): .object([("readOnChain", .string(call)), ("defaultPips", n(p))])
        }
    }

    static func chainDetail(_ c: Chain, _ r: Registry) -> JSONValue {
        guard case .object(var m) = chainSummary(c, r) else { return .null }
        m.append(("wrappedNative", .string(c.wrappedNative)))
        m.append(("reorgDepth", n(c.reorgDepth)))
        m.append(("multicall3", s(c.multicall3?.checksummed)))
        m.append(("mevNote", s(c.mevNote)))
        m.append(("dexList", .array(r.dexes(on: c.name).map { d in
            .object([
                ("name", .string(d.name)), ("kind", .string(d.kind.rawValue)), ("factory", s(d.factory?.checksummed)),
                ("router", s(d.router?.checksummed)), ("poolDeployer", s(d.poolDeployer?.checksummed)),
                ("initCodeHash", s(d.initCodeHash.map { Hex.encode($0.bigEndianBytes) })), ("feesPips", .array(d.feesPips.map(n))),
                ("quoter", s(d.quoter?.checksummed)), ("program", s(d.program)), ("priceable", .bool(d.priceable)),
                ("verified", .bool(d.verified)), ("enabled", .bool(d.enabled)), ("note", s(d.note)),
            ])
        })))
        m.append(("tokenList", .array(r.tokens(on: c.name).map { t in
            .object([
                ("symbol", .string(t.symbol)), ("address", .string(t.address.description)), ("decimals", n(t.decimals)),
                ("tags", .array(t.tags.map(\.rawValue).sorted().map(JSONValue.string))), ("enabled", .bool(t.enabled)),
            ])
        })))
        m.append(("flashSources", .array(r.flashSources(on: c.name).map { f in
            .object([
                ("name", .string(f.name)), ("protocol", .string(f.protocol.rawValue)), ("contract", .string(f.contract.checksummed)),
                ("fee", fee(f.fee)), ("repayment", .string(f.repayment.rawValue)),
                ("assets", f.assets.map { .array($0.map(JSONValue.string)) } ?? .null), ("status", .string(f.status.rawValue)),
                ("note", s(f.note)),
            ])
        })))
        m.append(("providers", .array(r.providers.compactMap { p in
            guard let net = c.providerNetworks[p.name] else { return nil }
            return .object([("name", .string(p.name)), ("network", .string(net)), ("keyEnv", s(p.keyEnv))])
        })))
        m.append(("publicRpc", c.publicRPC.map { .object([("http", s($0.http)), ("ws", s($0.ws))]) } ?? .null))
        m.append(("bridges", .array(r.bridges(touching: c.name).map { b in
            .object([
                ("protocol", .string(b.protocol.rawValue)), ("from", .string(b.from)), ("to", .string(b.to)),
                ("tokens", .array(b.tokens.map(JSONValue.string))), ("feePips", n(b.feePips)),
                ("fixedFeeCents", n(b.fixedFeeCents)), ("latencySeconds", n(b.latencySeconds)),
            ])
        })))
        m.append(("statArbPairs", .array(r.statArbUniverse(on: c.name).map { .string("\($0.base)/\($0.quote)") })))
        return .object(m)
    }
}

/// Plain-text views for `arbiter chains`.
enum RegistryText {
    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }

    static func row(_ cols: [String], _ widths: [Int]) -> String {
        zip(cols, widths).map { pad($0, $1) }.joined(separator: "  ").trimmingTrailingSpaces()
    }

    static func table(_ r: Registry) -> [String] {
        let head = ["CHAIN", "ID", "PART", "BLOCK", "DEXS", "TOKENS", "FLASH SOURCES", "MEV"]
        let rows = r.chains.map { c -> [String] in
            let flash = r.flashSources(on: c.name).filter { $0.status == .active }.map(\.name)
            return [
                c.name + (c.enabled ? "" : " (disabled)"), c.id.map(String.init) ?? "-", c.partition, blockTime(c.blockTimeMs),
                String(r.dexes(on: c.name).filter(\.enabled).count), String(r.tokens(on: c.name).filter(\.enabled).count),
                flash.isEmpty ? "none" : flash.joined(separator: ","), c.mev.rawValue,
            ]
        }
        let widths = head.indices.map { i in ([head] + rows).map { $0[i].count }.max() ?? 0 }
        return [row(head, widths)] + rows.map { row($0, widths) }
    }

    static func blockTime(_ ms: Int) -> String { ms % 1000 == 0 ? "\(ms / 1000)s" : "\(Double(ms) / 1000)s" }

    static func chainDetail(_ c: Chain, _ r: Registry) -> [String] {
        var out = [
            "\(c.name)  id \(c.id.map(String.init) ?? "-")  partition \(c.partition)  block \(blockTime(c.blockTimeMs))  reorg depth \(c.reorgDepth)",
            "native \(c.nativeSymbol), wrapped \(c.wrappedNative) \(r.token(c.wrappedNative, on: c.name)?.address.description ?? "?")",
            "execution \(c.execution ? "on" : "off"); MEV \(c.mev.rawValue)\(c.mevNote.map { " — \($0)" } ?? "")",
            "", "DEXs:",
        ]
        for d in r.dexes(on: c.name) {
            var line = "  \(pad(d.name, 16)) \(pad(d.kind.rawValue, 16))"
            if let f = d.factory { line += " factory \(f.checksummed)" }
            if let p = d.program { line += " program \(p)" }
            if d.factory == nil, let rt = d.router { line += " router \(rt.checksummed)" }
            if !d.feesPips.isEmpty { line += " fees \(d.feesPips.map(String.init).joined(separator: "/"))" }
            line += d.priceable ? " priceable" : " not priceable"
            if !d.verified { line += " (unverified)" }
            if !d.enabled { line += " (disabled)" }
            out.append(line)
        }
        out += ["", "Tokens:"]
        for t in r.tokens(on: c.name) {
            let tags = t.tags.map(\.rawValue).sorted().joined(separator: ",")
            out.append("  \(pad(t.symbol, 8)) \(t.address) \(t.decimals) dec\(tags.isEmpty ? "" : " [\(tags)]")\(t.enabled ? "" : " (disabled)")")
        }
        out += ["", "Flash loans:"]
        let sources = r.flashSources(on: c.name)
        if sources.isEmpty { out.append("  none — \(c.flashLoanNote ?? "")") }
        for f in sources {
            let fee: String = switch f.fee {
            case .fixedPips(let p): "fee \(p) pips"
            case .poolFeeTier: "fee = pool tier"
            case .onChain(let call, let p): "fee read via \(call) (assume \(p) pips)"
            }
            out.append("  \(pad(f.name, 22)) \(f.protocol.rawValue) \(f.contract.checksummed) \(fee), \(f.repayment.rawValue)\(f.assets.map { ", assets \($0.joined(separator: ","))" } ?? "") [\(f.status.rawValue)]")
        }
        out += ["", "RPC providers (in order):"]
        for p in r.providers {
            guard let net = c.providerNetworks[p.name] else { continue }
            out.append("  \(pad(p.name, 11)) \(net)\(p.keyEnv.map { " (needs $\($0))" } ?? "")")
        }
        if let pub = c.publicRPC { out.append("  \(pad("public", 11)) \(pub.http ?? "")\(pub.ws.map { " \($0)" } ?? "")") }
        let bridges = r.bridges(touching: c.name)
        if !bridges.isEmpty {
            out += ["", "Bridges:"]
            for b in bridges {
                out.append("  \(pad(b.protocol.rawValue, 10)) \(b.from) → \(b.to) \(b.tokens.joined(separator: ",")) fee \(b.feePips) pips + \(b.fixedFeeCents)¢, ~\(b.latencySeconds)s")
            }
        }
        return out
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
