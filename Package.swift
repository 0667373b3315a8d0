// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "coderdns",
    products: [
        .executable(name: "coderdns", targets: ["coderdns"]),
        // The library modules the fuzz targets (fuzz/Package.swift) drive; nothing else uses it.
        .library(
            name: "CoderDNSFuzzing",
            targets: ["DNSWire", "RecordStore", "Responder", "ControlPlane", "Yamux", "DRPC"]
        ),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        // The coderd client's TLS, HTTP/1.1 and WebSocket (docs/architecture.md: why these).
        .package(url: "https://github.com/apple/swift-nio", from: "2.65.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.27.0"),
    ],
    targets: [
        // C, fenced: libevent through pkg-config, and the socket calls Glibc does not expose.
        .systemLibrary(
            name: "CLibevent",
            pkgConfig: "libevent",
            providers: [.apt(["libevent-dev"])]
        ),
        .target(name: "CSocketShim"),
        // The only Swift module that imports CLibevent.
        .target(name: "EventIO", dependencies: ["CLibevent", "CSocketShim"]),
        // DNS messages on the wire: no I/O, no Foundation.
        .target(name: "DNSWire"),
        // Workspace state -> immutable record snapshot, published by one reference swap.
        .target(name: "RecordStore", dependencies: ["DNSWire"]),
        // Query processing (pure) and the UDP/TCP transports.
        .target(
            name: "Responder",
            dependencies: [
                "DNSWire", "RecordStore", "EventIO",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The control plane's update stream, the session state, and the cache on disk.
        .target(
            name: "ControlPlane",
            dependencies: [
                "RecordStore", "EventIO",
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Proto/tailnet.proto"]
        ),
        // yamux (hashicorp/yamux's wire) as a sans-I/O machine: bytes in, events and bytes out.
        .target(name: "Yamux"),
        // DRPC (storj.io/drpc's wire) as a sans-I/O machine: a client stream's frames and packets.
        .target(name: "DRPC"),
        // coderd: the CLI's login, the REST calls, and the tailnet stream (WebSocket -> yamux -> DRPC).
        .target(
            name: "CoderClient",
            dependencies: [
                "ControlPlane", "RecordStore", "EventIO", "Yamux", "DRPC",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Metrics (Prometheus text) and the control socket that `coderdns status` asks.
        .target(
            name: "Observability",
            dependencies: [
                "Responder", "RecordStore", "ControlPlane", "EventIO",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "coderdns",
            dependencies: [
                "Responder", "RecordStore", "EventIO", "ControlPlane", "DNSWire", "CoderClient", "Observability",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // What several test targets share (a seeded random generator); not part of the product.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "DNSWireTests", dependencies: ["DNSWire", "TestSupport"]),
        .testTarget(name: "EventIOTests", dependencies: ["EventIO"]),
        .testTarget(name: "RecordStoreTests", dependencies: ["RecordStore", "DNSWire", "TestSupport"]),
        .testTarget(name: "ResponderTests", dependencies: ["Responder", "RecordStore", "DNSWire", "TestSupport"]),
        .testTarget(
            name: "ControlPlaneTests",
            dependencies: ["ControlPlane", "RecordStore", "TestSupport", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(name: "YamuxTests", dependencies: ["Yamux", "TestSupport"]),
        .testTarget(name: "DRPCTests", dependencies: ["DRPC", "TestSupport"]),
        .testTarget(name: "CoderClientTests", dependencies: ["CoderClient", "ControlPlane", "RecordStore"]),
        .testTarget(name: "IntegrationTests", dependencies: ["DNSWire", "ControlPlane", "TestSupport"]),
    ]
)
