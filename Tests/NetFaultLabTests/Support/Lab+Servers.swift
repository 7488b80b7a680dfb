import Foundation

/// Real third-party servers in the lab's server namespace and their real clients in the client
/// namespace. Each server runs in the foreground with its own configuration and data in the lab's
/// directory, listens on both families, and is ready when its own client gets an answer; the lab
/// kills it by PID at the end. Nothing touches the machine's own configuration or services.
extension Lab {
    /// An address of the server for a URL or a client's host argument: brackets around IPv6 when `bracketed`.
    func host(_ family: Family, bracketed: Bool = true) -> String {
        let address = Self.serverAddress[family]!
        return family == .v6 && bracketed ? "[\(address)]" : address
    }

    /// A file of `count` bytes in the lab's directory (random, so that nothing compresses it).
    func payloadFile(_ name: String, bytes count: Int) throws -> String {
        let url = directory.appendingPathComponent(name)
        var generator = SystemRandomNumberGenerator()
        let data = Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
        try data.write(to: url)
        return url.path
    }

    /// A folder of the lab's, made anew.
    func folder(_ name: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    /// Waits until `probe` (a client command in the client namespace) succeeds, for at most `seconds`.
    /// `whileRunning`: the server's process must still run (false for one that detaches).
    private func awaitReady(_ server: Background, _ name: String, seconds: Double = 20, _ probe: [String], whileRunning: Bool = true) throws {
        let deadline = Date().addingTimeInterval(seconds)
        var last: Result?
        while Date() < deadline {
            last = try run(client, probe, timeout: 5)
            if last?.status == 0 { return }
            guard server.isRunning || !whileRunning else { break }
            usleep(200_000)
        }
        throw Failure(description: "\(name) did not start: \(server.errors) \(server.output); \(probe[0]) said (status \(last?.status ?? -1)\(last?.timedOut == true ? ", timed out" : "")): \(last?.errors ?? "")")
    }

    /// nginx serving `files` on `port` (HTTP/1.1, keep-alive off so each request is one connection).
    @discardableResult
    func nginx(port: Int = 8080, files: [String: Data]) throws -> Background {
        let root = try folder("nginx")
        let www = try folder("nginx/www")
        for (name, contents) in files { try contents.write(to: URL(fileURLWithPath: www).appendingPathComponent(name)) }
        let config = try file("nginx.conf", Self.nginxConfiguration(root: root, www: www, listen: "\(port)"))
        let process = try start(server, ["/usr/sbin/nginx", "-c", config, "-p", root, "-e", "\(root)/error.log"])
        try resolveNeighbours()
        try awaitReady(process, "nginx", ["curl", "-s", "-o", "/dev/null", "--max-time", "1", "http://\(host(.v4)):\(port)/"])
        return process
    }

    /// An nginx configuration for the lab: in the foreground, one process, everything under
    /// `root`, serving `www` on `listen` (IPv4 and IPv6: "8080", "443 ssl"), keep-alive off so
    /// each request is one connection; `server` adds lines to the server block.
    static func nginxConfiguration(root: String, www: String, listen: String, server: String = "") -> String {
        """
        daemon off;
        master_process off;
        user root;
        pid \(root)/nginx.pid;
        error_log \(root)/error.log;
        events { worker_connections 64; }
        http {
            access_log off;
            keepalive_timeout 0;
            client_body_temp_path \(root)/body;
            proxy_temp_path \(root)/proxy;
            fastcgi_temp_path \(root)/fastcgi;
            uwsgi_temp_path \(root)/uwsgi;
            scgi_temp_path \(root)/scgi;
            server {
                listen \(listen);
                listen [::]:\(listen);
                root \(www);
                \(server)
            }
        }
        """
    }

    /// redis-server on `port`, nothing saved to disk.
    @discardableResult
    func redis(port: Int = 6379) throws -> Background {
        let data = try folder("redis")
        let process = try start(server, ["redis-server", "--port", "\(port)", "--bind", "0.0.0.0", "::", "--save", "",
                                        "--appendonly", "no", "--protected-mode", "no", "--dir", data, "--daemonize", "no"])
        try resolveNeighbours()
        try awaitReady(process, "redis-server", ["redis-cli", "-h", host(.v4, bracketed: false), "-p", "\(port)", "PING"])
        return process
    }

    /// redis-cli in the client namespace.
    func redisCLI(_ family: Family, port: Int = 6379, _ arguments: [String]) throws -> Result {
        try run(client, ["redis-cli", "-h", host(family, bracketed: false), "-p", "\(port)"] + arguments, timeout: 30)
    }

    /// PostgreSQL on `port`: a new cluster in the lab's directory, owned by the `postgres` user
    /// (the server refuses root), trusting the lab's client addresses.
    @discardableResult
    func postgres(port: Int = 5432) throws -> Background {
        let binaries = try Self.postgresBinaries()
        let data = try folder("pgdata")
        let sockets = try folder("pgsock")
        _ = try run(nil, ["chown", "postgres:postgres", data, sockets])
        let initdb = try run(nil, ["runuser", "-u", "postgres", "--", "\(binaries)/initdb", "-D", data, "-A", "trust", "-U", "postgres"], timeout: 60)
        guard initdb.status == 0 else { throw Failure(description: "initdb: \(initdb.errors)") }
        let access = try String(contentsOfFile: "\(data)/pg_hba.conf", encoding: .utf8)
            + "host all all 198.18.0.0/15 trust\nhost all all 2001:db8::/32 trust\n"
        try access.write(toFile: "\(data)/pg_hba.conf", atomically: false, encoding: .utf8)
        let process = try start(server, ["runuser", "-u", "postgres", "--", "\(binaries)/postgres", "-D", data, "-p", "\(port)",
                                        "-c", "listen_addresses=*", "-c", "unix_socket_directories=\(sockets)", "-c", "fsync=off"])
        try resolveNeighbours()
        try awaitReady(process, "postgres", ["psql", "-h", host(.v4, bracketed: false), "-p", "\(port)", "-U", "postgres", "-Atc", "select 1"])
        return process
    }

    /// psql in the client namespace: one command.
    func psql(_ family: Family, port: Int = 5432, _ command: String) throws -> Result {
        try run(client, ["psql", "-h", host(family, bracketed: false), "-p", "\(port)", "-U", "postgres", "-Atc", command], timeout: 30)
    }

    /// The folder of PostgreSQL's server programs (`/usr/lib/postgresql/15/bin`).
    static func postgresBinaries() throws -> String {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let version = versions.compactMap(Int.init).max() else {
            throw Failure(description: "no PostgreSQL server under /usr/lib/postgresql (Scripts/setup installs it)")
        }
        return "/usr/lib/postgresql/\(version)/bin"
    }

    /// The passive-mode data ports vsftpd offers.
    static let ftpDataPorts = 30000...30009

    /// vsftpd on `port`, anonymous (as the package's `ftp` user) and read-only, passive mode on
    /// `ftpDataPorts`, one socket for both families.
    @discardableResult
    func vsftpd(port: Int = 2121, files: [String: Data]) throws -> Background {
        let root = try folder("ftp")
        for (name, contents) in files { try contents.write(to: URL(fileURLWithPath: root).appendingPathComponent(name)) }
        let empty = try folder("ftp-empty")
        let config = try file("vsftpd.conf", """
            listen=NO
            listen_ipv6=YES
            listen_port=\(port)
            background=NO
            anonymous_enable=YES
            no_anon_password=YES
            anon_root=\(root)
            local_enable=NO
            write_enable=NO
            pasv_enable=YES
            pasv_min_port=\(Self.ftpDataPorts.lowerBound)
            pasv_max_port=\(Self.ftpDataPorts.upperBound)
            secure_chroot_dir=\(empty)
            seccomp_sandbox=NO
            xferlog_enable=NO
            """)
        let process = try start(server, ["/usr/sbin/vsftpd", config])
        try resolveNeighbours()
        try awaitReady(process, "vsftpd", ["curl", "-s", "-o", "/dev/null", "--max-time", "2", "ftp://\(host(.v4)):\(port)/"])
        return process
    }

    /// sshd on `port`, root logging in with a key made for the lab; returns the client's key.
    func sshd(port: Int = 2222) throws -> (server: Background, key: String) {
        let keys = try folder("ssh")
        for name in ["host", "client"] {
            let made = try run(nil, ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", "\(keys)/\(name)"])
            guard made.status == 0 else { throw Failure(description: "ssh-keygen: \(made.errors)") }
        }
        try FileManager.default.copyItem(atPath: "\(keys)/client.pub", toPath: "\(keys)/authorized_keys")
        // sshd's privilege separation directory; left in place, as the package would have it.
        try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        let config = try file("sshd_config", """
            Port \(port)
            ListenAddress 0.0.0.0
            ListenAddress ::
            HostKey \(keys)/host
            PidFile \(keys)/sshd.pid
            AuthorizedKeysFile \(keys)/authorized_keys
            PermitRootLogin prohibit-password
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            UsePAM no
            StrictModes no
            """)
        // sshd detaches on its own (a child of this process, it left every later child of the
        // tests unreaped by Foundation); the lab's close kills it with everything else in its
        // namespace. Its log goes to a file of the lab's.
        let process = try start(server, ["/usr/sbin/sshd", "-E", "\(keys)/sshd.log", "-f", config])
        try resolveNeighbours()
        let key = "\(keys)/client"
        try awaitReady(process, "sshd", sshCommand(.v4, port: port, key: key) + ["true"], whileRunning: false)
        return (process, key)
    }

    /// ssh in the client namespace to the lab's server, as root with `key`, trusting any host key.
    func sshCommand(_ family: Family, port: Int = 2222, key: String) -> [String] {
        ["ssh", "-i", key, "-p", "\(port)", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
         "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=5", "root@\(host(family, bracketed: false))"]
    }

    /// aiosmtpd (Debian's python3-aiosmtpd) on `port`, accepting any mail and discarding it.
    @discardableResult
    func smtpServer(port: Int = 8025) throws -> Background {
        // One listener a family: asyncio makes an IPv6 socket IPv6-only.
        let process = try start(server, ["/usr/bin/python3", "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink", "-l", "0.0.0.0:\(port)"])
        _ = try start(server, ["/usr/bin/python3", "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink", "-l", ":::\(port)"])
        try resolveNeighbours()
        try awaitReady(process, "aiosmtpd", ["curl", "-s", "--max-time", "2", "smtp://\(host(.v4)):\(port)/lab", "-X", "NOOP"])
        return process
    }

    /// curl sending `file` as a mail over SMTP from the client namespace.
    func sendMail(_ family: Family, port: Int = 8025, file: String) throws -> Result {
        try run(client, ["curl", "-s", "-S", "--max-time", "30", "smtp://\(host(family)):\(port)/lab",
                         "--mail-from", "tester@lab.example", "--mail-rcpt", "sink@lab.example", "-T", file], timeout: 40)
    }
}
