//! Which days can be trusted (issue #23): a day is final once the tracker synced after it
//! ended; runs fetch again from the first day that was not, however late the sync; a run
//! with nothing newly synced asks for no days; `day_quality` counts wear. The oracles are
//! the simulator's people (what the API holds after a sync) and DuckDB over the stored
//! heart rate, not the code under test.

use std::collections::BTreeMap;

use arrow::array::{Array, AsArray};
use arrow::datatypes::Date32Type;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use fitpipe_sim::{Config, Person};

use super::google::{num, read};
use super::simenv::SimEnv;
use super::{fitpipe, s};

fn date(b: &arrow::record_batch::RecordBatch, i: usize) -> NaiveDate {
    let v = b
        .column_by_name("date")
        .unwrap()
        .as_primitive::<Date32Type>()
        .value(i);
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + Duration::days(v as i64)
}

fn flag(b: &arrow::record_batch::RecordBatch, c: &str, i: usize) -> Option<bool> {
    let col = b.column_by_name(c).unwrap().as_boolean();
    (!col.is_null(i)).then(|| col.value(i))
}

/// Steps per day in `daily_activity`.
fn steps(env: &SimEnv) -> BTreeMap<NaiveDate, i64> {
    let mut m = BTreeMap::new();
    for b in read(&env.out(), "daily_activity") {
        for i in 0..b.num_rows() {
            if let Some(v) = num(&b, "steps", i) {
                m.insert(date(&b, i), v as i64);
            }
        }
    }
    m
}

/// One `day_quality` row: wear minutes, complete, valid.
type Quality = (Option<i64>, Option<bool>, Option<bool>);

fn quality(out: &std::path::Path) -> BTreeMap<NaiveDate, Quality> {
    let mut m = BTreeMap::new();
    for b in read(out, "day_quality") {
        for i in 0..b.num_rows() {
            let wear = num(&b, "wear_minutes", i).map(|v| v as i64);
            m.insert(
                date(&b, i),
                (wear, flag(&b, "complete", i), flag(&b, "valid", i)),
            );
        }
    }
    m
}

/// `hh:mm` on `d` in the person's zone.
fn at(p: &Person, d: NaiveDate, h: u32, m: u32) -> DateTime<Utc> {
    p.tz.from_local_datetime(&d.and_hms_opt(h, m, 0).unwrap())
        .earliest()
        .unwrap()
        .with_timezone(&Utc)
}

/// The day's steps once synced whole (the simulator's person, days later).
fn full(p: &Person, d: NaiveDate) -> i64 {
    p.steps_total(d, (d + Duration::days(3)).and_hms_opt(0, 0, 0).unwrap())
        .0 as i64
}

/// The day's steps as synced by `sync` (UTC).
fn synced(p: &Person, d: NaiveDate, sync: DateTime<Utc>) -> i64 {
    p.steps_total(d, sync.with_timezone(&p.tz).naive_local()).0 as i64
}

/// A worn day of person 0 a few days before the simulator's start, with steps after 18:00
/// (so the part synced by 18:00 is short of the whole), not on the charger.
fn a_worn_day(env: &SimEnv, back: i64) -> (Person, NaiveDate) {
    let p = env.sim.people()[0].clone();
    let mut d = env.sim.now().with_timezone(&p.tz).date_naive() - Duration::days(back);
    while !(p.worn(d) && p.charging_until(d) == 0 && synced(&p, d, at(&p, d, 18, 0)) < full(&p, d))
    {
        d -= Duration::days(1);
    }
    (p, d)
}

fn env_at(now: DateTime<Utc>) -> SimEnv {
    let env = SimEnv::new(Config {
        auto_consent: true,
        ..Config::default()
    });
    env.sim.set_now(now);
    env.authorise();
    env
}

