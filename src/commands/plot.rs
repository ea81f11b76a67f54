//! `fitpipe plot steps|sleep|heart`: charts from the Parquet tables (plotters), PNG or SVG,
//! drawn with a bundled font so they work on a headless machine.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use arrow::array::{Array, AsArray, BooleanArray, Date32Array, StringArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type};
use arrow::record_batch::RecordBatch;
use chrono::{Duration, NaiveDate};
use fitpipe_export::{Dataset, Format};
use fitpipe_transform::tables::{DailyActivity, DayQuality, Profile, SleepSession};
use fitpipe_transform::TableSpec;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::cli::{PlotArgs, PlotKind};
use crate::output::hint;
use fitpipe_pipeline::tables::layout;

const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const BAR: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
const GOAL: RGBColor = RGBColor(0xd6, 0x27, 0x28);
const AVG: RGBColor = RGBColor(0x2c, 0xa0, 0x2c);
/// Sleep stage colours: deep, light, rem, wake; classic: asleep, restless, awake.
const STAGES: [(&str, RGBColor); 7] = [
    ("deep", RGBColor(0x1a, 0x23, 0x7e)),
    ("light", RGBColor(0x42, 0x85, 0xf4)),
    ("rem", RGBColor(0x8e, 0x44, 0xad)),
    ("wake", RGBColor(0xf3, 0x9c, 0x12)),
    ("asleep", RGBColor(0x16, 0xa0, 0x85)),
    ("restless", RGBColor(0xe6, 0x7e, 0x22)),
    ("awake", RGBColor(0xc0, 0x39, 0x2b)),
];

type Err = Box<dyn std::error::Error + Send + Sync>;

pub fn run(mut args: PlotArgs) -> anyhow::Result<ExitCode> {
    // `--out` names the dataset in every command; before `-o` it named plot's picture,
    // and a `--out chart.png` still draws there.
    if let Some(o) = args.out.take() {
        let lower = o.to_ascii_lowercase();
        if lower.ends_with(".png") || lower.ends_with(".svg") {
            if args.output.is_some() {
                return Err(hint(
                    "both `--out` and `-o` name the picture",
                    "keep `-o FILE`",
                ));
            }
            args.output = Some(o.into());
        } else if args.data.is_some() {
            return Err(hint(
                "both `--data` and `--out` name the dataset",
                "keep one of them (`--data DIR`)",
            ));
        } else {
            args.data = Some(o);
        }
    }
    let data = crate::cli::named_or_env(args.data.clone()).unwrap_or_else(|| "./data".into());
    fitpipe_pipeline::remote::with_dataset(&data, false, |dir| draw_from(dir, &data, &args))
}

