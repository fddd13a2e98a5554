import EVMPrimitives
import Testing

@testable import Registry

/// One failing configuration per validation rule: the error names the file and key path.
@Suite struct RegistryValidationTests {
    static let files = try! Registry.bundledFiles()

    /// The shipped files with `edit` applied to `file`.
    static func load(_ file: String, _ edit: (String) -> String) -> [RegistryIssue] {
        var changed = files
        guard let i = changed.firstIndex(where: { $0.0 == file }) else { return [RegistryIssue(file: file, keyPath: "", reason: "no such file")] }
        let edited = edit(changed[i].1)
        precondition(edited != changed[i].1, "the edit to \(file) changed nothing")
        changed[i].1 = edited
        return issues { try Registry.load(files: changed) }
    }

    static func issues(_ body: () throws -> Registry) -> [RegistryIssue] {
        do {
            _ = try body()
            return []
        } catch let e as RegistryError {
            return e.issues
        } catch {
            return [RegistryIssue(file: "?", keyPath: "", reason: "\(error)")]
        }
    }

    static func expectIssue(_ issues: [RegistryIssue], file: String, path: String, _ reason: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(issues.contains { $0.file == file && $0.keyPath == path && $0.reason.contains(reason) },
                "\(issues.map(\.description))", sourceLocation: sourceLocation)
    }

    static func replace(_ a: String, _ b: String) -> (String) -> String { { $0.replacingOccurrences(of: a, with: b) } }

    @Test func shippedDataIsValid() throws {
        #expect(Self.issues { try Registry.load(files: Self.files) }.isEmpty)
    }

    @Test func duplicateChainNameAndId() {
        var files = Self.files
        let eth = files.first { $0.0 == "chains/ethereum.toml" }!.1
        files.append(("chains/ethereum-copy.toml", eth))
        let issues = Self.issues { try Registry.load(files: files) }
        Self.expectIssue(issues, file: "chains/ethereum-copy.toml", path: "chain.name", "also defined in chains/ethereum.toml")
        Self.expectIssue(issues, file: "chains/ethereum-copy.toml", path: "chain.id", "chain id 1 is also used")
    }

    @Test func badChecksumNamesTheKey() {
        let issues = Self.load("chains/ethereum.toml", Self.replace("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", "0xa0B86991c6218b36c1d19D4a2e9Eb0cE3606eB48"))
        Self.expectIssue(issues, file: "chains/ethereum.toml", path: "token[1].address", "EIP-55")
    }

