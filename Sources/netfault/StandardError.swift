#if canImport(Glibc)
import Glibc
#endif

/// Writes a line to standard error, where diagnostics belong (standard output carries results).
func printError(_ message: String) {
    let line = message + "\n"
    _ = line.withCString { write(2, $0, strlen($0)) }
}
