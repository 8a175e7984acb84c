import IMAPCodec
import MailCore
import Testing

/// Server output shaped like real providers', written from their documentation and from
/// Dovecot's actual replies: every line must parse, whole and byte by byte.
@Suite struct ProviderTranscriptTests {
  /// Lines joined with CRLF; `{n}` literal sizes below count the CRLFs inside them.
  static func wire(_ lines: [String]) -> String { lines.map { $0 + "\r\n" }.joined() }

  @Test func dovecot() throws {
    let all = try responses(
      Self.wire([
        "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ AUTH=PLAIN AUTH=LOGIN] Dovecot (Debian) ready.",
        "a OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ NOTIFY SPECIAL-USE COMPRESS=DEFLATE] Logged in",
        "* LIST (\\HasNoChildren \\Sent) \"/\" Sent",
        "* LIST (\\HasNoChildren) \"/\" INBOX",
        "* STATUS INBOX (MESSAGES 2 SIZE 5120)",
        "b OK List completed (0.001 + 0.000 secs).",
        "* ID (\"name\" \"Dovecot\")",
        "* ENABLED CONDSTORE QRESYNC",
        "* 2 FETCH (UID 2 MODSEQ (3) FLAGS (\\Seen))",
        "* VANISHED (EARLIER) 1",
        "c OK Fetch completed (0.001 + 0.000 + 0.001 secs).",
        "d OK [APPENDUID 1700000000 4:5] Append completed (0.004 + 0.000 + 0.003 secs).",
        "* BYE Logging out",
      ]))
    #expect(all.count == 13)
    guard case .tagged(_, let loggedIn) = all[1], case .capability(let capabilities)? = loggedIn.code else {
      Issue.record("no capabilities after login")
      return
    }
    #expect(capabilities.contains("COMPRESS=DEFLATE"))
  }

