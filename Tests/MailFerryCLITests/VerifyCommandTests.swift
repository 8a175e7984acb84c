import Foundation
import IMAPCodec
import IMAPEndpoint
import MailCore
import ServerFixtures
import Testing
import Transport

@testable import MailFerryCLI

/// `verify` between every pair of stores it reads, against the private Dovecot: after a
/// clean copy it finds nothing; after one message is deleted, one doubled and one altered
/// by a single byte on the target side, it finds exactly those three, names the altered
/// byte, and exits 3.
@Suite struct VerifyCommandTests {
  let server: DovecotServer
  let source: DovecotServer.User
  let directory: String

  init() throws {
    server = try DovecotServer.shared()
    source = try server.createUser("vsrc")
    directory = NSTemporaryDirectory() + "mailferry-verify-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    try password(source, name: "source")
  }

  func password(_ user: DovecotServer.User, name: String) throws {
    try Data(user.password.utf8).write(to: URL(fileURLWithPath: "\(directory)/\(name).pw"))
    chmod("\(directory)/\(name).pw", 0o600)
  }

  func imaps(_ user: DovecotServer.User) -> String { "imaps://\(user.name)@localhost:\(server.imapsPort)" }
  func pop3s(_ user: DovecotServer.User) -> String { "pop3s://\(user.name)@localhost:\(server.pop3sPort)" }
  var archive: String { "\(directory)/archive" }
  var state: [String] { ["--state", "\(directory)/state.sqlite"] }

  func client(_ user: DovecotServer.User) throws -> IMAPClient {
    let client = try IMAPClient.connect(
      IMAPAccount(host: server.host, port: server.imapsPort, user: user.name, tls: TLSOptions(caFile: server.caFile)))
    try client.login(.password(user.password))
    return client
  }

  /// Message `number`: its own Message-ID, a body with the word "Hello" to alter.
  static func message(_ number: Int, folder: String = "INBOX") -> [UInt8] {
    Array(
      ("From: Alice <alice@example.org>\r\nTo: bob@example.org\r\nSubject: \(folder) \(number)\r\n"
        + "Message-ID: <verify-\(number)-\(folder.count)@example.org>\r\n\r\nHello \(number)\r\n"
        + String(repeating: "a line of text in message \(number)\r\n", count: 20)).utf8)
  }

  /// Where `alter` changes a byte: the "o" of "Hello".
  static func alteredOffset(_ bytes: [UInt8]) -> Int {
    bytes.indices.first { bytes[$0...].starts(with: Array("Hello".utf8)) }! + 4
  }

  static func alter(_ bytes: [UInt8]) -> [UInt8] {
    var altered = bytes
    altered[alteredOffset(bytes)] = UInt8(ascii: "0")
    return altered
  }

  func fill(_ user: DovecotServer.User, folder: String = "INBOX", count: Int = 6) throws {
    let client = try client(user)
    defer { client.logout() }
    if folder != "INBOX" { try client.create(client.mailboxName(folder), separator: "/") }
    try client.append(
      (1...count).map {
        MessageToStore(
          bytes: Self.message($0, folder: folder), flags: $0 % 2 == 0 ? ["\\Seen"] : ["$Work"],
          receivedDate: ReceivedDate(secondsSince1970: 1_700_000_000 + Int64($0) * 3600, zoneMinutes: 60))
      }, to: client.mailboxName(folder))
  }

