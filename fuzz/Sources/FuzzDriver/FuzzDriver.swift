/// The libFuzzer entry point shared by every target.
///
/// SwiftPM links each executable with its own `main`, and `-sanitize=fuzzer` would bring
/// libFuzzer's `main` as well, so the two collide. Instead each target is an ordinary
/// executable built with `-sanitize=address -sanitize-coverage=...` and linked against
/// `libclang_rt.fuzzer_no_main`; its `main.swift` hands its body to ``runFuzzer(_:)``, which
/// calls libFuzzer's `LLVMFuzzerRunDriver` with the process's own arguments (so every
/// libFuzzer flag works: `-max_total_time=`, `-runs=`, a corpus directory, a crash file).

@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

/// The target's body: set once before the driver starts, then only read (libFuzzer runs
/// inputs on one thread).
nonisolated(unsafe) private var fuzzBody: ((UnsafeRawBufferPointer) -> Void)?

/// Runs libFuzzer over `body` and exits with its status. `body` must trap on a finding
/// (a failed property: use ``fuzzCheck(_:_:)``); a thrown parse error is not a finding.
public func runFuzzer(_ body: @escaping (UnsafeRawBufferPointer) -> Void) -> Never {
    fuzzBody = body
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    let status = LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        fuzzBody!(UnsafeRawBufferPointer(start: data, count: size))
        return 0
    }
    exit(status)
}

@_silgen_name("exit")
private func exit(_ status: Int32) -> Never

/// Stops the run with `message` when a property does not hold: libFuzzer records the input
/// as a crash.
public func fuzzCheck(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("property failed: \(message())") }
}

/// Splits `bytes` into pieces at the cut points the input itself chooses: the first byte
/// seeds a small generator, so the same input always splits the same way. Used by targets
/// that feed a stream (TCP, yamux, DRPC) in arbitrary reads.
public struct Splitter {
    private var state: UInt64

    public init(seed: UInt8) { state = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 | 1 }

    /// The next piece length, 1 ... `limit` (limit >= 1), biased to short pieces.
    public mutating func next(limit: Int) -> Int {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        let cap = Int(state >> 60) == 0 ? limit : min(limit, 1 + Int(state >> 58))
        return 1 + Int(state % UInt64(cap))
    }

    /// Calls `body` with consecutive pieces of `bytes` that together cover it.
    public mutating func split(_ bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        var offset = 0
        while offset < bytes.count {
            let length = next(limit: bytes.count - offset)
            body(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]))
            offset += length
        }
    }
}
