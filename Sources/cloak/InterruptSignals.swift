import Foundation

/// Makes sure Ctrl-C (SIGINT) and SIGTERM reach `cloak`.
///
/// A process inherits its parent's blocked-signal mask. Some parents start programs with nearly every signal
/// blocked (Foundation's `Process`, called from a Swift concurrency or Dispatch worker thread, is one: measured
/// here, the child had SIGINT and SIGTERM blocked); such a `cloak` could never be stopped but with SIGKILL, and its
/// run could not be recorded as interrupted. Called at the start of `main`, before any thread exists, so every
/// thread created later inherits the unblocked mask.
enum InterruptSignals {
    static func unblock() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        sigprocmask(SIG_UNBLOCK, &set, nil)
    }
}
