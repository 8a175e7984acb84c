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
    lines += [
      "",
      "OPTIONS:",
      "  --help      Show help (also: mailferry <command> --help).",
      "  --version   Show the version.",
      "",
      "See 'mailferry <command> --help' for the options of a command.",
    ]
    return lines.joined(separator: "\n")
  }

  static func usageLine(_ spec: CommandSpec) -> String {
    let positionals = spec.positionals.map { $0.optional ? "[\($0.name)]" : "<\($0.name)>" }
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
        lines.append("  " + positional.name.padding(toLength: 26, withPad: " ", startingAt: 0) + positional.help)
      }
    }
    lines += ["", "OPTIONS:"]
    for option in spec.options + [.init(name: "help", valueName: nil, help: "Show this help.")] {
      let left = "--\(option.name)" + (option.valueName.map { " <\($0)>" } ?? "")
      lines.append("  " + left.padding(toLength: 26, withPad: " ", startingAt: 0) + option.help)
    }
    return lines.joined(separator: "\n")
  }
}
