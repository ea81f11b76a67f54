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
        "Steps per day of Test Runner, 2019-04-14 to 2019-04-20",
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
    let img = super::Picture::open(&png);
    // 1000 px of chart and the legend's column of 170 right of it.
    assert_eq!(img.dimensions(), (1170, 600));
    // A scanline just above the x axis crosses every bar with data once.
    let bar = [0x1f, 0x77, 0xb4];
    let y = (0..600)
        .rev()
        .find(|y| (0..1000).filter(|x| img.get_pixel(*x, *y) == bar).count() > 100)
        .expect("bars drawn");
    let mut runs = 0;
    let mut inside = false;
    for x in 0..1000 {
        let on = img.get_pixel(x, y) == bar;
        if on && !inside {
            runs += 1;
        }
        inside = on;
    }
    assert_eq!(runs, 6, "six bars cross the baseline");
    // The tallest bar (12000 on Wed 17 Apr, the 4th day) reaches highest.
    let top_of = |xr: std::ops::Range<u32>| {
        (0..600)
            .find(|yy| xr.clone().any(|x| img.get_pixel(x, *yy) == bar))
            .unwrap_or(600)
    };
    let cols: Vec<u32> = (0..1000).filter(|x| img.get_pixel(*x, y) == bar).collect();
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

/// `(x, text)` of the SVG's text elements, and `(x, width, height)` of its bars.
type Rects = Vec<(f64, f64, f64)>;
fn svg_parts(text: &str) -> (Vec<(f64, String)>, Rects) {
    let attr = |tag: &str, name: &str| -> Option<f64> {
        let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        tag[at..].split('"').next()?.parse().ok()
    };
    let mut labels = Vec::new();
    for part in text.split("<text").skip(1) {
        let (tag, rest) = part.split_once('>').unwrap();
        let body = rest.split("</text>").next().unwrap().trim().to_string();
        labels.push((attr(tag, "x").unwrap(), body));
    }
    let bars = text
        .split("<rect")
        .skip(1)
        .filter(|t| t.contains(&format!("fill=\"{BAR}\"")))
        .filter_map(|t| Some((attr(t, "x")?, attr(t, "width")?, attr(t, "height")?)))
        .collect();
    (labels, bars)
}

