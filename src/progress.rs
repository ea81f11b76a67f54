//! Progress bars (indicatif) on stderr; hidden when stderr is not a terminal or with
//! `--quiet`. The CLI's side of the library's [`Report`]: the library says what happens,
//! this draws it.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use fitpipe_ingest::client::Reporter;
use fitpipe_pipeline::Report;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    multi: MultiProgress,
    overall: ProgressBar,
    /// `overall` was added to the drawn bars (work was planned).
    planned: AtomicBool,
    verbose: bool,
    quiet: bool,
    /// The countdown of the current wait, cleared when the next request completes.
    countdown: Mutex<Option<ProgressBar>>,
    /// The bar of each resource under way.
    resources: Mutex<HashMap<String, ProgressBar>>,
    /// The bar of an import's input bytes.
    input: Mutex<Option<ProgressBar>>,
}

/// Locks a mutex whose holder may have panicked (a bar is still a bar).
fn held<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Progress {
    /// Bars on stderr when it is a terminal and not `quiet`; `verbose` adds a line per
    /// response, retry and wait. No bar shows until work is planned.
    pub fn new(quiet: bool, verbose: bool) -> Self {
        let target = if quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let multi = MultiProgress::with_draw_target(target);
        // Joins the drawn bars when work is planned: a command that only writes lines
        // (enroll, forget) draws no empty bar.
        let overall = ProgressBar::hidden();
        overall.set_style(
            ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} requests {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        overall.set_prefix("all");
        Progress {
            multi,
            overall,
            planned: AtomicBool::new(false),
            verbose,
            quiet,
            countdown: Mutex::new(None),
            resources: Mutex::new(HashMap::new()),
            input: Mutex::new(None),
        }
    }

    fn end_countdown(&self) {
        if let Some(b) = held(&self.countdown).take() {
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
        *held(&self.countdown) = Some(b);
    }

    /// A line above the bars (or plain stderr when they are hidden).
    fn line(&self, line: &str) {
        if self.multi.is_hidden() {
            eprintln!("{line}");
        } else {
            let _ = self.multi.println(line);
        }
    }
}

impl Report for Progress {
    fn planned(&self, total: u64) {
        if !self.planned.swap(true, Ordering::Relaxed) {
            self.multi.add(self.overall.clone());
        }
        self.overall.set_length(total);
    }

    fn resource(&self, name: &str, requests: u64) {
        let b = if self.planned.load(Ordering::Relaxed) {
            self.multi
                .insert_before(&self.overall, ProgressBar::new(requests))
        } else {
            self.multi.add(ProgressBar::new(requests))
        };
        b.set_style(
            ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        b.set_prefix(name.to_string());
        held(&self.resources).insert(name.to_string(), b);
    }

    fn window(&self, name: &str, label: &str) {
        if let Some(b) = held(&self.resources).get(name) {
            b.set_message(label.to_string());
        }
    }

    fn advanced(&self, name: &str, n: u64) {
        if let Some(b) = held(&self.resources).get(name) {
            b.inc(n);
        }
        self.tick(n);
    }

    fn resource_done(&self, name: &str) {
        if let Some(b) = held(&self.resources).remove(name) {
            b.finish_and_clear();
        }
    }

    fn tick(&self, n: u64) {
        self.end_countdown();
        self.overall.inc(n);
    }

    fn note(&self, line: &str) {
        if !self.quiet {
            self.line(line);
        }
    }

    fn warn(&self, line: &str) {
        self.line(line);
    }

    fn plan(&self, text: &str) {
        let _ = crate::output::stdout(text);
    }

    fn summary(&self, text: &str) {
        let _ = crate::output::stdout(text);
    }

    fn input(&self, total_bytes: u64) {
        let b = ProgressBar::new(total_bytes);
        b.set_style(
            ProgressStyle::with_template("{bar:30} {bytes}/{total_bytes} {bytes_per_sec} {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        *held(&self.input) = Some(self.multi.add(b));
    }

    fn input_read(&self, bytes: u64) {
        if let Some(b) = held(&self.input).as_ref() {
            b.inc(bytes);
        }
    }

    fn finish(&self) {
        self.end_countdown();
        for (_, b) in held(&self.resources).drain() {
            b.finish_and_clear();
        }
        if let Some(b) = held(&self.input).take() {
            b.finish_and_clear();
        }
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
