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
    .target(name: "POP3Codec"),
    // SMTP/LMTP codec: replies, EHLO extensions, dot-stuffing. Pure, no sockets.
    .target(name: "SMTPCodec"),

    // Source and sink adapters over a Connection: IMAP and POP3 sessions, later SMTP, archives.
    .target(
      name: "Endpoints", dependencies: ["Archive", "IMAPCodec", "MailCore", "POP3Codec", "SMTPCodec", "Transport"]),

    // Jobs: plan folders, stream batches, dedup, append, checkpoint; parallel folders.
    .target(name: "Engine", dependencies: ["Checkpoint", "Endpoints", "IMAPCodec", "MailCore", "Transport"]),

    // The command line: arguments, passwords, progress, reports. All of it is testable library code.
    .target(
      name: "MailFerryCLI",
      dependencies: ["Archive", "Endpoints", "Engine", "IMAPCodec", "MailCore", "Storage", "Transport"]),
    // A one-line main.
    .executableTarget(name: "mailferry", dependencies: ["MailFerryCLI"]),

    // Benchmarks against a private Dovecot (prints figures; `make bench`).
    .executableTarget(
      name: "mailferry-bench",
      dependencies: ["Archive", "Endpoints", "Engine", "IMAPCodec", "MailCore", "TestSupport", "Transport"],
      path: "Sources/MailFerryBench"),

    // `make demo`: the real binary against a private Dovecot.
    .executableTarget(name: "mailferry-demo", dependencies: ["TestSupport"], path: "Sources/MailFerryDemo"),

    // Test support: the private Dovecot fixture and helpers (not shipped).
    .target(name: "TestSupport", dependencies: ["Transport"], path: "Tests/TestSupport"),
    .testTarget(name: "MailCoreTests", dependencies: ["MailCore"]),
    .testTarget(name: "StorageTests", dependencies: ["Storage", "CSQLite", "CZlib"]),
    .testTarget(name: "TransportTests", dependencies: ["Transport", "TestSupport"]),
    .testTarget(name: "ArchiveTests", dependencies: ["Archive", "MailCore", "Storage"]),
    .testTarget(name: "CheckpointTests", dependencies: ["Checkpoint", "MailCore", "Storage"]),
    .testTarget(
      name: "EngineTests",
      dependencies: ["Checkpoint", "Endpoints", "Engine", "IMAPCodec", "MailCore", "TestSupport", "Transport"]),
    .testTarget(name: "IMAPCodecTests", dependencies: ["IMAPCodec"]),
    .testTarget(name: "POP3CodecTests", dependencies: ["POP3Codec"]),
    .testTarget(name: "SMTPCodecTests", dependencies: ["SMTPCodec"]),
    .testTarget(
      name: "EndpointsTests", dependencies: ["Endpoints", "IMAPCodec", "MailCore", "TestSupport", "Transport"]),
    .testTarget(
      name: "MailFerryCLITests",
      dependencies: ["Archive", "Endpoints", "IMAPCodec", "MailCore", "MailFerryCLI", "TestSupport", "Transport"]),
  ]
)
