import Foundation

/// A job file as written (docs/job-files.md): `[job NAME]` sections of `key = value` lines,
/// `#` comments. Parsing only reads the shape; `JobPreparer` gives the keys their meaning.
struct JobFile {
  /// One `key = value` line (a key alone is a flag: `value` nil).
  struct Entry: Equatable {
    let key: String
    let value: String?
    let line: Int
  }

  struct Job {
    let name: String
    /// The line of its `[job NAME]` header.
    let line: Int
    var entries: [Entry] = []

    func entries(_ key: String) -> [Entry] { entries.filter { $0.key == key } }
  }

  let path: String
  let jobs: [Job]
  /// Lines that could not be read, and duplicate job names.
  let problems: [JobFileProblem]

  /// Reads the file at `path`; an unreadable file is one problem at line 0.
  static func read(path: String) -> JobFile {
    guard let data = FileManager.default.contents(atPath: path) else {
      let reason =
        FileManager.default.fileExists(atPath: path) ? "cannot be read (check its permissions)" : "does not exist"
      return JobFile(
        path: path, jobs: [],
        problems: [
          JobFileProblem(path: path, line: 0, message: "job file \(reason)", hint: "give the path of a job file")
        ])
    }
    return parse(String(decoding: data, as: UTF8.self), path: path)
  }

  static func parse(_ text: String, path: String) -> JobFile {
    var jobs: [Job] = []
    var problems: [JobFileProblem] = []
    func problem(_ line: Int, _ message: String, hint: String? = nil) {
      problems.append(JobFileProblem(path: path, line: line, message: message, hint: hint))
    }
    // "\r\n" is one Character in Swift: split on any line break, so a file edited on
    // Windows reads the same.
    let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
    for (index, rawLine) in lines.enumerated() {
      let number = index + 1
      let line = strippingComment(String(rawLine)).trimmingCharacters(in: .whitespaces)
      if line.isEmpty { continue }
      if line.hasPrefix("[") {
        guard line.hasSuffix("]"), case let words = line.dropFirst().dropLast().split(separator: " "),
          words.count == 2, words[0] == "job"
        else {
          problem(number, "cannot read '\(line)': a section is written [job NAME]")
          continue
        }
        let name = String(words[1])
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || "._-".contains($0) }) else {
          problem(number, "job name '\(name)' may hold only letters, digits, '.', '_' and '-'")
          continue
        }
        if let earlier = jobs.first(where: { $0.name == name }) {
          problem(
            number, "job '\(name)' is defined twice (first at line \(earlier.line))",
            hint: "give each job its own name")
          continue
        }
        jobs.append(Job(name: name, line: number))
        continue
      }
      let key: String
      var value: String?
      if let equals = line.firstIndex(of: "=") {
        key = line[..<equals].trimmingCharacters(in: .whitespaces)
        value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
      } else {
        key = line
      }
      guard !key.isEmpty, key.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "-" }), key.first != "-" else {
        problem(
          number, "cannot read '\(line)': expected 'key = value' or '[job NAME]'",
          hint: "keys are option names without dashes, like 'exclude = Spam'")
        continue
      }
      if let text = value, text.count >= 2, text.hasPrefix("\""), text.hasSuffix("\"") {
        value = String(text.dropFirst().dropLast())
      }
      guard !jobs.isEmpty else {
        problem(number, "'\(key)' comes before any [job NAME] line", hint: "start each job with a [job NAME] line")
        continue
      }
      jobs[jobs.count - 1].entries.append(Entry(key: key, value: value, line: number))
    }
    return JobFile(path: path, jobs: jobs, problems: problems)
  }

  /// The line without its comment: `#` at its start or after a space or tab, outside a
  /// double-quoted value (so `s/#x/y/` and `"a # b"` keep their `#`).
  static func strippingComment(_ line: String) -> String {
    var quoted = false
    var previous: Character = " "
    var result = ""
    for character in line {
      if character == "\"" { quoted.toggle() }
      if character == "#" && !quoted && (previous == " " || previous == "\t") { break }
      result.append(character)
      previous = character
    }
    return result
  }
}

/// Something wrong (or worth a warning) in a job file, at a line: printed as
/// `error: FILE:LINE: message` and a `hint:`.
struct JobFileProblem: Error, Equatable {
  let path: String
  let line: Int
  let message: String
  var hint: String?
  var isWarning = false

  var located: String { line > 0 ? "\(path):\(line): \(message)" : "\(path): \(message)" }

  func print(to console: Console) {
    if isWarning {
      console.warning(located)
    } else {
      console.error(located)
    }
    if let hint { console.hint(hint) }
  }
}