#[test]
fn yesterday_fetched_before_the_sync_is_fetched_again_after_it_and_completes() {
    let probe = SimEnv::auto();
    let (p, y) = a_worn_day(&probe, 3);
    drop(probe);
    // 02:00: the tracker last synced at 18:00 yesterday.
    let env = env_at(at(&p, y + Duration::days(1), 2, 0));
    env.sim.pin_sync(0, Some(at(&p, y, 18, 0)));
    let from = (y - Duration::days(6)).to_string();
    let r = env.run(&["ingest", "--from", &from]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let st = steps(&env);
    assert_eq!(st[&y], synced(&p, y, at(&p, y, 18, 0)), "part of the day");
    assert!(st[&y] < full(&p, y));
    assert_eq!(
        st[&(y - Duration::days(1))],
        full(&p, y - Duration::days(1))
    );
    let q = quality(&env.out());
    assert_eq!(q[&y].1, Some(false), "yesterday is not final: {:?}", q[&y]);
    assert_eq!(q[&(y - Duration::days(1))].1, Some(true));
    // 09:30: the tracker synced at 09:00; the next run fetches yesterday again, whole.
    env.sim.set_now(at(&p, y + Duration::days(1), 9, 30));
    env.sim
        .pin_sync(0, Some(at(&p, y + Duration::days(1), 9, 0)));
    let r = env.run(&["ingest"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(steps(&env)[&y], full(&p, y));
    assert_eq!(quality(&env.out())[&y].1, Some(true));
}

#[test]
fn a_sync_four_days_late_beyond_the_overlap_still_lands() {
    let probe = SimEnv::auto();
    let (p, y) = a_worn_day(&probe, 3);
    drop(probe);
    let last = y - Duration::days(4);
    // The tracker last synced four days ago, at 18:00 (the overlap is 3 days).
    let env = env_at(at(&p, y + Duration::days(1), 2, 0));
    env.sim.pin_sync(0, Some(at(&p, last, 18, 0)));
    let from = (y - Duration::days(10)).to_string();
    let r = env.run(&["ingest", "--from", &from]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let q = quality(&env.out());
    for d in (0..=4).map(|k| last + Duration::days(k)) {
        assert_eq!(q[&d].1, Some(false), "{d}: {:?}", q[&d]);
    }
    assert_eq!(q[&(last - Duration::days(1))].1, Some(true));
    // Then it syncs: the next run (default overlap) fetches from the first day not final.
    env.sim.set_now(at(&p, y + Duration::days(1), 9, 30));
    env.sim
        .pin_sync(0, Some(at(&p, y + Duration::days(1), 9, 0)));
    let r = env.run(&["ingest"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let st = steps(&env);
    let q = quality(&env.out());
    for d in (0..=4).map(|k| last + Duration::days(k)) {
        assert_eq!(st.get(&d).copied().unwrap_or(0), full(&p, d), "{d}");
        assert_eq!(q[&d].1, Some(true), "{d}");
    }
}

#[test]
fn a_run_with_nothing_newly_synced_asks_for_no_days() {
    let env = SimEnv::auto();
    env.authorise();
    let p = env.sim.people()[0].clone();
    env.sim
        .pin_sync(0, Some(env.sim.now() - Duration::hours(1)));
    let from = (env.sim.now().date_naive() - Duration::days(10)).to_string();
    let r = env.run(&["ingest", "--from", &from, "--intraday", "heart"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let before = env.sim.stats().users[&p.id].by_endpoint.clone();
    let tables = super::tree(&env.out().join("daily_activity"));
    // Two hours on, nothing has synced: only the device list is asked for, and the run
    // says why.
    env.sim.advance(Duration::hours(2));
    let r = env.run(&["ingest", "--intraday", "heart"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("nothing has synced since the last run"),
        "{}",
        r.stderr
    );
    let after = env.sim.stats().users[&p.id].by_endpoint.clone();
    let asked: Vec<(&String, u64)> = after
        .iter()
        .map(|(k, v)| (k, v - before.get(k).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect();
    // The device list, and the profile (not device data: it follows the overlap).
    assert!(
        asked.iter().any(|(k, _)| k.contains("devices")),
        "{asked:?}"
    );
    let days: Vec<_> = asked
        .iter()
        .filter(|(k, _)| !k.contains("devices") && !k.contains("profile"))
        .collect();
    assert!(days.is_empty(), "no day asked for: {days:?}");
    assert_eq!(super::tree(&env.out().join("daily_activity")), tables);
    // `--refetch` asks anyway.
    let n = env.requests();
    let r = env.run(&[
        "ingest",
        "--refetch",
        "--from",
        &from,
        "--resources",
        "steps,devices",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(env.requests() - n >= 2);
    // A sync: the days since the last final one are fetched.
    env.sim.pin_sync(0, Some(env.sim.now()));
    let n = env.requests();
    let r = env.run(&["ingest", "--intraday", "heart"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(env.requests() - n > 10, "{}", env.requests() - n);
}

#[test]
fn a_scale_sync_does_not_complete_a_day_of_activity() {
    let probe = SimEnv::auto();
    let (p, y) = a_worn_day(&probe, 3);
    drop(probe);
    let env = env_at(at(&p, y + Duration::days(1), 2, 0));
    env.sim
        .pin_sync(0, Some(at(&p, y - Duration::days(2), 18, 0)));
    let r = env.run(&["ingest", "--from", &(y - Duration::days(9)).to_string()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The scale's last sync (a Monday weigh-in) may be later than the tracker's; the
    // days after the tracker's stay incomplete.
    let q = quality(&env.out());
    assert_eq!(q[&(y - Duration::days(1))].1, Some(false));
    assert_eq!(q[&(y - Duration::days(3))].1, Some(true));
}

#[test]
fn day_quality_wear_is_what_duckdb_counts_in_the_heart_rate() {
    let Some(py) = super::python_with("duckdb") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let from = (Utc::now().date_naive() - Duration::days(90)).to_string();
    let r = fitpipe(&[
        "ingest",
        "--demo",
        "--out",
        s(&out),
        "--from",
        &from,
        "--intraday",
        "heart",
        "-q",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let script = r#"
import duckdb, sys
out = sys.argv[1]
rows = duckdb.sql(f"""
  select cast(time_local as date) as d,
         count(distinct date_trunc('minute', time_local)) as m
  from read_parquet('{out}/heart_rate_intraday/*.parquet')
  group by 1 order by 1""").fetchall()
for d, m in rows:
    print(d, m)
"#;
    let o = std::process::Command::new(&py)
        .args(["-c", script, s(&out)])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let counted: BTreeMap<NaiveDate, i64> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| {
            let (d, m) = l.split_once(' ').unwrap();
            (d.parse().unwrap(), m.parse().unwrap())
        })
        .collect();
    assert!(counted.len() >= 10, "{counted:?}");
    let q = quality(&out);
    for (d, m) in &counted {
        let (wear, _, valid) = q[d];
        assert_eq!(wear, Some(*m), "{d}");
        assert_eq!(valid, Some(*m >= 600), "{d}");
    }
    // The simulator's person (the demo's): a day on the charger until 15:00 has steps but
    // too little wear; a worn day off the charger is valid.
    let p = &fitpipe_sim::people::people(Config::default().seed, 1)[0];
    let today = Utc::now().with_timezone(&p.tz).date_naive();
    let mut charger = 0;
    for (d, (wear, complete, valid)) in &q {
        if *complete != Some(true) || *d >= today {
            continue;
        }
        if p.charging_until(*d) > 0 {
            charger += 1;
            assert!(wear.unwrap() <= 1440 - 900, "{d}: {wear:?}");
            assert_eq!(*valid, Some(false), "{d}");
        } else if p.worn(*d) {
            assert_eq!(*valid, Some(true), "{d}: {wear:?}");
        } else {
            assert_eq!(*wear, Some(0), "{d}: not worn");
        }
    }
    // About one worn day in ten: none in 90 days would be a 1-in-10,000 draw.
    assert!(charger > 0, "a charger day in 90 days of the demo person");
    // Days without heart rate at all have no wear: not valid, never zero-and-valid.
    for (d, (wear, _, valid)) in &q {
        if !counted.contains_key(d) {
            assert!(*valid != Some(true), "{d}: {wear:?}");
        }
    }
    // Recomputed by `rebuild` from the same tables and state.
    let r = fitpipe(&["rebuild", "--out", s(&out), "-q"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(quality(&out), q, "a rebuild gives the same table");
}

// Regression: a first run that read only the profile and the device list (killed there,
// or asked for no more) left progress that a later run took for the start of the
// backfill: every other resource began at today, and the days from `first_from` were never
// fetched. Now only a data resource's progress says where a backfill stands.
#[test]
fn reading_the_profile_and_devices_first_does_not_cut_the_backfill_to_today() {
    let env = SimEnv::auto();
    env.authorise();
    let pipeline = |resources: &str| {
        let f = env.dir.path().join("p.toml");
        std::fs::write(
            &f,
            format!(
                "provider = \"fitbit-web-api\"\nresources = [{resources}]\nout = \"{}\"\nfirst_from = \"2026-10-01\"\nformats = [\"parquet\"]\n",
                env.out().display()
            ),
        )
        .unwrap();
        f
    };
    let r = env.run(&["run", s(&pipeline("\"profile\", \"devices\""))]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = env.run(&["run", s(&pipeline("\"profile\", \"devices\", \"steps\""))]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let st = steps(&env);
    assert_eq!(
        st.keys().next().copied(),
        NaiveDate::from_ymd_opt(2026, 10, 1),
        "{st:?}"
    );
}
