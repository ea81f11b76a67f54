//! Which days can be trusted (issue #23): the `day_quality` table. It is derived, never
//! fetched: from the stored tables (wear from `heart_rate_intraday`, else from the minutes
//! of `heart_rate_zones`; the trackers' last sync from `devices`) and the sync state (the
//! days each resource fetched after a sync that followed them). Every run recomputes the
//! wear of the days it fetched and the completeness and validity of every day; `rebuild`
//! recomputes all of it, so both give the same table.

use std::collections::{BTreeMap, HashMap};

use arrow::array::{Array, BooleanArray, Date32Array, Int64Array, StringArray};
use arrow::array::{RecordBatch, TimestampMicrosecondArray};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use fitpipe_catalog::SyncedBy;
use fitpipe_export::{Dataset, Layout, Transaction, Written};
use fitpipe_ingest::provider::Provider;
use fitpipe_ingest::state::SyncState;
use fitpipe_transform::tables::{DailyActivity, DayQuality, Device, HeartRateIntraday};
use fitpipe_transform::tables::{HeartRateZone, Profile};

use crate::tables::layout;

/// The valid-day rule unless a study file or `--valid-day-minutes` sets one: at least
/// 600 minutes (10 hours) with heart rate, the usual wear-time rule.
pub const DEFAULT_VALID_DAY_MINUTES: u32 = 600;

/// The rule to use: the one given, else the one the dataset last used, else the default.
/// An ingest given one records it in the state ([`SyncState::set_valid_day_minutes`]).
pub fn rule(state: &SyncState, given: Option<u32>) -> u32 {
    given
        .or(state.valid_day_minutes())
        .unwrap_or(DEFAULT_VALID_DAY_MINUTES)
}

/// Where the inputs are read: the stored tables, or an open transaction's view of them
/// (so `day_quality` commits with the rows it is computed from).
trait Tables {
    fn read(&self, l: &Layout, keep: &dyn Fn(&str) -> bool) -> anyhow::Result<Vec<RecordBatch>>;
    fn labels(&self, l: &Layout) -> Vec<String>;
}

impl Tables for Dataset {
    fn read(&self, l: &Layout, keep: &dyn Fn(&str) -> bool) -> anyhow::Result<Vec<RecordBatch>> {
        Ok(self.read_partitions(l, keep)?)
    }
    fn labels(&self, l: &Layout) -> Vec<String> {
        self.partition_labels(l)
    }
}

impl Tables for Transaction<'_> {
    fn read(&self, l: &Layout, keep: &dyn Fn(&str) -> bool) -> anyhow::Result<Vec<RecordBatch>> {
        Ok(self.read_partitions(l, keep)?)
    }
    fn labels(&self, l: &Layout) -> Vec<String> {
        self.partition_labels(l)
    }
}

/// Recomputes `user`'s `day_quality` in `txn`: the wear of the days from `since` (all
/// days with `None`, none with `NaiveDate::MAX`), completeness and validity of every day.
pub fn refresh_in(
    txn: &mut Transaction<'_>,
    state: &SyncState,
    user: &str,
    tz: Option<Tz>,
    since: Option<NaiveDate>,
    rule: u32,
) -> anyhow::Result<Vec<Written>> {
    let rows = compute(&*txn, state, user, tz, since, rule)?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let l = layout(&DayQuality::SPEC);
    Ok(vec![txn.upsert(&l, &DayQuality::to_batch(&rows))?])
}

/// Recomputes every day of `users` in `txn`, with the dataset's rule (an import or a
/// rebuild, before it commits: their inputs changed).
pub fn refresh_all(
    txn: &mut Transaction<'_>,
    out: &std::path::Path,
    users: &[(String, Option<Tz>)],
) -> anyhow::Result<Vec<Written>> {
    let state = SyncState::load(out)?;
    let rule = rule(&state, None);
    let mut written = Vec::new();
    for (user, tz) in users {
        written.extend(refresh_in(txn, &state, user, *tz, None, rule)?);
    }
    Ok(written)
}

/// What one day's wear was counted from.
#[derive(Debug, Clone, Default)]
struct Wear {
    source: String,
    minutes: Option<i64>,
    from: Option<&'static str>,
}

