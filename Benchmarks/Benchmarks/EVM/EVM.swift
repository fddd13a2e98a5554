import Benchmark
import EVMCodec
import EVMPrimitives
import EVMSigning

/// Hot-path building blocks: hashing, 256-bit math, calldata and transaction encoding, signing.
/// Targets (issue #2): EIP-1559 sign ≤ 60 µs, keccak256(32 B) ≤ 400 ns, mulDiv ≤ 100 ns.
let benchmarks: @Sendable () -> Void = {
    let fast = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        scalingFactor: .kilo, maxDuration: .seconds(3))
    let slow = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        scalingFactor: .one, maxDuration: .seconds(3))

    let word = [UInt8](repeating: 0xab, count: 32)
    let kib = (0..<1024).map { UInt8(truncatingIfNeeded: $0 * 31) }
    var out = [UInt8](repeating: 0, count: 32)

    Benchmark("keccak256 32 B", configuration: fast) { benchmark in
        for _ in benchmark.scaledIterations {
            word.withUnsafeBytes { p in out.withUnsafeMutableBytes { Keccak256.hash(p.baseAddress, count: 32, into: $0.baseAddress!) } }
            blackHole(out)
        }
    }

    let twoWords = [UInt8](repeating: 0xcd, count: 64)
    Benchmark("keccak256 64 B", configuration: fast) { benchmark in
        for _ in benchmark.scaledIterations {
            twoWords.withUnsafeBytes { p in out.withUnsafeMutableBytes { Keccak256.hash(p.baseAddress, count: 64, into: $0.baseAddress!) } }
            blackHole(out)
        }
    }

    Benchmark("keccak256 1 KiB", configuration: fast) { benchmark in
        for _ in benchmark.scaledIterations {
            kib.withUnsafeBytes { p in out.withUnsafeMutableBytes { Keccak256.hash(p.baseAddress, count: 1024, into: $0.baseAddress!) } }
            blackHole(out)
        }
    }

    // Uniswap V3 style operands: a liquidity-sized a, a Q96 price b, a large denominator.
    let a: UInt256 = 0x0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0fa3_c2d1_9e7b_4a12_3456_7890_abcd_ef01
    let b: UInt256 = 0x0000_0000_0000_0000_0000_0000_0000_0001_0000_0000_0000_0000_0000_0000_0000_0000_1234_5678
    let d: UInt256 = 0x0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0003_ffff_ffff_ffff_ffff_ffff_fff1
    Benchmark("UInt256 mulDiv", configuration: fast) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(UInt256.mulDiv(identity(a), b, d))
        }
    }

    Benchmark("UInt256 mulDivRoundingUp", configuration: fast) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(UInt256.mulDivRoundingUp(identity(a), b, d))
        }
    }

    // An executor call with five hops, each a (pool, tokenIn, tokenOut, fee, kind, minOut, data) tuple.
    let execute = try! FunctionSignature(
        "executeArbitrage(address asset, uint256 amount, (address pool, address tokenIn, address tokenOut, uint24 fee, uint8 kind, uint256 minOut, bytes data)[] hops, uint256 minProfit)")
    var hops: [ABIValue] = []
    for i in UInt64(0)..<5 {
        let pool = Address(truncating: UInt256(0x1000 + i))
        let tokenIn = Address(truncating: UInt256(0x2000 + i))
        let tokenOut = Address(truncating: UInt256(0x2001 + i))
        let data: [UInt8] = i % 2 == 0 ? [] : [UInt8](repeating: 7, count: 40)
        let fields: [ABIValue] = [
            .address(pool), .address(tokenIn), .address(tokenOut), .uint(UInt256(500 * (i + 1))),
            .uint(UInt256(i % 3)), .uint(UInt256(1_000_000 + i)), .bytes(data),
        ]
        hops.append(.tuple(fields))
    }
    let args: [ABIValue] = [
        .address(Address(truncating: 0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2)), .uint(10_000_000_000_000_000_000),
        .array(hops), .uint(1_000_000_000_000_000),
    ]
    Benchmark("ABI encode 5-hop swap calldata", configuration: fast) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try! execute.calldata(args))
        }
    }

    let key = try! PrivateKey(bytes: [UInt8](repeating: 0x11, count: 32))
    let tx = Transaction(
        type: .dynamicFee, chainId: 1, nonce: 42, maxPriorityFeePerGas: 1_000_000_000, maxFeePerGas: 30_000_000_000,
        gasLimit: 350_000, to: Address(truncating: 0x1111111254EEB25477B68fb85Ed929f73A960582), value: 0,
        data: try! execute.calldata(args))

    Benchmark("RLP encode EIP-1559 transaction", configuration: fast) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(tx.signingPayload)
        }
    }

    let transfer = Transaction(
        type: .dynamicFee, chainId: 1, nonce: 42, maxPriorityFeePerGas: 1_000_000_000, maxFeePerGas: 30_000_000_000,
        gasLimit: 21_000, to: Address(truncating: 0xdead), value: 1)
    Benchmark("EIP-1559 sign, transfer (hash + signature + raw)", configuration: slow) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(transfer.signed(with: key).raw)
        }
    }

    Benchmark("EIP-1559 sign, 5-hop calldata \(tx.data.count) B (hash + signature + raw)", configuration: slow) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(tx.signed(with: key).raw)
        }
    }

    let digest = tx.signingHash
    let signature = key.sign(digest: digest)
    Benchmark("secp256k1 signer recovery", configuration: slow) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try! signature.recoverSigner(digest: digest))
        }
    }
}
