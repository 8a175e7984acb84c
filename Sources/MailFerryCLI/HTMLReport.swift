import Engine
import Foundation
import MailCore

/// `--report FILE.html`: the end-of-run report as one self-contained HTML file (no scripts,
/// no external styles, fonts or images) that an admin can forward to the account's owner:
/// the result, totals, a per-folder table, every failure with its reason, throughput over
/// time as an inline SVG chart, and the command and versions that produced it.
///
/// The markup is well-formed XML (every element closed, every text escaped) so that tests
/// and other tools can parse it with an XML parser.
enum HTMLReport {
  /// What the report says about the run beyond the engine's report.
  struct Run {
    var command: String
    var arguments: [String]
    var source: String
    var target: String
    var started: Date
    var finished: Date
    var status: ExitCode
    var dryRun: Bool
  }

  static func render(_ report: MigrationReport, run: Run, throughput: ThroughputLog?) -> String {
    var html = Markup()
    let title = "MailFerry \(run.command): \(run.source) → \(run.target)"
    html.raw(
      "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\"><head><meta charset=\"utf-8\"/>")
    html.raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>")
    html.element("title", title)
    html.raw("<style>\(style)</style></head><body>")
    html.element("h1", title)
    html.raw("<p class=\"result \(run.status == .success ? "ok" : "problem")\" id=\"result\">")
    html.text(resultLine(report, run: run))
    html.raw("</p>")
    totals(report, run: run, into: &html)
    if let throughput { chart(throughput.bins(count: 60, duration: report.seconds), into: &html) }
    folders(report, into: &html)
    problems(report, into: &html)
    footer(run, into: &html)
    html.raw("</body></html>\n")
    return html.output
  }

  /// Writes the report to `path` (0600: it names accounts and messages).
  static func write(_ text: String, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    try Data(text.utf8).write(to: url, options: .atomic)
    chmod(path, 0o600)
  }

  private static func resultLine(_ report: MigrationReport, run: Run) -> String {
    let summary: String
    if let stop = report.stoppedBy {
      summary = "Stopped: \(stop.description)" + (stop.hint.map { ". What to do: \($0)" } ?? "")
    } else if report.interrupted {
      summary = "Interrupted: everything up to the stop is committed; run the same command again to finish"
    } else if report.isComplete {
      summary = run.dryRun ? "Dry run: nothing was written" : "Complete: every message that should move moved"
    } else {
      let problems = report.failed + report.altered + report.folders.filter { $0.error != nil }.count
      summary = "Finished with \(problems) problem(s), listed below"
    }
    return run.status == .success
      ? "\(summary) (exit status 0)" : "\(summary) (exit status \(run.status.rawValue): \(run.status.meaning))"
  }

  private static func totals(_ report: MigrationReport, run: Run, into html: inout Markup) {
    let seconds = max(report.seconds, run.finished.timeIntervalSince(run.started))
    let rate = report.seconds > 0 ? Double(report.copied + report.duplicates) / report.seconds : 0
    let rows: [(String, String)] = [
      (
        run.dryRun ? "To copy" : "Copied",
        "\(report.copied) message(s), \(ByteCountText.human(UInt64(report.copiedBytes)))"
      ),
      ("Already there", "\(report.duplicates)"),
      ("Failed", "\(report.failed)"),
      ("Altered by the target", "\(report.altered)"),
      ("Read back and checked", "\(report.verified)" + (report.verification.map { " (\($0))" } ?? "")),
      ("Started", Timestamp.utc(run.started)),
      ("Finished", Timestamp.utc(run.finished)),
      ("Duration", duration(seconds)),
      ("Average rate", String(format: "%.1f messages/s", rate)),
    ]
    html.raw("<h2>Totals</h2><table class=\"totals\" id=\"totals\"><tbody>")
    for (name, value) in rows {
      html.raw("<tr>")
      html.element("th", name)
      html.element("td", value)
      html.raw("</tr>")
    }
    html.raw("</tbody></table>")
  }

