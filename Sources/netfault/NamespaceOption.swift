import ArgumentParser
import NetFaultLinux

/// `--netns`: the network namespace `apply`, `run` and `check` act on instead of netfault's own.
struct NamespaceOption: ParsableArguments {
    @Option(help: ArgumentHelp("Fault this network namespace instead of netfault's own: a name under /run/netns, a namespace file (/proc/PID/ns/net), pid:PID, or container:NAME (podman or docker).",
                               valueName: "target"))
    var netns: String?

    /// The namespace `--netns` names, found and checked now, before anything is installed; nil
    /// without `--netns`. Exits 64, saying why, when it names nothing usable.
    func resolve() throws -> ResolvedNamespace? {
        guard let netns else { return nil }
        do {
            return try ResolvedNamespace.resolve(try NamespaceTarget(parsing: netns))
        } catch {
            printError("netfault: \(error); nothing was installed")
            throw ExitStatus.usage
        }
    }
}
