import Foundation
import FoundationXML
import MailCore
import ServerFixtures
import Storage
import Testing

@testable import MailFerryCLI

/// What a run leaves for people who were not watching: `--report FILE.html`, `--log FILE`
/// and timestamped progress lines when nobody is at a terminal.
@Suite struct RunRecordTests {
  let server: DovecotServer
  /// Refuses messages over 10 MiB, as providers do.
  let targetServer: DovecotServer
  let source: DovecotServer.User
  let target: DovecotServer.User
  let directory: String

  init() throws {
    server = try DovecotServer.shared()
    source = try server.createUser("rrsrc")
    targetServer = try DovecotServer.shared("exchange-like")
    target = try targetServer.createUser("rrdst")
    directory = NSTemporaryDirectory() + "mailferry-record-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    for (name, password) in [("source", source.password), ("target", target.password), ("wrong", "nope")] {
      try Data(password.utf8).write(to: URL(fileURLWithPath: "\(directory)/\(name).pw"))
      chmod("\(directory)/\(name).pw", 0o600)
    }
  }

  func message(_ number: Int, bodyBytes: Int = 20) -> MessageToStore {
    MessageToStore(
      bytes: Array(
        "Message-ID: <r\(number)@example.org>\r\nSubject: <b>note</b> & \(number)\r\n\r\n\(String(repeating: "x", count: bodyBytes))\r\n"
          .utf8))
  }

  func migrate(_ extra: [String], password: String = "source", state: String = "state.sqlite") -> CapturedRun {
    CapturedRun(
      [
        "migrate", "imaps://\(source.name)@localhost:\(server.imapsPort)",
        "imaps://\(target.name)@localhost:\(targetServer.imapsPort)", "--source-ca-file", server.caFile,
        "--target-ca-file", targetServer.caFile,
        "--source-password-file", "\(directory)/\(password).pw", "--target-password-file", "\(directory)/target.pw",
        "--state", "\(directory)/\(state)",
      ] + extra)
  }

  @Test func theHTMLReportListsFoldersFailuresAndThroughput() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try ServerAccount(server, source).fill([
      ("INBOX", nil, (1...5).map { message($0) } + [message(6, bodyBytes: 11 << 20)]),
      ("Projekte/<Größe>", nil, (7...9).map { message($0) }),
    ])
    let path = "\(directory)/report.html"
    let done = migrate(["--report", path])
    #expect(done.status == .partial, "\(done.err)")
    #expect(done.err.contains("report: \(path)"))
    #expect(try FileSecurity.permissions(ofPath: path) == 0o600)

    let page = try ParsedPage(path: path)
    #expect(page.title.contains("MailFerry migrate"))
    #expect(page.text(ofID: "result").contains("exit status 1"))
    let folders = Dictionary(
      page.rows(inTableID: "folders", section: "tbody").map { ($0[0], $0) }, uniquingKeysWith: { first, _ in first })
    #expect(folders["INBOX"]?[3] == "5", "five copied into INBOX, the large one refused")
    #expect(folders["INBOX"]?[6] == "1")
    #expect(folders["Projekte/<Größe>"]?[3] == "3")
    #expect(page.rows(inTableID: "folders", section: "tfoot").first?[3] == "8")
    let failures = page.rows(inTableID: "failures", section: "tbody")
    #expect(failures.count == 1)
    #expect(failures.first?[0] == "INBOX")
    #expect(failures.first?[2] == "refused", "the target refused it (over its 10 MiB limit)")
    #expect(page.barCount > 0, "the throughput chart has bars")
    // Self-contained: nothing is loaded from elsewhere, no scripts.
    #expect(page.externalReferences.isEmpty, "\(page.externalReferences)")
    #expect(!page.elementNames.contains("script"))
    // The command is shown, with the values of password and token commands hidden.
    #expect(page.text(ofID: "run").contains("--report \(path)"))
  }

  @Test func aJobThatCannotStartStillGetsItsReportAndLog() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let report = "\(directory)/failed.html"
    let log = "\(directory)/run.log"
    let run = migrate(["--report", report, "--log", log], password: "wrong")
    #expect(run.status == .noPermission)
    let page = try ParsedPage(path: report)
    #expect(page.text(ofID: "result").contains("Stopped"))
    #expect(page.text(ofID: "result").contains("exit status 77"))
    #expect(
      page.rows(inTableID: "failures", section: "tbody").first?[3].contains("login as \(source.name) failed") == true)
    let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
    #expect(lines.first?.contains("migrate started") == true)
    #expect(lines.contains { $0.contains(" ERROR ") && $0.contains("login as \(source.name) failed") })
    #expect(lines.last?.contains("finished: exit status 77") == true)
  }

  @Test func theLogStampsEveryLineAndAppends() throws {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    try ServerAccount(server, source).fill([("INBOX", nil, (1...3).map { message($0) })])
    let log = "\(directory)/nightly.log"
    #expect(migrate(["--log", log]).status == .success)
    let again = migrate(["--log", log])
    #expect(again.status == .success)
    let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
    let stamped = try Regex(#"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO |WARN |ERROR) "#)
    #expect(!lines.isEmpty)
    #expect(lines.allSatisfy { $0.contains(stamped) }, "\(lines.filter { !$0.contains(stamped) })")
    #expect(lines.filter { $0.contains("migrate started") }.count == 2, "the second run appends")
    #expect(lines.contains { $0.contains("INBOX: 3 copied") })
    #expect(lines.filter { $0.contains("finished: exit status 0") }.count == 2)
    #expect(try FileSecurity.permissions(ofPath: log) == 0o600)
    // Without a terminal, progress lines on standard error carry the time too.
    let first = try #require(
      migrate(["--log", log], state: "fresh.sqlite").err.split(separator: "\n")
        .first { $0.contains("INBOX:") })
    #expect(first.contains(try Regex(#"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INBOX: "#)), "\(first)")
  }

  @Test func progressWithoutATerminalIsATimestampedLineNowAndThen() {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    final class Buffer: @unchecked Sendable { var text = "" }
    let err = Buffer()
    let console = Console(out: { _ in }, err: { err.text += $0 }, isTerminal: false)
    console.plainProgressInterval = .zero
    console.progress("120/300 messages")
    console.plainProgressInterval = .seconds(3600)
    console.progress("130/300 messages")
    let lines = err.text.split(separator: "\n")
    #expect(lines.count == 1)
    #expect(
      lines.first?.contains(try! Regex(#"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z progress: 120/300 messages$"#)) == true
    )
    #expect(!err.text.contains("\u{1B}"), "no terminal control sequences in a log")
  }

  @Test func commandValuesAreHiddenInTheReport() {
    defer { try? FileManager.default.removeItem(atPath: directory) }
    #expect(
      ShellWords.hidingCommands([
        "a", "--source-password-command", "secret-tool x", "--target-oauth-token-command=get y", "--quiet",
      ])
        == ["a", "--source-password-command", "…", "--target-oauth-token-command=…", "--quiet"])
  }
}

