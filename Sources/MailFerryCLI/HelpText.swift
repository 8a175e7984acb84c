/// Help in the layout Swift command-line users know: OVERVIEW, USAGE, ARGUMENTS, OPTIONS.
enum HelpText {
  static func overview(_ commands: [CommandSpec], version: String) -> String {
    var lines = [
      "OVERVIEW: mailferry \(version): move mail between accounts and keep it safe.",
      "",
      "Copies IMAP and POP3 accounts to other servers or to compressed archives, resumably",
      "and exactly once. Passwords come from MAILFERRY_PASSWORD, --password-file,",
      "--password-command or a prompt; never from the command line.",
      "",
      "USAGE: mailferry <command> [options]",
      "",
      "COMMANDS:",
    ]
    for command in commands {
      lines.append("  " + command.name.padding(toLength: 12, withPad: " ", startingAt: 0) + command.summary)
    }
    if commands.isEmpty { lines.append("  (none yet)") }
    lines +=
      [
        "",
        "OPTIONS:",
        "  --help      Show help (also: mailferry <command> --help).",
        "  --version   Show the version.",
        "",
      ] + ExitCode.helpLines + [
        "",
        "See 'mailferry <command> --help' for the options of a command.",
      ]
    return lines.joined(separator: "\n")
  }

  static func usageLine(_ spec: CommandSpec) -> String {
    let positionals = spec.positionals.map {
      ($0.optional ? "[\($0.name)]" : "<\($0.name)>") + ($0.repeats ? "…" : "")
    }
    return (["Usage: mailferry", spec.name] + positionals + (spec.options.isEmpty ? [] : ["[options]"]))
      .joined(separator: " ")
  }

  static func render(_ spec: CommandSpec) -> String {
    var lines = ["OVERVIEW: \(spec.summary)", ""]
    if !spec.discussion.isEmpty { lines += [spec.discussion, ""] }
    lines.append("USAGE: " + usageLine(spec).dropFirst("Usage: ".count))
    if !spec.positionals.isEmpty {
      lines += ["", "ARGUMENTS:"]
      for positional in spec.positionals {
        lines += entry(positional.name, positional.help)
      }
    }
    lines += ["", "OPTIONS:"]
    for option in spec.options + [.init(name: "help", valueName: nil, help: "Show this help.")] {
      lines += entry("--\(option.name)" + (option.valueName.map { " <\($0)>" } ?? ""), option.help)
    }
    return lines.joined(separator: "\n")
  }

  /// The column descriptions start at, and the width they are wrapped to.
  static let descriptionColumn = 30
  static let width = 100

  /// `name` and its description: on one line when the name fits before the description
  /// column, else the description starts on the next line; long descriptions wrap there.
  static func entry(_ name: String, _ help: String) -> [String] {
    let indent = String(repeating: " ", count: descriptionColumn)
    var words = help.split(separator: " ").map(String.init)
    var lines: [String] = []
    var current = "  " + name
    if current.count + 1 > descriptionColumn {
      lines.append(current)
      current = indent
    } else {
      current = current.padding(toLength: descriptionColumn, withPad: " ", startingAt: 0)
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
