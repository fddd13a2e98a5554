import EVMPrimitives

/// Turns parsed data files into registry models, logging every malformed entry.
struct RegistryLoader {
    let log: IssueLog
    var registry = Registry(
        providers: [], chains: [], dexes: [], tokens: [], flashSources: [], partitions: [], bridges: [],
        cexSymbols: [], statArbPairs: [])

    init(log: IssueLog) { self.log = log }

    mutating func read(_ doc: ConfigValue, file: String) {
        let root = TableReader(file: file, path: "", value: doc, log: log)
        switch file {
        case "providers.toml":
            root.rejectUnknown(["provider"])
            for t in root.tables("provider") { if let p = Self.provider(t) { registry.providers.append(p) } }
        case "partitions.toml":
            root.rejectUnknown(["partition"])
            for t in root.tables("partition") { if let p = Self.partition(t) { registry.partitions.append(p) } }
        case "bridges.toml":
            root.rejectUnknown(["route"])
            for t in root.tables("route") { if let r = Self.route(t) { registry.bridges.append(r) } }
        case "markets.toml":
            root.rejectUnknown(["cex", "stat_arb"])
            for t in root.tables("cex") { if let c = Self.cex(t) { registry.cexSymbols.append(c) } }
            for t in root.tables("stat_arb") {
                t.rejectUnknown(["base", "quote"])
                if let b = t.string("base"), let q = t.string("quote") { registry.statArbPairs.append(StatArbPair(base: b, quote: q)) }
            }
        case _ where file.hasPrefix("chains/"):
            root.rejectUnknown(["chain", "token", "dex", "flash"])
            guard let ct = root.table("chain"), let chain = Self.chain(ct) else { return }
            registry.chains.append(chain)
            for t in root.tables("token") { if let tok = Self.token(t, chain: chain) { registry.tokens.append(tok) } }
            for t in root.tables("dex") { if let d = Self.dex(t, chain: chain.name) { registry.dexes.append(d) } }
            for t in root.tables("flash") { if let f = Self.flash(t, chain: chain.name) { registry.flashSources.append(f) } }
        default:
            log.add(file, "", "unexpected data file (expected providers, partitions, bridges, markets or chains/<name>.toml)")
        }
    }

    static func provider(_ t: TableReader) -> RPCProvider? {
        t.rejectUnknown(["name", "key_env", "http", "ws"])
        guard let name = t.string("name"), let http = t.string("http") else { return nil }
        return RPCProvider(name: name, keyEnv: t.string("key_env", required: false), http: http, ws: t.string("ws", required: false))
    }

    static func partition(_ t: TableReader) -> Partition? {
        t.rejectUnknown(["id", "name", "chains", "memory_budget_mb", "per_chain_mb", "region"])
        guard let id = t.string("id"), let name = t.string("name"), let chains = t.strings("chains"),
              let budget = t.int("memory_budget_mb", range: 16...65_536), let per = t.int("per_chain_mb", range: 1...65_536)
        else { return nil }
        return Partition(id: id, name: name, chains: chains, memoryBudgetMB: budget, perChainMB: per, region: t.string("region", required: false))
    }

    static func route(_ t: TableReader) -> BridgeRoute? {
        t.rejectUnknown(["protocol", "from", "to", "tokens", "fee_pips", "fixed_fee_cents", "latency_s", "verified", "note"])
        guard let p = t.enumeration("protocol", BridgeProtocol.self), let from = t.string("from"), let to = t.string("to"),
              let tokens = t.strings("tokens"), let fee = t.int("fee_pips", range: 0...100_000),
              let fixed = t.int("fixed_fee_cents", range: 0...1_000_000), let latency = t.int("latency_s", range: 1...2_000_000)
        else { return nil }
        return BridgeRoute(
            protocol: p, from: from, to: to, tokens: tokens, feePips: fee, fixedFeeCents: fixed, latencySeconds: latency,
            verified: t.bool("verified", required: false) ?? true, note: t.string("note", required: false))
    }