fn draw_from(dir: &Path, data: &str, args: &PlotArgs) -> anyhow::Result<ExitCode> {
    let (from, to) = range(args)?;
    let out = args
        .output
        .clone()
        .unwrap_or_else(|| format!("fitpipe-{}.png", args.kind.name()).into());
    let svg = match out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("svg") => true,
        Some("png") => false,
        _ => {
            return Err(hint(
                format!("`{}` is neither .png nor .svg", out.display()),
                "name the file `something.png` or `something.svg`",
            ))
        }
    };
    let ds = Dataset::new(dir, &[Format::Parquet]);
    let spec: &TableSpec = match args.kind {
        PlotKind::Steps | PlotKind::Heart => &DailyActivity::SPEC,
        PlotKind::Sleep => &SleepSession::SPEC,
    };
    let batches = ds
        .read_table(&layout(spec))
        .with_context(|| format!("reading `{}`", spec.name))?;
    let user = pick_user(&batches, args.user.as_deref(), data, spec.name)?;
    let mut chart = match args.kind {
        PlotKind::Steps => Chart::Steps(daily(&batches, &user, "steps", from, to)?, args.goal),
        PlotKind::Heart => {
            Chart::Heart(daily(&batches, &user, "resting_heart_rate_bpm", from, to)?)
        }
        PlotKind::Sleep => Chart::Sleep(sleep(&batches, &user, from, to)?),
    };
    if chart.is_empty() {
        return Err(hint(
            format!("no {} data for user `{user}` from {from} to {to} in `{}`", args.kind.name(), data),
            "pick another range with `--from/--to` or `--last`, or fetch it first (`fitpipe ingest`)",
        ));
    }
    // Days the tracker was not worn (no minute of heart rate, by `day_quality`): drawn as
    // such, not as a day of zero steps.
    let unworn = unworn(&ds, &user, from, to)?;
    if let Chart::Steps(m, _) | Chart::Heart(m) = &mut chart {
        m.retain(|d, _| !unworn.contains(d));
    }
    // The person as they call themselves where the profile says (an account id of 19
    // digits tells a reader nothing); a study's rows carry the study id already.
    let who = display_name(&ds, &user).unwrap_or_else(|| user.clone());
    let title = format!("{} of {who}, {from} to {to}", chart.title());
    let days: Vec<NaiveDate> = from.iter_days().take_while(|d| *d <= to).collect();
    let size = (
        1000u32.max(24 * days.len() as u32).min(1600) + LEGEND_W,
        600u32,
    );
    let drawn = if svg {
        draw(
            SVGBackend::new(&out, size).into_drawing_area(),
            &chart,
            &days,
            &unworn,
            &title,
        )
    } else {
        write_png(&out, size, |root| {
            draw(root, &chart, &days, &unworn, &title)
        })
    };
    drawn.map_err(|e| anyhow::anyhow!("drawing `{}`: {e}", out.display()))?;
    eprintln!("wrote `{}` ({} days)", out.display(), days.len());
    Ok(ExitCode::SUCCESS)
}

