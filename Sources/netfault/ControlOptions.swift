import ArgumentParser
import Foundation
import NetFaultControl
import NetFaultLinux

/// Where `apply` and `run` serve the control API: always a Unix socket, and on request a
/// loopback TCP port with a token.
struct ControlOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Serve the control API on this Unix socket instead of /run/netfault/<queue>.sock (<netns>-<queue>.sock in another network namespace).",
                               valueName: "path"))
    var control: String?

    @Option(help: ArgumentHelp("Make the control socket 0660 for this group (default: 0600, root only).", valueName: "group"))
    var controlGroup: String?

    @Option(help: ArgumentHelp("Also serve the control API over TCP on this loopback address, 127.0.0.1:PORT or [::1]:PORT (needs --token-file).",
                               valueName: "address"))
    var listen: String?

    @Option(help: ArgumentHelp("With --listen: the file holding the token every TCP request must carry (Authorization: Bearer TOKEN).",
                               valueName: "file"))
    var tokenFile: String?

    @Flag(help: "Bind the queue ready for any rule the control API may add: whole packets and a parking queue (pass-through costs more). On when no rule file is given.")
    var anyRules = false

    func validate() throws {
        if listen != nil, tokenFile == nil { throw ValidationError("--listen needs --token-file: the TCP API is served only with a token") }
        if tokenFile != nil, listen == nil { throw ValidationError("--token-file goes with --listen 127.0.0.1:PORT") }
        if let listen, ControlServer.TCPListener.loopback(listen) == nil {
            throw ValidationError("--listen \(listen): give a loopback address and port, 127.0.0.1:PORT or [::1]:PORT")
        }
    }

    /// Where the API will be served, checked and made ready (the way to the socket cleared, the
    /// token read) while netfault still has its privileges; exits 64, saying why, when it cannot be.
    func prepare(queue: UInt16, namespace: ResolvedNamespace?)
        throws -> (socket: ControlSocket, tcp: ControlServer.TCPListener?, claim: ControlSocket.Claim) {
        var group: gid_t?
        if let controlGroup {
            guard let entry = getgrnam(controlGroup) else { throw Self.refuse("--control-group \(controlGroup): no such group") }
            group = entry.pointee.gr_gid
        }
        var tcp: ControlServer.TCPListener?
        if let listen, let tokenFile, let (host, port) = ControlServer.TCPListener.loopback(listen) {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw Self.refuse("--token-file \(tokenFile): cannot be read")
            }
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard token.count >= 16, !token.contains(where: \.isWhitespace) else {
                throw Self.refuse("--token-file \(tokenFile): the token must be one word of at least 16 characters")
            }
            tcp = ControlServer.TCPListener(host: host, port: port, token: token)
        }
        let socket = ControlSocket(path: control ?? ControlSocket.defaultPath(queue: queue, namespace: namespace), group: group,
                                   isDefault: control == nil)
        do {
            return (socket, tcp, try socket.prepare())
        } catch {
            throw Self.refuse("\(error)" + (geteuid() == 0 ? "" : " (netfault needs root: run as root)"))
        }
    }

    /// Serves the API for `mailbox` where `prepare` said; exits 64, saying why, when it cannot.
    static func serve(_ mailbox: ControlMailbox, on place: (socket: ControlSocket, tcp: ControlServer.TCPListener?, claim: ControlSocket.Claim))
        throws -> ControlServer {
        do {
            return try ControlServer(mailbox: mailbox, socket: place.socket, tcp: place.tcp)
        } catch {
            throw refuse("\(error)")
        }
    }

    static func refuse(_ message: String) -> ExitCode {
        printError("netfault: \(message); nothing was installed")
        return ExitStatus.usage
    }
}
