//! Messages to people: errors with their causes and a `hint:` line.

use std::io::Write;

pub use fitpipe_pipeline::{hint, Hint};

/// Prints an error, its cause chain and any hint to stderr.
pub fn print_error(err: &anyhow::Error) {
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "error: {err}");
    for cause in err.chain().skip(1) {
        let _ = writeln!(e, "  caused by: {cause}");
    }
    if let Some(h) = fitpipe_pipeline::hint_of(err) {
        let _ = writeln!(e, "hint: {}", h.hint);
    } else if err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::StorageFull)
            || c.to_string().contains("No space left")
    }) {
        let _ = writeln!(e, "hint: the disk is full: free some space and run the same command again (the tables already on disk are unchanged)");
    }
}

/// Writes to stdout; a closed pipe (`fitpipe ... | head`) is not an error.
pub fn stdout(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        r => Ok(r?),
    }
}
