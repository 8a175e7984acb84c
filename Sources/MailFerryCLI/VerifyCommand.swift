import Engine
import Foundation

/// `mailferry verify SOURCE TARGET`: does the target hold every source message?
struct VerifyCommand: Subcommand {
  static let spec = CommandSpec(
    name: "verify", summary: "Compare two accounts folder by folder: content, flags and dates.",
    discussion: """
      Maps folders as migrate does, then compares the messages of each folder by the SHA-256
      of their content (line endings normalised), copy for copy, and their flags and
      INTERNALDATE. Exits 1 when a source message is missing in the target.

      Example:
        mailferry verify imaps://alice@imap.old.example imaps://alice@imap.new.example
      """,
    positionals: [
      .init(name: "SOURCE", help: "imaps://user@host[:port][/FOLDER]"),
      .init(name: "TARGET", help: "imaps://user@host[:port]"),
    ],
    options: TwoServers.options + [
      .init(
        name: "include", valueName: "REGEX", help: "Only folders whose name matches (repeatable).", repeatable: true),
      .init(
        name: "exclude", valueName: "REGEX", help: "Skip folders whose name matches (repeatable).", repeatable: true),
      .init(
        name: "folder-map", valueName: "OLD=NEW", help: "Source folder OLD was copied to NEW (repeatable).",
        repeatable: true),
    ])

  func run(_ arguments: ParsedArguments, console: Console) throws -> ExitCode {
    let servers = try TwoServers(arguments, command: Self.spec.name, console: console)
    let options = try MigrateCommand.options(arguments, sourceFolder: servers.source.folder, command: Self.spec.name)
    guard let connectSource = servers.connectSourceIMAP, let connectTarget = servers.connectTargetIMAP else {
      throw ConfigurationError(
        what: "verify", problem: "compares two IMAP accounts; a POP3 maildrop or a delivery cannot be listed by folder",
        fix: "give imap:// or imaps:// URLs on both sides")
    }
    let comparisons = try Verification(source: connectSource, target: connectTarget, options: options)
      .run()
    console.print(
      "SOURCE".leftPadded(8) + "  " + "TARGET".leftPadded(8) + "  " + "MISSING".leftPadded(8) + "  "
        + "EXTRA".leftPadded(6) + "  " + "FLAGS≠".leftPadded(6) + "  " + "DATES≠".leftPadded(6) + "  FOLDER")
    for folder in comparisons {
      console.print(
        String(folder.sourceCount).leftPadded(8) + "  " + String(folder.targetCount).leftPadded(8) + "  "
          + String(folder.missing).leftPadded(8) + "  " + String(folder.extra).leftPadded(6) + "  "
          + String(folder.flagDifferences).leftPadded(6) + "  " + String(folder.dateDifferences).leftPadded(6) + "  "
          + folder.source + (folder.source == folder.target ? "" : " → \(folder.target)"))
    }
    let missing = comparisons.reduce(0) { $0 + $1.missing }
    for folder in comparisons where !folder.matches {
      console.error(
        "\(folder.source): \(folder.error ?? "\(folder.missing) message(s) missing in \(folder.target)")")
    }
    if missing > 0 {
      console.hint("run migrate again to copy what is missing")
      return .failure
    }
    return .success
  }
}
