//! Deterministic synthetic people: what their devices recorded, day by day.
//!
//! Everything is a pure function of (seed, person, date), so any range can be produced
//! without storing years of data, and the same seed always gives the same history.

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc,
    Weekday,
};
use chrono_tz::Tz;

/// splitmix64: a small, good 64-bit mixer used as a stateless random source.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A reproducible random stream keyed by its inputs.
pub struct Rng(u64);

impl Rng {
    pub fn new(parts: &[u64]) -> Self {
        Rng(parts.iter().fold(0x5EED, |acc, p| mix(acc ^ mix(*p))))
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = mix(self.0);
        self.0
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % ((hi - lo + 1) as u64)) as i64
    }
    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// An exercise session (a walk or a run) inside one day's minutes.
#[derive(Debug, Clone)]
pub struct Workout {
    /// The log id (Fitbit `logId`; the Google data point id).
    pub log_id: u64,
    /// Local start.
    pub start: NaiveDateTime,
    /// Length in minutes.
    pub minutes: i64,
    /// `walking`, `running` or `swimming`.
    pub kind: &'static str,
    /// Steps, energy, average heart rate and active zone minutes of its minutes.
    pub steps: u64,
    pub calories: f64,
    pub avg_bpm: i64,
    pub azm: u64,
    /// Recorded with GPS (runs).
    pub has_gps: bool,
    /// A swim's pool lengths (empty for walks and runs).
    pub lengths: Vec<SwimLength>,
}

/// The length of the simulator's pool, metres.
pub const POOL_METRES: u64 = 25;

/// One length of a pool swim.
#[derive(Debug, Clone, PartialEq)]
pub struct SwimLength {
    /// Local start.
    pub start: NaiveDateTime,
    /// How long it took, seconds (the turn included).
    pub seconds: i64,
    /// Strokes counted.
    pub strokes: u64,
    /// Google's stroke type (`FREESTYLE`, `BREASTSTROKE`, `BACKSTROKE`, `BUTTERFLY`).
    pub stroke: &'static str,
}

/// A day's cardio fitness score (see [`Person::vo2max`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Vo2Max {
    /// ml/kg/min: one decimal when measured, a whole number when estimated.
    pub value: f64,
    /// Measured by a recent run with GPS (else estimated).
    pub measured: bool,
}

/// A night's breathing rate by sleep stage (see [`Person::breathing_by_stage`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Breathing {
    /// When the main sleep ended, local.
    pub end: NaiveDateTime,
    /// The whole sleep, breaths per minute (the night's breathing rate).
    pub full: f64,
    /// Deep sleep.
    pub deep: f64,
    /// Light sleep.
    pub light: f64,
    /// REM sleep, where there was enough of it.
    pub rem: Option<f64>,
}

/// A food people log: per serving, kcal, kcal from fat, carbohydrate, fat, protein,
/// dietary fiber and sodium (g).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Food {
    /// As the app names it.
    pub name: &'static str,
    /// The serving's unit.
    pub unit: &'static str,
    /// Energy per serving, kcal.
    pub kcal: f64,
    /// Energy from fat per serving, kcal.
    pub fat_kcal: f64,
    /// Carbohydrate, fat, protein, dietary fiber and sodium per serving, g.
    pub grams: [f64; 5],
}

/// The foods the people eat (figures per serving, rounded as a food database gives them).
pub const FOODS: &[Food] = &[
    Food {
        name: "Oatmeal",
        unit: "cup",
        kcal: 150.0,
        fat_kcal: 27.0,
        grams: [27.0, 3.0, 5.0, 4.0, 0.115],
    },
    Food {
        name: "Banana",
        unit: "medium",
        kcal: 105.0,
        fat_kcal: 3.5,
        grams: [27.0, 0.4, 1.3, 3.1, 0.001],
    },
    Food {
        name: "Chicken salad",
        unit: "bowl",
        kcal: 350.0,
        fat_kcal: 162.0,
        grams: [12.0, 18.0, 32.0, 4.0, 0.62],
    },
    Food {
        name: "Pasta with tomato sauce",
        unit: "plate",
        kcal: 520.0,
        fat_kcal: 81.0,
        grams: [85.0, 9.0, 17.0, 6.0, 0.71],
    },
    Food {
        name: "Greek yogurt",
        unit: "cup",
        kcal: 150.0,
        fat_kcal: 36.0,
        grams: [8.0, 4.0, 20.0, 0.0, 0.08],
    },
    Food {
        name: "Apple",
        unit: "medium",
        kcal: 95.0,
        fat_kcal: 2.7,
        grams: [25.0, 0.3, 0.5, 4.4, 0.002],
    },
];

/// A logged meal (see [`Person::meals`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Meal {
    /// When it was eaten, local.
    pub at: NaiveDateTime,
    /// Google's meal type (`BREAKFAST`, `LUNCH`, `DINNER`, `SNACK`).
    pub meal_type: &'static str,
    /// What.
    pub food: &'static Food,
    /// How many servings (a half or a whole number).
    pub servings: f64,
}

/// An ECG reading (see [`Person::ecg_readings`]): 30 seconds of lead I at 250 Hz.
#[derive(Debug, Clone, PartialEq)]
pub struct EcgReading {
    /// When it started, local.
    pub start: NaiveDateTime,
    /// Average heart rate, bpm.
    pub bpm: i64,
    /// Google's classification (`NORMAL_SINUS_RHYTHM`, `INCONCLUSIVE`).
    pub result: &'static str,
    /// The waveform, device units (`ECG_SCALE` a millivolt).
    pub samples: Vec<i64>,
}

/// ECG samples a second.
pub const ECG_HZ: i64 = 250;
/// ECG waveform units a millivolt (the Fitbit ECG app's scaling factor).
pub const ECG_SCALE: i64 = 10922;

/// A window of heart beats behind an irregular-rhythm notification: local start and
/// end, whether it was irregular, the beats' rates.
pub type IrnWindow = (NaiveDateTime, NaiveDateTime, bool, Vec<i64>);

/// A point of a run's GPS track (see [`Person::track`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrackPoint {
    /// Local time.
    pub at: NaiveDateTime,
    /// Degrees north.
    pub latitude: f64,
    /// Degrees east.
    pub longitude: f64,
    /// Metres above the sea.
    pub altitude: f64,
    /// Metres since the start.
    pub distance: f64,
    /// Heart rate, bpm.
    pub bpm: i64,
}

/// The shortest spell of sitting that counts as a sedentary period, minutes.
pub const SEDENTARY_MINUTES: usize = 20;
/// Fewer steps than this in a minute is sitting (shuffling at a desk), not moving.
pub const SEDENTARY_STEPS: u32 = 10;

