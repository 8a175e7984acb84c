/// Splits an options string (`--include '^Work$' --since 2024-01-01`) into words as a shell
/// would for plain words and quotes: whitespace separates, single quotes keep everything
/// literally, double quotes keep spaces, and outside single quotes a backslash keeps the next
/// character. No variables, no globs: the words go to MailFerry, never to a shell.
enum OptionWords {
  struct Failure: Error, Equatable {
    let problem: String
    let fix: String
  }

  static func split(_ text: String) throws(Failure) -> [String] {
    var words: [String] = []
    var word = ""
    var inWord = false
    var quote: Character?
    var escaped = false
    for character in text {
      if escaped {
        word.append(character)
        escaped = false
        continue
      }
      switch (quote, character) {
      case ("'", "'"), ("\"", "\""):
        quote = nil
      case ("'", _):
        word.append(character)
      case ("\"", "\\"), (nil, "\\"):
        escaped = true
        inWord = true
      case ("\"", _):
        word.append(character)
      case (nil, "'"), (nil, "\""):
        quote = character
        inWord = true
      case (nil, _) where character.isWhitespace:
        if inWord { words.append(word) }
        word = ""
        inWord = false
      default:
        word.append(character)
        inWord = true
      }
    }
    guard quote == nil else {
      throw Failure(problem: "a \(quote == "'" ? "single" : "double") quote is not closed", fix: "close the quote")
    }
    guard !escaped else {
      throw Failure(problem: "it ends with a backslash", fix: "remove the backslash or write it as \\\\")
    }
    if inWord { words.append(word) }
    return words
  }
}
