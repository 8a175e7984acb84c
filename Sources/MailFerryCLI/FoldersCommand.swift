import Archive
import Foundation
import MailCore
import Storage
import Transport

/// `mailferry folders STORE`: every folder with its message count and size, like `du`.
struct FoldersCommand: Subcommand {
  static let spec = CommandSpec(
    name: "folders", summary: "List the folders of an account, archive or local store with counts and sizes.",
    discussion: """
      Shows each folder's decoded name, special use (\\Sent, \\Trash, …), hierarchy separator,
      number of messages and total size. On IMAP, sizes come from STATUS SIZE where the
      server offers it, else from the messages' sizes.

      Examples:
        mailferry folders imaps://alice@imap.example.org
        mailferry folders ~/mail-archive
        mailferry folders maildir:~/Maildir
      """,
    positionals: [
      .init(
        name: "STORE", help: "imaps://user@host[:port], pop3s://user@host, an archive DIR, maildir:PATH or mbox:PATH")
    ],
    options: CommonOptions.connection + [
      .init(name: "bytes", valueName: nil, help: "Print sizes in bytes instead of KiB/MiB/GiB.")
    ])

  func run(_ arguments: ParsedArguments, console: Console) throws -> ExitCode {
    let text = arguments.positionals[0]
    let endpoint = try JobEndpoint.parse(text)
    let trace = try arguments.value("trace").map { try ProtocolTrace(path: $0) }
    var locks: [ExclusiveLock] = []
    if case .archive(let path) = endpoint { locks = try Archive.lock(path: path, purpose: "folders", mode: .reading) }
    defer { locks.forEach { $0.release() } }
    let context = StoreOpener.Context(
      arguments: arguments, command: Self.spec.name, console: console, soleServer: false, trace: trace)
    let opened = try StoreOpener.open(endpoint, text: text, side: nil, role: .reading, context: context)
    let exact = arguments.flag("bytes")
    try arguments.checkAllApply(to: "listing \(endpoint.kindDescription)")
    let store = try opened.openSource()
    defer { store.close() }
    let folders = try store.folders().sorted {
      $0.name.localizedStandardCompare($1.name) == .orderedAscending
    }
    console.print(
      "MESSAGES".leftPadded(9) + "  " + "SIZE".leftPadded(exact ? 14 : 10) + "  " + "USE".padded(9) + "SEP  FOLDER")
    var totalMessages: UInt64 = 0
    var totalSize: UInt64 = 0
    for folder in folders {
      let separator = folder.separator.map { String($0) } ?? "-"
      guard folder.selectable else {
        console.print(
          "-".leftPadded(9) + "  " + "-".leftPadded(exact ? 14 : 10) + "  " + (folder.specialUse ?? "").padded(9)
            + separator.padded(5) + folder.name)
        continue
      }
      let messages = UInt64(try store.messageCount(folder.name))
      let size = try store.folderSize(folder.name)
      totalMessages += messages
      totalSize += size
      console.print(
        String(messages).leftPadded(9) + "  " + format(size, exact: exact).leftPadded(exact ? 14 : 10) + "  "
          + (folder.specialUse ?? "").padded(9) + separator.padded(5) + folder.name)
    }
    console.print(
      String(totalMessages).leftPadded(9) + "  " + format(totalSize, exact: exact).leftPadded(exact ? 14 : 10)
        + "  total in \(folders.filter(\.selectable).count) folders")
    return .success
  }

  private func format(_ bytes: UInt64, exact: Bool) -> String {
    exact ? String(bytes) : ByteCountText.human(bytes)
  }
}

extension String {
  func padded(_ width: Int) -> String {
    count >= width ? self + " " : self + String(repeating: " ", count: width - count)
  }
  func leftPadded(_ width: Int) -> String {
    count >= width ? self : String(repeating: " ", count: width - count) + self
  }
}
