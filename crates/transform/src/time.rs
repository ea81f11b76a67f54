//! Local wall-clock times to UTC instants, with fitpipe's rules for DST change days.
//!
//! Fitbit sends offset-less local times ("All date and time related fields … are
//! rendered in the local time of the resource owner's timezone", reference/fitbit-web-api.md
//! §5). fitpipe converts them with the user's IANA zone (never the profile's *current*
//! offset, which is wrong across a DST change). Two kinds of wall time need a rule:
//!
//! * **Repeated** (the hour after a fall-back change occurs twice): a time maps to its
//!   first occurrence, unless the series it belongs to has already passed that instant
//!   (it is running through the repeated hour a second time); then to the second.
//! * **Skipped** (the hour a spring-forward change jumps over): no clock on the zone's
//!   rules shows it, so it came from a clock that had not changed yet; it maps with the
//!   offset in force just before the change (02:30 on a 02:00 to 03:00 jump is read as
//!   02:30 of the old offset, the instant the new clock calls 03:30).

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// Converts the local times of one ordered series (an intraday day, a sleep log) to UTC.
#[derive(Debug, Clone)]
pub struct SeriesClock {
    tz: Tz,
    last: Option<DateTime<Utc>>,
    /// A local quarter hour whose every time has one and the same offset (seconds east
    /// of UTC): zones change offsets on quarter hours, so its points need no lookup.
    quarter: Option<(i64, i64)>,
}

impl SeriesClock {
    /// A clock for a new series in zone `tz`.
    pub fn new(tz: Tz) -> Self {
        Self {
            tz,
            last: None,
            quarter: None,
        }
    }

    /// The UTC instant of the next local time of the series.
    pub fn to_utc(&mut self, local: NaiveDateTime) -> DateTime<Utc> {
        let secs = local.and_utc().timestamp();
        let q = secs.div_euclid(900);
        if self.quarter.map(|c| c.0) != Some(q) {
            self.quarter = self.plain_quarter(q);
        }
        if let Some((_, off)) = self.quarter {
            let t = (local - Duration::seconds(off)).and_utc();
            self.last = Some(t);
            return t;
        }
        let t = match self.tz.from_local_datetime(&local) {
            LocalResult::Single(t) => t.with_timezone(&Utc),
            LocalResult::Ambiguous(first, second) => {
                let first = first.with_timezone(&Utc);
                match self.last {
                    Some(last) if first <= last => second.with_timezone(&Utc),
                    _ => first,
                }
            }
            LocalResult::None => skipped_to_utc(self.tz, local),
        };
        self.last = Some(t);
        t
    }
}

impl SeriesClock {
    /// The offset of local quarter hour `q` if its first and last second map to one
    /// instant each with the same offset (no change inside it).
    fn plain_quarter(&self, q: i64) -> Option<(i64, i64)> {
        let at = |s: i64| -> Option<i64> {
            let local = DateTime::from_timestamp(s, 0)?.naive_utc();
            match self.tz.from_local_datetime(&local) {
                LocalResult::Single(t) => Some(t.offset().fix().local_minus_utc() as i64),
                _ => None,
            }
        };
        let (a, b) = (at(q * 900)?, at(q * 900 + 899)?);
        (a == b).then_some((q, a))
    }
}

/// The UTC instant of a single local time (a series of one).
pub fn local_to_utc(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    SeriesClock::new(tz).to_utc(local)
}

/// The offset (as a duration east of UTC) in force at `local`, resolved as [`local_to_utc`].
pub fn offset_at(tz: Tz, local: NaiveDateTime) -> Duration {
    local - local_to_utc(tz, local).naive_utc()
}

