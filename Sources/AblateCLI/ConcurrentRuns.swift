import ArgumentParser
import Dispatch
import Foundation

/// Work over many run folders (probing, sampling) on several threads at once, printed as if done one by one.
enum ConcurrentRuns {
    /// Calls `work(i)` for i in 0..<count on up to `jobs` threads at once, each task claiming the next index, and prints
    /// each task's text in index order as soon as it and the tasks before it are done. A task that fails does not stop
    /// the others: it returns its error with the text to print in its place. Returns the errors in index order. A single
    /// task's failure is not printed: the caller throws that error itself (one message, not the same one twice).
    /// libdispatch runs at most one job per active core at a time, whatever `jobs` asks. The tasks must share only
    /// read-only data; a BLAS call at one thread runs on its caller's thread, so its result does not depend on `jobs`.
    static func forEach(count: Int, jobs: Int, _ work: (Int) -> (text: String, error: Error?)) -> [Error] {
        let lock = NSLock()
        var next = 0, nextToPrint = 0
        var done = [Int: (text: String, error: Error?)]()
        func finished(_ i: Int, _ result: (text: String, error: Error?)) {
            lock.lock(); defer { lock.unlock() }
            done[i] = result
            while let d = done[nextToPrint] {
                if count > 1 || d.error == nil { print(d.text) }
                nextToPrint += 1
            }
        }
        func claim() -> Int? {
            lock.lock(); defer { lock.unlock() }
            guard next < count else { return nil }
            next += 1
            return next - 1
        }
        DispatchQueue.concurrentPerform(iterations: max(1, min(jobs, count))) { _ in
            while let i = claim() { finished(i, work(i)) }
        }
        return (0..<count).compactMap { done[$0]?.error }
    }

    /// The error to throw when the only task failed (its text was not printed, see `forEach`): the task's own error
    /// when `task` is the folder the user gave, else that error naming the task's folder. nil otherwise.
    static func loneFailure(_ failures: [Error], tasks: Int, task: URL, given: URL) -> Error? {
        guard tasks == 1, let only = failures.first else { return nil }
        return task.standardizedFileURL == given.standardizedFileURL ? only : CLIError("failed \(task.path): \(only)")
    }

    /// The default number of tasks at once: one per core when each task's BLAS calls run on one thread, else one.
    static func defaultJobs(threads: Int) -> Int { threads == 1 ? ProcessInfo.processInfo.activeProcessorCount : 1 }

    /// Checks `--jobs` and `--threads` together, for every command that runs tasks at once: jobs in 1…1024, and more
    /// than one job only at one BLAS thread each. OpenBLAS's thread count is one setting of the whole process, and the
    /// model switches it to one thread around the products that must round the same for every thread count
    /// (`BLAS.withOneThread`); two tasks doing so at once would leave each other's products on a thread count that
    /// depends on timing.
    static func validate(jobs: Int?, threads: Int) throws {
        guard let jobs else { return }
        guard (1...1024).contains(jobs) else { throw ValidationError("--jobs must be in 1…1024, got \(jobs)") }
        guard jobs == 1 || threads == 1 else {
            throw ValidationError(
                "--jobs \(jobs) with --threads \(threads): runs done at once must use one BLAS thread each (OpenBLAS's "
                    + "thread count is shared by the whole process). Fix: --threads 1 (the default), or --jobs 1.")
        }
    }
}