/// An HTML report read with an XML parser: it must be well-formed to be read at all.
private final class ParsedPage: NSObject, XMLParserDelegate {
  private struct Node {
    var name: String
    var attributes: [String: String]
    var text = ""
    var children: [Int] = []
  }

  private var nodes: [Node] = []
  private var stack: [Int] = []
  private(set) var elementNames: Set<String> = []
  private(set) var externalReferences: [String] = []

  init(path: String) throws {
    super.init()
    let parser = XMLParser(data: try Data(contentsOf: URL(fileURLWithPath: path)))
    parser.delegate = self
    guard parser.parse() else {
      throw ConfigurationError(
        what: "report \(path)", problem: "is not well-formed: \(parser.parserError.map { "\($0)" } ?? "?")",
        fix: "fix HTMLReport")
    }
  }

  func parser(
    _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
    attributes: [String: String] = [:]
  ) {
    elementNames.insert(elementName)
    for (name, value) in attributes where ["src", "href"].contains(name) || value.contains("url(") {
      externalReferences.append("\(elementName) \(name)=\(value)")
    }
    nodes.append(Node(name: elementName, attributes: attributes))
    if let parent = stack.last { nodes[parent].children.append(nodes.count - 1) }
    stack.append(nodes.count - 1)
  }

  func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
    stack.removeLast()
  }

  func parser(_ parser: XMLParser, foundCharacters string: String) {
    for index in stack { nodes[index].text += string }
  }

  var title: String { nodes.first { $0.name == "title" }?.text ?? "" }
  var barCount: Int { nodes.filter { $0.name == "rect" && $0.attributes["class"] == "bar" }.count }

  func text(ofID id: String) -> String { nodes.first { $0.attributes["id"] == id }?.text ?? "" }

  /// The cells of each row of `section` (thead, tbody, tfoot) of the table with `id`.
  func rows(inTableID id: String, section: String) -> [[String]] {
    guard let table = nodes.firstIndex(where: { $0.attributes["id"] == id }) else { return [] }
    return nodes[table].children.filter { nodes[$0].name == section }.flatMap { nodes[$0].children }
      .map { row in nodes[row].children.map { nodes[$0].text } }
  }
}
