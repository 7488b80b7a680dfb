import ArgumentParser
import Foundation
import NetFaultCore
import NetFaultLab
import NetFaultLinux

extension Netfault {
    /// The first thing a newcomer runs: every preset, on real traffic, in a private lab.
    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what each preset does to a real client, in a private lab of namespaces (needs root).",
            discussion: """
                Builds a lab of three network namespaces (client — middlebox — server, addresses from \
                198.18.0.0/15 and 2001:db8::/32), starts a real server and client in it, applies each preset \
                of Rules/ on the middlebox, and prints what the client saw beside netfault's report. The \
                lab is removed afterwards, also on Ctrl-C or failure; nothing of the host's network is touched.
                """
        )

        @Argument(help: "One preset to show (default: all). Presets: \(DemoScenario.all.map(\.preset).joined(separator: ", ")).")
        var preset: String?

        /// Values for the preset's parameters (the demo's servers listen on 8080).
        @OptionGroup var parameters: ParameterSettings

        func validate() throws {
            if let preset, !DemoScenario.all.contains(where: { $0.preset == preset }) {
                throw ValidationError("no preset '\(preset)'; choose one of \(DemoScenario.all.map(\.preset).joined(separator: ", "))")
            }
        }

        func run() throws {
            let scenarios = DemoScenario.all.filter { preset == nil || $0.preset == preset }
            guard getuid() == 0 else {
                printError("netfault demo: needs root (it creates network namespaces); try: sudo netfault demo")
                throw ExitCode.failure
            }
            // Whatever the parent blocked or ignored, Ctrl-C and SIGTERM must reach the demo, which
            // then tears its lab down.
            signal(SIGINT) { _ in demoInterrupted = 1 }
            signal(SIGTERM) { _ in demoInterrupted = 1 }
            var stops = sigset_t()
            sigemptyset(&stops)
            sigaddset(&stops, SIGINT)
            sigaddset(&stops, SIGTERM)
            pthread_sigmask(SIG_UNBLOCK, &stops, nil)
            let runner = try DemoRunner(netfaultPath: try ownExecutablePath())
            runner.settings = parameters.values
            defer { runner.tearDown() }
            print("netfault demo: a private lab — client \(LabNetwork.clientAddress[.v4]!) — middlebox — server \(LabNetwork.serverAddress[.v4]!):8080")
            print("")
            do {
                try runner.setUp()
                for scenario in scenarios {
                    guard demoInterrupted == 0 else { break }
                    try runner.run(scenario) { line in
                        print(line)
                        fflush(nil)  // every stream: a pipe or file sees the demo as it goes
                    }
                }
            } catch {
                printError("netfault demo: \(error); the lab is being removed")
                throw ExitCode.failure
            }
            if demoInterrupted != 0 {
                printError("netfault demo: interrupted; the lab is removed")
                throw ExitCode(130)
            }
        }
    }
}
