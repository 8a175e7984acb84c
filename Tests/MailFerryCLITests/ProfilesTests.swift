import Engine
import Foundation
import IMAPEndpoint
import MailCore
import Providers
import ServerFixtures
import Testing
import Transport

@testable import MailFerryCLI

/// The provider profiles: every file complete with its sources, found and overridden as
/// documented, usable as URLs, and their limits applied to real jobs.
@Suite struct ProfilesTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  static let required = [
    "aol", "courier", "cyrus", "dovecot", "exchange", "fastmail", "gmail", "gmx", "icloud", "mailboxorg", "mailru",
    "microsoft365", "outlook", "posteo", "protonbridge", "webde", "yahoo", "yandex", "zoho",
  ]

  @Test func everyProfileParsesAndIsCompleteWithSources() throws {
    let catalog = ProfileCatalog(directories: [Self.root.appendingPathComponent("Profiles").path])
    #expect(catalog.unreadable.isEmpty, "\(catalog.unreadable)")
    #expect(Set(catalog.profiles.keys).isSuperset(of: Self.required), "\(catalog.profiles.keys.sorted())")
    for profile in catalog.sorted {
      #expect(profile.problems().isEmpty, "\(profile.id): \(profile.problems())")
    }
    // The providers whose limits are published say so, each with its source.
    for id in ["gmail", "microsoft365", "icloud", "exchange", "aol"] {
      #expect(catalog[id]?.limits.isEmpty == false, "\(id) has no limits")
    }
    #expect(catalog["gmail"]?.folders.labels == true)
    #expect(catalog["gmail"]?.servers["imap"]?.host == "imap.gmail.com")
  }

  @Test func aBrokenOrIncompleteFileIsReportedNotUsed() throws {
    let directory = NSTemporaryDirectory() + "mailferry-profiles-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try Data("{ not json".utf8).write(to: URL(fileURLWithPath: "\(directory)/broken.json"))
    var gmail = try String(
      contentsOfFile: Self.root.appendingPathComponent("Profiles/gmail.json").path, encoding: .utf8)
    gmail = gmail.replacingOccurrences(of: "\"Gmail and Google Workspace\"", with: "\"My Gmail\"")
    try Data(gmail.utf8).write(to: URL(fileURLWithPath: "\(directory)/gmail.json"))
    let catalog = ProfileCatalog(directories: [Self.root.appendingPathComponent("Profiles").path, directory])
    #expect(catalog["gmail"]?.name == "My Gmail", "a later directory overrides an earlier one")
    #expect(catalog.origins["gmail"]?.hasPrefix(directory) == true)
    #expect(catalog.unreadable.map(\.path) == ["\(directory)/broken.json"])
    #expect(catalog["broken"] == nil)

    // The search path: next to the binary (and its share/ directory), then the user's own.
    let path = ProfileCatalog.searchPath(environment: ["XDG_CONFIG_HOME": "/x/config", "HOME": "/home/a"])
    #expect(path.last == "/x/config/mailferry/profiles")
    #expect(ProfileCatalog.searchPath(environment: ["HOME": "/home/a"]).last == "/home/a/.config/mailferry/profiles")
  }

  @Test func anInstalledBinaryFindsItsProfilesWithoutTheSourceTree() throws {
    let prefix = NSTemporaryDirectory() + "mailferry-prefix-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: prefix) }
    let make = try Subprocess.run(
      ["make", "-C", Self.root.path, "--no-print-directory", "-n", "install", "PREFIX=\(prefix)"], check: false)
    #expect(make.stdout.contains("share/mailferry/profiles"), "make install puts the profiles there")
    // What `make install` lays out, with the debug binary. Copied by `install` in its own
    // process: a file this process wrote could still be open in a child another test
    // forks meanwhile, and running it would fail with ETXTBSY.
    try Subprocess.run(["install", "-d", "\(prefix)/bin", "\(prefix)/share/mailferry/profiles"])
    try Subprocess.run(
      ["install", "-m", "755", Self.root.appendingPathComponent(".build/debug/mailferry").path, "\(prefix)/bin/"])
    let profiles = try FileManager.default.contentsOfDirectory(
      atPath: Self.root.appendingPathComponent("Profiles").path
    ).filter { $0.hasSuffix(".json") }.map { Self.root.appendingPathComponent("Profiles/\($0)").path }
    try Subprocess.run(["install", "-m", "644"] + profiles + ["\(prefix)/share/mailferry/profiles/"])
    let environment = ["HOME": prefix, "PATH": "/usr/bin:/bin"]
    let listed = try Subprocess.run(["\(prefix)/bin/mailferry", "profiles"], environment: environment, check: false)
    #expect(listed.status == 0, "\(listed.stderr)")
    for id in Self.required { #expect(listed.stdout.contains(id)) }
    #expect(listed.stderr.contains(prefix + "/share/mailferry/profiles"), "the listing says where they come from")
  }

  @Test func theProvidersPageCoversEveryProfile() throws {
    let page = try String(contentsOfFile: Self.root.appendingPathComponent("docs/providers.md").path, encoding: .utf8)
    let catalog = ProfileCatalog(directories: [Self.root.appendingPathComponent("Profiles").path])
    for profile in catalog.sorted {
      #expect(page.contains("| \(profile.id) | \(profile.name) |"), "docs/providers.md lacks \(profile.id)")
    }
  }

  @Test func profilesCommandListsShowsAndRefuses() throws {
    let list = CapturedRun(["profiles"])
    #expect(list.status == .success, "\(list.err)")
    for id in Self.required { #expect(list.out.contains(id), "\(id) not listed") }
    let show = CapturedRun(["profiles", "show", "gmail"])
    #expect(show.status == .success)
    #expect(show.out.contains("imap.gmail.com"))
    #expect(show.out.contains("https://"), "sources are shown")
    let json = CapturedRun(["profiles", "show", "microsoft365", "--json"])
    let object = try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [String: Any]
    #expect(object?["id"] as? String == "microsoft365")
    let unknown = CapturedRun(["profiles", "show", "gmial"])
    #expect(unknown.status == .configuration)
    #expect(unknown.err.contains("no provider profile named 'gmial'"))
    #expect(unknown.err.contains("gmail"), "the hint lists the known ones")
  }

  @Test func profileURLsExpandToTheProvidersServers() throws {
    let imap = try ServerURL("gmail:alice@gmail.com/Work")
    #expect(imap.host == "imap.gmail.com" && imap.port == 993 && imap.user == "alice@gmail.com")
    #expect(imap.path == "/Work" || imap.path == "Work", "\(imap.path)")
    #expect(imap.profile?.id == "gmail")
    let pop = try ServerURL("gmail+pop3:alice@gmail.com")
    #expect(pop.host == "pop.gmail.com" && pop.port == 995)
    let smtp = try ServerURL("microsoft365+smtp:bob@example.com")
    #expect(smtp.host == "smtp.office365.com" && smtp.port == 587)
    // A profile found by its host when the URL is spelled out.
    #expect(try ServerURL("imaps://alice@imap.gmail.com").profile?.id == "gmail")
    // A generic profile has no host to expand to.
    #expect(throws: (any Error).self) { try ServerURL("dovecot:alice") }
    #expect(throws: (any Error).self) { try ServerURL("nosuchprovider:alice") }
  }

  @Test func aSendingLimitBecomesTheDefaultRateOnlyForSMTPTargets() throws {
    let catalog = ProfileCatalog(directories: [Self.root.appendingPathComponent("Profiles").path])
    let microsoft = try #require(catalog["microsoft365"])
    let quiet = Console(out: { _ in }, err: { _ in }, isTerminal: false)
    var smtp = MigrationOptions()
    ProfileDefaults.apply(
      source: nil, target: microsoft, to: &smtp, connectionsGiven: false, targetDelivers: true, console: quiet)
    #expect(smtp.throttling.maxRate == RateLimit(amount: 30.0 / 60, unit: .messages))
    var imap = MigrationOptions()
    ProfileDefaults.apply(source: nil, target: microsoft, to: &imap, connectionsGiven: false, console: quiet)
    #expect(imap.throttling.maxRate == nil)
    var given = MigrationOptions()
    given.throttling.maxRate = RateLimit(amount: 5, unit: .messages)
    ProfileDefaults.apply(
      source: nil, target: microsoft, to: &given, connectionsGiven: false, targetDelivers: true, console: quiet)
    #expect(given.throttling.maxRate == RateLimit(amount: 5, unit: .messages))
  }

  @Test func aConnectionLimitCapsTheDeliverySessionsUnlessTheyAreGiven() throws {
    let directory = NSTemporaryDirectory() + "mailferry-sessions-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let twoConnections = #""connections": {"value": 2, "source": "https://example.org/test"}"#
    let environment = try configWithProfile(twoConnections, in: directory)
    let catalog = ProfileCatalog(directories: [environment["XDG_CONFIG_HOME"]! + "/mailferry/profiles"])
    let tight = try #require(catalog["tight"])
    let quiet = Console(out: { _ in }, err: { _ in }, isTerminal: false)
    var delivery = MigrationOptions()
    ProfileDefaults.apply(
      source: nil, target: tight, to: &delivery, connectionsGiven: false, targetDelivers: true, console: quiet)
    #expect(delivery.deliverySessions == 2)
    var given = MigrationOptions()
    given.deliverySessions = 6
    ProfileDefaults.apply(
      source: nil, target: tight, to: &given, connectionsGiven: false, targetDelivers: true,
      deliverySessionsGiven: true, console: quiet)
    #expect(given.deliverySessions == 6)
    var mailbox = MigrationOptions()
    ProfileDefaults.apply(source: nil, target: tight, to: &mailbox, connectionsGiven: false, console: quiet)
    #expect(mailbox.deliverySessions == MigrationOptions().deliverySessions, "only a delivery target is capped")
  }

  /// A profile with the given limits in a private XDG_CONFIG_HOME, for the built binary.
  func configWithProfile(_ limits: String, in directory: String) throws -> [String: String] {
    let profiles = "\(directory)/config/mailferry/profiles"
    try FileManager.default.createDirectory(atPath: profiles, withIntermediateDirectories: true)
    var text = try String(
      contentsOfFile: Self.root.appendingPathComponent("Profiles/dovecot.json").path, encoding: .utf8)
    text = text.replacingOccurrences(of: "\"id\": \"dovecot\"", with: "\"id\": \"tight\"")
    let start = try #require(text.range(of: "\"limits\": {"))
    let end = try #require(text.range(of: "\n  }", range: start.upperBound..<text.endIndex))
    text.replaceSubrange(start.lowerBound..<end.upperBound, with: "\"limits\": {\(limits)}")
    try Data(text.utf8).write(to: URL(fileURLWithPath: "\(profiles)/tight.json"))
    var environment = ProcessInfo.processInfo.environment
    environment["XDG_CONFIG_HOME"] = "\(directory)/config"
    return environment
  }

  @Test func aProfilesLimitsBecomeTheJobsDefaults() throws {
    let directory = NSTemporaryDirectory() + "mailferry-limits-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let server = try DovecotServer.shared()
    let source = try server.createUser("lsrc")
    let target = try server.createUser("ldst")
    let client = try IMAPClient.connect(
      IMAPAccount(host: server.host, port: server.imapsPort, user: source.name, tls: TLSOptions(caFile: server.caFile)))
    try client.login(.password(source.password))
    let messages = (1...10).map { number in
      MessageToStore(
        bytes: Array(
          ("Subject: \(number)\r\nMessage-ID: <\(number)@limits>\r\n\r\n"
            + String(repeating: "x", count: number == 10 ? 6_000 : 1_000)).utf8))
    }
    try client.append(messages, to: client.mailboxName("INBOX"))
    client.logout()
    for (name, password) in [("source", source.password), ("target", target.password)] {
      try Data(password.utf8).write(to: URL(fileURLWithPath: "\(directory)/\(name).pw"))
      chmod("\(directory)/\(name).pw", 0o600)
    }
    let binary = Self.root.appendingPathComponent(".build/debug/mailferry").path
    try #require(FileManager.default.isExecutableFile(atPath: binary), "build the package first")
    func migrate(_ environment: [String: String]) throws -> Subprocess.Result {
      try Subprocess.run(
        [
          binary, "migrate", "imaps://\(source.name)@localhost:\(server.imapsPort)",
          "imaps://\(target.name)@localhost:\(server.imapsPort)", "--source-password-file", "\(directory)/source.pw",
          "--target-password-file", "\(directory)/target.pw", "--ca-file", server.caFile, "--state",
          "\(directory)/state.sqlite", "--source-profile", "tight", "--target-profile", "tight", "--batch", "2",
        ], environment: environment, check: false)
    }

    // 3 KB a day from the source: the job stops, saves what it did, and says when to rerun.
    let source3KB = #""downloadBytesPerDay": {"value": 3000, "source": "https://example.org/test"}"#
    let stopped = try migrate(try configWithProfile(source3KB, in: directory))
    #expect(stopped.status == 75, "\(stopped.stderr)")
    #expect(stopped.stderr.contains("download limit (profile tight)"), "\(stopped.stderr)")
    #expect(stopped.stderr.contains("run the same command again after 20"), "\(stopped.stderr)")
    let counted = try Subprocess.run(
      ["sqlite3", "\(directory)/state.sqlite", "SELECT count(*) FROM messages WHERE state = 'copied'"])
    #expect(counted.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "2")
    // Still within the same 24 hours: nothing more.
    #expect(try migrate(try configWithProfile(source3KB, in: directory)).status == 75)

    // The target takes at most 5 KB per message: the large one fails as too large, unfetched.
    let target5KB = #""messageBytes": {"value": 5000, "source": "https://example.org/test"}"#
    let finished = try migrate(try configWithProfile(target5KB, in: directory))
    #expect(finished.status == 1, "\(finished.stderr)")
    #expect(finished.stderr.contains("exceeds Dovecot IMAP server (generic)'s message size limit (profile tight)"))
    let totals = finished.stdout.split(separator: "\n").last { $0.contains("total") }
    #expect(totals?.split(separator: " ").first == "7", "\(finished.stdout)")
  }
}
