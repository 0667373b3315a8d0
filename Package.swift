// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "coderdns",
    products: [
        .executable(name: "coderdns", targets: ["coderdns"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
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
        .executableTarget(
            name: "coderdns",
            dependencies: [
                "Responder", "RecordStore", "EventIO", "ControlPlane", "DNSWire",
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
        .testTarget(name: "ControlPlaneTests", dependencies: ["ControlPlane", "RecordStore", "TestSupport"]),
        .testTarget(name: "IntegrationTests", dependencies: ["DNSWire", "ControlPlane"]),
    ]
)
