//! `fitpipe`: get your own Fitbit data into Parquet and CSV tables.

fn main() -> std::process::ExitCode {
    cap_malloc_arenas();
    fitpipe::main_with_args()
}

/// glibc gives each thread that allocates under contention an arena of its own (up to
/// eight per core) and keeps what is freed in it. A study's writes leave the async
/// runtime on threads of their own, so without a cap the freed merge buffers of every
/// one of them stay resident: a 100-participant study with 2-second heart rate peaked
/// at 874 MB, and at 310 MB with one arena per core (docs/benchmarks.md). An explicit
/// `MALLOC_ARENA_MAX` is left to rule.
fn cap_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        // SAFETY: called first in main, before any other thread exists; mallopt only
        // sets a limit for arenas created later.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, cores.max(2) as libc::c_int);
        }
    }
}
