//! A study's coverage: per participant the days with data, wear, the last sync and the
//! state of their grant, which the CLI prints and draws as a heatmap (participants x days)
//! a coordinator reads at a glance.
//!
//! Wear per day: with intraday heart rate, the share of the day's minutes that have a
//! heart-rate sample; without it, 1 for a day with a resting heart rate (the tracker
//! computes one only when worn long enough), 0.5 for a day with steps but none, 0 else.

use std::collections::{BTreeMap, BTreeSet};

use arrow::array::{Array, Date32Array, Float64Array, Int64Array, TimestampMicrosecondArray};
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, NaiveDate, Utc};
use fitpipe_export::Dataset;
use serde::Serialize;

use crate::study::Study;
use fitpipe_pipeline::remote::Output;
use fitpipe_pipeline::tables::layout;

/// One participant's line of the coverage view (`fitpipe status --study --json`).
#[derive(Debug, Serialize)]
pub struct Participant {
    pub participant: String,
    /// Days of the window with any data.
    pub days_with_data: usize,
    /// Days of the window worn (wear of at least a half).
    pub days_worn: usize,
    /// Minutes with a heart-rate sample in the window (intraday heart rate only).
    pub wear_minutes: Option<u64>,
    pub first_day: Option<NaiveDate>,
    pub last_day: Option<NaiveDate>,
    /// When their last run finished, and how.
    pub last_sync: Option<DateTime<Utc>>,
    pub last_outcome: Option<String>,
    /// `ok`, `lapsing` (ends within 2 days), `refused` (consent again), `damaged` (the
    /// stored grant cannot be read: a new enrollment link), `none`.
    pub grant: &'static str,
    pub grant_expires: Option<DateTime<Utc>>,
    /// The last day of the unbroken run of final days (the tracker synced after them).
    pub complete_through: Option<NaiveDate>,
    /// Days of the window not final yet: worn, but not synced since.
    pub incomplete_days: usize,
    /// Final days meeting the study's valid-day rule, and missing it.
    pub valid_days: usize,
    pub invalid_days: usize,
    /// The trackers' latest sync, as the device list said.
    pub tracker_synced: Option<DateTime<Utc>>,
    /// Low battery, a tracker not syncing: why to contact them.
    pub alerts: Vec<String>,
    /// Days of the window fetched before the tracker synced after them (the heatmap's
    /// "worn, not synced").
    #[serde(skip)]
    pub not_final: BTreeSet<NaiveDate>,
    /// Wear per day of the window, 0 to 1 (the heatmap's row).
    #[serde(skip)]
    pub wear: BTreeMap<NaiveDate, f64>,
}

