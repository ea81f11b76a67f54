//! `fitpipe status`: per table the rows and date range, the last runs, token state.

use std::process::ExitCode;

use anyhow::Context as _;
use arrow::array::{Array, Date32Array, TimestampMicrosecondArray};
use chrono::{DateTime, NaiveDate, Utc};
use fitpipe_export::{Dataset, Format};
use fitpipe_ingest::state::SyncState;
use fitpipe_transform::ALL_TABLES;
use serde::Serialize;

use crate::cli::StatusArgs;
use crate::output::stdout;
use fitpipe_pipeline::session;
use fitpipe_pipeline::tables::layout;

/// The `--json` document (see docs/status.md); fields are only ever added.
#[derive(Serialize)]
struct Status {
    data: String,
    tables: Vec<TableStatus>,
    runs: Vec<RunStatus>,
    users: Vec<UserStatus>,
    /// Per user: complete and valid days, device alerts (from `day_quality`, `devices`).
    days: Vec<fitpipe_pipeline::quality::UserQuality>,
}

#[derive(Serialize)]
struct TableStatus {
    name: String,
    rows: usize,
    first: Option<NaiveDate>,
    last: Option<NaiveDate>,
    sources: Vec<String>,
}

#[derive(Serialize)]
struct RunStatus {
    provider: String,
    user: String,
    finished: Option<DateTime<Utc>>,
    outcome: String,
    requests: u64,
    rate_remaining: Option<u32>,
    rate_limit: Option<u32>,
}

#[derive(Serialize)]
struct UserStatus {
    provider: String,
    user: String,
    access_token_valid_until: DateTime<Utc>,
    needs_reauth: bool,
    /// When the provider refused the grant (revoked or ended), if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    refused_at: Option<DateTime<Utc>>,
    scopes: Vec<String>,
    timezone: Option<String>,
}

pub fn run(args: StatusArgs) -> anyhow::Result<ExitCode> {
    if let Some(path) = &args.study {
        return study(path, &args);
    }
    let data = args.data.or("./data");
    fitpipe_pipeline::remote::with_dataset(&data, false, |dir| local(dir, &data, &args))
}