  @Test func gmailShaped() throws {
    let body = "Message-ID: <x@mail.gmail.com>\r\n\r\nhi\r\n"
    let parsed = try parseEveryWay(
      Self.wire([
        "* OK Gimap ready for requests from 192.0.2.1 a1mb12345xyz",
        "* CAPABILITY IMAP4rev1 UNSELECT IDLE NAMESPACE QUOTA ID XLIST CHILDREN X-GM-EXT-1 UIDPLUS COMPRESS=DEFLATE ENABLE MOVE CONDSTORE ESEARCH UTF8=ACCEPT LIST-EXTENDED LIST-STATUS LITERAL- SPECIAL-USE APPENDLIMIT=35651584",
        "* LIST (\\HasNoChildren) \"/\" \"INBOX\"",
        "* LIST (\\HasChildren \\Noselect) \"/\" \"[Gmail]\"",
        "* LIST (\\All \\HasNoChildren) \"/\" \"[Gmail]/All Mail\"",
        "* LIST (\\HasNoChildren \\Sent) \"/\" \"[Gmail]/Sent Mail\"",
        "* LIST (\\Flagged \\HasNoChildren) \"/\" \"[Gmail]/Starred\"",
        "* LIST (\\HasNoChildren) \"/\" \"&AMk-t&AOk-\"",
        "* 1 FETCH (X-GM-THRID 1266894439832287888 X-GM-MSGID 1266894439832287888 X-GM-LABELS (\\Important \"\\\\Sent\" Work) UID 4 RFC822.SIZE 38 INTERNALDATE \"22-Feb-2010 03:53:24 +0000\" FLAGS (\\Seen) BODY[] {\(body.utf8.count)}",
        body + ")",
        "a OK Success",
        "b NO [ALERT] Please log in via your web browser: https://support.example.com/mail/accounts/answer/78754 (Failure)",
        "c NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)",
        "* BYE System error",
      ]))
    let lists = parsed.compactMap { item -> MailboxListing? in
      if case .response(.untagged(.list(let listing))) = item { return listing }
      return nil
    }
    #expect(lists.count == 6)
    #expect(lists.first { $0.specialUse == "\\All" }?.name.wireName == "[Gmail]/All Mail")
    #expect(lists.contains { !$0.isSelectable && $0.name.wireName == "[Gmail]" })
    guard let bodyItem = parsed.first(where: { if case .body = $0 { true } else { false } }),
      case .body(let start, let bytes) = bodyItem
    else {
      Issue.record("no body streamed")
      return
    }
    #expect(start.uid == 4)
    #expect(bytes == Array(body.utf8))
    #expect(
      parsed.contains {
        if case .response(.tagged(_, let status)) = $0, status.code == .other(name: "AUTHENTICATIONFAILED", text: nil) {
          return true
        }
        return false
      })
  }

  /// Gmail's labels come as system labels (`\\Inbox`, also quoted), atoms, quoted strings,
  /// literals and modified UTF-7; an empty list is a message in no label.
  @Test func gmailLabelsAndMessageIDs() throws {
    let all = try responses(
      Self.wire([
        "* 1 FETCH (X-GM-MSGID 1278455344230334865 X-GM-LABELS (\\Inbox \"\\\\Important\" Work \"Project X\" {6}",
        "Lit(e) &AMk-t&AOk-) UID 7 FLAGS (\\Seen))",
        "* 2 FETCH (UID 8 X-GM-LABELS () X-GM-MSGID 1278455344230334866 X-GM-THRID 1278455344230334865)",
      ]))
    let fetches = all.compactMap { response -> FetchResponse? in
      if case .untagged(.fetch(let fetch)) = response { return fetch }
      return nil
    }
    #expect(fetches.count == 2)
    #expect(fetches.first?.gmailLabels == ["\\Inbox", "\\Important", "Work", "Project X", "Lit(e)", "&AMk-t&AOk-"])
    #expect(fetches.first?.gmailMessageID == 1_278_455_344_230_334_865)
    #expect(fetches.first?.uid == 7)
    #expect(fetches.last?.gmailLabels == [])
    #expect(fetches.last?.gmailMessageID == 1_278_455_344_230_334_866)
    #expect(throws: (any Error).self) { try responses(Self.wire(["* 3 FETCH (X-GM-LABELS (\\ Work))"])) }
  }

  @Test func exchangeShaped() throws {
    let all = try responses(
      Self.wire([
        "* OK The Microsoft Exchange IMAP4 service is ready. [TQBXADIAUABSADAAMQBDAEEAMAAwADEANQAuAG4AYQBtAHAAcgBkADAAMQAuAHAAcgBvAGQA]",
        "* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+",
        "* LIST (\\HasNoChildren \\Sent) \"/\" \"Sent Items\"",
        "* LIST (\\HasNoChildren \\Trash) \"/\" \"Deleted Items\"",
        "* LIST (\\HasNoChildren \\Junk) \"/\" \"Junk Email\"",
        "* LIST (\\Marked \\HasNoChildren) \"/\" Outbox",
        "* LIST (\\HasChildren) \"/\" \"Calendar\"",
        "* LIST (\\HasNoChildren) \"/\" \"Calendar/Birthdays\"",
        "* NAMESPACE ((\"\" \"/\")) NIL NIL",
        "* 1 FETCH (UID 12 FLAGS (\\Seen) INTERNALDATE \"05-Mar-2024 14:07:09 +0000\" RFC822.SIZE 1234)",
        "* 2 FETCH (FLAGS () UID 13 RFC822.SIZE 99 INTERNALDATE \" 6-Mar-2024 01:00:00 +0100\")",
        "a NO AUTHENTICATE failed.",
        "b BAD User is authenticated but not connected.",
        "c NO [TRYCREATE] Mailbox doesn't exist: Archive/2019",
        "* BYE Connection is closed. 13",
      ]))
    #expect(all.count == 15)
    guard case .untagged(.fetch(let second)) = all[10] else {
      Issue.record("no FETCH")
      return
    }
    #expect(second.uid == 13)
    #expect(second.flags == [])
    #expect(second.internalDate?.zoneMinutes == 60)
  }

  @Test func cyrusShaped() throws {
    let all = try responses(
      Self.wire([
        "* OK [CAPABILITY IMAP4rev1 LITERAL+ ID ENABLE STARTTLS AUTH=PLAIN SASL-IR] imap.example.org Cyrus IMAP 3.6.1 server ready",
        "* LIST (\\HasNoChildren) \".\" INBOX.Sent",
        "* LIST (\\HasChildren) \".\" INBOX",
        "* LIST (\\HasNoChildren \\Drafts) \".\" INBOX.Drafts",
        "* NAMESPACE ((\"INBOX.\" \".\")) ((\"user.\" \".\")) ((\"\" \".\"))",
        "* OK [MAILBOXID (F7d6c2a3-85a1-4c08-9b8a-b2c3f1c6a7f1)] Ok",
        "* OK [ANNOTATIONS 65536] Ok",
        "* OK [URLMECH INTERNAL] Ok",
        "* 3 FETCH (UID 3 MODSEQ (5) FLAGS (\\Seen $MDNSent))",
        "* ESEARCH (TAG \"s1\") UID MIN 1 MAX 3 COUNT 3 ALL 1:3",
        "a OK Completed",
      ]))
    #expect(all.count == 11)
    #expect(
      all[5]
        == .untagged(
          .status(
            ResponseStatus(
              kind: .ok, code: .other(name: "MAILBOXID", text: "(F7d6c2a3-85a1-4c08-9b8a-b2c3f1c6a7f1)"), text: "Ok"))))
    guard case .untagged(.namespace(let namespace)) = all[4] else {
      Issue.record("no NAMESPACE")
      return
    }
    #expect(namespace.personal == [.init(prefix: "INBOX.", separator: ".")])
  }

  /// Cyrus IMAP 3.6's own replies, captured from the test fixture: response codes Dovecot
  /// never sends (MAILBOXID), its namespaces, refusals without codes, and INTERNALDATE
  /// with a space-padded day.
  @Test func cyrus() throws {
    let body = "Subject: bare lf\r\n\r\nbody\r\n"
    let all = try responses(
      Self.wire([
        "* OK [CAPABILITY IMAP4rev1 LITERAL+ ID ENABLE STARTTLS AUTH=PLAIN AUTH=LOGIN SASL-IR] mailferry-cyrus Cyrus IMAP 3.6.1-Debian-3.6.1-4+deb12u5 server ready",
        "a OK [CAPABILITY IMAP4rev1 LITERAL+ ID ENABLE ACL CHILDREN CONDSTORE CREATE-SPECIAL-USE ESEARCH LIST-EXTENDED METADATA MOVE MULTIAPPEND NAMESPACE QRESYNC QUOTA SPECIAL-USE STATUS=SIZE UIDPLUS UNSELECT XLIST COMPRESS=DEFLATE IDLE APPENDLIMIT=4294967295] User logged in SESSIONID=<mailferry-cyrus-1796178870-5376-1-18395233868306847312>",
        "* NAMESPACE ((\"INBOX.\" \".\")) ((\"user.\" \".\")) ((\"\" \".\"))",
        "b OK Completed",
        "* LIST (\\HasChildren) \".\" INBOX",
        "* LIST (\\HasNoChildren \\Sent) \".\" INBOX.Sent",
        "* LIST (\\HasNoChildren) \".\" \"INBOX.Gr&APYA3w-e &- Co\"",
        "* LIST (\\HasNoChildren) \".\" INBOX.a^b",
        "c OK Completed (0.000 secs 5 calls)",
        "d OK [MAILBOXID (856tzguwctznv1fzw0t8wsvt)] Completed",
        "e NO Mailbox already exists",
        "f NO Invalid mailbox name",
        "g NO Message contains bare newlines",
        "h OK [APPENDUID 1796178871 1] Completed",
        "* 1 FETCH (FLAGS (\\Recent \\Seen $Label1 Projekt-X) UID 1 INTERNALDATE \" 1-Jan-2020 09:00:00 +0000\" BODY[] {\(body.utf8.count)}",
        body + ")",
        "i OK Completed (0.000 sec)",
      ]))
    let namespace = all.compactMap { if case .untagged(.namespace(let namespace)) = $0 { namespace } else { nil } }
    #expect(namespace.first?.personal == [.init(prefix: "INBOX.", separator: ".")])
    let lists = all.compactMap { if case .untagged(.list(let listing)) = $0 { listing } else { nil } }
    #expect(lists.map(\.name.wireName) == ["INBOX", "INBOX.Sent", "INBOX.Gr&APYA3w-e &- Co", "INBOX.a^b"])
    #expect(lists[1].specialUse == "\\Sent")
    let statuses = all.compactMap { if case .tagged(_, let status) = $0 { status } else { nil } }
    #expect(statuses.map(\.kind) == [.ok, .ok, .ok, .ok, .no, .no, .no, .ok, .ok])
    #expect(statuses[4].code == nil && statuses[4].text == "Mailbox already exists")
    #expect(statuses[7].code == .appendUID(uidValidity: 1_796_178_871, uids: UIDSet([1])))
    let fetch = all.compactMap { if case .untagged(.fetch(let fetch)) = $0 { fetch } else { nil } }.first
    #expect(fetch?.internalDate == ReceivedDate(secondsSince1970: 1_577_869_200, zoneMinutes: 0))
    #expect(fetch?.flags == ["\\Recent", "\\Seen", "$Label1", "Projekt-X"])
  }
}
