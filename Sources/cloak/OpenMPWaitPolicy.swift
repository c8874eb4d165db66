import Foundation

/// Makes oneDNN's OpenMP threads sleep instead of spin when they wait, unless the user chose otherwise.
///
/// With the default (active) policy, an idle OpenMP thread spins for a while before it sleeps; on a machine whose
/// other cores are busy, the spinning threads take turns with the working ones and a SmallCNN training step was
/// measured 20x slower. GNU OpenMP reads `OMP_WAIT_POLICY` once, when the library is loaded (before `main`), so
/// setting it from inside the process is too late: when it is unset, `cloak` sets it to `PASSIVE` and executes
/// itself again with the same arguments. A value the user set (any value) is kept.
enum OpenMPWaitPolicy {
    static let variable = "OMP_WAIT_POLICY"

    /// Re-executes the process with `OMP_WAIT_POLICY=PASSIVE` when the variable is unset. Returns only when no
    /// re-execution was needed, or when it failed (then the run goes on with OpenMP's default policy).
    static func ensurePassive() {
        guard getenv(variable) == nil else { return }
        setenv(variable, "PASSIVE", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // execv returns only on failure (no /proc, say): carry on; the work is the same, only slower under load.
    }
}