/// The heart-rate zones, Fitbit's names with their lower and upper bounds in bpm (a
/// minute belongs to the zone whose bounds hold its bpm, the upper excluded):
/// [`Person::minute_zone`] counts minutes in them.
pub const HEART_ZONES: [(&str, i64, i64); 4] = [
    ("Out of Range", 30, 97),
    ("Fat Burn", 97, 135),
    ("Cardio", 135, 164),
    ("Peak", 164, 220),
];

/// A sample of the night (HRV every 5 minutes, SpO2 about every minute): local time, value.
pub type NightSample = (NaiveDateTime, f64);

/// One synthetic person.
#[derive(Debug, Clone)]
pub struct Person {
    /// Index in the simulator's list.
    pub index: usize,
    /// Fitbit encoded id (6 characters).
    pub id: String,
    /// IANA zone of the profile.
    pub tz: Tz,
    /// Display name.
    pub name: String,
    /// First day with data.
    pub member_since: NaiveDate,
    /// How far behind the clock the device's last sync is, minutes.
    pub sync_lag_minutes: i64,
    /// How the tracker syncs (see [`Person::last_sync`]).
    pub sync_habit: SyncHabit,
    seed: u64,
    base_steps: i64,
    bmr: i64,
    resting: i64,
}

const ZONES: &[&str] = &[
    "America/New_York",
    "Europe/Berlin",
    "Asia/Tokyo",
    "Australia/Sydney",
    "UTC",
];
const NAMES: &[&str] = &["Alex", "Sam", "Kim", "Robin", "Jo"];

/// How a person's tracker reaches the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncHabit {
    /// The phone syncs it all day: the last sync is the clock less the person's lag.
    Often,
    /// Only every `n`th day, at 20:00 local (the app is opened rarely): days in between
    /// are partial, then fill in at once.
    EveryFewDays(i64),
    /// Syncing stopped for good at 20:00 local on this day (a lost or broken tracker).
    StoppedOn(NaiveDate),
}

/// The local time `minute` minutes after the midnight that starts `date`.
fn minute_of(date: NaiveDate, minute: usize) -> NaiveDateTime {
    date.and_hms_opt(0, 0, 0).expect("midnight") + Duration::minutes(minute as i64)
}

/// The simulator's people for a seed: person 0 lives in a DST-observing zone
/// (America/New_York); person 1 syncs late (its device is a day behind); person 2's
/// account began in 2023; person 5 syncs only every fourth day; person 6 stopped
/// syncing on 2026-10-25 (a lost tracker: nothing after it). Everyone leaves the tracker in a drawer for a week or two a
/// year, skips about 3% of days and 5% of nights, edits about one night in ten in the
/// app and deletes half of their naps (see [`Person::sleeps_as_of`]).
pub fn people(seed: u64, n: usize) -> Vec<Person> {
    (0..n)
        .map(|i| {
            let mut r = Rng::new(&[seed, i as u64, 1]);
            let id: String = (0..6)
                .map(|_| {
                    let c = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
                    c[(r.next_u64() % c.len() as u64) as usize] as char
                })
                .collect();
            let joined = r.range(0, 60);
            Person {
                index: i,
                id,
                tz: ZONES[i % ZONES.len()].parse().expect("valid zone"),
                name: format!("{} {}", NAMES[i % NAMES.len()], i + 1),
                // Person 2 opened the account in 2023: a backfill from 2020 meets years
                // before the account existed (empty sleep and heart ranges, zeros in the
                // daily series, as the API sends them).
                member_since: NaiveDate::from_ymd_opt(if i == 2 { 2023 } else { 2015 }, 1, 1)
                    .expect("date")
                    + Duration::days(joined + if i == 2 { 72 } else { 0 }),
                sync_lag_minutes: if i == 1 { 26 * 60 } else { r.range(5, 45) },
                sync_habit: match i {
                    5 => SyncHabit::EveryFewDays(4),
                    6 => SyncHabit::StoppedOn(NaiveDate::from_ymd_opt(2026, 10, 25).expect("date")),
                    _ => SyncHabit::Often,
                },
                seed,
                base_steps: r.range(6500, 11000),
                bmr: r.range(1450, 1850),
                resting: r.range(52, 64),
            }
        })
        .collect()
}

/// A sleep segment: local start (naive, stamped with the offset at the log's start),
/// level, seconds.
#[derive(Debug, Clone)]
pub struct Segment {
    pub start: NaiveDateTime,
    pub level: &'static str,
    pub seconds: i64,
}

/// Segments that tile `total` seconds from `start`, levels taken in turn from `cycle`,
/// each as long as `len` draws (the last one cut at the end).
fn tile(
    start: NaiveDateTime,
    total: i64,
    cycle: &[&'static str],
    mut len: impl FnMut(&str) -> i64,
) -> Vec<Segment> {
    let mut data = Vec::new();
    let mut t = 0;
    let mut k = 0;
    while t < total {
        let level = cycle[k % cycle.len()];
        let seconds = len(level).min(total - t);
        data.push(Segment {
            start: start + Duration::seconds(t),
            level,
            seconds,
        });
        t += seconds;
        k += 1;
    }
    data
}

/// A sleep log as the device recorded it.
#[derive(Debug, Clone)]
pub struct Sleep {
    pub log_id: u64,
    pub date_of_sleep: NaiveDate,
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
    pub is_main: bool,
    pub stages: bool,
    pub data: Vec<Segment>,
    pub short: Vec<Segment>,
}

/// Minutes of the synced part of a day by activity level: sedentary, light (1 to 59
/// steps), moderate (60 to 99) and vigorous (100 or more).
pub fn activity_levels(day: &Day) -> [i64; 4] {
    let mut m = [0i64; 4];
    for s in &day.steps[..day.synced_minutes] {
        m[match *s {
            0 => 0,
            1..=59 => 1,
            60..=99 => 2,
            _ => 3,
        }] += 1;
    }
    m
}

/// One day of a person, as far as it has synced.
#[derive(Debug, Clone)]
pub struct Day {
    pub date: NaiveDate,
    pub worn: bool,
    /// Steps per minute, 1440 entries (zeros where not yet synced).
    pub steps: Vec<u32>,
    /// Minutes of the day that have synced (1440 for a complete day).
    pub synced_minutes: usize,
    /// The tracker lay on the charger from midnight until this minute (0: it did not):
    /// no heart rate and no steps before it.
    pub charging_until: usize,
    pub bmr: i64,
    pub resting: Option<i64>,
}

impl Day {
    /// Whether the tracker was on the wrist at `minute`: worn that day, off the charger.
    pub fn on_wrist(&self, minute: usize) -> bool {
        self.worn && minute >= self.charging_until
    }
}

impl Sleep {
    /// The log after the person edited it: they lay awake in bed, so the night starts
    /// with its second segment, under a new log id; short wakes before the new start go.
    pub fn edited(mut self) -> Sleep {
        if self.data.len() > 1 {
            self.data.remove(0);
            self.start = self.data[0].start;
            let start = self.start;
            self.short.retain(|x| x.start >= start);
        }
        self.log_id += 5;
        self
    }

    /// The levels of the log's segments: stages or classic.
    pub fn levels(&self) -> &'static [&'static str] {
        if self.stages {
            &["deep", "light", "rem", "wake"]
        } else {
            &["asleep", "awake", "restless"]
        }
    }

    /// Whole minutes and number of segments of a level.
    pub fn level_total(&self, level: &str) -> (i64, usize) {
        let segs = self.data.iter().filter(|x| x.level == level);
        let seconds: i64 = segs.clone().map(|x| x.seconds).sum();
        (seconds / 60, segs.count())
    }

    /// Minutes in bed, from start to end.
    pub fn minutes_in_bed(&self) -> i64 {
        (self.end - self.start).num_minutes()
    }

    /// Minutes awake: `wake` of a stages log, `awake` and `restless` of a classic one.
    pub fn minutes_awake(&self) -> i64 {
        let m = |l| self.level_total(l).0;
        if self.stages {
            m("wake")
        } else {
            m("awake") + m("restless")
        }
    }
}

