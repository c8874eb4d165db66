import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reading files safely: `stat` first, refuse anything that is not a regular file (a FIFO would block a
/// plain `open`), check the size limit before reading, open with `O_NONBLOCK` and re-check with `fstat`
/// in case the path was swapped in between.
enum FileReader {
    /// Reads the whole file, or only its first `prefix` bytes when given.
    static func readFile(_ path: String, maxBytes: Int, prefix: Int? = nil) throws -> [UInt8] {
        var st = stat()
        guard stat(path, &st) == 0 else { throw ImageError.fromErrno(errno, path: path) }
        try checkRegular(st, path: path)
        let size = Int(st.st_size)
        if size == 0 { throw ImageError.emptyFile(path: path) }
        if size > maxBytes { throw ImageError.fileTooLarge(path: path, bytes: size, limit: maxBytes) }

        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw ImageError.fromErrno(errno, path: path) }
        defer { close(fd) }
        guard fstat(fd, &st) == 0 else { throw ImageError.fromErrno(errno, path: path) }
        try checkRegular(st, path: path)
        let current = Int(st.st_size)
        if current > maxBytes { throw ImageError.fileTooLarge(path: path, bytes: current, limit: maxBytes) }

        let want = min(current, prefix ?? current)
        var buf = [UInt8](repeating: 0, count: want)
        var got = 0
        while got < want {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, want - got) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ImageError.fromErrno(errno, path: path)
            }
            if n == 0 { break }
            got += n
        }
        if got == 0 { throw ImageError.emptyFile(path: path) }
        if got < want { buf.removeLast(want - got) }
        return buf
    }

    static func checkRegular(_ st: stat, path: String) throws {
        switch st.st_mode & S_IFMT {
        case S_IFREG: return
        case S_IFDIR: throw ImageError.isDirectory(path: path)
        case S_IFIFO: throw ImageError.notRegularFile(path: path, kind: "FIFO (named pipe)")
        case S_IFSOCK: throw ImageError.notRegularFile(path: path, kind: "socket")
        case S_IFCHR: throw ImageError.notRegularFile(path: path, kind: "character device")
        case S_IFBLK: throw ImageError.notRegularFile(path: path, kind: "block device")
        default: throw ImageError.notRegularFile(path: path, kind: "special file")
        }
    }
}
