import Foundation
import IMAPCodec
import MailCore
import ServerFixtures
import Testing

@testable import MailFerryCLI

/// Migrations between the two IMAP server implementations the tests run, Dovecot and Cyrus:
/// Cyrus puts a user's folders under `INBOX.`, separates levels with `.` (or `/`), offers
/// CREATE-SPECIAL-USE and refuses its own set of characters in names.
@Suite struct CyrusTests {
  let directory: String

  init() throws {
    directory = NSTemporaryDirectory() + "mailferry-cyrus-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  }

  /// Messages with what a migration must keep: 8-bit bodies, folded headers, trailing
  /// spaces, flags, keywords and received dates with a zone.
  static func messages(_ folder: String, count: Int, draft: Bool = false) -> [MessageToStore] {
    let flagSets: [[String]] = [["\\Seen"], ["\\Seen", "\\Flagged", "$Label1"], ["\\Answered", "Projekt-X"], []]
    return (1...count).map { number in
      let text =
        "From: Absender <a@example.org>\r\nTo: b@example.org\r\n"
        + "Subject: =?UTF-8?Q?Gr=C3=B6=C3=9Fe?= \(folder) \(number)\r\n"
        + "X-Folded: one\r\n\ttwo  \r\nMessage-ID: <\(number).\(folder.utf8.count)@cyrus-test>\r\n"
        + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + "Grüße aus \(folder), Nachricht \(number).  \r\n.\r\nFrom the start\r\n"
      return MessageToStore(
        bytes: Array(text.utf8), flags: flagSets[number % flagSets.count] + (draft ? ["\\Draft"] : []),
        receivedDate: ReceivedDate(
          secondsSince1970: 1_600_000_000 + Int64(number) * 86_400 + Int64(folder.utf8.count), zoneMinutes: 120))
    }
  }

  func job(
    _ command: String, from source: ServerAccount, to target: ServerAccount, state: Bool = true
  ) throws
    -> [String]
  {
    [command, source.url, target.url] + (try source.options(as: "source", in: directory))
      + (try target.options(as: "target", in: directory)) + (state ? ["--state", "\(directory)/state.sqlite"] : [])
  }

  /// The number before "total" in a migration's summary.
  static func copiedTotal(_ run: CapturedRun) -> String? {
    run.out.split(separator: "\n").last { $0.contains("total") }.flatMap { $0.split(separator: " ").first }
      .map(String.init)
  }

  @Test(arguments: ["standard", "unix-separator"])
  func dovecotToCyrusIsExactAndCreatesSpecialFoldersWithTheirUse(flavorName: String) throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let dovecot = try DovecotServer.shared()
    let cyrus = try CyrusServer.shared(flavorName)
    let source = ServerAccount(dovecot, try dovecot.createUser("dcsrc"))
    let target = ServerAccount(cyrus, try cyrus.createUser("dcdst"))
    try source.fill([
      ("INBOX", nil, Self.messages("INBOX", count: 4)),
      ("Sent", nil, Self.messages("Sent", count: 3)),
      ("Drafts", nil, Self.messages("Drafts", count: 2, draft: true)),
      ("Projekte/Größe & Co", nil, Self.messages("Projekte", count: 3)),
      ("Release 1.2", nil, Self.messages("Release", count: 2)),
    ])
    let sourceFolders = try source.folders()
    #expect(sourceFolders["Sent"] == "\\Sent" && sourceFolders["Drafts"] == "\\Drafts")

    let run = CapturedRun(try job("migrate", from: source, to: target))
    #expect(run.status == .success, "\(run.err)")
    #expect(Self.copiedTotal(run) == "14", "\(run.out)")

    // Cyrus's personal namespace is INBOX. (or INBOX/); a `.` in a name cannot stay where
    // it is the separator.
    let prefix = cyrus.personalPrefix
    let dotName = cyrus.flavor.separator == "." ? "Release 1_2" : "Release 1.2"
    var expected = try source.contents()
    for (from, to) in [
      ("Sent", "Sent"), ("Drafts", "Drafts"), ("Projekte/Größe & Co", "Projekte\(cyrus.flavor.separator)Größe & Co"),
      ("Release 1.2", dotName),
    ] {
      expected[prefix + to] = expected.removeValue(forKey: from)
    }
    let copied = try target.contents()
    #expect(copied == expected)

    // Every special folder was created with its use: Cyrus has CREATE-SPECIAL-USE.
    let targetFolders = try target.folders()
    for (name, use) in sourceFolders {
      guard let use else { continue }
      #expect(targetFolders[prefix + name] == .some(use), "\(name): \(targetFolders)")
    }

    let again = CapturedRun(try job("migrate", from: source, to: target))
    #expect(again.status == .success, "\(again.err)")
    #expect(Self.copiedTotal(again) == "0", "\(again.out)")
    #expect(try target.folders().keys.sorted() == targetFolders.keys.sorted())

    // A new job (no state) finds every message already there, by content.
    let fresh = CapturedRun(
      try job("migrate", from: source, to: target, state: false) + ["--state", "\(directory)/new.sqlite"])
    #expect(fresh.status == .success, "\(fresh.err)")
    #expect(Self.copiedTotal(fresh) == "0", "\(fresh.out)")

    let verified = CapturedRun(try job("verify", from: source, to: target, state: false))
    #expect(verified.status == .success, "\(verified.out)\(verified.err)")
  }

