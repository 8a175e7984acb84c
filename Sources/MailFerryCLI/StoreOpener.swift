import Archive
import ArchiveEndpoint
import Engine
import Foundation
import IMAPEndpoint
import LocalEndpoint
import MailCore
import Mailstore
import POP3Endpoint
import Storage
import Transport

/// The one place that turns a word of the command line into a store: a server URL
/// (`imaps://`, `pop3s://`, `smtps://`, `lmtp://` …), an archive directory or a local
/// `maildir:`, `mbox:` or `eml:` path, opened for reading (a job's source, or either side
/// of `verify`) or for writing (a job's target). Every command that reads or writes mail
/// goes through here, so a new kind of store is one new case.
enum StoreOpener {
  /// How a side is used.
  enum Role {
    /// Read from: a job's source, or a side `verify` compares.
    case reading
    /// Written to: a job's target.
    case writing
  }

  /// What the command knows that opening a side needs.
  struct Context {
    let arguments: ParsedArguments
    let command: String
    let console: Console
    /// The other side is not a server: the one-server password options apply too.
    let soleServer: Bool
    let trace: ProtocolTrace?
  }

  /// One opened side: how each worker connects to it, and a first login to check now.
  struct Opened {
    var connectSource: Migration.ConnectSource?
    var connectSink: Migration.ConnectSink?
    /// Checks the store before any work starts: logs in once and out again (a wrong
    /// password fails here), or opens the archive or local store once (a wrong path).
    var check: (() throws -> Void)?
    /// For a command with one store: a session whose warnings (an unencrypted connection,
    /// `--insecure`) reach the console; the workers' sessions stay quiet.
    var connectSourceVisibly: Migration.ConnectSource?

    /// A session for a one-store command (`folders`).
    func openSource() throws -> any MessageSource {
      try (connectSourceVisibly ?? connectSource!)()
    }
  }

  /// Opens `endpoint` (written as `text` on the command line) as `side` ("source" or
  /// "target"; nil for a command with one store) in `role`.
  static func open(
    _ endpoint: JobEndpoint, text: String, side: String?, role: Role, context: Context
  ) throws -> Opened {
    let silent = Console(out: { _ in }, err: { _ in }, isTerminal: false)
    let console = context.console
    switch (endpoint, role) {
    case (.archive(let path), .reading):
      return Opened(
        connectSource: { ArchiveSource(try Archive(path: path, create: false)) },
        check: { _ = try Archive(path: path, create: false) })
    case (.archive(let path), .writing):
      if context.arguments.flag("dry-run") && !Archive.exists(at: path) {
        throw ConfigurationError(
          what: "archive \(path)", problem: "does not exist yet, so a dry run has nothing to compare with",
          fix: "run without --dry-run to create it (everything in the source is new to it)")
      }
      let level = try compressionLevel(context.arguments, command: context.command)
      let spoolDirectory = context.arguments.value("spool-dir")
      return Opened(connectSink: {
        let archive = try Archive(path: path, create: false)
        archive.compressionLevel = level
        let sink = ArchiveSink(archive)
        if let directory = spoolDirectory { sink.spoolDirectory = directory }
        return sink
      })
    case (.local(let kind, let path), .reading):
      let connect = try localSource(kind, path: path)
      return Opened(connectSource: connect, check: { _ = try connect() })
    case (.local(let kind, let path), .writing):
      let connect = try localSink(kind, path: path)
      return Opened(connectSink: connect, check: { _ = try connect() })
    case (.server(let url), _):
      return try openServer(url, text: text, side: side, role: role, context: context, silent: silent, console: console)
    }
  }