/// The coverage of every participant over `from..=to`, as of `now` (grants lapsing,
/// trackers not syncing).
pub async fn coverage(
    study: &Study,
    out: &Output,
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<Participant>> {
    let store = study.store();
    let mut all = Vec::new();
    for id in &study.roster {
        out.pull(id).await?;
        let ds = Dataset::new(out.local(), &[]).for_participant(id);
        let (mut wear, mut data) = daily_wear(&ds, from, to)?;
        let minutes = heart_minutes(&ds, from, to)?;
        let wear_minutes =
            (!minutes.is_empty()).then(|| minutes.values().map(|m| m.len() as u64).sum());
        for (d, m) in &minutes {
            data.insert(*d);
            wear.insert(*d, (m.len() as f64 / 1440.0).min(1.0));
        }
        let q = fitpipe_pipeline::quality::summary(&ds, now)?
            .into_iter()
            .find(|q| q.user == *id)
            .unwrap_or_default();
        let not_final: BTreeSet<NaiveDate> = q
            .incomplete_days
            .iter()
            .copied()
            .filter(|d| *d >= from && *d <= to)
            .collect();
        let state = fitpipe_ingest::state::SyncState::load_from(ds.own_dir().join("state.json"))?;
        let last = state
            .runs()
            .values()
            .filter_map(|r| r.finished.map(|f| (f, r.outcome.clone())))
            .max_by_key(|(f, _)| *f);
        // A damaged grant file is that participant's line, not the view's failure.
        let (grant, grant_expires) = grant_of(store.load(study.provider.name(), id), now);
        all.push(Participant {
            participant: id.clone(),
            days_with_data: data.len(),
            days_worn: wear.values().filter(|w| **w >= 0.5).count(),
            wear_minutes,
            first_day: data.first().copied(),
            last_day: data.last().copied(),
            last_sync: last.as_ref().map(|l| l.0),
            last_outcome: last.map(|l| l.1),
            grant,
            grant_expires,
            complete_through: q.complete_through,
            incomplete_days: not_final.len(),
            valid_days: q.valid_days,
            invalid_days: q.invalid_days,
            tracker_synced: q.last_tracker_sync,
            alerts: q.alerts,
            not_final,
            wear,
        });
        out.release(id);
    }
    Ok(all)
}

/// A contract table of one participant's share.
fn table(ds: &Dataset, name: &str) -> anyhow::Result<Vec<RecordBatch>> {
    let spec = fitpipe_transform::ALL_TABLES
        .iter()
        .find(|t| t.name == name)
        .expect("a contract table");
    Ok(ds.read_table(&layout(spec))?)
}

/// Wear per day of `from..=to` from the daily summaries (1 with a resting heart rate, a
/// half with steps alone), and the days with any data.
#[allow(clippy::type_complexity)]
fn daily_wear(
    ds: &Dataset,
    from: NaiveDate,
    to: NaiveDate,
) -> anyhow::Result<(BTreeMap<NaiveDate, f64>, BTreeSet<NaiveDate>)> {
    let mut wear: BTreeMap<NaiveDate, f64> = BTreeMap::new();
    let mut data: BTreeSet<NaiveDate> = BTreeSet::new();
    for b in table(ds, "daily_activity")? {
        let date = col::<Date32Array>(&b, "date")?;
        let steps = col::<Int64Array>(&b, "steps")?;
        let rhr = col::<Float64Array>(&b, "resting_heart_rate_bpm")?;
        for i in 0..b.num_rows() {
            let Some(d) = date.value_as_date(i) else {
                continue;
            };
            if d < from || d > to {
                continue;
            }
            let moved = steps.is_valid(i) && steps.value(i) > 0;
            let hr = rhr.is_valid(i);
            if moved || hr {
                data.insert(d);
            }
            let w = if hr {
                1.0
            } else if moved {
                0.5
            } else {
                0.0
            };
            let e = wear.entry(d).or_insert(0.0);
            *e = e.max(w);
        }
    }
    Ok((wear, data))
}

/// Minutes with a heart-rate sample, per local day of `from..=to`.
fn heart_minutes(
    ds: &Dataset,
    from: NaiveDate,
    to: NaiveDate,
) -> anyhow::Result<BTreeMap<NaiveDate, BTreeSet<i64>>> {
    let mut minutes: BTreeMap<NaiveDate, BTreeSet<i64>> = BTreeMap::new();
    for b in table(ds, "heart_rate_intraday")? {
        let local = col::<TimestampMicrosecondArray>(&b, "time_local")?;
        let utc = col::<TimestampMicrosecondArray>(&b, "time_utc")?;
        for i in 0..b.num_rows() {
            let us = if local.is_valid(i) {
                local.value(i)
            } else {
                utc.value(i)
            };
            let Some(t) = DateTime::from_timestamp_micros(us) else {
                continue;
            };
            let d = t.date_naive();
            if d >= from && d <= to {
                minutes
                    .entry(d)
                    .or_default()
                    .insert(us.div_euclid(60_000_000));
            }
        }
    }
    Ok(minutes)
}

/// The state of a participant's grant as of `now`, and when it lapses.
fn grant_of(
    tokens: Result<Option<fitpipe_ingest::store::Tokens>, fitpipe_ingest::IngestError>,
    now: DateTime<Utc>,
) -> (&'static str, Option<DateTime<Utc>>) {
    match &tokens {
        Err(_) => ("damaged", None),
        Ok(None) => ("none", None),
        Ok(Some(t)) if t.refused_at.is_some() => ("refused", t.refresh_expires_at),
        Ok(Some(t)) => match t.refresh_expires_at {
            Some(at) if at <= now => ("refused", Some(at)),
            Some(at) if at - now <= chrono::Duration::days(2) => ("lapsing", Some(at)),
            at => ("ok", at),
        },
    }
}

fn col<'a, T: 'static>(b: &'a RecordBatch, name: &str) -> anyhow::Result<&'a T> {
    b.column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| anyhow::anyhow!("column `{name}` of an unexpected type"))
}

/// The coverage view as text.
pub fn text(rows: &[Participant], from: NaiveDate, to: NaiveDate) -> String {
    let days = (to - from).num_days() + 1;
    let mut s = format!(
        "coverage {from} .. {to} ({days} days)\n{:<16} {:>9} {:>6} {:>12} {:>11}  {:<17} {:<8} {}\n",
        "participant", "data days", "worn", "wear hours", "last day", "last sync", "grant", "last outcome"
    );
    for r in rows {
        s.push_str(&format!(
            "{:<16} {:>9} {:>6} {:>12} {:>11}  {:<17} {:<8} {}\n",
            r.participant,
            r.days_with_data,
            r.days_worn,
            r.wear_minutes
                .map_or("-".into(), |m| format!("{:.1}", m as f64 / 60.0)),
            r.last_day.map_or("-".into(), |d| d.to_string()),
            r.last_sync
                .map_or("-".into(), |t| t.format("%Y-%m-%d %H:%M").to_string()),
            match (r.grant, r.grant_expires) {
                ("lapsing", Some(at)) => format!("lapsing {}", at.format("%m-%d")),
                (g, _) => g.to_string(),
            },
            r.last_outcome.as_deref().unwrap_or("-"),
        ));
    }
    let refused: Vec<&str> = rows
        .iter()
        .filter(|r| matches!(r.grant, "refused" | "none" | "lapsing" | "damaged"))
        .map(|r| r.participant.as_str())
        .collect();
    if !refused.is_empty() {
        s.push_str(&format!(
            "to contact (no grant, refused or lapsing): {}\n",
            refused.join(", ")
        ));
    }
    for r in rows.iter().filter(|r| !r.alerts.is_empty()) {
        s.push_str(&format!(
            "to contact: {} ({})\n",
            r.participant,
            r.alerts.join("; ")
        ));
    }
    s
}
