// The libFuzzer entry point for every target in FuzzChecks (built by scripts/fuzz with
// -sanitize=fuzzer,address): the target is the name the binary was run as (a link per target).
import FuzzChecks

#if canImport(Glibc)
import Glibc
#endif

nonisolated(unsafe) var target: FuzzTarget?

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>) -> CInt {
    let name = String(cString: argv.pointee[0]!).split(separator: "/").last.map(String.init) ?? ""
    guard let t = FuzzTarget(rawValue: name) else {
        fputs("fuzz: run as one of \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")), not \(name)\n", stderr)
        exit(2)
    }
    target = t
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    do {
        try target!.check(input)
    } catch {
        fatalError("\(target!.rawValue): \(error)")
    }
    return 0
}
