// swift-tools-version:6.0
// MailFerry: mailbox migration and backup. One target per layer; arrows point down only
// (see docs/architecture.md). No third-party packages: the toolchain plus three system libraries.
import PackageDescription

let package = Package(
  name: "MailFerry",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "mailferry", targets: ["mailferry"])
  ],
  targets: [
    // C libraries from the system (Debian: libsqlite3-dev, zlib1g-dev, libssl-dev).
    .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
    .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
    .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),

    // Message bytes, headers, Message-ID, hashing, flags, dates, mailbox names.
    .target(name: "MailCore", dependencies: ["COpenSSL"]),
    // SQLite wrapper, gzip members, durable files: the primitives under checkpoints and archives.
    .target(name: "Storage", dependencies: ["CSQLite", "CZlib", "MailCore"]),
    // TCP, TLS, STARTTLS, DEFLATE, deadlines, redacted traces.
    .target(name: "Transport", dependencies: ["COpenSSL", "CZlib", "MailCore"]),

    // A job's resumable state in SQLite: folders, messages done and in flight, failures.
    .target(name: "Checkpoint", dependencies: ["MailCore", "Storage"]),

    // Archives: gzip mboxrd data files per folder, manifests, and the SQLite catalog.
    .target(name: "Archive", dependencies: ["MailCore", "Storage"]),

    // IMAP protocol codec: pure, bytes in and values out, no sockets.
    .target(name: "IMAPCodec", dependencies: ["MailCore"]),
    // POP3 protocol codec: status lines, listings, dot-unstuffing. Pure, no sockets.
    .target(name: "POP3Codec", dependencies: ["MailCore"]),
    // SMTP/LMTP codec: replies, EHLO extensions, dot-stuffing. Pure, no sockets.
    .target(name: "SMTPCodec", dependencies: ["MailCore"]),

    // The two interfaces every store is seen through (MessageSource, MessageSink) and their
    // vocabulary. Knows no protocol.
    .target(name: "Mailstore", dependencies: ["MailCore"]),
    // One adapter per kind of store; none imports another's codec.
    .target(name: "IMAPEndpoint", dependencies: ["IMAPCodec", "MailCore", "Mailstore", "Transport"]),
    .target(name: "POP3Endpoint", dependencies: ["MailCore", "Mailstore", "POP3Codec", "Transport"]),
    .target(name: "SMTPEndpoint", dependencies: ["MailCore", "Mailstore", "SMTPCodec", "Transport"]),
    .target(name: "ArchiveEndpoint", dependencies: ["Archive", "MailCore", "Mailstore"]),
    .target(name: "LocalEndpoint", dependencies: ["MailCore", "Mailstore"]),

    // Provider profiles (Profiles/*.json): servers, logins, folder names, limits with sources.
    .target(name: "Providers", dependencies: ["MailCore"]),

    // Jobs: plan folders, stream batches, dedup, store, verify, checkpoint; parallel folders.
    // Sees stores only through Mailstore: no protocol, codec or transport.
    .target(name: "Engine", dependencies: ["Checkpoint", "MailCore", "Mailstore"]),

    // The command line: arguments, passwords, progress, reports. All of it is testable library code.
    .target(
      name: "MailFerryCLI",
      dependencies: [
        "Archive", "ArchiveEndpoint", "Checkpoint", "Engine", "IMAPCodec", "IMAPEndpoint", "LocalEndpoint", "MailCore",
        "Mailstore", "POP3Endpoint", "Providers", "SMTPCodec", "SMTPEndpoint", "Storage", "Transport",
      ]),
    // A one-line main.
    .executableTarget(name: "mailferry", dependencies: ["MailFerryCLI"]),

    // Private Dovecot and Postfix servers on loopback, test certificates and free ports: the
    // fixture of the integration tests, the benchmark and the demo. Not part of the tool.
    .target(name: "ServerFixtures", dependencies: ["Transport"]),

    // Benchmarks against a private Dovecot (prints figures; `make bench`).
    .executableTarget(
      name: "mailferry-bench",
      dependencies: [
        "Archive", "ArchiveEndpoint", "Engine", "IMAPCodec", "IMAPEndpoint", "MailCore", "Mailstore", "POP3Endpoint",
        "SMTPEndpoint", "ServerFixtures", "Transport",
      ],
      path: "Sources/MailFerryBench"),

    // `make demo`: the real binary against a private Dovecot.
    .executableTarget(name: "mailferry-demo", dependencies: ["ServerFixtures"], path: "Sources/MailFerryDemo"),

    .testTarget(name: "MailCoreTests", dependencies: ["MailCore"]),
    .testTarget(name: "StorageTests", dependencies: ["Storage", "CSQLite", "CZlib", "MailCore"]),
    .testTarget(name: "TransportTests", dependencies: ["Transport", "ServerFixtures", "MailCore"]),
    .testTarget(name: "ArchiveTests", dependencies: ["Archive", "MailCore", "Storage"]),
    .testTarget(name: "CheckpointTests", dependencies: ["Checkpoint", "MailCore", "Storage"]),
    .testTarget(
      name: "EngineTests",
      dependencies: [
        "ArchiveEndpoint", "Checkpoint", "Engine", "IMAPCodec", "IMAPEndpoint", "LocalEndpoint", "MailCore",
        "Mailstore",
        "POP3Endpoint", "SMTPEndpoint", "ServerFixtures", "Transport",
      ]),
    .testTarget(name: "IMAPCodecTests", dependencies: ["IMAPCodec", "MailCore"]),
    .testTarget(name: "POP3CodecTests", dependencies: ["POP3Codec"]),
    .testTarget(name: "SMTPCodecTests", dependencies: ["SMTPCodec"]),
    .testTarget(name: "FuzzTests", dependencies: ["Archive", "MailCore", "POP3Codec", "SMTPCodec", "Storage"]),
    .testTarget(
      name: "EndpointsTests",
      dependencies: [
        "IMAPCodec", "IMAPEndpoint", "LocalEndpoint", "MailCore", "Mailstore", "POP3Codec", "POP3Endpoint", "SMTPCodec",
        "SMTPEndpoint", "ServerFixtures", "Transport",
      ]),
    .testTarget(
      name: "MailFerryCLITests",
      dependencies: [
        "Archive", "Checkpoint", "Engine", "IMAPCodec", "IMAPEndpoint", "LocalEndpoint", "MailCore", "MailFerryCLI",
        "Mailstore", "POP3Codec", "POP3Endpoint", "Providers", "SMTPCodec", "SMTPEndpoint", "ServerFixtures", "Storage",
        "Transport",
      ]),
  ]
)
