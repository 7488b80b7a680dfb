// swift-tools-version: 6.0
// libFuzzer targets for netfault's packet codec and engine, and for its netlink parsing, in a
// package of their own so the normal build never pays for the sanitizers. Built and run by Scripts/fuzz.
import PackageDescription

let package = Package(
    name: "netfault-fuzz",
    dependencies: [.package(name: "netfault", path: "..")],
    targets: [
        .target(name: "FuzzDriver"),
        .executableTarget(
            name: "fuzz-packets",
            dependencies: ["FuzzDriver", .product(name: "NetFaultCore", package: "netfault")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        .executableTarget(
            name: "fuzz-netlink",
            dependencies: ["FuzzDriver", .product(name: "NetFaultCore", package: "netfault"),
                           .product(name: "NetFaultLinux", package: "netfault")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
    ]
)
