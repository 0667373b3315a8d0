#if canImport(Glibc)
    import Glibc
#endif

/// A whole file read into memory of its own, to be parsed once from start to end, whose
/// pages can be handed back to the kernel as the parser leaves them behind
/// (``release(below:)``): a 16 MB state file then costs about a megabyte of resident memory
/// by the time the records built from it need theirs.
///
/// Read with `read`, not mapped: a mapped file that someone truncates while it is parsed
/// would kill the server with SIGBUS. The memory is an anonymous mapping, so released pages
/// are simply gone (they read back as zeros: the parser must not look at them again).
final class FileBuffer {
    /// The file's bytes.
    private(set) var bytes: UnsafeRawBufferPointer
    private var base: UnsafeMutableRawPointer?
    private var capacity = 0
    /// Bytes below this have been released.
    private var released = 0
    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
    /// Releasing costs a system call: only in steps of at least this much.
    private static let releaseStep = 1 << 20

    init(path: String) throws(StateFileError) {
        bytes = UnsafeRawBufferPointer(start: nil, count: 0)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.failure(path) }
        defer { close(fd) }
        var info = stat()
        let expected = fstat(fd, &info) == 0 ? max(Int(info.st_size), 0) : 0
        try grow(to: max(expected + 1, 1 << 16), path: path)
        var count = 0
        while true {
            if count == capacity { try grow(to: capacity * 2, path: path) }
            let got = read(fd, base! + count, capacity - count)
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else { throw Self.failure(path) }
            if got == 0 { break }
            count += got
        }
        bytes = UnsafeRawBufferPointer(start: base, count: count)
    }

    deinit {
        if let base { munmap(base, capacity) }
    }

    private static func failure(_ path: String) -> StateFileError {
        StateFileError(source: path, location: "", problem: "cannot read the file (\(String(cString: strerror(errno))))")
    }

    /// A larger anonymous mapping holding what was read so far (rare: only when the file grew
    /// after `fstat`).
    private func grow(to size: Int, path: String) throws(StateFileError) {
        let rounded = (size + Self.pageSize - 1) / Self.pageSize * Self.pageSize
        let fresh = mmap(nil, rounded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let fresh, fresh != MAP_FAILED else { throw Self.failure(path) }
        if let base {
            fresh.copyMemory(from: base, byteCount: capacity)
            munmap(base, capacity)
        }
        base = fresh
        capacity = rounded
    }

    /// Where a release for a parser at `offset` would end (whole pages, in steps of a
    /// megabyte), or nil when there is not enough to release yet.
    func releasable(below offset: Int) -> Int? {
        let end = min(offset, bytes.count) / Self.pageSize * Self.pageSize
        return end - released >= Self.releaseStep ? end : nil
    }

    /// Hands back the pages below `end` (from ``releasable(below:)``): the parser will not
    /// read them again.
    func release(upTo end: Int) {
        guard let base, end > released else { return }
        madvise(base + released, end - released, MADV_DONTNEED)
        released = end
    }
}
