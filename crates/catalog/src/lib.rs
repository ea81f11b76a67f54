//! Every data type fitpipe reads, declared once (issue #25's catalog, first step).
//!
//! One row per data type says: its name (the `--resources` / `--intraday` name, and the key
//! of its sync state and raw folder), the Google Health API `dataType` id where Google
//! serves it, which API reads it with which scope and whether a plain `fitpipe ingest`
//! fetches it, the tables it fills, and what a complete answer for a window replaces.
//! Names, default sets, scopes in `--help`, replace windows and their tables are derived
//! from here, and so is how each API is asked ([`GoogleOp`], [`FitbitOp`]: operations,
//! paths, range and page caps); the provider modules of `fitpipe-ingest` turn a row into
//! requests.
//! The simulator does not read this table (it builds its routes from the reference), so
//! the two cannot share a mistake.
#![warn(missing_docs)]

/// What a complete answer for one window is the truth for (tables.md: "A re-fetched window
/// is the truth for that window"): the stored rows of that window and source that the
/// answer no longer holds are removed, so an edited or deleted log is never counted twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replace {
    /// Nothing: rows are upserted by key (a daily series fills one column of rows that
    /// other series share).
    Nothing,
    /// Sleep logs that ended on the window's local days, and their stages.
    SleepByEndDay,
    /// Rows of these tables whose local day (`date`) lies in the window: heart-rate zones
    /// of the days, sessions and periods that started on them (an edited or deleted one
    /// goes).
    Days(&'static [&'static str]),
    /// Rows of these tables whose instant (`time_utc`) lies in the window's local days:
    /// samples, and measurements keyed by their time (a deleted log goes).
    Samples(&'static [&'static str]),
}

/// Which stored rows of one table a replaced window covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowRows {
    /// Rows whose DATE column (a local day) lies in the window's days.
    LocalDays(&'static str),
    /// Rows whose instant column lies between the window's first local midnight and the
    /// midnight after its last day.
    Instants(&'static str),
    /// The stages of every sleep log the window removed or holds anew.
    StagesOfLogs,
}

impl Replace {
    /// The tables whose rows of the window a complete answer replaces.
    pub const fn tables(self) -> &'static [&'static str] {
        match self {
            Replace::Nothing => &[],
            Replace::SleepByEndDay => &["sleep_sessions", "sleep_stages"],
            Replace::Days(t) | Replace::Samples(t) => t,
        }
    }

    /// Which rows of `table` (one of [`Replace::tables`]) a window covers.
    pub fn rows_in(self, table: &str) -> WindowRows {
        match (self, table) {
            (Replace::SleepByEndDay, "sleep_stages") => WindowRows::StagesOfLogs,
            (Replace::SleepByEndDay, _) => WindowRows::LocalDays("date_of_sleep"),
            (Replace::Days(_), _) => WindowRows::LocalDays("date"),
            _ => WindowRows::Instants("time_utc"),
        }
    }
}

/// How the Google Health API is asked for a data type (google-health-api.md §3 and §6; the
/// caps and filter members that work live: google-health-live-2026.md). The filter member
/// is the `dataType` id in snake case (`daily_resting_heart_rate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GoogleOp {
    /// The exercise list (as `Sessions { by_end: false }`), and for each session recorded
    /// with GPS its route: `dataPoints/{id}:exportExerciseTcx` (a TCX file).
    Routes,
    /// `users/me/identity` and `users/me/settings`.
    Profile,
    /// `users/me/pairedDevices` (paged), read whole on every run.
    Devices,
    /// `:dailyRollUp`, one bucket per civil day; the range cap in days (`pageSize` is the
    /// window's days, so `windowSizeDays × pageSize` stays within it).
    DailyRollUp(i64),
    /// `:rollUp` of 60-second windows over the local days' physical bounds, ending at the
    /// current minute; days a request.
    MinuteRollUp(i64),
    /// `list` filtered on the civil `date` of daily points.
    ListByDate(Page),
    /// `list` filtered on `sample_time.civil_time`.
    ListBySample(Page),
    /// `list` filtered on `interval.civil_start_time`.
    ListByStart(Page),
    /// `list` with no filter, every page (newest first): for a type that refuses every
    /// filter member (`respiratory-rate-sleep-summary`, google-health-api.md §6); one
    /// request covers the whole range, and its answer the whole history.
    ListAll(Page),
    /// `list` filtered on the physical `interval.start_time` (RFC 3339) between the local
    /// days' midnights: the one member ECG readings filter on (google-health-api.md §3.3).
    ListByStartTime(Page),
    /// A session list (25 a page, 12 days a request so two sessions a day fit one page),
    /// filtered on the civil date the sessions start (`false`) or end (`true`) on.
    Sessions {
        /// Filter on `interval.civil_end_time` (sleep) rather than the start.
        by_end: bool,
    },
}

