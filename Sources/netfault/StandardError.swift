#if canImport(Glibc)
import Glibc
#endif

/// Writes to standard error, where diagnostics belong (standard output carries results).
func printError(_ message: String, newline: Bool = true) {
    let text = newline ? message + "\n" : message
    _ = text.withCString { write(2, $0, strlen($0)) }
}