impl Person {
    /// The Google Health user id: a 19-digit number (google-health-api.md §2.5).
    pub fn health_user_id(&self) -> String {
        let mut r = Rng::new(&[self.seed, self.index as u64, 19]);
        format!(
            "{}",
            1_000_000_000_000_000_000 + r.next_u64() % 8_000_000_000_000_000_000
        )
    }

    fn rng(&self, date: NaiveDate, salt: u64) -> Rng {
        Rng::new(&[
            self.seed,
            self.index as u64,
            date.num_days_from_ce() as u64,
            salt,
        ])
    }

    /// When the tracker last synced by `now` (UTC), by the person's habit: what the API
    /// holds of a day is what had synced by then.
    pub fn last_sync(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let lagged = now - Duration::minutes(self.sync_lag_minutes);
        let at_8pm = |d: NaiveDate| {
            self.tz
                .from_local_datetime(&d.and_hms_opt(20, 0, 0).expect("time"))
                .earliest()
                .map(|t| t.with_timezone(&Utc))
        };
        match self.sync_habit {
            SyncHabit::Often => lagged,
            SyncHabit::EveryFewDays(n) => {
                let mut d = lagged.with_timezone(&self.tz).date_naive();
                // The latest sync day at or before the lagged clock.
                for _ in 0..=2 * n {
                    if (d.num_days_from_ce() as i64).rem_euclid(n) == 0 {
                        if let Some(t) = at_8pm(d).filter(|t| *t <= lagged) {
                            return t;
                        }
                    }
                    d -= Duration::days(1);
                }
                lagged
            }
            SyncHabit::StoppedOn(d) => at_8pm(d).map_or(lagged, |t| t.min(lagged)),
        }
    }

    /// The tracker's last sync by `now`, on the person's wall clock.
    pub fn last_sync_local(&self, now: DateTime<Utc>) -> NaiveDateTime {
        self.last_sync(now).with_timezone(&self.tz).naive_local()
    }

    /// Whether the device was worn that day: not before the account existed, not in the
    /// year's drawer weeks, and not on about 3% of other days.
    pub fn worn(&self, date: NaiveDate) -> bool {
        date >= self.member_since && !self.in_drawer(date) && self.rng(date, 2).range(0, 99) >= 3
    }

    /// Until which minute of `date` the tracker lay on the charger (from midnight): about
    /// one worn day in ten, until 15:00, so the day has steps from the afternoon but fewer
    /// than 600 minutes of heart rate (not a valid day under the usual wear rule).
    pub fn charging_until(&self, date: NaiveDate) -> usize {
        if self.worn(date) && self.rng(date, 14).range(0, 9) == 0 {
            15 * 60
        } else {
            0
        }
    }

    /// Whether the tracker lay in a drawer that day: one stretch of 7 to 20 days a year.
    pub fn in_drawer(&self, date: NaiveDate) -> bool {
        [date.year() - 1, date.year()].into_iter().any(|y| {
            let mut r = Rng::new(&[self.seed, self.index as u64, y as u64, 6]);
            let Some(jan1) = NaiveDate::from_ymd_opt(y, 1, 1) else {
                return false;
            };
            let start = jan1 + Duration::days(r.range(0, 340));
            date >= start && date < start + Duration::days(r.range(7, 20))
        })
    }

    /// When the person edits the main sleep that ended on `date` in the app (about one
    /// night in ten): 19:00 local that day. The edited night is a new log (new `logId`,
    /// starting later), and the old log is gone (google-health-live-2026.md, "Sleep").
    pub fn sleep_edited_at(&self, date: NaiveDate) -> Option<NaiveDateTime> {
        (self.rng(date, 9).range(0, 9) == 0).then(|| date.and_hms_opt(19, 0, 0).expect("time"))
    }

    /// When the nap of `date` is deleted in the app (about half of them): 21:00 local.
    pub fn nap_deleted_at(&self, date: NaiveDate) -> Option<NaiveDateTime> {
        (self.rng(date, 10).range(0, 1) == 0).then(|| date.and_hms_opt(21, 0, 0).expect("time"))
    }

    /// The sleep logs of `date` as the API shows them at local time `now`: edits and
    /// deletions made by then applied.
    pub fn sleeps_as_of(&self, date: NaiveDate, now: NaiveDateTime) -> Vec<Sleep> {
        let deleted = self.nap_deleted_at(date).is_some_and(|t| now >= t);
        let edited = self.sleep_edited_at(date).is_some_and(|t| now >= t);
        self.sleeps(date)
            .into_iter()
            .filter(|s| s.is_main || !deleted)
            .map(|s| if s.is_main && edited { s.edited() } else { s })
            .collect()
    }

    /// The heart-rate zone of a minute: 0 none, 1 fat burn (97-134 bpm), 2 cardio
    /// (135-163), 3 peak (164 and up); 0 on an unworn day.
    pub fn minute_zone(&self, day: &Day, minute: usize) -> u8 {
        if !day.on_wrist(minute) {
            return 0;
        }
        // The highest of fat burn, cardio and peak whose lower bound it reaches.
        let bpm = self.minute_bpm(day, minute);
        HEART_ZONES[1..]
            .iter()
            .rposition(|(_, lo, _)| bpm >= *lo)
            .map_or(0, |i| i as u8 + 1)
    }

    /// Minutes of the synced part of a day in the fat-burn, cardio and peak zones.
    pub fn zone_minutes(&self, day: &Day) -> [u64; 3] {
        let mut z = [0u64; 3];
        for m in 0..day.synced_minutes {
            if let Some(n) = (self.minute_zone(day, m) as usize).checked_sub(1) {
                z[n] += 1;
            }
        }
        z
    }

