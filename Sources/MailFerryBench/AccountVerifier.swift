import Foundation
import IMAPCodec
import IMAPEndpoint
import MailCore
import Transport

/// One message as the verifier compares it: what a faithful copy keeps.
struct MessageFingerprint: Hashable {
  let digest: SHA256Digest
  /// Flags and keywords, sorted, without `\Recent` (which no client sets).
  let flags: [String]
  /// INTERNALDATE in seconds since 1970 (the zone is not compared: Maildir keeps none).
  let date: Int64?
}

/// Every message of an account, per folder (named with "/" as the separator, whatever the
/// server's), as a multiset of fingerprints.
struct AccountSnapshot {
  var folders: [String: [MessageFingerprint: Int]] = [:]

  var messageCount: Int { folders.values.reduce(0) { $0 + $1.values.reduce(0, +) } }

  /// Reads every non-empty folder over IMAP: one `UID FETCH 1:* (UID FLAGS INTERNALDATE
  /// BODY.PEEK[])` per folder, each body hashed. `digest` turns a message's bytes into the
  /// value compared (SHA-256 of the bytes by default).
  static func read(
    _ account: IMAPAccount, password: String, digest: ([UInt8]) -> SHA256Digest = { SHA256Hasher.hash($0) }
  ) throws -> AccountSnapshot {
    let client = try IMAPClient.connect(account)
    defer { client.logout() }
    try client.login(.password(password))
    var snapshot = AccountSnapshot()
    for folder in try client.listFolders() where folder.isSelectable {
      let selected = try client.select(folder.name, readOnly: true)
      guard selected.exists > 0 else { continue }
      var path = folder.displayName
      if let separator = folder.separator, separator != "/" {
        path = path.replacingOccurrences(of: String(separator), with: "/")
      }
      if path.uppercased() == "INBOX" { path = "INBOX" }
      var body: [UInt8] = []
      var messages: [MessageFingerprint: Int] = [:]
      let tag = try client.send(
        .uidFetch(.from(1), items: ["UID", "FLAGS", "INTERNALDATE", "BODY.PEEK[]"], changedSince: nil))
      try client.waitFor(
        tag: tag, command: "UID FETCH",
        onData: { data in
          guard case .fetch(let fetch) = data, fetch.uid != nil else { return }
          let flags = (fetch.flags ?? []).filter { $0.caseInsensitiveCompare("\\Recent") != .orderedSame }.sorted()
          let hashed = digest(body)
          messages[
            MessageFingerprint(digest: hashed, flags: flags, date: fetch.internalDate?.secondsSince1970), default: 0] +=
            1
          body = []
        },
        onBody: BodyConsumer(begin: { _ in body = [] }, bytes: { body.append(contentsOf: $0) }, end: {}))
      snapshot.folders[path, default: [:]].merge(messages, uniquingKeysWith: +)
    }
    return snapshot
  }
}

/// How a copy differs from its source: messages with other flags, another date, missing
/// from the copy, or in the copy but not in the source.
struct CopyDifferences {
  var expected = 0
  var exact = 0
  var flags = 0
  var dates = 0
  /// Messages whose bytes changed: as many as a folder has both missing and extra.
  var content = 0
  var missing = 0
  var extra = 0
  /// One example per kind, for the reader to see what the difference is.
  var examples: [String] = []

  var differing: Int { expected - exact + extra }

  /// `exact 10000/10000`, or `12 differ (3 flags, 9 dates)`.
  var summary: String {
    if differing == 0 { return "exact \(exact)/\(expected)" }
    let parts = [("content", content), ("flags", flags), ("dates", dates), ("missing", missing), ("extra", extra)]
      .filter { $0.1 > 0 }.map { "\($0.1) \($0.0)" }
    return "\(differing) differ (\(parts.joined(separator: ", ")))"
  }

  /// Compares per folder: identical fingerprints first; what is left is paired by digest
  /// (same message, other flags or date); unpaired source messages are missing, unpaired
  /// copies extra, except that a folder with both counts the pairs as changed content.
  init(source: AccountSnapshot, copy: AccountSnapshot) {
    expected = source.messageCount
    for name in Set(source.folders.keys).union(copy.folders.keys).sorted() {
      var left = source.folders[name] ?? [:]
      var right = copy.folders[name] ?? [:]
      for (fingerprint, count) in left {
        let same = min(count, right[fingerprint] ?? 0)
        guard same > 0 else { continue }
        exact += same
        left[fingerprint] = count - same
        right[fingerprint] = (right[fingerprint] ?? 0) - same
      }
      var copiesByDigest: [SHA256Digest: [MessageFingerprint]] = [:]
      for (fingerprint, count) in right where count > 0 {
        copiesByDigest[fingerprint.digest, default: []] += Array(repeating: fingerprint, count: count)
      }
      var missingHere = 0
      for (original, count) in left where count > 0 {
        for _ in 0..<count {
          guard var candidates = copiesByDigest[original.digest], let copied = candidates.popLast() else {
            missingHere += 1
            continue
          }
          copiesByDigest[original.digest] = candidates
          if copied.flags != original.flags {
            flags += 1
            note(
              "flags in \(name): \(original.flags.joined(separator: " ")) became \(copied.flags.joined(separator: " "))"
            )
          }
          if copied.date != original.date {
            dates += 1
            note(
              "date in \(name): \(original.date.map(String.init) ?? "none") became \(copied.date.map(String.init) ?? "none")"
            )
          }
        }
      }
      let extraHere = copiesByDigest.values.reduce(0) { $0 + $1.count }
      let changed = min(missingHere, extraHere)
      if changed > 0 { note("content changed in \(name): \(changed) messages") }
      if missingHere > changed { note("missing in \(name): \(missingHere - changed) messages") }
      if extraHere > changed { note("extra in \(name): \(extraHere - changed) messages") }
      content += changed
      missing += missingHere - changed
      extra += extraHere - changed
    }
  }

  private mutating func note(_ text: String) {
    let kind = text.prefix(while: { $0 != " " })
    if examples.count < 4 && !examples.contains(where: { $0.hasPrefix(kind) }) { examples.append(text) }
  }
}
