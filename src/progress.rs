//! Progress bars (indicatif) on stderr; hidden when stderr is not a terminal or with `--quiet`.

use std::io::IsTerminal;

use fitpipe_ingest::client::Reporter;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    multi: MultiProgress,
    overall: ProgressBar,
    verbose: bool,
    quiet: bool,
    /// The countdown of the current wait, cleared when the next request completes.
    countdown: std::sync::Mutex<Option<ProgressBar>>,
}

impl Progress {
    pub fn new(total: u64, quiet: bool, verbose: bool) -> Self {
        let target = if quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let multi = MultiProgress::with_draw_target(target);
        let overall = multi.add(ProgressBar::new(total));
        overall.set_style(
            ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} requests {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        overall.set_prefix("all");
        Progress {
            multi,
            overall,
            verbose,
            quiet,
            countdown: std::sync::Mutex::new(None),
        }
    }

    /// Sets the number of requests planned.
    pub fn set_total(&self, n: u64) {
        self.overall.set_length(n);
    }

    /// A bar for one resource: requests done of planned, days covered.
    pub fn resource(&self, name: &str, requests: u64) -> ProgressBar {
        let b = self
            .multi
            .insert_before(&self.overall, ProgressBar::new(requests));
        b.set_style(
            ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        b.set_prefix(name.to_string());
        b
    }

    /// `n` more requests' worth of windows done.
    pub fn tick(&self, n: u64) {
        self.end_countdown();
        self.overall.inc(n);
    }

    fn end_countdown(&self) {
        if let Some(b) = self
            .countdown
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            b.finish_and_clear();
        }
    }

    /// A live "resuming in mm:ss" line under the bars for a wait of `seconds`.
    fn start_countdown(&self, seconds: i64, why: &str) {
        if self.multi.is_hidden() {
            return;
        }
        self.end_countdown();
        let b = self.multi.add(ProgressBar::new_spinner());
        b.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("valid template"));
        let deadline =
            std::time::Instant::now() + std::time::Duration::from_secs(seconds.max(0) as u64);
        let (bar, why) = (b.clone(), why.to_string());
        std::thread::spawn(move || {
            while !bar.is_finished() {
                let left = deadline
                    .saturating_duration_since(std::time::Instant::now())
                    .as_secs();
                bar.set_message(format!("{why}: resuming in {}:{:02}", left / 60, left % 60));
                bar.tick();
                std::thread::sleep(std::time::Duration::from_millis(500));
            }
        });
        *self.countdown.lock().unwrap_or_else(|e| e.into_inner()) = Some(b);
    }

    /// A line above the bars (or plain stderr when they are hidden).
    pub fn note(&self, line: &str) {
        if self.quiet {
            return;
        }
        if self.multi.is_hidden() {
            eprintln!("{line}");
        } else {
            let _ = self.multi.println(line);
        }
    }

    pub fn finish(&self) {
        self.end_countdown();
        self.overall.finish_and_clear();
        let _ = self.multi.clear();
    }
}

impl Reporter for Progress {
    fn rate(&self, remaining: u32, limit: u32) {
        self.overall
            .set_message(format!("(rate budget {remaining}/{limit} left this hour)"));
    }
    fn waiting(&self, seconds: i64, why: &str) {
        if seconds >= 5 {
            self.start_countdown(seconds, why);
        }
        if self.verbose || seconds >= 5 {
            let until = chrono::Local::now() + chrono::Duration::seconds(seconds);
            self.note(&format!(
                "note: {why}: waiting {}m{:02}s (until {})",
                seconds / 60,
                seconds % 60,
                until.format("%H:%M:%S")
            ));
        }
    }
    fn retry(&self, attempt: u32, why: &str) {
        if self.verbose {
            self.note(&format!("note: retry {attempt}: {why}"));
        }
    }
    fn response(&self, method: &str, url: &str, status: u16, bytes: usize) {
        if self.verbose {
            self.note(&format!("{method} {url} -> {status} ({bytes} bytes)"));
        }
    }
}
