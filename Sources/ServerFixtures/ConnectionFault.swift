/// Which way bytes flow through a proxy.
public enum ProxyDirection: String, Sendable {
  case toServer = "to server"
  case toClient = "to client"
}

/// What a `FaultInjectingProxy` does to one connection: any of a cut after some bytes, a
/// cut inside an IMAP literal, a stall and a slow link (`none` passes everything).
public struct ConnectionFault: Sendable, Equatable, CustomStringConvertible {
  /// A pause in the flow: once `afterBytes` bytes have gone through (both ways together),
  /// nothing more passes the way the last of them went for `seconds`.
  public struct Stall: Sendable, Equatable {
    public var afterBytes: Int
    public var seconds: Double

    public init(afterBytes: Int, seconds: Double) {
      self.afterBytes = afterBytes
      self.seconds = seconds
    }
  }

  /// Closes the connection once this many bytes have gone through (both ways together);
  /// nothing past them is passed on.
  public var cutAfterBytes: Int?
  /// IMAP: closes the connection halfway through the first literal of two bytes or more
  /// (`{n}`, `{n+}`) going this way: a FETCH body or an APPEND message cut off.
  public var cutInsideLiteral: ProxyDirection?
  public var stall: Stall?
  /// Passes at most this many bytes a second each way.
  public var slowToBytesPerSecond: Int?

  public init(
    cutAfterBytes: Int? = nil, cutInsideLiteral: ProxyDirection? = nil, stall: Stall? = nil,
    slowToBytesPerSecond: Int? = nil
  ) {
    self.cutAfterBytes = cutAfterBytes
    self.cutInsideLiteral = cutInsideLiteral
    self.stall = stall
    self.slowToBytesPerSecond = slowToBytesPerSecond
  }

  public static let none = ConnectionFault()

  public var description: String {
    var parts: [String] = []
    if let stall { parts.append("stall \(stall.seconds) s after \(stall.afterBytes) bytes") }
    if let slowToBytesPerSecond { parts.append("slow to \(slowToBytesPerSecond) bytes/s") }
    if let cutInsideLiteral { parts.append("cut inside a literal \(cutInsideLiteral.rawValue)") }
    if let cutAfterBytes { parts.append("cut after \(cutAfterBytes) bytes") }
    return parts.isEmpty ? "none" : parts.joined(separator: ", ")
  }
}

/// The kinds of fault, for plans and counts.
public enum FaultKind: String, Sendable, CaseIterable {
  case cut, stall, slow
  case cutInsideLiteral = "cut inside a literal"
}

/// Which fault each new connection of a `FaultInjectingProxy` gets, by its number (0, 1, …).
public struct FaultPlan: Sendable {
  public let fault: @Sendable (_ connection: Int) -> ConnectionFault

  public init(_ fault: @escaping @Sendable (_ connection: Int) -> ConnectionFault) { self.fault = fault }

  /// No faults.
  public static let none = FaultPlan { _ in .none }

  /// Each connection, with probability `rate`, gets one of `kinds` (repeat a kind to make it
  /// likelier) at a point picked at random within the first `span` bytes; a stalled or slow
  /// connection is also cut, within the first `2 * span` bytes, so a job meets many cuts. A
  /// literal cut goes a random way. The same `seed` gives the same fault to the same
  /// connection number. Stalls last `stallSeconds`; slow links pass `slowRate` bytes a second.
  public static func random(
    seed: UInt64, rate: Double, span: Int, kinds: [FaultKind] = FaultKind.allCases, stallSeconds: Double = 0.2,
    slowRate: Int = 64 * 1024
  ) -> FaultPlan {
    FaultPlan { connection in
      var random = SeededRandom(seed: seed &+ UInt64(connection) &* 0x9E37_79B9_7F4A_7C15)
      guard !kinds.isEmpty, Double.random(in: 0..<1, using: &random) < rate else { return .none }
      let point = Int.random(in: 0..<max(1, span), using: &random)
      let laterCut = Int.random(in: 0..<max(1, 2 * span), using: &random)
      switch kinds.randomElement(using: &random)! {
      case .cut: return ConnectionFault(cutAfterBytes: point)
      case .cutInsideLiteral:
        return ConnectionFault(cutInsideLiteral: Bool.random(using: &random) ? .toServer : .toClient)
      case .stall:
        return ConnectionFault(cutAfterBytes: laterCut, stall: .init(afterBytes: point, seconds: stallSeconds))
      case .slow: return ConnectionFault(cutAfterBytes: laterCut, slowToBytesPerSecond: slowRate)
      }
    }
  }
}

/// SplitMix64: a small generator whose sequence a seed fixes, so a failing run can be
/// repeated.
public struct SeededRandom: RandomNumberGenerator, Sendable {
  private var state: UInt64

  public init(seed: UInt64) { state = seed }

  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var value = state
    value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
    value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
    return value ^ (value >> 31)
  }
}