  private static func openServer(
    _ url: ServerURL, text: String, side: String?, role: Role, context: Context, silent: Console, console: Console
  ) throws -> Opened {
    let arguments = context.arguments
    switch (url.scheme, role) {
    case (.imap, _), (.imaps, _):
      let options = try IMAPSessionOptions(
        text, arguments: arguments, command: context.command, side: side, soleServer: context.soleServer,
        sharedTrace: context.trace)
      let credential = try options.credential(console: console)
      let connect: @Sendable () throws -> IMAPClient = {
        try options.openSession(console: silent, credential: credential)
      }
      var opened = Opened(check: { try options.openSession(console: console, credential: credential).logout() })
      switch role {
      case .reading:
        opened.connectSource = { IMAPSource(try connect()) }
        opened.connectSourceVisibly = { IMAPSource(try options.openSession(console: console, credential: credential)) }
      case .writing: opened.connectSink = { IMAPSink(try connect()) }
      }
      return opened
    case (.pop3, .reading), (.pop3s, .reading):
      let options = try POP3SessionOptions(
        text, arguments: arguments, command: context.command, side: side, soleServer: context.soleServer,
        sharedTrace: context.trace)
      let credential = try options.credential(console: console)
      return Opened(
        connectSource: { POP3Source(try options.openSession(console: silent, credential: credential)) },
        check: { try options.openSession(console: console, credential: credential).logout() },
        connectSourceVisibly: { POP3Source(try options.openSession(console: console, credential: credential)) })
    case (.smtp, .writing), (.smtps, .writing), (.lmtp, .writing):
      let options = try SMTPSessionOptions(
        text, arguments: arguments, command: context.command, side: side, soleServer: context.soleServer,
        sharedTrace: context.trace)
      let credential = try options.credential(console: console)
      return Opened(
        connectSink: { options.sink(try options.openSession(console: silent, credential: credential)) },
        check: { try options.openSession(console: console, credential: credential).quit() })
    case (.pop3, .writing), (.pop3s, .writing):
      throw ConfigurationError(
        what: "\(side ?? "store") '\(url.display)'", problem: "cannot be written to (POP3 only reads a maildrop)",
        fix: "write to imap(s)://, smtp(s)://, lmtp://, an archive directory, maildir:, mbox: or eml:PATH")
    case (.smtp, .reading), (.smtps, .reading), (.lmtp, .reading):
      throw ConfigurationError(
        what: "\(side ?? "store") '\(url.display)'",
        problem: "cannot be read from (\(url.scheme.rawValue) only delivers; what it delivered cannot be listed)",
        fix: "read from imap(s)://, pop3(s)://, an archive directory, maildir:PATH or mbox:PATH")
    }
  }

  /// A local store read as a source; each worker opens its own instance.
  static func localSource(_ kind: JobEndpoint.LocalKind, path: String) throws -> Migration.ConnectSource {
    switch kind {
    case .maildir:
      return { try MaildirSource(root: path) }
    case .mbox:
      return { try MboxSource(path: path) }
    case .eml:
      throw ConfigurationError(
        what: "eml:\(path)", problem: "can only be written to", fix: "read from maildir:PATH or mbox:PATH")
    }
  }

  /// A local store written as a target; the first instance (the check) looks at the
  /// layout, the workers' do not.
  static func localSink(_ kind: JobEndpoint.LocalKind, path: String) throws -> Migration.ConnectSink {
    switch kind {
    case .maildir:
      let checked = Checked()
      return { try MaildirSink(root: path, checkingLayout: checked.first()) }
    case .mbox:
      return { try MboxSink(path: path) }
    case .eml:
      return { try EmlSink(directory: path) }
    }
  }

  /// `--compression N` (1 fast … 9 small, default 6) for archive targets.
  static func compressionLevel(_ arguments: ParsedArguments, command: String) throws -> Int32 {
    guard arguments.value("compression") != nil else { return 6 }
    let level = try arguments.count("compression", default: 6, command: command)
    guard (1...9).contains(level) else {
      throw UsageError(command: command, message: "option '--compression' takes a level from 1 to 9, not \(level)")
    }
    return Int32(level)
  }
}

/// True the first time only, from any thread.
private final class Checked: @unchecked Sendable {
  private let lock = NSLock()
  private var done = false
  func first() -> Bool {
    lock.withLock {
      defer { done = true }
      return !done
    }
  }
}