    @Test func referencesMustResolve() {
        Self.expectIssue(Self.load("chains/base.toml", Self.replace(#"wrapped_native = "WETH""#, #"wrapped_native = "WETHX""#)),
                         file: "chains/base.toml", path: "chain.wrapped_native", "not in base's token list")
        Self.expectIssue(Self.load("chains/ethereum.toml", Self.replace(#"assets = ["DAI"]"#, #"assets = ["DAl"]"#)),
                         file: "chains/ethereum.toml", path: "flash.dai_flash_mint.assets", "not a token on ethereum")
        Self.expectIssue(Self.load("bridges.toml", { $0.replacingOccurrences(of: #"to = "blast""#, with: #"to = "blastt""#) }),
                         file: "bridges.toml", path: "route[12]", "unknown chain \"blastt\"")
        Self.expectIssue(Self.load("chains/base.toml", Self.replace("drpc = \"base\"", "drpcc = \"base\"")),
                         file: "chains/base.toml", path: "chain.rpc.drpcc", "unknown RPC provider")
    }

    @Test func everyChainInExactlyOnePartition() {
        Self.expectIssue(Self.load("partitions.toml", Self.replace(#""ethereum", "zksync", "linea""#, #""zksync", "linea""#)),
                         file: "chains/ethereum.toml", path: "chain.partition", "in no partition")
        Self.expectIssue(Self.load("partitions.toml", Self.replace(#""zksync", "linea""#, #""zksync", "linea", "bsc""#)),
                         file: "partitions.toml", path: "partition[2].chains", "bsc is already in partition P1")
        Self.expectIssue(Self.load("chains/zksync.toml", Self.replace(#"partition = "P3""#, #"partition = "P1""#)),
                         file: "chains/zksync.toml", path: "chain.partition", "partitions.toml puts zksync in P3")
    }

    @Test func mevModeIsRequiredAndClosed() {
        Self.expectIssue(Self.load("chains/fantom.toml", Self.replace("mev = \"public\"\n", "")),
                         file: "chains/fantom.toml", path: "chain.mev", "missing")
        Self.expectIssue(Self.load("chains/fantom.toml", Self.replace("mev = \"public\"", "mev = \"privat\"")),
                         file: "chains/fantom.toml", path: "chain.mev", "not one of")
    }

    @Test func flashAvailabilityAgreesWithSources() {
        Self.expectIssue(Self.load("chains/blast.toml", Self.replace("flash_loans = false", "flash_loans = true")),
                         file: "chains/blast.toml", path: "chain.flash_loans", "no active flash-loan source")
        Self.expectIssue(Self.load("chains/scroll.toml", Self.replace("flash_loans = true", "flash_loans = false")),
                         file: "chains/scroll.toml", path: "chain.flash_loans", "lists active sources")
        Self.expectIssue(Self.load("chains/mode.toml", { $0.replacingOccurrences(of: #"flash_loan_note = "no flash-loan source"#, with: #"old_note = "x"#) }),
                         file: "chains/mode.toml", path: "chain.old_note", "unknown key")
    }

    @Test func noDuplicateTokensOrDEXs() {
        Self.expectIssue(Self.load("chains/mode.toml", Self.replace(#"symbol = "MODE""#, #"symbol = "USDT""#)),
                         file: "chains/mode.toml", path: "token.USDT", "listed twice on mode")
        Self.expectIssue(Self.load("chains/mode.toml", Self.replace("0xDfc7C877a950e49D2610114102175A06C2e3167a", "0xd988097fb8612cc24eeC14542bC03424c656005f")),
                         file: "chains/mode.toml", path: "token.MODE", "listed twice on mode")
        Self.expectIssue(Self.load("chains/mode.toml", Self.replace(#"name = "swapmode_v3""#, #"name = "swapmode""#)),
                         file: "chains/mode.toml", path: "dex.swapmode", "listed twice")
    }

    @Test func emergingL2sAreCompleteInEveryPlace() {
        Self.expectIssue(Self.load("chains/mode.toml", Self.replace("execution = true", "execution = false")),
                         file: "chains/mode.toml", path: "chain.execution", "execution enabled")
        Self.expectIssue(Self.load("chains/scroll.toml", Self.replace(#"mev = "sequencer""#, #"mev = "public""#)),
                         file: "chains/scroll.toml", path: "chain.mev", "not public")
        Self.expectIssue(Self.load("chains/mantle.toml", Self.replace("id = 5000", "id = 5001")),
                         file: "chains/mantle.toml", path: "chain.id", "chain id 5000")
        Self.expectIssue(Self.load("bridges.toml", { text in
            text.components(separatedBy: "\n\n").filter { !$0.contains("\"mantle\"") }.joined(separator: "\n\n")
        }), file: "bridges.toml", path: "route", "no bridge route reaches mantle")
        var files = Self.files
        files.removeAll { $0.0 == "chains/blast.toml" }
        Self.expectIssue(Self.issues { try Registry.load(files: files) }, file: "chains/blast.toml", path: "chain", "missing")
    }

    @Test func partitionMemoryBudget() {
        Self.expectIssue(Self.load("partitions.toml", Self.replace("memory_budget_mb = 512\nper_chain_mb = 45", "memory_budget_mb = 300\nper_chain_mb = 45")),
                         file: "partitions.toml", path: "partition[1].memory_budget_mb", "7 × 45 MB = 315 MB")
    }

    @Test func priceableDEXNeedsItsPoolData() {
        Self.expectIssue(Self.load("chains/ethereum.toml", Self.replace(
            "init_code_hash = \"0x96e8ac4277198ff8b6f785478aa9a39f403cb768dd02cbee326c3e7da348845f\"\n", "")),
                         file: "chains/ethereum.toml", path: "dex.uniswap_v2.init_code_hash", "needs its init-code hash")
        Self.expectIssue(Self.load("chains/solana.toml", Self.replace(#"kind = "orcaWhirlpool""#, #"kind = "uniswapV3""#)),
                         file: "chains/solana.toml", path: "dex.orca.kind", "does not run on a solana chain")
    }

    @Test func syntaxErrorsHaveALine() {
        let issues = Self.load("chains/linea.toml", Self.replace("reorg_depth = 10", "reorg_depth = "))
        #expect(issues.count == 1 && issues[0].file == "chains/linea.toml" && issues[0].reason.contains("line 8"), "\(issues)")
    }
}

@Suite struct RegistryOverrideTests {
    static let base = try! Registry.bundled()

    static func apply(_ toml: String) -> Result<Registry, RegistryError> {
        do { return .success(try base.applying(overrides: toml, file: "arbiter.toml")) } catch { return .failure(error) }
    }

    static func issues(_ toml: String) -> [String] {
        if case .failure(let e) = apply(toml) { return e.issues.map(\.description) }
        return []
    }

    /// The CEX feed is off unless turned on; its URLs and limits are checked.
    @Test func theCexFeedIsOffUntilTurnedOnAndItsSettingsAreChecked() throws {
        #expect(!Self.base.cexFeed.enabled)
        let r = try Self.apply("""
            [cex_feed]
            enabled = true
            stream = "ws://127.0.0.1:9001"
            rest = "http://127.0.0.1:9001"
            threshold_bps = 45
            max_age_ms = 5000
            """).get()
        #expect(r.cexFeed.enabled && r.cexFeed.stream == "ws://127.0.0.1:9001" && r.cexFeed.rest == "http://127.0.0.1:9001")
        #expect(r.cexFeed.thresholdBps == 45 && r.cexFeed.maxAgeMillis == 5000)
        let bad = Self.issues("""
            [cex_feed]
            enabled = "yes"
            stream = "https://stream.binance.com"
            rest = "ftp://x"
            threshold_bps = -1
            max_age_ms = 10
            colour = 1
            """)
        for part in ["cex_feed.enabled", "cex_feed.stream", "cex_feed.rest", "cex_feed.threshold_bps", "cex_feed.max_age_ms", "cex_feed.colour"] {
            #expect(bad.contains { $0.contains(part) }, "\(part): \(bad)")
        }
    }

    /// Found by the registry fuzzer: a table header whose key starts with neither a bare-key
    /// character nor a quote (`[é]`, `[\u{1}…`) made the TOML parser assert (the process aborted)
    /// instead of reporting it; now a syntax error with its line and column (a combining mark
    /// after the bracket too, which Swift would join to it as one Character). The same text inside
    /// a multi-line string, a comment or a value's array is no header.
    @Test func whatTheTOMLParserWouldAssertOnIsASyntaxErrorNotACrash() throws {
        for (header, column) in [("[é]", 2), ("[[\u{FFFD}]]", 3), ("  [ ü.x ]", 5), ("[[ \u{1F600} ]]", 4), ("[\u{1}a]", 2), ("[+x]", 2), ("[", 2), ("[[ \r", 4), ("[\u{06DC}x]", 2)] {
            let issues = Self.issues("[cow]\nenabled = true\n\n\(header)\nx = 1\n")
            #expect(issues.count == 1 && issues[0].contains("line 4, column \(column)") && issues[0].contains("table header"), "\(header): \(issues)")
        }
        #expect(Self.issues("[\"é\"]\nx = 1\n").allSatisfy { !$0.contains("table header") })
        for text in ["[solana]\nnote = \"\"\"\n[é]\n\"\"\"\n", "x = [\n  [+1, 2],\n  [{ a = 1 }],\n]\n", "# [é]\nx = '[é'\n", "x = \"a\\\"[\"\n"] {
            #expect(ConfigValue.parserTrap(text) == nil, "\(text)")
        }
        #expect(ConfigValue.parserTrap("a = 1\r\n[x]\r\n [[ é ]]\n")?.line == 3)
        #expect(ConfigValue.parserTrap("x = [\n 1,\n]\n[\u{7}]\n")?.line == 4)
        // And an array value that starts with '}' (the parser asserted on that too).
        for (text, line, column) in [("x = [}]\n", 1, 6), ("rpc = [{ a = 1 }, }]\n", 1, 19), ("x = [\n  # a note\n  }\n]\n", 3, 3), ("x = [[1], [ }]]\n", 1, 13)] {
            let trap = ConfigValue.parserTrap(text)
            #expect(trap?.line == line && trap?.column == column && trap?.what == "an array's value starts with '}'", "\(text): \(String(describing: trap))")
            #expect(Self.issues(text).first?.contains("an array's value starts with '}'") == true)
        }
        #expect(ConfigValue.parserTrap("x = [{ a = [1] }, { b = 2 }]\ny = { c = [3, 4] }\n") == nil)
    }

    @Test func addAndDisable() throws {
        let r = try Self.apply("""
            [chains.fantom]
            enabled = false
            [chains.base]
            rpc = [{ http = "https://my-node.example/base", ws = "wss://my-node.example/base" }]

            [[add_token]]
            chain = "base"
            symbol = "DEGEN"
            address = "0x4ed4E862860beD51a9570b96d89aF5E1B0Efefed"
            decimals = 18

            [[add_dex]]
            chain = "base"
            name = "my_v2"
            kind = "uniswapV2"
            factory = "0x8909Dc15e40173Ff4699343b6eB8132c65e18eC6"
            priceable = false

            [[add_chain]]
            name = "gnosis"
            id = 100
            kind = "evm"
            native = "xDAI"
            wrapped_native = "WXDAI"
            block_time_ms = 5000
            reorg_depth = 10
            multicall3 = "0xcA11bde05977b3631167028862bE2a173976CA11"
            partition = "P1"
            execution = false
            mev = "public"
            flash_loans = false
            flash_loan_note = "not configured"

            [[add_token]]
            chain = "gnosis"
            symbol = "WXDAI"
            address = "0xe91D153E0b41518A2Ce8Dd3D7944Fa863463a97d"
            decimals = 18
            tags = ["wrapped"]

            [disable]
            dexes = ["bsc/mdex"]
            tokens = ["bsc/BUSD"]
            """).get()
        #expect(r.chain("fantom")?.enabled == false)
        let base = try #require(r.chain("base"))
        #expect(r.endpoints(for: base, environment: [:]).first?.http == "https://my-node.example/base")
        #expect(r.token("DEGEN", on: "base") != nil)
        #expect(r.dexes(on: "base").contains { $0.name == "my_v2" })
        #expect(r.chain("gnosis")?.id == 100 && r.partitions[0].chains.contains("gnosis"))
        #expect(r.dexes(on: "bsc").first { $0.name == "mdex" }?.enabled == false)
        #expect(r.token("BUSD", on: "bsc")?.enabled == false)
    }

    @Test func badOverridesAreNamed() {
        #expect(Self.issues("[chains.nope]\nenabled = false").contains { $0.contains("arbiter.toml: chains.nope: unknown chain") })
        #expect(Self.issues("[chains.base]\nrpc = [{ http = \"ftp://x\" }]").contains { $0.contains("chains.base.rpc[0].http: not an http") })
        #expect(Self.issues("[disable]\ndexes = [\"bsc/nope\"]").contains { $0.contains("disable.dexes[0]") })
        #expect(Self.issues("[[add_dex]]\nchain = \"atlantis\"\nname = \"x\"\nkind = \"uniswapV2\"\nfactory = \"0x8909Dc15e40173Ff4699343b6eB8132c65e18eC6\"\npriceable = false")
            .contains { $0.contains("unknown chain \"atlantis\"") })
        #expect(Self.issues("[[add_token]]\nchain = \"base\"\nsymbol = \"USDC\"\naddress = \"0x4ed4E862860beD51a9570b96d89aF5E1B0Efefed\"\ndecimals = 6")
            .contains { $0.contains("listed twice on base") })
        #expect(Self.issues("typo = 1").contains { $0.contains("arbiter.toml: typo: unknown key") })
    }

    @Test func executionSettingsAndLendersCanBeAdded() throws {
        let toml = """
            [chains.base]
            mev = "flashbots-protect-l2"
            relay = "https://rpc.example/private"
            executors = { aaveV3 = "0x8909Dc15e40173Ff4699343b6eB8132c65e18eC6", direct = "0x4200000000000000000000000000000000000006" }
            l1_fee_oracle = "0x4200000000000000000000000000000000000015"

            [[add_flash]]
            chain = "base"
            name = "my_vault"
            protocol = "balancerV2"
            contract = "0xBA12222222228d8Ba445958a75a0704d566BF2C8"
            fee_pips = 0
            repayment = "borrower-pushes"
            assets = ["USDC"]
            status = "active"
            """
        guard case .success(let r) = Self.apply(toml) else { Issue.record("\(Self.issues(toml))"); return }
        let base = try #require(r.chain("base"))
        #expect(base.mev == .flashbotsProtectL2 && base.relay == "https://rpc.example/private")
        #expect(base.executors["aaveV3"] == (try Address(hex: "0x8909Dc15e40173Ff4699343b6eB8132c65e18eC6")) && base.executors.count == 2)
        #expect(base.l1FeeOracle == (try Address(hex: "0x4200000000000000000000000000000000000015")))
        #expect(r.flashSources(on: "base").contains { $0.name == "my_vault" && $0.assets == ["USDC"] })
        // The bundled OP-stack chains name their GasPriceOracle predeploy; Ethereum has none.
        #expect(Self.base.chain("optimism")?.l1FeeOracle == (try Address(hex: "0x420000000000000000000000000000000000000F")))
        #expect(Self.base.chain("ethereum")?.l1FeeOracle == nil)
        // Wrong values are named.
        #expect(Self.issues("[chains.base]\nexecutors = { uniswap = \"0x8909Dc15e40173Ff4699343b6eB8132c65e18eC6\" }").contains { $0.contains("executors.uniswap: unknown key") })
        #expect(Self.issues("[chains.base]\nrelay = \"ws://x\"").contains { $0.contains("chains.base.relay: not an http") })
        #expect(Self.issues("[chains.base]\nmev = \"dark-forest\"").contains { $0.contains("chains.base.mev") })
        #expect(Self.issues("[[add_flash]]\nchain = \"atlantis\"\nname = \"x\"").contains { $0.contains("unknown chain \"atlantis\"") })
    }

    @Test func crossChainSettingsAndBridgeRoutesCanBeAdded() throws {
        let toml = """
            [chains.base]
            bridge = "0x5c7BCd6E7De5423a257D81B442095A1a6ced35C5"
            executors = { crossChain = "0x4200000000000000000000000000000000000006" }

            [[add_bridge]]
            protocol = "lab"
            from = "base"
            to = "optimism"
            tokens = ["WETH", "USDC"]
            fee_pips = 500
            fixed_fee_cents = 0
            latency_s = 2
            """
        guard case .success(let r) = Self.apply(toml) else { Issue.record("\(Self.issues(toml))"); return }
        let base = try #require(r.chain("base"))
        #expect(base.bridge == (try Address(hex: "0x5c7BCd6E7De5423a257D81B442095A1a6ced35C5")))
        #expect(base.executors["crossChain"] == (try Address(hex: "0x4200000000000000000000000000000000000006")))
        #expect(r.bridges.count == Self.base.bridges.count + 1)
        #expect(r.bridges.contains { $0.protocol == .lab && $0.from == "base" && $0.to == "optimism" && $0.feePips == 500 && $0.latencySeconds == 2 })
        // A route is checked as the shipped ones are: known chains, tokens listed on both ends.
        let bad = toml.replacingOccurrences(of: "to = \"optimism\"", with: "to = \"atlantis\"")
        #expect(Self.issues(bad).contains { $0.contains("unknown chain \"atlantis\"") })
        let noToken = toml.replacingOccurrences(of: "[\"WETH\", \"USDC\"]", with: "[\"NOPE\"]")
        #expect(Self.issues(noToken).contains { $0.contains("NOPE is not a token on base") })
        #expect(Self.issues("[[add_bridge]]\nprotocol = \"carrier-pigeon\"").contains { $0.contains("protocol") })
    }
}