/// How many days one `list` request covers and its `pageSize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Most days one request covers.
    pub days: i64,
    /// `pageSize` (the API truncates above 10,000).
    pub size: i64,
}

/// A list of up to 1,000 days a request, 1,000 points a page: a value or a few a day.
const SPARSE: Page = Page {
    days: 1000,
    size: 1000,
};

/// Logs people enter (food, water), listed like sessions: pages of at most 25 whatever
/// `pageSize` asks, a month a request.
const LOGS: Page = Page { days: 30, size: 25 };

/// How the Fitbit Web API is asked for a data type (fitbit-web-api.md §3: paths and the
/// maximum range of a request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FitbitOp {
    /// A daily activity series, `/activities/{resource}/date/{start}/{end}.json`: its API
    /// resource (`steps`, `minutesSedentary`); 1095 days a request.
    Series(&'static str),
    /// The heart-rate series (resting rate, zones): a year a request.
    Heart,
    /// Sleep logs v1.2 by date range: 100 days a request.
    Sleep,
    /// The profile (`profile.json`), read whole.
    Profile,
    /// A daily summary by date range, `/{path}/date/{start}/{end}.json`: the path between
    /// the user and `/date/`, and the most days a request covers.
    Daily(&'static str, i64),
    /// The activity log list (exercise sessions): from the first day on, oldest first, 100
    /// a page, following `pagination.next`.
    Exercise,
    /// The activity log list, and the TCX of each log recorded with GPS
    /// (`/activities/{log-id}.tcx`).
    Route,
    /// The paired devices (`devices.json`), read whole on every run.
    Devices,
    /// Samples of the main sleep, `/{seg}/date/{start}/{end}/all.json` (SpO2, HRV), filed
    /// under the day the sleep ended: the path segment, and the most days a request covers.
    Samples(&'static str, i64),
    /// A nightly summary by sleep stage, `/{seg}/date/{start}/{end}/all.json` (breathing
    /// rate): the path segment, and the most days a request covers.
    ByStage(&'static str, i64),
    /// An intraday series named as the data type, one day a request
    /// (`/activities/{name}/date/{day}/1d/{detail}.json`), at the detail level the command
    /// line picks (`1min` unless `heart:1sec`, `steps:15min`, ...).
    Intraday,
}

/// How one API reads a data type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Read {
    /// The scope (Fitbit Web API) or scope area (Google Health API, e.g.
    /// `activity_and_fitness`) that guards it.
    pub scope: &'static str,
    /// Fetched by a plain `fitpipe ingest` (the default set).
    pub default: bool,
    /// What a complete answer for a window replaces.
    pub replaces: Replace,
}

/// Daily or session data, or a high-volume sample series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `--resources`: a value or a few per day, sessions, the profile.
    Daily,
    /// `--intraday`: samples through the day.
    Intraday,
}

/// One data type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataType {
    /// The name on the command line, and the key of its state and raw folder (intraday
    /// keys are `intraday-<name>`).
    pub name: &'static str,
    /// Daily or intraday.
    pub kind: Kind,
    /// The Google Health API `dataType` id, where Google serves it.
    pub google_id: Option<&'static str>,
    /// How the Google Health API is asked for it (with [`DataType::google`]).
    pub google_op: Option<GoogleOp>,
    /// How the Google Health API reads it.
    pub google: Option<Read>,
    /// How the Fitbit Web API reads it.
    pub fitbit: Option<Read>,
    /// How the Fitbit Web API is asked for it (with [`DataType::fitbit`]).
    pub fitbit_op: Option<FitbitOp>,
    /// The tables it fills.
    pub tables: &'static [&'static str],
    /// What it is, one line (`--help`, docs).
    pub about: &'static str,
}

const AF: &str = "activity_and_fitness";
const HM: &str = "health_metrics_and_measurements";

