import Mailstore
import Testing

@testable import Engine

/// Target names beyond the plain mapping: rules, names earlier runs used, collision
/// suffixes, special folders to create, names a server refuses, and label sources.
@Suite struct FolderNamingTests {
  @Test func rulesRewriteTranslatedNamesAndBadRulesAreRefused() throws {
    var naming = FolderNaming()
    naming.rules = [try FolderRule("s/^INBOX\\///"), try FolderRule("s|old (.*)|Archiv/$1|i")]
    let source: [FolderDescriptor] = [
      .init(name: "INBOX", separator: "/"), .init(name: "INBOX/Work", separator: "/"),
      .init(name: "OLD 2019", separator: "/"),
    ]
    let (plan, _) = try FolderPlanner.plan(source: source, target: [], targetSeparator: "/", naming: naming)
    let map = Dictionary(uniqueKeysWithValues: plan.map { ($0.source.name, $0.targetName) })
    #expect(map == ["INBOX": "INBOX", "INBOX/Work": "Work", "OLD 2019": "Archiv/2019"])
    #expect(plan.first { $0.source.name == "INBOX/Work" }?.reason == "--folder-map s/^INBOX\\///")
    for bad in ["x/a/b/", "s/a/b", "s/(/x/", "s/a/b/q", "s//b/"] {
      #expect(throws: FolderRuleError.self) { try FolderRule(bad) }
    }
    #expect(try FolderRule("s/a\\/b/c/").apply(to: "xa/by") == "xcy")
  }

  @Test func collisionSuffixesAreTheSameInEveryProcessAndEarlierNamesWin() throws {
    // The suffix is FNV-1a of the source name: a fixed value, never Swift's seeded hash.
    #expect(FolderPlanner.stableSuffix("Sent Items") == FolderPlanner.stableSuffix("Sent Items"))
    #expect(FolderPlanner.stableSuffix("Sent Items") == "2fbf")
    #expect(FolderPlanner.stableSuffix("Sent Items") != FolderPlanner.stableSuffix("Sent items"))

    let source: [FolderDescriptor] = [
      .init(name: "Sent", separator: "/"), .init(name: "Sent Items", separator: "/", specialUse: "\\Sent"),
      .init(name: "sent items", separator: "/"), .init(name: "Work", separator: "/"),
    ]
    let target: [FolderDescriptor] = [
      .init(name: "Sent", separator: "/", specialUse: "\\Sent"), .init(name: "Sent Items", separator: "/"),
    ]
    let (first, warnings) = try FolderPlanner.plan(source: source, target: target, targetSeparator: "/")
    let firstMap = Dictionary(uniqueKeysWithValues: first.map { ($0.source.name, $0.targetName) })
    // Sent Items (\Sent) would join Sent: it keeps its own name; "sent items" finds that
    // taken too (names compare without case) and gets the suffix.
    #expect(firstMap["Sent"] == "Sent")
    #expect(firstMap["Sent Items"] == "Sent Items")
    #expect(firstMap["sent items"] == "sent items (6efc)")
    #expect(warnings.count == 2)
    let (again, _) = try FolderPlanner.plan(source: source, target: target, targetSeparator: "/")
    #expect(again == first)

    // What earlier runs recorded (a repair after a refusal, say) is kept over a new plan.
    let (resumed, _) = try FolderPlanner.plan(
      source: source, target: target, targetSeparator: "/", recorded: ["Work": "Work_1", "Sent": "Sent"])
    let entry = resumed.first { $0.source.name == "Work" }
    #expect(entry?.targetName == "Work_1")
    #expect(entry?.reason == "as in earlier runs")
    // An explicit --folder-map beats the recorded name.
    let (mapped, _) = try FolderPlanner.plan(
      source: source, target: target, targetSeparator: "/", folderMap: ["Work": "Jobs"], recorded: ["Work": "Work_1"])
    #expect(mapped.first { $0.source.name == "Work" }?.targetName == "Jobs")
  }

