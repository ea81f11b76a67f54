//! What the library tells the person running it, through a trait the CLI implements with
//! progress bars (and a study with its own); the library itself prints nothing.

use fitpipe_ingest::client::Reporter;

/// Progress and notes of a run. Every method has a default that does nothing, so a caller
/// implements what it shows. Extends the HTTP client's [`Reporter`] (rate budget, waits,
/// retries, responses), so one value serves both.
pub trait Report: Reporter {
    /// The number of requests (or units of work) planned in all.
    fn planned(&self, _total: u64) {}
    /// A resource starts, with its planned requests.
    fn resource(&self, _name: &str, _requests: u64) {}
    /// The window of the current resource now being read.
    fn window(&self, _name: &str, _label: &str) {}
    /// `n` more units of the current resource done (and of the whole).
    fn advanced(&self, _name: &str, _n: u64) {}
    /// The current resource is done.
    fn resource_done(&self, _name: &str) {}
    /// `n` more units of the whole done (a study: one participant).
    fn tick(&self, _n: u64) {}
    /// A line for the person (hidden by `--quiet`): a file of no family read, a consent
    /// recorded.
    fn note(&self, _line: &str) {}
    /// A line shown even with `--quiet`: a damaged file skipped, a wait for a lock.
    fn warn(&self, line: &str) {
        self.note(line)
    }
    /// The plan of a dry run, as a table for people.
    fn plan(&self, _text: &str) {}
    /// What a run wrote, as a table for people (its standard output).
    fn summary(&self, _text: &str) {}
    /// Bytes of input to read (an import).
    fn input(&self, _total_bytes: u64) {}
    /// `n` more bytes of input read.
    fn input_read(&self, _bytes: u64) {}
    /// The work is over: clear what is drawn.
    fn finish(&self) {}
}

/// Reports nothing (a study's participants, tests, library callers).
pub struct Silent;

impl Reporter for Silent {}
impl Report for Silent {}
