import Mailstore
import Testing

@Suite struct MessageSizeLimitsTests {
  let limits = MessageSizeLimits(listedSizes: [1: 10, 2: 1_000_000, 3: 0, 4: .max], maxSize: nil)

  @Test func aListedSizeAllowsTwiceAsMuchOr1MiBMore() {
    #expect(limits.limit(for: 1) == 10 + 1_048_576)
    #expect(limits.limit(for: 2) == 2_048_576)
    #expect(MessageSizeLimits.tolerated(listedSize: 30_000_000) == 60_000_000)
    #expect(limits.limit(for: 4) == .max, "no overflow")
  }

  @Test func anUnlistedOrZeroSizeSetsNoLimitOfItsOwn() {
    #expect(limits.limit(for: 3) == nil)
    #expect(limits.limit(for: 99) == nil)
    #expect(limits.largestLimit(of: [1, 2]) == 2_048_576)
    #expect(limits.largestLimit(of: [1, 3]) == nil)
    var capped = limits
    capped.maxSize = 5000
    #expect(capped.limit(for: 3) == 5000)
    #expect(capped.limit(for: 2) == 5000)
  }

  @Test func reasonsSayWhatWasSentAndWhatWasAnnounced() {
    #expect(limits.reason(key: 1, received: 1_048_586) == nil)
    #expect(limits.reason(key: 1, received: 1_048_587) != nil)
    #expect(
      limits.reason(key: 1, received: 209_715_200)
        == "the server sent 209715200 bytes for a message it listed as 10 bytes; not copied")
    var capped = limits
    capped.maxSize = 1000
    #expect(
      capped.reason(key: 1, received: 2000)
        == "the server sent 2000 bytes for a message larger than --max-size (1000 bytes); not copied")
  }
}
