import Testing

@testable import MailFerryCLI

/// Help lines up at any width it is rendered at: an option or argument name never runs into
/// the column its description starts at, and descriptions wrap within the width.
@Suite struct HelpLayoutTests {
  static let widths = [80, HelpText.width]

  @Test(arguments: widths) func optionNamesNeverOverrunTheirDescriptionColumn(width: Int) {
    for command in MailFerryCommandLine.commands.map({ $0.spec }) {
      let help = HelpText.render(command, width: width)
      let table = help.components(separatedBy: "\nUSAGE: ").last ?? ""
      let entries =
        command.positionals.map { ($0.name, $0.help) }
        + (command.options + [HelpText.helpOption]).map { (HelpText.optionLabel($0), $0.help) }
      for (name, description) in entries {
        check(name, description, in: table, column: HelpText.descriptionColumn, width: width, what: command.name)
      }
    }
  }

  @Test(arguments: widths) func commandNamesNeverOverrunTheirSummaryColumn(width: Int) {
    let commands = MailFerryCommandLine.commands.map { $0.spec }
    let overview = HelpText.overview(commands, version: "1.0", width: width)
    let table = overview.components(separatedBy: "\nCOMMANDS:\n").last ?? ""
    for command in commands {
      check(command.name, command.summary, in: table, column: HelpText.commandColumn, width: width, what: "overview")
    }
  }

  @Test func theWidthFollowsColumnsWithinBounds() {
    #expect(HelpText.terminalWidth(environment: ["COLUMNS": "80"]) == 80)
    #expect(HelpText.terminalWidth(environment: ["COLUMNS": "20"]) == 60)
    #expect(HelpText.terminalWidth(environment: ["COLUMNS": "250"]) == HelpText.width)
  }

  /// `name`'s entry in `table`: the name alone on its line, or followed by the start of its
  /// description exactly at `column`; every line of the description starts at `column` and
  /// ends within `width`, and together they give the whole description.
  func check(_ name: String, _ description: String, in table: String, column: Int, width: Int, what: String) {
    let lines = table.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    guard let start = lines.firstIndex(where: { $0 == "  " + name || $0.hasPrefix("  " + name + " ") }) else {
      Issue.record("\(what): no line for \(name) at width \(width)")
      return
    }
    let indent = String(repeating: " ", count: column)
    var words: [String] = []
    let first = lines[start]
    if first != "  " + name {
      #expect(first.count > column, "\(what): \(name) has nothing after it at width \(width)")
      let beforeColumn = first.prefix(column)
      #expect(
        beforeColumn.hasPrefix("  " + name + " ") && beforeColumn.dropFirst(2 + name.count).allSatisfy { $0 == " " },
        "\(what): \(name) runs into its description column at width \(width): \(first)")
      #expect(first.dropFirst(column).first != " ", "\(what): \(name)'s description starts late: \(first)")
      words += first.dropFirst(column).split(separator: " ").map(String.init)
    }
    #expect(first.count <= width || !first.dropFirst(2).contains(" "), "\(what): \(first) is wider than \(width)")
    var index = start + 1
    while index < lines.count, lines[index].hasPrefix(indent), lines[index].dropFirst(column).first != " " {
      let line = lines[index]
      #expect(line.count <= width || !line.dropFirst(column).contains(" "), "\(what): \(line) is wider than \(width)")
      words += line.dropFirst(column).split(separator: " ").map(String.init)
      index += 1
    }
    #expect(words == description.split(separator: " ").map(String.init), "\(what): \(name)'s description is cut")
  }
}
