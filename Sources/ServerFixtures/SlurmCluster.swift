import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A private single-node Slurm for the batch tests: Debian's munged, slurmctld and slurmd,
/// on loopback ports, with every file they use (MUNGE key, socket, seed and log; Slurm's
/// configuration, state, spool, pid files and logs) in a temporary directory. Nothing under
/// /etc, /run or /var is read or written: `SLURM_CONF` points every Slurm program at the
/// private configuration, whose `AuthInfo=socket=` points at the private munged.
///
/// The node offers four CPUs whatever the machine has (`SlurmdParameters=config_overrides`),
/// so four one-CPU array tasks run at once.
public final class SlurmCluster: @unchecked Sendable {
  public let directory: String
  public let configFile: String
  public let nodeName = "mailferry-node"
  public let partition = "mailferry"
  private var pids: [pid_t] = []
  private var stopped = false

  public init() throws {
    for program in ["munged", "mungekey", "munge", "slurmctld", "slurmd", "sbatch", "sinfo"]
    where !Subprocess.exists(program) && !FileManager.default.isExecutableFile(atPath: "/usr/sbin/\(program)") {
      throw FixtureError(
        "\(program) is not installed: run scripts/install-test-deps --slurm (slurmctld, slurmd, slurm-client, munge)")
    }
    directory = try ServerDirectory.make(for: "slurm")
    configFile = "\(directory)/slurm.conf"
    do {
      try start()
    } catch {
      stop()
      throw error
    }
  }

  deinit { stop() }

  /// What Slurm commands need in their environment besides this process's.
  public var environment: [String: String] { ["SLURM_CONF": configFile] }

  /// Submits `script` as a job array of `tasks` tasks (indexes 0 to tasks-1) and waits
  /// until every task has ended. Task I writes its output to `outputDirectory/task-I.out`.
  /// Returns sbatch's exit status: 0 when every task exited with 0.
  @discardableResult
  public func runJobArray(script: String, tasks: Int, outputDirectory: String) throws -> Subprocess.Result {
    try Subprocess.run(
      [
        "sbatch", "--wait", "--array=0-\(tasks - 1)", "--partition=\(partition)", "--ntasks=1",
        "--cpus-per-task=1", "--output=\(outputDirectory)/task-%a.out", "--chdir=\(outputDirectory)", script,
      ], environment: environment, check: false)
  }

  /// Stops the daemons and removes the directory (kept with MAILFERRY_KEEP_TEST_FILES).
  public func stop() {
    guard !stopped else { return }
    stopped = true
    for pid in pids.reversed() { Subprocess.terminate(pid) }
    pids = []
    ServerDirectory.remove(directory)
  }

  private func start() throws {
    for sub in ["munge", "state", "spool", "log", "run"] {
      try FileManager.default.createDirectory(atPath: "\(directory)/\(sub)", withIntermediateDirectories: true)
    }
    chmod("\(directory)/munge", 0o700)
    let key = "\(directory)/munge/munge.key"
    let socket = "\(directory)/munge/munge.socket"
    try Subprocess.run([program("mungekey"), "--create", "--keyfile=\(key)"])
    chmod(key, 0o600)
    // --force: munged would refuse a socket directory below a world-writable /tmp.
    pids.append(
      try Subprocess.start(
        [
          program("munged"), "--foreground", "--force", "--socket=\(socket)", "--key-file=\(key)",
          "--log-file=\(directory)/log/munged.log", "--pid-file=\(directory)/run/munged.pid",
          "--seed-file=\(directory)/munge/munged.seed",
        ], logFile: "\(directory)/log/munged.out"))
    try waitUntil("munged answers on \(socket)", log: "\(directory)/log/munged.out") {
      (try? Subprocess.run(["munge", "--socket=\(socket)", "--no-input"], check: false))?.status == 0
    }
    let ports = try FreePorts.allocate(2)
    try configuration(controllerPort: ports[0], nodePort: ports[1], mungeSocket: socket)
      .write(toFile: configFile, atomically: true, encoding: .utf8)
    pids.append(
      try Subprocess.start(
        ["env", "SLURM_CONF=\(configFile)", program("slurmctld"), "-D", "-i"],
        logFile: "\(directory)/log/slurmctld.out"))
    pids.append(
      try Subprocess.start(
        ["env", "SLURM_CONF=\(configFile)", program("slurmd"), "-D", "-N", nodeName],
        logFile: "\(directory)/log/slurmd.out"))
    try waitUntil("the node \(nodeName) is idle", log: "\(directory)/log/slurmctld.log") {
      let state = try? Subprocess.run(
        ["sinfo", "--noheader", "--nodes=\(nodeName)", "--format=%t"], environment: environment, check: false)
      return state?.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "idle"
    }
  }

  private func configuration(controllerPort: Int, nodePort: Int, mungeSocket: String) -> String {
    """
    ClusterName=mailferry-test
    SlurmctldHost=localhost(127.0.0.1)
    SlurmctldPort=\(controllerPort)
    SlurmdPort=\(nodePort)
    AuthType=auth/munge
    CredType=cred/munge
    AuthInfo=socket=\(mungeSocket)
    SlurmUser=root
    SlurmdUser=root
    StateSaveLocation=\(directory)/state
    SlurmdSpoolDir=\(directory)/spool
    SlurmctldPidFile=\(directory)/run/slurmctld.pid
    SlurmdPidFile=\(directory)/run/slurmd.pid
    SlurmctldLogFile=\(directory)/log/slurmctld.log
    SlurmdLogFile=\(directory)/log/slurmd.log
    MailProg=/bin/true
    ProctrackType=proctrack/pgid
    TaskPlugin=task/none
    JobAcctGatherType=jobacct_gather/none
    AccountingStorageType=accounting_storage/none
    JobCompType=jobcomp/none
    MpiDefault=none
    SchedulerType=sched/builtin
    SelectType=select/cons_tres
    SelectTypeParameters=CR_CPU
    SlurmdParameters=config_overrides
    ReturnToService=2
    NodeName=\(nodeName) NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=4 RealMemory=1000 State=UNKNOWN
    PartitionName=\(partition) Nodes=\(nodeName) Default=YES MaxTime=INFINITE State=UP

    """
  }

  /// The daemons are in /usr/sbin, which a test's PATH may lack.
  private func program(_ name: String) -> String {
    Subprocess.exists(name) ? name : "/usr/sbin/\(name)"
  }

  private func waitUntil(_ what: String, log: String, _ condition: () -> Bool) throws {
    let deadline = Date().addingTimeInterval(30)
    while Date() < deadline {
      if condition() { return }
      Thread.sleep(forTimeInterval: 0.2)
    }
    throw FixtureError(
      "the private Slurm did not start: \(what) not within 30 s; \(log):\n"
        + ServerDirectory.tail(of: log, lines: 20))
  }
}
