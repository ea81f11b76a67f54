//! The Fitbit Web API provider: OAuth endpoints, scopes, resources and how a date range
//! becomes the fewest requests the documented maximum ranges allow
//! (reference/fitbit-web-api.md §3).

use chrono::{Duration, NaiveDate};

/// The `source` and provider name.
pub const PROVIDER: &str = "fitbit-web-api";

/// Scopes fitpipe asks for (`respiratory_rate` and `temperature` for breathing rate and
/// skin temperature).
pub const SCOPES: &[&str] = &[
    "activity",
    "heartrate",
    "sleep",
    "profile",
    "settings",
    "respiratory_rate",
    "temperature",
];

/// OAuth endpoints relative to a base (`https://api.fitbit.com` in production; the
/// authorize page lives on www.fitbit.com there, on the same base in the simulator).
pub fn endpoints(base: &str) -> (String, String, String) {
    let base = base.trim_end_matches('/');
    if base == "https://api.fitbit.com" {
        (
            "https://www.fitbit.com/oauth2/authorize".into(),
            format!("{base}/oauth2/token"),
            format!("{base}/oauth2/revoke"),
        )
    } else {
        (
            format!("{base}/oauth2/authorize"),
            format!("{base}/oauth2/token"),
            format!("{base}/oauth2/revoke"),
        )
    }
}

/// Something fitpipe can fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// A daily activity series (`steps`, `minutesSedentary`, ...): API name.
    Series(&'static str),
    /// Heart-rate time series (resting rate, zones).
    Heart,
    /// Sleep logs v1.2.
    Sleep,
    /// The profile (time zone).
    Profile,
    /// An intraday series, one day per request: API resource and detail level.
    Intraday(&'static str, &'static str),
    /// A daily summary read by date range (one of [`DAILY`]), by name.
    Daily(&'static str),
}

/// Daily summaries read by date range: `--resources` name, the path between the user and
/// `/date/`, and the maximum days a request covers (fitbit-web-api.md §3).
pub const DAILY: &[(&str, &str, i64)] = &[
    // "Maximum range: 30 days" (jpstroop; UNCONFIRMED for the summary page).
    ("breathing-rate", "br", 30),
    // AZM time series: 1095 days.
    (
        "active-zone-minutes",
        "activities/active-zone-minutes",
        1095,
    ),
    // "the maximum date range cannot exceed 30 days" (the Swagger file).
    ("skin-temperature", "temp/skin", 30),
];

const SERIES: &[(&str, &str)] = &[
    ("steps", "steps"),
    ("calories", "calories"),
    ("distance", "distance"),
    ("floors", "floors"),
    ("elevation", "elevation"),
    ("sedentary", "minutesSedentary"),
    ("lightly-active", "minutesLightlyActive"),
    ("fairly-active", "minutesFairlyActive"),
    ("very-active", "minutesVeryActive"),
];

/// The default daily set: activity series, heart, sleep, profile.
pub const DEFAULT_RESOURCES: &[&str] = &[
    "profile",
    "steps",
    "calories",
    "distance",
    "floors",
    "sedentary",
    "lightly-active",
    "fairly-active",
    "very-active",
    "heart",
    "sleep",
];

/// Names accepted by `--resources`.
pub const RESOURCE_NAMES: &[&str] = &[
    "profile",
    "steps",
    "calories",
    "distance",
    "floors",
    "elevation",
    "sedentary",
    "lightly-active",
    "fairly-active",
    "very-active",
    "heart",
    "sleep",
    "breathing-rate",
    "active-zone-minutes",
    "skin-temperature",
];

/// Names accepted by `--intraday` (`heart` may take `:1sec`).
pub const INTRADAY_NAMES: &[&str] = &[
    "heart",
    "steps",
    "calories",
    "distance",
    "floors",
    "elevation",
];

impl Resource {
    /// Parses a `--resources` name.
    pub fn parse(name: &str) -> Option<Resource> {
        match name {
            "heart" => Some(Resource::Heart),
            "sleep" => Some(Resource::Sleep),
            "profile" => Some(Resource::Profile),
            n if DAILY.iter().any(|d| d.0 == n) => DAILY
                .iter()
                .find(|d| d.0 == n)
                .map(|d| Resource::Daily(d.0)),
            n => SERIES
                .iter()
                .find(|(k, _)| *k == n)
                .map(|(_, api)| Resource::Series(api)),
        }
    }

    /// Parses an `--intraday` name (`heart`, `heart:1sec`, `steps`, `steps:15min`).
    pub fn parse_intraday(spec: &str) -> Option<Resource> {
        let (name, detail) = spec.split_once(':').unwrap_or((spec, "1min"));
        let detail = ["1sec", "1min", "15min"]
            .into_iter()
            .find(|d| *d == detail)?;
        if detail == "1sec" && name != "heart" {
            return None;
        }
        let api = INTRADAY_NAMES.iter().find(|n| **n == name)?;
        Some(Resource::Intraday(api, detail))
    }

    /// A stable name for state, raw files and progress (`steps`, `intraday-heart-1min`).
    pub fn key(&self) -> String {
        match self {
            Resource::Series(api) => SERIES
                .iter()
                .find(|(_, a)| a == api)
                .map_or(*api, |(k, _)| k)
                .to_string(),
            Resource::Heart => "heart".into(),
            Resource::Sleep => "sleep".into(),
            Resource::Profile => "profile".into(),
            Resource::Intraday(r, d) => format!("intraday-{r}-{d}"),
            Resource::Daily(name) => (*name).to_string(),
        }
    }

    /// Most days one request may cover.
    pub fn max_days(&self) -> i64 {
        match self {
            // "1095 days" for the activity series (§3 table).
            Resource::Series(_) => 1095,
            // "Maximum range: 1 year"; 365 days is a year in every calendar year.
            Resource::Heart => 365,
            // "Maximum range: 100 days".
            Resource::Sleep => 100,
            // "Maximum range: 24 hours".
            Resource::Intraday(..) => 1,
            Resource::Profile => i64::MAX,
            Resource::Daily(name) => DAILY.iter().find(|d| d.0 == *name).map_or(30, |d| d.2),
        }
    }

    /// The request path for one window.
    pub fn path(&self, start: NaiveDate, end: NaiveDate) -> String {
        match self {
            Resource::Series(api) => format!("/1/user/-/activities/{api}/date/{start}/{end}.json"),
            Resource::Heart => format!("/1/user/-/activities/heart/date/{start}/{end}.json"),
            Resource::Sleep => format!("/1.2/user/-/sleep/date/{start}/{end}.json"),
            Resource::Profile => "/1/user/-/profile.json".into(),
            Resource::Intraday(r, d) => {
                format!("/1/user/-/activities/{r}/date/{start}/1d/{d}.json")
            }
            Resource::Daily(name) => {
                let seg = DAILY.iter().find(|d| d.0 == *name).map_or("", |d| d.1);
                format!("/1/user/-/{seg}/date/{start}/{end}.json")
            }
        }
    }
}

/// One planned request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// First day covered.
    pub start: NaiveDate,
    /// Last day covered.
    pub end: NaiveDate,
    /// Path to GET.
    pub path: String,
}

