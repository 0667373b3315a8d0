#if canImport(Glibc)
    import Glibc
#endif

/// glibc's `malloc_trim`, which Swift's Glibc module does not declare: looked up once.
/// After a large state has been built, the memory freed on the way (decoding buffers,
/// the previous state) goes back to the system instead of staying resident. Here, below the
/// control plane, because the state-file reader uses it too.
public enum MemoryTrim {
    private typealias Function = @convention(c) (Int) -> Int32
    private static let function: Function? = {
        // RTLD_DEFAULT is the null handle on glibc.
        guard let symbol = dlsym(nil, "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: Function.self)
    }()

    public static func release() { _ = function?(0) }
}
