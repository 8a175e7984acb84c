import MailCore
import Testing

@Suite struct CrashPointParsingTests {
  @Test func pointsWithAndWithoutACount() {
    #expect(CrashPoint.parse("after-intent")! == (CrashPoint.afterIntent, 1))
    #expect(CrashPoint.parse("inside-member:3")! == (CrashPoint.insideMember, 3))
    for point in CrashPoint.allCases { #expect(CrashPoint.parse(point.rawValue + ":2")?.point == point) }
  }

  @Test func unreadableValuesArmNothing() {
    for text in [
      "", "after", "after-intent:0", "after-intent:-1", "after-intent:x", "after-intent:1:2", "AFTER-INTENT",
    ] {
      #expect(CrashPoint.parse(text) == nil, "\(text)")
    }
  }

  /// The test process itself runs without the variable: reaching a point does nothing.
  @Test func unarmedPointsAreReachedHarmlessly() {
    for point in CrashPoint.allCases {
      #expect(!point.isArmed)
      point.reached()
    }
  }
}
