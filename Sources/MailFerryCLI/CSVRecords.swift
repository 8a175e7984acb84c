/// Splits CSV text into records of fields (RFC 4180): fields separated by commas, records
/// by CRLF or LF, a field in double quotes may hold commas, line breaks and `""` for a
/// quote. Each record knows the line it starts on, for error messages.
///
/// Lenient where it costs nothing (LF alone ends a record; blank lines are skipped), strict
/// where a silent guess would shift columns: an unclosed quote, text after a closing quote,
/// and a quote inside an unquoted field are errors.
enum CSVRecords {
  struct Record: Equatable {
    /// The 1-based line the record starts on.
    let line: Int
    let fields: [String]
  }

  struct Failure: Error, Equatable {
    let line: Int
    let problem: String
    let fix: String
  }

  static func parse(_ text: String) throws(Failure) -> [Record] {
    var records: [Record] = []
    var fields: [String] = []
    var field = ""
    var line = 1
    var recordLine = 1
    var inQuotes = false
    var quotedFieldClosed = false
    // The record so far is one empty, unquoted field: a blank line.
    var recordIsBlank = true
    var characters = Array(text.unicodeScalars)[...]
    if characters.first == "\u{FEFF}" { characters = characters.dropFirst() }  // a spreadsheet's BOM

    func endRecord() {
      fields.append(field)
      if !recordIsBlank { records.append(Record(line: recordLine, fields: fields)) }
      fields = []
      field = ""
      quotedFieldClosed = false
      recordIsBlank = true
    }

    var index = characters.startIndex
    while index < characters.endIndex {
      let character = characters[index]
      index = characters.index(after: index)
      if inQuotes {
        if character == "\"" {
          if index < characters.endIndex && characters[index] == "\"" {
            field.unicodeScalars.append("\"")
            index = characters.index(after: index)
          } else {
            inQuotes = false
            quotedFieldClosed = true
          }
        } else {
          if character == "\n" { line += 1 }
          field.unicodeScalars.append(character)
        }
        continue
      }
      switch character {
      case ",":
        fields.append(field)
        field = ""
        quotedFieldClosed = false
        recordIsBlank = false
      case "\r" where index < characters.endIndex && characters[index] == "\n":
        continue
      case "\n":
        endRecord()
        line += 1
        recordLine = line
      case "\"":
        guard field.isEmpty && !quotedFieldClosed else {
          throw Failure(
            line: line, problem: "a double quote inside a field that does not start with one",
            fix: "put the whole field in double quotes and write each quote inside it as two (\"\")")
        }
        inQuotes = true
        recordIsBlank = false
      default:
        guard !quotedFieldClosed else {
          throw Failure(
            line: line, problem: "text after the closing double quote of a field",
            fix: "end the field at its closing quote, or write a quote inside the field as two (\"\")")
        }
        field.unicodeScalars.append(character)
        recordIsBlank = false
      }
    }
    if inQuotes {
      throw Failure(
        line: recordLine, problem: "a double-quoted field is not closed before the end of the file",
        fix: "add the closing double quote")
    }
    endRecord()
    return records
  }
}
