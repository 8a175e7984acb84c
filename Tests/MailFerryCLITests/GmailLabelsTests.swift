import Foundation
import IMAPCodec
import IMAPEndpoint
import MailCore
import ServerFixtures
import Testing
import Transport

@testable import MailFerryCLI

/// A Gmail-shaped account on a real Dovecot: `[Gmail]/…` special folders, the same message
/// in several label folders, every message in All Mail. Copied to a plain account, each
/// message lands once per label folder (or once in all with `first`), the messages in no
/// label go to Archive, and nothing is copied from All Mail, Starred or Important as such.
@Suite struct GmailLabelsTests {
  let gmail: DovecotServer
  let plain: DovecotServer
  let sourceUser: DovecotServer.User
  let directory: String

  /// Message letter → the folders it sits in besides All Mail (Gmail's labels).
  static let labels: [String: [String]] = [
    "A": ["INBOX"],
    "B": ["INBOX", "Work"],
    "C": ["Work"],
    "D": [],
    "E": ["[Gmail]/Sent Mail"],
    "F": ["INBOX", "[Gmail]/Starred"],
    "G": ["Work", "Work/Old", "[Gmail]/Important"],
  ]

  init() throws {
    gmail = try DovecotServer.shared("gmail-like")
    plain = try DovecotServer.shared()
    sourceUser = try gmail.createUser("gm")
    directory = NSTemporaryDirectory() + "mailferry-gmail-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try Data(sourceUser.password.utf8).write(to: URL(fileURLWithPath: "\(directory)/source.pw"))
    chmod("\(directory)/source.pw", 0o600)
    try fillLabels()
  }

  static func message(_ letter: String) -> [UInt8] {
    Array(
      "From: x@example.org\r\nSubject: message \(letter)\r\nMessage-ID: <\(letter)@labels.example>\r\n\r\nbody \(letter)\r\n"
        .utf8)
  }

  static let hashes = Dictionary(uniqueKeysWithValues: labels.keys.map { ($0, ContentHasher.hash(message($0)).hex) })

  func client(_ server: DovecotServer, _ user: DovecotServer.User) throws -> IMAPClient {
    let client = try IMAPClient.connect(
      IMAPAccount(host: server.host, port: server.imapsPort, user: user.name, tls: TLSOptions(caFile: server.caFile)))
    try client.login(.password(user.password))
    return client
  }

  func fillLabels() throws {
    let client = try client(gmail, sourceUser)
    defer { client.logout() }
    for folder in ["Work", "Work/Old"] { try client.create(client.mailboxName(folder), separator: "/") }
    for (letter, folders) in Self.labels.sorted(by: { $0.key < $1.key }) {
      let flags = folders.contains("[Gmail]/Starred") ? ["\\Flagged"] : []
      for folder in folders + ["[Gmail]/All Mail"] {
        try client.append([MessageToStore(bytes: Self.message(letter), flags: flags)], to: client.mailboxName(folder))
      }
    }
  }

  /// Folder → message letters, for every selectable folder (empty ones too).
  func contents(_ user: DovecotServer.User) throws -> [String: [String]] {
    let client = try client(plain, user)
    defer { client.logout() }
    let letters = Dictionary(uniqueKeysWithValues: Self.hashes.map { ($1, $0) })
    var result: [String: [String]] = [:]
    for folder in try client.listFolders() where folder.isSelectable {
      try client.select(folder.name, readOnly: true)
      let uids = try client.uidSearch(.all)
      let found =
        uids.isEmpty ? [] : try client.fetchMessages(uids).map { letters[ContentHasher.hash($0.bytes).hex] ?? "?" }
      result[folder.displayName] = found.sorted()
    }
    return result
  }

  func flagged(_ user: DovecotServer.User, folder: String) throws -> Int {
    let client = try client(plain, user)
    defer { client.logout() }
    try client.select(client.mailboxName(folder), readOnly: true)
    return try client.fetchMetadata(.uids(try client.uidSearch(.all))).filter { $0.flags.contains("\\Flagged") }.count
  }