const fn read(scope: &'static str, default: bool) -> Option<Read> {
    replacing(scope, default, Replace::Nothing)
}

const fn replacing(scope: &'static str, default: bool, replaces: Replace) -> Option<Read> {
    Some(Read {
        scope,
        default,
        replaces,
    })
}

const fn daily(
    name: &'static str,
    google_id: Option<&'static str>,
    google: Option<Read>,
    fitbit: Option<Read>,
    tables: &'static [&'static str],
    about: &'static str,
) -> DataType {
    DataType {
        name,
        kind: Kind::Daily,
        google_id,
        google_op: None,
        google,
        fitbit,
        fitbit_op: None,
        tables,
        about,
    }
}

impl DataType {
    /// The same row, asked of the Google Health API by `op`.
    const fn asked(self, op: GoogleOp) -> DataType {
        DataType {
            google_op: Some(op),
            ..self
        }
    }

    /// The same row, asked of the Fitbit Web API by `op`.
    const fn fitbit_asked(self, op: FitbitOp) -> DataType {
        DataType {
            fitbit_op: Some(op),
            ..self
        }
    }
}

/// The same row, for the intraday series.
const fn intraday(row: DataType) -> DataType {
    DataType {
        kind: Kind::Intraday,
        ..row
    }
}

const DAILY_ACTIVITY: &[&str] = &["daily_activity"];
/// Fitbit's intraday answers carry the day's total too.
const ACTIVITY_INTRADAY: &[&str] = &["activity_intraday", "daily_activity"];