  @Test func cyrusToDovecotIsExact() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let dovecot = try DovecotServer.shared()
    let cyrus = try CyrusServer.shared()
    let source = ServerAccount(cyrus, try cyrus.createUser("cdsrc"))
    let target = ServerAccount(dovecot, try dovecot.createUser("cddst"))
    try source.fill([
      ("INBOX", nil, Self.messages("INBOX", count: 3)),
      ("INBOX.Sent", "\\Sent", Self.messages("Sent", count: 2)),
      ("INBOX.Drafts", "\\Drafts", Self.messages("Drafts", count: 1, draft: true)),
      ("INBOX.Projekte.Größe & Co", nil, Self.messages("Projekte", count: 2)),
      ("INBOX.Notizen", nil, Self.messages("Notizen", count: 1)),
    ])
    #expect(try source.folders()["INBOX.Sent"] == "\\Sent")

    let run = CapturedRun(try job("migrate", from: source, to: target))
    #expect(run.status == .success, "\(run.err)")
    #expect(Self.copiedTotal(run) == "9", "\(run.out)")

    // The INBOX. prefix comes off and `.` becomes `/`.
    var expected = try source.contents()
    for (from, to) in [
      ("INBOX.Sent", "Sent"), ("INBOX.Drafts", "Drafts"), ("INBOX.Projekte.Größe & Co", "Projekte/Größe & Co"),
      ("INBOX.Notizen", "Notizen"),
    ] {
      expected[to] = expected.removeValue(forKey: from)
    }
    #expect(try target.contents() == expected)

    let again = CapturedRun(try job("migrate", from: source, to: target))
    #expect(Self.copiedTotal(again) == "0", "\(again.out)")