    static func cex(_ t: TableReader) -> CEXSymbol? {
        t.rejectUnknown(["symbol", "base", "quote", "tokens", "replaced_by"])
        guard let s = t.string("symbol"), let b = t.string("base"), let q = t.string("quote"), let tokens = t.strings("tokens") else { return nil }
        return CEXSymbol(symbol: s, base: b, quote: q, tokens: tokens, replacedBy: t.string("replaced_by", required: false))
    }

    static let chainKeys: Set<String> = [
        "name", "id", "kind", "native", "wrapped_native", "block_time_ms", "reorg_depth", "rpc", "public_rpc", "multicall3",
        "partition", "execution", "mev", "mev_note", "flash_loans", "flash_loan_note", "enabled", "l1_fee_oracle", "cow_settlement",
    ]

    static func chain(_ t: TableReader) -> Chain? {
        t.rejectUnknown(chainKeys)
        let kind = t.enumeration("kind", ChainKind.self)
        let id = t.int("id", required: kind == .evm, range: 1...Int(UInt32.max) * 4)
        var networks: [String: String] = [:]
        if let rpc = t.table("rpc", required: false) {
            for m in rpc.members {
                if let slug = rpc.string(m.key) { networks[m.key] = slug }
            }
        }
        var publicRPC: RPCEndpoint?
        if let p = t.table("public_rpc", required: false) {
            p.rejectUnknown(["http", "ws"])
            publicRPC = RPCEndpoint(provider: "public", http: p.string("http"), ws: p.string("ws", required: false))
        }
        let multicall = kind == .evm ? t.address("multicall3") : nil
        guard let name = t.string("name"), let kind, let native = t.string("native"), let wrapped = t.string("wrapped_native"),
              let block = t.int("block_time_ms", range: 50...60_000), let reorg = t.int("reorg_depth", range: 0...10_000),
              let partition = t.string("partition"), let execution = t.bool("execution"), let mev = t.enumeration("mev", MEVMode.self),
              let flash = t.bool("flash_loans")
        else { return nil }
        let flashNote = t.string("flash_loan_note", required: false)
        var chain = Chain(
            name: name, id: id.map { UInt64($0) }, kind: kind, nativeSymbol: native, wrappedNative: wrapped, blockTimeMs: block,
            reorgDepth: reorg, providerNetworks: networks, publicRPC: publicRPC, userRPC: [], multicall3: multicall,
            partition: partition, execution: execution, mev: mev, mevNote: t.string("mev_note", required: false),
            flashLoans: flash, flashLoanNote: flashNote, enabled: t.bool("enabled", required: false) ?? true, file: t.file)
        chain.l1FeeOracle = t.address("l1_fee_oracle", required: false)
        chain.cowSettlement = t.address("cow_settlement", required: false)
        return chain
    }