/// `user`'s `day_quality` rows as the stored tables and the state say.
fn compute(
    ds: &dyn Tables,
    state: &SyncState,
    user: &str,
    tz: Option<Tz>,
    since: Option<NaiveDate>,
    rule: u32,
) -> anyhow::Result<Vec<DayQuality>> {
    let tz = match tz {
        Some(z) => z,
        None => profile_tz(ds, user)?.unwrap_or(Tz::UTC),
    };
    let again = |d: NaiveDate| since.is_none_or(|s| d >= s);
    let mut days: BTreeMap<NaiveDate, Wear> = BTreeMap::new();
    // `NaiveDate::MAX`: no day's inputs changed.
    if since != Some(NaiveDate::MAX) {
        for b in read(ds, &DailyActivity::SPEC, |_| true)? {
            for (i, d) in dates(&b, "date", user)? {
                if again(d) {
                    days.entry(d).or_default().source = text(&b, "source", i)?;
                }
            }
        }
        zones_wear(ds, user, &again, &mut days)?;
        intraday_wear(ds, user, tz, since, &again, &mut days)?;
    }
    let synced = tracker_sync(ds, user)?;
    let final_through = final_through(state, user);
    let complete = |d: NaiveDate| {
        let end = (d + Duration::days(1))
            .and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(tz).earliest());
        synced.map(|s| end.is_some_and(|e| s >= e) && final_through.is_none_or(|c| d <= c))
    };
    // Days outside the recomputed span keep their wear.
    let mut out: BTreeMap<NaiveDate, DayQuality> = existing(ds, user)?
        .into_iter()
        .map(|r| (r.date, r))
        .collect();
    // Days fetched without any data (a tracker that has not synced them, or unworn and
    // left out by the source) get a row too: not final, or final with unknown wear.
    if let (Some(first), Some((last, source))) =
        (days.keys().next().copied(), last_fetched(state, user))
    {
        let mut d = since.map_or(first, |s| s.max(first));
        while d <= last {
            if !days.contains_key(&d) && !out.contains_key(&d) {
                days.insert(
                    d,
                    Wear {
                        source: source.to_string(),
                        ..Wear::default()
                    },
                );
            }
            d += Duration::days(1);
        }
    }
    for (d, w) in days {
        out.insert(
            d,
            DayQuality {
                user_id: user.into(),
                source: w.source.as_str().into(),
                date: d,
                wear_minutes: w.minutes,
                wear_source: w.from.map(Into::into),
                synced_through_utc: None,
                complete: None,
                valid: None,
                valid_day_minutes: None,
            },
        );
    }
    Ok(out
        .into_values()
        .map(|mut r| {
            r.synced_through_utc = synced;
            r.complete = complete(r.date);
            r.valid = r.wear_minutes.map(|m| m >= rule as i64);
            r.valid_day_minutes = Some(rule as i64);
            r
        })
        .collect())
}

/// Wear from Fitbit's heart-rate zones: their minutes (Out of Range included) are the
/// minutes with heart rate.
fn zones_wear(
    ds: &dyn Tables,
    user: &str,
    again: &dyn Fn(NaiveDate) -> bool,
    days: &mut BTreeMap<NaiveDate, Wear>,
) -> anyhow::Result<()> {
    let mut sums: BTreeMap<NaiveDate, (i64, String)> = BTreeMap::new();
    for b in read(ds, &HeartRateZone::SPEC, |_| true)? {
        let minutes = col::<Int64Array>(&b, "minutes")?;
        let custom = col::<BooleanArray>(&b, "is_custom")?;
        for (i, d) in dates(&b, "date", user)? {
            if !again(d) || (custom.is_valid(i) && custom.value(i)) || !minutes.is_valid(i) {
                continue;
            }
            let e = sums.entry(d).or_insert((0, text(&b, "source", i)?));
            e.0 += minutes.value(i);
        }
    }
    for (d, (m, source)) in sums {
        let w = days.entry(d).or_default();
        w.minutes = Some(m.min(1440));
        w.from = Some("heart_rate_zones");
        w.source = source;
    }
    Ok(())
}

