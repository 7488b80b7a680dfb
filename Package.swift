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
        // Private networks of namespaces and the processes run in them: `netfault lab` and `demo`,
        // the lab tests, the benchmark.
        .target(name: "NetFaultLab", dependencies: ["NetFaultCore", "NetFaultLinux"]),
        .executableTarget(
            name: "netfault",
            dependencies: [
                "NetFaultCore",
                "NetFaultLinux",
                "NetFaultLab",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "NetFaultCoreTests", dependencies: ["NetFaultCore"]),
        .testTarget(name: "NetFaultLinuxTests", dependencies: ["NetFaultLinux", "NetFaultCore", "NetFaultLab"]),
        // Real traffic between network namespaces; runs the built `netfault` binary. Needs root.
        .testTarget(
            name: "NetFaultLabTests",
            dependencies: ["netfault", "NetFaultLinux", "NetFaultLab"]
        ),
    ]
)
