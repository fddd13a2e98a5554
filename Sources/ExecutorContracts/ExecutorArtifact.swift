import EVMCodec
import EVMPrimitives
import Foundation

/// A compiled Arbiter contract (`contracts/artifacts/<Name>.json`, written by `contracts/build`).
package struct ExecutorArtifact: Sendable {
    package let name: String
    package let compiler: String
    /// sha256 over the Vyper sources it was compiled from.
    package let sourceHash: String
    /// Creation code (constructor arguments are appended ABI-encoded).
    package let bytecode: [UInt8]
    package let deployedBytecode: [UInt8]
    /// Canonical signature → 4-byte selector, as the Vyper compiler reports them.
    package let methodIdentifiers: [String: [UInt8]]
    package let abi: JSONValue

    /// The executors Arbiter deploys, one per lender plus own capital.
    package static let executors = [
        "AaveV3FlashArbitrage", "BalancerV2FlashArbitrage", "SyncSwapFlashArbitrage", "DaiFlashMintArbitrage", "DirectArbitrage",
    ]

    /// The shared entry point of every executor.
    package static let executeSignature = "execute(address,uint256,(address,uint8,address,address,uint24)[],uint256,uint256)"

    /// Loads an artifact shipped with this target.
    package static func load(_ name: String) throws -> ExecutorArtifact {
        guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Artifacts") else {
            throw ArtifactError("no artifact \(name).json (run contracts/build)")
        }
        let json = try JSONValue.parse([UInt8](try Data(contentsOf: url)))
        func string(_ key: String) throws -> String {
            guard let s = json[key]?.stringValue else { throw ArtifactError("\(name).json: missing \(key)") }
            return s
        }
        var ids: [String: [UInt8]] = [:]
        if case .object(let members)? = json["methodIdentifiers"] {
            for m in members {
                guard let s = m.value.stringValue else { continue }
                ids[m.key] = try Hex.decode(s)
            }
        }
        return ExecutorArtifact(
            name: name, compiler: try string("compiler"), sourceHash: try string("sourceHash"),
            bytecode: try Hex.decode(try string("bytecode")), deployedBytecode: try Hex.decode(try string("deployedBytecode")),
            methodIdentifiers: ids, abi: json["abi"] ?? .null)
    }

    /// Names of every shipped artifact.
    package static func all() -> [String] {
        guard let dir = Bundle.module.url(forResource: "Artifacts", withExtension: nil),
              let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return [] }
        return names.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }
}

package struct ArtifactError: Error, CustomStringConvertible {
    package let description: String
    init(_ description: String) { self.description = description }
}