  private static func folders(_ report: MigrationReport, into html: inout Markup) {
    html.raw("<h2>Folders</h2><table class=\"folders\" id=\"folders\"><thead><tr>")
    for heading in ["Folder", "Into", "Looked at", "Copied", "Size", "Already there", "Failed", "Notes"] {
      html.element("th", heading)
    }
    html.raw("</tr></thead><tbody>")
    for folder in report.folders {
      let failed = folder.failed.count + (folder.error == nil ? 0 : 1)
      html.raw("<tr class=\"\(folder.isComplete ? "ok" : "problem")\">")
      html.element("td", folder.source)
      html.element("td", folder.target + (folder.renamedFrom.map { " (asked for \($0))" } ?? ""))
      for number in [folder.considered, folder.copied] { html.element("td", String(number), class: "number") }
      html.element("td", ByteCountText.human(UInt64(folder.copiedBytes)), class: "number")
      for number in [folder.duplicates, failed] { html.element("td", String(number), class: "number") }
      var notes = folder.notes
      if let error = folder.error { notes.insert("stopped: \(error.description)", at: 0) }
      if folder.interrupted { notes.append("stopped early") }
      html.element("td", notes.joined(separator: "; "))
      html.raw("</tr>")
    }
    html.raw("</tbody><tfoot><tr>")
    html.element("th", "Total")
    html.element("th", "")
    html.element("th", String(report.folders.reduce(0) { $0 + $1.considered }), class: "number")
    html.element("th", String(report.copied), class: "number")
    html.element("th", ByteCountText.human(UInt64(report.copiedBytes)), class: "number")
    html.element("th", String(report.duplicates), class: "number")
    html.element("th", String(report.failed), class: "number")
    html.element("th", "")
    html.raw("</tr></tfoot></table>")
  }

  private static func problems(_ report: MigrationReport, into html: inout Markup) {
    let failures = report.folders.flatMap { folder in folder.failed.map { (folder.source, $0) } }
    let altered = report.folders.flatMap { folder in folder.altered.map { (folder.source, $0) } }
    let stopped = report.folders.compactMap { folder in folder.error.map { (folder.source, $0) } }
    html.raw("<h2>Problems</h2>")
    if failures.isEmpty && altered.isEmpty && stopped.isEmpty && report.warnings.isEmpty
      && report.stoppedBy == nil
    {
      html.element("p", "None.", class: "ok")
      return
    }
    html.raw("<table class=\"failures\" id=\"failures\"><thead><tr>")
    for heading in ["Folder", "Message", "What", "Reason", "What to do"] { html.element("th", heading) }
    html.raw("</tr></thead><tbody>")
    if let stop = report.stoppedBy {
      row(["(the job)", "", "stopped", stop.description, stop.hint ?? ""], into: &html)
    }
    for (folder, error) in stopped {
      row([folder, "", "folder stopped", error.description, error.hint ?? ""], into: &html)
    }
    for (folder, failure) in failures {
      let advice = failure.hint ?? (failure.isTemporary ? "run the same command again" : "")
      row([folder, "UID \(failure.key)", failure.kind.rawValue, failure.reason, advice], into: &html)
    }
    for (folder, copy) in altered {
      row(
        [folder, "UID \(copy.key)" + (copy.messageID.map { " \($0)" } ?? ""), "altered", copy.difference, ""],
        into: &html)
    }
    for warning in report.warnings { row(["", "", "warning", warning, ""], into: &html) }
    html.raw("</tbody></table>")
  }

  private static func row(_ cells: [String], into html: inout Markup) {
    html.raw("<tr>")
    for cell in cells { html.element("td", cell) }
    html.raw("</tr>")
  }

  /// Messages per second over the run as bars, with the busiest bin's rate on the axis.
  private static func chart(_ bins: [ThroughputLog.Bin], into html: inout Markup) {
    let (width, height, left, bottom) = (720.0, 200.0, 110.0, 30.0)
    let rates = bins.map { $0.seconds > 0 ? Double($0.messages) / $0.seconds : 0 }
    let peak = max(rates.max() ?? 0, 1)
    let plotWidth = width - left - 10
    let plotHeight = height - bottom - 10
    let barWidth = plotWidth / Double(max(bins.count, 1))
    let totalSeconds = bins.last.map { $0.start + $0.seconds } ?? 0
    html.raw("<h2>Throughput</h2>")
    html.raw(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"throughput\" class=\"chart\" role=\"img\" "
        + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\">")
    html.element("title", "Messages per second over the run (peak \(format(peak)) messages/s)")
    html.raw(
      "<line x1=\"\(left)\" y1=\"10\" x2=\"\(left)\" y2=\"\(height - bottom)\" class=\"axis\"/>"
        + "<line x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width - 10)\" y2=\"\(height - bottom)\" class=\"axis\"/>"
    )
    for (index, rate) in rates.enumerated() where rate > 0 {
      let barHeight = plotHeight * rate / peak
      html.raw(
        "<rect class=\"bar\" x=\"\(format(left + Double(index) * barWidth))\" y=\"\(format(height - bottom - barHeight))\" "
          + "width=\"\(format(max(barWidth - 1, 0.5)))\" height=\"\(format(barHeight))\"><title>")
      html.text("\(format(bins[index].start)) s: \(format(rate)) messages/s")
      html.raw("</title></rect>")
    }
    html.svgText(format(peak), x: left - 4, y: 18, anchor: "end")
    html.svgText("0", x: left - 4, y: height - bottom, anchor: "end")
    html.svgText("messages/s", x: left - 4, y: height / 2, anchor: "end")
    html.svgText("0 s", x: left, y: height - 10, anchor: "start")
    html.svgText(duration(totalSeconds), x: width - 10, y: height - 10, anchor: "end")
    html.raw("</svg>")
  }