/// Wear from the heart-rate samples: distinct wall-clock minutes with a sample, per local
/// day (read only from the months the recomputed span touches).
fn intraday_wear(
    ds: &dyn Tables,
    user: &str,
    tz: Tz,
    since: Option<NaiveDate>,
    again: &dyn Fn(NaiveDate) -> bool,
    days: &mut BTreeMap<NaiveDate, Wear>,
) -> anyhow::Result<()> {
    // Partitions are months of `time_utc`: a local day can begin in the month before.
    let first = since.map(|s| (s - Duration::days(1)).format("%Y-%m").to_string());
    let keep = |label: &str| first.as_deref().is_none_or(|f| label >= f);
    let mut minutes: HashMap<NaiveDate, (Vec<u64>, String)> = HashMap::new();
    let l = layout(&HeartRateIntraday::SPEC);
    // One partition (a month) in memory at a time: years of 1-second samples are large.
    let labels: Vec<String> = ds.labels(&l).into_iter().filter(|x| keep(x)).collect();
    for label in labels {
        for b in ds.read(&l, &|x: &str| x == label)? {
            count_minutes(&b, user, tz, again, &mut minutes)?;
        }
    }
    for (d, (bits, source)) in minutes {
        let w = days.entry(d).or_default();
        w.minutes = Some(bits.iter().map(|b| b.count_ones() as i64).sum());
        w.from = Some("heart_rate_intraday");
        w.source = source;
    }
    Ok(())
}

/// Marks the wall-clock minutes of `user`'s samples in one batch, per local day.
fn count_minutes(
    b: &RecordBatch,
    user: &str,
    tz: Tz,
    again: &dyn Fn(NaiveDate) -> bool,
    minutes: &mut HashMap<NaiveDate, (Vec<u64>, String)>,
) -> anyhow::Result<()> {
    {
        let users = col::<StringArray>(b, "user_id")?;
        let local = col::<TimestampMicrosecondArray>(b, "time_local")?;
        let utc = col::<TimestampMicrosecondArray>(b, "time_utc")?;
        for i in 0..b.num_rows() {
            if users.value(i) != user {
                continue;
            }
            let t = if local.is_valid(i) {
                DateTime::from_timestamp_micros(local.value(i)).map(|t| t.naive_utc())
            } else {
                DateTime::from_timestamp_micros(utc.value(i))
                    .map(|t| t.with_timezone(&tz).naive_local())
            };
            let Some(t) = t else { continue };
            let d = t.date();
            if !again(d) {
                continue;
            }
            let m = (t.time() - chrono::NaiveTime::MIN).num_minutes() as usize;
            let e = match minutes.get_mut(&d) {
                Some(e) => e,
                None => minutes
                    .entry(d)
                    .or_insert((vec![0u64; 23], text(b, "source", i)?)),
            };
            e.0[m / 64] |= 1 << (m % 64);
        }
    }
    Ok(())
}

/// The latest sync of `user`'s trackers (a scale's does not count).
fn tracker_sync(ds: &dyn Tables, user: &str) -> anyhow::Result<Option<DateTime<Utc>>> {
    let mut latest = None;
    for b in read(ds, &Device::SPEC, |_| true)? {
        let users = col::<StringArray>(&b, "user_id")?;
        let kind = col::<StringArray>(&b, "device_type")?;
        let at = col::<TimestampMicrosecondArray>(&b, "last_sync_utc")?;
        for i in 0..b.num_rows() {
            if users.value(i) != user || (kind.is_valid(i) && kind.value(i) == "scale") {
                continue;
            }
            if at.is_valid(i) {
                latest = latest.max(DateTime::from_timestamp_micros(at.value(i)));
            }
        }
    }
    Ok(latest)
}

/// The recorded progress of `user`'s tracker-synced resources, with their provider.
fn tracker_progress<'a>(
    state: &'a SyncState,
    user: &'a str,
) -> impl Iterator<Item = (Provider, fitpipe_ingest::state::Progress)> + 'a {
    state.resources().iter().filter_map(move |(k, p)| {
        let mut parts = k.splitn(3, '/');
        let provider = Provider::parse(parts.next()?)?;
        (parts.next()? == user).then_some(())?;
        let r = provider.resource_by_key(parts.next()?)?;
        (r.synced_by() == SyncedBy::Tracker).then_some((provider, *p))
    })
}

