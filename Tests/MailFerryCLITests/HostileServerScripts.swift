import Foundation
import ServerFixtures

/// Scripts for `ScriptedServer`: small IMAP and POP3 servers that log anyone in and then
/// misbehave where a test says.
enum HostileServerScripts {
  /// An IMAP server: greets (with `greeting`), lets `answer` handle a command first (it
  /// returns true when it did), answers LOGOUT with BYE, everything else with OK.
  static func imap(
    greeting: String = "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR] hostile server ready",
    answer: @escaping @Sendable (_ tag: String, _ command: String, _ connection: ScriptedConnection) throws -> Bool
  ) -> @Sendable (ScriptedConnection) throws -> Void {
    { connection in
      try connection.send(greeting + "\r\n")
      while true {
        let line = try connection.readLine()
        let parts = line.split(separator: " ", maxSplits: 1)
        guard let tag = parts.first.map(String.init) else { continue }
        let command = parts.count > 1 ? String(parts[1]) : ""
        if try answer(tag, command, connection) { continue }
        if command.uppercased().hasPrefix("LOGOUT") {
          try connection.send("* BYE see you\r\n\(tag) OK bye\r\n")
          return
        }
        try connection.send("\(tag) OK done\r\n")
      }
    }
  }

  /// An IMAP account with one folder, INBOX, holding `messages` (UID → what FETCH sends as
  /// RFC822.SIZE, and how the body is sent).
  static func imapMailbox(
    _ messages: [UInt32: (listedSize: Int, send: @Sendable (ScriptedConnection) throws -> Void)]
  )
    -> @Sendable (ScriptedConnection) throws -> Void
  {
    imap { tag, command, connection in
      let upper = command.uppercased()
      if upper.hasPrefix("LIST") {
        try connection.send("* LIST (\\HasNoChildren) \"/\" INBOX\r\n\(tag) OK listed\r\n")
      } else if upper.hasPrefix("EXAMINE") || upper.hasPrefix("SELECT") || upper.hasPrefix("STATUS") {
        try connection.send(
          "* \(messages.count) EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT \((messages.keys.max() ?? 0) + 1)] ok\r\n"
            + (upper.hasPrefix("STATUS") ? "* STATUS INBOX (MESSAGES \(messages.count))\r\n" : "")
            + "\(tag) OK [READ-ONLY] done\r\n")
      } else if upper.hasPrefix("UID SEARCH") {
        try connection.send(
          "* SEARCH \(messages.keys.sorted().map(String.init).joined(separator: " "))\r\n\(tag) OK\r\n")
      } else if upper.hasPrefix("UID FETCH") {
        let words = command.split(separator: " ")
        let uids = words.count > 2 ? uidSet(String(words[2])).filter { messages[$0] != nil } : []
        for (index, uid) in uids.enumerated() {
          guard let message = messages[uid] else { continue }
          if upper.contains("BODY.PEEK[]") {
            try connection.send("* \(index + 1) FETCH (UID \(uid) BODY[] ")
            try message.send(connection)
            try connection.send(")\r\n")
          } else {
            let header = "Message-ID: <\(uid)@hostile.example>\r\n\r\n"
            try connection.send(
              "* \(index + 1) FETCH (UID \(uid) FLAGS () INTERNALDATE \"01-Jan-2024 10:00:00 +0000\" "
                + "RFC822.SIZE \(message.listedSize) BODY[HEADER.FIELDS (MESSAGE-ID)] {\(header.utf8.count)}\r\n"
                + header + ")\r\n")
          }
        }
        try connection.send("\(tag) OK fetched\r\n")
      } else {
        return false
      }
      return true
    }
  }

  /// A small, well-formed message with `uid` in its Message-ID.
  static func message(_ uid: UInt32) -> String {
    "From: a@hostile.example\r\nTo: b@hostile.example\r\nSubject: fine \(uid)\r\n"
      + "Message-ID: <\(uid)@hostile.example>\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\n\r\nHello.\r\n"
  }

  /// A POP3 maildrop: messages numbered from 1, listed with `listedSize`, sent by `send`
  /// (the bytes between `+OK` and the terminating dot line).
  static func pop3(
    _ messages: [(listedSize: Int, send: @Sendable (ScriptedConnection) throws -> Void)]
  )
    -> @Sendable (ScriptedConnection) throws -> Void
  {
    { connection in
      try connection.send("+OK hostile POP3 ready\r\n")
      while true {
        let line = try connection.readLine()
        let words = line.split(separator: " ").map(String.init)
        switch words.first?.uppercased() ?? "" {
        case "CAPA": try connection.send("+OK\r\nUSER\r\nUIDL\r\nPIPELINING\r\n.\r\n")
        case "STAT": try connection.send("+OK \(messages.count) \(messages.reduce(0) { $0 + $1.listedSize })\r\n")
        case "LIST":
          try connection.send(
            "+OK\r\n" + messages.enumerated().map { "\($0.offset + 1) \($0.element.listedSize)\r\n" }.joined() + ".\r\n"
          )
        case "UIDL":
          try connection.send(
            "+OK\r\n" + messages.indices.map { "\($0 + 1) hostile-\($0 + 1)\r\n" }.joined() + ".\r\n")
        case "RETR":
          guard let number = words.dropFirst().first.flatMap({ Int($0) }), messages.indices.contains(number - 1) else {
            try connection.send("-ERR no such message\r\n")
            continue
          }
          try connection.send("+OK\r\n")
          try messages[number - 1].send(connection)
          try connection.send(".\r\n")
        case "QUIT":
          try connection.send("+OK bye\r\n")
          return
        default: try connection.send("+OK\r\n")
        }
      }
    }
  }

  /// The UIDs of an IMAP sequence set of numbers and ranges (no `*`).
  static func uidSet(_ text: String) -> [UInt32] {
    text.split(separator: ",").flatMap { part -> [UInt32] in
      let bounds = part.split(separator: ":").compactMap { UInt32($0) }
      guard let low = bounds.min(), let high = bounds.max() else { return [] }
      return Array(low...high)
    }
  }
}