    static func token(_ t: TableReader, chain: Chain) -> Token? {
        t.rejectUnknown(["symbol", "address", "decimals", "tags", "enabled", "chain"])
        let address: TokenAddress?
        switch chain.kind {
        case .evm: address = t.address("address").map(TokenAddress.evm)
        case .solana:
            if let s = t.string("address") {
                if Base58Check.isPublicKey(s) { address = .solana(s) } else {
                    t.fail("address", "\"\(s)\" is not a base58 Solana public key")
                    address = nil
                }
            } else { address = nil }
        }
        var tags: Set<TokenTag> = []
        for (i, s) in (t.strings("tags", required: false) ?? []).enumerated() {
            if let tag = TokenTag(rawValue: s) { tags.insert(tag) } else {
                t.log.add(t.file, "\(t.keyPath("tags"))[\(i)]", "\"\(s)\" is not one of: \(TokenTag.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
        guard let symbol = t.string("symbol"), let address, let decimals = t.int("decimals", range: 0...36) else { return nil }
        return Token(chain: chain.name, symbol: symbol, address: address, decimals: decimals, tags: tags,
                     enabled: t.bool("enabled", required: false) ?? true, file: t.file)
    }

    static let dexKeys: Set<String> = [
        "name", "kind", "factory", "router", "pool_deployer", "init_code_hash", "fees", "quoter", "program", "priceable",
        "verified", "enabled", "note", "chain",
    ]

    static func dex(_ t: TableReader, chain: String) -> DEX? {
        t.rejectUnknown(dexKeys)
        let kind = t.enumeration("kind", DEXKind.self)
        let fees = t.ints("fees", required: false) ?? []
        for (i, f) in fees.enumerated() where !(1...1_000_000).contains(f) {
            t.log.add(t.file, "\(t.keyPath("fees"))[\(i)]", "fee \(f) pips is outside 1...1000000")
        }
        let program = t.string("program", required: false)
        if let program, !Base58Check.isPublicKey(program) { t.fail("program", "\"\(program)\" is not a base58 program id") }
        guard let name = t.string("name"), let kind, let priceable = t.bool("priceable") else { return nil }
        return DEX(
            name: name, chain: chain, kind: kind, factory: t.address("factory", required: false),
            router: t.address("router", required: false), poolDeployer: t.address("pool_deployer", required: false),
            initCodeHash: t.hash("init_code_hash", required: false), feesPips: fees, quoter: t.address("quoter", required: false),
            program: program, priceable: priceable, verified: t.bool("verified", required: false) ?? true,
            enabled: t.bool("enabled", required: false) ?? true, note: t.string("note", required: false), file: t.file)
    }

    static func flash(_ t: TableReader, chain: String) -> FlashSource? {
        t.rejectUnknown(["name", "protocol", "contract", "fee_pips", "fee", "fee_call", "repayment", "assets", "status", "note", "chain"])
        var fee: FlashFee?
        let fixed = t.int("fee_pips", required: false, range: 0...1_000_000)
        if let call = t.string("fee_call", required: false) {
            guard let fixed else {
                t.fail("fee_pips", "a fee read with fee_call needs fee_pips as the value to assume until it is read")
                return nil
            }
            fee = .onChain(call: call, defaultPips: fixed)
        } else if let mode = t.string("fee", required: false) {
            if mode == "pool-tier" { fee = .poolFeeTier } else { t.fail("fee", "expected \"pool-tier\"") }
        } else if let fixed {
            fee = .fixedPips(fixed)
        } else {
            t.fail("fee_pips", "missing (or fee = \"pool-tier\", or fee_call with fee_pips)")
        }
        guard let name = t.string("name"), let p = t.enumeration("protocol", FlashProtocol.self), let contract = t.address("contract"),
              let repayment = t.enumeration("repayment", Repayment.self), let status = t.enumeration("status", FlashStatus.self), let fee
        else { return nil }
        return FlashSource(
            name: name, chain: chain, protocol: p, contract: contract, fee: fee, repayment: repayment,
            assets: t.strings("assets", required: false), status: status, note: t.string("note", required: false), file: t.file)
    }
}

/// Base58 (Bitcoin alphabet) shape check for Solana keys: 32 bytes encode to 32–44 characters.
enum Base58Check {
    static let alphabet = Set("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")

    static func isPublicKey(_ s: String) -> Bool {
        (32...44).contains(s.count) && s.allSatisfy { alphabet.contains($0) } && decodedLength(s) == 32
    }

    /// The byte length `s` decodes to (leading '1's are zero bytes).
    static func decodedLength(_ s: String) -> Int? {
        let digits = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")
        var bytes: [UInt8] = []
        for c in s {
            guard var carry = digits.firstIndex(of: c) else { return nil }
            for i in bytes.indices.reversed() {
                carry += Int(bytes[i]) * 58
                bytes[i] = UInt8(carry & 0xff)
                carry >>= 8
            }
            while carry > 0 {
                bytes.insert(UInt8(carry & 0xff), at: 0)
                carry >>= 8
            }
        }
        let leadingZeros = s.prefix { $0 == "1" }.count
        return leadingZeros + bytes.drop { $0 == 0 }.count
    }
}