    // Flags changed in Cyrus since (CONDSTORE) are carried over by --sync-flags.
    let client = try source.client()
    try client.select(client.mailboxName("INBOX"), readOnly: false)
    let uids = try client.uidSearch(.all)
    try client.store(UIDSet([try #require(uids.min)]), .add, flags: ["\\Flagged", "Erledigt"])
    try client.store(UIDSet([try #require(uids.max)]), .add, flags: ["\\Seen"])
    client.logout()
    let synced = CapturedRun(try job("migrate", from: source, to: target) + ["--sync-flags"])
    #expect(synced.status == .success, "\(synced.err)")
    #expect(synced.err.contains("2 flag update(s)"), "\(synced.err)")
    #expect(try target.contents()["INBOX"] == source.contents()["INBOX"])

    let verified = CapturedRun(try job("verify", from: source, to: target, state: false))
    #expect(verified.status == .success, "\(verified.out)\(verified.err)")
  }

  /// Cyrus answers an APPEND over quota with `NO Over quota`, without RFC 5530's code: the
  /// report still says what to do, and a run after the quota is raised copies the rest.
  @Test func overQuotaSaysWhatToDoAndARunWithMoreSpaceFinishes() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let dovecot = try DovecotServer.shared()
    let cyrus = try CyrusServer.shared()
    let source = ServerAccount(dovecot, try dovecot.createUser("qsrc"))
    let targetUser = try cyrus.createUser("qdst")
    let target = ServerAccount(cyrus, targetUser)
    try source.fill([("INBOX", nil, Self.messages("INBOX", count: 30))])
    try cyrus.setStorageQuota(of: targetUser.name, kibibytes: 2)

    let full = CapturedRun(try job("migrate", from: source, to: target))
    #expect(full.status == .partial, "\(full.err)")
    #expect(full.err.contains("refused by the target: NO Over quota"), "\(full.err)")
    #expect(full.err.contains("hint: the target mailbox is over quota: free space there and run again"), "\(full.err)")
    let stored = try target.contents()["INBOX"]?.count ?? 0
    #expect(stored < 30)

    try cyrus.setStorageQuota(of: targetUser.name, kibibytes: 10_000)
    let rest = CapturedRun(try job("migrate", from: source, to: target))
    #expect(rest.status == .success, "\(rest.err)")
    #expect(Self.copiedTotal(rest) == String(30 - stored), "\(rest.out)")
    #expect(try target.contents() == source.contents().filter { $0.key == "INBOX" })
  }

  /// Between two Cyrus layouts: `/` as separator (a `.` is an ordinary character there)
  /// into `.` as separator; both keep folders under INBOX and mark special folders.
  @Test func cyrusWithSlashesToCyrusWithDotsIsExact() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let slashes = try CyrusServer.shared("unix-separator")
    let dots = try CyrusServer.shared()
    let source = ServerAccount(slashes, try slashes.createUser("ccsrc"))
    let target = ServerAccount(dots, try dots.createUser("ccdst"))
    try source.fill([
      ("INBOX", nil, Self.messages("INBOX", count: 2)),
      ("INBOX/Sent", "\\Sent", Self.messages("Sent", count: 2)),
      ("INBOX/Release 1.2", nil, Self.messages("Release", count: 2)),
      ("INBOX/Projekte/Größe & Co", nil, Self.messages("Projekte", count: 1)),
    ])
    try target.fill([("INBOX.Gesendet", "\\Sent", [])])

    let run = CapturedRun(try job("migrate", from: source, to: target))
    #expect(run.status == .success, "\(run.err)")
    var expected = try source.contents()
    for (from, to) in [
      ("INBOX/Sent", "INBOX.Gesendet"), ("INBOX/Release 1.2", "INBOX.Release 1_2"),
      ("INBOX/Projekte/Größe & Co", "INBOX.Projekte.Größe & Co"),
    ] {
      expected[to] = expected.removeValue(forKey: from)
    }
    #expect(try target.contents() == expected)
    // The target's own \Sent folder took the sent messages; no second one was made.
    #expect(try target.folders().filter { $0.value == "\\Sent" }.keys.sorted() == ["INBOX.Gesendet"])
    let verified = CapturedRun(try job("verify", from: source, to: target, state: false))
    #expect(verified.status == .success, "\(verified.out)\(verified.err)")
  }

  /// A Cyrus account backed up into an archive and restored into a fresh Cyrus account
  /// comes back exact, its special folders created with their use.
  @Test func backupAndRestoreOfACyrusAccountIsExact() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let cyrus = try CyrusServer.shared()
    let source = ServerAccount(cyrus, try cyrus.createUser("bksrc"))
    let target = ServerAccount(cyrus, try cyrus.createUser("bkdst"))
    try source.fill([
      ("INBOX", nil, Self.messages("INBOX", count: 3)),
      ("INBOX.Sent", "\\Sent", Self.messages("Sent", count: 2)),
      ("INBOX.Projekte.Größe & Co", nil, Self.messages("Projekte", count: 2)),
    ])
    let archive = "\(directory)/archive"
    let backup = CapturedRun(["backup", source.url, archive] + (try source.options(as: "source", in: directory)))
    #expect(backup.status == .success, "\(backup.err)")
    let restore = CapturedRun(
      ["restore", archive, target.url, "--state", "\(directory)/restore.sqlite"]
        + (try target.options(as: "target", in: directory)))
    #expect(restore.status == .success, "\(restore.err)")
    #expect(try target.contents() == source.contents())
    #expect(try target.folders()["INBOX.Sent"] == "\\Sent")
  }

  /// Cyrus 3.6 answers `NO Invalid mailbox name` to names with `! " % / \ ; < > ` { | }`,
  /// a tab or DEL (with `.` as separator); MailFerry renames such folders by its rule.
  @Test func namesCyrusRefusesAreRepairedAndTheirMessagesArrive() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let dovecot = try DovecotServer.shared()
    let cyrus = try CyrusServer.shared()
    let source = ServerAccount(dovecot, try dovecot.createUser("rnsrc"))
    let target = ServerAccount(cyrus, try cyrus.createUser("rndst"))
    let renamed = [
      "Wichtig!": "INBOX.Wichtig_", "a|b": "INBOX.a_b", "<Entwurf>": "INBOX._Entwurf_",
      "Notizen {alt}": "INBOX.Notizen _alt_", "Kunden/A;B": "INBOX.Kunden.A_B",
    ]
    try source.fill(renamed.keys.sorted().map { ($0, nil, Self.messages($0, count: 2)) })

    let run = CapturedRun(try job("migrate", from: source, to: target))
    #expect(run.status == .success, "\(run.err)")
    for (from, to) in renamed {
      let stored = String(to.dropFirst("INBOX.".count))
      #expect(run.err.contains("stored as '\(to)'") || run.err.contains("stored as '\(stored)'"), "\(from): \(run.err)")
    }
    var expected = try source.contents()
    for (from, to) in renamed { expected[to] = expected.removeValue(forKey: from) }
    #expect(try target.contents() == expected)

    let again = CapturedRun(try job("migrate", from: source, to: target))
    #expect(Self.copiedTotal(again) == "0", "\(again.out)")
    #expect(try target.contents() == expected)
  }

  /// Cyrus takes no bare LF (`NO Message contains bare newlines`): a Unix mbox's messages
  /// are sent with CRLF and arrive. It refuses NUL (`NO Message contains NUL characters`)
  /// and stores 8-bit header bytes as `X` (munge8bit): both are reported, not hidden.
  @Test func unixLineEndingsArriveAndWhatCyrusRefusesOrChangesIsReported() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let cyrus = try CyrusServer.shared()
    let target = ServerAccount(cyrus, try cyrus.createUser("mbdst"))
    let unix = "Subject: Unix\nMessage-ID: <unix@cyrus-test>\n\nline 1\nline 2\n"
    let withNUL = "Subject: NUL\nMessage-ID: <nul@cyrus-test>\n\nbefore\u{0}after\n"
    let eightBitHeader = "Subject: Größe\nMessage-ID: <8bit@cyrus-test>\n\nbody\n"
    let mbox = "\(directory)/in.mbox"
    try Data(
      [unix, withNUL, eightBitHeader].map { "From a@example.org Sat Jan  1 00:00:00 2022\n\($0)\n" }.joined().utf8
    ).write(to: URL(fileURLWithPath: mbox))
    let arguments =
      ["migrate", "mbox:\(mbox)", target.url, "--state", "\(directory)/state.sqlite"]
      + (try target.options(as: "target", in: directory))

    let run = CapturedRun(arguments)
    #expect(run.status == .partial, "\(run.err)")
    #expect(run.err.contains("refused by the target: NO Message contains NUL characters"), "\(run.err)")
    #expect(run.err.contains("the target altered the copy"), "\(run.err)")
    #expect(run.err.contains("stored 0x58 'X'"), "\(run.err)")
    let stored = try #require(try target.contents()["INBOX"])
    #expect(stored.count == 2)
    let unixCopy = SHA256Hasher.hash(MessageBytes.normalized(Array(unix.utf8))).hex
    #expect(stored.contains { $0.sha256 == unixCopy }, "\(stored)")

    let again = CapturedRun(arguments)
    #expect(Self.copiedTotal(again) == "0", "\(again.out)")
    #expect(try target.contents()["INBOX"]?.count == 2)
  }
}
