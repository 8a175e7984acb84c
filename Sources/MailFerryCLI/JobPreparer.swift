import Foundation
import MailCore

/// A job of a job file made ready to run: the command line it stands for (run in process
/// through `MailFerryCommandLine.run`, so it behaves exactly as typed) and the passwords
/// the file supplies.
struct PreparedJob {
  let name: String
  let command: String
  let source: String
  let target: String
  /// The words after `mailferry`: the command, its two stores, then `--option=value` in
  /// file order. No secret is among them.
  let arguments: [String]
  /// `MAILFERRY_…PASSWORD` name → password, for `JobSecrets`.
  let passwords: [String: String]
  /// The `state` key, if given (else the command's default).
  let state: String?
}

/// Gives a parsed job its meaning: which command, which stores, which options, where the
/// passwords come from; and checks all that can be checked without connecting.
struct JobPreparer {
  /// `check` warns about a password variable this shell lacks (cron or systemd may set
  /// it); `run` refuses to start without it.
  enum Purpose { case check, run }

  /// The commands a job may run, with the keys that name their two stores.
  static let commands: [String: (first: String, second: String)] = [
    "migrate": ("source", "target"), "backup": ("source", "archive"), "restore": ("archive", "target"),
  ]
  static let storeKeys: Set<String> = ["source", "target", "archive"]
  /// Keys that exist only in job files: a password written inline, or the name of a
  /// variable that holds it.
  static let passwordKeys = ["password", "source-password", "target-password"]
  static let passwordVariableKeys = ["password-env", "source-password-env", "target-password-env"]
  /// Option values that name a file which must exist before the job runs.
  static let inputFileOptions: Set<String> = [
    "password-file", "source-password-file", "target-password-file", "ca-file", "source-ca-file", "target-ca-file",
    "folder-map-file",
  ]

  let file: JobFile
  let purpose: Purpose
  var environment: [String: String] = ProcessInfo.processInfo.environment

  /// Whether the job file may hold passwords: only its owner can read or write it.
  var fileIsPrivate: Bool {
    var info = stat()
    guard stat(file.path, &info) == 0 else { return false }
    return info.st_uid == geteuid() && info.st_mode & 0o077 == 0
  }

  var fileMode: String {
    var info = stat()
    guard stat(file.path, &info) == 0 else { return "unknown" }
    return "0" + String(info.st_mode & 0o777, radix: 8)
  }

