import Engine
import Mailstore
import Testing

@Suite struct FolderPlannerTests {
  let source: [FolderDescriptor] = [
    .init(name: "INBOX", separator: "/"),
    .init(name: "Sent", separator: "/", specialUse: "\\Sent"),
    .init(name: "Projekte/Größe & Co/2024", separator: "/"),
    .init(name: "Projekte", separator: "/", selectable: false),
    .init(name: "a.b/c", separator: "/"),
    .init(name: "Old Sent", separator: "/", specialUse: "\\Sent"),
    .init(name: "Spam", separator: "/", specialUse: "\\Junk"),
  ]

  @Test func specialUseSeparatorAndNoMerging() throws {
    let target: [FolderDescriptor] = [
      .init(name: "INBOX", separator: "."), .init(name: "Sent Items", separator: ".", specialUse: "\\Sent"),
      .init(name: "Junk Email", separator: ".", specialUse: "\\Junk"),
    ]
    let (plan, warnings) = try FolderPlanner.plan(source: source, target: target, targetSeparator: ".")
    let map = Dictionary(uniqueKeysWithValues: plan.map { ($0.source.name, $0.targetName) })
    #expect(map["INBOX"] == "INBOX")
    #expect(map["Sent"] == "Sent Items")
    #expect(map["Spam"] == "Junk Email")
    #expect(map["Projekte/Größe & Co/2024"] == "Projekte.Größe & Co.2024")
    #expect(map["a.b/c"] == "a_b.c")  // a target separator inside a name must not add a level
    #expect(map["Projekte"] == nil)  // \Noselect: nothing to copy
    // Two \Sent folders: the second keeps its own name instead of merging.
    #expect(map["Old Sent"] == "Old Sent")
    #expect(warnings.count == 1)
  }

  @Test func wellKnownNamesWhenTheTargetHasNoAttributes() throws {
    let target: [FolderDescriptor] = [.init(name: "INBOX", separator: "/"), .init(name: "Spam", separator: "/")]
    let (plan, _) = try FolderPlanner.plan(source: source, target: target, targetSeparator: "/")
    #expect(plan.first { $0.source.name == "Spam" }?.targetName == "Spam")
    #expect(plan.first { $0.source.name == "Sent" }?.targetName == "Sent")
  }

  @Test func filtersAndExplicitMaps() throws {
    let (plan, _) = try FolderPlanner.plan(
      source: source, target: [], targetSeparator: "/", include: ["^(INBOX|Sent|Old Sent)$"], exclude: ["^Sent$"],
      folderMap: ["Old Sent": "Archive/Sent 2019"])
    #expect(plan.map(\.source.name) == ["INBOX", "Old Sent"])
    #expect(plan.last?.targetName == "Archive/Sent 2019")
    #expect(plan.last?.reason == "--folder-map")
    #expect(throws: (any Error).self) {
      _ = try FolderPlanner.plan(source: source, target: [], targetSeparator: "/", include: ["("])
    }
  }

  @Test func namespacePrefixesAreSwappedAndNamesStandInForAttributes() throws {
    let courier: [FolderDescriptor] = [
      .init(name: "INBOX", separator: "."), .init(name: "INBOX.Sent", separator: "."),
      .init(name: "INBOX.Spam", separator: "."), .init(name: "INBOX.Work.Sent", separator: "."),
      .init(name: "Shared.Team", separator: "."),
    ]
    let target: [FolderDescriptor] = [
      .init(name: "INBOX", separator: "/"), .init(name: "Sent Items", separator: "/", specialUse: "\\Sent"),
      .init(name: "Junk", separator: "/", specialUse: "\\Junk"),
    ]
    let (plan, _) = try FolderPlanner.plan(
      source: courier, target: target, targetSeparator: "/", sourcePrefix: "INBOX.", targetPrefix: "")
    let map = Dictionary(uniqueKeysWithValues: plan.map { ($0.source.name, $0.targetName) })
    #expect(map["INBOX"] == "INBOX")
    #expect(map["INBOX.Sent"] == "Sent Items")
    #expect(plan.first { $0.source.name == "INBOX.Sent" }?.reason == "special use \\Sent, known by its name")
    #expect(map["INBOX.Spam"] == "Junk")
    #expect(map["INBOX.Work.Sent"] == "Work/Sent")  // only top-level names stand for a use
    #expect(map["Shared.Team"] == "Shared/Team")  // outside the prefix: kept whole

    let (back, _) = try FolderPlanner.plan(
      source: source, target: courier, targetSeparator: ".", sourcePrefix: "", targetPrefix: "INBOX.")
    let backMap = Dictionary(uniqueKeysWithValues: back.map { ($0.source.name, $0.targetName) })
    #expect(backMap["Sent"] == "INBOX.Sent")
    #expect(backMap["Spam"] == "INBOX.Spam")
    #expect(backMap["Projekte/Größe & Co/2024"] == "INBOX.Projekte.Größe & Co.2024")
    #expect(backMap["INBOX"] == "INBOX")
  }
}
