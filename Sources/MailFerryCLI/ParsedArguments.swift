import Foundation

/// A command line parsed against a `CommandSpec`.
///
/// Options are looked up by name, so the lookups are checked: a name no command declares
/// is a bug and stops the program (the tests run every command), and every option given
/// must have been read by the time `checkAllApply` runs, so one that does not apply to
/// this job (`--rcpt` for an IMAP target) is a usage error instead of being ignored.
struct ParsedArguments: Sendable {
  private(set) var positionals: [String] = []
  private var values: [String: [String]] = [:]
  private var flags: Set<String> = []
  private let spec: CommandSpec
  private let reads = ReadLog()
  /// The words as given, for reports that show the command.
  let words: [String]
  /// The subcommand these arguments are for.
  var command: String { spec.name }

  /// Parses `arguments` (the words after the subcommand). Accepts `--name value`,
  /// `--name=value` and `--` to end options.
  init(_ arguments: [String], spec: CommandSpec) throws {
    self.spec = spec
    words = arguments
    var index = 0
    var optionsEnded = false
    while index < arguments.count {
      let word = arguments[index]
      index += 1
      guard !optionsEnded, word.hasPrefix("--"), word.count > 2 else {
        if word == "--" && !optionsEnded {
          optionsEnded = true
          continue
        }
        if !optionsEnded && word.hasPrefix("-") && word.count > 1 {
          throw UsageError(command: spec.name, message: "unknown option '\(word)'")
        }
        positionals.append(word)
        continue
      }
      let body = word.dropFirst(2)
      let name = String(body.prefix { $0 != "=" })
      let inlineValue = body.contains("=") ? String(body.drop { $0 != "=" }.dropFirst()) : nil
      guard let option = spec.option(named: name) else {
        let suggestion = Self.closest(to: name, among: spec.options.map(\.name) + ["help"])
        throw UsageError(
          command: spec.name,
          message: "unknown option '--\(name)'" + (suggestion.map { ". Did you mean '--\($0)'?" } ?? ""))
      }
      if option.valueName == nil {
        guard inlineValue == nil else {
          throw UsageError(command: spec.name, message: "option '--\(name)' takes no value")
        }
        flags.insert(name)
        continue
      }
      let value: String
      if let inlineValue {
        value = inlineValue
      } else {
        guard index < arguments.count else {
          throw UsageError(command: spec.name, message: "option '--\(name)' needs a value (\(option.valueName!))")
        }
        value = arguments[index]
        index += 1
      }
      if values[name] != nil && !option.repeatable {
        throw UsageError(command: spec.name, message: "option '--\(name)' given more than once")
      }
      values[name, default: []].append(value)
    }
    let required = spec.positionals.filter { !$0.optional }.count
    if positionals.count < required {
      let missing = spec.positionals[positionals.count].name
      throw UsageError(command: spec.name, message: "missing argument \(missing)")
    }
    if positionals.count > spec.positionals.count && spec.positionals.last?.repeats != true {
      throw UsageError(command: spec.name, message: "unexpected argument '\(positionals[spec.positionals.count])'")
    }
  }

  /// Whether the flag `--name` was given. `name` must be an option some command declares;
  /// for a command that does not declare it, the answer is false.
  func flag(_ name: String) -> Bool {
    checked(name)
    return flags.contains(name)
  }

  /// The last value of `--name` (same rule for `name` as `flag`).
  func value(_ name: String) -> String? {
    checked(name)
    return values[name]?.last
  }

  func values(_ name: String) -> [String] {
    checked(name)
    return values[name] ?? []
  }

  /// Whether this command takes `--name` at all.
  func declares(_ name: String) -> Bool { spec.option(named: name) != nil }

  /// Fails when an option was given that nothing read: it does not apply to this job.
  /// `job` says what the job is, for the message ("an IMAP target").
  func checkAllApply(to job: String) throws {
    let unread = Set(values.keys).union(flags).subtracting(reads.names).sorted()
    guard let first = unread.first else { return }
    let list = unread.map { "'--\($0)'" }.joined(separator: ", ")
    throw UsageError(
      command: spec.name,
      message: "\(unread.count == 1 ? "option" : "options") \(list) \(unread.count == 1 ? "does" : "do") not apply to "
        + job + (first.hasPrefix("source-") || first.hasPrefix("target-") ? " (no server on that side)" : ""))
  }

  private func checked(_ name: String) {
    precondition(
      OptionRegistry.isKnown(name), "option '--\(name)' is looked up but no command declares it (a MailFerry bug)")
    reads.note(name)
  }

  /// A numeric option, or `defaultValue` when absent.
  /// A positive number of seconds (or other measure) up to `maximum`: larger values, NaN
  /// and infinity would overflow the deadlines computed from them.
  func number(_ name: String, default defaultValue: Double, maximum: Double = 86_400, command: String) throws -> Double
  {
    guard let text = value(name) else { return defaultValue }
    guard let number = Double(text), number.isFinite, number > 0 else {
      throw UsageError(command: command, message: "option '--\(name)' needs a positive number, not '\(text)'")
    }
    guard number <= maximum else {
      throw UsageError(
        command: command, message: "option '--\(name)' is at most \(Int(maximum)), not '\(text)'")
    }
    return number
  }

  /// A whole number of at least 1 (a count of connections, of messages, …).
  func count(_ name: String, default defaultValue: Int, command: String) throws -> Int {
    guard let text = value(name) else { return defaultValue }
    guard let number = Int(text), number > 0 else {
      throw UsageError(
        command: command, message: "option '--\(name)' needs a whole number of at least 1, not '\(text)'")
    }
    return number
  }

  /// The candidate within edit distance 2 of `word`, for "did you mean".
  static func closest(to word: String, among candidates: [String]) -> String? {
    candidates.map { ($0, editDistance(word, $0)) }.filter { $0.1 <= 2 }.min { $0.1 < $1.1 }?.0
  }

  static func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    var previous = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
      var current = [i] + Array(repeating: 0, count: b.count)
      for j in 1...max(b.count, 1) where !b.isEmpty {
        current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
      }
      previous = current
    }
    return previous[b.count]
  }
}

/// The names of options read so far; shared by copies of one `ParsedArguments`.
private final class ReadLog: @unchecked Sendable {
  private let lock = NSLock()
  private var read: Set<String> = []
  func note(_ name: String) { lock.withLock { _ = read.insert(name) } }
  var names: Set<String> { lock.withLock { read } }
}

/// Every option name some command declares.
enum OptionRegistry {
  static let names: Set<String> = Set(MailFerryCommandLine.commands.flatMap { $0.spec.options.map(\.name) })
  static func isKnown(_ name: String) -> Bool { names.contains(name) }
}

/// A mistake in the command line: printed with the command's usage, exit status 64.
struct UsageError: Error, Equatable {
  let command: String
  let message: String
}
