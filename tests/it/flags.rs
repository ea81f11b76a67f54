//! One set of flags: every subcommand's `--help`, walked as a newcomer reads it. The
//! dataset is `--data DIR|URL` (env `FITPIPE_DATA`, `--out` the same flag) wherever a
//! command reads or writes one; a file a command writes is `-o/--output FILE`; `--out`
//! never means anything else in help.

use std::collections::BTreeMap;

use super::{fitpipe, s};

/// `fitpipe <path> --help`.
fn help(path: &[&str]) -> String {
    let mut args: Vec<&str> = path.to_vec();
    args.push("--help");
    let r = fitpipe(&args);
    assert_eq!(r.code, 0, "fitpipe {path:?} --help failed: {}", r.stderr);
    r.stdout
}

/// The subcommands a help text lists (its `Commands:` section), `help` left out.
fn subcommands(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("Commands:") {
            inside = true;
            continue;
        }
        if inside {
            if !line.starts_with("  ") {
                break;
            }
            // A name is indented two spaces; continuation lines are indented further.
            if line.len() > 2 && !line[2..].starts_with(' ') {
                let name = line.split_whitespace().next().unwrap();
                if name != "help" {
                    out.push(name.to_string());
                }
            }
        }
    }
    out
}

/// Every command path and its help, depth first.
fn every_help() -> BTreeMap<String, String> {
    let mut all = BTreeMap::new();
    let mut todo: Vec<Vec<String>> = vec![vec![]];
    while let Some(path) = todo.pop() {
        let p: Vec<&str> = path.iter().map(String::as_str).collect();
        let text = help(&p);
        for sub in subcommands(&text) {
            let mut next = path.clone();
            next.push(sub);
            todo.push(next);
        }
        all.insert(path.join(" "), text);
    }
    all
}

/// Whether a help line starts an option: `-` after at most 6 spaces (descriptions
/// wrap further in, where a line may begin with `--out]`).
fn starts_option(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with('-') && line.len() - t.len() <= 6
}

/// The option lines of a help text.
fn options(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| starts_option(l))
        .map(|l| l.trim_start().to_string())
        .collect()
}

/// The text from an option's line up to the next option line (its description).
fn option_block(text: &str, starts: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let i = lines
        .iter()
        .position(|l| l.trim_start().starts_with(starts))?;
    let mut block = String::from(lines[i]);
    for l in &lines[i + 1..] {
        let t = l.trim_start();
        if starts_option(l) || (!l.starts_with(' ') && !l.is_empty()) {
            break;
        }
        block.push(' ');
        block.push_str(t);
    }
    Some(block)
}

#[test]
fn the_dataset_flag_is_spelled_the_same_in_every_command() {
    let all = every_help();
    // The walk found the commands (a walk that finds nothing passes nothing).
    for c in [
        "ingest",
        "status",
        "plot",
        "import json",
        "import takeout",
        "auth status",
    ] {
        assert!(all.contains_key(c), "`{c}` not found: {:?}", all.keys());
    }
    // Commands that read or write a dataset.
    let dataset_commands = [
        "ingest",
        "rebuild",
        "status",
        "plot",
        "forget",
        "import json",
        "import takeout",
    ];
    let mut with_data = Vec::new();
    for (cmd, text) in &all {
        for opt in options(text) {
            // `--out` is never an option of its own (only `--data`'s alias).
            assert!(
                !opt.starts_with("--out ") && !opt.starts_with("-o, --out "),
                "`fitpipe {cmd}`: `--out` is its own option ({opt}); it must be `--data`'s alias"
            );
            // A file a command writes is `-o, --output FILE`.
            if opt.contains("<FILE>") && (opt.contains("--output") || opt.starts_with("-o")) {
                assert!(
                    opt.starts_with("-o, --output <FILE>"),
                    "`fitpipe {cmd}`: {opt}"
                );
            }
        }
        if let Some(block) = option_block(text, "--data ") {
            with_data.push(cmd.clone());
            assert!(
                block.starts_with("      --data <DIR|URL>") || block.contains("--data <DIR|URL>"),
                "`fitpipe {cmd}`: {block}"
            );
            assert!(
                block.contains("[env: FITPIPE_DATA="),
                "`fitpipe {cmd}`: --data without its env: {block}"
            );
            // `--out` is the same flag: shown as its alias, or (plot, whose `--out x.png`
            // of earlier versions still draws there) accepted without being shown.
            assert!(
                block.contains("[alias: --out]")
                    || block.contains("[aliases: --out]")
                    || cmd == "plot",
                "`fitpipe {cmd}`: --data without the --out alias: {block}"
            );
        }
    }
    for c in dataset_commands {
        assert!(
            with_data.iter().any(|w| w == c),
            "`fitpipe {c}` reads or writes a dataset but has no --data"
        );
    }
}

// The flags a newcomer types after `fitpipe ingest --out data` work in the commands
// that read the dataset: `--out` and `--data` alike, and a chart goes to `-o`.
#[test]
fn status_and_plot_take_the_flag_ingest_took() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let fixtures = super::fixtures();
    let r = fitpipe(&["import", "json", s(&fixtures), "--out", s(&data)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = |args: &[&str]| {
        let r = fitpipe(args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        r.stdout
    };
    let by_out = rows(&["status", "--json", "--out", s(&data)]);
    let by_data = rows(&["status", "--json", "--data", s(&data)]);
    assert_eq!(by_out, by_data);
    assert!(by_out.contains("daily_activity"), "{by_out}");
    let chart = dir.path().join("chart.png");
    rows(&[
        "plot",
        "steps",
        "--data",
        s(&data),
        "--from",
        "2020-04-10",
        "--to",
        "2020-04-16",
        "-o",
        s(&chart),
    ]);
    let png = std::fs::read(&chart).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}