  /// The job ready to run, or nil; `problems` gets every error and warning found.
  func prepare(_ job: JobFile.Job, problems: inout [JobFileProblem]) -> PreparedJob? {
    let errorsBefore = problems.filter { !$0.isWarning }.count
    func problem(_ line: Int, _ message: String, hint: String? = nil, warning: Bool = false) {
      problems.append(
        JobFileProblem(
          path: file.path, line: line, message: "job '\(job.name)': \(message)", hint: hint, isWarning: warning))
    }
    let commandNames = Self.commands.keys.sorted()
    let commandEntries = job.entries("command")
    guard let commandEntry = commandEntries.last else {
      problem(job.line, "no command", hint: "add 'command = \(commandNames.joined(separator: " | "))'")
      return nil
    }
    if commandEntries.count > 1 {
      problem(
        commandEntry.line, "'command' is given more than once (also line \(commandEntries[0].line))",
        hint: "a job runs one command; make another [job NAME] for the other")
      return nil
    }
    guard let commandName = commandEntry.value, let stores = Self.commands[commandName],
      let subcommand = MailFerryCommandLine.commands.first(where: { $0.spec.name == commandName })
    else {
      let given = commandEntry.value ?? ""
      let suggestion = ParsedArguments.closest(to: given, among: commandNames)
      problem(
        commandEntry.line, "unknown command '\(given)'" + (suggestion.map { ". Did you mean '\($0)'?" } ?? ""),
        hint: "a job runs one of: \(commandNames.joined(separator: ", "))")
      return nil
    }
    let spec = subcommand.spec
    var storeValues: [String: String] = [:]
    for key in [stores.first, stores.second] {
      let entries = job.entries(key)
      guard let entry = entries.last, let value = entry.value, !value.isEmpty else {
        problem(job.line, "no \(key)", hint: "add '\(key) = \(Self.example(of: key, in: commandName))'")
        continue
      }
      if entries.count > 1 {
        problem(entry.line, "'\(key)' is given more than once (also line \(entries[0].line))", hint: "keep one of them")
      }
      storeValues[key] = value
    }
    var arguments: [String] = []
    var passwords: [String: String] = [:]
    var lineOf: [String: Int] = [:]
    var seen: [String: Int] = [:]
    let knownKeys =
      ["command"] + Array(Self.storeKeys) + Self.passwordKeys + Self.passwordVariableKeys
      + spec.options.map(\.name)
    var credentialOf: [String: JobFile.Entry] = [:]
    for entry in job.entries where entry.key != "command" {
      if let side = Self.credentialSide(of: entry.key, command: commandName) {
        if let earlier = credentialOf[side] {
          problem(
            entry.line, "'\(entry.key)' and '\(earlier.key)' (line \(earlier.line)) both give the \(side)'s password",
            hint: "keep one of them")
          continue
        }
        credentialOf[side] = entry
      }
      if Self.storeKeys.contains(entry.key) {
        if entry.key != stores.first && entry.key != stores.second {
          problem(
            entry.line, "'\(entry.key)' does not apply to a \(commandName) job",
            hint: "a \(commandName) job takes '\(stores.first)' and '\(stores.second)'")
        }
        continue
      }
      if let earlier = seen[entry.key], spec.option(named: entry.key)?.repeatable != true {
        problem(entry.line, "'\(entry.key)' is given more than once (also line \(earlier))", hint: "keep one of them")
        continue
      }
      seen[entry.key] = entry.line
      lineOf[entry.key] = entry.line
      if Self.passwordKeys.contains(entry.key) || Self.passwordVariableKeys.contains(entry.key) {
        if let (variable, secret) = password(
          entry, command: commandName, report: { problem($0, $1, hint: $2, warning: $3) })
        {
          passwords[variable] = secret
        }
        continue
      }
      guard let option = spec.option(named: entry.key) else {
        let suggestion = ParsedArguments.closest(to: entry.key, among: knownKeys)
        problem(
          entry.line, "unknown key '\(entry.key)'" + (suggestion.map { ". Did you mean '\($0)'?" } ?? ""),
          hint: "keys are the long options of 'mailferry \(commandName) --help', without the dashes")
        continue
      }
      if let valueName = option.valueName {
        guard let value = entry.value, !value.isEmpty else {
          problem(entry.line, "'\(entry.key)' needs a value (\(valueName))")
          continue
        }
        if Self.inputFileOptions.contains(entry.key) {
          let path = (value as NSString).expandingTildeInPath
          if !FileManager.default.isReadableFile(atPath: path) {
            problem(
              entry.line,
              "\(entry.key) \(value) "
                + (FileManager.default.fileExists(atPath: path)
                  ? "cannot be read" : "does not exist"),
              hint: "check the path (write it absolute: cron starts in $HOME)")
          }
        }
        arguments.append("--\(entry.key)=\(value)")
      } else {
        switch entry.value?.lowercased() {
        case nil, "yes", "true": arguments.append("--\(entry.key)")
        case "no", "false": break
        case let other?:
          problem(
            entry.line, "'\(entry.key)' is a switch: write 'yes' or 'no', not '\(other)'",
            hint: "a switch alone on its line ('\(entry.key)') means yes")
        }
      }
    }
    guard problems.filter({ !$0.isWarning }).count == errorsBefore,
      let first = storeValues[stores.first], let second = storeValues[stores.second]
    else { return nil }
    lineOf[stores.first] = job.entries(stores.first).last?.line
    lineOf[stores.second] = job.entries(stores.second).last?.line
    let argv = [commandName, first, second] + arguments
    let helpHint = "'mailferry \(commandName) --help' lists the options and their values"
    do {
      try validate(argv, spec: spec, stores: stores, values: (first, second))
    } catch let error as StoreProblem {
      problem(lineOf[error.key] ?? job.line, error.message, hint: error.hint ?? helpHint)
      return nil
    } catch let error as UsageError {
      problem(Self.line(naming: error.message, in: lineOf) ?? job.line, error.message, hint: helpHint)
      return nil
    } catch let error as any UserFacingError {
      problem(
        Self.line(naming: error.description, in: lineOf) ?? job.line, error.description, hint: error.hint ?? helpHint)
      return nil
    } catch {
      problem(job.line, String(describing: error))
      return nil
    }
    return PreparedJob(
      name: job.name, command: commandName, source: first,
      target: second, arguments: argv, passwords: passwords, state: job.entries("state").last?.value)
  }

