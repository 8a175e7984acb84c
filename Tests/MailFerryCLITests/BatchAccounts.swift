import Foundation
import MailCore
import ServerFixtures

/// Accounts for batch tests: pairs of accounts on the test Dovecot, each source holding a
/// few messages in two folders and each target empty, and the accounts file that lists
/// them, with the passwords in files next to it.
struct BatchAccounts {
  struct Pair {
    let id: String
    let source: ServerAccount
    let target: ServerAccount
  }

  let path: String
  let pairs: [Pair]

  init(_ count: Int, on server: DovecotServer, in directory: String, name: String = "accounts") throws {
    var pairs: [Pair] = []
    var lines = ["id,source,target,source-password-file,target-password-file"]
    for number in 0..<count {
      let source = ServerAccount(server, try server.createUser("bsrc"))
      let target = ServerAccount(server, try server.createUser("bdst"))
      let id = "acct\(number)"
      try source.fill([
        ("INBOX", nil, Self.messages(account: number, folder: "INBOX", count: Self.inboxCount(number))),
        ("Projects", nil, Self.messages(account: number, folder: "Projects", count: 2)),
      ])
      for (side, account) in [("src", source), ("dst", target)] {
        let file = "\(directory)/\(id).\(side).pw"
        try Data(account.user.password.utf8).write(to: URL(fileURLWithPath: file))
        chmod(file, 0o600)
      }
      // Relative password paths: relative to the accounts file.
      lines.append("\(id),\(source.url),\(target.url),\(id).src.pw,\(id).dst.pw")
      pairs.append(Pair(id: id, source: source, target: target))
    }
    path = "\(directory)/\(name).csv"
    try (lines.joined(separator: "\r\n") + "\r\n").write(toFile: path, atomically: true, encoding: .utf8)
    self.pairs = pairs
  }

  /// How many messages account `number` has in INBOX (3 to 5, so accounts differ).
  static func inboxCount(_ number: Int) -> Int { 3 + number % 3 }

  static func messages(account: Int, folder: String, count: Int) -> [MessageToStore] {
    (1...count).map { number in
      MessageToStore(
        bytes: Array(
          ("From: a@example.org\r\nSubject: batch \(account) \(folder) \(number)\r\n"
            + "Message-ID: <batch-\(account)-\(folder)-\(number)@example.org>\r\n\r\nbody \(number)\r\n").utf8),
        flags: number % 2 == 0 ? ["\\Seen"] : [])
    }
  }

  /// The built `mailferry` binary the accounts run as.
  static var binary: String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent(".build/debug/mailferry").path
  }

  /// The accounts named in the per-account lines a batch printed, in the order they
  /// finished (`[3/20] acct7: done (0): …`).
  static func finishedIDs(_ output: String) -> [String] {
    output.split(separator: "\n").compactMap { line in
      guard line.hasPrefix("["), let end = line.firstIndex(of: ":") else { return nil }
      return line[..<end].split(separator: " ").last.map(String.init)
    }
  }
}
