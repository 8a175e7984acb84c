import Foundation
import Testing

@testable import MailFerryCLI

/// The man page and the shell completions are made from the command specs: they name every
/// command and option, and bash completes with them.
@Suite struct ManualAndCompletionTests {
  static let commands = MailFerryCommandLine.commands.map { $0.spec }

  @Test func theManualHasEveryCommandAndOptionAndOnlyKnownRequests() {
    let page = CapturedRun(["help", "--man"])
    #expect(page.status == .success)
    #expect(page.out.hasPrefix(".TH MAILFERRY 1 "))
    #expect(page.out.contains(MailFerryCommandLine.version))
    for command in Self.commands {
      #expect(page.out.contains(".SS \"mailferry \(ManualPage.escape(command.name))"), "\(command.name)")
      for option in command.options {
        #expect(page.out.contains("\\fB\(ManualPage.escape("--" + option.name))\\fR"), "--\(option.name)")
      }
    }
    let requests: Set<String> = [".TH", ".nh", ".ad", ".SH", ".SS", ".PP", ".TP", ".nf", ".fi", ".B", ".I", ".br"]
    for line in page.out.split(separator: "\n") where line.hasPrefix(".") || line.hasPrefix("'") {
      #expect(requests.contains(String(line.prefix { $0 != " " })), "text read as a request: \(line)")
    }
    #expect(page.out.unicodeScalars.allSatisfy { $0.isASCII }, "groff reads its input as Latin-1")
  }

  @Test func roffEscapesWhatItWouldOtherwiseRead() {
    #expect(ManualPage.escape(".hidden") == "\\&.hidden")
    #expect(ManualPage.escape("a\\b") == "a\\eb")
    #expect(ManualPage.escape("--ca-file") == "\\-\\-ca\\-file")
    #expect(ManualPage.escape("A → B") == "A \\[u2192] B")
  }

  @Test func bashCompletesCommandsOptionsAndValues() throws {
    #expect(try complete(["mailferry", "mig"]) == ["migrate"])
    #expect(try complete(["mailferry", "migrate", "--source-password-f"]) == ["--source-password-file"])
    #expect(try complete(["mailferry", "backup", "--rc"]) == [], "backup's target is never SMTP")
    #expect(try complete(["mailferry", "migrate", "--rc"]) == ["--rcpt"])
    #expect(try complete(["mailferry", "migrate", "--dedup", ""]) == ["hash", "message-id", "none"])
    #expect(try complete(["mailferry", "archive", "re"]) == ["reindex"])
    let all = try complete(["mailferry", "plan", "--"])
    #expect(Set(all) == Set((PlanCommand.spec.options + [HelpText.helpOption]).map { "--" + $0.name }))
  }

  @Test func zshCompletionsHaveEveryCommandAndOption() {
    let script = CapturedRun(["completions", "zsh"]).out
    #expect(script.hasPrefix("#compdef mailferry\n"))
    for command in Self.commands {
      #expect(script.contains("  (\(command.name))\n"))
    }
    #expect(script.contains("'*--rcpt=[SMTP/LMTP target\\: deliver every message to ADDRESS (repeatable).]:ADDRESS: '"))
    #expect(CapturedRun(["completions", "fish"]).status == .usage)
  }

  /// What bash offers for the last of `words` with the script `completions bash` prints.
  func complete(_ words: [String]) throws -> [String] {
    let script = CapturedRun(["completions", "bash"]).out
    let file = NSTemporaryDirectory() + "mailferry-completion-\(UUID().uuidString).bash"
    try Data(script.utf8).write(to: URL(fileURLWithPath: file))
    defer { try? FileManager.default.removeItem(atPath: file) }
    let quotedWords = words.map { "'\($0)'" }.joined(separator: " ")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [
      "-c",
      "source '\(file)'; COMP_WORDS=(\(quotedWords)); COMP_CWORD=\(words.count - 1); _mailferry; "
        + "printf '%s\\n' \"${COMPREPLY[@]}\"",
    ]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
  }
}
