#if canImport(Glibc)
import Glibc
#endif

/// Set by SIGINT or SIGTERM: the demo stops at the next step and tears its lab down.
nonisolated(unsafe) var demoInterrupted: sig_atomic_t = 0
