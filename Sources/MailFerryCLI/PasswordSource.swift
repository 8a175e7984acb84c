import Foundation

/// Where a password comes from, once per job. Never the command line: `--password-file`,
/// `--password-command`, `MAILFERRY_PASSWORD`, or a prompt on a terminal, in that order.
/// (OAuth2 tokens expire and are fetched at every login instead: `TokenCommand`.)
enum PasswordSource {
  /// Reads the secret for `user` at `server` as the options say. `side` ("source",
  /// "target") prefixes the option and variable names of a two-server command:
  /// `--source-password-file`, `MAILFERRY_SOURCE_PASSWORD`.
  static func resolve(
    _ arguments: ParsedArguments, environment: [String: String], console: Console, user: String, server: String,
    side: String? = nil, soleServer: Bool = false, prompt: (String) -> String? = PasswordSource.promptOnTerminal
  ) throws -> String {
    let option = side.map { "\($0)-" } ?? ""
    let variable = "MAILFERRY_" + (side.map { "\($0.uppercased())_" } ?? "") + "PASSWORD"
    // The only server of a job (a backup, a restore) also takes the one-server names.
    let prefixes = soleServer && !option.isEmpty ? [option, ""] : [option]
    for prefix in prefixes {
      if let file = arguments.value("\(prefix)password-file") { return try fromFile(file, console: console) }
      if let command = arguments.value("\(prefix)password-command") {
        return try fromCommand(command, purpose: "--\(prefix)password-command")
      }
    }
    for name in soleServer && !option.isEmpty ? [variable, "MAILFERRY_PASSWORD"] : [variable] {
      if let password = environment[name], !password.isEmpty { return password }
    }
    if console.isTerminal, let typed = prompt("Password for \(user) at \(server): "), !typed.isEmpty { return typed }
    throw ConfigurationError(
      what: "password for \(user) at \(server)", problem: "was not given",
      fix: "set \(soleServer && !option.isEmpty ? "MAILFERRY_PASSWORD or " : "")\(variable), or pass "
        + "--\(option)password-file FILE or --\(option)password-command CMD")
  }

  /// The first line of `path`. Warns when others may read the file.
  static func fromFile(_ path: String, console: Console) throws -> String {
    var info = stat()
    guard stat(path, &info) == 0 else {
      throw ConfigurationError(
        what: "password file \(path)", problem: "cannot be read: \(String(cString: strerror(errno)))",
        fix: "check the path")
    }
    if info.st_mode & 0o077 != 0 {
      console.warning("password file \(path) can be read by other users; run: chmod 600 \(path)")
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw ConfigurationError(what: "password file \(path)", problem: "cannot be read", fix: "check its permissions")
    }
    let line = firstLine(data)
    guard !line.isEmpty else {
      throw ConfigurationError(
        what: "password file \(path)", problem: "is empty", fix: "put the password on its first line")
    }
    return line
  }

  /// The first line `command` prints (run with /bin/sh -c).
  static func fromCommand(_ command: String, purpose: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    process.environment = ChildEnvironment.filtered(ProcessInfo.processInfo.environment)
    let output = Pipe()
    process.standardOutput = output
    process.standardInput = FileHandle.nullDevice
    do {
      try process.run()
    } catch {
      throw ConfigurationError(what: purpose, problem: "could not start: \(error)", fix: "check the command")
    }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw ConfigurationError(
        what: "\(purpose) '\(command)'", problem: "exited with status \(process.terminationStatus)",
        fix: "run the command yourself to see why")
    }
    let line = firstLine(data)
    guard !line.isEmpty else {
      throw ConfigurationError(
        what: "\(purpose) '\(command)'", problem: "printed nothing", fix: "make it print the secret")
    }
    return line
  }

  static func firstLine(_ data: Data) -> String {
    let text = String(decoding: data, as: UTF8.self)
    return String(text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
      .trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
  }

  /// Reads a line with echo off from the terminal.
  static func promptOnTerminal(_ prompt: String) -> String? {
    guard let result = getpass(prompt) else { return nil }
    return String(cString: result)
  }
}
