extension Registry {
    /// Merges a user's `arbiter.toml` and validates the result with the same rules as the
    /// shipped data.
    ///
    /// ```toml
    /// [chains.base]                      # change a chain
    /// enabled = true
    /// execution = false
    /// rpc = [{ http = "https://…", ws = "wss://…" }]   # tried before every provider
    /// mev = "flashbots"                  # how trades are submitted (see MEVMode)
    /// relay = "https://relay.flashbots.net"            # bundles or private transactions go here
    /// executors = { balancerV2 = "0x…", direct = "0x…" }   # our deployed executor contracts (and crossChain, statArb, cexDex: own-capital inventories)
    /// flash_loans = true
    /// l1_fee_oracle = "0x420000000000000000000000000000000000000F"   # OP-stack GasPriceOracle
    /// bridge = "0x…"                     # the bridge cross-chain trades deposit into here
    /// cow_settlement = "0x…"             # CoW Protocol's GPv2Settlement here (backruns of its settlements)
    ///
    /// [[add_chain]]                      # a new chain: the keys of a data file's [chain]
    /// [[add_token]]                      # a token: the keys of [[token]] plus chain = "…"
    /// [[add_dex]]                        # a DEX: the keys of [[dex]] plus chain = "…"
    /// [[add_flash]]                      # a flash-loan source: the keys of [[flash]] plus chain = "…"
    /// [[add_bridge]]                     # a bridge route: the keys of bridges.toml's [[route]]
    ///
    /// [cex_feed]                         # Binance prices (off by default)
    /// enabled = true
    /// stream = "wss://data-stream.binance.vision"
    /// rest = "https://api.binance.com"
    /// threshold_bps = 30                 # CEX–DEX spreads beyond fee + gas + this
    /// max_age_ms = 10000                 # books older than this are not used
    ///
    /// [cow]                              # backruns of CoW settlements seen pending (off by default)
    /// enabled = true
    /// min_volume_usd = 50000             # settlements trading less are not looked at
    ///
    /// [solana]                           # Solana execution (the cluster's RPC: the solana chain's providers or rpc)
    /// jupiter = "https://api.jup.ag/swap/v1"        # (the keyless lite-api.jup.ag closed on 31 Jan 2026)
    /// jupiter_key_env = "JUPITER_API_KEY"           # the key's environment variable (x-api-key; required by api.jup.ag)
    /// jupiter_rate = 1                   # calls a second the plan allows
    /// jito = "https://ny.mainnet.block-engine.jito.wtf"   # a region's block engine
    /// jito_regions = ["ny", "frankfurt"]  # or: the fastest of these at start
    /// tip_floor = "https://bundles-api-rest.jito.wtf/api/v1/bundles/tip_floor"   # the tip is at least its median
    /// fallback_to_rpc = true             # send plainly when the block engine cannot be reached
    /// slippage_bps = 50
    /// tip_bps = 1000                     # the Jito tip: this share of the simulated gross profit
    /// min_profit = 10000                 # the least net profit, input mint's raw units (lamports for SOL)
    /// max_in = 100000000000              # detection: the largest SOL round trip sized (lamports)
    ///
    /// [disable]
    /// dexes = ["bsc/mdex"]               # chain/name
    /// tokens = ["bsc/BUSD"]              # chain/symbol
    /// ```
    ///
    /// `alsoAllowed`: top-level tables the caller reads itself (a backtest's `[backtest]`).
    package func applying(overrides text: String, file: String, alsoAllowed: Set<String> = []) throws(RegistryError) -> Registry {
        let log = IssueLog()
        let doc = try ConfigValue.parse(toml: text, file: file)
        let root = TableReader(file: file, path: "", value: doc, log: log)
        root.rejectUnknown(Set(["chains", "add_chain", "add_token", "add_dex", "add_flash", "add_bridge", "cex_feed", "cow", "solana", "disable"]).union(alsoAllowed))
        var r = self

        for t in root.tables("add_chain") {
            guard let chain = RegistryLoader.chain(t) else { continue }
            var c = chain
            c.file = file
            r.chains.append(c)
            if let i = r.partitions.firstIndex(where: { $0.id == c.partition }) {
                r.partitions[i].chains.append(c.name)
            } else {
                t.fail("partition", "unknown partition \"\(c.partition)\"")
            }
        }
        if let chains = root.table("chains", required: false) {
            for (name, t) in chains.namedTables() {
                t.rejectUnknown(["enabled", "execution", "rpc", "mev", "relay", "executors", "flash_loans", "l1_fee_oracle", "bridge", "cow_settlement"])
                guard let i = r.chains.firstIndex(where: { $0.name == name }) else {
                    chains.fail(name, "unknown chain \"\(name)\" (add it with [[add_chain]])")
                    continue
                }
                if let e = t.bool("enabled", required: false) { r.chains[i].enabled = e }
                if let e = t.bool("execution", required: false) { r.chains[i].execution = e }
                if let m = t.enumeration("mev", MEVMode.self, required: false) { r.chains[i].mev = m }
                if let f = t.bool("flash_loans", required: false) { r.chains[i].flashLoans = f }
                if let o = t.address("l1_fee_oracle", required: false) { r.chains[i].l1FeeOracle = o }
                if let b = t.address("bridge", required: false) { r.chains[i].bridge = b }
                if let s = t.address("cow_settlement", required: false) { r.chains[i].cowSettlement = s }
                if let relay = t.string("relay", required: false) {
                    if relay.hasPrefix("http://") || relay.hasPrefix("https://") { r.chains[i].relay = relay } else { t.fail("relay", "not an http:// or https:// URL") }
                }
                if let ex = t.table("executors", required: false) {
                    let kinds = FlashProtocol.allCases.map(\.rawValue) + ["direct", "crossChain", "statArb", "cexDex"]
                    ex.rejectUnknown(Set(kinds))
                    for k in kinds { if let a = ex.address(k, required: false) { r.chains[i].executors[k] = a } }
                }
                for (j, u) in t.tables("rpc").enumerated() {
                    u.rejectUnknown(["http", "ws"])
                    let http = u.string("http", required: false), ws = u.string("ws", required: false)
                    if http == nil && ws == nil { u.fail("", "give http, ws or both") }
                    if let http, !(http.hasPrefix("http://") || http.hasPrefix("https://")) {
                        u.fail("http", "not an http:// or https:// URL")
                    }
                    if let ws, !(ws.hasPrefix("ws://") || ws.hasPrefix("wss://")) { u.fail("ws", "not a ws:// or wss:// URL") }
                    r.chains[i].userRPC.append(RPCEndpoint(provider: "user-\(j)", http: http, ws: ws))
                }
            }
        }
        if let t = root.table("cex_feed", required: false) {
            t.rejectUnknown(["enabled", "stream", "rest", "threshold_bps", "max_age_ms"])
            if let e = t.bool("enabled", required: false) { r.cexFeed.enabled = e }
            if let u = t.string("stream", required: false) {
                if u.hasPrefix("ws://") || u.hasPrefix("wss://") { r.cexFeed.stream = u } else { t.fail("stream", "not a ws:// or wss:// URL") }
            }
            if let u = t.string("rest", required: false) {
                if u.hasPrefix("http://") || u.hasPrefix("https://") { r.cexFeed.rest = u } else { t.fail("rest", "not an http:// or https:// URL") }
            }
            if let b = t.int("threshold_bps", required: false, range: 0...10_000) { r.cexFeed.thresholdBps = b }
            if let a = t.int("max_age_ms", required: false, range: 100...600_000) { r.cexFeed.maxAgeMillis = a }
        }
        if let t = root.table("cow", required: false) {
            t.rejectUnknown(["enabled", "min_volume_usd"])
            if let e = t.bool("enabled", required: false) { r.cow.enabled = e }
            if let v = t.int("min_volume_usd", required: false, range: 0...1_000_000_000) { r.cow.minVolumeUSD = v }
        }
        if let t = root.table("solana", required: false) { Self.solana(t, into: &r.solana) }
        for t in root.tables("add_token") {
            guard let chainName = t.string("chain") else { continue }
            guard let chain = r.chain(chainName) else {
                t.fail("chain", "unknown chain \"\(chainName)\"")
                continue
            }
            if var tok = RegistryLoader.token(t, chain: chain) {
                tok.file = file
                r.tokens.append(tok)
            }
        }
        for t in root.tables("add_dex") {
            guard let chainName = t.string("chain") else { continue }
            if var d = RegistryLoader.dex(t, chain: chainName) {
                d.file = file
                r.dexes.append(d)
            }
        }
        for t in root.tables("add_flash") {
            guard let chainName = t.string("chain") else { continue }
            guard r.chain(chainName) != nil else {
                t.fail("chain", "unknown chain \"\(chainName)\"")
                continue
            }
            if var f = RegistryLoader.flash(t, chain: chainName) {
                f.file = file
                r.flashSources.append(f)
            }
        }
        for t in root.tables("add_bridge") {
            if let route = RegistryLoader.route(t) { r.bridges.append(route) }
        }
        if let disable = root.table("disable", required: false) {
            disable.rejectUnknown(["dexes", "tokens"])
            func disableEach(_ key: String, _ what: String, _ hint: String, _ index: (String, String) -> Int?, _ apply: (Int) -> Void) {
                for (i, ref) in (disable.strings(key, required: false) ?? []).enumerated() {
                    let parts = ref.split(separator: "/", maxSplits: 1).map(String.init)
                    if parts.count == 2, let j = index(parts[0], parts[1]) {
                        apply(j)
                    } else {
                        log.add(file, "disable.\(key)[\(i)]", "no \(what) \"\(ref)\" (write \(hint))")
                    }
                }
            }
            disableEach("dexes", "DEX", "chain/name", { c, n in r.dexes.firstIndex { $0.chain == c && $0.name == n } }) {
                r.dexes[$0].enabled = false
            }
            disableEach("tokens", "token", "chain/SYMBOL", { c, s in r.tokens.firstIndex { $0.chain == c && $0.symbol == s } }) {
                r.tokens[$0].enabled = false
            }
        }
        guard log.isEmpty else { throw RegistryError(log.issues) }
        return try r.validated()
    }

