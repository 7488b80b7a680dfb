// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "netfault",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "netfault", targets: ["netfault"]),
        .library(name: "NetFaultCore", targets: ["NetFaultCore"]),
        // For the fuzz package's netlink target.
        .library(name: "NetFaultLinux", targets: ["NetFaultLinux"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // The control API: HTTP/1.1 on a Unix socket (and loopback TCP), Prometheus exposition,
        // and the client `netfault ctl` talks to it with.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // libnetfilter_queue + libmnl; the .pc file of the former does not pull in the latter,
        // so the module map links both.
        .systemLibrary(
            name: "CNetfilterQueue",
            pkgConfig: "libnetfilter_queue",
            providers: [.apt(["libnetfilter-queue-dev", "libmnl-dev"])]
        ),
        // libpcap, to write `--pcap` capture files that tcpdump and Wireshark open.
        .systemLibrary(name: "CPcap", providers: [.apt(["libpcap-dev"])]),
        // Pure decision logic: packets, rules, flows, engine, report. No syscalls, no C target.
        .target(
            name: "NetFaultCore",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        // Everything that touches the kernel: the queue, the hooks, the injector, the run loop.
        .target(
            name: "NetFaultLinux",
            dependencies: ["NetFaultCore", "CNetfilterQueue", "CPcap"]
        ),
        // The control API of a running netfault (`/v1/...`, `/metrics`) and its client: served on
        // threads of its own, it reaches the run only through the controller's mailbox.
        .target(
            name: "NetFaultControl",
            dependencies: [
                "NetFaultCore",
                "NetFaultLinux",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // Private networks of namespaces and the processes run in them: `netfault lab` and `demo`,
        // the lab tests, the benchmark.
        .target(name: "NetFaultLab", dependencies: ["NetFaultCore", "NetFaultLinux"]),
        .executableTarget(
            name: "netfault",
            dependencies: [
                "NetFaultCore",
                "NetFaultLinux",
                "NetFaultLab",
                "NetFaultControl",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "NetFaultCoreTests", dependencies: ["NetFaultCore"]),
        .testTarget(name: "NetFaultLinuxTests", dependencies: ["NetFaultLinux", "NetFaultCore", "NetFaultLab"]),
        .testTarget(name: "NetFaultControlTests", dependencies: ["NetFaultControl", "NetFaultCore", "NetFaultLinux"]),
        // Real traffic between network namespaces; runs the built `netfault` binary. Needs root.
        .testTarget(
            name: "NetFaultLabTests",
            dependencies: ["netfault", "NetFaultLinux", "NetFaultLab", "NetFaultControl"]
        ),
    ]
)
