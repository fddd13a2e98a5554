import EVMPrimitives

/// The registry's rules. Each returns issues naming the file and key path at fault.
struct RegistryValidator {
    let registry: Registry

    /// The L2s of design item #33 and the chain ids they must carry.
    static let emergingL2s: [(name: String, id: UInt64)] = [("blast", 81457), ("scroll", 534352), ("mantle", 5000), ("mode", 34443)]

    func run() -> [RegistryIssue] {
        var out: [RegistryIssue] = []
        out += uniqueChains()
        out += uniqueEntries()
        out += references()
        out += partitions()
        out += flashAvailability()
        out += dexes()
        out += emergingL2Completeness()
        return out
    }

    private func issue(_ file: String, _ path: String, _ reason: String) -> RegistryIssue {
        RegistryIssue(file: file, keyPath: path, reason: reason)
    }

    func uniqueChains() -> [RegistryIssue] {
        var out: [RegistryIssue] = []
        var names: [String: String] = [:]
        var ids: [UInt64: String] = [:]
        for c in registry.chains {
            if let other = names[c.name] { out.append(issue(c.file, "chain.name", "chain \"\(c.name)\" is also defined in \(other)")) }
            names[c.name] = c.file
            if let id = c.id {
                if let other = ids[id] { out.append(issue(c.file, "chain.id", "chain id \(id) is also used by \(other)")) }
                ids[id] = c.name
            }
            if c.kind == .evm && c.id == nil { out.append(issue(c.file, "chain.id", "an EVM chain needs a chain id")) }
        }
        var providers: Set<String> = []
        for p in registry.providers where !providers.insert(p.name).inserted {
            out.append(issue("providers.toml", "provider", "provider \"\(p.name)\" is defined twice"))
        }
        return out
    }

    func uniqueEntries() -> [RegistryIssue] {
        var out: [RegistryIssue] = []
        var tokenSymbols: Set<String> = [], tokenAddresses: Set<String> = [], dexNames: Set<String> = [], flashNames: Set<String> = []
        for t in registry.tokens {
            if !tokenSymbols.insert("\(t.chain)/\(t.symbol)").inserted {
                out.append(issue(t.file, "token.\(t.symbol)", "token symbol \(t.symbol) is listed twice on \(t.chain)"))
            }
            if !tokenAddresses.insert("\(t.chain)/\(t.address)").inserted {
                out.append(issue(t.file, "token.\(t.symbol)", "address \(t.address) is listed twice on \(t.chain)"))
            }
        }
        for d in registry.dexes where !dexNames.insert("\(d.chain)/\(d.name)").inserted {
            out.append(issue(d.file, "dex.\(d.name)", "DEX \(d.name) is listed twice on \(d.chain)"))
        }
        for f in registry.flashSources where !flashNames.insert("\(f.chain)/\(f.name)").inserted {
            out.append(issue(f.file, "flash.\(f.name)", "flash source \(f.name) is listed twice on \(f.chain)"))
        }
        return out
    }

    func references() -> [RegistryIssue] {
        var out: [RegistryIssue] = []
        let chainNames = Set(registry.chains.map(\.name))
        let providerNames = Set(registry.providers.map(\.name))
        for c in registry.chains {
            if registry.token(c.wrappedNative, on: c.name) == nil {
                out.append(issue(c.file, "chain.wrapped_native", "token \(c.wrappedNative) is not in \(c.name)'s token list"))
            }
            for p in c.providerNetworks.keys.sorted() where !providerNames.contains(p) {
                out.append(issue(c.file, "chain.rpc.\(p)", "unknown RPC provider \"\(p)\" (providers.toml)"))
            }
            if c.kind == .evm && c.multicall3 == nil { out.append(issue(c.file, "chain.multicall3", "missing")) }
        }
        for d in registry.dexes where !chainNames.contains(d.chain) {
            out.append(issue(d.file, "dex.\(d.name).chain", "unknown chain \"\(d.chain)\""))
        }
        for t in registry.tokens where !chainNames.contains(t.chain) {
            out.append(issue(t.file, "token.\(t.symbol).chain", "unknown chain \"\(t.chain)\""))
        }
        for f in registry.flashSources {
            guard chainNames.contains(f.chain) else {
                out.append(issue(f.file, "flash.\(f.name).chain", "unknown chain \"\(f.chain)\""))
                continue
            }
            for a in f.assets ?? [] where registry.token(a, on: f.chain) == nil {
                out.append(issue(f.file, "flash.\(f.name).assets", "asset \(a) is not a token on \(f.chain)"))
            }
        }
        for (i, r) in registry.bridges.enumerated() {
            for end in [r.from, r.to] where !chainNames.contains(end) {
                out.append(issue("bridges.toml", "route[\(i)]", "unknown chain \"\(end)\""))
            }
            if r.from == r.to { out.append(issue("bridges.toml", "route[\(i)]", "a route must join two different chains")) }
            for tok in r.tokens where chainNames.contains(r.from) && chainNames.contains(r.to) {
                if registry.token(tok, on: r.from) == nil && !(registry.chain(r.from)?.nativeSymbol == tok) {
                    out.append(issue("bridges.toml", "route[\(i)].tokens", "\(tok) is not a token on \(r.from)"))
                }
                if registry.token(tok, on: r.to) == nil && !(registry.chain(r.to)?.nativeSymbol == tok) {
                    out.append(issue("bridges.toml", "route[\(i)].tokens", "\(tok) is not a token on \(r.to)"))
                }
            }
        }
        for (i, c) in registry.cexSymbols.enumerated() where c.replacedBy == nil {
            for tok in c.tokens where !registry.tokens.contains(where: { $0.symbol == tok }) {
                out.append(issue("markets.toml", "cex[\(i)].tokens", "\(tok) is not a token on any chain"))
            }
        }
        for (i, p) in registry.statArbPairs.enumerated() {
            for tok in [p.base, p.quote] where !registry.tokens.contains(where: { $0.symbol == tok }) {
                out.append(issue("markets.toml", "stat_arb[\(i)]", "\(tok) is not a token on any chain"))
            }
        }
        return out
    }

