//! Progress bars (indicatif) on stderr; hidden when stderr is not a terminal or with `--quiet`.

use std::io::IsTerminal;

use fitpipe_ingest::client::Reporter;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    multi: MultiProgress,
    overall: ProgressBar,
    verbose: bool,
    quiet: bool,
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
        }
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

    pub fn tick(&self) {
        self.overall.inc(1);
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
}