  /// A job-file password key (`password`, `source-password-env`, …): the variable it stands
  /// for and the password, or nil after reporting (line, message, hint, is a warning) why not.
  private func password(
    _ entry: JobFile.Entry, command: String, report: (Int, String, String?, Bool) -> Void
  ) -> (variable: String, secret: String)? {
    guard let value = entry.value, !value.isEmpty else {
      report(entry.line, "'\(entry.key)' needs a value", nil, false)
      return nil
    }
    guard let variable = Self.variable(for: entry.key, command: command) else {
      report(
        entry.line, "'\(entry.key)' does not say which server (a \(command) job has two)",
        "write 'source-\(entry.key)' or 'target-\(entry.key)'", false)
      return nil
    }
    if let server = Self.soleServerSide[command], !variable.contains(server.uppercased()) {
      report(
        entry.line,
        "'\(entry.key)' is for a server this job does not have (a \(command) job's \(server) is the server)",
        "write '\(entry.key.replacingOccurrences(of: "source-", with: "").replacingOccurrences(of: "target-", with: ""))'",
        false)
      return nil
    }
    guard Self.passwordVariableKeys.contains(entry.key) else {
      guard fileIsPrivate else {
        report(
          entry.line, "a password is written in a file others can read (mode \(fileMode))",
          "keep it in a file of its own ('\(entry.key)-file = FILE'), or run: chmod 600 \(file.path)", false)
        return nil
      }
      report(
        entry.line, "the password is written in the job file",
        "'\(entry.key)-file = FILE' or '\(entry.key)-command = CMD' keep it out of it", true)
      return (variable, value)
    }
    guard let secret = environment[value], !secret.isEmpty else {
      report(
        entry.line, "the variable \(value) is not set" + (purpose == .check ? " here" : ""),
        "set \(value) in the environment the job runs in (cron line, systemd Environment= or EnvironmentFile=)",
        purpose == .check)
      return nil
    }
    JobSecrets.hide([value])
    return (variable, secret)
  }

  /// The side of the one server of a job whose other store is an archive.
  static let soleServerSide = ["backup": "source", "restore": "target"]

  /// The variable a password key stands for; nil when the job has two servers and the key
  /// names neither.
  static func variable(for key: String, command: String) -> String? {
    if key.hasPrefix("source-") { return "MAILFERRY_SOURCE_PASSWORD" }
    if key.hasPrefix("target-") { return "MAILFERRY_TARGET_PASSWORD" }
    switch command {
    case "backup": return "MAILFERRY_SOURCE_PASSWORD"
    case "restore": return "MAILFERRY_TARGET_PASSWORD"
    default: return nil
    }
  }

  /// The keys that say where a server's password or token comes from, without the side.
  static let credentialKeys = ["password-file", "password-command", "password-env", "password", "oauth-token-command"]

  /// The server (`source`, `target`) a credential key is for; nil for other keys.
  static func credentialSide(of key: String, command: String) -> String? {
    for side in ["source", "target"] where credentialKeys.contains(where: { key == "\(side)-\($0)" }) { return side }
    guard credentialKeys.contains(key) else { return nil }
    return variable(for: key, command: command) == "MAILFERRY_TARGET_PASSWORD" ? "target" : "source"
  }

  static func example(of key: String, in command: String) -> String {
    switch key {
    case "archive": return "/srv/mail-backup/NAME"
    case "target": return command == "restore" ? "imaps://user@imap.example.org" : "imaps://user@imap.new.example"
    default: return "imaps://user@imap.example.org"
    }
  }
}