  func migrate(to user: DovecotServer.User, _ extra: [String] = [], command: String = "migrate") throws -> CapturedRun {
    let password = "\(directory)/\(user.name).pw"
    try Data(user.password.utf8).write(to: URL(fileURLWithPath: password))
    chmod(password, 0o600)
    return CapturedRun(
      [
        command, "imaps://\(sourceUser.name)@localhost:\(gmail.imapsPort)",
        "imaps://\(user.name)@localhost:\(plain.imapsPort)", "--source-password-file", "\(directory)/source.pw",
        "--target-password-file", password, "--source-ca-file", gmail.caFile, "--target-ca-file", plain.caFile,
        "--state", "\(directory)/\(user.name).sqlite", "--source-profile", "gmail",
      ] + extra)
  }

  @Test func eachLabelFolderGetsItsCopyAndAllMailOnlyTheUnlabelled() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let target = try plain.createUser("gmt")
    let plan = try migrate(to: target, [], command: "plan")
    #expect(plan.status == .success, "\(plan.err)")
    #expect(plan.out.contains("[Gmail]/All Mail → Archive (messages in no label only)"), "\(plan.out)")
    #expect(plan.out.contains("Work/Old → Work/Old (to be created)"))
    #expect(plan.err.contains("[Gmail]/Starred is not copied as a folder"))
    #expect(plan.err.contains("labels: the source's folders are labels; --gmail-labels folders"))
    #expect(try contents(target).values.allSatisfy(\.isEmpty), "plan wrote nothing")
    let run = try migrate(to: target)
    #expect(run.status == .success, "\(run.err)")
    #expect(run.err.contains("[Gmail]/Starred is not copied as a folder"))
    #expect(run.err.contains("[Gmail]/Important is not copied as a folder"))
    #expect(run.err.contains("[Gmail]/All Mail → Archive (messages in no label only)"))
    #expect(run.err.contains("6 messages are copied for another of their labels"))

    let copied = try contents(target)
    #expect(copied["INBOX"] == ["A", "B", "F"])
    #expect(copied["Work"] == ["B", "C", "G"])
    #expect(copied["Work/Old"] == ["G"])
    #expect(copied["Sent"] == ["E"])
    #expect(copied["Archive"] == ["D"])
    #expect(!copied.keys.contains { $0.hasPrefix("[Gmail]") }, "\(copied.keys.sorted())")
    #expect(try flagged(target, folder: "INBOX") == 1)

    let again = try migrate(to: target)
    #expect(again.status == .success, "\(again.err)")
    #expect(again.out.split(separator: "\n").last { $0.contains("total") }?.split(separator: " ").first == "0")
    #expect(try contents(target) == copied)