/// The fewest requests that cover `from..=to` for a resource.
pub fn plan(r: &Resource, from: NaiveDate, to: NaiveDate) -> Vec<Window> {
    if *r == Resource::Profile {
        return vec![Window {
            start: to,
            end: to,
            path: r.path(to, to),
        }];
    }
    let mut out = Vec::new();
    let mut start = from;
    while start <= to {
        let end = (start + Duration::days(r.max_days() - 1)).min(to);
        out.push(Window {
            start,
            end,
            path: r.path(start, end),
        });
        start = end + Duration::days(1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn windows_are_as_large_as_allowed_and_cover_every_day_once() {
        for (res, days, want) in [
            ("steps", 1095, 1),
            ("steps", 1096, 2),
            ("heart", 365, 1),
            ("heart", 366, 2),
            ("sleep", 100, 1),
            ("sleep", 201, 3),
        ] {
            let r = Resource::parse(res).unwrap();
            let from = d("2020-01-01");
            let to = from + Duration::days(days - 1);
            let w = plan(&r, from, to);
            assert_eq!(w.len(), want, "{res} {days}");
            assert_eq!(w[0].start, from);
            assert_eq!(w.last().unwrap().end, to);
            for pair in w.windows(2) {
                assert_eq!(pair[0].end + Duration::days(1), pair[1].start);
            }
        }
        assert_eq!(
            plan(
                &Resource::parse_intraday("heart").unwrap(),
                d("2020-01-01"),
                d("2020-01-03")
            )
            .len(),
            3
        );
        assert_eq!(
            plan(&Resource::Profile, d("2015-01-01"), d("2026-01-01")).len(),
            1
        );
    }

    #[test]
    fn names_and_paths() {
        assert_eq!(
            Resource::parse("sedentary"),
            Some(Resource::Series("minutesSedentary"))
        );
        assert_eq!(Resource::parse("sedentary").unwrap().key(), "sedentary");
        assert_eq!(
            Resource::parse_intraday("heart:1sec")
                .unwrap()
                .path(d("2020-01-01"), d("2020-01-01")),
            "/1/user/-/activities/heart/date/2020-01-01/1d/1sec.json"
        );
        assert_eq!(Resource::parse_intraday("steps:1sec"), None);
        assert_eq!(Resource::parse("nope"), None);
    }
}
