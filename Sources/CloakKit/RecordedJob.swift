import CloakStore
import CloakSupport

/// What identifies a job's run in the store: the resolved parameters as recorded, the key by which a re-run after an
/// interruption resumes the same run (`nil`: every invocation is a run of its own), and the seed.
struct JobIdentity {
    var parameters: String
    var resumeKey: String?
    var seed: UInt64?
}

/// The one skeleton of Cloak's recorded, resumable jobs (`datasets import`, `unlearnable`, `verify`, `faces`,
/// `verify faces`, `inspect`), so that each job's own code is its work and nothing else:
///
/// 1. ``prepare()``: resolve the settings, check the output can be written and read what the job needs, before any
///    run is recorded (a mistake is said at once, and nothing is left in the store);
/// 2. ``identity(of:)``: the parameters and the resume key;
/// 3. ``finishedEarlier(_:identity:)``: this very job done by an earlier run whose outputs are still there: nothing
///    to do;
/// 4. a ``RecordedRun`` started, or resumed when an unfinished run has the same key;
/// 5. ``work(_:run:store:)``: the job's work, writing every file atomically and recording what it made;
/// 6. the run finished (``finishMessage(for:)``), or marked failed with the error's message when the work throws.
protocol RecordedJob {
    associatedtype Input
    /// What the job returns (its summary).
    associatedtype Output

    /// The subcommand recorded with the run, e.g. `"datasets import"`.
    static var command: String { get }
    func prepare() throws -> Input
    func identity(of input: Input) throws -> JobIdentity
    func finishedEarlier(_ input: Input, identity: JobIdentity) throws -> Output?
    func work(_ input: Input, run: RecordedRun, store: ProvenanceStore) throws -> Output
    func finishMessage(for output: Output) -> String?
}

extension RecordedJob {
    func finishedEarlier(_ input: Input, identity: JobIdentity) throws -> Output? { nil }
    func finishMessage(for output: Output) -> String? { nil }

    /// Steps 1 to 6, recorded in `store` with the process `arguments`.
    func runRecorded(store: ProvenanceStore, arguments: [String]) throws -> Output {
        let input = try prepare()
        let identity = try identity(of: input)
        if let earlier = try finishedEarlier(input, identity: identity) { return earlier }
        let run = try RecordedRun(store: store, start: RunStart(
            command: Self.command, arguments: arguments, toolVersion: CloakVersion.current,
            seed: identity.seed.map { Int64(bitPattern: $0) }, parameters: identity.parameters, resumeKey: identity.resumeKey))
        return try run.run { run in
            let output = try work(input, run: run, store: store)
            try run.finish(.done, message: finishMessage(for: output))
            return output
        }
    }
}
