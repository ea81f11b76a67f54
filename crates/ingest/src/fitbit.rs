//! The Fitbit Web API provider: OAuth endpoints, scopes, resources and how a date range
//! becomes the fewest requests the documented maximum ranges allow
//! (reference/fitbit-web-api.md §3).

use chrono::{Duration, NaiveDate};

use fitpipe_catalog::{FitbitOp, Kind};

/// The `source` and provider name.
pub const PROVIDER: &str = "fitbit-web-api";

/// Scopes fitpipe asks for (`respiratory_rate`, `temperature` and `cardio_fitness` for
/// breathing rate, skin temperature and VO2 max; `oxygen_saturation` for SpO2).
pub const SCOPES: &[&str] = &[
    "activity",
    "heartrate",
    "sleep",
    "profile",
    "settings",
    "respiratory_rate",
    "temperature",
    "cardio_fitness",
    "oxygen_saturation",
    "location",
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
    /// A daily summary read by date range: the path between the user and `/date/`, and
    /// the most days a request covers.
    Daily(&'static str, i64),
    /// The activity log list (exercise sessions): from the first day on, oldest first,
    /// 100 a page, following `pagination.next`.
    Exercise,
    /// The paired devices (`devices.json`): read whole on every run.
    Devices,
    /// Samples of the main sleep (`/{seg}/date/{start}/{end}/all.json`: SpO2, HRV), filed
    /// under the day the sleep ended: the path segment, and the most days a request
    /// covers.
    Samples(&'static str, i64),
    /// A nightly summary by sleep stage (`/{seg}/date/{start}/{end}/all.json`: breathing
    /// rate), one row a night: the path segment, and the most days a request covers.
    ByStage(&'static str, i64),
    /// The activity log list as [`Resource::Exercise`], and the TCX of each log recorded
    /// with GPS (`/activities/{log-id}.tcx`).
    Route,
}

/// The default daily set.
pub fn default_resources() -> Vec<&'static str> {
    fitpipe_catalog::names(
        fitpipe_catalog::Api::Fitbit,
        fitpipe_catalog::Kind::Daily,
        true,
    )
}

/// Names accepted by `--resources`.
pub fn resource_names() -> Vec<&'static str> {
    fitpipe_catalog::names(
        fitpipe_catalog::Api::Fitbit,
        fitpipe_catalog::Kind::Daily,
        false,
    )
}

impl Resource {
    /// The resource a daily row of the catalog is asked by (intraday rows need a detail
    /// level: [`Resource::parse_intraday`]).
    fn of(op: FitbitOp) -> Option<Resource> {
        Some(match op {
            FitbitOp::Series(r) => Resource::Series(r),
            FitbitOp::Heart => Resource::Heart,
            FitbitOp::Sleep => Resource::Sleep,
            FitbitOp::Profile => Resource::Profile,
            FitbitOp::Daily(path, days) => Resource::Daily(path, days),
            FitbitOp::Exercise => Resource::Exercise,
            FitbitOp::Route => Resource::Route,
            FitbitOp::Devices => Resource::Devices,
            FitbitOp::Samples(seg, days) => Resource::Samples(seg, days),
            FitbitOp::ByStage(seg, days) => Resource::ByStage(seg, days),
            FitbitOp::Intraday => return None,
        })
    }

    /// Parses a `--resources` name: the catalog's row and how it is asked.
    pub fn parse(name: &str) -> Option<Resource> {
        let t = fitpipe_catalog::get(Kind::Daily, name)?;
        t.fitbit?;
        Resource::of(t.fitbit_op?)
    }

    /// Parses an `--intraday` name (`heart`, `heart:1sec`, `steps`, `steps:15min`).
    pub fn parse_intraday(spec: &str) -> Option<Resource> {
        let (name, detail) = match spec.split_once(':') {
            Some((name, detail)) => (name, Some(detail)),
            None => (spec, None),
        };
        let t = fitpipe_catalog::get(Kind::Intraday, name)?;
        t.fitbit?;
        match t.fitbit_op? {
            // SpO2 and HRV samples: no detail level to pick.
            FitbitOp::Samples(seg, days) => {
                detail.is_none().then_some(Resource::Samples(seg, days))
            }
            FitbitOp::Intraday => {
                let detail = detail.unwrap_or("1min");
                let detail = ["1sec", "1min", "15min"]
                    .into_iter()
                    .find(|d| *d == detail)?;
                if detail == "1sec" && name != "heart" {
                    return None;
                }
                Some(Resource::Intraday(t.name, detail))
            }
            _ => None,
        }
    }

    /// The catalog's name of the daily row asked by this resource.
    fn name_of(&self) -> &'static str {
        fitpipe_catalog::CATALOG
            .iter()
            .filter(|t| t.kind == Kind::Daily && t.fitbit.is_some())
            .find(|t| t.fitbit_op.and_then(Resource::of).as_ref() == Some(self))
            .map_or("unknown", |t| t.name)
    }

    /// Daily or intraday, in the catalog's words.
    pub fn kind(&self) -> fitpipe_catalog::Kind {
        match self {
            Resource::Intraday(..) | Resource::Samples(..) => fitpipe_catalog::Kind::Intraday,
            _ => fitpipe_catalog::Kind::Daily,
        }
    }

    /// The catalog's name of what this fetches.
    pub fn catalog_name(&self) -> &'static str {
        match self {
            Resource::Intraday(r, _) | Resource::Samples(r, _) => r,
            r => r.name_of(),
        }
    }

    /// A stable name for state, raw files and progress (`steps`, `intraday-heart-1min`).
    pub fn key(&self) -> String {
        match self {
            Resource::Intraday(r, d) => format!("intraday-{r}-{d}"),
            Resource::Samples(r, _) => format!("intraday-{r}"),
            r => r.name_of().to_string(),
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
            Resource::Profile | Resource::Devices => i64::MAX,
            // A list, not a range: one request and its pages cover every day (a century).
            Resource::Exercise | Resource::Route => 36_525,
            Resource::Daily(_, days) | Resource::Samples(_, days) | Resource::ByStage(_, days) => {
                *days
            }
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
            Resource::Daily(seg, _) => format!("/1/user/-/{seg}/date/{start}/{end}.json"),
            Resource::Samples(seg, _) | Resource::ByStage(seg, _) => {
                format!("/1/user/-/{seg}/date/{start}/{end}/all.json")
            }
            // `afterDate` counts the day itself (the Swagger's list); `sort` must agree
            // with it and `offset` stay 0: later pages are the answer's `next` link.
            Resource::Exercise | Resource::Route => {
                format!(
                    "/1/user/-/activities/list.json?afterDate={start}&sort=asc&limit=100&offset=0"
                )
            }
            Resource::Devices => "/1/user/-/devices.json".into(),
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

/// The request for the page after `body` of a paged list (the activity log list): the
/// path and query of its `pagination.next` link, when it has one and the page has not
/// passed `until` (the list runs from the window's first day to today, oldest first: a
/// page whose last log started after the window's last day is the window's last). The
/// link's host is dropped: the next page is asked of the base the first was.
pub fn next_page(body: &[u8], until: NaiveDate) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let last = v["activities"].as_array().and_then(|a| a.last());
    if last.and_then(log_day).is_some_and(|d| d > until) {
        return None;
    }
    let next = v["pagination"]["next"].as_str().filter(|n| !n.is_empty())?;
    let at = next.find("/1/")?;
    Some(next[at..].to_string())
}

/// The local day an activity log started (`startTime`, `2026-10-15T18:18:00.000-04:00`).
fn log_day(log: &serde_json::Value) -> Option<NaiveDate> {
    log["startTime"].as_str()?.get(..10)?.parse().ok()
}

/// The TCX requests for the logs of an activity list page recorded with GPS that started
/// by `until` (the window's last day: the list goes on to today).
pub fn route_requests(body: &[u8], until: NaiveDate) -> Vec<String> {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Vec::new();
    };
    let logs = v["activities"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    logs.iter()
        .filter(|a| a["hasGps"] == serde_json::json!(true))
        .filter(|a| log_day(a).is_none_or(|d| d <= until))
        .filter_map(|a| a["logId"].as_u64())
        .map(|id| format!("/1/user/-/activities/{id}.tcx"))
        .collect()
}

/// The fewest requests that cover `from..=to` for a resource.
pub fn plan(r: &Resource, from: NaiveDate, to: NaiveDate) -> Vec<Window> {
    if matches!(r, Resource::Profile | Resource::Devices) {
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
    // Every resource name parses and keys as itself; every scope the catalog names is one
    // fitpipe asks for; every intraday name parses.
    #[test]
    fn every_catalog_row_parses_and_asks_for_a_scope_fitpipe_asks_for() {
        for name in resource_names() {
            let r = super::Resource::parse(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(r.key(), name);
        }
        for t in fitpipe_catalog::CATALOG {
            let Some(r) = t.fitbit else { continue };
            assert!(SCOPES.contains(&r.scope), "{}: scope {}", t.name, r.scope);
            if t.kind == fitpipe_catalog::Kind::Intraday {
                assert!(
                    super::Resource::parse_intraday(t.name).is_some(),
                    "{}",
                    t.name
                );
            }
        }
    }

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

    // The activity list runs from the window's first day to today: routes are asked only
    // for GPS logs started by the window's last day (local, as `startTime` gives it), and
    // the list stops at the page that passes it.
    #[test]
    fn the_activity_list_stops_at_the_windows_end() {
        let page = |logs: &[(&str, bool, u64)], next: &str| {
            let logs: Vec<serde_json::Value> = logs
                .iter()
                .map(|(t, gps, id)| serde_json::json!({"startTime": t, "hasGps": gps, "logId": id}))
                .collect();
            serde_json::json!({"activities": logs, "pagination": {"next": next}}).to_string()
        };
        let next = "https://api.fitbit.com/1/user/-/activities/list.json?afterDate=2026-10-01&sort=asc&limit=100&offset=100";
        let body = page(
            &[
                ("2026-10-13T18:00:00.000-04:00", true, 1),
                ("2026-10-14T23:30:00.000-04:00", true, 2),
                ("2026-10-14T08:00:00.000-04:00", false, 3),
                ("2026-10-15T00:10:00.000-04:00", true, 4),
            ],
            next,
        );
        let to = d("2026-10-14");
        assert_eq!(
            route_requests(body.as_bytes(), to),
            ["/1/user/-/activities/1.tcx", "/1/user/-/activities/2.tcx"]
        );
        // The page's last log is after the window: no next page.
        assert_eq!(next_page(body.as_bytes(), to), None);
        assert_eq!(
            next_page(body.as_bytes(), d("2026-10-15")).as_deref(),
            Some(
                "/1/user/-/activities/list.json?afterDate=2026-10-01&sort=asc&limit=100&offset=100"
            )
        );
        // A page without logs, or ending inside the window, goes on.
        assert!(next_page(page(&[], next).as_bytes(), to).is_some());
        let inside = page(&[("2026-10-14T23:59:00.000+14:00", true, 5)], next);
        assert!(next_page(inside.as_bytes(), to).is_some());
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
        // SpO2 and HRV have no detail level: `spo2:1min` would ask for an endpoint that
        // does not exist.
        assert_eq!(
            Resource::parse_intraday("spo2"),
            Some(Resource::Samples("spo2", 30))
        );
        for no in ["spo2:1min", "hrv:1min", "hrv:15min", "spo2:"] {
            assert_eq!(Resource::parse_intraday(no), None, "{no}");
        }
        assert_eq!(Resource::parse("nope"), None);
    }
}