/// Every data type, daily ones first, in `--help` order.
pub const CATALOG: &[DataType] = &[
    daily(
        "profile",
        None,
        read("settings", true),
        read("profile", true),
        &["profile"],
        "the account: time zone, member since",
    )
    .fitbit_asked(FitbitOp::Profile)
    .asked(GoogleOp::Profile),
    daily(
        "steps",
        Some("steps"),
        read(AF, true),
        read("activity", true),
        DAILY_ACTIVITY,
        "steps per day",
    )
    .fitbit_asked(FitbitOp::Series("steps"))
    .asked(GoogleOp::DailyRollUp(90)),
    daily(
        "calories",
        Some("total-calories"),
        read(AF, true),
        read("activity", true),
        DAILY_ACTIVITY,
        "energy burned per day, kcal",
    )
    .fitbit_asked(FitbitOp::Series("calories"))
    .asked(GoogleOp::DailyRollUp(14)),
    daily(
        "distance",
        Some("distance"),
        read(AF, true),
        read("activity", true),
        DAILY_ACTIVITY,
        "distance per day, km",
    )
    .fitbit_asked(FitbitOp::Series("distance"))
    .asked(GoogleOp::DailyRollUp(90)),
    daily(
        "floors",
        Some("floors"),
        read(AF, true),
        read("activity", true),
        DAILY_ACTIVITY,
        "floors climbed per day",
    )
    .fitbit_asked(FitbitOp::Series("floors"))
    .asked(GoogleOp::DailyRollUp(90)),
    daily(
        "elevation",
        Some("altitude"),
        read(AF, false),
        read("activity", false),
        DAILY_ACTIVITY,
        "elevation climbed per day, m",
    )
    .fitbit_asked(FitbitOp::Series("elevation"))
    .asked(GoogleOp::DailyRollUp(90)),
    daily(
        "sedentary",
        None,
        None,
        read("activity", true),
        DAILY_ACTIVITY,
        "sedentary minutes per day",
    )
    .fitbit_asked(FitbitOp::Series("minutesSedentary")),
    daily(
        "lightly-active",
        None,
        None,
        read("activity", true),
        DAILY_ACTIVITY,
        "lightly active minutes per day",
    )
    .fitbit_asked(FitbitOp::Series("minutesLightlyActive")),
    daily(
        "fairly-active",
        None,
        None,
        read("activity", true),
        DAILY_ACTIVITY,
        "fairly active minutes per day",
    )
    .fitbit_asked(FitbitOp::Series("minutesFairlyActive")),
    daily(
        "very-active",
        None,
        None,
        read("activity", true),
        DAILY_ACTIVITY,
        "very active minutes per day",
    )
    .fitbit_asked(FitbitOp::Series("minutesVeryActive")),
    daily(
        "active-minutes",
        Some("active-minutes"),
        read(AF, true),
        None,
        DAILY_ACTIVITY,
        "minutes per activity level per day",
    )
    .asked(GoogleOp::DailyRollUp(14)),
    daily(
        "heart",
        Some("daily-resting-heart-rate"),
        read(HM, true),
        replacing("heartrate", true, Replace::Days(&["heart_rate_zones"])),
        &["daily_activity", "heart_rate_zones"],
        "resting heart rate per day (and heart-rate zones at Fitbit)",
    )
    .fitbit_asked(FitbitOp::Heart)
    .asked(GoogleOp::ListByDate(SPARSE)),
    daily(
        "sleep",
        Some("sleep"),
        replacing("sleep", true, Replace::SleepByEndDay),
        replacing("sleep", true, Replace::SleepByEndDay),
        &["sleep_sessions", "sleep_stages"],
        "sleep sessions with their stages",
    )
    .fitbit_asked(FitbitOp::Sleep)
    .asked(GoogleOp::Sessions { by_end: true }),
    daily(
        "hrv",
        Some("daily-heart-rate-variability"),
        read(HM, false),
        read("heartrate", false),
        &["hrv_daily"],
        "heart-rate variability per night",
    )
    // "Maximum range: 30 days" (the HRV summary page).
    .fitbit_asked(FitbitOp::Daily("hrv", 30))
    .asked(GoogleOp::ListByDate(SPARSE)),
    daily(
        "spo2",
        Some("daily-oxygen-saturation"),
        read(HM, false),
        read("oxygen_saturation", false),
        &["spo2_daily"],
        "blood oxygen saturation per night",
    )
    // The SpO2 summary's range is unconfirmed: HRV's 30 days.
    .fitbit_asked(FitbitOp::Daily("spo2", 30))
    .asked(GoogleOp::ListByDate(SPARSE)),
    daily(
        "weight",
        Some("weight"),
        read(HM, true),
        None,
        &["weight_log"],
        "weight logs",
    )
    .asked(GoogleOp::ListBySample(SPARSE)),
    daily(
        "body-fat",
        Some("body-fat"),
        replacing(HM, true, Replace::Samples(&["body_fat_log"])),
        None,
        &["body_fat_log"],
        "body-fat measurements, percent",
    )
    .asked(GoogleOp::ListBySample(SPARSE)),
    daily(
        "exercise",
        Some("exercise"),
        replacing(AF, true, Replace::Days(&["exercise_sessions"])),
        replacing("activity", true, Replace::Days(&["exercise_sessions"])),
        &["exercise_sessions"],
        "exercise sessions: runs, walks, rides (type, duration, energy, heart rate)",
    )
    .fitbit_asked(FitbitOp::Exercise)
    .asked(GoogleOp::Sessions { by_end: false }),
    daily(
        "exercise-route",
        Some("exercise"),
        replacing("location", false, Replace::Days(&["exercise_route"])),
        replacing("location", false, Replace::Days(&["exercise_route"])),
        &["exercise_route", "exercise_sessions"],
        "the GPS route of each exercise recorded with GPS, a point every few seconds \
         (needs the location scope)",
    )
    .fitbit_asked(FitbitOp::Route)
    .asked(GoogleOp::Routes),
    daily(
        "devices",
        None,
        read("settings", true),
        read("settings", true),
        &["devices"],
        "paired trackers and scales: battery, last sync (read on every run)",
    )
    .fitbit_asked(FitbitOp::Devices)
    .asked(GoogleOp::Devices),
    daily(
        "breathing-rate",
        Some("daily-respiratory-rate"),
        read(HM, false),
        read("respiratory_rate", false),
        &["breathing_rate_daily"],
        "breathing rate per night",
    )
    // "Maximum range: 30 days" (jpstroop; UNCONFIRMED for the summary page).
    .fitbit_asked(FitbitOp::Daily("br", 30))
    .asked(GoogleOp::ListByDate(SPARSE)),
    daily(
        "active-zone-minutes",
        Some("active-zone-minutes"),
        read(AF, false),
        read("activity", false),
        &["active_zone_minutes_daily"],
        "active zone minutes per day",
    )
    // The AZM time series: 1095 days.
    .fitbit_asked(FitbitOp::Daily("activities/active-zone-minutes", 1095))
    .asked(GoogleOp::DailyRollUp(90)),
    daily(
        "skin-temperature",
        Some("daily-sleep-temperature-derivations"),
        read(HM, false),
        read("temperature", false),
        &["skin_temperature_daily"],
        "skin temperature variation per night",
    )
    // "the maximum date range cannot exceed 30 days" (the Swagger file).
    .fitbit_asked(FitbitOp::Daily("temp/skin", 30))
    .asked(GoogleOp::ListByDate(SPARSE)),
    daily(
        "vo2max",
        Some("daily-vo2-max"),
        read(AF, false),
        read("cardio_fitness", false),
        &["vo2max_daily"],
        "cardio fitness score (VO2 max, ml/kg/min) per day",
    )
    // "Maximum range: 30 days" (fitbit-web-api.md §3, the cardio fitness score page).
    .fitbit_asked(FitbitOp::Daily("cardioscore", 30))
    .asked(GoogleOp::ListByDate(SPARSE)),
    daily(
        "sedentary-periods",
        Some("sedentary-period"),
        replacing(AF, false, Replace::Days(&["sedentary_periods"])),
        None,
        &["sedentary_periods"],
        "sedentary periods: start, end and length of each spell of sitting still",
    )
    .asked(GoogleOp::ListByStart(Page {
        days: 30,
        size: 1000,
    })),
    daily(
        "swim-lengths-data",
        Some("swim-lengths-data"),
        replacing(AF, false, Replace::Days(&["swim_lengths"])),
        None,
        &["swim_lengths"],
        "pool lengths of each swim: time, stroke and strokes of every length",
    )
    .asked(GoogleOp::ListByStart(Page {
        days: 30,
        size: 1000,
    })),
    daily(
        "daily-heart-rate-zones",
        Some("daily-heart-rate-zones"),
        read(HM, false),
        None,
        &["heart_rate_zones"],
        "heart-rate zone thresholds per day, bpm (each zone's lower and upper bound)",
    )
    .asked(GoogleOp::ListByDate(SPARSE)),
    daily(
        "time-in-heart-rate-zone",
        Some("time-in-heart-rate-zone"),
        read(AF, false),
        None,
        &["heart_rate_zones"],
        "minutes per heart-rate zone per day (light, moderate, vigorous, peak)",
    )
    .asked(GoogleOp::DailyRollUp(90)),
    daily(
        "calories-in-heart-rate-zone",
        Some("calories-in-heart-rate-zone"),
        read(AF, false),
        None,
        &["heart_rate_zones"],
        "energy burned per heart-rate zone per day, kcal",
    )
    .asked(GoogleOp::DailyRollUp(14)),
    daily(
        "core-body-temperature",
        Some("core-body-temperature"),
        replacing(HM, false, Replace::Samples(&["body_temperature_log"])),
        None,
        &["body_temperature_log"],
        "body temperature readings, °C (a thermometer, logged in the app)",
    )
    .asked(GoogleOp::ListBySample(SPARSE)),
    daily(
        "blood-glucose",
        Some("blood-glucose"),
        replacing(HM, false, Replace::Samples(&["blood_glucose_log"])),
        None,
        &["blood_glucose_log"],
        "blood glucose readings, mg/dL, with when they were taken",
    )
    .asked(GoogleOp::ListBySample(SPARSE)),
    daily(
        "run-vo2-max",
        Some("run-vo2-max"),
        replacing(AF, false, Replace::Samples(&["run_vo2max"])),
        None,
        &["run_vo2max"],
        "VO2 max measured on each run with GPS, ml/kg/min",
    )
    .asked(GoogleOp::ListBySample(SPARSE)),
    daily(
        "vo2-max",
        Some("vo2-max"),
        replacing(AF, false, Replace::Samples(&["vo2max_log"])),
        None,
        &["vo2max_log"],
        "VO2 max estimates with how each was made (a run, demographics, a test), ml/kg/min",
    )
    .asked(GoogleOp::ListBySample(SPARSE)),
    daily(
        "height",
        Some("height"),
        replacing(HM, false, Replace::Samples(&["height_log"])),
        None,
        &["height_log"],
        "height as people enter it in the app, cm",
    )
    .asked(GoogleOp::ListBySample(SPARSE)),
    daily(
        "respiratory-rate-sleep-summary",
        Some("respiratory-rate-sleep-summary"),
        replacing(HM, false, Replace::Days(&["breathing_rate_sleep"])),
        replacing(
            "respiratory_rate",
            false,
            Replace::Days(&["breathing_rate_sleep"]),
        ),
        // Fitbit's per-stage answer carries the full sleep's figure, the daily one, too.
        &["breathing_rate_sleep", "breathing_rate_daily"],
        "breathing rate of each night's main sleep, whole and by stage (deep, light, REM)",
    )
    // "Maximum range: 30 days" (the breathing-rate intraday page).
    .fitbit_asked(FitbitOp::ByStage("br", 30))
    .asked(GoogleOp::ListAll(SPARSE)),
    daily(
        "hydration-log",
        Some("hydration-log"),
        replacing("nutrition", false, Replace::Days(&["hydration_log"])),
        None,
        &["hydration_log"],
        "water people log drinking, ml (needs the nutrition scope)",
    )
    .asked(GoogleOp::ListByStart(LOGS)),
    daily(
        "nutrition-log",
        Some("nutrition-log"),
        replacing(
            "nutrition",
            false,
            Replace::Days(&["nutrition_log", "nutrition_nutrients"]),
        ),
        None,
        &["nutrition_log", "nutrition_nutrients"],
        "food people log: meal, food, energy, carbohydrate, fat, protein and every \
         nutrient (needs the nutrition scope)",
    )
    .asked(GoogleOp::ListByStart(LOGS)),
    daily(
        "food",
        Some("food"),
        read("nutrition", false),
        None,
        &["foods"],
        "the foods people log, per serving: energy, carbohydrate, fat, protein (needs the \
         nutrition scope)",
    )
    .asked(GoogleOp::ListAll(SPARSE)),
    daily(
        "food-measurement-unit",
        Some("food-measurement-unit"),
        read("nutrition", false),
        None,
        &["food_units"],
        "the units servings are measured in (cup, slice), singular and plural (needs the \
         nutrition scope)",
    )
    .asked(GoogleOp::ListAll(SPARSE)),
    daily(
        "electrocardiogram",
        Some("electrocardiogram"),
        replacing(
            "ecg",
            false,
            Replace::Days(&["ecg_readings", "ecg_waveform"]),
        ),
        None,
        &["ecg_readings", "ecg_waveform"],
        "ECG readings taken on the watch: the result, and every waveform sample (needs the \
         ecg scope)",
    )
    .asked(GoogleOp::ListByStartTime(LOGS)),
    daily(
        "irregular-rhythm-notification",
        Some("irregular-rhythm-notification"),
        replacing(
            "irn",
            false,
            Replace::Days(&["irregular_rhythm_notifications", "irregular_rhythm_windows"]),
        ),
        None,
        &["irregular_rhythm_notifications", "irregular_rhythm_windows"],
        "irregular-rhythm notifications and the windows of heart beats behind each (needs \
         the irn scope)",
    )
    .asked(GoogleOp::ListByStartTime(LOGS)),
    intraday(
        daily(
            "heart",
            Some("heart-rate"),
            replacing(HM, false, Replace::Samples(&["heart_rate_intraday"])),
            replacing(
                "heartrate",
                false,
                Replace::Samples(&["heart_rate_intraday"]),
            ),
            // Fitbit's intraday answer carries the day's summary too (resting rate, zones).
            &["heart_rate_intraday", "daily_activity", "heart_rate_zones"],
            "heart-rate samples (every few seconds)",
        )
        .fitbit_asked(FitbitOp::Intraday)
        .asked(GoogleOp::ListBySample(Page {
            days: 1,
            size: 10_000,
        })),
    ),
    intraday(
        daily(
            "steps",
            Some("steps"),
            read(AF, false),
            read("activity", false),
            ACTIVITY_INTRADAY,
            "steps per minute",
        )
        .fitbit_asked(FitbitOp::Intraday)
        .asked(GoogleOp::ListByStart(Page {
            days: 6,
            size: 10_000,
        })),
    ),
    intraday(
        daily(
            "distance",
            Some("distance"),
            read(AF, false),
            read("activity", false),
            ACTIVITY_INTRADAY,
            "distance per minute",
        )
        .fitbit_asked(FitbitOp::Intraday)
        .asked(GoogleOp::ListByStart(Page {
            days: 6,
            size: 10_000,
        })),
    ),
    intraday(
        daily(
            "calories",
            Some("total-calories"),
            read(AF, false),
            read("activity", false),
            ACTIVITY_INTRADAY,
            "energy per minute",
        )
        .fitbit_asked(FitbitOp::Intraday)
        .asked(GoogleOp::MinuteRollUp(6)),
    ),
    intraday(
        daily(
            "spo2",
            Some("oxygen-saturation"),
            replacing(HM, false, Replace::Samples(&["spo2_intraday"])),
            replacing(
                "oxygen_saturation",
                false,
                Replace::Samples(&["spo2_intraday"]),
            ),
            &["spo2_intraday"],
            "blood oxygen saturation samples (about one a minute during sleep)",
        )
        .fitbit_asked(FitbitOp::Samples("spo2", 30))
        .asked(GoogleOp::ListBySample(Page {
            days: 6,
            size: 5000,
        })),
    ),
    intraday(
        daily(
            "hrv",
            Some("heart-rate-variability"),
            replacing(HM, false, Replace::Samples(&["hrv_intraday"])),
            replacing("heartrate", false, Replace::Samples(&["hrv_intraday"])),
            &["hrv_intraday"],
            "heart-rate variability samples (every 5 minutes during sleep)",
        )
        .fitbit_asked(FitbitOp::Samples("hrv", 30))
        .asked(GoogleOp::ListBySample(Page {
            days: 6,
            size: 5000,
        })),
    ),
    intraday(
        daily(
            "activity-level",
            Some("activity-level"),
            read(AF, false),
            None,
            &["activity_intraday"],
            "activity level per minute: sedentary, lightly, moderately or very active",
        )
        .asked(GoogleOp::ListByStart(Page {
            days: 6,
            size: 10_000,
        })),
    ),
    intraday(
        daily(
            "basal-energy-burned",
            Some("basal-energy-burned"),
            replacing(AF, false, Replace::Samples(&["basal_energy"])),
            None,
            &["basal_energy"],
            "energy burned at rest per interval, kcal (list only: Google refuses its rollups)",
        )
        .asked(GoogleOp::ListByStart(Page {
            days: 6,
            size: 10_000,
        })),
    ),
    intraday(
        daily(
            "active-energy-burned",
            Some("active-energy-burned"),
            replacing(AF, false, Replace::Samples(&["active_energy"])),
            None,
            &["active_energy"],
            "energy burned by activity per interval, kcal (intervals without any left out)",
        )
        .asked(GoogleOp::ListByStart(Page {
            days: 6,
            size: 10_000,
        })),
    ),
    intraday(
        daily(
            "floors",
            None,
            None,
            read("activity", false),
            ACTIVITY_INTRADAY,
            "floors per minute",
        )
        .fitbit_asked(FitbitOp::Intraday),
    ),
    intraday(
        daily(
            "elevation",
            Some("altitude"),
            read(AF, false),
            read("activity", false),
            ACTIVITY_INTRADAY,
            "elevation climbed per minute, m",
        )
        .fitbit_asked(FitbitOp::Intraday)
        .asked(GoogleOp::ListByStart(Page {
            days: 6,
            size: 10_000,
        })),
    ),
];