fn skipped_to_utc(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    // The offset in force a day before (no zone changes its offset twice within a day).
    let before = tz
        .offset_from_utc_datetime(&(local - Duration::days(1)))
        .fix();
    (local - Duration::seconds(i64::from(before.local_minus_utc()))).and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    // The quarter-hour cache gives the instants the zone lookup gives, point by point,
    // through every kind of change: an hour, half an hour (Lord Howe), quarter-hour zones
    // (Kathmandu, Chatham), both directions, minute and second series.
    #[test]
    fn the_quarter_hour_cache_agrees_with_a_lookup_per_point() {
        fn reference(tz: Tz, locals: &[NaiveDateTime]) -> Vec<DateTime<Utc>> {
            let mut last: Option<DateTime<Utc>> = None;
            locals
                .iter()
                .map(|l| {
                    let t = match tz.from_local_datetime(l) {
                        LocalResult::Single(t) => t.with_timezone(&Utc),
                        LocalResult::Ambiguous(a, b) => match last {
                            Some(x) if a.with_timezone(&Utc) <= x => b.with_timezone(&Utc),
                            _ => a.with_timezone(&Utc),
                        },
                        LocalResult::None => skipped_to_utc(tz, *l),
                    };
                    last = Some(t);
                    t
                })
                .collect()
        }
        let days = [
            ("America/New_York", "2026-03-08"),
            ("America/New_York", "2026-11-01"),
            ("Europe/London", "2026-10-25"),
            ("Australia/Lord_Howe", "2026-04-05"),
            ("Australia/Lord_Howe", "2026-10-04"),
            ("Asia/Kathmandu", "2026-06-01"),
            ("Pacific/Chatham", "2026-04-05"),
            ("Pacific/Chatham", "2026-09-27"),
        ];
        for (zone, day) in days {
            let tz: Tz = zone.parse().unwrap();
            let d: NaiveDate = day.parse().unwrap();
            for step in [1, 60] {
                // A day's wall clock, the repeated hour sent twice, as devices do.
                let mut locals: Vec<NaiveDateTime> = (0..86_400 / step)
                    .map(|i| d.and_hms_opt(0, 0, 0).unwrap() + Duration::seconds(i * step))
                    .collect();
                let repeated: Vec<NaiveDateTime> = locals
                    .iter()
                    .filter(|l| matches!(tz.from_local_datetime(l), LocalResult::Ambiguous(..)))
                    .copied()
                    .collect();
                if let Some(first) = repeated.first() {
                    let at = locals
                        .iter()
                        .position(|l| l > repeated.last().unwrap())
                        .unwrap();
                    locals.splice(at..at, repeated.iter().copied());
                    assert!(locals.contains(first));
                }
                let mut clock = SeriesClock::new(tz);
                let fast: Vec<_> = locals.iter().map(|l| clock.to_utc(*l)).collect();
                assert_eq!(fast, reference(tz, &locals), "{zone} {day} every {step} s");
            }
        }
    }

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap()
    }

    #[test]
    fn ordinary_times_use_the_zone_rules_not_a_fixed_offset() {
        let tz: Tz = "Europe/London".parse().unwrap();
        assert_eq!(
            local_to_utc(tz, t("2020-01-15 12:00:00")).to_rfc3339(),
            "2020-01-15T12:00:00+00:00"
        );
        assert_eq!(
            local_to_utc(tz, t("2020-07-15 12:00:00")).to_rfc3339(),
            "2020-07-15T11:00:00+00:00"
        );
    }

    #[test]
    fn skipped_spring_forward_time_uses_the_offset_before_the_change() {
        // America/New_York jumped from 02:00 EST to 03:00 EDT on 2021-03-14.
        let tz: Tz = "America/New_York".parse().unwrap();
        assert_eq!(
            local_to_utc(tz, t("2021-03-14 02:30:00")).to_rfc3339(),
            "2021-03-14T07:30:00+00:00"
        );
        assert_eq!(
            local_to_utc(tz, t("2021-03-14 03:30:00")).to_rfc3339(),
            "2021-03-14T07:30:00+00:00"
        );
        assert_eq!(
            local_to_utc(tz, t("2021-03-14 01:59:00")).to_rfc3339(),
            "2021-03-14T06:59:00+00:00"
        );
    }

    #[test]
    fn repeated_fall_back_hour_first_pass_then_second_pass() {
        // 2021-11-07 01:00-01:59 happened twice in New York (EDT, then EST).
        let tz: Tz = "America/New_York".parse().unwrap();
        let mut c = SeriesClock::new(tz);
        let day = NaiveDate::from_ymd_opt(2021, 11, 7).unwrap();
        let mut seen = Vec::new();
        for (h, m) in [(0, 59), (1, 0), (1, 59), (1, 0), (1, 59), (2, 0)] {
            seen.push(
                c.to_utc(day.and_hms_opt(h, m, 0).unwrap())
                    .format("%H:%M")
                    .to_string(),
            );
        }
        assert_eq!(seen, ["04:59", "05:00", "05:59", "06:00", "06:59", "07:00"]);
    }

    #[test]
    fn repeated_hour_seen_once_maps_to_first_occurrence() {
        let tz: Tz = "America/New_York".parse().unwrap();
        let mut c = SeriesClock::new(tz);
        let day = NaiveDate::from_ymd_opt(2021, 11, 7).unwrap();
        let a = c.to_utc(day.and_hms_opt(1, 30, 0).unwrap());
        let b = c.to_utc(day.and_hms_opt(2, 30, 0).unwrap());
        assert_eq!(a.format("%H:%M").to_string(), "05:30");
        assert_eq!(
            (b - a).num_minutes(),
            120,
            "02:30 EST is two hours after 01:30 EDT"
        );
    }

    #[test]
    fn offset_at_reports_the_resolved_offset() {
        let tz: Tz = "America/New_York".parse().unwrap();
        assert_eq!(offset_at(tz, t("2021-07-01 12:00:00")), Duration::hours(-4));
        assert_eq!(offset_at(tz, t("2021-03-14 02:30:00")), Duration::hours(-5));
    }
}