fn local(dir: &std::path::Path, name: &str, args: &StatusArgs) -> anyhow::Result<ExitCode> {
    let ds = Dataset::new(dir, &[Format::Parquet]);
    let mut tables = Vec::new();
    for spec in ALL_TABLES {
        let batches = ds
            .read_table(&layout(spec))
            .with_context(|| format!("reading `{}`", spec.name))?;
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        if rows == 0 {
            continue;
        }
        let mut days: Vec<NaiveDate> = Vec::new();
        let mut sources: Vec<String> = Vec::new();
        for b in &batches {
            let src = b
                .column(1)
                .as_any()
                .downcast_ref::<arrow::array::StringArray>()
                .context("source")?;
            sources.extend(src.iter().flatten().map(str::to_string));
            sources.sort();
            sources.dedup();
            // The table's date: its DATE column, else its first timestamp (UTC).
            let col = spec
                .columns
                .iter()
                .position(|c| matches!(c.kind, fitpipe_transform::tables::Kind::Day));
            let ts = spec.columns.iter().position(|c| c.name.ends_with("_utc"));
            if let Some(i) = col {
                let a = b
                    .column(i)
                    .as_any()
                    .downcast_ref::<Date32Array>()
                    .context("date")?;
                days.extend((0..a.len()).filter_map(|j| a.value_as_date(j)));
            } else if let Some(i) = ts {
                let a = b
                    .column(i)
                    .as_any()
                    .downcast_ref::<TimestampMicrosecondArray>()
                    .context("timestamp")?;
                days.extend((0..a.len()).filter(|j| a.is_valid(*j)).filter_map(|j| {
                    DateTime::from_timestamp_micros(a.value(j)).map(|t| t.date_naive())
                }));
            }
        }
        tables.push(TableStatus {
            name: spec.name.into(),
            rows,
            first: days.iter().min().copied(),
            last: days.iter().max().copied(),
            sources,
        });
    }
    let state = SyncState::load(dir)?;
    let runs = state
        .runs()
        .iter()
        .map(|(k, r)| {
            let (p, u) = k.split_once('/').unwrap_or((k, ""));
            RunStatus {
                provider: p.into(),
                user: u.into(),
                finished: r.finished,
                outcome: r.outcome.clone(),
                requests: r.requests,
                rate_remaining: r.rate_remaining,
                rate_limit: r.rate_limit,
            }
        })
        .collect();
    let now = Utc::now();
    let users = session::store()
        .and_then(|s| Ok(s.users(None)?))
        .unwrap_or_default()
        .into_iter()
        .map(|t| UserStatus {
            needs_reauth: t.refused_at.is_some()
                || (t.expires_at <= now && t.refresh_token.is_none()),
            refused_at: t.refused_at,
            provider: t.provider,
            user: t.user_id,
            access_token_valid_until: t.expires_at,
            scopes: t.scope.split_whitespace().map(str::to_string).collect(),
            timezone: t.timezone,
        })
        .collect();
    // The simulator's clock in tests and demos, the real one otherwise.
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let today = rt.block_on(session::clock()).now();
    let days = fitpipe_pipeline::quality::summary(&ds, today)?;
    let st = Status {
        data: name.to_string(),
        tables,
        runs,
        users,
        days,
    };
    if args.json {
        stdout(&(serde_json::to_string_pretty(&st)? + "\n"))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut s = format!("data: {}\n\n", st.data);
    if st.tables.is_empty() {
        s.push_str("no tables yet (run `fitpipe ingest --demo` or `fitpipe import json`)\n");
    } else {
        s.push_str(&format!(
            "{:<22} {:>10} {:>11} {:>11}  {}\n",
            "table", "rows", "first", "last", "sources"
        ));
        for t in &st.tables {
            let d = |x: Option<NaiveDate>| x.map_or("-".to_string(), |d| d.to_string());
            s.push_str(&format!(
                "{:<22} {:>10} {:>11} {:>11}  {}\n",
                t.name,
                t.rows,
                d(t.first),
                d(t.last),
                t.sources.join(",")
            ));
        }
    }
    for r in &st.runs {
        let rate = match (r.rate_remaining, r.rate_limit) {
            (Some(a), Some(b)) => format!(", rate budget {a}/{b} left"),
            _ => String::new(),
        };
        s.push_str(&format!(
            "\nlast run for {} ({}): {} at {}, {} request(s){rate}",
            r.user,
            r.provider,
            r.outcome,
            r.finished
                .map_or("-".into(), |f| f.format("%Y-%m-%d %H:%M UTC").to_string()),
            r.requests
        ));
    }
    for u in &st.users {
        let tok = if let Some(at) = u.refused_at {
            format!(
                "refused by the provider {}: run `fitpipe auth`",
                at.format("%Y-%m-%d %H:%M UTC")
            )
        } else if u.needs_reauth {
            "needs `fitpipe auth`".to_string()
        } else if u.access_token_valid_until > now {
            format!(
                "valid until {}",
                u.access_token_valid_until.format("%Y-%m-%d %H:%M UTC")
            )
        } else {
            "expired, refreshes on next run".to_string()
        };
        s.push_str(&format!(
            "\nuser {} ({}): access token {tok}",
            u.user, u.provider
        ));
    }
    for q in &st.days {
        s.push_str(&days_line(q));
    }
    s.push('\n');
    stdout(&s)?;
    Ok(ExitCode::SUCCESS)
}

/// Which days of a user can be trusted, and what their devices need.
fn days_line(q: &fitpipe_pipeline::quality::UserQuality) -> String {
    let d = |x: Option<NaiveDate>| x.map_or("-".to_string(), |d| d.to_string());
    let mut s = format!(
        "\ndays of {}: complete through {}",
        q.user,
        d(q.complete_through)
    );
    match q.incomplete_days.as_slice() {
        [] => {}
        [one] => s.push_str(&format!(
            "; 1 not final yet ({one}: fetched again after the next sync)"
        )),
        [first, .., last] => s.push_str(&format!(
            "; {} not final yet ({first} .. {last}: fetched again after the next sync)",
            q.incomplete_days.len()
        )),
    }
    if q.valid_days + q.invalid_days > 0 {
        s.push_str(&format!(
            "; {} valid, {} under the {}-minute wear rule",
            q.valid_days,
            q.invalid_days,
            q.valid_day_minutes.unwrap_or(600)
        ));
    }
    if let Some(t) = q.last_tracker_sync {
        s.push_str(&format!(
            "; tracker last synced {}",
            t.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    for a in &q.alerts {
        s.push_str(&format!("\n  ! {a}"));
    }
    s
}

/// `fitpipe status --study`: the coverage view.
fn study(path: &std::path::Path, args: &StatusArgs) -> anyhow::Result<ExitCode> {
    let study = fitpipe_study::study::Study::load(path)?;
    let out = fitpipe_pipeline::remote::Output::open(&study.file.out)?;
    let rt = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let now = rt.block_on(session::clock()).now();
    let to = now.date_naive();
    let from = to - chrono::Duration::days(args.days.max(1) - 1);
    let rows = rt.block_on(fitpipe_study::coverage::coverage(
        &study, &out, from, to, now,
    ))?;
    if let Some(png) = &args.heatmap {
        heatmap(&rows, from, to, png).with_context(|| format!("drawing `{}`", png.display()))?;
        if !args.json {
            eprintln!("heatmap written to `{}`", png.display());
        }
    }
    if args.json {
        stdout(&(serde_json::to_string_pretty(&rows)? + "\n"))?;
    } else {
        stdout(&fitpipe_study::coverage::text(&rows, from, to))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A worn day not final yet in the heatmap.
const NOT_SYNCED: plotters::style::RGBColor = plotters::style::RGBColor(0xf2, 0xb1, 0x34);

/// Draws the heatmap: one row per participant, one column per day, darker green for more
/// wear, white for not worn or no data, amber for worn but not synced since; the row of a
/// participant without a working grant is red.
pub fn heatmap(
    rows: &[fitpipe_study::coverage::Participant],
    from: NaiveDate,
    to: NaiveDate,
    path: &std::path::Path,
) -> anyhow::Result<()> {
    use plotters::prelude::*;
    let days = ((to - from).num_days() + 1).max(1) as u32;
    let n = rows.len().max(1) as u32;
    let cell_w = (1000 / days).clamp(3, 16);
    let cell_h = (1000 / n).clamp(2, 18);
    let left = if cell_h >= 10 { 120 } else { 20 };
    let (top, bottom) = (50, 40);
    let size = (left + days * cell_w + 20, top + n * cell_h + bottom);
    super::plot::write_png(path, size, |root| {
        super::plot::register_font();
        root.fill(&WHITE)?;
        root.draw(&Text::new(
            format!("wear by day, {from} .. {to} ({} participants)", rows.len()),
            (left as i32, 12),
            ("sans-serif", 18).into_font(),
        ))?;
        // The key: what each colour says.
        let mut x = left as i32;
        for (label, color) in [
            ("worn (darker: more)", RGBColor(20, 110, 50)),
            ("worn, not synced since", NOT_SYNCED),
        ] {
            root.draw(&Rectangle::new([(x, 33), (x + 10, 43)], color.filled()))?;
            root.draw(&Text::new(
                label,
                (x + 14, 32),
                ("sans-serif", 12).into_font(),
            ))?;
            x += 14 + 7 * label.len() as i32 + 16;
        }
        root.draw(&Text::new(
            "white: not worn, or no data",
            (x, 32),
            ("sans-serif", 12).into_font(),
        ))?;
        for (r, p) in rows.iter().enumerate() {
            let y = (top + r as u32 * cell_h) as i32;
            // No grant, or a refused one: the row is shaded red (someone to contact).
            if matches!(p.grant, "none" | "refused" | "damaged") {
                root.draw(&Rectangle::new(
                    [
                        (left as i32, y),
                        ((left + days * cell_w) as i32 - 1, y + cell_h as i32 - 1),
                    ],
                    RGBColor(248, 222, 222).filled(),
                ))?;
            }
            if cell_h >= 10 {
                root.draw(&Text::new(
                    p.participant.clone(),
                    (8, y),
                    ("sans-serif", (cell_h as f64 * 0.8).min(14.0)).into_font(),
                ))?;
            }
            for (d, w) in &p.wear {
                let x = (left + (*d - from).num_days() as u32 * cell_w) as i32;
                // White (nothing) to dark green (worn all day); amber for a worn day the
                // tracker has not synced since (its numbers are still arriving).
                let g = |lo: f64, hi: f64| (hi - (hi - lo) * w.clamp(0.0, 1.0)) as u8;
                let color = if p.not_final.contains(d) && *w > 0.0 {
                    NOT_SYNCED
                } else {
                    RGBColor(g(20.0, 235.0), g(110.0, 245.0), g(50.0, 235.0))
                };
                root.draw(&Rectangle::new(
                    [(x, y), (x + cell_w as i32 - 1, y + cell_h as i32 - 1)],
                    color.filled(),
                ))?;
            }
        }
        // The first day of each month under the grid.
        let mut d = from;
        while d <= to {
            if d == from || d.format("%d").to_string() == "01" {
                let x = (left + (d - from).num_days() as u32 * cell_w) as i32;
                root.draw(&Text::new(
                    d.format("%Y-%m-%d").to_string(),
                    (x, (top + n * cell_h + 8) as i32),
                    ("sans-serif", 13).into_font(),
                ))?;
            }
            d += chrono::Duration::days(1);
        }
        root.present()?;
        Ok(())
    })
    .map_err(|e| anyhow::anyhow!("drawing `{}`: {e}", path.display()))
}
