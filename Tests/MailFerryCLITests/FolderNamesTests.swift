import Foundation
import IMAPCodec
import IMAPEndpoint
import MailCore
import ServerFixtures
import Testing
import Transport

@testable import MailFerryCLI

/// Folder names against real servers: a target that refuses names, a fresh target without
/// special folders, and two source folders that want one target name.
@Suite struct FolderNamesTests {
  let directory: String

  init() throws {
    directory = NSTemporaryDirectory() + "mailferry-names-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  }

  func passwordFile(_ user: DovecotServer.User) throws -> String {
    let path = "\(directory)/\(user.name).pw"
    try Data(user.password.utf8).write(to: URL(fileURLWithPath: path))
    chmod(path, 0o600)
    return path
  }

  func client(_ server: DovecotServer, _ user: DovecotServer.User) throws -> IMAPClient {
    let client = try IMAPClient.connect(
      IMAPAccount(host: server.host, port: server.imapsPort, user: user.name, tls: TLSOptions(caFile: server.caFile)))
    try client.login(.password(user.password))
    return client
  }

  func fill(_ server: DovecotServer, _ user: DovecotServer.User, _ folders: [String: Int]) throws {
    let client = try client(server, user)
    defer { client.logout() }
    let existing = Set(try client.listFolders().map(\.displayName))
    for (folder, count) in folders.sorted(by: { $0.key < $1.key }) {
      if !existing.contains(folder) {
        try client.create(client.mailboxName(folder), separator: server.flavor.separator)
      }
      try client.append(
        (1...count).map { number in
          MessageToStore(
            bytes: Array(
              "Subject: \(folder) \(number)\r\nMessage-ID: <\(number).\(folder.utf8.count)@names>\r\n\r\n\(folder)\r\n"
                .utf8))
        }, to: client.mailboxName(folder))
    }
  }

  /// Folder → (message count, special use) for every selectable folder.
  func folders(_ server: DovecotServer, _ user: DovecotServer.User) throws -> [String: (Int, String?)] {
    let client = try client(server, user)
    defer { client.logout() }
    var result: [String: (Int, String?)] = [:]
    for folder in try client.listFolders() where folder.isSelectable {
      result[folder.displayName] = (
        Int(try client.status(folder.name, items: ["MESSAGES"])["MESSAGES"] ?? 0), folder.specialUse
      )
    }
    return result
  }

  func job(
    _ command: String, from source: (DovecotServer, DovecotServer.User), to target: (DovecotServer, DovecotServer.User),
    state: String = "state"
  ) throws -> [String] {
    [
      command, "imaps://\(source.1.name)@localhost:\(source.0.imapsPort)",
      "imaps://\(target.1.name)@localhost:\(target.0.imapsPort)", "--source-password-file", try passwordFile(source.1),
      "--target-password-file", try passwordFile(target.1), "--source-ca-file", source.0.caFile, "--target-ca-file",
      target.0.caFile, "--state", "\(directory)/\(state).sqlite",
    ]
  }

  @Test func refusedNamesAreRepairedAndMissingSpecialFoldersCreatedWithTheirUse() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let standard = try DovecotServer.shared()
    let strict = try DovecotServer.shared("strict-names")
    let sourceUser = try standard.createUser("nsrc")
    let targetUser = try strict.createUser("ndst")
    try fill(standard, sourceUser, ["INBOX": 2, "Release 1.2": 3, "v.2": 2, "Sent": 2, "Projects/v2.0": 1])
    let source = (standard, sourceUser)
    let target = (strict, targetUser)

    let run = CapturedRun(try job("migrate", from: source, to: target))
    #expect(run.status == .success, "\(run.err)")
    #expect(run.err.contains("stored as 'Release 1_2'"), "\(run.err)")
    let after = try folders(strict, targetUser)
    #expect(after["Release 1_2"]?.0 == 3)
    #expect(after["v_2"]?.0 == 2)
    #expect(after["Projects/v2_0"]?.0 == 1)
    #expect(after["Sent"]?.0 == 2)
    // Dovecot 2.3 offers neither CREATE-SPECIAL-USE nor a writable /private/specialuse
    // (SETMETADATA answers NO [CANNOT]): the folder is made by name, and the report says so.
    #expect(run.err.contains("Sent: created without the special use \\Sent"), "\(run.err)")
    #expect(after["INBOX"]?.0 == 2)

    // Every later run and plan uses the repaired names; nothing new is created.
    let plan = CapturedRun(try job("plan", from: source, to: target))
    #expect(plan.status == .success, "\(plan.err)")
    #expect(plan.out.contains("Release 1.2 → Release 1_2 (as in earlier runs)"), "\(plan.out)")
    let again = CapturedRun(try job("migrate", from: source, to: target))
    #expect(again.status == .success, "\(again.err)")
    #expect(again.out.split(separator: "\n").last { $0.contains("total") }?.split(separator: " ").first == "0")
    #expect(try folders(strict, targetUser).mapValues(\.0) == after.mapValues(\.0))
  }

  @Test func aCollisionNameIsTheSameInEveryProcessAndReusedOnReruns() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let exchange = try DovecotServer.shared("exchange-like")
    let standard = try DovecotServer.shared()
    let sourceUser = try exchange.createUser("csrc")
    // "Sent Items" is the source's \Sent; a plain "Sent" next to it wants the same target.
    try fill(exchange, sourceUser, ["Sent Items": 2, "Sent": 3])
    let source = (exchange, sourceUser)
    let target = (standard, try standard.createUser("cdst"))

    let plan = CapturedRun(try job("plan", from: source, to: target))
    #expect(plan.status == .success, "\(plan.err)")
    let suffixed = try #require(
      plan.out.split(separator: "\n").compactMap { line -> String? in
        guard let range = line.range(of: "Sent → Sent (") else { return nil }
        return String(line[range.upperBound...].prefix(4))
      }.first, "\(plan.out)")

    let run = CapturedRun(try job("migrate", from: source, to: target))
    #expect(run.status == .success, "\(run.err)")
    let first = try folders(standard, target.1)
    #expect(first["Sent (\(suffixed))"]?.0 == 3, "\(first.mapValues(\.0))")
    #expect(first["Sent"]?.0 == 2)

    // The built binary, another process with a new state file, picks the same name.
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let binary = root.appendingPathComponent(".build/debug/mailferry").path
    try #require(FileManager.default.isExecutableFile(atPath: binary), "build the package first")
    let other = try Subprocess.run([binary] + job("migrate", from: source, to: target, state: "other"), check: false)
    #expect(other.status == 0, "\(other.stderr)")
    #expect(other.stderr.contains("Sent → Sent (\(suffixed))"), "\(other.stderr)")
    let again = CapturedRun(try job("migrate", from: source, to: target))
    #expect(again.status == .success)
    #expect(try folders(standard, target.1).mapValues(\.0) == first.mapValues(\.0))
  }
}