    /// Breathing rate of the main sleep that ended on `date`, breaths per minute (one
    /// decimal), for a night that has a main sleep as of `now`.
    pub fn breathing_rate(&self, date: NaiveDate, now: NaiveDateTime) -> Option<f64> {
        self.main_sleep_synced(date, now)?;
        Some(self.breathing_tenths(date) as f64 / 10.0)
    }

    fn breathing_tenths(&self, date: NaiveDate) -> i64 {
        140 + self.rng(date, 11).range(-20, 30)
    }

    /// The breathing rate of the main sleep that ended on `date`, whole and by stage
    /// (breaths per minute, one decimal): slower in deep sleep, faster in REM; about one
    /// night in eight has too little REM for a figure (Fitbit's `-1`).
    pub fn breathing_by_stage(&self, date: NaiveDate, now: NaiveDateTime) -> Option<Breathing> {
        let s = self.main_sleep(date, now)?;
        let full = self.breathing_tenths(date);
        let mut r = self.rng(date, 21);
        let tenth = |x: i64| x as f64 / 10.0;
        Some(Breathing {
            end: s.end,
            full: tenth(full),
            deep: tenth(full - r.range(5, 15)),
            light: tenth(full + r.range(-3, 4)),
            rem: (r.range(0, 7) != 0).then(|| tenth(full + r.range(3, 12))),
        })
    }

    /// Skin temperature of the main sleep that ended on `date`: (baseline, nightly), °C.
    pub fn skin_temperature(&self, date: NaiveDate, now: NaiveDateTime) -> Option<(f64, f64)> {
        self.main_sleep_synced(date, now)?;
        let baseline = 32.5 + self.index as f64 / 10.0;
        let relative = self.rng(date, 12).range(-15, 15) as f64 / 10.0;
        Some((baseline, baseline + relative))
    }

    fn main_sleep_synced(&self, date: NaiveDate, now: NaiveDateTime) -> Option<()> {
        self.sleeps_as_of(date, now)
            .iter()
            .any(|s| s.is_main && s.end <= now)
            .then_some(())
    }

    /// Exercise sessions of `date` synced by `last_sync`: on two days in five a walk (or,
    /// one time in three, a run) of 20 to 60 minutes between 07:00 and 17:00, its numbers
    /// the sum of the day's own minutes; and for a swimmer (every fifth person, index 0,
    /// 5, ...: the demo's person swims) on another day in five a pool swim at 18:00 to
    /// 19:00 (see
    /// [`Person::swim_lengths`]). None on an unworn day.
    pub fn workouts(&self, date: NaiveDate, last_sync: NaiveDateTime) -> Vec<Workout> {
        self.workouts_of(&self.day(date, last_sync))
    }

    /// [`Person::workouts`] of a day as synced.
    pub fn workouts_of(&self, day: &Day) -> Vec<Workout> {
        let date = day.date;
        let mut out = Vec::new();
        let id = 40_000_000_000 + (self.index as u64) * 10_000_000 + date.num_days_from_ce() as u64;
        if let Some((start_min, minutes, running)) = self.workout_plan(date) {
            if let Some((steps, calories, avg_bpm, azm)) =
                self.span_figures(day, start_min, minutes)
            {
                out.push(Workout {
                    log_id: id,
                    start: minute_of(date, start_min),
                    minutes,
                    kind: if running { "running" } else { "walking" },
                    steps,
                    calories,
                    avg_bpm,
                    azm,
                    has_gps: running,
                    lengths: Vec::new(),
                });
            }
        }
        if let Some((start_min, lengths)) = self.swim_plan(date) {
            let secs: i64 = lengths.iter().map(|l| l.1 + l.0).sum();
            let minutes = (secs + 59) / 60;
            if let Some((_, _, avg_bpm, azm)) = self.span_figures(day, start_min, minutes) {
                let start = minute_of(date, start_min);
                let mut at = start;
                let lengths = lengths
                    .into_iter()
                    .map(|(rest, seconds, strokes, stroke)| {
                        at += Duration::seconds(rest);
                        let l = SwimLength {
                            start: at,
                            seconds,
                            strokes,
                            stroke,
                        };
                        at += Duration::seconds(seconds);
                        l
                    })
                    .collect();
                out.push(Workout {
                    log_id: id,
                    start,
                    minutes,
                    kind: "swimming",
                    // No steps in the water; a swim burns about 8.5 kcal a minute.
                    steps: 0,
                    calories: (minutes as f64 * 8.5 * 10.0).round() / 10.0,
                    avg_bpm,
                    azm,
                    has_gps: false,
                    lengths,
                });
            }
        }
        out
    }

    /// Steps, energy (kcal, one decimal), average heart rate and active zone minutes of
    /// `minutes` minutes of `day` from `start_min`, if they have synced and the tracker was
    /// on the wrist.
    fn span_figures(
        &self,
        day: &Day,
        start_min: usize,
        minutes: i64,
    ) -> Option<(u64, f64, i64, u64)> {
        let end_min = start_min + minutes as usize;
        if end_min > day.synced_minutes || start_min < day.charging_until {
            return None;
        }
        let span = start_min..end_min;
        let steps: u64 = day.steps[span.clone()].iter().map(|s| *s as u64).sum();
        let calories: f64 = day.steps[span.clone()]
            .iter()
            .map(|s| self.minute_calories(*s))
            .sum();
        let bpm: i64 = span.clone().map(|m| self.minute_bpm(day, m)).sum();
        let azm = span
            .map(|m| match self.minute_zone(day, m) {
                0 => 0,
                1 => 1,
                _ => 2,
            })
            .sum();
        Some((steps, (calories * 10.0).round() / 10.0, bpm / minutes, azm))
    }

    /// The pool lengths of the synced swim of `date`, if any (see [`Person::workouts`]).
    pub fn swim_lengths(&self, date: NaiveDate, last_sync: NaiveDateTime) -> Vec<SwimLength> {
        self.workouts(date, last_sync)
            .into_iter()
            .flat_map(|w| w.lengths)
            .collect()
    }

