import DRPC
import FuzzDriver

// DRPC's client stream on arbitrary server bytes (after the input's first byte, which
// chooses where they are cut into reads), with coderd's message cap and with a small one.
// Properties: no trap; the same error or the same events whatever the cuts.
func run(_ stream: UnsafeRawBufferPointer, cap: Int, splitter: Splitter?) -> Result<[DRPCEvent], DRPCError> {
    var client = DRPCClientStream(streamID: 1, maximumMessageSize: cap)
    _ = client.invoke(method: "/coder.tailnet.v2.Tailnet/WorkspaceUpdates", request: [])
    var events: [DRPCEvent] = []
    var failure: DRPCError?
    var splitter = splitter
    let feed: (UnsafeRawBufferPointer) -> Void = { piece in
        guard failure == nil else { return }
        do throws(DRPCError) {
            events += try client.receive(piece)
        } catch {
            failure = error
        }
    }
    if splitter != nil { splitter!.split(stream, feed) } else { feed(stream) }
    if let failure { return .failure(failure) }
    return .success(events)
}

runFuzzer { data in
    guard let seed = data.first else { return }
    let stream = UnsafeRawBufferPointer(rebasing: data[1...])
    for cap in [DRPCClientStream.coderMaximumMessageSize, 64] {
        let split = run(stream, cap: cap, splitter: Splitter(seed: seed))
        let whole = run(stream, cap: cap, splitter: nil)
        fuzzCheck(split == whole, "the outcome depends on the cuts: \(split) vs \(whole)")
    }
}
