#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// One fuzz target: a name, a function that checks its invariants on one input (and
/// traps through `invariant` when one breaks), and the seeds it can generate itself.
struct FuzzTarget: Sendable {
    let name: String
    let run: @Sendable (UnsafeRawBufferPointer) -> Void
    /// Seeds that need keys or sealed messages, written by `--write-seeds`; the rest are files.
    var seeds: @Sendable () -> [String: [UInt8]] = { [:] }

    static let all = [xmlStream, xmlDifferential, stanza, scram, ratchet, fanout] + client

    #if CATROOM_FUZZ_CLIENT
    /// The targets built only with CATROOM_FUZZ=client (Package.swift).
    static let client = [payload, engine, profile]
    #else
    static let client: [FuzzTarget] = []
    #endif

    static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}

/// The target chosen on the command line; set once before libFuzzer starts.
enum Selection {
    nonisolated(unsafe) static var target: FuzzTarget?
}

func runSelected(_ bytes: UnsafeRawBufferPointer) {
    Selection.target?.run(bytes)
}

/// libFuzzer looks for this symbol even when the driver is started by hand.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    runSelected(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// Stops the run with `message` when an invariant is broken; libFuzzer saves the input.
func invariant(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() {
        FileHandle.standardError.write(Data("INVARIANT FAILED: \(message())\n".utf8))
        abort()
    }
}

func writeSeeds(_ seeds: [String: [UInt8]], to directory: String) {
    try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    for (name, bytes) in seeds.sorted(by: { $0.key < $1.key }) {
        _ = FileManager.default.createFile(atPath: directory + "/" + name, contents: Data(bytes))
    }
    print("wrote \(seeds.count) seeds to \(directory)")
}

/// Reads structured values off the front of a fuzz input, as LLVM's FuzzedDataProvider
/// does: running out gives zeros and empty values, never a failure.
struct FuzzInput {
    private(set) var rest: ArraySlice<UInt8>

    init(_ bytes: UnsafeRawBufferPointer) { rest = ArraySlice(bytes) }
    init(_ bytes: [UInt8]) { rest = bytes[...] }

    mutating func byte() -> UInt8 { rest.popFirst() ?? 0 }

    mutating func uint16() -> Int { Int(byte()) << 8 | Int(byte()) }

    mutating func bytes(_ count: Int) -> [UInt8] {
        let taken = Array(rest.prefix(count))
        rest = rest.dropFirst(count)
        return taken
    }

    /// A u16-length-prefixed byte string.
    mutating func field() -> [UInt8] { bytes(uint16()) }

    mutating func remaining() -> [UInt8] { bytes(rest.count) }
}

/// The encoding `FuzzInput.field()` reads, for writing seeds.
func field(_ bytes: [UInt8]) -> [UInt8] {
    [UInt8(truncatingIfNeeded: bytes.count >> 8), UInt8(truncatingIfNeeded: bytes.count)] + bytes
}

/// SplitMix64, for chunk boundaries derived from the input.
struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