    /// The swim `date` has planned, for a swimmer: its start minute and lengths as (rest
    /// before it, seconds, strokes, stroke). Sets of 4 to 8 lengths of one stroke (mostly
    /// freestyle), back to back within a set, 30 to 90 seconds' rest between sets.
    #[allow(clippy::type_complexity)]
    fn swim_plan(&self, date: NaiveDate) -> Option<(usize, Vec<(i64, i64, u64, &'static str)>)> {
        let cycle = (date.num_days_from_ce() as usize + self.index) % 5;
        if !self.index.is_multiple_of(5)
            || cycle != 4
            || !self.worn(date)
            || date < self.member_since
        {
            return None;
        }
        let mut r = self.rng(date, 23);
        let start_min = (18 * 60 + r.range(0, 60)) as usize;
        let mut lengths = Vec::new();
        for set in 0..r.range(4, 8) {
            let (stroke, secs, strokes) = match r.range(0, 8) {
                0..=5 => ("FREESTYLE", (28, 36), (16, 22)),
                6 => ("BREASTSTROKE", (38, 46), (12, 16)),
                7 => ("BACKSTROKE", (34, 42), (18, 24)),
                _ => ("BUTTERFLY", (32, 40), (14, 18)),
            };
            for k in 0..r.range(4, 8) {
                let rest = if k == 0 && set > 0 {
                    r.range(30, 90)
                } else {
                    0
                };
                let seconds = r.range(secs.0, secs.1);
                let count = r.range(strokes.0, strokes.1) as u64;
                lengths.push((rest, seconds, count, stroke));
            }
        }
        Some((start_min, lengths))
    }

    /// The synced workout whose log id is `id` (ids encode the person and the day).
    pub fn workout_by_id(&self, id: u64, last_sync: NaiveDateTime) -> Option<Workout> {
        let rest = id.checked_sub(40_000_000_000 + self.index as u64 * 10_000_000)?;
        if rest >= 10_000_000 {
            return None;
        }
        let date = NaiveDate::from_num_days_from_ce_opt(i32::try_from(rest).ok()?)?;
        self.workouts(date, last_sync)
            .into_iter()
            .find(|w| w.log_id == id)
    }

    /// The GPS track of a run recorded with GPS: a point every 5 seconds from its start to
    /// its end, at a steady pace once round a circle of the run's length that starts at
    /// the person's home (New York, Berlin, Tokyo, Sydney or London by zone): (local time,
    /// latitude, longitude, altitude m, cumulative distance m, heart rate of the minute).
    /// The distance is the run's (1.1 m a step, as Google's `distanceMillimeters`).
    pub fn track(&self, w: &Workout, last_sync: NaiveDateTime) -> Vec<TrackPoint> {
        if !w.has_gps {
            return Vec::new();
        }
        let day = self.day(w.start.date(), last_sync);
        let (lat0, lon0) = [
            (40.7812, -73.9665),
            (52.5163, 13.3777),
            (35.6852, 139.7528),
            (-33.8568, 151.2153),
            (51.5033, -0.1196),
        ][self.index % 5];
        let total = w.steps as f64 * 1.1;
        let radius = total / std::f64::consts::TAU;
        let secs = w.minutes * 60;
        let first_minute = (w.start - w.start.date().and_hms_opt(0, 0, 0).expect("midnight"))
            .num_minutes() as usize;
        (0..=secs / 5)
            .map(|k| {
                let t = k * 5;
                let d = total * t as f64 / secs as f64;
                let angle = std::f64::consts::TAU * t as f64 / secs as f64;
                let north = radius * angle.sin();
                let east = radius * (1.0 - angle.cos());
                let minute = (first_minute + t as usize / 60).min(1439);
                TrackPoint {
                    at: w.start + Duration::seconds(t),
                    latitude: lat0 + north / 111_320.0,
                    longitude: lon0 + east / (111_320.0 * lat0.to_radians().cos()),
                    altitude: 20.0 + 5.0 * angle.sin(),
                    distance: d,
                    bpm: self.minute_bpm(&day, minute),
                }
            })
            .collect()
    }

    /// The workout `date` has planned, synced or not: (start minute, minutes, a run).
    fn workout_plan(&self, date: NaiveDate) -> Option<(usize, i64, bool)> {
        let mut r = self.rng(date, 13);
        let cycle = (date.num_days_from_ce() as usize + self.index) % 5;
        if !self.worn(date) || !(cycle == 0 || cycle == 2) {
            return None;
        }
        let start_min = (7 * 60 + r.range(0, 600)) as usize;
        let minutes = r.range(20, 60);
        Some((start_min, minutes, r.range(0, 2) == 0))
    }

    /// The cardio fitness score of `date` (VO2 max, ml/kg/min), for a worn day that has
    /// synced whole by `now`. A run with GPS in the 3 days up to `date` measures it (one
    /// decimal); without one it is estimated from resting heart rate and profile, a whole
    /// number that the Fitbit Web API gives as the range ±2 around it ("42-46") and Google
    /// marks `estimated`. Person 3's tracker has no cardio fitness at all (live, a Pixel
    /// Watch 3 user's VO2 max lists were empty: google-health-api.md §6).
    pub fn vo2max(&self, date: NaiveDate, now: NaiveDateTime) -> Option<Vo2Max> {
        if self.index == 3 || !self.worn(date) || date >= now.date() || date < self.member_since {
            return None;
        }
        let measured = (0..3).any(|back| {
            self.workout_plan(date - Duration::days(back))
                .is_some_and(|(_, _, run)| run)
        });
        let fitness = 36.0
            + self.index as f64 * 2.5
            + (date.num_days_from_ce() % 90) as f64 / 30.0
            + self.rng(date, 17).range(-5, 5) as f64 / 10.0;
        Some(Vo2Max {
            value: if measured {
                (fitness * 10.0).round() / 10.0
            } else {
                fitness.round()
            },
            measured,
        })
    }

    /// The sedentary periods of a day as synced: every run of at least
    /// [`SEDENTARY_MINUTES`] minutes with fewer than [`SEDENTARY_STEPS`] steps each between
    /// 07:00 and 23:00 (the hours the people are awake) while the tracker is on the wrist,
    /// as (first minute, minutes). None on an unworn day: nothing saw the person sit.
    pub fn sedentary_periods(&self, day: &Day) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut run: Option<usize> = None;
        let end = day.synced_minutes.min(23 * 60);
        for m in 7 * 60..=end {
            let still = m < end && day.on_wrist(m) && day.steps[m] < SEDENTARY_STEPS;
            match (still, run) {
                (true, None) => run = Some(m),
                (false, Some(a)) => {
                    if m - a >= SEDENTARY_MINUTES {
                        out.push((a, m - a));
                    }
                    run = None;
                }
                _ => {}
            }
        }
        out
    }

    /// The main sleep that ended on `date`, once synced by `now`.
    fn main_sleep(&self, date: NaiveDate, now: NaiveDateTime) -> Option<Sleep> {
        self.sleeps_as_of(date, now)
            .into_iter()
            .find(|s| s.is_main && s.end <= now)
    }

    /// HRV (RMSSD, ms) every 5 minutes of the main sleep that ended on `date`, about one
    /// sample in ten missing.
    pub fn hrv_samples(&self, date: NaiveDate, now: NaiveDateTime) -> Vec<NightSample> {
        let Some(s) = self.main_sleep(date, now) else {
            return Vec::new();
        };
        let mut r = self.rng(date, 14);
        let base = 30.0 + self.index as f64 * 4.0;
        let mut out = Vec::new();
        let mut t = s.start + Duration::minutes(5);
        while t <= s.end {
            if r.range(0, 9) != 0 {
                out.push((t, base + r.range(-120, 250) as f64 / 10.0));
            }
            t += Duration::minutes(5);
        }
        out
    }

