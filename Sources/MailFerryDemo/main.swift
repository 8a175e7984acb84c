import Foundation
import ServerFixtures

// mailferry-demo: starts a private Dovecot on loopback, creates an account with a few
// folders of messages, and runs the real `mailferry` binary against it (probe, folders),
// then migrates the account to a second Dovecot laid out like another provider, twice,
// backs it up into an archive, looks inside it and restores one folder, printing what it
// prints. `make demo` runs it.

let binary = CommandLine.arguments.dropFirst().first ?? ".build/release/mailferry"
guard FileManager.default.isExecutableFile(atPath: binary) else {
  FileHandle.standardError.write(Data("mailferry-demo: \(binary) not found; run 'make demo'\n".utf8))
  exit(1)
}

let server = try DovecotServer(flavor: .standard)
defer { server.stop() }
let user = try server.createUser("demo")
let folders = ["INBOX": 12, "Archive/2024": 30, "Projekte/Größe & Co": 7, "Sent": 5]
for (folder, count) in folders.sorted(by: { $0.key < $1.key }) {
  if folder != "INBOX" && folder != "Sent" { try server.doveadm(["mailbox", "create", "-u", user.name, folder]) }
  for number in 1...count {
    let message = """
      From: Alice <alice@example.org>\r
      To: Demo <demo@example.net>\r
      Subject: \(folder) message \(number)\r
      Message-ID: <demo-\(folder.hashValue)-\(number)@example.org>\r
      Date: Tue, 5 Mar 2024 14:07:09 +0100\r
      \r
      \(String(repeating: "A line of a demo message body.\r\n", count: 10 * number))
      """
    try server.deliver(Array(message.utf8), to: user.name, folder: folder)
  }
}

func show(_ arguments: [String], environment: [String: String]? = nil) throws {
  print("$ mailferry " + arguments.joined(separator: " "))
  let result = try Subprocess.run(
    [binary] + arguments, environment: environment ?? ["MAILFERRY_PASSWORD": user.password], check: false)
  print(result.stderr + result.stdout, terminator: "")
  print("(exit status \(result.status))\n")
}

let url = "imaps://\(user.name)@localhost:\(server.imapsPort)"
print("A private Dovecot is listening on 127.0.0.1 (IMAPS port \(server.imapsPort)) with a demo account.\n")
try show(["probe", url, "--ca-file", server.caFile])
try show(["folders", url, "--ca-file", server.caFile])
try show(["folders", url])  // no --ca-file: the private CA is not trusted, and the error says what to do

// A second provider with "." as separator and Exchange-style folder names; migrate to it.
let target = try DovecotServer(flavor: .exchangeLike)
defer { target.stop() }
let targetUser = try target.createUser("new")
let targetURL = "imaps://\(targetUser.name)@localhost:\(target.imapsPort)"
let state = NSTemporaryDirectory() + "mailferry-demo-\(getpid()).sqlite"
defer { try? FileManager.default.removeItem(atPath: state) }
let passwords = ["MAILFERRY_SOURCE_PASSWORD": user.password, "MAILFERRY_TARGET_PASSWORD": targetUser.password]
let migrate = [
  "migrate", url, targetURL, "--source-ca-file", server.caFile, "--target-ca-file", target.caFile, "--state", state,
]
print("A second Dovecot plays the new provider (IMAPS port \(target.imapsPort)).\n")
try show(migrate, environment: passwords)
try show(
  ["verify", url, targetURL, "--source-ca-file", server.caFile, "--target-ca-file", target.caFile],
  environment: passwords)
print("Run again: only what is new moves (nothing, here).\n")
try show(migrate, environment: passwords)
try show(["folders", targetURL, "--ca-file", target.caFile], environment: ["MAILFERRY_PASSWORD": targetUser.password])

// Backup into an archive, look inside it, restore one folder into a fresh account.
let archive = NSTemporaryDirectory() + "mailferry-demo-archive-\(getpid())"
defer { try? FileManager.default.removeItem(atPath: archive) }
print("Back the account up into an archive directory, twice (the second run stores nothing).\n")
let backup = ["backup", url, archive, "--ca-file", server.caFile]
try show(backup)
try show(backup)
try show(["archive", "list", archive])
try show(["archive", "search", archive, "--subject", "Größe", "--folder", "Projekte/Größe & Co"])
try show(["archive", "verify", archive])
let restoreUser = try target.createUser("restored")
print("Restore one folder into a fresh account on the second Dovecot.\n")
try show(
  [
    "restore", archive, "imaps://\(restoreUser.name)@localhost:\(target.imapsPort)", "--folder",
    "Projekte/Größe & Co", "--ca-file", target.caFile, "--state", archive + "-restore.sqlite",
  ], environment: ["MAILFERRY_PASSWORD": restoreUser.password])
try? FileManager.default.removeItem(atPath: archive + "-restore.sqlite")