/// The last day every tracker-synced resource of `user` has fetched after a sync that
/// followed it (`None`: no resource recorded one).
fn final_through(state: &SyncState, user: &str) -> Option<NaiveDate> {
    tracker_progress(state, user)
        .filter_map(|(_, p)| p.complete_through)
        .min()
}

/// The last day fetched of `user`'s tracker-synced resources, with their rows' source.
fn last_fetched(state: &SyncState, user: &str) -> Option<(NaiveDate, &'static str)> {
    tracker_progress(state, user)
        .map(|(provider, p)| (p.through, crate::pipeline::source_of(provider.name())))
        .max()
}

/// The stored `day_quality` rows of `user`.
fn existing(ds: &dyn Tables, user: &str) -> anyhow::Result<Vec<DayQuality>> {
    let mut out = Vec::new();
    for b in read(ds, &DayQuality::SPEC, |_| true)? {
        let wear = col::<Int64Array>(&b, "wear_minutes")?;
        let from = col::<StringArray>(&b, "wear_source")?;
        for (i, d) in dates(&b, "date", user)? {
            out.push(DayQuality {
                user_id: user.into(),
                source: text(&b, "source", i)?.as_str().into(),
                date: d,
                wear_minutes: wear.is_valid(i).then(|| wear.value(i)),
                wear_source: from.is_valid(i).then(|| from.value(i).into()),
                synced_through_utc: None,
                complete: None,
                valid: None,
                valid_day_minutes: None,
            });
        }
    }
    Ok(out)
}

/// The time zone of `user`'s stored profile (a run that does not read the profile again
/// still plans the account's days, not UTC's).
pub fn stored_timezone(ds: &Dataset, user: &str) -> anyhow::Result<Option<Tz>> {
    profile_tz(ds, user)
}

/// The time zone of `user`'s stored profile.
fn profile_tz(ds: &dyn Tables, user: &str) -> anyhow::Result<Option<Tz>> {
    for b in read(ds, &Profile::SPEC, |_| true)? {
        let users = col::<StringArray>(&b, "user_id")?;
        let zone = col::<StringArray>(&b, "timezone")?;
        for i in 0..b.num_rows() {
            if users.value(i) == user && zone.is_valid(i) {
                return Ok(zone.value(i).parse().ok());
            }
        }
    }
    Ok(None)
}

fn read(
    ds: &dyn Tables,
    spec: &fitpipe_transform::TableSpec,
    keep: impl Fn(&str) -> bool,
) -> anyhow::Result<Vec<RecordBatch>> {
    ds.read(&layout(spec), &keep)
}

/// The rows of `user` in a batch with their date column's value.
fn dates(b: &RecordBatch, name: &str, user: &str) -> anyhow::Result<Vec<(usize, NaiveDate)>> {
    let users = col::<StringArray>(b, "user_id")?;
    let date = col::<Date32Array>(b, name)?;
    Ok((0..b.num_rows())
        .filter(|i| users.value(*i) == user)
        .filter_map(|i| date.value_as_date(i).map(|d| (i, d)))
        .collect())
}

fn text(b: &RecordBatch, name: &str, i: usize) -> anyhow::Result<String> {
    Ok(col::<StringArray>(b, name)?.value(i).to_string())
}

fn col<'a, T: 'static>(b: &'a RecordBatch, name: &str) -> anyhow::Result<&'a T> {
    b.column_by_name(name)
        .and_then(|c| c.as_any().downcast_ref::<T>())
        .ok_or_else(|| anyhow::anyhow!("column `{name}` of an unexpected type"))
}

/// A tracker that has not synced for this many days is worth a word to its wearer.
pub const STALE_SYNC_DAYS: i64 = 3;

/// One user's days and devices at a glance (`fitpipe status`, a study's coverage).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct UserQuality {
    pub user: String,
    /// Days with a `day_quality` row.
    pub days: usize,
    /// The last day of the unbroken run of complete days from the first.
    pub complete_through: Option<NaiveDate>,
    /// Days not final yet (fetched before the tracker synced after them).
    pub incomplete_days: Vec<NaiveDate>,
    /// Final days meeting the valid-day rule.
    pub valid_days: usize,
    /// Final days that miss it (worn too little: charger, drawer, unworn).
    pub invalid_days: usize,
    /// The rule, minutes with heart rate.
    pub valid_day_minutes: Option<i64>,
    /// The trackers' latest sync.
    pub last_tracker_sync: Option<DateTime<Utc>>,
    /// What the wearer should hear about: a low battery, a tracker not syncing.
    pub alerts: Vec<String>,
}

