import IMAPCodec
import Testing

@Suite struct StatusResponseTests {
  @Test func greetingWithCapabilities() throws {
    let response = try single("* OK [CAPABILITY IMAP4rev1 LITERAL+ STARTTLS AUTH=PLAIN] Dovecot ready.\r\n")
    #expect(
      response
        == .untagged(
          .status(
            ResponseStatus(
              kind: .ok, code: .capability(["IMAP4rev1", "LITERAL+", "STARTTLS", "AUTH=PLAIN"]), text: "Dovecot ready.")
          )))
  }

  @Test func taggedResponsesWithCodes() throws {
    #expect(
      try single("a3 OK [APPENDUID 38505 3955:3957,3960] APPEND completed\r\n")
        == .tagged(
          tag: "a3",
          status: ResponseStatus(
            kind: .ok, code: .appendUID(uidValidity: 38505, uids: UIDSet([3955, 3956, 3957, 3960])),
            text: "APPEND completed")))
    #expect(
      try single("A004 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n")
        == .tagged(
          tag: "A004",
          status: ResponseStatus(
            kind: .ok,
            code: .copyUID(uidValidity: 38505, source: UIDSet([304, 319, 320]), destination: UIDSet(3956...3958)),
            text: "Done")))
    #expect(
      try single("b NO [TRYCREATE] Mailbox doesn't exist: Foo\r\n")
        == .tagged(tag: "b", status: ResponseStatus(kind: .no, code: .tryCreate, text: "Mailbox doesn't exist: Foo")))
    #expect(
      try single("c NO [OVERQUOTA] Quota exceeded (mailbox for user is full)\r\n")
        == .tagged(
          tag: "c",
          status: ResponseStatus(kind: .no, code: .overQuota, text: "Quota exceeded (mailbox for user is full)")
        ))
    #expect(try single("d BAD\r\n") == .tagged(tag: "d", status: ResponseStatus(kind: .bad, text: "")))
  }

  @Test func selectResponses() throws {
    let all = try responses(
      """
      * FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)\r
      * OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded \\*)] Flags permitted.\r
      * 172 EXISTS\r
      * 1 RECENT\r
      * OK [UNSEEN 12] Message 12 is first unseen\r
      * OK [UIDVALIDITY 3857529045] UIDs valid\r
      * OK [UIDNEXT 4392] Predicted next UID\r
      * OK [HIGHESTMODSEQ 715194045007] Highest\r
      a2 OK [READ-WRITE] Select completed (0.001 + 0.000 secs).\r

      """)
    #expect(all.count == 9)
    #expect(all[0] == .untagged(.flags(["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft", "$Forwarded"])))
    #expect(
      all[1]
        == .untagged(
          .status(
            ResponseStatus(
              kind: .ok,
              code: .permanentFlags(["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft", "$Forwarded", "\\*"]),
              text: "Flags permitted."))))
    #expect(all[2] == .untagged(.exists(172)))
    #expect(all[3] == .untagged(.recent(1)))
    #expect(
      all[5] == .untagged(.status(ResponseStatus(kind: .ok, code: .uidValidity(3_857_529_045), text: "UIDs valid"))))
    #expect(all[6] == .untagged(.status(ResponseStatus(kind: .ok, code: .uidNext(4392), text: "Predicted next UID"))))
    #expect(
      all[7] == .untagged(.status(ResponseStatus(kind: .ok, code: .highestModSeq(715_194_045_007), text: "Highest"))))
    #expect(
      all[8]
        == .tagged(
          tag: "a2", status: ResponseStatus(kind: .ok, code: .readWrite, text: "Select completed (0.001 + 0.000 secs).")
        ))
  }

  @Test func byeAndAlert() throws {
    #expect(
      try single("* BYE Server shutting down.\r\n")
        == .untagged(.status(ResponseStatus(kind: .bye, text: "Server shutting down."))))
    #expect(
      try single("* OK [ALERT] System shutdown in 10 minutes\r\n")
        == .untagged(.status(ResponseStatus(kind: .ok, code: .alert, text: "System shutdown in 10 minutes"))))
    #expect(
      try single("* NO [WEBALERT https://example.org/x] Web login required\r\n")
        == .untagged(
          .status(
            ResponseStatus(
              kind: .no, code: .other(name: "WEBALERT", text: "https://example.org/x"), text: "Web login required"))))
  }

  @Test func continuationRequests() throws {
    #expect(try single("+ Ready for literal data\r\n") == .continuation(text: "Ready for literal data"))
    #expect(try single("+\r\n") == .continuation(text: ""))
    #expect(try single("+ \r\n") == .continuation(text: ""))
  }
}

