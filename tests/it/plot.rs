//! `fitpipe plot` and `fitpipe status` on known data: the pictures are checked, not just
//! that a file exists.

use std::fs;
use std::path::Path;

use super::*;

const BAR: &str = "#1F77B4";

/// A week of steps (one day without data) and the fixture nights, imported.
fn known_data(dir: &Path) -> std::path::PathBuf {
    let out = dir.join("data");
    let steps = dir.join("steps.json");
    fs::write(
        &steps,
        r#"{"activities-steps":[{"dateTime":"2019-04-14","value":"5007"},{"dateTime":"2019-04-15","value":"11234"},{"dateTime":"2019-04-16","value":"8000"},{"dateTime":"2019-04-17","value":"12000"},{"dateTime":"2019-04-18","value":"3000"},{"dateTime":"2019-04-20","value":"9500"}]}"#,
    )
    .unwrap();
    let r = fitpipe(&[
        "import",
        "json",
        s(&steps),
        s(&fixtures()),
        "--out",
        s(&out),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    out
}

#[test]
fn steps_svg_has_a_bar_per_day_with_data_labels_goal_and_average() {
    let dir = tempfile::tempdir().unwrap();
    let data = known_data(dir.path());
    let svg = dir.path().join("steps.svg");
    let r = fitpipe(&[
        "plot",
        "steps",
        "--from",
        "2019-04-14",
        "--to",
        "2019-04-20",
        "--data",
        s(&data),
        "--out",
        s(&svg),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = fs::read_to_string(&svg).unwrap();
    // Six days with data plus the legend swatch; 2019-04-19 has no bar.
    let bars = text.matches(&format!("fill=\"{BAR}\"")).count();
    assert_eq!(bars, 6 + 1, "bars in the SVG");
    for label in [
        "Sun 14 Apr",
        "Sat 20 Apr",
        "Steps per day of TEST01, 2019-04-14 to 2019-04-20",
        "goal 10000",
        "average 8124",
        "steps",
        "date",
    ] {
        assert!(text.contains(label), "missing label {label:?}");
    }
}

#[test]
fn steps_png_has_the_size_and_bars_where_they_must_be() {
    let dir = tempfile::tempdir().unwrap();
    let data = known_data(dir.path());
    let png = dir.path().join("steps.png");
    let r = fitpipe(&[
        "plot",
        "steps",
        "--from",
        "2019-04-14",
        "--to",
        "2019-04-20",
        "--data",
        s(&data),
        "--out",
        s(&png),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let img = image::open(&png).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (1000, 600));
    // A scanline just above the x axis crosses every bar with data once.
    let bar = image::Rgb([0x1f, 0x77, 0xb4]);
    let y = (0..600)
        .rev()
        .find(|y| (0..1000).filter(|x| *img.get_pixel(*x, *y) == bar).count() > 100)
        .expect("bars drawn");
    let mut runs = 0;
    let mut inside = false;
    for x in 0..1000 {
        let on = *img.get_pixel(x, y) == bar;
        if on && !inside {
            runs += 1;
        }
        inside = on;
    }
    assert_eq!(runs, 6, "six bars cross the baseline");
    // The tallest bar (12000 on Wed 17 Apr, the 4th day) reaches highest.
    let top_of = |xr: std::ops::Range<u32>| {
        (0..600)
            .find(|yy| xr.clone().any(|x| *img.get_pixel(x, *yy) == bar))
            .unwrap_or(600)
    };
    let cols: Vec<u32> = (0..1000).filter(|x| *img.get_pixel(*x, y) == bar).collect();
    let first = cols[0];
    let last = *cols.last().unwrap();
    let width = (last - first) / 7;
    let day4 = first + width * 3 + width / 2;
    let day5 = first + width * 4 + width / 2;
    assert!(
        top_of(day4..day4 + 1) < top_of(day5..day5 + 1),
        "12000 is taller than 3000"
    );
}

#[test]
fn sleep_chart_stacks_stages_and_classic_nights() {
    let dir = tempfile::tempdir().unwrap();
    let data = known_data(dir.path());
    let svg = dir.path().join("sleep.svg");
    let r = fitpipe(&[
        "plot",
        "sleep",
        "--from",
        "2020-04-12",
        "--to",
        "2020-04-14",
        "--data",
        s(&data),
        "--out",
        s(&svg),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = fs::read_to_string(&svg).unwrap();
    for l in ["deep", "light", "rem", "wake", "hours", "Mon 13 Apr"] {
        assert!(text.contains(l), "missing {l:?}");
    }
    // The night ending 13 Apr: four stage segments; the nap of the 12th is not a main sleep.
    assert_eq!(
        text.matches("fill=\"#1A237E\"").count(),
        1 + 1,
        "one deep bar plus its legend swatch"
    );
}

#[test]
fn empty_range_and_missing_data_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = known_data(dir.path());
    let out = dir.path().join("x.png");
    let r = fitpipe(&[
        "plot",
        "steps",
        "--from",
        "2019-01-01",
        "--to",
        "2019-01-07",
        "--data",
        s(&data),
        "--out",
        s(&out),
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("no steps data") && r.stderr.contains("hint:"),
        "{}",
        r.stderr
    );
    assert!(!out.exists(), "no empty picture");
    let r = fitpipe(&[
        "plot",
        "heart",
        "--data",
        s(&dir.path().join("nothing")),
        "--out",
        s(&out),
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("no `daily_activity` table"),
        "{}",
        r.stderr
    );
    let r = fitpipe(&[
        "plot",
        "steps",
        "--data",
        s(&data),
        "--out",
        s(&dir.path().join("x.jpg")),
    ]);
    assert_eq!(r.code, 1);
}

#[test]
fn status_json_is_stable_and_counts_rows() {
    let dir = tempfile::tempdir().unwrap();
    let data = known_data(dir.path());
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_fitpipe"));
    c.args(["status", "--json", "--data", s(&data)])
        .env("FITPIPE_CONFIG_DIR", dir.path().join("cfg"));
    let r: Run = c.output().unwrap().into();
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let daily = v["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "daily_activity")
        .unwrap();
    assert_eq!(
        daily["rows"],
        6 + 3 + 2,
        "6 days here, 3 of the tutorial fixture, 2 DST days"
    );
    assert_eq!(daily["first"], "2019-04-14");
    assert_eq!(daily["last"], "2021-11-07");
    assert_eq!(daily["sources"], serde_json::json!(["fitbit-web-api"]));
    assert!(v["runs"].as_array().unwrap().is_empty() && v["users"].as_array().unwrap().is_empty());
}
