// swift-tools-version:6.0
// The libFuzzer targets (docs/fuzzing.md). A package of its own so that the server's normal
// build and tests never compile them; `fuzz/run` builds it with the sanitizer flags.
import PackageDescription

let fuzzing = Target.Dependency.product(name: "CoderDNSFuzzing", package: "coderdns")

func fuzzTarget(_ name: String, _ dependencies: [Target.Dependency] = []) -> Target {
    .executableTarget(name: name, dependencies: ["FuzzDriver", fuzzing] + dependencies)
}

let package = Package(
    name: "coderdns-fuzz",
    dependencies: [
        .package(name: "coderdns", path: "..")
    ],
    targets: [
        .target(name: "FuzzDriver"),
        .target(name: "FuzzZone", dependencies: [fuzzing]),
        fuzzTarget("dns-message"),
        fuzzTarget("query-udp", ["FuzzZone"]),
        fuzzTarget("query-tcp", ["FuzzZone"]),
        fuzzTarget("workspace-update", ["FuzzZone"]),
        fuzzTarget("state-file", ["FuzzZone"]),
        fuzzTarget("cache", ["FuzzZone"]),
        fuzzTarget("yamux"),
        fuzzTarget("drpc"),
        fuzzTarget("users-me"),
    ]
)
