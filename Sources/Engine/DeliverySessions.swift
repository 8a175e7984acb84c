import Foundation
import MailCore
import Mailstore

/// The sessions a folder delivers over when its sink cannot be searched (SMTP, LMTP):
/// the copier's own session plus up to `count - 1` more, opened on first use. A group of
/// messages is delivered at once, one message per session, each session on its own thread
/// (deliveries block on the network; they never run on the cooperative pool).
///
/// A session that cannot be opened (the server refuses more connections) is not retried:
/// the folder goes on with the sessions it has.
final class DeliverySessions {
  /// The most sessions used at once, the copier's own included.
  let count: Int
  private let connect: () throws -> any MessageSink
  private var extra: [any MessageSink] = []
  private var openingFailed = false

  init(count: Int, connect: @escaping () throws -> any MessageSink) {
    self.count = max(1, count)
    self.connect = connect
  }

  /// `main` first, then as many more as can be opened, up to `wanted` in all.
  func sessions(main: any MessageSink, wanted: Int, folder: String) -> [any MessageSink] {
    while extra.count + 1 < min(wanted, count) && !openingFailed {
      do {
        let session = try connect()
        _ = try session.open(folder, forWriting: true)
        extra.append(session)
      } catch {
        openingFailed = true
      }
    }
    return [main] + extra.prefix(max(0, wanted - 1))
  }

  /// Delivers message `i` over session `i`, all at once; one result per message, in order.
  func deliver(
    _ messages: [MessageToStore], origins: [MessageOrigin], over sessions: [any MessageSink]
  ) -> [Result<StoreOutcome, any Error>] {
    let group = Group(messages: messages, origins: origins, sessions: sessions)
    let done = DispatchGroup()
    for index in 1..<messages.count {
      done.enter()
      let thread = Thread {
        group.deliver(index)
        done.leave()
      }
      thread.stackSize = 1 << 20
      thread.start()
    }
    group.deliver(0)
    done.wait()
    return group.results
  }

  func close() {
    extra.forEach { $0.close() }
    extra = []
  }

  func abandon() {
    extra.forEach { $0.abandon() }
    extra = []
  }

  /// One group's messages, sessions and results. Session `i` is used by thread `i` alone
  /// while the group is delivered; each result slot is written once, under the lock.
  private final class Group: @unchecked Sendable {
    let messages: [MessageToStore]
    let origins: [MessageOrigin]
    let sessions: [any MessageSink]
    private let lock = NSLock()
    private var slots: [Result<StoreOutcome, any Error>?]

    init(messages: [MessageToStore], origins: [MessageOrigin], sessions: [any MessageSink]) {
      self.messages = messages
      self.origins = origins
      self.sessions = sessions
      slots = Array(repeating: nil, count: messages.count)
    }

    func deliver(_ index: Int) {
      let result = Result {
        guard let outcome = try sessions[index].store([messages[index]], origins: [origins[index]]).first else {
          throw DeliveryError.noOutcome
        }
        return outcome
      }
      lock.withLock { slots[index] = result }
    }

    var results: [Result<StoreOutcome, any Error>] { lock.withLock { slots.map { $0! } } }
  }
}

/// A group delivered over several sessions where some deliveries ended in an error: what
/// each delivery came to, so the ones the server accepted are committed before the error
/// is handled.
struct PartialDelivery: Error {
  let results: [Result<StoreOutcome, any Error>]

  /// The error the folder reacts to: one that leaves a delivery in doubt (a dropped
  /// connection) before a throttling refusal, which leaves nothing in doubt.
  var error: any Error {
    let errors = results.compactMap { result -> (any Error)? in
      if case .failure(let error) = result { return error }
      return nil
    }
    return errors.first { !ErrorClass.isThrottling($0) } ?? errors[0]
  }
}

/// A delivery sink broke its contract (one outcome per message): our bug, not the user's.
enum DeliveryError: UserFacingError {
  case noOutcome

  var description: String { "the delivery sink returned no outcome for a message" }
  var hint: String? { "this is a bug in mailferry; please report it with the command that caused it" }
  var scope: FailureScope { .folder }
  var isTemporary: Bool { false }
}
