import Endpoints
import Foundation
import IMAPCodec

/// `mailferry folders URL`: every folder with its message count and size, like `du`.
struct FoldersCommand: Subcommand {
  static let spec = CommandSpec(
    name: "folders", summary: "List the folders of an account with message counts and sizes.",
    discussion: """
      Shows each folder's decoded name, special use (\\Sent, \\Trash, …), hierarchy separator,
      number of messages and total size. Sizes come from STATUS SIZE where the server offers
      it, else from the messages' sizes.
      """,
    positionals: [.init(name: "URL", help: "imaps://user@host[:port] or imap://user@host[:port]")],
    options: CommonOptions.connection + [
      .init(name: "bytes", valueName: nil, help: "Print sizes in bytes instead of KiB/MiB/GiB.")
    ])

  func run(_ arguments: ParsedArguments, console: Console) throws -> ExitCode {
    let options = try IMAPSessionOptions(arguments.positionals[0], arguments: arguments, command: Self.spec.name)
    let client = try options.openSession(console: console)
    defer { client.logout() }
    let exact = arguments.flag("bytes")
    let folders = try client.listFolders().sorted {
      $0.displayName.localizedStandardCompare($1.displayName) == .orderedAscending
    }
    console.print(
      "MESSAGES".leftPadded(9) + "  " + "SIZE".leftPadded(exact ? 14 : 10) + "  " + "USE".padded(9) + "SEP  FOLDER")
    var totalMessages: UInt64 = 0
    var totalSize: UInt64 = 0
    for folder in folders {
      let separator = folder.separator.map { String($0) } ?? "-"
      guard folder.isSelectable else {
        console.print(
          "-".leftPadded(9) + "  " + "-".leftPadded(exact ? 14 : 10) + "  " + (folder.specialUse ?? "").padded(9)
            + separator.padded(5) + folder.displayName)
        continue
      }
      let status = try client.status(folder.name, items: ["MESSAGES", "SIZE"])
      let messages = status["MESSAGES"] ?? 0
      let size = try status["SIZE"] ?? client.totalSize(of: folder.name)
      totalMessages += messages
      totalSize += size
      console.print(
        String(messages).leftPadded(9) + "  " + format(size, exact: exact).leftPadded(exact ? 14 : 10) + "  "
          + (folder.specialUse ?? "").padded(9) + separator.padded(5) + folder.displayName)
    }
    console.print(
      String(totalMessages).leftPadded(9) + "  " + format(totalSize, exact: exact).leftPadded(exact ? 14 : 10)
        + "  total in \(folders.filter(\.isSelectable).count) folders")
    return .success
  }

  private func format(_ bytes: UInt64, exact: Bool) -> String {
    exact ? String(bytes) : ByteCountText.human(bytes)
  }
}

/// Sizes for people: `512 B`, `1.5 KiB`, `20.0 MiB`.
enum ByteCountText {
  static func human(_ bytes: UInt64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
      value /= 1024
      unit += 1
    }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
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