    // verify knows All Mail went to Archive for the unlabelled only; a lost copy is found.
    let verified = try migrate(to: target, command: "verify")
    #expect(verified.status == .success, "\(verified.out)\(verified.err)")
    try deleteFromTarget(target, folder: "Work", letter: "C")
    #expect(try migrate(to: target, command: "verify").status == .partial)
  }

  func deleteFromTarget(_ user: DovecotServer.User, folder: String, letter: String) throws {
    let client = try client(plain, user)
    defer { client.logout() }
    try client.select(client.mailboxName(folder), readOnly: false)
    let uids = try client.uidSearch(.all)
    let victim = try #require(
      try client.fetchMessages(uids).first { ContentHasher.hash($0.bytes).hex == Self.hashes[letter] }?.uid)
    try client.store(UIDSet([victim]), .add, flags: ["\\Deleted"])
    try client.expunge(UIDSet([victim]))
  }

  @Test func firstCopiesEachMessageOnceInItsFirstLabel() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    // In parallel, a message goes to whichever of its label folders is copied first.
    let parallel = try plain.createUser("gmp")
    let raced = try migrate(to: parallel, ["--gmail-labels", "first", "--connections", "3"])
    #expect(raced.status == .success, "\(raced.err)")
    let spread = try contents(parallel)
    #expect(spread.values.flatMap { $0 }.sorted() == Self.labels.keys.sorted(), "\(spread)")
    #expect(spread["Archive"] == ["D"])

    // One at a time, in the plan's order: INBOX, the special folders, the others.
    let target = try plain.createUser("gmf")
    let run = try migrate(to: target, ["--gmail-labels", "first", "--connections", "1"])
    #expect(run.status == .success, "\(run.err)")
    let copied = try contents(target)
    #expect(copied.values.flatMap { $0 }.sorted() == Self.labels.keys.sorted())
    #expect(copied["INBOX"] == ["A", "B", "F"])
    #expect(copied["Sent"] == ["E"])
    #expect(copied["Archive"] == ["D"])
    #expect(copied["Work"] == ["C", "G"])

    let again = try migrate(to: target, ["--gmail-labels", "first"])
    #expect(again.status == .success, "\(again.err)")
    #expect(try contents(target) == copied)
    let verified = try migrate(to: target, command: "verify")
    #expect(verified.status == .success, "\(verified.out)\(verified.err)")
  }

  @Test func keywordsPutOneCopyWithEveryUserLabel() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let target = try plain.createUser("gmk")
    let run = try migrate(to: target, ["--gmail-labels", "keywords", "--connections", "1"])
    #expect(run.status == .success, "\(run.err)")
    #expect(run.err.contains("labels: 2 copies got the labels of their other folders as keywords"), "\(run.err)")
    let copied = try contents(target)
    #expect(copied.values.flatMap { $0 }.sorted() == Self.labels.keys.sorted())
    #expect(copied["INBOX"] == ["A", "B", "F"])
    #expect(copied["Work"] == ["C", "G"])
    let expected: [String: Set<String>] = [
      "A": [], "B": ["Work"], "C": ["Work"], "D": [], "E": [], "F": ["\\Flagged"], "G": ["Work", "Work/Old"],
    ]
    #expect(try flagsByLetter(target) == expected)

    let again = try migrate(to: target, ["--gmail-labels", "keywords"])
    #expect(again.status == .success, "\(again.err)")
    #expect(!again.err.contains("labels:"), "\(again.err)")
    #expect(try contents(target) == copied)
    let verified = try migrate(to: target, command: "verify")
    #expect(verified.status == .success, "\(verified.out)\(verified.err)")
    #expect(try migrate(to: target, ["--gmail-labels", "some"]).status == .usage)
  }

  /// Message letter → its flags and keywords in the target (wherever its copy is).
  func flagsByLetter(_ user: DovecotServer.User) throws -> [String: Set<String>] {
    let client = try client(plain, user)
    defer { client.logout() }
    let letters = Dictionary(uniqueKeysWithValues: Self.hashes.map { ($1, $0) })
    var result: [String: Set<String>] = [:]
    for folder in try client.listFolders() where folder.isSelectable {
      try client.select(folder.name, readOnly: true)
      let uids = try client.uidSearch(.all)
      guard !uids.isEmpty else { continue }
      let flags = Dictionary(uniqueKeysWithValues: try client.fetchMetadata(.uids(uids)).map { ($0.uid, $0.flags) })
      for message in try client.fetchMessages(uids) {
        let letter = letters[ContentHasher.hash(message.bytes).hex] ?? "?"
        result[letter] = Set((flags[message.uid] ?? []).filter { $0 != "\\Seen" && $0 != "\\Recent" })
      }
    }
    return result
  }

  @Test func aBackupKeepsEveryLabelAndARestorePutsThemBack() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let archive = "\(directory)/archive"
    let backup = CapturedRun(
      [
        "backup", "imaps://\(sourceUser.name)@localhost:\(gmail.imapsPort)", archive, "--source-password-file",
        "\(directory)/source.pw", "--ca-file", gmail.caFile, "--source-profile", "gmail",
      ])
    #expect(backup.status == .success, "\(backup.err)")
    let target = try plain.createUser("gmr")
    let password = "\(directory)/restore.pw"
    try Data(target.password.utf8).write(to: URL(fileURLWithPath: password))
    chmod(password, 0o600)
    let restore = CapturedRun(
      [
        "restore", archive, "imaps://\(target.name)@localhost:\(plain.imapsPort)", "--target-password-file", password,
        "--ca-file", plain.caFile,
      ])
    #expect(restore.status == .success, "\(restore.err)")
    let restored = try contents(target)
    #expect(restored["INBOX"] == ["A", "B", "F"])
    #expect(restored["Work"] == ["B", "C", "G"])
    #expect(restored["Work/Old"] == ["G"])
    #expect(restored["Sent"] == ["E"])
    #expect(restored["Archive"] == ["D"])
    #expect(!restored.keys.contains { $0.hasPrefix("[Gmail]") }, "\(restored.keys.sorted())")
  }
}