    func partitions() -> [RegistryIssue] {
        var out: [RegistryIssue] = []
        var home: [String: String] = [:]
        let chainNames = Set(registry.chains.map(\.name))
        for (i, p) in registry.partitions.enumerated() {
            for c in p.chains {
                if !chainNames.contains(c) { out.append(issue("partitions.toml", "partition[\(i)].chains", "unknown chain \"\(c)\"")) }
                if let other = home[c] {
                    out.append(issue("partitions.toml", "partition[\(i)].chains", "\(c) is already in partition \(other)"))
                }
                home[c] = p.id
            }
            let need = p.chains.count * p.perChainMB
            if need > p.memoryBudgetMB {
                out.append(issue("partitions.toml", "partition[\(i)].memory_budget_mb",
                                 "\(p.id) needs \(p.chains.count) × \(p.perChainMB) MB = \(need) MB, over its budget of \(p.memoryBudgetMB) MB"))
            }
        }
        for c in registry.chains {
            guard let p = home[c.name] else {
                out.append(issue(c.file, "chain.partition", "\(c.name) is in no partition (partitions.toml)"))
                continue
            }
            if p != c.partition {
                out.append(issue(c.file, "chain.partition", "says \(c.partition) but partitions.toml puts \(c.name) in \(p)"))
            }
        }
        return out
    }

    func flashAvailability() -> [RegistryIssue] {
        var out: [RegistryIssue] = []
        for c in registry.chains {
            let active = registry.flashSources(on: c.name).filter { $0.status == .active }
            if c.flashLoans && active.isEmpty {
                out.append(issue(c.file, "chain.flash_loans", "true, but \(c.name) lists no active flash-loan source"))
            }
            if !c.flashLoans && !active.isEmpty {
                out.append(issue(c.file, "chain.flash_loans", "false, but \(c.name) lists active sources: \(active.map(\.name).joined(separator: ", "))"))
            }
            if !c.flashLoans && (c.flashLoanNote ?? "").isEmpty {
                out.append(issue(c.file, "chain.flash_loan_note", "a chain without flash loans must say why"))
            }
        }
        for f in registry.flashSources {
            if f.protocol == .daiFlashMint, f.assets != ["DAI"] {
                out.append(issue(f.file, "flash.\(f.name).assets", "the DAI flash mint lends only DAI"))
            }
        }
        return out
    }

    func dexes() -> [RegistryIssue] {
        var out: [RegistryIssue] = []
        let solanaKinds: Set<DEXKind> = [.solanaAggregator, .raydiumAMM, .raydiumCLMM, .orcaWhirlpool, .meteoraDLMM, .phoenix, .lifinity]
        for d in registry.dexes {
            guard let chain = registry.chain(d.chain) else { continue }
            let path = "dex.\(d.name)"
            if (chain.kind == .solana) != solanaKinds.contains(d.kind) {
                out.append(issue(d.file, "\(path).kind", "\(d.kind.rawValue) does not run on a \(chain.kind.rawValue) chain"))
            }
            if chain.kind == .solana && d.program == nil { out.append(issue(d.file, "\(path).program", "a Solana venue needs its program id")) }
            if chain.kind == .evm && d.factory == nil && d.router == nil {
                out.append(issue(d.file, path, "needs a factory or a router address"))
            }
            if d.priceable {
                if d.factory == nil { out.append(issue(d.file, "\(path).factory", "a priceable DEX needs its factory")) }
                if d.kind.derivesPools && d.initCodeHash == nil {
                    out.append(issue(d.file, "\(path).init_code_hash", "a priceable \(d.kind.rawValue) DEX needs its init-code hash"))
                }
                if d.feesPips.isEmpty && [.uniswapV2, .uniswapV3, .pancakeV3].contains(d.kind) {
                    out.append(issue(d.file, "\(path).fees", "a priceable \(d.kind.rawValue) DEX needs its fee or fee tiers"))
                }
                if !d.verified { out.append(issue(d.file, "\(path).priceable", "an unverified DEX cannot be priceable")) }
            }
        }
        return out
    }

    /// Design item #33: each new L2 complete in all nine places.
    func emergingL2Completeness() -> [RegistryIssue] {
        var out: [RegistryIssue] = []
        for (name, id) in Self.emergingL2s {
            guard let c = registry.chain(name) else {
                out.append(issue("chains/\(name).toml", "chain", "\(name) (design item #33) is missing"))
                continue
            }
            if c.id != id { out.append(issue(c.file, "chain.id", "\(name) must have chain id \(id)")) }
            if c.partition != "P2" { out.append(issue(c.file, "chain.partition", "\(name) belongs in P2 (l2-turbo)")) }
            if !c.execution { out.append(issue(c.file, "chain.execution", "\(name) must have execution enabled")) }
            if c.mev == .public { out.append(issue(c.file, "chain.mev", "\(name) needs an explicit sequencer or private-RPC mode, not public")) }
            if registry.dexes(on: name).filter(\.enabled).isEmpty { out.append(issue(c.file, "dex", "\(name) lists no DEX")) }
            if registry.tokens(on: name).count < 3 { out.append(issue(c.file, "token", "\(name) lists fewer than 3 tokens")) }
            if registry.bridges(touching: name).isEmpty { out.append(issue("bridges.toml", "route", "no bridge route reaches \(name)")) }
        }
        return out
    }
}
