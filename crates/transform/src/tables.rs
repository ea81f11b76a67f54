//! The tidy tables of ../shared/tables.md: one row type per table, owning its schema.
//!
//! Each table is declared once in [`tables!`]: its name, primary key, partition rule and
//! columns (with type and documentation). From that one declaration come the row struct,
//! a column builder that turns rows into an Arrow [`RecordBatch`], and the [`TableSpec`]
//! that `docs/schema.md` is generated from, so code, files and docs cannot drift apart.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// How a table's files are split on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionRule {
    /// One file for the whole table.
    None,
    /// One file per calendar year of the named DATE or timestamp column.
    Year(&'static str),
    /// One file per calendar month of the named DATE or timestamp column.
    Month(&'static str),
}

/// One column of a table, as documented in docs/schema.md.
#[derive(Debug, Clone, Copy)]
pub struct ColumnSpec {
    /// Column name.
    pub name: &'static str,
    /// The column kind (maps to one Arrow type).
    pub kind: Kind,
    /// What the column holds, with its unit and time rule.
    pub doc: &'static str,
}

/// The kinds of column a table can have; each maps to exactly one Arrow type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Non-null string (shared: one allocation serves every row of a run).
    Text,
    /// Nullable string.
    OptText,
    /// Non-null local calendar date.
    Day,
    /// Nullable local calendar date.
    OptDay,
    /// Nullable 64-bit count.
    Int,
    /// Nullable double measurement.
    Float,
    /// Nullable flag.
    Flag,
    /// Non-null flag (part of a key).
    FlagKey,
    /// Nullable instant in UTC.
    Utc,
    /// Non-null instant in UTC (part of a key).
    UtcKey,
    /// Nullable wall-clock time without zone.
    Local,
}

impl Kind {
    /// The Arrow type of this kind.
    pub fn data_type(self) -> DataType {
        match self {
            Kind::Text | Kind::OptText => DataType::Utf8,
            Kind::Day | Kind::OptDay => DataType::Date32,
            Kind::Int => DataType::Int64,
            Kind::Float => DataType::Float64,
            Kind::Flag | Kind::FlagKey => DataType::Boolean,
            Kind::Utc | Kind::UtcKey => {
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
            }
            Kind::Local => DataType::Timestamp(TimeUnit::Microsecond, None),
        }
    }

    /// Whether the column may hold nulls.
    pub fn nullable(self) -> bool {
        !matches!(self, Kind::Text | Kind::Day | Kind::FlagKey | Kind::UtcKey)
    }

    /// The type as DuckDB shows it after reading the Parquet file.
    pub fn sql_type(self) -> &'static str {
        match self {
            Kind::Text | Kind::OptText => "VARCHAR",
            Kind::Day | Kind::OptDay => "DATE",
            Kind::Int => "BIGINT",
            Kind::Float => "DOUBLE",
            Kind::Flag | Kind::FlagKey => "BOOLEAN",
            Kind::Utc | Kind::UtcKey => "TIMESTAMP WITH TIME ZONE",
            Kind::Local => "TIMESTAMP",
        }
    }
}

/// A table: name, key, partitioning and columns.
#[derive(Debug)]
pub struct TableSpec {
    /// Table (and folder) name.
    pub name: &'static str,
    /// What one row is, and the table's time rules.
    pub doc: &'static str,
    /// Primary key columns, unique in the dataset.
    pub key: &'static [&'static str],
    /// How the table is split into files.
    pub partition: PartitionRule,
    /// All columns, in file order.
    pub columns: &'static [ColumnSpec],
}

impl TableSpec {
    /// The Arrow schema of this table.
    pub fn schema(&self) -> SchemaRef {
        Arc::new(Schema::new(
            self.columns
                .iter()
                .map(|c| Field::new(c.name, c.kind.data_type(), c.kind.nullable()))
                .collect::<Vec<_>>(),
        ))
    }
}

pub(crate) fn date32(d: NaiveDate) -> i32 {
    // Days since 1970-01-01; every date a Fitbit source can produce fits in i32.
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid epoch")).num_days() as i32
}

fn micros_local(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp_micros()
}

// Per-kind glue used by the `tables!` macro: Rust type, builder type, builder
// construction and how a value is appended.
macro_rules! kind_ty {
    (Text) => { Arc<str> };
    (OptText) => { Option<String> };
    (Day) => { NaiveDate };
    (OptDay) => { Option<NaiveDate> };
    (Int) => { Option<i64> };
    (Float) => { Option<f64> };
    (Flag) => { Option<bool> };
    (FlagKey) => { bool };
    (Utc) => { Option<DateTime<Utc>> };
    (UtcKey) => { DateTime<Utc> };
    (Local) => { Option<NaiveDateTime> };
}

macro_rules! kind_builder {
    (Text) => {
        StringBuilder
    };
    (OptText) => {
        StringBuilder
    };
    (Day) => {
        Date32Builder
    };
    (OptDay) => {
        Date32Builder
    };
    (Int) => {
        Int64Builder
    };
    (Float) => {
        Float64Builder
    };
    (Flag) => {
        BooleanBuilder
    };
    (FlagKey) => {
        BooleanBuilder
    };
    (Utc) => {
        TimestampMicrosecondBuilder
    };
    (UtcKey) => {
        TimestampMicrosecondBuilder
    };
    (Local) => {
        TimestampMicrosecondBuilder
    };
}

macro_rules! kind_new {
    (Utc, $n:expr) => {
        TimestampMicrosecondBuilder::with_capacity($n).with_timezone("UTC")
    };
    (UtcKey, $n:expr) => {
        TimestampMicrosecondBuilder::with_capacity($n).with_timezone("UTC")
    };
    (Text, $n:expr) => {
        StringBuilder::with_capacity($n, $n * 8)
    };
    (OptText, $n:expr) => {
        StringBuilder::with_capacity($n, $n * 8)
    };
    ($k:ident, $n:expr) => {
        <kind_builder!($k)>::with_capacity($n)
    };
}