/// Scopes a person may well leave unticked (google-health-api.md §2.2: "Optional"): a
/// type they guard is left out with a warning when the grant lacks them, and the run
/// still succeeds; an unticked core scope fails the run with a hint.
pub const OPTIONAL_SCOPES: &[&str] = &["nutrition", "ecg", "irn", "location"];

/// The two APIs a data type may be read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// The Fitbit Web API.
    Fitbit,
    /// The Google Health API v4.
    Google,
}

/// Which device's sync makes a data type's days final (issue #23).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncedBy {
    /// Not device data (the profile, the device list itself).
    Nothing,
    /// The tracker: a scale's sync does not complete a day of activity.
    Tracker,
    /// Any device (weight and body fat come from a scale or the tracker's app).
    AnyDevice,
}

/// Tables a scale writes.
const SCALE_TABLES: &[&str] = &["weight_log", "body_fat_log"];

impl DataType {
    /// Which device's sync makes its days final: derived from the tables it fills.
    pub fn synced_by(&self) -> SyncedBy {
        if NOT_DATA_TYPES.contains(&self.name) {
            SyncedBy::Nothing
        } else if self.tables.iter().all(|t| SCALE_TABLES.contains(t)) {
            SyncedBy::AnyDevice
        } else {
            SyncedBy::Tracker
        }
    }

