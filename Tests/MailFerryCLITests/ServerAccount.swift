import Foundation
import IMAPCodec
import IMAPEndpoint
import MailCore
import ServerFixtures
import Transport

/// An account on one of the test servers (Dovecot or Cyrus), seen over IMAPS, with helpers to
/// fill it and to read back exactly what it holds.
struct ServerAccount {
  let host: String
  let port: Int
  let caFile: String
  let user: DovecotServer.User
  let separator: Character

  init(_ server: DovecotServer, _ user: DovecotServer.User) {
    (host, port, caFile, self.user, separator) = (
      server.host, server.imapsPort, server.caFile, user, server.flavor.separator
    )
  }

  init(_ server: CyrusServer, _ user: CyrusServer.User) {
    (host, port, caFile, self.user, separator) = (
      server.host, server.imapsPort, server.caFile, user, server.flavor.separator
    )
  }

  var url: String { "imaps://\(user.name)@localhost:\(port)" }

  /// The options `migrate`, `plan` and `verify` need for this account as `side` (source or
  /// target), with the password written to a file in `directory`.
  func options(as side: String, in directory: String) throws -> [String] {
    let path = "\(directory)/\(side).pw"
    try Data(user.password.utf8).write(to: URL(fileURLWithPath: path))
    chmod(path, 0o600)
    return ["--\(side)-password-file", path, "--\(side)-ca-file", caFile]
  }

  func client() throws -> IMAPClient {
    let client = try IMAPClient.connect(
      IMAPAccount(host: host, port: port, user: user.name, tls: TLSOptions(caFile: caFile)))
    try client.login(.password(user.password))
    return client
  }

  /// Creates each folder (wire names in Unicode, with `specialUse` where given) and appends
  /// its messages.
  func fill(_ folders: [(name: String, specialUse: String?, messages: [MessageToStore])]) throws {
    let client = try client()
    defer { client.logout() }
    let existing = Set(try client.listFolders().map(\.displayName))
    for folder in folders {
      if !existing.contains(folder.name) {
        try client.create(client.mailboxName(folder.name), separator: separator, specialUse: folder.specialUse)
      }
      if !folder.messages.isEmpty { try client.append(folder.messages, to: client.mailboxName(folder.name)) }
    }
  }

  /// Every selectable folder by name with its special use.
  func folders() throws -> [String: String?] {
    let client = try client()
    defer { client.logout() }
    return Dictionary(
      try client.listFolders().filter(\.isSelectable).map { ($0.displayName, $0.specialUse) },
      uniquingKeysWith: { first, _ in first })
  }

  /// Each non-empty folder's messages: SHA-256 of the bytes, flags and received date.
  func contents() throws -> [String: [StoredState]] {
    let client = try client()
    defer { client.logout() }
    var result: [String: [StoredState]] = [:]
    for folder in try client.listFolders() where folder.isSelectable {
      try client.select(folder.name, readOnly: true)
      let uids = try client.uidSearch(.all)
      guard !uids.isEmpty else { continue }
      let metadata = Dictionary(
        try client.fetchMetadata(.uids(uids)).map { ($0.uid, $0) }, uniquingKeysWith: { first, _ in first })
      result[folder.displayName] = try client.fetchMessages(uids).map { message in
        StoredState(
          sha256: SHA256Hasher.hash(message.bytes).hex,
          flags: Set((metadata[message.uid]?.flags ?? []).filter { $0 != "\\Recent" }),
          receivedAt: metadata[message.uid]?.internalDate?.secondsSince1970)
      }.sorted { $0.sha256 < $1.sha256 }
    }
    return result
  }
}

/// What a stored message is, for comparing two servers: its exact bytes (by hash), its
/// flags and keywords, and its received date as an instant (Cyrus keeps dates in UTC).
struct StoredState: Equatable, CustomStringConvertible {
  let sha256: String
  let flags: Set<String>
  let receivedAt: Int64?

  var description: String { "\(sha256.prefix(8)) \(flags.sorted()) \(receivedAt.map(String.init) ?? "-")" }
}
