import Archive
import Foundation
import MailCore
import Storage

/// `mailferry archive list|search|verify|reindex DIR`: looking after an archive.
struct ArchiveCommand: Subcommand {
  static let spec = CommandSpec(
    name: "archive", summary: "List, search, verify or rebuild the index of an archive directory.",
    discussion: """
      list      folders with message counts, sizes and date ranges
      search    messages matching --message-id, --from, --subject, --since, --before, --folder
      verify    decompresses everything and checks every message against its SHA-256;
                exit code 65 and the file and byte offset of any damage
      reindex   rebuilds catalog.sqlite from the data files and their manifests

      Examples:
        mailferry archive list ~/mail-archive
        mailferry archive search ~/mail-archive --from alice@example.org --since 2026-01-01
        mailferry archive verify ~/mail-archive
      """,
    positionals: [
      .init(name: "ACTION", help: "list, search, verify or reindex", choices: ["list", "search", "verify", "reindex"]),
      .init(name: "DIR", help: "The archive directory."),
    ],
    options: [
      .init(name: "message-id", valueName: "ID", help: "search: the message with this Message-ID."),
      .init(name: "from", valueName: "TEXT", help: "search: From address contains TEXT (any case)."),
      .init(name: "subject", valueName: "TEXT", help: "search: Subject contains TEXT (any case)."),
      .init(name: "since", valueName: "DATE", help: "search: received on or after DATE (YYYY-MM-DD)."),
      .init(name: "before", valueName: "DATE", help: "search: received before DATE (YYYY-MM-DD)."),
      .init(name: "folder", valueName: "NAME", help: "search: only in folder NAME."),
    ])

  func run(_ arguments: ParsedArguments, console: Console) throws -> ExitCode {
    let action = arguments.positionals[0]
    guard case .archive(let path) = try JobEndpoint.parse(arguments.positionals[1]) else {
      throw UsageError(command: Self.spec.name, message: "DIR must be an archive directory")
    }
    // Only search takes options; the other actions refuse them rather than ignore them.
    if action != "search" { try arguments.checkAllApply(to: "archive \(action)") }
    switch action {
    case "list", "search", "verify":
      let locks = try Archive.lock(path: path, purpose: "archive \(action)", mode: .reading)
      defer { locks.forEach { $0.release() } }
      let archive = try Archive(path: path, create: false)
      if action == "list" { return try list(archive, console: console) }
      if action == "search" { return try search(archive, arguments: arguments, console: console) }
      return try verify(archive, console: console)
    case "reindex": return try reindex(path: path, console: console)
    default:
      let suggestion = ParsedArguments.closest(to: action, among: ["list", "search", "verify", "reindex"])
      throw UsageError(
        command: Self.spec.name,
        message: "unknown action '\(action)'" + (suggestion.map { ". Did you mean '\($0)'?" } ?? ""))
    }
  }

  private func list(_ archive: Archive, console: Console) throws -> ExitCode {
    console.print(
      "MESSAGES".leftPadded(8) + "  " + "SIZE".leftPadded(10) + "  " + "STORED".leftPadded(10) + "  "
        + "OLDEST".leftPadded(10) + "  " + "NEWEST".leftPadded(10) + "  FOLDER")
    var totals = (messages: 0, bytes: 0, stored: 0)
    for folder in try archive.summaries() {
      totals.messages += folder.messages
      totals.bytes += folder.bytes
      totals.stored += folder.storedBytes
      console.print(
        String(folder.messages).leftPadded(8) + "  " + ByteCountText.human(UInt64(folder.bytes)).leftPadded(10) + "  "
          + ByteCountText.human(UInt64(folder.storedBytes)).leftPadded(10) + "  "
          + (folder.oldest.map(Self.day) ?? "-").leftPadded(10) + "  "
          + (folder.newest.map(Self.day) ?? "-").leftPadded(10) + "  " + folder.name
          + (folder.specialUse.map { " (\($0))" } ?? ""))
    }
    console.print(
      String(totals.messages).leftPadded(8) + "  " + ByteCountText.human(UInt64(totals.bytes)).leftPadded(10) + "  "
        + ByteCountText.human(UInt64(totals.stored)).leftPadded(10) + "  " + "".leftPadded(10) + "  "
        + "".leftPadded(10) + "  total")
    return .success
  }

  private func search(_ archive: Archive, arguments: ParsedArguments, console: Console) throws -> ExitCode {
    var query = ArchiveQuery()
    query.messageID = arguments.value("message-id")
    query.from = arguments.value("from")
    query.subject = arguments.value("subject")
    query.folder = arguments.value("folder")
    query.since = try arguments.value("since").map {
      try MigrateCommand.date($0, option: "since", command: Self.spec.name)
    }
    query.before = try arguments.value("before").map {
      try MigrateCommand.date($0, option: "before", command: Self.spec.name)
    }
    try arguments.checkAllApply(to: "archive search")
    let found = try archive.search(query)
    for message in found {
      console.print(
        [
          message.folder, "UID \(message.uid)", message.internalDate.map(Self.day) ?? "-", message.from ?? "-",
          message.subject ?? "-", message.messageID.map { "<\($0)>" } ?? "-",
        ].joined(separator: "\t"))
    }
    console.status("\(found.count) message(s)")
    return .success
  }

  private func verify(_ archive: Archive, console: Console) throws -> ExitCode {
    let result = try archive.verify()
    for note in result.notes { console.status("note: \(note)") }
    for problem in result.problems { console.error(problem) }
    console.status(
      "checked \(result.messages) message(s) in \(result.folders) folder(s): \(result.blobs) stored once, "
        + "\(ByteCountText.human(UInt64(result.bytes))) decompressed from \(result.files) data file(s); "
        + (result.isIntact ? "no damage found" : "\(result.problems.count) problem(s)"))
    if !result.isIntact {
      console.hint(
        "restore and export move everything else and report the damaged messages; "
          + "'mailferry archive reindex DIR' leaves them out of the index (their manifest lines stay)")
      return .dataError
    }
    return .success
  }

  private func reindex(path: String, console: Console) throws -> ExitCode {
    let locks = try Archive.lock(path: path, purpose: "archive reindex", mode: .rebuilding)
    defer { locks.forEach { $0.release() } }
    let report = try ArchiveReindexer.reindex(path: path)
    for note in report.notes { console.status("note: \(note)") }
    console.status(
      "indexed \(report.messages) message(s) (\(report.blobs) stored once) in \(report.folders) folder(s) "
        + "from \(report.files) data file(s)")
    return .success
  }

  /// YYYY-MM-DD (UTC).
  static func day(_ seconds: Int64) -> String {
    let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
    let (year, month, day) = CivilDate.civil(fromDays: days)
    return "\(year)-\(month < 10 ? "0" : "")\(month)-\(day < 10 ? "0" : "")\(day)"
  }
}
