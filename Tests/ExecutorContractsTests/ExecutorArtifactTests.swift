import EVMCodec
import EVMPrimitives
import Execution
import Testing

@testable import ExecutorContracts

@Suite struct ExecutorArtifactTests {
    @Test func everyArtifactLoads() throws {
        let names = ExecutorArtifact.all()
        #expect(names.count == 19)  // 7 executors, 12 doubles (contracts/src, contracts/mocks; modules have none)
        for name in names {
            let a = try ExecutorArtifact.load(name)
            #expect(a.compiler.hasPrefix("vyper 0.4.3"))
            #expect(!a.bytecode.isEmpty && !a.deployedBytecode.isEmpty)
            #expect(a.sourceHash.count == 66)
        }
    }

    /// Our ABI codec and the Vyper compiler agree on every executor's entry point selector.
    @Test func executeSelectorAgreesWithTheCompiler() throws {
        let ours = try FunctionSignature(
            "execute(address asset, uint256 amount, (address pool, uint8 kind, address token_in, address token_out, uint24 fee)[] steps, uint256 min_profit, uint256 deadline)")
        #expect(ours.canonical == ExecutorArtifact.executeSignature)
        for name in ExecutorArtifact.executors {
            let a = try ExecutorArtifact.load(name)
            #expect(a.methodIdentifiers[ExecutorArtifact.executeSignature] == ours.selector, "\(name)")
            // Every selector the compiler lists is the keccak of its signature.
            for (signature, selector) in a.methodIdentifiers {
                #expect(Array(Keccak256.hash(utf8: signature).prefix(4)) == selector, "\(name): \(signature)")
            }
        }
    }

    /// The entry points Execution calls that differ from `execute`: as the compiler lists them.
    @Test func otherEntryPointsAgreeWithTheCompiler() throws {
        let pool = try ExecutorArtifact.load("UniswapV3FlashArbitrage")
        #expect(pool.methodIdentifiers[ExecutorCall.executeFromPool.canonical] == ExecutorCall.executeFromPool.selector)
        let cross = try ExecutorArtifact.load("CrossChainArbitrage")
        for f in [CrossChainExecutor.buyAndBridge, CrossChainExecutor.sell] {
            #expect(cross.methodIdentifiers[f.canonical] == f.selector, "\(f.canonical)")
        }
    }
}
