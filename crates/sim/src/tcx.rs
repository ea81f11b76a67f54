//! A run's TCX file (Garmin Training Center XML v2), as Google's `exportExerciseTcx` and
//! the Fitbit Web API's `/activities/{log-id}.tcx` serve it: one Activity whose Id is
//! its start, one Lap with the totals, and a Trackpoint every few seconds with time,
//! position, altitude, cumulative distance and heart rate. Google writes instants in UTC
//! (`Z`); Fitbit writes the wall clock with the offset in force.

use chrono::{NaiveDateTime, TimeZone};

use crate::people::{Person, Workout};

/// The TCX of `w` (`None` for a workout without GPS): times in UTC for Google, with the
/// local offset for Fitbit.
pub fn tcx(p: &Person, w: &Workout, last_sync: NaiveDateTime, utc: bool) -> Option<String> {
    let points = p.track(w, last_sync);
    let last = points.last()?;
    let time = |t: NaiveDateTime| -> String {
        let at = p.tz.from_local_datetime(&t).earliest();
        match (at, utc) {
            (Some(at), true) => at
                .with_timezone(&chrono::Utc)
                .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string(),
            (Some(at), false) => at.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string(),
            (None, _) => t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string(),
        }
    };
    let mut x = String::with_capacity(points.len() * 330 + 800);
    x.push_str(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<TrainingCenterDatabase xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2">
  <Activities>
"#,
    );
    let start = time(w.start);
    x.push_str(&format!(
        "    <Activity Sport=\"Running\">\n      <Id>{start}</Id>\n      <Lap StartTime=\"{start}\">\n        <TotalTimeSeconds>{}.0</TotalTimeSeconds>\n        <DistanceMeters>{:.2}</DistanceMeters>\n        <Calories>{}</Calories>\n        <Intensity>Active</Intensity>\n        <TriggerMethod>Manual</TriggerMethod>\n        <Track>\n",
        w.minutes * 60,
        last.distance,
        w.calories.round() as i64
    ));
    for t in &points {
        x.push_str(&format!(
            "          <Trackpoint>\n            <Time>{}</Time>\n            <Position>\n              <LatitudeDegrees>{:.7}</LatitudeDegrees>\n              <LongitudeDegrees>{:.7}</LongitudeDegrees>\n            </Position>\n            <AltitudeMeters>{:.1}</AltitudeMeters>\n            <DistanceMeters>{:.2}</DistanceMeters>\n            <HeartRateBpm>\n              <Value>{}</Value>\n            </HeartRateBpm>\n          </Trackpoint>\n",
            time(t.at),
            t.latitude,
            t.longitude,
            t.altitude,
            t.distance,
            t.bpm
        ));
    }
    x.push_str("        </Track>\n      </Lap>\n      <Creator xsi:type=\"Device_t\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n        <Name>Charge 6</Name>\n      </Creator>\n    </Activity>\n  </Activities>\n</TrainingCenterDatabase>\n");
    Some(x)
}
