import EVMPrimitives
import Foundation

/// Everything Arbiter knows about chains, venues, tokens, lenders, partitions and bridges.
///
/// Built from the TOML files shipped in `Data/` (see ``bundled()``), optionally merged with a
/// user's `arbiter.toml` (``applying(overrides:file:)``), and always validated: a registry
/// value that exists has passed every rule in `RegistryValidator`.
package struct Registry: Sendable {
    package var providers: [RPCProvider]
    package var chains: [Chain]
    package var dexes: [DEX]
    package var tokens: [Token]
    package var flashSources: [FlashSource]
    package var partitions: [Partition]
    package var bridges: [BridgeRoute]
    package var cexSymbols: [CEXSymbol]
    package var statArbPairs: [StatArbPair]
    /// The CEX feed (`[cex_feed]` in arbiter.toml): off unless turned on.
    package var cexFeed = CEXFeedSettings()
    /// CoW settlement backruns (`[cow]` in arbiter.toml): off unless turned on.
    package var cow = CowSettings()
    /// Solana execution through Jupiter and Jito (`[solana]` in arbiter.toml).
    package var solana = SolanaSettings()

    /// The chain named `name`.
    package func chain(_ name: String) -> Chain? { chains.first { $0.name == name } }

    package func dexes(on chain: String) -> [DEX] { dexes.filter { $0.chain == chain } }
    package func tokens(on chain: String) -> [Token] { tokens.filter { $0.chain == chain } }
    package func flashSources(on chain: String) -> [FlashSource] { flashSources.filter { $0.chain == chain } }
    package func token(_ symbol: String, on chain: String) -> Token? { tokens.first { $0.chain == chain && $0.symbol == symbol } }

    /// For a pool-flash source (`uniswapV3Flash`, `pancakeV3`: its contract is the factory), the
    /// places in `dexes` of the DEXs whose pools lend through it: enabled, of the matching kind
    /// (Uniswap V3, PancakeSwap V3), on its chain, deployed by that factory. Empty otherwise.
    package func lendingDEXes(_ source: FlashSource) -> [Int] {
        guard let kind = source.protocol.lendingPoolKind else { return [] }
        return dexes.indices.filter { i in
            let d = dexes[i]
            return d.chain == source.chain && d.enabled && d.kind == kind && d.factory == source.contract
        }
    }

    /// Bridge routes that start or end on `chain`.
    package func bridges(touching chain: String) -> [BridgeRoute] { bridges.filter { $0.from == chain || $0.to == chain } }

    /// Statistical-arbitrage pairs present on `chain` (both tokens listed and enabled).
    package func statArbUniverse(on chain: String) -> [StatArbPair] {
        statArbPairs.filter { token($0.base, on: chain)?.enabled == true && token($0.quote, on: chain)?.enabled == true }
    }

    /// Endpoints to dial for `chain`, best first: the user's own, then each provider in
    /// priority order whose API key is set in `environment` (a provider needing a key that is
    /// absent is skipped, not an error), then the chain's public endpoint.
    package func endpoints(for chain: Chain, environment: [String: String]) -> [RPCEndpoint] {
        var out = chain.userRPC
        for p in providers {
            guard let network = chain.providerNetworks[p.name] else { continue }
            var key = ""
            if let env = p.keyEnv {
                guard let k = environment[env], !k.isEmpty else { continue }
                key = k
            }
            func fill(_ t: String) -> String {
                t.replacingOccurrences(of: "{network}", with: network).replacingOccurrences(of: "{key}", with: key)
            }
            out.append(RPCEndpoint(provider: p.name, http: fill(p.http), ws: p.ws.map(fill)))
        }
        if let pub = chain.publicRPC { out.append(pub) }
        return out
    }

    /// The registry shipped with Arbiter.
    package static func bundled() throws(RegistryError) -> Registry {
        try load(files: try bundledFiles())
    }

    /// The shipped data files as (path relative to `Data/`, text).
    package static func bundledFiles() throws(RegistryError) -> [(String, String)] {
        guard let root = Bundle.module.url(forResource: "Data", withExtension: nil) else {
            throw RegistryError([RegistryIssue(file: "Data", keyPath: "", reason: "registry data missing from the bundle")])
        }
        var files: [(String, String)] = []
        let fm = FileManager.default
        guard let walker = fm.enumerator(at: root, includingPropertiesForKeys: nil) else { return [] }
        for case let url as URL in walker where url.pathExtension == "toml" {
            let relative = String(url.path.dropFirst(root.path.count + 1))
            guard let text = try? String(contentsOf: url, encoding: .utf8) else {
                throw RegistryError([RegistryIssue(file: relative, keyPath: "", reason: "cannot read")])
            }
            files.append((relative, text))
        }
        return files.sorted { $0.0 < $1.0 }
    }

    /// Builds and validates a registry from data files (path relative to `Data/`, text).
    package static func load(files: [(String, String)]) throws(RegistryError) -> Registry {
        let log = IssueLog()
        var loader = RegistryLoader(log: log)
        for (name, text) in files {
            do {
                loader.read(try ConfigValue.parse(toml: text, file: name), file: name)
            } catch {
                for i in error.issues { log.add(i.file, i.keyPath, i.reason) }
            }
        }
        var registry = loader.registry
        guard log.isEmpty else { throw RegistryError(log.issues) }
        // Chains in partition order (P1 asia-fast first), as the partitions list them.
        let order = Dictionary(registry.partitions.flatMap(\.chains).enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
        registry.chains.sort { (order[$0.name] ?? Int.max, $0.name) < (order[$1.name] ?? Int.max, $1.name) }
        return try registry.validated()
    }

    /// Runs every validation rule; throws all issues found.
    package func validated() throws(RegistryError) -> Registry {
        let issues = RegistryValidator(registry: self).run()
        guard issues.isEmpty else { throw RegistryError(issues) }
        return self
    }
}