macro_rules! kind_push {
    (Text, $b:expr, $v:expr) => {
        $b.append_value($v)
    };
    (OptText, $b:expr, $v:expr) => {
        $b.append_option($v.as_deref())
    };
    (Day, $b:expr, $v:expr) => {
        $b.append_value(date32(*$v))
    };
    (OptDay, $b:expr, $v:expr) => {
        $b.append_option($v.map(date32))
    };
    (Int, $b:expr, $v:expr) => {
        $b.append_option(*$v)
    };
    (Float, $b:expr, $v:expr) => {
        $b.append_option(*$v)
    };
    (Flag, $b:expr, $v:expr) => {
        $b.append_option(*$v)
    };
    (FlagKey, $b:expr, $v:expr) => {
        $b.append_value(*$v)
    };
    (Utc, $b:expr, $v:expr) => {
        $b.append_option($v.map(|t| t.timestamp_micros()))
    };
    (UtcKey, $b:expr, $v:expr) => {
        $b.append_value($v.timestamp_micros())
    };
    (Local, $b:expr, $v:expr) => {
        $b.append_option($v.map(micros_local))
    };
}

macro_rules! tables {
    ($(
        $(#[doc = $tdoc:literal])+
        $row:ident / $field:ident => $name:literal,
        key [$($key:literal),+], partition $part:expr,
        { $( $(#[doc = $cdoc:literal])+ $col:ident : $kind:ident ),+ $(,)? }
    )+) => {
        $(
            $(#[doc = $tdoc])+
            #[derive(Debug, Clone, PartialEq)]
            pub struct $row {
                $( $(#[doc = $cdoc])+ pub $col: kind_ty!($kind), )+
            }

            impl $row {
                /// This table's declaration.
                pub const SPEC: TableSpec = TableSpec {
                    name: $name,
                    doc: concat!($($tdoc, "\n"),+),
                    key: &[$($key),+],
                    partition: $part,
                    columns: &[$( ColumnSpec {
                        name: stringify!($col),
                        kind: Kind::$kind,
                        doc: concat!($($cdoc, " "),+),
                    } ),+],
                };

                /// Turns rows into one Arrow batch with [`Self::SPEC`]'s schema.
                pub fn to_batch(rows: &[Self]) -> RecordBatch {
                    #[allow(non_snake_case)]
                    struct Builders { $( $col: kind_builder!($kind), )+ }
                    let n = rows.len();
                    let mut b = Builders { $( $col: kind_new!($kind, n), )+ };
                    for r in rows {
                        $( kind_push!($kind, b.$col, &r.$col); )+
                    }
                    let columns: Vec<ArrayRef> = vec![$( Arc::new(b.$col.finish()) ),+];
                    RecordBatch::try_new(Self::SPEC.schema(), columns)
                        .expect("builders follow the declared schema")
                }
            }
        )+

        /// Rows for every table, as produced by the normalisers.
        #[derive(Debug, Default, Clone, PartialEq)]
        pub struct RowSet {
            $( #[doc = concat!("Rows of `", $name, "`.")] pub $field: Vec<$row>, )+
        }

        impl RowSet {
            /// Appends all rows of `other`.
            pub fn extend(&mut self, other: RowSet) {
                $( self.$field.extend(other.$field); )+
            }

            /// Total number of rows over all tables.
            pub fn len(&self) -> usize {
                0 $( + self.$field.len() )+
            }

            /// Whether no table has a row.
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            /// One Arrow batch per table that has rows, in declaration order.
            pub fn batches(&self) -> Vec<(&'static TableSpec, RecordBatch)> {
                let mut out = Vec::new();
                $( if !self.$field.is_empty() {
                    out.push((&$row::SPEC, $row::to_batch(&self.$field)));
                } )+
                out
            }
        }

        /// Every table, in declaration order.
        pub static ALL_TABLES: &[&TableSpec] = &[$( &$row::SPEC ),+];
    };
}

tables! {
    /// One row per user and local calendar day: the day's totals. Each source fills the
    /// columns it has; the others stay null until a run that has them fills them.
    DailyActivity / daily_activity => "daily_activity",
    key ["user_id", "date"], partition PartitionRule::Year("date"),
    {
        /// Account the row belongs to (Fitbit encoded id, or `-`).
        user_id: Text,
        /// `fitbit-web-api`, `google-health` or `takeout`: who wrote the row last.
        source: Text,
        /// Local calendar day in the user's time zone.
        date: Day,
        /// Steps taken.
        steps: Int,
        /// Distance in kilometres.
        distance_km: Float,
        /// Floors climbed.
        floors: Int,
        /// Elevation climbed in metres.
        elevation_m: Float,
        /// Calories burned in kcal (total, including BMR).
        calories_kcal: Float,
        /// Minutes sedentary.
        minutes_sedentary: Int,
        /// Minutes lightly active.
        minutes_lightly_active: Int,
        /// Minutes fairly active.
        minutes_fairly_active: Int,
        /// Minutes very active.
        minutes_very_active: Int,
        /// Resting heart rate in beats per minute.
        resting_heart_rate_bpm: Float,
    }

    /// One row per user, local day and heart-rate zone: time and calories in the zone.
    HeartRateZone / heart_rate_zones => "heart_rate_zones",
    key ["user_id", "date", "zone"], partition PartitionRule::Year("date"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// Local calendar day.
        date: Day,
        /// Zone name as the source gives it (`Out of Range`, `Fat Burn`, `Cardio`, `Peak`, or a custom name).
        zone: Text,
        /// Lower bound of the zone in bpm.
        min_bpm: Float,
        /// Upper bound of the zone in bpm.
        max_bpm: Float,
        /// Minutes spent in the zone.
        minutes: Int,
        /// Calories burned in the zone, kcal.
        calories_kcal: Float,
        /// True for a user-defined custom zone.
        is_custom: Flag,
    }

    /// One row per sleep log (main sleep or nap). Times are the user's wall clock
    /// (`*_local`) and the instant (`*_utc`), derived from the user's IANA zone with the
    /// offset in force when the sleep started (see docs/schema.md, "Time rules").
    SleepSession / sleep_sessions => "sleep_sessions",
    key ["user_id", "log_id"], partition PartitionRule::Year("date_of_sleep"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// The source's id of the sleep log, as a string.
        log_id: Text,
        /// Local date the sleep ended.
        date_of_sleep: Day,
        /// Start of the sleep, UTC.
        start_utc: Utc,
        /// Start of the sleep, local wall clock.
        start_local: Local,
        /// End of the sleep, UTC.
        end_utc: Utc,
        /// End of the sleep, local wall clock.
        end_local: Local,
        /// True for the day's main sleep, false for naps.
        is_main_sleep: Flag,
        /// `stages` (deep/light/rem/wake) or `classic` (asleep/restless/awake).
        kind: Text,
        /// How the log was made: `auto_detected` or `manual`.
        log_type: OptText,
        /// Minutes in bed.
        minutes_in_bed: Int,
        /// Minutes asleep.
        minutes_asleep: Int,
        /// Minutes awake.
        minutes_awake: Int,
        /// Minutes to fall asleep.
        minutes_to_fall_asleep: Int,
        /// Minutes in bed after waking.
        minutes_after_wakeup: Int,
        /// Sleep efficiency in percent, as the source computes it.
        efficiency: Float,
        /// Minutes of deep sleep (stages logs).
        minutes_deep: Int,
        /// Minutes of light sleep (stages logs).
        minutes_light: Int,
        /// Minutes of REM sleep (stages logs).
        minutes_rem: Int,
        /// Minutes awake: `wake` of stages logs, `awake` of classic logs.
        minutes_wake: Int,
        /// Minutes restless (classic logs).
        minutes_restless: Int,
    }

    /// One row per sleep segment. Long segments (`is_short = false`) tile the session
    /// from start to end; short wakes (`is_short = true`) overlap them.
    SleepStage / sleep_stages => "sleep_stages",
    key ["user_id", "log_id", "start_utc", "is_short"], partition PartitionRule::Year("start_utc"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// The sleep log the segment belongs to.
        log_id: Text,
        /// Start of the segment, UTC.
        start_utc: UtcKey,
        /// Start of the segment, local wall clock.
        start_local: Local,
        /// Length of the segment in seconds.
        seconds: Int,
        /// Stage, lower case: deep, light, rem, wake, asleep, restless or awake.
        stage: Text,
        /// True for short wakes (Fitbit `shortData`, Google `shortAwakenings`).
        is_short: FlagKey,
    }

    /// One row per heart-rate sample (1-second or 1-minute detail).
    HeartRateIntraday / heart_rate_intraday => "heart_rate_intraday",
    key ["user_id", "time_utc"], partition PartitionRule::Month("time_utc"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// Time of the sample, UTC.
        time_utc: UtcKey,
        /// Time of the sample, local wall clock.
        time_local: Local,
        /// Heart rate in beats per minute.
        bpm: Float,
        /// Confidence of the reading (null where the source has none).
        confidence: Float,
        /// Detail level of the series the sample came from, in seconds (1 or 60).
        interval_seconds: Int,
    }

    /// One row per interval of an intraday activity series (1 or 15 minutes).
    ActivityIntraday / activity_intraday => "activity_intraday",
    key ["user_id", "time_utc"], partition PartitionRule::Month("time_utc"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// Start of the interval, UTC.
        time_utc: UtcKey,
        /// Start of the interval, local wall clock.
        time_local: Local,
        /// Steps in the interval.
        steps: Int,
        /// Calories burned in the interval, kcal.
        calories_kcal: Float,
        /// Distance in the interval, km.
        distance_km: Float,
        /// Floors climbed in the interval.
        floors: Int,
        /// Elevation climbed in the interval, metres (Fitbit `elevation`, Google `altitude`).
        elevation_m: Float,
        /// Activity level of the interval, 0 sedentary to 3 very active (Fitbit's calories
        /// series; Google `activity-level`, `SEDENTARY` to `VERY_ACTIVE`).
        activity_level: Int,
        /// Metabolic equivalent of the interval (calories series; Fitbit sends METs times 10, divided here).
        mets: Float,
        /// Length of the interval in seconds (60 or 900).
        interval_seconds: Int,
    }

    /// One row per user and local day: heart-rate variability during the main sleep
    /// (filed under the date the sleep ended).
    HrvDaily / hrv_daily => "hrv_daily",
    key ["user_id", "date"], partition PartitionRule::Year("date"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// Local calendar day (the day the sleep ended).
        date: Day,
        /// Root mean square of successive RR differences over the night, milliseconds.
        rmssd_ms: Float,
        /// RMSSD during deep sleep, milliseconds (API only).
        deep_rmssd_ms: Float,
        /// Heart rate during non-REM sleep, bpm (archives only).
        nrem_heart_rate_bpm: Float,
        /// Entropy of the RR intervals (archives only).
        entropy: Float,
    }

    /// One row per user and local day: blood oxygen saturation during the main sleep.
    Spo2Daily / spo2_daily => "spo2_daily",
    key ["user_id", "date"], partition PartitionRule::Year("date"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// Local calendar day (the day the sleep ended).
        date: Day,
        /// Average SpO2, percent.
        avg_percent: Float,
        /// Lowest SpO2, percent.
        min_percent: Float,
        /// Highest SpO2, percent.
        max_percent: Float,
    }

    /// One row per user and local day: breathing rate during the main sleep (filed under
    /// the date the sleep ended).
    BreathingRateDaily / breathing_rate_daily => "breathing_rate_daily",
    key ["user_id", "date"], partition PartitionRule::Year("date"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// Local calendar day (the day the sleep ended).
        date: Day,
        /// Breaths per minute over the night.
        breaths_per_minute: Float,
    }

    /// One row per user and night: the breathing rate of the main sleep that ended on the
    /// day, over the whole sleep and in each stage (Google `respiratory-rate-sleep-summary`,
    /// Fitbit's breathing-rate intraday answer). A stage without a figure is null.
    BreathingRateSleep / breathing_rate_sleep => "breathing_rate_sleep",
    key ["user_id", "date"], partition PartitionRule::Year("date"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// Local calendar day (the day the sleep ended).
        date: Day,
        /// When Google filed the summary (the sleep's end), UTC; null from Fitbit, which
        /// gives the day alone.
        time_utc: Utc,
        /// The same, local wall clock.
        time_local: Local,
        /// Breaths per minute over the whole sleep.
        full_sleep_breaths_per_minute: Float,
        /// Breaths per minute in deep sleep.
        deep_sleep_breaths_per_minute: Float,
        /// Breaths per minute in light sleep.
        light_sleep_breaths_per_minute: Float,
        /// Breaths per minute in REM sleep.
        rem_sleep_breaths_per_minute: Float,
        /// Standard deviation of the whole sleep's rate, breaths per minute (Google only).
        full_sleep_standard_deviation: Float,
        /// Standard deviation in deep sleep (Google only).
        deep_sleep_standard_deviation: Float,
        /// Standard deviation in light sleep (Google only).
        light_sleep_standard_deviation: Float,
        /// Standard deviation in REM sleep (Google only).
        rem_sleep_standard_deviation: Float,
        /// Signal-to-noise ratio of the whole sleep's measurement (Google only).
        full_sleep_signal_to_noise: Float,
        /// Signal-to-noise ratio in deep sleep (Google only).
        deep_sleep_signal_to_noise: Float,
        /// Signal-to-noise ratio in light sleep (Google only).
        light_sleep_signal_to_noise: Float,
        /// Signal-to-noise ratio in REM sleep (Google only).
        rem_sleep_signal_to_noise: Float,
    }

    /// One row per user and local day: active zone minutes, the credit a heart-rate zone
    /// gives (one a minute in fat burn, two a minute in cardio and peak).
    ActiveZoneMinutesDaily / active_zone_minutes_daily => "active_zone_minutes_daily",
    key ["user_id", "date"], partition PartitionRule::Year("date"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// Local calendar day.
        date: Day,
        /// Active zone minutes of the day, all zones.
        active_zone_minutes: Int,
        /// Active zone minutes earned in the fat-burn zone.
        fat_burn_active_zone_minutes: Int,
        /// Active zone minutes earned in the cardio zone (two per minute).
        cardio_active_zone_minutes: Int,
        /// Active zone minutes earned in the peak zone (two per minute).
        peak_active_zone_minutes: Int,
    }

    /// One row per user and local day: skin temperature during the main sleep (filed
    /// under the date the sleep ended).
    SkinTemperatureDaily / skin_temperature_daily => "skin_temperature_daily",
    key ["user_id", "date"], partition PartitionRule::Year("date"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// Local calendar day (the day the sleep ended).
        date: Day,
        /// Nightly skin temperature relative to the person's baseline, °C (Fitbit's
        /// `nightlyRelative`; Google: nightly minus baseline).
        relative_celsius: Float,
        /// Nightly skin temperature, °C (Google Health only).
        nightly_celsius: Float,
        /// The person's baseline skin temperature, °C (Google Health only).
        baseline_celsius: Float,
    }

    /// One row per user and local day: the cardio fitness score (VO2 max estimate).
    Vo2maxDaily / vo2max_daily => "vo2max_daily",
    key ["user_id", "date"], partition PartitionRule::Year("date"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// Local calendar day.
        date: Day,
        /// VO2 max in ml/kg/min (the middle of the range where the source gives a range).
        vo2max: Float,
        /// Lower end of the range the API gives (`"42-46"`), ml/kg/min.
        vo2max_low: Float,
        /// Upper end of that range, ml/kg/min.
        vo2max_high: Float,
        /// The estimate's error as the archive gives it, ml/kg/min.
        vo2max_error: Float,
        /// The fitness level Google files the score under, lower case (`poor`, `fair`,
        /// `average`, `good`, `very_good`, `excellent`); null at the other sources.
        cardio_fitness_level: OptText,
        /// True where Google marks the score an estimate (its confidence has fallen);
        /// null at the other sources.
        estimated: Flag,
    }

    /// One row per run VO2 max measurement: the estimate a run with GPS gives when it ends
    /// (Google `run-vo2-max`; the daily score is `vo2max_daily`).
    RunVo2max / run_vo2max => "run_vo2max",
    key ["user_id", "time_utc"], partition PartitionRule::Year("date"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// When it was measured, UTC.
        time_utc: UtcKey,
        /// When it was measured, local wall clock.
        time_local: Local,
        /// Local calendar day of the measurement.
        date: Day,
        /// VO2 max, ml/kg/min.
        vo2max: Float,
    }

    /// One row per VO2 max estimate (Google `vo2-max`): each with how it was made (a run
    /// with GPS, demographics, a fitness test); the daily score is `vo2max_daily`.
    Vo2maxLog / vo2max_log => "vo2max_log",
    key ["user_id", "time_utc"], partition PartitionRule::Year("date"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// When it was estimated, UTC.
        time_utc: UtcKey,
        /// When it was estimated, local wall clock.
        time_local: Local,
        /// Local calendar day of the estimate.
        date: Day,
        /// VO2 max, ml/kg/min.
        vo2max: Float,
        /// How it was made, lower case (`fitbit_run`, `google_demographic`, `cooper_test`,
        /// ...; null when unspecified).
        measurement_method: OptText,
    }

    /// One row per height entry (Google `height`: what people enter in the app).
    HeightLog / height_log => "height_log",
    key ["user_id", "time_utc"], partition PartitionRule::Year("date"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// When it was entered, UTC.
        time_utc: UtcKey,
        /// When it was entered, local wall clock.
        time_local: Local,
        /// Local calendar day of the entry.
        date: Day,
        /// Height, cm.
        height_cm: Float,
    }

    /// One row per body temperature reading (Google `core-body-temperature`: a
    /// thermometer's reading, logged by hand or by a connected app).
    BodyTemperatureLog / body_temperature_log => "body_temperature_log",
    key ["user_id", "time_utc"], partition PartitionRule::Year("date"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// When it was measured, UTC.
        time_utc: UtcKey,
        /// When it was measured, local wall clock.
        time_local: Local,
        /// Local calendar day of the reading.
        date: Day,
        /// Temperature, °C.
        temperature_celsius: Float,
        /// Where it was taken, lower case (`mouth`, `ear`, `forehead`, ...; null when
        /// unspecified).
        measurement_location: OptText,
    }

    /// One row per blood glucose reading (Google `blood-glucose`).
    BloodGlucoseLog / blood_glucose_log => "blood_glucose_log",
    key ["user_id", "time_utc"], partition PartitionRule::Year("date"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// When it was measured, UTC.
        time_utc: UtcKey,
        /// When it was measured, local wall clock.
        time_local: Local,
        /// Local calendar day of the reading.
        date: Day,
        /// Blood glucose, mg/dL.
        glucose_mg_dl: Float,
        /// Blood glucose, mmol/L (mg/dL divided by 18.016, glucose's molar mass over 10).
        glucose_mmol_l: Float,
        /// When it was taken, lower case (`fasting`, `before_meal`, `after_meal`, ...).
        measurement_timing: OptText,
        /// The meal it relates to, lower case (`breakfast`, ... `snack`).
        meal_type: OptText,
        /// The specimen, lower case (`capillary_blood`, `interstitial_fluid`, ...).
        specimen: OptText,
        /// How it was measured, lower case (`self_monitoring_blood_glucose`,
        /// `continuous_glucose_monitoring`, `lab_test`).
        measurement_source: OptText,
    }

    /// One row per drink people log (Google `hydration-log`).
    HydrationLog / hydration_log => "hydration_log",
    key ["user_id", "log_id"], partition PartitionRule::Year("date"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// The log's id (Google data point id).
        log_id: Text,
        /// Local calendar day it was logged for.
        date: Day,
        /// When it was drunk, UTC.
        start_utc: Utc,
        /// When it was drunk, local wall clock.
        start_local: Local,
        /// How much, ml.
        amount_ml: Float,
        /// The unit it was entered in, lower case (`milliliter`, `cup_us`,
        /// `fluid_ounce_us`, ...; null when unspecified).
        entered_unit: OptText,
    }

    /// One row per food people log (Google `nutrition-log`): what, when, how much, and the
    /// main figures; every nutrient is in `nutrition_nutrients`.
    NutritionLog / nutrition_log => "nutrition_log",
    key ["user_id", "log_id"], partition PartitionRule::Year("date"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// The log's id (Google data point id).
        log_id: Text,
        /// Local calendar day it was logged for.
        date: Day,
        /// When it was eaten, UTC.
        start_utc: Utc,
        /// When it was eaten, local wall clock.
        start_local: Local,
        /// The meal, lower case (`breakfast`, `lunch`, `dinner`, `snack`, `anytime`, ...;
        /// null when unspecified).
        meal_type: OptText,
        /// The food as the app names it.
        food_name: OptText,
        /// The food's resource name at Google (`users/me/dataTypes/food/dataPoints/...`).
        food_id: OptText,
        /// Servings eaten, in `serving_unit`.
        serving_amount: Float,
        /// The serving's unit as the app names it (`cup`, `slice`, `g`).
        serving_unit: OptText,
        /// The unit's resource name (`food_units.unit_id`).
        serving_unit_id: OptText,
        /// Energy, kcal.
        calories_kcal: Float,
        /// Energy from fat, kcal.
        calories_from_fat_kcal: Float,
        /// Total carbohydrate, g.
        carbohydrate_g: Float,
        /// Total fat, g.
        fat_g: Float,
        /// Protein, g (the `protein` row of `nutrition_nutrients`).
        protein_g: Float,
    }

    /// One row per food in the person's food catalogue (Google `food`): what a
    /// `nutrition_log` row's `food_id` names, its figures per serving.
    Food / foods => "foods",
    key ["user_id", "food_id"], partition PartitionRule::None,
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// The food's resource name (`nutrition_log.food_id`).
        food_id: Text,
        /// As the app names it.
        food_name: OptText,
        /// The brand, where it has one.
        brand: OptText,
        /// Who sees it, lower case (`food_access_level_public`, `..._private`).
        access_level: OptText,
        /// The default serving's amount, in `serving_unit`.
        serving_amount: Float,
        /// The default serving's unit as the app names it.
        serving_unit: OptText,
        /// The unit's resource name (`food_units.unit_id`).
        serving_unit_id: OptText,
        /// Energy per default serving, kcal (the average where the food gives a range).
        calories_kcal: Float,
        /// Energy from fat per default serving, kcal.
        calories_from_fat_kcal: Float,
        /// Total carbohydrate per default serving, g.
        carbohydrate_g: Float,
        /// Total fat per default serving, g.
        fat_g: Float,
        /// Protein per default serving, g.
        protein_g: Float,
    }

    /// One row per unit servings are measured in (Google `food-measurement-unit`).
    FoodUnit / food_units => "food_units",
    key ["user_id", "unit_id"], partition PartitionRule::None,
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// The unit's resource name (`foods.serving_unit_id`, `nutrition_log.serving_unit_id`).
        unit_id: Text,
        /// Its name for one (`cup`).
        display_name: OptText,
        /// Its name for several (`cups`).
        plural_display_name: OptText,
    }

    /// One row per nutrient of a logged food (Google `nutrition-log` `nutrients`): long
    /// form, so every nutrient the app knows has a place.
    NutritionNutrient / nutrition_nutrients => "nutrition_nutrients",
    key ["user_id", "log_id", "nutrient"], partition PartitionRule::Year("date"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// The food log it belongs to (`nutrition_log.log_id`).
        log_id: Text,
        /// Local calendar day of the log.
        date: Day,
        /// The nutrient, lower case (`protein`, `dietary_fiber`, `sodium`, `vitamin_c`, ...).
        nutrient: Text,
        /// How much, g (milligrams and micrograms are grams here too: 0.0023 is 2.3 mg).
        grams: Float,
    }

    /// One row per weight log entry.
    WeightLog / weight_log => "weight_log",
    key ["user_id", "log_id"], partition PartitionRule::Year("date"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// The source's id of the log entry.
        log_id: Text,
        /// Local calendar day of the entry.
        date: Day,
        /// When it was logged, local wall clock.
        time_local: Local,
        /// When it was logged, UTC.
        time_utc: Utc,
        /// Weight in kilograms.
        weight_kg: Float,
        /// Body mass index.
        bmi: Float,
        /// Body fat in percent, where measured.
        fat_percent: Float,
        /// What made the entry (`API`, `Aria`, ...).
        log_source: OptText,
    }

    /// One row per point of an exercise's GPS route (TCX Trackpoints: Google
    /// `exportExerciseTcx`, the Fitbit Web API's TCX, Takeout `.tcx` files); fetched only
    /// when asked for (it needs the location scope).
    ExerciseRoute / exercise_route => "exercise_route",
    key ["user_id", "exercise_id", "time_utc"], partition PartitionRule::Year("date"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// The exercise (`exercise_sessions.exercise_id`; its start in RFC 3339 where the
        /// session was not read with the route).
        exercise_id: Text,
        /// Local calendar day the exercise started.
        date: Day,
        /// When the exercise started, UTC (the TCX Activity's Id).
        session_start_utc: Utc,
        /// When the point was recorded, UTC.
        time_utc: UtcKey,
        /// When the point was recorded, local wall clock.
        time_local: Local,
        /// Degrees north (null where the GPS had no fix).
        latitude: Float,
        /// Degrees east.
        longitude: Float,
        /// Height above the sea, m.
        altitude_m: Float,
        /// Distance since the start, km (cumulative).
        distance_km: Float,
        /// Heart rate at the point, bpm.
        heart_rate_bpm: Int,
    }

    /// One row per ECG reading taken on the watch (Google `electrocardiogram`); its samples
    /// are in `ecg_waveform`.
    EcgReading / ecg_readings => "ecg_readings",
    key ["user_id", "reading_id"], partition PartitionRule::Year("date"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// The reading's id (Google data point id).
        reading_id: Text,
        /// Local calendar day it was taken.
        date: Day,
        /// When it started, UTC.
        start_utc: Utc,
        /// When it started, local wall clock.
        start_local: Local,
        /// When it ended, UTC.
        end_utc: Utc,
        /// When it ended, local wall clock.
        end_local: Local,
        /// The result, lower case (`normal_sinus_rhythm`, `atrial_fibrillation`,
        /// `inconclusive`, `inconclusive_high_heart_rate`, ...; null when unspecified).
        result_classification: OptText,
        /// Average heart rate over the reading, bpm.
        avg_heart_rate_bpm: Int,
        /// The lead recorded (1: lead I).
        lead_number: Int,
        /// Samples per second.
        sampling_frequency_hz: Int,
        /// Waveform units per millivolt (`ecg_waveform.raw` divided by it is mV).
        millivolts_scaling_factor: Int,
        /// How many waveform samples the reading has.
        sample_count: Int,
        /// The device's model.
        device_model: OptText,
        /// The ECG algorithm's version.
        algorithm_version: OptText,
    }

    /// One row per ECG waveform sample (Google `electrocardiogram.waveformSamples`): its
    /// place in the reading, its instant and its voltage.
    EcgSample / ecg_waveform => "ecg_waveform",
    key ["user_id", "reading_id", "time_utc"], partition PartitionRule::Year("date"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// The reading it belongs to (`ecg_readings.reading_id`).
        reading_id: Text,
        /// Local calendar day of the reading.
        date: Day,
        /// Position in the reading, from 0.
        sample_index: Int,
        /// The sample's instant (the reading's start plus index / frequency), UTC.
        time_utc: UtcKey,
        /// The sample as recorded (device units).
        raw: Int,
        /// The sample in millivolts (raw / the reading's scaling factor).
        millivolts: Float,
    }

    /// One row per irregular-rhythm notification (Google `irregular-rhythm-notification`:
    /// the watch saw signs of atrial fibrillation); its windows are in
    /// `irregular_rhythm_windows`.
    IrregularRhythmNotification / irregular_rhythm_notifications => "irregular_rhythm_notifications",
    key ["user_id", "notification_id"], partition PartitionRule::Year("date"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// The notification's id (Google data point id).
        notification_id: Text,
        /// Local calendar day the first window started.
        date: Day,
        /// When the first window started, UTC.
        start_utc: Utc,
        /// When the first window started, local wall clock.
        start_local: Local,
        /// When the last window ended, UTC.
        end_utc: Utc,
        /// When the last window ended, local wall clock.
        end_local: Local,
        /// How many windows were analysed.
        windows: Int,
        /// How many of them were positive (irregular).
        positive_windows: Int,
        /// The device's model.
        device_model: OptText,
        /// The algorithm's version.
        algorithm_version: OptText,
    }

    /// One row per window of heart beats behind a notification.
    IrregularRhythmWindow / irregular_rhythm_windows => "irregular_rhythm_windows",
    key ["user_id", "notification_id", "start_utc"], partition PartitionRule::Year("date"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// The notification it belongs to.
        notification_id: Text,
        /// Local calendar day the window started.
        date: Day,
        /// When the window started, UTC.
        start_utc: UtcKey,
        /// When the window started, local wall clock.
        start_local: Local,
        /// When the window ended, UTC.
        end_utc: Utc,
        /// When the window ended, local wall clock.
        end_local: Local,
        /// Whether the window was irregular.
        positive: Flag,
        /// How many heart beats the window lists.
        beats: Int,
        /// Their mean heart rate, bpm.
        avg_heart_rate_bpm: Float,
    }

    /// One row per interval of basal energy (Google `basal-energy-burned`: the energy
    /// burned at rest, the part of `calories_kcal` that is not activity).
    BasalEnergy / basal_energy => "basal_energy",
    key ["user_id", "time_utc"], partition PartitionRule::Month("time_utc"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// Start of the interval, UTC.
        time_utc: UtcKey,
        /// Start of the interval, local wall clock.
        time_local: Local,
        /// Length of the interval, seconds.
        interval_seconds: Int,
        /// Energy burned at rest in the interval, kcal.
        calories_kcal: Float,
    }

    /// One row per interval with energy burned by activity (Google `active-energy-burned`):
    /// with `basal_energy`, the interval's total; an interval without activity has no
    /// row.
    ActiveEnergy / active_energy => "active_energy",
    key ["user_id", "time_utc"], partition PartitionRule::Month("time_utc"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// Start of the interval, UTC.
        time_utc: UtcKey,
        /// Start of the interval, local wall clock.
        time_local: Local,
        /// Length of the interval, seconds.
        interval_seconds: Int,
        /// Energy burned by activity in the interval, kcal.
        calories_kcal: Float,
    }

    /// One row per exercise session (a run, walk, ride or swim, recorded or logged).
    ExerciseSession / exercise_sessions => "exercise_sessions",
    key ["user_id", "exercise_id"], partition PartitionRule::Year("date"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// The source's id of the session (Google data point id, Fitbit `logId`).
        exercise_id: Text,
        /// Local calendar day the session started.
        date: Day,
        /// Start of the session, UTC.
        start_utc: Utc,
        /// Start of the session, local wall clock.
        start_local: Local,
        /// End of the session, UTC.
        end_utc: Utc,
        /// End of the session, local wall clock.
        end_local: Local,
        /// Kind of exercise, lower case (Google's enum: `running`, `walking`, `biking`, ...;
        /// Fitbit names mapped where the mapping is certain, else null).
        exercise_type: OptText,
        /// The session's name as the source gives it (`Morning run`, `Walk`).
        display_name: OptText,
        /// Seconds of activity (pauses left out).
        active_seconds: Int,
        /// Energy burned in the session, kcal.
        calories_kcal: Float,
        /// Distance, km (null where the source has none: Google often omits it).
        distance_km: Float,
        /// Steps in the session.
        steps: Int,
        /// Average heart rate, bpm.
        avg_heart_rate_bpm: Float,
        /// Active zone minutes earned in the session.
        active_zone_minutes: Int,
        /// True when the session has a GPS route (fetched into `exercise_route` on request).
        has_gps: Flag,
        /// How the session was made: `auto_detected`, `manual` or `tracker` (recorded on
        /// the device).
        log_type: OptText,
    }

    /// One row per SpO2 sample: blood oxygen saturation, mostly during sleep.
    Spo2Intraday / spo2_intraday => "spo2_intraday",
    key ["user_id", "time_utc"], partition PartitionRule::Month("time_utc"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// Time of the sample, UTC.
        time_utc: UtcKey,
        /// Time of the sample, local wall clock.
        time_local: Local,
        /// Oxygen saturation, percent (Fitbit: a 5-minute moving average).
        percent: Float,
    }

    /// One row per heart-rate variability sample (every 5 minutes during sleep).
    HrvIntraday / hrv_intraday => "hrv_intraday",
    key ["user_id", "time_utc"], partition PartitionRule::Month("time_utc"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// Time of the sample, UTC.
        time_utc: UtcKey,
        /// Time of the sample, local wall clock.
        time_local: Local,
        /// Root mean square of successive RR differences, milliseconds.
        rmssd_ms: Float,
        /// Share of the 5 minutes with good data, 0 to 1 (Fitbit only).
        coverage: Float,
        /// High-frequency power, ms² (Fitbit `hf`, Google `highFrequencyPower`).
        hf_power: Float,
        /// Low-frequency power, ms² (Fitbit `lf`, Google `lowFrequencyPower`).
        lf_power: Float,
    }

    /// One row per sedentary period: a spell of sitting still while awake, as the source
    /// detected it (Google `sedentary-period`).
    SedentaryPeriod / sedentary_periods => "sedentary_periods",
    key ["user_id", "start_utc"], partition PartitionRule::Year("date"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// Local calendar day the period started.
        date: Day,
        /// Start of the period, UTC.
        start_utc: UtcKey,
        /// Start of the period, local wall clock.
        start_local: Local,
        /// End of the period, UTC.
        end_utc: Utc,
        /// End of the period, local wall clock.
        end_local: Local,
        /// Length of the period, seconds (from the instants, so right across a DST change).
        duration_seconds: Int,
    }

    /// One row per length of a pool swum (Google `swim-lengths-data`): when, how long,
    /// the stroke and the strokes counted. A swim's session is the `exercise_sessions` row
    /// whose span holds its lengths.
    SwimLength / swim_lengths => "swim_lengths",
    key ["user_id", "start_utc"], partition PartitionRule::Year("date"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// Local calendar day the length started.
        date: Day,
        /// Start of the length, UTC.
        start_utc: UtcKey,
        /// Start of the length, local wall clock.
        start_local: Local,
        /// End of the length, UTC.
        end_utc: Utc,
        /// End of the length, local wall clock.
        end_local: Local,
        /// Time the length took, seconds (the turn included).
        duration_seconds: Int,
        /// Stroke, lower case (`freestyle`, `breaststroke`, `backstroke`, `butterfly`; null
        /// when unspecified).
        stroke_type: OptText,
        /// Strokes counted in the length.
        stroke_count: Int,
    }

    /// One row per body-fat measurement (a smart scale, or logged by hand).
    BodyFatLog / body_fat_log => "body_fat_log",
    key ["user_id", "time_utc"], partition PartitionRule::Year("date"),
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// When it was measured, UTC.
        time_utc: UtcKey,
        /// When it was measured, local wall clock.
        time_local: Local,
        /// Local calendar day of the measurement.
        date: Day,
        /// Body fat, percent.
        fat_percent: Float,
        /// What made the entry (`Aria`, `API`, Google's platform).
        log_source: OptText,
    }

    /// One row per device paired with the account, as last read: a tracker's last sync
    /// says which days are final (a day is complete once a tracker synced after it ended).
    /// No MAC address is kept.
    Device / devices => "devices",
    key ["user_id", "device_id"], partition PartitionRule::None,
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// The source's id of the device.
        device_id: Text,
        /// `tracker` (a watch or band) or `scale`, lower case.
        device_type: OptText,
        /// The product (`Charge 6`, `Pixel Watch 3`, `Aria Air`).
        device_version: OptText,
        /// Battery level, percent (null where the source has none).
        battery_level: Int,
        /// Battery as the source words it, lower case (`high`, `medium`, `low`, `empty`).
        battery_status: OptText,
        /// When the device last synced, UTC.
        last_sync_utc: Utc,
        /// When the device last synced, the account's wall clock.
        last_sync_local: Local,
        /// When fitpipe read this (the request time; file time for imports), UTC.
        seen_utc: Utc,
    }

    /// One row per user and local day: how far the day can be trusted. Derived from the
    /// other tables (never fetched), recomputed at the end of every run and by `rebuild`:
    /// wear minutes from `heart_rate_intraday` where it has samples that day, else from the
    /// minutes of `heart_rate_zones` (Fitbit's zones, Out of Range included, count the
    /// minutes with heart rate); complete once a tracker synced after the day ended and the
    /// day was fetched again after that sync; valid under the valid-day rule.
    DayQuality / day_quality => "day_quality",
    key ["user_id", "date"], partition PartitionRule::None,
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source of the rows the day's wear was counted from.
        source: Text,
        /// Local calendar day.
        date: Day,
        /// Minutes of the day with at least one heart-rate sample (null: no heart rate
        /// fetched for the day, so wear is unknown).
        wear_minutes: Int,
        /// Where the wear minutes come from: `heart_rate_intraday` or `heart_rate_zones`.
        wear_source: OptText,
        /// The latest tracker sync fitpipe knew of (a scale's sync does not count), UTC;
        /// null without a device list.
        synced_through_utc: Utc,
        /// True once a tracker synced after the day ended in the account's time zone and
        /// the day was fetched after that sync: its numbers are final. Null without a
        /// device list.
        complete: Flag,
        /// The valid-day rule: `wear_minutes >= valid_day_minutes` (null where wear is
        /// unknown).
        valid: Flag,
        /// The rule's threshold the row was computed with (600 unless set by
        /// `--valid-day-minutes` or the study file).
        valid_day_minutes: Int,
    }

    /// One row per user: the account's profile as last seen.
    Profile / profile => "profile",
    key ["user_id"], partition PartitionRule::None,
    {
        /// Account the row belongs to.
        user_id: Text,
        /// Source that wrote the row last.
        source: Text,
        /// IANA time zone name of the account (e.g. `Europe/London`).
        timezone: OptText,
        /// UTC offset of the zone when the profile was read, minutes.
        utc_offset_minutes: Int,
        /// Display name.
        display_name: OptText,
        /// Date the account was created.
        member_since: OptDay,
        /// When this profile was read (file time for imports, request time for ingests), UTC.
        updated_utc: Utc,
        /// The account's Fitbit user id (the encoded id of the Fitbit Web API). Google
        /// Health rows are keyed by the `healthUserId`; this column joins them to the
        /// same person's Fitbit-era rows (`user_id = legacy_user_id`).
        legacy_user_id: OptText,
    }
}

/// Every cell of a batch as text, row by row (for tests' `contains` checks).
#[cfg(test)]
pub(crate) fn cells_text(b: &arrow::record_batch::RecordBatch) -> String {
    use arrow::util::display::{ArrayFormatter, FormatOptions};
    let opts = FormatOptions::default();
    let fmts: Vec<ArrayFormatter> = b
        .columns()
        .iter()
        .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts).unwrap())
        .collect();
    (0..b.num_rows())
        .map(|i| {
            fmts.iter()
                .map(|f| f.value(i).to_string())
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_column_exists_and_is_not_nullable() {
        for t in ALL_TABLES {
            for k in t.key {
                let c = t
                    .columns
                    .iter()
                    .find(|c| c.name == *k)
                    .unwrap_or_else(|| panic!("{}: key column {k} missing", t.name));
                assert!(!c.kind.nullable(), "{}.{k} is a key but nullable", t.name);
            }
            assert_eq!(t.columns[0].name, "user_id");
            assert_eq!(t.columns[1].name, "source");
        }
    }

    #[test]
    fn batch_has_declared_schema_and_values() {
        let d = NaiveDate::from_ymd_opt(2020, 4, 12).unwrap();
        let rows = vec![DailyActivity {
            user_id: "U".into(),
            source: "fitbit-web-api".into(),
            date: d,
            steps: Some(5007),
            distance_km: None,
            floors: None,
            elevation_m: None,
            calories_kcal: Some(2000.5),
            minutes_sedentary: None,
            minutes_lightly_active: None,
            minutes_fairly_active: None,
            minutes_very_active: None,
            resting_heart_rate_bpm: None,
        }];
        let b = DailyActivity::to_batch(&rows);
        assert_eq!(b.schema(), DailyActivity::SPEC.schema());
        assert_eq!(b.num_rows(), 1);
        let text = crate::tables::cells_text(&b);
        assert!(text.contains("2020-04-12"), "{text}");
        assert!(text.contains("5007"), "{text}");
    }
}
