/// Shell completion scripts for bash and zsh, made from the command specs, so they offer
/// exactly the commands and options `--help` lists (`mailferry completions bash|zsh`).
enum CompletionScript {
  /// A value that names a file or directory: completed with paths.
  static func takesPath(_ option: CommandSpec.Option) -> Bool {
    ["FILE", "DIR", "PATH"].contains(option.valueName ?? "")
  }

  // MARK: bash

  static func bash(_ commands: [CommandSpec]) -> String {
    // What follows each option that takes a value, by name over all commands: its
    // choices, a path, or nothing to complete.
    var choices: [String: [String]] = [:]
    var paths: Set<String> = []
    var others: Set<String> = []
    for option in commands.flatMap(\.options) where option.valueName != nil {
      let name = "--" + option.name
      if !option.choices.isEmpty {
        choices[name] = option.choices
      } else if takesPath(option) {
        paths.insert(name)
      } else {
        others.insert(name)
      }
    }
    others.subtract(choices.keys)
    var byValue: [String: [String]] = [:]
    for (name, words) in choices { byValue[words.joined(separator: " "), default: []].append(name) }
    var lines = [
      "# bash completion for mailferry (made by 'mailferry completions bash').",
      "_mailferry() {",
      "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}",
      "  COMPREPLY=()",
      "  if ((COMP_CWORD == 1)); then",
      "    COMPREPLY=($(compgen -W '\((commands.map(\.name) + ["--help", "--version"]).joined(separator: " "))' -- \"$cur\"))",
      "    return",
      "  fi",
      "  local options='' words=''",
      "  case ${COMP_WORDS[1]} in",
    ]
    for command in commands {
      let options = (command.options + [HelpText.helpOption]).map { "--" + $0.name }
      lines.append("  \(command.name))")
      lines.append("    options='\(options.joined(separator: " "))'")
      if let first = command.positionals.first, !first.choices.isEmpty {
        lines.append("    words='\(first.choices.joined(separator: " "))'")
      }
      lines.append("    ;;")
    }
    lines += ["  *) return ;;", "  esac", "  # The value of an option.", "  case $prev in"]
    for (words, names) in byValue.sorted(by: { $0.key < $1.key }) {
      lines.append(
        "  \(names.sorted().joined(separator: "|"))) COMPREPLY=($(compgen -W '\(words)' -- \"$cur\")); return ;;")
    }
    if !paths.isEmpty {
      lines.append("  \(paths.sorted().joined(separator: "|"))) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;")
    }
    if !others.isEmpty {
      lines.append("  \(others.sorted().joined(separator: "|"))) return ;;")
    }
    lines += [
      "  esac",
      "  if [[ $cur == -* ]]; then",
      "    COMPREPLY=($(compgen -W \"$options\" -- \"$cur\"))",
      "  elif ((COMP_CWORD == 2)) && [[ -n $words ]]; then",
      "    COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))",
      "  else",
      "    COMPREPLY=($(compgen -f -- \"$cur\"))",
      "  fi",
      "}",
      "complete -o filenames -F _mailferry mailferry",
    ]
    return lines.joined(separator: "\n")
  }

  // MARK: zsh

  static func zsh(_ commands: [CommandSpec]) -> String {
    var lines = [
      "#compdef mailferry",
      "# zsh completion for mailferry (made by 'mailferry completions zsh').",
      "_mailferry() {",
      "  local -a commands",
      "  commands=(",
    ]
    for command in commands {
      lines.append("    " + ShellWords.singleQuoted(command.name + ":" + command.summary))
    }
    lines += [
      "  )",
      "  if ((CURRENT == 2)); then",
      "    if [[ $PREFIX == -* ]]; then",
      "      compadd -- " + HelpText.globalOptions.map { "--" + $0.name }.joined(separator: " "),
      "    else",
      "      _describe -t commands 'mailferry command' commands",
      "    fi",
      "    return",
      "  fi",
      "  local command=${words[2]}",
      "  shift words",
      "  ((CURRENT--))",
      "  case $command in",
    ]
    for command in commands {
      lines.append("  (\(command.name))")
      lines.append("    _arguments -s -S \\")
      var specs = (command.options + [HelpText.helpOption]).map(zshOption)
      for (index, positional) in command.positionals.enumerated() {
        let action = positional.choices.isEmpty ? "_files" : "(\(positional.choices.joined(separator: " ")))"
        specs.append(
          ShellWords.singleQuoted("\(index + 1):\(positional.optional ? ":" : "")\(message(positional.name)):\(action)")
        )
      }
      lines += specs.enumerated().map { "      " + $1 + ($0 < specs.count - 1 ? " \\" : "") }
      lines.append("    ;;")
    }
    lines += ["  esac", "}", "_mailferry \"$@\""]
    return lines.joined(separator: "\n")
  }

  /// `--name[description]`, or `--name=[description]:VALUE:action` for an option with a
  /// value (given as `--name=value` or `--name value`); `*` in front when repeatable.
  static func zshOption(_ option: CommandSpec.Option) -> String {
    var spec = (option.repeatable ? "*" : "") + "--" + option.name
    let description = "[" + bracketed(option.help) + "]"
    if let valueName = option.valueName {
      let action =
        !option.choices.isEmpty ? "(\(option.choices.joined(separator: " ")))" : takesPath(option) ? "_files" : " "
      spec += "=" + description + ":" + message(valueName) + ":" + action
    } else {
      spec += description
    }
    return ShellWords.singleQuoted(spec)
  }

  /// Text inside `[…]` of an `_arguments` spec: brackets, colons and backslashes escaped.
  static func bracketed(_ text: String) -> String {
    var result = ""
    for character in text {
      if "[]:\\".contains(character) { result.append("\\") }
      result.append(character)
    }
    return result
  }

  /// A spec's message field, which ends at the next colon.
  static func message(_ text: String) -> String {
    text.replacingOccurrences(of: ":", with: " ")
  }
}
