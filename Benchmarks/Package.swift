// swift-tools-version: 6.1
// Microbenchmarks of netfault's engine (ordo-one/benchmark: time, allocations and memory per
// run), in a package of their own so that the normal build and the tests never pay for them.
//   swift package --package-path Benchmarks benchmark          (as Scripts/bench-engine runs it)
import PackageDescription

let package = Package(
    name: "netfault-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "netfault", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "EngineBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "NetFaultCore", package: "netfault"),
            ],
            path: "Benchmarks/EngineBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
