/// The man page, mailferry(1), in roff with the man macros: the overview, then every
/// command with its summary, discussion, arguments and options, all from the same specs and
/// text `--help` prints (`mailferry help --man`; `make install` writes it to
/// share/man/man1/mailferry.1).
enum ManualPage {
  static func render(_ commands: [CommandSpec], version: String) -> String {
    var lines = [
      ".TH MAILFERRY 1 \"\" \"mailferry \(version)\" \"User Commands\"",
      // No hyphenation, ragged right: option names and variables stay whole.
      ".nh",
      ".ad l",
      ".SH NAME",
      "mailferry \\- " + escape(HelpText.tagline),
      ".SH SYNOPSIS",
      ".B mailferry",
      ".I command",
      "[\\fIoptions\\fR]",
      ".br",
      ".B mailferry",
      ".I command",
      "\\fB\\-\\-help\\fR",
      ".br",
      ".B mailferry",
      "\\fB\\-\\-help\\fR | \\fB\\-\\-version\\fR",
      ".SH DESCRIPTION",
    ]
    lines += text(HelpText.description)
    lines.append(".SH OPTIONS")
    lines += HelpText.globalOptions.flatMap(option)
    lines.append(".SH COMMANDS")
    for command in commands {
      lines.append(".SS \"" + escape(HelpText.usageLine(command).dropFirst("Usage: ".count)) + "\"")
      lines += text(command.summary)
      if !command.discussion.isEmpty { lines += text(command.discussion) }
      if !command.positionals.isEmpty {
        lines += [".PP", "Arguments:"]
        for positional in command.positionals {
          lines += [".TP", "\\fI\(escape(positional.name))\\fR", escape(positional.help)]
        }
      }
      lines += [".PP", "Options:"]
      lines += (command.options + [HelpText.helpOption]).flatMap(option)
    }
    lines.append(".SH \"EXIT STATUS\"")
    for code in ExitCode.allCases {
      lines += [".TP", "\\fB\(code.rawValue)\\fR", escape(code.meaning)]
    }
    return lines.joined(separator: "\n")
  }

  /// A tagged paragraph: the option in bold, its value in italics, then its description.
  static func option(_ option: CommandSpec.Option) -> [String] {
    [
      ".TP",
      "\\fB\(escape("--" + option.name))\\fR" + (option.valueName.map { " \\fI\(escape($0))\\fR" } ?? ""),
      escape(option.help),
    ]
  }

  /// Paragraphs separated by blank lines: filled, or kept line for line when any of their
  /// lines is indented (examples, aligned lists).
  static func text(_ text: String) -> [String] {
    var lines: [String] = []
    for block in text.components(separatedBy: "\n\n") where !block.isEmpty {
      let blockLines = block.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
      lines.append(".PP")
      if blockLines.contains(where: { $0.hasPrefix(" ") }) {
        lines.append(".nf")
        lines += blockLines.map(escape)
        lines.append(".fi")
      } else {
        lines += blockLines.map(escape)
      }
    }
    return lines
  }

  /// Text as roff reads it literally: backslashes and hyphens escaped, characters beyond
  /// ASCII as `\[uXXXX]` (groff reads its input as Latin-1), and a leading `.` or `'`
  /// kept from being read as a request.
  static func escape<Text: StringProtocol>(_ text: Text) -> String {
    var result = ""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\\": result += "\\e"
      case "-": result += "\\-"
      case _ where scalar.value > 0x7E || (scalar.value < 0x20 && scalar != "\t"):
        let hex = String(scalar.value, radix: 16, uppercase: true)
        result += "\\[u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex + "]"
      default: result.unicodeScalars.append(scalar)
      }
    }
    if result.hasPrefix(".") || result.hasPrefix("'") { result = "\\&" + result }
    return result
  }
}