    /// SpO2 (percent) about every minute of the main sleep that ended on `date`: sparse
    /// (a third of the minutes missing), one decimal, and now and then an outlier of 50
    /// (google-health-api.md §4.4: "Live values included an outlier of 50").
    pub fn spo2_samples(&self, date: NaiveDate, now: NaiveDateTime) -> Vec<NightSample> {
        let Some(s) = self.main_sleep(date, now) else {
            return Vec::new();
        };
        let mut r = self.rng(date, 15);
        let mut out = Vec::new();
        let mut t = s.start + Duration::seconds(17 + r.range(0, 40));
        while t <= s.end {
            if r.range(0, 2) != 0 {
                let v = if r.range(0, 1999) == 0 {
                    50.0
                } else {
                    r.range(930, 995) as f64 / 10.0
                };
                out.push((t, v));
            }
            t += Duration::minutes(1);
        }
        out
    }

    /// The weigh-in of `date` on the scale, synced by `now`: Monday mornings, (local time,
    /// kg, body fat percent). A scale syncs only when stepped on.
    pub fn weigh_in(
        &self,
        date: NaiveDate,
        now: NaiveDateTime,
    ) -> Option<(NaiveDateTime, f64, f64)> {
        if date.weekday() != Weekday::Mon || date < self.member_since {
            return None;
        }
        let mut r = self.rng(date, 16);
        let at = date.and_hms_opt(7, 0, 0).expect("time") + Duration::seconds(r.range(0, 1800));
        if at > now {
            return None;
        }
        let kg = 64.0 + self.index as f64 * 6.0 + r.range(-15, 15) as f64 / 10.0;
        let fat = 18.0 + self.index as f64 * 1.5 + r.range(-8, 8) as f64 / 10.0;
        Some((at, (kg * 10.0).round() / 10.0, (fat * 10.0).round() / 10.0))
    }

    /// Body temperature readings of `date` logged by `now` (a thermometer, entered in the
    /// app): people 0 and 2, by mouth, on Mondays and Thursdays around 07:15, 36.2 to
    /// 37.0 °C; none for the others (live lists of such types are often empty).
    pub fn temperature(&self, date: NaiveDate, now: NaiveDateTime) -> Option<(NaiveDateTime, f64)> {
        let day = date.weekday();
        if !self.index.is_multiple_of(2)
            || !(day == Weekday::Mon || day == Weekday::Thu)
            || date < self.member_since
        {
            return None;
        }
        let mut r = self.rng(date, 18);
        let at = date.and_hms_opt(7, 15, 0).expect("time") + Duration::seconds(r.range(0, 900));
        (at <= now).then(|| (at, (362 + r.range(0, 8)) as f64 / 10.0))
    }

    /// The height entered on `date` by `now`, if any: people with an even index enter it
    /// when the account opens and again on the 1st and the 15th of every month at about
    /// 08:00 (a habit of checking the profile), mm; it varies by a millimetre.
    pub fn height_entry(
        &self,
        date: NaiveDate,
        now: NaiveDateTime,
    ) -> Option<(NaiveDateTime, i64)> {
        if !self.index.is_multiple_of(2)
            || date < self.member_since
            || !(date.day() == 1 || date.day() == 15 || date == self.member_since)
        {
            return None;
        }
        let mut r = self.rng(date, 20);
        let at = date.and_hms_opt(8, 0, 0).expect("time") + Duration::seconds(r.range(0, 1800));
        let mm = 1620 + 45 * self.index as i64 - r.range(0, 1);
        (at <= now).then_some((at, mm))
    }

    /// Whether the person logs food and water in the app (people 0 and 3, from the day the
    /// account opened; most people never do, so most lists are empty).
    pub fn logs_food(&self, date: NaiveDate) -> bool {
        self.index.is_multiple_of(3) && date >= self.member_since
    }

    /// Drinks logged on `date` by `now`: 3 to 6 between 08:00 and 21:00, a glass (250 ml,
    /// entered in ml), a bottle (500 ml) or a US cup (236.6 ml, entered in cups).
    pub fn drinks(
        &self,
        date: NaiveDate,
        now: NaiveDateTime,
    ) -> Vec<(NaiveDateTime, f64, &'static str)> {
        if !self.logs_food(date) {
            return Vec::new();
        }
        let mut r = self.rng(date, 22);
        let n = r.range(3, 6);
        (0..n)
            .map(|i| {
                let at = date.and_hms_opt(8, 0, 0).expect("time")
                    + Duration::minutes(i * 13 * 60 / n + r.range(0, 60));
                let (ml, unit) = match r.range(0, 2) {
                    0 => (250.0, "MILLILITER"),
                    1 => (500.0, "MILLILITER"),
                    _ => (236.6, "CUP_US"),
                };
                (at, ml, unit)
            })
            .filter(|d| d.0 <= now)
            .collect()
    }

    /// Meals logged on `date` by `now`: breakfast at about 07:30, lunch at 12:30, dinner at
    /// 19:00, and on some days a snack at 16:00; one food each.
    pub fn meals(&self, date: NaiveDate, now: NaiveDateTime) -> Vec<Meal> {
        if !self.logs_food(date) {
            return Vec::new();
        }
        let mut r = self.rng(date, 23);
        let mut out = Vec::new();
        for (h, m, meal, foods) in [
            (7, 30, "BREAKFAST", &[0usize, 4][..]),
            (12, 30, "LUNCH", &[2, 3][..]),
            (16, 0, "SNACK", &[1, 5][..]),
            (19, 0, "DINNER", &[3, 2][..]),
        ] {
            if meal == "SNACK" && r.range(0, 1) == 0 {
                continue;
            }
            let at = date.and_hms_opt(h, m, 0).expect("time") + Duration::minutes(r.range(0, 30));
            out.push(Meal {
                at,
                meal_type: meal,
                food: &FOODS[foods[r.range(0, foods.len() as i64 - 1) as usize]],
                servings: [1.0, 1.0, 1.5, 2.0][r.range(0, 3) as usize],
            });
        }
        out.retain(|m| m.at <= now);
        out
    }