#[test]
fn date_labels_sit_centred_under_their_bars_without_overlap() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("data");
    // 40 days: the labels must thin out; one day of 0 steps (unworn) and one absent.
    let mut days = Vec::new();
    let start = chrono::NaiveDate::from_ymd_opt(2019, 3, 1).unwrap();
    for i in 0..40 {
        let d = start + chrono::Duration::days(i);
        let v = match i {
            5 => 0,
            6 => continue,
            _ => 5000 + 100 * i,
        };
        days.push(format!(r#"{{"dateTime":"{d}","value":"{v}"}}"#));
    }
    let steps = dir.path().join("steps.json");
    fs::write(
        &steps,
        format!(r#"{{"activities-steps":[{}]}}"#, days.join(",")),
    )
    .unwrap();
    let r = fitpipe(&["import", "json", s(&steps), "--out", s(&out)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let svg = dir.path().join("steps.svg");
    let r = fitpipe(&[
        "plot",
        "steps",
        "--from",
        "2019-03-01",
        "--to",
        "2019-04-09",
        "--data",
        s(&out),
        "--out",
        s(&svg),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = fs::read_to_string(&svg).unwrap();
    let (labels, bars) = svg_parts(&text);
    let dated: Vec<(f64, String)> = labels
        .into_iter()
        .filter(|(_, t)| t.starts_with("2019-"))
        .collect();
    assert!(dated.len() >= 5, "{dated:?}");
    // Bars in day order, one per day with a row (day 6 has none); the legend swatch first.
    let mut bars = bars;
    bars.sort_by(|a, b| a.0.total_cmp(&b.0));
    let with_rows: Vec<i64> = (0..40).filter(|i| *i != 6).collect();
    // The legend's swatch is 16 x 12 px; the bars here are far taller (or 0 high).
    let bars: Rects = bars.into_iter().filter(|b| b.2 != 12.0).collect();
    assert_eq!(bars.len(), with_rows.len(), "{bars:?}");
    let mut checked = 0;
    for (x, t) in &dated {
        let d: chrono::NaiveDate = t.parse().unwrap();
        let Some(k) = with_rows.iter().position(|i| *i == (d - start).num_days()) else {
            continue;
        };
        let centre = bars[k].0 + bars[k].1 / 2.0;
        assert!(
            (x - centre).abs() <= 1.0,
            "{t} at {x}, its bar centred at {centre}"
        );
        checked += 1;
    }
    assert!(checked >= 4, "{checked}");
    // 14 px DejaVu Sans is at most 8.5 px a character: neighbours never touch.
    for w in dated.windows(2) {
        let half = |t: &str| t.chars().count() as f64 * 8.5 / 2.0;
        assert!(w[1].0 - w[0].0 > half(&w[0].1) + half(&w[1].1), "{w:?}");
    }
    // The average leaves out the unworn day (0 steps) and the absent one.
    let worn: Vec<f64> = (0..40)
        .filter(|i| *i != 5 && *i != 6)
        .map(|i| 5000.0 + 100.0 * i as f64)
        .collect();
    let avg = worn.iter().sum::<f64>() / worn.len() as f64;
    assert!(
        text.contains(&format!("average {avg:.0}")),
        "average {avg:.0}"
    );
}

// Regression: the sleep chart's legend sat over the last night's bar, a night without
// data was a gap with no label, and the title named the account id. Now the legend has
// a column right of every bar, each night without a main sleep says "no data", and the
// title names the person as the profile does.
#[test]
fn sleep_legend_stays_clear_of_the_bars_and_empty_nights_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let data = known_data(dir.path());
    let svg = dir.path().join("sleep.svg");
    let r = fitpipe(&[
        "plot",
        "sleep",
        "--from",
        "2020-04-11",
        "--to",
        "2020-04-14",
        "--data",
        s(&data),
        "-o",
        s(&svg),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = fs::read_to_string(&svg).unwrap();
    let (labels, _) = svg_parts(&text);
    // 11, 12 (a nap only) and 14 April have no main sleep: three slots, and the legend.
    let no_data = labels.iter().filter(|(_, t)| t == "no data").count();
    assert_eq!(no_data, 3 + 1, "{labels:?}");
    assert!(
        labels
            .iter()
            .any(|(_, t)| t.contains("of Test Runner, 2020-04-11")),
        "{labels:?}"
    );
    // Every rectangle of a stage colour that is a bar (not a 16 px swatch) ends left of
    // every legend label.
    let attr = |tag: &str, name: &str| -> Option<f64> {
        let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        tag[at..].split('"').next()?.parse().ok()
    };
    let stage_fills = ["#1A237E", "#4285F4", "#8E44AD", "#F39C12"];
    let bar_right = text
        .split("<rect")
        .skip(1)
        .filter(|t| {
            stage_fills
                .iter()
                .any(|f| t.contains(&format!("fill=\"{f}\"")))
        })
        .filter_map(|t| Some((attr(t, "x")?, attr(t, "width")?)))
        .filter(|(_, w)| *w != 16.0)
        .map(|(x, w)| x + w)
        .fold(0.0, f64::max);
    assert!(bar_right > 0.0, "no bar drawn");
    for name in ["deep", "light", "rem", "wake"] {
        let (x, _) = labels.iter().find(|(_, t)| t == name).unwrap();
        assert!(
            *x > bar_right,
            "legend `{name}` at {x}, a bar reaches {bar_right}"
        );
    }
}

// A day the tracker was not worn (its heart-rate zones hold no minute, and the steps
// series says 0) is drawn as "not worn", not as a bar of zero steps; a worn day of few
// steps keeps its bar.
#[test]
fn a_day_without_wear_is_marked_not_drawn_as_zero() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("data");
    let zones = |d: &str, minutes: [i64; 4]| {
        let names = [
            ("Out of Range", 30, 97),
            ("Fat Burn", 97, 135),
            ("Cardio", 135, 164),
            ("Peak", 164, 220),
        ];
        let z: Vec<String> = names
            .iter()
            .zip(minutes)
            .map(|((n, lo, hi), m)| {
                format!(r#"{{"name":"{n}","min":{lo},"max":{hi},"minutes":{m},"caloriesOut":0}}"#)
            })
            .collect();
        format!(
            r#"{{"dateTime":"{d}","value":{{"customHeartRateZones":[],"heartRateZones":[{}]}}}}"#,
            z.join(",")
        )
    };
    let heart = format!(
        r#"{{"activities-heart":[{},{},{}]}}"#,
        zones("2019-04-14", [1300, 100, 20, 0]),
        zones("2019-04-15", [0, 0, 0, 0]),
        zones("2019-04-16", [200, 10, 0, 0]),
    );
    fs::write(dir.path().join("heart.json"), heart).unwrap();
    fs::write(
        dir.path().join("steps.json"),
        r#"{"activities-steps":[{"dateTime":"2019-04-14","value":"9000"},{"dateTime":"2019-04-15","value":"0"},{"dateTime":"2019-04-16","value":"150"}]}"#,
    )
    .unwrap();
    let r = fitpipe(&[
        "import",
        "json",
        s(&dir.path().join("heart.json")),
        s(&dir.path().join("steps.json")),
        "--out",
        s(&out),
        "--user-id",
        "U1",
        "--timezone",
        "UTC",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let svg = dir.path().join("steps.svg");
    let r = fitpipe(&[
        "plot",
        "steps",
        "--from",
        "2019-04-14",
        "--to",
        "2019-04-16",
        "--data",
        s(&out),
        "--out",
        s(&svg),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = fs::read_to_string(&svg).unwrap();
    let (labels, _) = svg_parts(&text);
    let said = |w: &str| labels.iter().filter(|(_, t)| t == w).count();
    // The slot and the legend; no "no data" (every day has a row).
    assert_eq!(said("not worn"), 2, "{labels:?}");
    assert_eq!(said("no data"), 0, "{labels:?}");
    // Two bars and the legend swatch: the unworn day has none.
    assert_eq!(text.matches(&format!("fill=\"{BAR}\"")).count(), 2 + 1);
    // The wear behind it: 1420 minutes, 0, 210 (zones' minutes), valid only the first.
    let st = fitpipe(&["status", "--data", s(&out), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&st.stdout).unwrap();
    let days = &v["days"][0];
    assert_eq!(days["valid_days"], 1, "{days}");
    assert_eq!(days["invalid_days"], 2, "{days}");
}