@Suite struct MailboxDataTests {
  @Test func listWithSpecialUseAndEncodedNames() throws {
    let all = try responses(
      """
      * LIST (\\HasNoChildren \\Sent) "/" Sent\r
      * LIST (\\Noselect \\HasChildren) "/" "Ent&APw-rfe"\r
      * LIST (\\HasNoChildren) "/" {10}\r
      Quote"Mark\r
      * LIST (\\HasNoChildren) NIL Flat\r
      * LIST (\\HasNoChildren \\Trash) "." "Deleted Items"\r
      * LIST () "/" "back\\\\slash"\r

      """)
    #expect(all.count == 6)
    guard case .untagged(.list(let sent)) = all[0], case .untagged(.list(let drafts)) = all[1],
      case .untagged(.list(let literal)) = all[2], case .untagged(.list(let flat)) = all[3],
      case .untagged(.list(let trash)) = all[4], case .untagged(.list(let backslash)) = all[5]
    else {
      Issue.record("not LIST responses: \(all)")
      return
    }
    #expect(sent.specialUse == "\\Sent")
    #expect(sent.separator == "/")
    #expect(sent.name.wireName == "Sent")
    #expect(!drafts.isSelectable)
    #expect(drafts.name.wireName == "Ent&APw-rfe")
    #expect(literal.name.wireName == "Quote\"Mark")
    #expect(flat.separator == nil)
    #expect(trash.name.wireName == "Deleted Items")
    #expect(trash.specialUse == "\\Trash")
    #expect(backslash.name.wireName == "back\\slash")
  }

  @Test func statusSearchEsearchVanished() throws {
    #expect(
      try single("* STATUS \"Sent Items\" (MESSAGES 231 UIDNEXT 44292 UIDVALIDITY 1 SIZE 120034)\r\n")
        == .untagged(
          .mailboxStatus(
            mailbox: MailboxName("Sent Items"),
            items: ["MESSAGES": 231, "UIDNEXT": 44292, "UIDVALIDITY": 1, "SIZE": 120034])))
    #expect(try single("* SEARCH 2 84 882\r\n") == .untagged(.search(ids: [2, 84, 882], modSeq: nil)))
    #expect(try single("* SEARCH\r\n") == .untagged(.search(ids: [], modSeq: nil)))
    #expect(try single("* SEARCH 2 5 (MODSEQ 917162500)\r\n") == .untagged(.search(ids: [2, 5], modSeq: 917_162_500)))
    #expect(
      try single("* ESEARCH (TAG \"a5\") UID ALL 4:7,10 COUNT 5 MIN 4 MAX 10\r\n")
        == .untagged(
          .esearch(
            ESearchResponse(tag: "a5", uid: true, all: UIDSet([4, 5, 6, 7, 10]), min: 4, max: 10, count: 5))))
    #expect(
      try single("* VANISHED (EARLIER) 300:310,405\r\n")
        == .untagged(.vanished(earlier: true, uids: UIDSet([405]).union(300...310))))
    #expect(try single("* 44 EXPUNGE\r\n") == .untagged(.expunge(44)))
  }

  @Test func namespaceEnabledIdCapability() throws {
    #expect(
      try single("* NAMESPACE ((\"\" \"/\")) ((\"~\" \"/\")) ((\"#shared/\" \"/\")(\"#public/\" \"/\"))\r\n")
        == .untagged(
          .namespace(
            NamespaceResponse(
              personal: [.init(prefix: "", separator: "/")], otherUsers: [.init(prefix: "~", separator: "/")],
              shared: [.init(prefix: "#shared/", separator: "/"), .init(prefix: "#public/", separator: "/")]))))
    #expect(
      try single("* NAMESPACE ((\"INBOX.\" \".\")) NIL NIL\r\n")
        == .untagged(
          .namespace(NamespaceResponse(personal: [.init(prefix: "INBOX.", separator: ".")], otherUsers: [], shared: []))
        ))
    #expect(try single("* ENABLED CONDSTORE QRESYNC\r\n") == .untagged(.enabled(["CONDSTORE", "QRESYNC"])))
    #expect(
      try single("* ID (\"name\" \"Dovecot\" \"version\" NIL)\r\n")
        == .untagged(.id(["name": "Dovecot", "version": ""])))
    #expect(try single("* ID NIL\r\n") == .untagged(.id([:])))
    #expect(try single("* CAPABILITY IMAP4rev1 IDLE \r\n") == .untagged(.capability(["IMAP4rev1", "IDLE"])))
  }

  @Test func unknownResponsesAreKeptNotFatal() throws {
    #expect(
      try single("* XFOO (a \"b c\" {3}\r\nxyz) bar\r\n")
        == .untagged(.other(name: "XFOO", text: "(a \"b c\" {3}\r\nxyz) bar")))
  }
}

extension UIDSet {
  func union(_ range: ClosedRange<UInt32>) -> UIDSet {
    var copy = self
    copy.insert(range)
    return copy
  }
}