    /// ECG readings taken on `date` by `now`: people 0 and 4 check on Sundays at about
    /// 10:00 and Wednesdays at about 21:00. Each R peak is 9000 units, the three samples
    /// after it -2500, the rest a small baseline within ±200: a reading at `bpm` has
    /// ceil(bpm / 2) peaks in its 30 seconds. About one in six is inconclusive.
    pub fn ecg_readings(&self, date: NaiveDate, now: NaiveDateTime) -> Vec<EcgReading> {
        let hour = match date.weekday() {
            Weekday::Sun => 10,
            Weekday::Wed => 21,
            _ => return Vec::new(),
        };
        if !self.index.is_multiple_of(4) || date < self.member_since {
            return Vec::new();
        }
        let mut r = self.rng(date, 24);
        let start =
            date.and_hms_opt(hour, 0, 0).expect("time") + Duration::seconds(r.range(0, 1800));
        if start + Duration::seconds(30) > now {
            return Vec::new();
        }
        let bpm = r.range(62, 84);
        let n = 30 * ECG_HZ;
        let mut samples: Vec<i64> = (0..n).map(|i| (i * 7919) % 400 - 200).collect();
        let mut k = 0;
        while k * 60 * ECG_HZ / bpm < n {
            let at = (k * 60 * ECG_HZ / bpm) as usize;
            samples[at] = 9000;
            for s in samples.iter_mut().skip(at + 1).take(3) {
                *s = -2500;
            }
            k += 1;
        }
        vec![EcgReading {
            start,
            bpm,
            result: if r.range(0, 5) == 0 {
                "INCONCLUSIVE"
            } else {
                "NORMAL_SINUS_RHYTHM"
            },
            samples,
        }]
    }

    /// The irregular-rhythm notification of `date`, if any, by `now`: person 0's watch
    /// sees irregular beats on the night of the 13th of each month, three 10-minute
    /// windows from about 03:00, 30 minutes apart, the first two irregular.
    pub fn irregular_rhythm(&self, date: NaiveDate, now: NaiveDateTime) -> Vec<IrnWindow> {
        if self.index != 0 || date.day() != 13 || date < self.member_since {
            return Vec::new();
        }
        let mut r = self.rng(date, 25);
        let first = date.and_hms_opt(3, 0, 0).expect("time") + Duration::minutes(r.range(0, 20));
        let out: Vec<IrnWindow> = (0..3)
            .map(|w| {
                let a = first + Duration::minutes(40 * w);
                let beats = (0..30).map(|_| r.range(90, 130)).collect();
                (a, a + Duration::minutes(10), w < 2, beats)
            })
            .collect();
        if out.last().is_some_and(|w| w.1 > now) {
            return Vec::new();
        }
        out
    }

    /// Blood glucose readings of `date` logged by `now` (a meter, entered in the app):
    /// people 0 and 1, fasting at about 07:00 and after dinner at about 20:00, mg/dL.
    pub fn glucose(
        &self,
        date: NaiveDate,
        now: NaiveDateTime,
    ) -> Vec<(NaiveDateTime, f64, &'static str)> {
        if self.index > 1 || date < self.member_since {
            return Vec::new();
        }
        let mut r = self.rng(date, 19);
        [(7, 85, 105, "FASTING"), (20, 110, 160, "AFTER_MEAL")]
            .into_iter()
            .map(|(h, lo, hi, timing)| {
                let at =
                    date.and_hms_opt(h, 0, 0).expect("time") + Duration::seconds(r.range(0, 1200));
                (at, r.range(lo, hi) as f64, timing)
            })
            .filter(|(at, _, _)| *at <= now)
            .collect()
    }

    /// Heart-rate samples of a day for the Google Health API, as (second of the local day,
    /// bpm): every 2 seconds with about one sample in seven missing, about 37,000 a day
    /// (google-health-live-2026.md, "Volume and paging").
    pub fn heart_samples_2s(&self, day: &Day) -> Vec<(usize, i64)> {
        let mut out = Vec::new();
        if !day.worn {
            return out;
        }
        let mut r = Rng::new(&[self.seed, day.date.num_days_from_ce() as u64, 78]);
        for t in (0..day.synced_minutes * 60).step_by(2) {
            if r.range(0, 6) != 0 && day.on_wrist(t / 60) {
                out.push((t, self.minute_bpm(day, t / 60) + r.range(-1, 1)));
            }
        }
        out
    }

    /// The day's data as synced by `last_sync` (local time of the person).
    pub fn day(&self, date: NaiveDate, last_sync: NaiveDateTime) -> Day {
        let synced_minutes = Self::synced(date, last_sync);
        let worn = self.worn(date);
        let charging_until = self.charging_until(date);
        let mut steps = vec![0u32; 1440];
        if worn && synced_minutes > 0 {
            let total = self.target_steps(date);
            // The same stream as `target_steps`, past its first draw.
            let mut r = self.rng(date, 3);
            r.unit();
            // Weights: awake 07:00-22:59, with walks at random hours.
            let walk1 = r.range(7, 9) as usize;
            let walk2 = r.range(12, 19) as usize;
            let weights: Vec<u64> = (0..1440usize)
                .map(|m| {
                    let h = m / 60;
                    let base: u64 = if (7..23).contains(&h) { 3 } else { 0 };
                    let walk: u64 = if h == walk1 || h == walk2 { 40 } else { 0 };
                    (base + walk) * (r.next_u64() % 4)
                })
                .collect();
            let w_total: u64 = weights.iter().sum::<u64>().max(1);
            let mut cum = 0u64;
            let mut prev = 0u64;
            for (m, w) in weights.iter().enumerate() {
                cum += w;
                let upto = total * cum / w_total;
                steps[m] = (upto - prev) as u32;
                prev = upto;
            }
            for s in steps.iter_mut().skip(synced_minutes) {
                *s = 0;
            }
            // On the charger: what the person walked then, the tracker did not count.
            for s in steps.iter_mut().take(charging_until) {
                *s = 0;
            }
        }
        let resting = (worn && synced_minutes >= 6 * 60)
            .then(|| self.resting + self.rng(date, 4).range(-3, 3));
        Day {
            date,
            worn,
            steps,
            synced_minutes,
            charging_until,
            bmr: self.bmr,
            resting,
        }
    }

    /// Minutes of `date` synced by `last_sync`.
    fn synced(date: NaiveDate, last_sync: NaiveDateTime) -> usize {
        if last_sync.date() > date {
            1440
        } else if last_sync.date() < date {
            0
        } else {
            (last_sync.time().num_seconds_from_midnight() / 60) as usize
        }
    }

    /// The day's step total and synced minutes, without building the minutes when the
    /// day is complete (the minutes are a split of this same total).
    pub fn steps_total(&self, date: NaiveDate, last_sync: NaiveDateTime) -> (u64, usize) {
        let synced = Self::synced(date, last_sync);
        if synced < 1440 || self.charging_until(date) > 0 {
            return (
                self.day(date, last_sync)
                    .steps
                    .iter()
                    .map(|s| *s as u64)
                    .sum(),
                synced,
            );
        }
        if !self.worn(date) {
            return (0, synced);
        }
        (self.target_steps(date), synced)
    }

    fn target_steps(&self, date: NaiveDate) -> u64 {
        let mut r = self.rng(date, 3);
        let factor = match date.weekday() {
            Weekday::Sat => 1.15,
            Weekday::Sun => 0.75,
            _ => 1.0,
        };
        (self.base_steps as f64 * factor * (0.6 + 0.8 * r.unit())) as u64
    }

