import ArgumentParser
import NetFaultLab
import NetFaultLinux

extension Netfault {
    /// The demo's lab, kept up for the user's own rule files and clients.
    struct Lab: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or remove a lab of namespaces (client — middlebox — server) to try rule files in (needs root).",
            subcommands: [Up.self, Down.self]
        )

        /// The lab's namespaces are `<name>-client`, `<name>-mbox` and `<name>-server`.
        struct Name: ParsableArguments {
            @Option(help: "Name the lab's namespaces start with.")
            var name = "netfault-lab"

            var network: LabNetwork { LabNetwork(prefix: name) }
        }

        struct Up: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create the lab and print how to use it.")

            @OptionGroup var name: Name

            func run() throws {
                let lab = name.network
                guard !lab.exists else {
                    printError("netfault lab up: the lab \(name.name) is up already (netfault lab down removes it)")
                    throw ExitCode.failure
                }
                do { try lab.create() } catch {
                    printError("netfault lab up: \(error)")
                    throw ExitCode.failure
                }
                print("""
                    Lab up: \(lab.client) (\(LabNetwork.clientAddress[.v4]!), \(LabNetwork.clientAddress[.v6]!)) — \
                    \(lab.middlebox) — \(lab.server) (\(LabNetwork.serverAddress[.v4]!), \(LabNetwork.serverAddress[.v6]!))
                    Try, each in its own terminal:
                      sudo ip netns exec \(lab.server) python3 -m http.server 8080 --bind ::
                      sudo ip netns exec \(lab.middlebox) netfault apply Rules/server-crash.yaml
                      sudo ip netns exec \(lab.client) curl -o /dev/null http://\(LabNetwork.serverAddress[.v4]!):8080/
                    Rule files for the lab use `hooks: [forward]`. `netfault lab down\(name.name == "netfault-lab" ? "" : " --name \(name.name)")` removes it, and every process in it.
                    """)
            }
        }

        struct Down: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Remove the lab and stop every process in it.")

            @OptionGroup var name: Name

            func run() throws {
                let lab = name.network
                guard lab.exists else {
                    print("netfault lab down: no lab to remove")
                    return
                }
                lab.destroy()
                print("netfault lab down: removed")
            }
        }
    }
}
