//! TCX files (Garmin Training Center XML v2): the GPS route of an exercise, as Google's
//! `exportExerciseTcx`, the Fitbit Web API's `/activities/{log-id}.tcx` and Takeout's
//! `.tcx` files give it. Each Trackpoint becomes an `exercise_route` row; the file does not
//! name its exercise, only its start (the Activity's `Id`), so the rows carry that start
//! and [`link_routes`] gives them the id of the session that started then.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use quick_xml::events::Event;
use quick_xml::Reader;

use crate::tables::{ExerciseRoute, RowSet};
use crate::TransformError;

/// Whether a body is XML (a TCX file) rather than JSON.
pub fn is_tcx(body: &[u8]) -> bool {
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF);
    start.is_some_and(|i| body[i] == b'<')
}

/// A time as TCX writes it: RFC 3339 (UTC or an offset: the wall clock is then known too),
/// or a wall clock without an offset (placed in `tz`).
fn time(text: &str, tz: Option<Tz>) -> Option<(DateTime<Utc>, Option<NaiveDateTime>)> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        let utc = t.with_timezone(&Utc);
        let zulu = text.ends_with('Z') || text.ends_with('z');
        let local = if zulu {
            tz.map(|z| utc.with_timezone(&z).naive_local())
        } else {
            Some(t.naive_local())
        };
        return Some((utc, local));
    }
    let wall = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    let at = tz?.from_local_datetime(&wall).earliest()?;
    Some((at.with_timezone(&Utc), Some(wall)))
}

/// The route in a TCX file: a row per Trackpoint with a time, the session's start in
/// `session_start_utc` and the exercise id left empty for [`link_routes`]. Trackpoints
/// without a position (paused GPS) keep their time, distance and heart rate.
pub fn normalise(
    body: &[u8],
    user_id: &str,
    source: &str,
    tz: Option<Tz>,
) -> Result<RowSet, TransformError> {
    let bad = |m: String| TransformError::Value {
        path: "TCX".into(),
        message: m,
    };
    let mut r = Reader::from_reader(body);
    r.config_mut().trim_text(true);
    let (uid, src): (Arc<str>, Arc<str>) = (user_id.into(), source.into());
    let mut out = RowSet::default();
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut start: Option<(DateTime<Utc>, Option<NaiveDateTime>)> = None;
    let mut point: Option<ExerciseRoute> = None;
    loop {
        let ev = r
            .read_event()
            .map_err(|e| bad(format!("not a readable TCX file: {e}")))?;
        match ev {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_vec();
                if name == b"Trackpoint" {
                    let Some((s, s_local)) = start else {
                        return Err(bad("a Trackpoint before the Activity's `Id`".into()));
                    };
                    point = Some(ExerciseRoute {
                        user_id: uid.clone(),
                        source: src.clone(),
                        exercise_id: "".into(),
                        date: s_local.map_or(s.date_naive(), |l| l.date()),
                        session_start_utc: Some(s),
                        time_utc: s,
                        time_local: None,
                        latitude: None,
                        longitude: None,
                        altitude_m: None,
                        distance_km: None,
                        heart_rate_bpm: None,
                    });
                }
                path.push(name);
            }
            Event::End(e) => {
                if e.local_name().as_ref() == b"Trackpoint" {
                    if let Some(p) = point.take() {
                        out.exercise_route.push(p);
                    }
                }
                path.pop();
            }
            Event::Text(t) => {
                let text = t
                    .decode()
                    .map_err(|e| bad(format!("text that is not UTF-8: {e}")))?;
                let text = text.trim();
                let here = path.last().map(Vec::as_slice).unwrap_or_default();
                let parent = path
                    .len()
                    .checked_sub(2)
                    .map(|i| path[i].as_slice())
                    .unwrap_or_default();
                let num = || {
                    text.parse::<f64>().map_err(|_| {
                        bad(format!(
                            "`{text}` in <{}> is not a number",
                            String::from_utf8_lossy(here)
                        ))
                    })
                };
                match (parent, here, point.as_mut()) {
                    (b"Activity", b"Id", _) => {
                        start = Some(time(text, tz).ok_or_else(|| {
                            bad(format!("the Activity's Id `{text}` is not a time"))
                        })?);
                    }
                    (b"Trackpoint", b"Time", Some(p)) => {
                        let (t, local) = time(text, tz).ok_or_else(|| {
                            bad(format!("Trackpoint time `{text}` is not a time"))
                        })?;
                        p.time_utc = t;
                        p.time_local = local;
                    }
                    (b"Position", b"LatitudeDegrees", Some(p)) => p.latitude = Some(num()?),
                    (b"Position", b"LongitudeDegrees", Some(p)) => p.longitude = Some(num()?),
                    (b"Trackpoint", b"AltitudeMeters", Some(p)) => p.altitude_m = Some(num()?),
                    (b"Trackpoint", b"DistanceMeters", Some(p)) => {
                        p.distance_km = Some(num()? / 1000.0)
                    }
                    (b"HeartRateBpm", b"Value", Some(p)) => {
                        p.heart_rate_bpm = Some(num()?.round() as i64)
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if start.is_none() {
        return Err(bad("no Activity with an `Id`: not a TCX activity".into()));
    }
    Ok(out)
}

/// Gives route rows without an exercise id the id of the session of the same user that
/// started at their `session_start_utc` (the exercise list fetched with them); a route
/// whose session is not among `rows` keeps its start, in RFC 3339, as its id.
pub fn link_routes(rows: &mut RowSet) {
    if rows
        .exercise_route
        .iter()
        .all(|r| !r.exercise_id.is_empty())
    {
        return;
    }
    let ids: HashMap<(&str, DateTime<Utc>), Arc<str>> = rows
        .exercise_sessions
        .iter()
        .filter_map(|s| Some(((&*s.user_id, s.start_utc?), s.exercise_id.clone())))
        .collect();
    let found: Vec<Option<Arc<str>>> = rows
        .exercise_route
        .iter()
        .map(|r| {
            (r.exercise_id.is_empty())
                .then(|| {
                    let start = r.session_start_utc?;
                    Some(
                        ids.get(&(&*r.user_id, start))
                            .cloned()
                            .unwrap_or_else(|| start.to_rfc3339().into()),
                    )
                })
                .flatten()
        })
        .collect();
    for (r, id) in rows.exercise_route.iter_mut().zip(found) {
        if let Some(id) = id {
            r.exercise_id = id;
        }
    }
}