    static func solana(_ t: TableReader, into s: inout SolanaSettings) {
        t.rejectUnknown(["jupiter", "jupiter_key_env", "jupiter_rate", "jito", "jito_regions", "tip_floor", "fallback_to_rpc", "slippage_bps", "tip_bps", "min_profit", "max_in"])
        func url(_ key: String) -> String? {
            guard let u = t.string(key, required: false) else { return nil }
            if u.hasPrefix("http://") || u.hasPrefix("https://") { return u }
            t.fail(key, "not an http:// or https:// URL")
            return nil
        }
        if let u = url("jupiter") { s.jupiter = u }
        if let u = url("jito") { s.jito = u }
        if let u = url("tip_floor") { s.tipFloor = u }
        if let regions = t.strings("jito_regions", required: false) {
            let known: Set<String> = ["amsterdam", "dublin", "frankfurt", "london", "ny", "slc", "singapore", "tokyo"]
            for r in regions where !known.contains(r) { t.fail("jito_regions", "unknown region \"\(r)\" (one of \(known.sorted().joined(separator: ", ")))") }
            s.jitoRegions = regions.filter(known.contains)
        }
        if let e = t.string("jupiter_key_env", required: false) { s.jupiterKeyEnv = e }
        if let r = t.int("jupiter_rate", required: false, range: 1...1_000) { s.jupiterRate = Double(r) }
        if let f = t.bool("fallback_to_rpc", required: false) { s.fallbackToRPC = f }
        if let v = t.int("slippage_bps", required: false, range: 1...1_000) { s.slippageBps = v }
        if let v = t.int("tip_bps", required: false, range: 0...10_000) { s.tipBps = v }
        if let v = t.int("min_profit", required: false, range: 0...1_000_000_000_000) { s.minProfit = v }
        if let v = t.int("max_in", required: false, range: 1_000_000...10_000_000_000_000) { s.maxIn = v }
    }
}
