import Foundation
import IMAPCodec
import IMAPEndpoint
import MailCore
import ServerFixtures
import Transport

/// A source account filled with one corpus, and what the verifier read from it once.
struct BenchSource {
  let name: String
  let server: DovecotServer
  let user: DovecotServer.User
  let account: IMAPAccount
  let folders: [String]
  let messages: Int
  let bytes: Int
  /// The source as the verifier reads it, to compare every copy with.
  let snapshot: AccountSnapshot

  /// Creates a user on `server` and fills `folders` with `count` messages from `message`,
  /// spread evenly, each with `MessageAttributes`' flags and date, in MULTIAPPEND batches of
  /// at most `batchCount` messages or 8 MB. Prints how long it took.
  static func populate(
    _ name: String, server: DovecotServer, folders: [String], count: Int, batchCount: Int = 100,
    message: (Int) -> [UInt8]
  ) throws -> BenchSource {
    let user = try server.createUser(name)
    let account = IMAPAccount(
      host: server.host, port: server.imapsPort, user: user.name, security: .implicitTLS,
      tls: TLSOptions(caFile: server.caFile), compress: false)
    let start = ContinuousClock.now
    var bytes = 0
    do {
      let client = try IMAPClient.connect(account)
      defer { client.logout() }
      try client.login(.password(user.password))
      for (index, folder) in folders.enumerated() {
        if folder != "INBOX" { try client.create(MailboxName(folder), separator: "/") }
        let share = count / folders.count + (index < count % folders.count ? 1 : 0)
        var batch: [MessageToStore] = []
        var batchBytes = 0
        for number in 0..<share {
          let serial = index * 1_000_000 + number
          let bytesOfMessage = message(serial)
          bytes += bytesOfMessage.count
          batchBytes += bytesOfMessage.count
          batch.append(MessageAttributes.toStore(bytesOfMessage, number: serial))
          if batch.count == batchCount || batchBytes >= 8 << 20 || number == share - 1 {
            try client.append(batch, to: MailboxName(folder))
            batch = []
            batchBytes = 0
          }
        }
      }
    }
    let elapsed = seconds(ContinuousClock.now - start)
    print(
      "populated \(name): "
        + String(
          format: "%d messages, %.1f MB in %d folders, in %.1f s (%.0f msg/s)", count, Double(bytes) / 1e6,
          folders.count, elapsed, Double(count) / elapsed))
    let snapshot = try AccountSnapshot.read(account, password: user.password)
    return BenchSource(
      name: name, server: server, user: user, account: account, folders: folders, messages: count, bytes: bytes,
      snapshot: snapshot)
  }

  /// Compares a copy of this account in `user`'s account on `server` with the source.
  func verify(copyOn server: DovecotServer, user: DovecotServer.User) -> String {
    do {
      let copy = try AccountSnapshot.read(
        IMAPAccount(
          host: server.host, port: server.imapsPort, user: user.name, security: .implicitTLS,
          tls: TLSOptions(caFile: server.caFile), compress: false), password: user.password)
      let differences = CopyDifferences(source: snapshot, copy: copy)
      return differences.summary + differences.examples.map { "\n    e.g. \($0)" }.joined()
    } catch {
      return "not verified: \(error)"
    }
  }
}