/// The days of `from..=to` with a `day_quality` row of zero wear minutes.
fn unworn(
    ds: &Dataset,
    user: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> anyhow::Result<BTreeSet<NaiveDate>> {
    let mut out = BTreeSet::new();
    for b in ds.read_table(&layout(&DayQuality::SPEC))? {
        let users = user_ids(&b)?;
        let d = dates(&b, "date")?;
        let wear = floats(&b, "wear_minutes")?;
        for i in 0..b.num_rows() {
            if users.value(i) == user && d[i] >= from && d[i] <= to && wear[i] == Some(0.0) {
                out.insert(d[i]);
            }
        }
    }
    Ok(out)
}

/// The display name the profile table holds for `user`, if any.
fn display_name(ds: &Dataset, user: &str) -> Option<String> {
    let batches = ds.read_table(&layout(&Profile::SPEC)).ok()?;
    batches.iter().find_map(|b| {
        let users = user_ids(b).ok()?;
        let names = b
            .column(b.schema().index_of("display_name").ok()?)
            .as_string_opt::<i32>()?;
        (0..b.num_rows()).find_map(|i| {
            (users.value(i) == user && names.is_valid(i))
                .then(|| names.value(i).trim().to_string())
                .filter(|n| !n.is_empty())
        })
    })
}

fn range(args: &PlotArgs) -> anyhow::Result<(NaiveDate, NaiveDate)> {
    let today = chrono::Local::now().date_naive();
    let (from, to) = match (&args.last, args.from, args.to) {
        (Some(l), None, None) => {
            let n: i64 = l.trim_end_matches('d').parse().map_err(|_| {
                hint(
                    format!("`--last {l}` is not a number of days"),
                    "use e.g. `--last 7d`",
                )
            })?;
            if n < 1 {
                return Err(hint("`--last` must be at least 1d", "use e.g. `--last 7d`"));
            }
            let to = args.to.unwrap_or(today);
            (to - Duration::days(n - 1), to)
        }
        (None, Some(f), t) => (f, t.unwrap_or(today)),
        (None, None, t) => {
            let to = t.unwrap_or(today);
            (to - Duration::days(6), to)
        }
        (Some(_), _, _) => {
            return Err(hint(
                "`--last` cannot be combined with `--from`/`--to`",
                "use one or the other",
            ))
        }
    };
    if from > to {
        return Err(hint(
            format!("`--from {from}` is after `--to {to}`"),
            "swap the dates",
        ));
    }
    if (to - from).num_days() > 366 {
        return Err(hint(
            "that is more than a year of bars",
            "plot at most 366 days at once",
        ));
    }
    Ok((from, to))
}

fn users(batches: &[RecordBatch]) -> Vec<String> {
    let mut u: Vec<String> = batches
        .iter()
        .flat_map(|b| {
            b.column(0)
                .as_string::<i32>()
                .iter()
                .flatten()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    u.sort();
    u.dedup();
    u
}

fn pick_user(
    batches: &[RecordBatch],
    user: Option<&str>,
    data: &str,
    table: &str,
) -> anyhow::Result<String> {
    let all = users(batches);
    match (user, all.len()) {
        (_, 0) => Err(hint(
            format!("no `{table}` table in `{data}`"),
            "point `--data` at fitpipe's output folder, or run `fitpipe ingest` first",
        )),
        (Some(u), _) if all.iter().any(|a| a == u) => Ok(u.to_string()),
        (Some(u), _) => Err(hint(
            format!("no rows for user `{u}` in `{table}`"),
            format!("users there: {}", all.join(", ")),
        )),
        (None, 1) => Ok(all[0].clone()),
        (None, _) => Err(hint(
            format!("`{table}` holds several users"),
            format!("pick one with `--user` ({})", all.join(", ")),
        )),
    }
}

/// The `user_id` column (the first of every table).
fn user_ids(b: &RecordBatch) -> anyhow::Result<&StringArray> {
    b.column(0)
        .as_any()
        .downcast_ref::<StringArray>()
        .context("user_id")
}

fn floats(b: &RecordBatch, name: &str) -> anyhow::Result<Vec<Option<f64>>> {
    let c = cast(b.column(b.schema().index_of(name)?), &DataType::Float64)?;
    Ok(c.as_primitive::<Float64Type>().iter().collect())
}

fn dates(b: &RecordBatch, name: &str) -> anyhow::Result<Vec<NaiveDate>> {
    let c = b.column(b.schema().index_of(name)?);
    let a = c
        .as_any()
        .downcast_ref::<Date32Array>()
        .context("a DATE column")?;
    Ok((0..a.len())
        .map(|i| a.value_as_date(i).unwrap_or_default())
        .collect())
}

fn daily(
    batches: &[RecordBatch],
    user: &str,
    col: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> anyhow::Result<BTreeMap<NaiveDate, f64>> {
    let mut out = BTreeMap::new();
    for b in batches {
        let users = user_ids(b)?;
        let d = dates(b, "date")?;
        let v = floats(b, col)?;
        for i in 0..b.num_rows() {
            if users.value(i) == user && d[i] >= from && d[i] <= to {
                if let Some(x) = v[i] {
                    out.insert(d[i], x);
                }
            }
        }
    }
    Ok(out)
}

/// Hours per stage per night (main sleep), by the date the sleep ended.
fn sleep(
    batches: &[RecordBatch],
    user: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> anyhow::Result<BTreeMap<NaiveDate, Vec<(usize, f64)>>> {
    let mut out: BTreeMap<NaiveDate, Vec<(usize, f64)>> = BTreeMap::new();
    for b in batches {
        let users = user_ids(b)?;
        let d = dates(b, "date_of_sleep")?;
        let main = b
            .column(b.schema().index_of("is_main_sleep")?)
            .as_any()
            .downcast_ref::<BooleanArray>()
            .context("is_main_sleep")?
            .clone();
        let kind = b
            .column(b.schema().index_of("kind")?)
            .as_string::<i32>()
            .clone();
        let cols = [
            "minutes_deep",
            "minutes_light",
            "minutes_rem",
            "minutes_wake",
            "minutes_asleep",
            "minutes_restless",
        ]
        .iter()
        .map(|c| floats(b, c))
        .collect::<anyhow::Result<Vec<_>>>()?;
        for i in 0..b.num_rows() {
            if users.value(i) != user
                || d[i] < from
                || d[i] > to
                || (main.is_valid(i) && !main.value(i))
            {
                continue;
            }
            let h = |k: usize| cols[k][i].unwrap_or(0.0) / 60.0;
            let night = if kind.value(i) == "classic" {
                // Classic logs: asleep (total asleep less restless), restless, awake.
                let restless = h(5);
                vec![(4, (h(4) - restless).max(0.0)), (5, restless), (6, h(3))]
            } else {
                vec![(0, h(0)), (1, h(1)), (2, h(2)), (3, h(3))]
            };
            out.insert(d[i], night);
        }
    }
    Ok(out)
}

enum Chart {
    Steps(BTreeMap<NaiveDate, f64>, f64),
    Heart(BTreeMap<NaiveDate, f64>),
    Sleep(BTreeMap<NaiveDate, Vec<(usize, f64)>>),
}

impl Chart {
    fn is_empty(&self) -> bool {
        match self {
            Chart::Steps(m, _) | Chart::Heart(m) => m.is_empty(),
            Chart::Sleep(m) => m.is_empty(),
        }
    }
    fn title(&self) -> &'static str {
        match self {
            Chart::Steps(..) => "Steps per day",
            Chart::Heart(_) => "Resting heart rate",
            Chart::Sleep(_) => "Sleep stages per night (main sleep)",
        }
    }
}

fn label(d: NaiveDate, n: usize) -> String {
    if n <= 14 {
        d.format("%a %d %b").to_string()
    } else {
        d.format("%Y-%m-%d").to_string()
    }
}

/// Draws with `draw` into an RGB buffer of `size` and writes it to `path` as a PNG,
/// atomically (a temporary file beside it, renamed): a chart is whole or absent.
pub(crate) fn write_png(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>) -> Result<(), Err>,
) -> Result<(), Err> {
    let (w, h) = size;
    let mut buf = vec![0u8; w as usize * h as usize * 3];
    draw(BitMapBackend::with_buffer(&mut buf, size).into_drawing_area())?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
    {
        let mut enc = png::Encoder::new(std::io::BufWriter::new(tmp.as_file_mut()), w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header()?;
        writer.write_image_data(&buf)?;
        writer.finish()?;
    }
    tmp.persist(path)?;
    Ok(())
}

/// ab_glyph draws only fonts it was given: the bundled DejaVu Sans, as `sans-serif`.
pub(crate) fn register_font() {
    let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    chart: &Chart,
    days: &[NaiveDate],
    unworn: &BTreeSet<NaiveDate>,
    title: &str,
) -> Result<(), Err>
where
    DB::ErrorType: 'static,
{
    register_font();
    root.fill(&WHITE)?;
    // The legend has a column of its own, right of the plot: it never covers a bar.
    let (w, _) = root.dim_in_pixel();
    let (root, side) = root.split_horizontally(w.saturating_sub(LEGEND_W));
    let mut legend: Vec<(String, Mark)> = Vec::new();
    let n = days.len();
    let ymax = match chart {
        Chart::Steps(m, goal) => m.values().copied().fold(*goal, f64::max) * 1.1,
        Chart::Heart(m) => m.values().copied().fold(0.0, f64::max) * 1.15,
        Chart::Sleep(m) => {
            m.values()
                .map(|v| v.iter().map(|x| x.1).sum::<f64>())
                .fold(0.0, f64::max)
                * 1.15
        }
    }
    .max(1.0);
    let ymin = match chart {
        Chart::Heart(m) => (m.values().copied().fold(f64::MAX, f64::min) - 10.0).max(0.0),
        _ => 0.0,
    };
    let y_desc = match chart {
        Chart::Steps(..) => "steps",
        Chart::Heart(_) => "resting heart rate (bpm)",
        Chart::Sleep(_) => "hours",
    };
    let mut c = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 24))
        .margin(20)
        .x_label_area_size(if n <= 14 { 40 } else { 70 })
        .y_label_area_size(70)
        .build_cartesian_2d((0..n.saturating_sub(1)).into_segmented(), ymin..ymax)?;
    c.configure_mesh()
        .disable_x_mesh()
        // Day labels are drawn below, centred under their bars (no tick labels here).
        .x_labels(2)
        .x_label_formatter(&|_| String::new())
        .y_label_formatter(&|y: &f64| {
            if ymax > 20.0 {
                format!("{y:.0}")
            } else {
                format!("{y:.1}")
            }
        })
        .x_desc("date")
        .y_desc(y_desc)
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .draw()?;
    // Each label centred under its bar, every `step`-th day so that none overlaps the
    // next (DejaVu Sans at 14 px is at most about 8.5 px a character).
    let (plot_w, _) = c.plotting_area().dim_in_pixel();
    let label_w = label(days[0], n).chars().count() as u32 * 17 / 2 + 12;
    let step = ((n as u32 * label_w).div_ceil(plot_w.max(1)) as usize).max(1);
    let font = ("sans-serif", 14)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Top));
    for i in (0..n).step_by(step) {
        // The middle of the bar's slot, exactly as the bars are placed.
        let (x0, y) = c.backend_coord(&(SegmentValue::Exact(i), ymin));
        let (x1, _) = c.backend_coord(&(SegmentValue::Exact(i + 1), ymin));
        root.draw(&Text::new(
            label(days[i], n),
            ((x0 + x1) / 2, y + 8),
            font.clone(),
        ))?;
    }
    let idx = |d: &NaiveDate| (*d - days[0]).num_days() as usize;
    let bar = |i: usize, lo: f64, hi: f64, color: RGBColor| {
        let mut r = Rectangle::new(
            [
                (SegmentValue::Exact(i), lo),
                (SegmentValue::Exact(i + 1), hi),
            ],
            color.filled(),
        );
        r.set_margin(0, 0, 4, 4);
        r
    };
    let centre = |i: usize| SegmentValue::CenterOf(i);
    // Days without data: a grey slot, and "no data" where the slot is wide enough to say
    // so (an absent day is not a zero).
    let has = |d: &NaiveDate| match chart {
        Chart::Steps(m, _) | Chart::Heart(m) => m.contains_key(d),
        Chart::Sleep(m) => m.contains_key(d),
    };
    let missing: Vec<usize> = days
        .iter()
        .enumerate()
        .filter(|(_, d)| !has(d))
        .map(|(i, _)| i)
        .collect();
    if !missing.is_empty() {
        let not_worn = |i: usize| unworn.contains(&days[i]);
        c.draw_series(
            missing
                .iter()
                .map(|&i| bar(i, ymin, ymax, if not_worn(i) { NOT_WORN } else { NO_DATA })),
        )?;
        let (x0, _) = c.backend_coord(&(SegmentValue::Exact(0), ymin));
        let (x1, _) = c.backend_coord(&(SegmentValue::Exact(1), ymin));
        if x1 - x0 >= 16 {
            let font = ("sans-serif", 13)
                .into_font()
                .color(&RGBColor(0x55, 0x55, 0x55))
                .transform(FontTransform::Rotate270)
                .pos(Pos::new(HPos::Left, VPos::Center));
            for &i in &missing {
                let (a, y) = c.backend_coord(&(SegmentValue::Exact(i), ymin));
                let (b, _) = c.backend_coord(&(SegmentValue::Exact(i + 1), ymin));
                let what = if not_worn(i) { "not worn" } else { "no data" };
                root.draw(&Text::new(what, ((a + b) / 2, y - 8), font.clone()))?;
            }
        }
        if missing.iter().any(|&i| !not_worn(i)) {
            legend.push(("no data".into(), Mark::Box(NO_DATA)));
        }
        if missing.iter().any(|&i| not_worn(i)) {
            legend.push(("not worn".into(), Mark::Box(NOT_WORN)));
        }
    }
    match chart {
        Chart::Steps(m, goal) => {
            c.draw_series(m.iter().map(|(d, v)| bar(idx(d), 0.0, *v, BAR)))?;
            legend.insert(0, ("steps".into(), Mark::Box(BAR)));
            c.draw_series(LineSeries::new(
                [
                    (SegmentValue::Exact(0), *goal),
                    (SegmentValue::Exact(n), *goal),
                ],
                GOAL.stroke_width(2),
            ))?;
            legend.push((format!("goal {goal:.0}"), Mark::Line(GOAL)));
            // Over days with data: a day with no step is an unworn one, and today is
            // not over yet; neither is a zero.
            let today = chrono::Local::now().date_naive();
            let worn: Vec<f64> = m
                .iter()
                .filter(|(d, v)| **v > 0.0 && **d < today)
                .map(|(_, v)| *v)
                .collect();
            let avg = if worn.is_empty() {
                m.values().sum::<f64>() / m.len() as f64
            } else {
                worn.iter().sum::<f64>() / worn.len() as f64
            };
            c.draw_series(LineSeries::new(
                [(SegmentValue::Exact(0), avg), (SegmentValue::Exact(n), avg)],
                AVG.stroke_width(2),
            ))?;
            legend.push((format!("average {avg:.0}"), Mark::Line(AVG)));
        }
        Chart::Heart(m) => {
            c.draw_series(LineSeries::new(
                m.iter().map(|(d, v)| (centre(idx(d)), *v)),
                BAR.stroke_width(2),
            ))?;
            legend.insert(0, ("resting heart rate".into(), Mark::Line(BAR)));
            c.draw_series(
                m.iter()
                    .map(|(d, v)| Circle::new((centre(idx(d)), *v), 3, BAR.filled())),
            )?;
            // 7-day rolling average over the days that have a value.
            let vals: Vec<(NaiveDate, f64)> = m.iter().map(|(d, v)| (*d, *v)).collect();
            let rolling = vals.iter().map(|(d, _)| {
                let w: Vec<f64> = vals
                    .iter()
                    .filter(|(e, _)| *e <= *d && (*d - *e).num_days() < 7)
                    .map(|x| x.1)
                    .collect();
                (centre(idx(d)), w.iter().sum::<f64>() / w.len() as f64)
            });
            c.draw_series(LineSeries::new(rolling, AVG.stroke_width(2)))?;
            legend.push(("7-day average".into(), Mark::Line(AVG)));
        }
        Chart::Sleep(m) => {
            let mut stages = Vec::new();
            for (k, (name, color)) in STAGES.iter().enumerate() {
                let rects: Vec<_> = m
                    .iter()
                    .filter_map(|(d, night)| {
                        let pos = night.iter().position(|(s, _)| *s == k)?;
                        let lo: f64 = night[..pos].iter().map(|x| x.1).sum();
                        let hi = lo + night[pos].1;
                        (hi > lo).then(|| bar(idx(d), lo, hi, *color))
                    })
                    .collect();
                if rects.is_empty() {
                    continue;
                }
                c.draw_series(rects)?;
                stages.push((name.to_string(), Mark::Box(*color)));
            }
            // Top of the stack first, as the bars read from the top.
            stages.reverse();
            legend.splice(0..0, stages);
        }
    }
    draw_legend(&side, &legend)?;
    root.present()?;
    side.present()?;
    Ok(())
}