  @Test func missingSpecialFoldersAreCreatedWithTheirUseAndTheTargetProvidersName() throws {
    let source: [FolderDescriptor] = [
      .init(name: "INBOX", separator: "/"), .init(name: "Sent Items", separator: "/", specialUse: "\\Sent"),
      .init(name: "Deleted Items", separator: "/", specialUse: "\\Trash"),
    ]
    let fresh: [FolderDescriptor] = [.init(name: "INBOX", separator: "/")]
    let (plain, _) = try FolderPlanner.plan(source: source, target: fresh, targetSeparator: "/")
    #expect(plain.first { $0.source.name == "Sent Items" }?.createAs == "\\Sent")
    #expect(plain.first { $0.source.name == "Sent Items" }?.targetName == "Sent Items")

    var naming = FolderNaming()
    naming.targetNames = ["\\Sent": ["Gesendet"], "\\Trash": ["Papierkorb"]]
    let (named, _) = try FolderPlanner.plan(source: source, target: fresh, targetSeparator: "/", naming: naming)
    let map = Dictionary(uniqueKeysWithValues: named.map { ($0.source.name, $0.targetName) })
    #expect(map == ["INBOX": "INBOX", "Sent Items": "Gesendet", "Deleted Items": "Papierkorb"])
    #expect(named.allSatisfy { $0.source.name == "INBOX" || $0.createAs != nil })
  }

  @Test func skippedViewsAreLeftOutWithAReason() throws {
    var naming = FolderNaming()
    naming.skip = ["[Gmail]/Starred"]
    let source: [FolderDescriptor] = [
      .init(name: "INBOX", separator: "/"), .init(name: "[Gmail]/Starred", separator: "/"),
    ]
    let (plan, warnings) = try FolderPlanner.plan(source: source, target: [], targetSeparator: "/", naming: naming)
    #expect(plan.map(\.source.name) == ["INBOX"])
    #expect(warnings == ["[Gmail]/Starred is not copied as a folder: \(naming.skipReason)"])
  }

  @Test func refusedNamesAreRepairedLevelByLevel() {
    #expect(
      FolderNameRepair.candidates(for: "Release 1.2/~backup", separator: "/") == ["Release 1_2/_backup"])
    #expect(FolderNameRepair.candidates(for: "INBOX.a%b", separator: ".") == ["INBOX.a_b"])
    #expect(FolderNameRepair.candidates(for: "Größe #1", separator: "/") == ["Größe _1", "Gr__e _1"])
    #expect(FolderNameRepair.candidates(for: "plain", separator: "/").isEmpty)
  }

  @Test func aLabelSourcesAllMailTakesTheUnlabelledAndItsViewsAreLeftOut() throws {
    let gmail: [FolderDescriptor] = [
      .init(name: "[Gmail]/All Mail", separator: "/", specialUse: "\\All"),
      .init(name: "Work", separator: "/"), .init(name: "INBOX", separator: "/"),
      .init(name: "[Gmail]/Starred", separator: "/", specialUse: "\\Flagged"),
      .init(name: "[Gmail]/Important", separator: "/", specialUse: "\\Important"),
      .init(name: "[Gmail]/Sent Mail", separator: "/", specialUse: "\\Sent"),
    ]
    let target: [FolderDescriptor] = [
      .init(name: "INBOX", separator: "."), .init(name: "Archives", separator: ".", specialUse: "\\Archive"),
    ]
    let (plan, warnings) = try FolderPlanner.plan(source: gmail, target: target, targetSeparator: ".")
    #expect(plan.map(\.source.name) == ["INBOX", "[Gmail]/Sent Mail", "Work", "[Gmail]/All Mail"])
    #expect(plan.last?.targetName == "Archives")
    #expect(plan.last?.onlyUnlabelled == true)
    #expect(plan.filter(\.onlyUnlabelled).count == 1)
    #expect(warnings.count == 2)

    // Without a \All folder the source is an ordinary one, unless the profile says otherwise.
    let plainSource = gmail.filter { $0.specialUse != "\\All" }
    let (ordinary, _) = try FolderPlanner.plan(source: plainSource, target: target, targetSeparator: ".")
    #expect(ordinary.contains { $0.source.name == "[Gmail]/Starred" })
    var naming = FolderNaming()
    naming.sourceHasLabels = true
    let (byProfile, _) = try FolderPlanner.plan(
      source: plainSource, target: target, targetSeparator: ".", naming: naming)
    #expect(!byProfile.contains { $0.source.name == "[Gmail]/Starred" })
  }

  @Test func labelsAsKeywordsAndWhatCountsAsALabel() {
    #expect(keyword(forLabel: "Project X") == "Project_X")
    #expect(keyword(forLabel: "Work/Old") == "Work/Old")
    #expect(keyword(forLabel: "Größe (alt)") == "Gr__e__alt_")
    #expect(isInSomeLabel(["\\Inbox"]))
    #expect(isInSomeLabel(["Work", "\\Important"]))
    #expect(!isInSomeLabel(["\\Important", "\\Starred"]))
    #expect(!isInSomeLabel([]))
  }
}