  private static func footer(_ run: Run, into html: inout Markup) {
    html.raw("<h2>Run</h2><table class=\"totals\" id=\"run\"><tbody>")
    let command = ShellWords.shown(["mailferry", run.command] + run.arguments)
    var system = utsname()
    uname(&system)
    let kernel = withUnsafeBytes(of: system.sysname) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    let release = withUnsafeBytes(of: system.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    for (name, value) in [
      ("Command", command), ("MailFerry", MailFerryCommandLine.version), ("System", "\(kernel) \(release)"),
      ("Host", ProcessInfo.processInfo.hostName),
    ] {
      html.raw("<tr>")
      html.element("th", name)
      html.element("td", value, class: name == "Command" ? "code" : nil)
      html.raw("</tr>")
    }
    html.raw("</tbody></table>")
  }

  /// `6.4 s`, `12 min 05 s`, `3 h 02 min`.
  static func duration(_ seconds: Double) -> String {
    if seconds < 60 { return String(format: "%.1f s", seconds) }
    let whole = Int(seconds.rounded())
    if whole < 3600 { return String(format: "%d min %02d s", whole / 60, whole % 60) }
    return String(format: "%d h %02d min", whole / 3600, whole % 3600 / 60)
  }

  private static func format(_ value: Double) -> String {
    value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
  }

  private static let style = """
    body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:60em;color:#1d2430;\
    padding:0 1em}h1{font-size:1.4em;word-break:break-all}h2{font-size:1.1em;margin-top:1.6em}\
    .result{padding:.7em 1em;border-radius:6px}.result.ok{background:#e6f4ea;border:1px solid #9ccfa8}\
    .result.problem{background:#fdecea;border:1px solid #e3a29b}table{border-collapse:collapse;width:100%}\
    th,td{text-align:left;padding:.3em .6em;border-bottom:1px solid #dde2ea;vertical-align:top}\
    td.number,th.number{text-align:right;font-variant-numeric:tabular-nums}table.totals th{width:14em}\
    tr.problem td{background:#fff6f5}tfoot th{border-top:2px solid #9aa5b5}td.code{font-family:monospace;\
    word-break:break-all}.chart .bar{fill:#3c78d8}.chart .axis{stroke:#555}.chart text{font-size:12px;fill:#444}\
    p.ok{color:#2d6a3e}
    """
}

/// Builds escaped markup.
private struct Markup {
  var output = ""

  mutating func raw(_ markup: String) { output += markup }

  mutating func text(_ text: String) { output += Self.escaped(ControlCharacters.escaped(text)) }

  mutating func element(_ name: String, _ text: String, class className: String? = nil) {
    output += "<\(name)" + (className.map { " class=\"\($0)\"" } ?? "") + ">"
    self.text(text)
    output += "</\(name)>"
  }

  mutating func svgText(_ text: String, x: Double, y: Double, anchor: String) {
    output += "<text x=\"\(x)\" y=\"\(y)\" text-anchor=\"\(anchor)\">"
    self.text(text)
    output += "</text>"
  }

  static func escaped(_ text: String) -> String {
    var result = ""
    for character in text {
      switch character {
      case "&": result += "&amp;"
      case "<": result += "&lt;"
      case ">": result += "&gt;"
      case "\"": result += "&quot;"
      case "'": result += "&#39;"
      default: result.append(character)
      }
    }
    return result
  }
}
