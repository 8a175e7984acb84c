/// `mailferry completions bash|zsh`: the shell completion script, made from the command
/// specs (`make install` installs both).
struct CompletionsCommand: Subcommand {
  static let spec = CommandSpec(
    name: "completions", summary: "Print the bash or zsh completion script for mailferry.",
    discussion: """
      Completes the commands, each command's options, the values of options that take one of
      a few words (--login-method, --dedup, --format, …) and file names. 'make install' puts
      the scripts where bash-completion and zsh look for them:
      PREFIX/share/bash-completion/completions/mailferry and
      PREFIX/share/zsh/site-functions/_mailferry.

      Examples:
        source <(mailferry completions bash)
        mailferry completions zsh > ~/.zsh/functions/_mailferry
      """,
    positionals: [.init(name: "SHELL", help: "bash or zsh", choices: ["bash", "zsh"])],
    options: [])

  func run(_ arguments: ParsedArguments, console: Console) throws -> ExitCode {
    let specs = MailFerryCommandLine.commands.map { $0.spec }
    switch arguments.positionals[0] {
    case "bash": console.print(CompletionScript.bash(specs))
    case "zsh": console.print(CompletionScript.zsh(specs))
    case let other:
      throw UsageError(command: Self.spec.name, message: "no completions for '\(other)'; use bash or zsh")
    }
    return .success
  }
}