    /// How `api` reads it, if it does.
    pub const fn read_by(&self, api: Api) -> Option<Read> {
        match api {
            Api::Fitbit => self.fitbit,
            Api::Google => self.google,
        }
    }
}

/// The data type of `kind` named `name`.
pub fn get(kind: Kind, name: &str) -> Option<&'static DataType> {
    CATALOG.iter().find(|t| t.kind == kind && t.name == name)
}

/// Resources that are not a Google `dataType` (read from `users/me/...`).
pub const NOT_DATA_TYPES: &[&str] = &["profile", "devices"];

/// The data type whose Google union key (the camelCase `dataType`: `heartRate`,
/// `dailyRestingHeartRate`) is `key`: how an answer names what it holds.
pub fn by_google_key(key: &str) -> Option<&'static DataType> {
    CATALOG
        .iter()
        .find(|t| t.google_id.is_some_and(|id| is_camel_of(key, id)))
}

/// Whether `camel` is the camelCase of the kebab-case `kebab` (`heartRate`, `heart-rate`).
fn is_camel_of(camel: &str, kebab: &str) -> bool {
    let mut want = kebab.split('-').enumerate().flat_map(|(i, part)| {
        part.chars().enumerate().map(move |(j, c)| {
            if i > 0 && j == 0 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
    });
    let mut got = camel.chars();
    loop {
        match (want.next(), got.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

/// The names of the data types of `kind` that `api` reads (only its default set with
/// `defaults_only`), in catalog order.
pub fn names(api: Api, kind: Kind, defaults_only: bool) -> Vec<&'static str> {
    CATALOG
        .iter()
        .filter(|t| t.kind == kind)
        .filter(|t| t.read_by(api).is_some_and(|r| r.default || !defaults_only))
        .map(|t| t.name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // One row per name and kind; every row is read by some API, fills a table, and what
    // it replaces lies in the tables it fills.
    #[test]
    fn every_row_is_whole() {
        for (i, t) in CATALOG.iter().enumerate() {
            assert!(
                !CATALOG[..i]
                    .iter()
                    .any(|u| u.name == t.name && u.kind == t.kind),
                "`{}` twice",
                t.name
            );
            assert!(t.google.is_some() || t.fitbit.is_some(), "{}", t.name);
            assert!(!t.tables.is_empty(), "{}", t.name);
            assert_eq!(t.google.is_some(), t.google_op.is_some(), "{}", t.name);
            assert_eq!(t.fitbit.is_some(), t.fitbit_op.is_some(), "{}", t.name);
            // Intraday rows are asked a day (or a night's samples) at a time; daily ones not.
            let per_day = matches!(
                t.fitbit_op,
                Some(FitbitOp::Intraday | FitbitOp::Samples(..))
            );
            assert!(
                t.fitbit_op.is_none() || per_day == (t.kind == Kind::Intraday),
                "{}",
                t.name
            );
            assert_eq!(
                t.google.is_some(),
                t.google_id.is_some() || NOT_DATA_TYPES.contains(&t.name),
                "{}",
                t.name
            );
            for r in [t.google, t.fitbit].into_iter().flatten() {
                for table in r.replaces.tables() {
                    assert!(t.tables.contains(table), "{}: replaces {table}", t.name);
                }
            }
        }
        assert!(names(Api::Google, Kind::Daily, true).contains(&"sleep"));
        assert!(names(Api::Google, Kind::Daily, false).contains(&"exercise"));
        assert!(!names(Api::Google, Kind::Daily, true).contains(&"hrv"));
        assert!(names(Api::Fitbit, Kind::Intraday, false).contains(&"elevation"));
    }

    #[test]
    fn union_keys_are_the_camel_case_of_the_ids() {
        assert_eq!(
            by_google_key("heartRate").unwrap().google_id,
            Some("heart-rate")
        );
        assert_eq!(
            by_google_key("dailyRestingHeartRate").unwrap().name,
            "heart"
        );
        assert_eq!(by_google_key("totalCalories").unwrap().name, "calories");
        assert_eq!(by_google_key("bodyFat").unwrap().name, "body-fat");
        for no in [
            "heart-rate",
            "heartrate",
            "HeartRate",
            "heartRateX",
            "heart",
            "",
        ] {
            assert!(by_google_key(no).is_none(), "{no}");
        }
    }
}