/// Every user's [`UserQuality`] in a dataset (or a participant's share), as of `now`.
pub fn summary(ds: &Dataset, now: DateTime<Utc>) -> anyhow::Result<Vec<UserQuality>> {
    let mut by: BTreeMap<String, UserQuality> = BTreeMap::new();
    for b in read(ds, &DayQuality::SPEC, |_| true)? {
        let users = col::<StringArray>(&b, "user_id")?;
        let date = col::<Date32Array>(&b, "date")?;
        let complete = col::<BooleanArray>(&b, "complete")?;
        let valid = col::<BooleanArray>(&b, "valid")?;
        let rule = col::<Int64Array>(&b, "valid_day_minutes")?;
        let mut rows: Vec<(NaiveDate, usize)> = (0..b.num_rows())
            .filter_map(|i| date.value_as_date(i).map(|d| (d, i)))
            .collect();
        rows.sort();
        for (d, i) in rows {
            let u = by.entry(users.value(i).to_string()).or_default();
            u.days += 1;
            match complete.is_valid(i).then(|| complete.value(i)) {
                Some(true) if u.incomplete_days.is_empty() => u.complete_through = Some(d),
                Some(false) => u.incomplete_days.push(d),
                _ => {}
            }
            // A day not final yet is neither: its wear is still arriving.
            let final_yet = !complete.is_valid(i) || complete.value(i);
            match valid
                .is_valid(i)
                .then(|| valid.value(i))
                .filter(|_| final_yet)
            {
                Some(true) => u.valid_days += 1,
                Some(false) => u.invalid_days += 1,
                None => {}
            }
            if rule.is_valid(i) {
                u.valid_day_minutes = Some(rule.value(i));
            }
        }
    }
    for b in read(ds, &Device::SPEC, |_| true)? {
        let users = col::<StringArray>(&b, "user_id")?;
        let kind = col::<StringArray>(&b, "device_type")?;
        let name = col::<StringArray>(&b, "device_version")?;
        let level = col::<Int64Array>(&b, "battery_level")?;
        let status = col::<StringArray>(&b, "battery_status")?;
        let at = col::<TimestampMicrosecondArray>(&b, "last_sync_utc")?;
        for i in 0..b.num_rows() {
            let u = by.entry(users.value(i).to_string()).or_default();
            let what = if name.is_valid(i) {
                name.value(i)
            } else {
                "a device"
            };
            let low = status.is_valid(i) && matches!(status.value(i), "low" | "empty")
                || level.is_valid(i) && level.value(i) <= 15;
            if low {
                let pct = if level.is_valid(i) {
                    format!(" ({}%)", level.value(i))
                } else {
                    String::new()
                };
                u.alerts.push(format!("battery low on {what}{pct}"));
            }
            let scale = kind.is_valid(i) && kind.value(i) == "scale";
            let sync = at
                .is_valid(i)
                .then(|| DateTime::from_timestamp_micros(at.value(i)))
                .flatten();
            if !scale {
                u.last_tracker_sync = u.last_tracker_sync.max(sync);
                if let Some(s) = sync.filter(|s| now - *s >= Duration::days(STALE_SYNC_DAYS)) {
                    u.alerts.push(format!(
                        "{what} has not synced for {} days (since {})",
                        (now - s).num_days(),
                        s.format("%Y-%m-%d %H:%M UTC")
                    ));
                }
            }
        }
    }
    Ok(by
        .into_iter()
        .map(|(user, mut u)| {
            u.user = user;
            u
        })
        .collect())
}
