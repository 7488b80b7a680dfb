import Foundation

/// Servers for the matches that read what clients send: nginx over TLS (a self-signed certificate
/// made with openssl in the lab's directory) and dnsmasq, each in the foreground in the server
/// namespace with its own configuration, killed by PID with the lab.
extension Lab {
    /// nginx serving HTTPS on `port` for any name (one self-signed certificate for `*.example`,
    /// `*.blocked.example` and `*.ok.example`), both families; clients reach it with
    /// `curl --resolve NAME:PORT:ADDRESS -k`.
    @discardableResult
    func nginxTLS(port: Int = 443) throws -> Background {
        let root = try folder("nginx-tls")
        let www = try folder("nginx-tls/www")
        try Data("hello over TLS\n".utf8).write(to: URL(fileURLWithPath: www).appendingPathComponent("index.html"))
        let made = try run(nil, ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=lab.example",
                                 "-addext", "subjectAltName=DNS:*.example,DNS:*.blocked.example,DNS:*.ok.example",
                                 "-keyout", "\(root)/key.pem", "-out", "\(root)/cert.pem"], timeout: 60)
        guard made.status == 0 else { throw Failure(description: "openssl: \(made.errors)") }
        let config = try file("nginx-tls.conf", Self.nginxConfiguration(root: root, www: www, listen: "\(port) ssl", server: """
            ssl_certificate \(root)/cert.pem;
            ssl_certificate_key \(root)/key.pem;
            """))
        let process = try start(server, ["/usr/sbin/nginx", "-c", config, "-p", root, "-e", "\(root)/error.log"])
        try resolveNeighbours()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if try httpsStatus(.v4, name: "ready.ok.example", port: port) == 0 { return process }
            guard process.isRunning else { break }
            usleep(200_000)
        }
        throw Failure(description: "nginx (TLS) did not start: \(process.errors) \(try String(contentsOfFile: "\(root)/error.log", encoding: .utf8))")
    }

    /// curl's exit status for `https://NAME:PORT/index.html`, `name` resolved to the server's address.
    func httpsStatus(_ family: Family, name: String, port: Int = 443) throws -> Int32 {
        try run(client, ["curl", "-s", "-k", "-o", "/dev/null", "--max-time", "10", "--resolve", "\(name):\(port):\(host(family))",
                         "https://\(name):\(port)/index.html"], timeout: 20).status
    }

    /// dnsmasq answering on port 53 of the server's addresses: every name under `example` is
    /// 198.18.2.50 (A) and 2001:db8:2::50 (AAAA); no upstream, no hosts file, every query logged
    /// ("query[A] name from ..."). It runs as the daemon it is, not as a child of the tests: while
    /// it ran as one (`--keep-in-foreground`), Foundation's `Process` stopped noticing that any
    /// other child of the test process ended, so every later command seemed to hang. The lab's
    /// close ends it with everything else in its namespaces.
    @discardableResult
    func dnsmasq() throws -> DNSServer {
        let server = DNSServer(log: directory.appendingPathComponent("dnsmasq.log"))
        let started = try run(self.server, ["dnsmasq", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                                           "--user=root", "--pid-file=\(directory.appendingPathComponent("dnsmasq.pid").path)",
                                           "--bind-interfaces",
                                           "--listen-address=\(host(.v4, bracketed: false)),\(host(.v6, bracketed: false))",
                                           "--address=/example/198.18.2.50", "--address=/example/2001:db8:2::50",
                                           "--log-queries", "--log-facility=\(server.log.path)"], timeout: 10)
        guard started.status == 0 else { throw Failure(description: "dnsmasq did not start: \(started.errors)") }
        try resolveNeighbours()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if try dig(.v4, "ready.example", timeout: 1).output.contains("198.18.2.50") { return server }
            usleep(200_000)
        }
        throw Failure(description: "dnsmasq did not answer: \(server.errors)")
    }

    /// dig in the client namespace against the server's address: one try, `timeout` seconds.
    func dig(_ family: Family, _ name: String, type: String = "A", tcp: Bool = false, timeout: Int = 2) throws -> Result {
        try run(client, ["dig", "@\(host(family, bracketed: false))", name, type, "+tries=1", "+time=\(timeout)"] + (tcp ? ["+tcp"] : []),
                timeout: Double(timeout) + 10)
    }
}

/// A dnsmasq of the lab's, known by its log.
struct DNSServer {
    let log: URL
    /// What it logged: its queries, one line each.
    var errors: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
}