  /// In `folder` of an IMAP account: deletes message 2, appends message 3 once more, and
  /// replaces message 4 by a copy with one byte changed (same flags and date).
  func damage(_ user: DovecotServer.User, folder: String = "INBOX", filledAs: String? = nil) throws {
    let client = try client(user)
    defer { client.logout() }
    let mailbox = client.mailboxName(folder)
    try client.select(mailbox, readOnly: false)
    let uids = try client.uidSearch(.all)
    let metadata = try client.fetchMetadata(.uids(uids))
    let messages = try client.fetchMessages(uids)
    func find(_ number: Int) throws -> (uid: UInt32, bytes: [UInt8], info: MessageMetadata) {
      let found = try #require(messages.first { $0.bytes == Self.message(number, folder: filledAs ?? folder) })
      return (found.uid, found.bytes, try #require(metadata.first { $0.uid == found.uid }))
    }
    let deleted = try find(2)
    let doubled = try find(3)
    let altered = try find(4)
    try client.append(
      [
        MessageToStore(
          bytes: doubled.bytes, flags: doubled.info.flags.filter { $0 != "\\Recent" },
          receivedDate: doubled.info.internalDate),
        MessageToStore(
          bytes: Self.alter(altered.bytes), flags: altered.info.flags.filter { $0 != "\\Recent" },
          receivedDate: altered.info.internalDate),
      ], to: mailbox)
    try client.select(mailbox, readOnly: false)
    let gone = UIDSet([deleted.uid, altered.uid])
    try client.store(gone, .add, flags: ["\\Deleted"])
    try client.expunge(gone)
  }

  /// The same three changes in a Maildir folder's files.
  func damageMaildir(_ folder: String) throws {
    let cur = folder + "/cur"
    let names = try FileManager.default.contentsOfDirectory(atPath: cur)
    func file(_ number: Int) throws -> String {
      try #require(
        names.first { name in
          let bytes = [UInt8]((try? Data(contentsOf: URL(fileURLWithPath: "\(cur)/\(name)"))) ?? Data())
          return MessageBytes.normalized(bytes) == Self.message(number)
        }.map { "\(cur)/\($0)" })
    }
    let deleted = try file(2)
    let doubled = try file(3)
    let altered = try file(4)
    try FileManager.default.removeItem(atPath: deleted)
    let copy = cur + "/1700000000.M1P1.copy:2," + (doubled.split(separator: ",").last.map(String.init) ?? "")
    try FileManager.default.copyItem(atPath: doubled, toPath: copy)
    let modified = try FileManager.default.attributesOfItem(atPath: altered)[.modificationDate]
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: altered)))
    let offset = try #require(bytes.indices.first { bytes[$0...].starts(with: Array("Hello".utf8)) }) + 4
    bytes[offset] = UInt8(ascii: "0")
    try Data(bytes).write(to: URL(fileURLWithPath: altered))
    try FileManager.default.setAttributes([.modificationDate: modified as Any], ofItemAtPath: altered)
  }

  /// The same three changes in an mbox file: records are split at their "From " lines.
  func damageMbox(_ path: String) throws {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    var records = text.components(separatedBy: "\nFrom ")
    records = records.enumerated().map { $0.offset == 0 ? $0.element : "From " + $0.element }
    func index(_ number: Int) throws -> Int {
      try #require(
        records.firstIndex { $0.contains("Subject: INBOX \(number)\n") || $0.contains("Subject: INBOX \(number)\r\n") })
    }
    let altered = try index(4)
    records[altered] = records[altered].replacingOccurrences(of: "Hello 4", with: "Hell0 4")
    records.append(records[try index(3)])
    records.remove(at: try index(2))
    try records.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
  }

  /// A verify run that must find exactly the three changes.
  func expectTheDamage(_ arguments: [String], folder: String = "INBOX") {
    let run = CapturedRun(["verify"] + arguments)
    #expect(run.status == .partial, "\(run.out)\(run.err)")
    #expect(run.err.contains("1 message(s) missing in"), "\(run.err)")
    #expect(run.err.contains("missing: key"), "\(run.err)")
    #expect(run.err.contains("1 message(s) doubled in"), "\(run.err)")
    #expect(run.err.contains("was altered in"), "\(run.err)")
    let offset = Self.alteredOffset(Self.message(4, folder: folder))
    #expect(run.err.contains("first difference at byte \(offset): sent 0x6F 'o', stored 0x30 '0'"), "\(run.err)")
    #expect(!run.err.contains("flags differ"), "\(run.err)")
    #expect(!run.err.contains("date differs"), "\(run.err)")
  }

  func expectClean(_ arguments: [String]) {
    let run = CapturedRun(["verify"] + arguments)
    #expect(run.status == .success, "\(run.out)\(run.err)")
    #expect(!run.err.contains("error:"), "\(run.err)")
  }

  @Test func imapToIMAPWithTheJobsFolderMapping() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let target = try server.createUser("vdst")
    try password(target, name: "target")
    try fill(source)
    try fill(source, folder: "Projects")
    let options =
      ["--source-password-file", "\(directory)/source.pw", "--target-password-file", "\(directory)/target.pw"]
      + ["--ca-file", server.caFile]
    let copied = CapturedRun(
      ["migrate", imaps(source), imaps(target), "--folder-map", "Projects=Work/Projects"] + options + state)
    #expect(copied.status == .success, "\(copied.err)")
    // The state file tells verify where Projects went; without it, it would look for Projects.
    expectClean([imaps(source), imaps(target)] + options + state)
    let withoutState = CapturedRun(["verify", imaps(source), imaps(target)] + options)
    #expect(withoutState.status == .partial)
    #expect(withoutState.err.contains("Projects: missing in the target"), "\(withoutState.err)")
    try damage(target, folder: "Work/Projects", filledAs: "Projects")
    expectTheDamage([imaps(source), imaps(target)] + options + state, folder: "Projects")
  }

  @Test func archiveToIMAP() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try fill(source)
    let options = ["--password-file", "\(directory)/source.pw", "--ca-file", server.caFile]
    #expect(CapturedRun(["backup", imaps(source), archive] + options).status == .success)
    expectClean([archive, imaps(source)] + options)
    expectClean([imaps(source), archive] + options)
    try damage(source)
    expectTheDamage([archive, imaps(source)] + options)
    // The other way round, the account's changes are new mail to the archive: the doubled
    // and altered copies are missing there, the deleted one is extra.
    let reverse = CapturedRun(["verify", imaps(source), archive] + options)
    #expect(reverse.status == .partial)
    #expect(reverse.err.contains("was altered in"), "\(reverse.err)")
  }

  @Test func archiveToPOP3() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try fill(source)
    let options = ["--password-file", "\(directory)/source.pw", "--ca-file", server.caFile]
    #expect(CapturedRun(["backup", pop3s(source), archive] + options).status == .success)
    expectClean([pop3s(source), archive] + options)
    try damage(source)
    expectTheDamage([archive, pop3s(source)] + options)
  }

  @Test func archiveToMaildirAndMaildirToMbox() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try fill(source)
    let options = ["--password-file", "\(directory)/source.pw", "--ca-file", server.caFile]
    #expect(CapturedRun(["backup", imaps(source), archive] + options).status == .success)
    let maildir = "\(directory)/Maildir"
    let mbox = "\(directory)/mbox"
    let exported = CapturedRun(["export", archive, maildir, "--format", "maildir"] + state)
    #expect(exported.status == .success, "\(exported.err)")
    expectClean([archive, "maildir:" + maildir])
    let toMbox = CapturedRun(["migrate", "maildir:" + maildir, "mbox:" + mbox, "--state", "\(directory)/m.sqlite"])
    #expect(toMbox.status == .success, "\(toMbox.err)")
    expectClean(["maildir:" + maildir, "mbox:" + mbox])

    try damageMbox(mbox + "/INBOX")
    expectTheDamage(["maildir:" + maildir, "mbox:" + mbox])
    try damageMaildir(maildir)
    expectTheDamage([archive, "maildir:" + maildir])
  }

  @Test func optionsThatDoNotApplyAreRefused() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    // Refused before anything is opened: the archive and the Maildir do not even exist.
    let run = CapturedRun(["verify", archive, "maildir:\(directory)/x", "--ca-file", server.caFile])
    #expect(run.status == .usage)
    #expect(run.err.contains("option '--ca-file' does not apply to verify between an archive and a Maildir"))
    let backup = CapturedRun(
      ["backup", imaps(source), archive, "--rcpt", "a@example.org", "--password-file", "\(directory)/source.pw"]
        + ["--ca-file", server.caFile])
    #expect(backup.status == .usage)
    // A backup's target is always an archive: --rcpt is not even one of its options.
    #expect(backup.err.contains("unknown option '--rcpt'"), "\(backup.err)")
    #expect(!FileManager.default.fileExists(atPath: archive + "/catalog.sqlite"))
  }
}