    /// Calories of a day (or its synced part): BMR spread over the minutes plus activity.
    pub fn day_calories(&self, steps: u64, synced_minutes: usize) -> f64 {
        self.bmr as f64 * synced_minutes as f64 / 1440.0 + steps as f64 * 0.045
    }

    /// Calories burned in a minute with `steps` steps (BMR spread over the day plus activity).
    pub fn minute_calories(&self, steps: u32) -> f64 {
        self.bmr as f64 / 1440.0 + steps as f64 * 0.045
    }

    /// Heart rate at a minute.
    pub fn minute_bpm(&self, day: &Day, minute: usize) -> i64 {
        let rest = day.resting.unwrap_or(self.resting);
        let s = day.steps[minute] as i64;
        let asleep = !(7 * 60..23 * 60).contains(&minute);
        let mut r = self.rng(day.date, 100 + minute as u64);
        rest + if asleep { -4 } else { 8 } + s / 3 + r.range(-3, 3)
    }

    /// Heart-rate samples of a day as (second of the local day, bpm): the device's
    /// "1-second" series, which really arrives every 5 to 15 seconds.
    pub fn heart_samples(&self, day: &Day) -> Vec<(usize, i64)> {
        let mut out = Vec::new();
        if !day.worn {
            return out;
        }
        let mut r = Rng::new(&[day.date.num_days_from_ce() as u64, 77]);
        let mut t = 0usize;
        while t < day.synced_minutes * 60 {
            let bpm = self.minute_bpm(day, t / 60) + r.range(-1, 1);
            if day.on_wrist(t / 60) {
                out.push((t, bpm));
            }
            t += r.range(5, 15) as usize;
        }
        out
    }

    /// Sleep logs that ended on `date` (a main sleep, some days a nap).
    pub fn sleeps(&self, date: NaiveDate) -> Vec<Sleep> {
        if !self.worn(date) {
            return Vec::new();
        }
        let mut r = self.rng(date, 5);
        let mut out = Vec::new();
        // About one night in twenty the tracker was off at night (charging): no main sleep.
        // And on a charger day it charged all night.
        let night_off = self.rng(date, 8).range(0, 19) == 0 || self.charging_until(date) > 0;
        let day_no = (date - NaiveDate::from_ymd_opt(2000, 1, 1).expect("date")).num_days() as u64;
        let base_id = (self.index as u64 + 1) * 100_000_000_000 + day_no * 10;
        // Main sleep: starts the evening before between 22:00 and 00:30.
        let start = (date - Duration::days(1))
            .and_time(NaiveTime::from_hms_opt(22, 0, 0).expect("time"))
            + Duration::minutes(r.range(0, 150));
        let total = r.range(6 * 120, 17 * 60) * 30; // 6h to 8.5h, in 30 s steps
        let cycle = ["light", "deep", "light", "rem", "light", "wake"];
        let data = tile(start, total, &cycle, |level| match level {
            "wake" => r.range(2, 12) * 60,
            "deep" => r.range(10, 45) * 60,
            "rem" => r.range(10, 35) * 60,
            _ => r.range(15, 60) * 60,
        });
        // Short wakes (3 minutes or less) inside light segments: they overlap `data`.
        let mut short = Vec::new();
        for s in data
            .iter()
            .filter(|s| s.level == "light" && s.seconds >= 600)
        {
            if r.range(0, 2) == 0 {
                let at = r.range(1, s.seconds / 60 - 4) * 60;
                short.push(Segment {
                    start: s.start + Duration::seconds(at),
                    level: "wake",
                    seconds: r.range(1, 6) * 30,
                });
            }
        }
        if !night_off {
            out.push(Sleep {
                log_id: base_id,
                date_of_sleep: date,
                start,
                end: start + Duration::seconds(total),
                is_main: true,
                stages: true,
                data,
                short,
            });
        }
        // A nap on about one day in seven: short, so a classic log.
        if r.range(0, 6) == 0 {
            let start = date.and_time(NaiveTime::from_hms_opt(14, 0, 0).expect("time"))
                + Duration::minutes(r.range(0, 90));
            let total = r.range(20, 80) * 60;
            let cycle = ["asleep", "restless", "asleep", "awake"];
            let data = tile(start, total, &cycle, |level| {
                if level == "asleep" {
                    r.range(5, 25) * 60
                } else {
                    r.range(1, 4) * 60
                }
            });
            out.push(Sleep {
                log_id: base_id + 1,
                date_of_sleep: date,
                start,
                end: start + Duration::seconds(total),
                is_main: false,
                stages: false,
                data,
                short: Vec::new(),
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn same_seed_same_people_and_days() {
        let a = people(7, 3);
        let b = people(7, 3);
        assert_eq!(a[0].id, b[0].id);
        let sync = d("2030-01-01").and_hms_opt(0, 0, 0).unwrap();
        assert_eq!(
            a[2].day(d("2020-05-05"), sync).steps,
            b[2].day(d("2020-05-05"), sync).steps
        );
        assert_ne!(people(8, 1)[0].id, a[0].id);
        assert_eq!(a[0].tz.name(), "America/New_York");
    }

    #[test]
    fn sleep_segments_tile_the_log_and_short_wakes_lie_inside() {
        let p = &people(1, 2)[0];
        let mut nights = 0;
        for i in 0..200 {
            for s in p.sleeps(d("2019-01-01") + Duration::days(i)) {
                let sum: i64 = s.data.iter().map(|x| x.seconds).sum();
                assert_eq!(sum, (s.end - s.start).num_seconds());
                for w in s.data.windows(2) {
                    assert_eq!(w[0].start + Duration::seconds(w[0].seconds), w[1].start);
                }
                for x in &s.short {
                    assert!(x.start >= s.start && x.start + Duration::seconds(x.seconds) <= s.end);
                }
                nights += 1;
            }
        }
        // Drawer weeks, unworn days and nights without the tracker leave some out.
        assert!((150..230).contains(&nights), "{nights}");
    }

    #[test]
    fn a_day_grows_as_it_syncs() {
        let p = &people(1, 1)[0];
        let date = (0..10)
            .map(|i| d("2021-06-01") + Duration::days(i))
            .find(|d| p.worn(*d))
            .unwrap();
        let noon = p.day(date, date.and_hms_opt(12, 0, 0).unwrap());
        let night = p.day(date, date.and_hms_opt(23, 59, 0).unwrap());
        let sum = |d: &Day| d.steps.iter().map(|s| *s as u64).sum::<u64>();
        assert!(sum(&noon) < sum(&night));
        assert_eq!(noon.steps[..720], night.steps[..720]);
        let next = date.succ_opt().unwrap().and_hms_opt(1, 0, 0).unwrap();
        assert_eq!(
            p.steps_total(date, next).0,
            p.day(date, next)
                .steps
                .iter()
                .map(|s| *s as u64)
                .sum::<u64>()
        );
    }
}
