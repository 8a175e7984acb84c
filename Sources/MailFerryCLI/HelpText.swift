import Foundation

/// Help in the layout Swift command-line users know: OVERVIEW, USAGE, ARGUMENTS, OPTIONS.
/// The man page (`ManualPage`) and the shell completions are made from the same text.
enum HelpText {
  /// What mailferry is, in a few words (the man page's NAME line).
  static let tagline = "move mail between accounts and keep it safe"

  /// The paragraph under the overview's first line.
  static let description = """
    Copies IMAP and POP3 accounts to other servers or to compressed archives, resumably
    and exactly once. Passwords come from MAILFERRY_PASSWORD, --password-file,
    --password-command or a prompt; never from the command line.
    """

  /// The options of `mailferry` itself, without a command.
  static let globalOptions: [CommandSpec.Option] = [
    .init(name: "help", valueName: nil, help: "Show help (also: mailferry <command> --help)."),
    .init(name: "version", valueName: nil, help: "Show the version (also: -V)."),
  ]

  /// The `--help` every command takes.
  static let helpOption = CommandSpec.Option(name: "help", valueName: nil, help: "Show this help.")

  static func overview(_ commands: [CommandSpec], version: String, width: Int = HelpText.width) -> String {
    var lines = [
      "OVERVIEW: mailferry \(version): \(tagline).", "", description, "", "USAGE: mailferry <command> [options]",
    ]
    lines += ["", "COMMANDS:"]
    for command in commands {
      lines += entry(command.name, command.summary, column: commandColumn, width: width)
    }
    if commands.isEmpty { lines.append("  (none yet)") }
    lines += ["", "OPTIONS:"]
    for option in globalOptions {
      lines += entry("--\(option.name)", option.help, column: commandColumn, width: width)
    }
    lines += [""] + ExitCode.helpLines
    lines += ["", "See 'mailferry <command> --help' for the options of a command."]
    return lines.joined(separator: "\n")
  }

  static func usageLine(_ spec: CommandSpec) -> String {
    let positionals = spec.positionals.map {
      ($0.optional ? "[\($0.name)]" : "<\($0.name)>") + ($0.repeats ? "…" : "")
    }
    return (["Usage: mailferry", spec.name] + positionals + (spec.options.isEmpty ? [] : ["[options]"]))
      .joined(separator: " ")
  }

  /// `--name <VALUE>` as help and the man page show an option.
  static func optionLabel(_ option: CommandSpec.Option) -> String {
    "--\(option.name)" + (option.valueName.map { " <\($0)>" } ?? "")
  }

  static func render(_ spec: CommandSpec, width: Int = HelpText.width) -> String {
    var lines = ["OVERVIEW: \(spec.summary)", ""]
    if !spec.discussion.isEmpty { lines += [spec.discussion, ""] }
    lines.append("USAGE: " + usageLine(spec).dropFirst("Usage: ".count))
    if !spec.positionals.isEmpty {
      lines += ["", "ARGUMENTS:"]
      for positional in spec.positionals {
        lines += entry(positional.name, positional.help, width: width)
      }
    }
    lines += ["", "OPTIONS:"]
    for option in spec.options + [helpOption] {
      lines += entry(optionLabel(option), option.help, width: width)
    }
    return lines.joined(separator: "\n")
  }

  /// The column descriptions start at, and the width they are wrapped to.
  static let descriptionColumn = 30
  static let commandColumn = 16
  static let width = 100

  /// The width help is wrapped to on this terminal: `COLUMNS` when set, else the width of
  /// the terminal on standard output, kept between 60 and `width`; `width` when neither
  /// says (a pipe, a file).
  static func terminalWidth(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int {
    var columns = environment["COLUMNS"].flatMap { Int($0) }
    var size = winsize()
    if columns == nil, isatty(STDOUT_FILENO) == 1, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 {
      columns = Int(size.ws_col)
    }
    return min(max(columns ?? width, 60), width)
  }

  /// `name` and its description: on one line when the name fits before the description
  /// column, else the description starts on the next line; long descriptions wrap there.
  static func entry(
    _ name: String, _ help: String, column: Int = descriptionColumn, width: Int = HelpText.width
  ) -> [String] {
    let indent = String(repeating: " ", count: column)
    var words = help.split(separator: " ").map(String.init)
    var lines: [String] = []
    var current = "  " + name
    if current.count + 1 > column {
      lines.append(current)
      current = indent
    } else {
      current = current.padding(toLength: column, withPad: " ", startingAt: 0)
    }
    var empty = true
    while !words.isEmpty {
      let word = words.removeFirst()
      if !empty && current.count + 1 + word.count > width {
        lines.append(current)
        current = indent
        empty = true
      }
      current += (empty ? "" : " ") + word
      empty = false
    }
    lines.append(current)
    return lines
  }
}
