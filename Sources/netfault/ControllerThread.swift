import Foundation
import NetFaultLinux

/// The controller's own thread: started with the privileges netfault was given, it waits until
/// `release` and then runs its body, which the caller's thread waits for. Capabilities and the
/// network namespace are each thread's own: the caller's thread, and the control API's threads it
/// starts, give theirs up meanwhile and never leave the caller's namespace.
final class ControllerThread<Value>: @unchecked Sendable {
    private let body: () throws -> Value
    private let go = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private var abandoned = false
    private var outcome: Result<Value, any Error>?

    init(_ body: @escaping () throws -> Value) {
        self.body = body
        let thread = Thread { [self] in
            Privileges.nameThisThread("nf-controller")
            go.wait()
            if !abandoned { outcome = Result { try self.body() } }
            finished.signal()
        }
        thread.start()
    }

    /// Runs the body on the controller's thread and waits for it.
    func release() throws -> Value {
        go.signal()
        finished.wait()
        return try outcome!.get()
    }

    /// Ends the thread without running the body (the start failed before it).
    func abandon() {
        abandoned = true
        go.signal()
        finished.wait()
    }
}