/// Width of the legend's column, pixels.
const LEGEND_W: u32 = 170;
/// The slot of a day without data.
const NO_DATA: RGBColor = RGBColor(0xe4, 0xe4, 0xe4);
/// A day the tracker was not worn (no heart rate at all): a darker grey than no data.
const NOT_WORN: RGBColor = RGBColor(0xbd, 0xbd, 0xbd);

/// How a legend entry is drawn: a filled box (bars) or a line.
enum Mark {
    Box(RGBColor),
    Line(RGBColor),
}

/// The legend, top-left of its own column, level with the top of the plot.
fn draw_legend<DB: DrawingBackend>(
    side: &DrawingArea<DB, plotters::coord::Shift>,
    entries: &[(String, Mark)],
) -> Result<(), Err>
where
    DB::ErrorType: 'static,
{
    let font = ("sans-serif", 14)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (k, (label, mark)) in entries.iter().enumerate() {
        let y = 70 + 24 * k as i32;
        match mark {
            Mark::Box(c) => side.draw(&Rectangle::new([(4, y - 6), (20, y + 6)], c.filled()))?,
            Mark::Line(c) => side.draw(&PathElement::new([(4, y), (20, y)], c.stroke_width(2)))?,
        }
        side.draw(&Text::new(label.clone(), (28, y), font.clone()))?;
    }
    Ok(())
}
