//! A fast path for the one large part of an intraday answer: the `dataset` array of its
//! `activities-<resource>-intraday` object, 86,400 `{"time": "HH:MM:SS", "value": N}`
//! records a day at 1-second detail. A scanner reads exactly that record form (any
//! whitespace, either key order, a plain JSON number) and hands back the document with
//! the array emptied, for serde to read the small rest. Anything else (other keys such as
//! the calories series' `level` and `mets`, strings for values, escapes, two intraday
//! objects, a cut-off body) returns `None` and the whole body goes through serde, which
//! names what is wrong. tests: `the_scanner_agrees_with_serde`.

use chrono::NaiveTime;

use super::model::{IntradayPoint, Num};

struct Scan<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Scan<'a> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\n' | b'\r' | b'\t') {
            self.i += 1;
        }
    }

    fn byte(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.b.get(self.i) == Some(&c)).then(|| self.i += 1)
    }

    /// A string without escapes; its bytes.
    fn string(&mut self) -> Option<&'a [u8]> {
        self.byte(b'"')?;
        let start = self.i;
        while *self.b.get(self.i)? != b'"' {
            if self.b[self.i] == b'\\' {
                return None;
            }
            self.i += 1;
        }
        self.i += 1;
        let b: &'a [u8] = self.b;
        Some(&b[start..self.i - 1])
    }

    /// `-?digits(.digits)?`, as serde reads it.
    fn number(&mut self) -> Option<f64> {
        self.ws();
        let start = self.i;
        if self.b.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        let digits = self.i;
        let mut whole = 0u64;
        while let Some(c @ b'0'..=b'9') = self.b.get(self.i) {
            whole = whole.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
            self.i += 1;
        }
        let n = self.i - digits;
        if n == 0 || (n > 1 && self.b[digits] == b'0') {
            return None;
        }
        let neg = self.b[start] == b'-';
        if self.b.get(self.i) != Some(&b'.') && n < 16 {
            // An integer, as serde reads it (`-0` is -0.0); exponent forms are left to serde.
            if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
                return None;
            }
            let v = whole as f64;
            return Some(if neg { -v } else { v });
        }
        if self.b.get(self.i) != Some(&b'.') {
            // A long integer: serde's rounding, not ours.
            return None;
        }
        self.i += 1;
        let f = self.i;
        while matches!(self.b.get(self.i), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        // Up to 15 significant digits both parsers round exactly; longer goes to serde.
        if self.i == f || n + (self.i - f) > 15 || matches!(self.b.get(self.i), Some(b'e' | b'E')) {
            return None;
        }
        std::str::from_utf8(&self.b[start..self.i])
            .ok()?
            .parse()
            .ok()
    }

    /// A simple value of the intraday object other than the dataset: a number or a
    /// string (`datasetInterval`, `datasetType`).
    fn simple(&mut self) -> Option<()> {
        self.ws();
        if self.b.get(self.i) == Some(&b'"') {
            self.string().map(|_| ())
        } else {
            self.number().map(|_| ())
        }
    }

    fn point(&mut self) -> Option<IntradayPoint> {
        self.byte(b'{')?;
        let (mut time, mut value) = (None, None);
        for k in 0..2 {
            if k == 1 {
                self.byte(b',')?;
            }
            match self.string()? {
                b"time" => {
                    self.byte(b':')?;
                    time = Some(hms(self.string()?)?);
                }
                b"value" => {
                    self.byte(b':')?;
                    value = Some(self.number()?);
                }
                _ => return None,
            }
        }
        self.byte(b'}')?;
        Some(IntradayPoint {
            time: time?,
            value: Num(value?),
            level: None,
            mets: None,
        })
    }
}

/// `HH:MM:SS` read by position.
pub(super) fn hms(b: &[u8]) -> Option<NaiveTime> {
    let two = |i: usize| -> Option<u32> {
        let (x, y) = (b[i].wrapping_sub(b'0'), b[i + 1].wrapping_sub(b'0'));
        (x < 10 && y < 10).then(|| u32::from(x) * 10 + u32::from(y))
    };
    if b.len() != 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    NaiveTime::from_hms_opt(two(0)?, two(3)?, two(6)?)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The body with the intraday `dataset` emptied, and the dataset's points; `None` when
/// the body is not exactly that shape (serde then reads all of it).
pub(crate) fn split_dataset(b: &[u8]) -> Option<(Vec<u8>, Vec<IntradayPoint>)> {
    const KEY: &[u8] = b"-intraday\"";
    let at = find(b, KEY)?;
    if find(&b[at + KEY.len()..], KEY).is_some() {
        return None;
    }
    let mut s = Scan {
        b,
        i: at + KEY.len(),
    };
    s.byte(b':')?;
    s.byte(b'{')?;
    let mut found = None;
    loop {
        let key = s.string()?;
        s.byte(b':')?;
        if key == b"dataset" {
            s.byte(b'[')?;
            let start = s.i;
            let mut points = Vec::with_capacity((b.len() / 32).min(1 << 20));
            s.ws();
            if s.b.get(s.i) == Some(&b']') {
                s.i += 1;
            } else {
                loop {
                    points.push(s.point()?);
                    s.ws();
                    match s.b.get(s.i)? {
                        b',' => s.i += 1,
                        b']' => {
                            s.i += 1;
                            break;
                        }
                        _ => return None,
                    }
                }
            }
            found = Some((start, s.i - 1, points));
        } else {
            s.simple()?;
        }
        s.ws();
        match s.b.get(s.i)? {
            b',' => s.i += 1,
            b'}' => break,
            _ => return None,
        }
    }
    let (start, end, points) = found?;
    let mut rest = Vec::with_capacity(b.len() - (end - start));
    rest.extend_from_slice(&b[..start]);
    rest.extend_from_slice(&b[end..]);
    Some((rest, points))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(b: &[u8]) -> bool {
        let fast = format!("{:?}", super::super::parse(b));
        let serde = format!("{:?}", super::super::parse_serde(b));
        assert_eq!(
            fast,
            serde,
            "{}",
            String::from_utf8_lossy(&b[..b.len().min(400)])
        );
        split_dataset(b).is_some()
    }

    fn body(records: &str, tail: &str) -> Vec<u8> {
        format!(
            r#"{{"activities-heart":[{{"dateTime":"2026-03-08","value":{{"customHeartRateZones":[],"heartRateZones":[],"restingHeartRate":60}}}}],
"activities-heart-intraday":{{"dataset":[{records}]{tail}}}}}"#
        )
        .into_bytes()
    }

    // The documents the scanner reads are the documents serde reads, value for value; and
    // what it does not know goes to serde whole, errors included.
    #[test]
    fn the_scanner_agrees_with_serde() {
        let tail = r#","datasetInterval":1,"datasetType":"second""#;
        let taken = [
            body(
                r#"{"time":"00:00:00","value":61},{"time":"00:00:01","value":62}"#,
                tail,
            ),
            body(" { \"value\" : 61 ,\n \"time\" : \"23:59:59\" } ", tail),
            body(
                r#"{"time":"12:00:00","value":61.25},{"time":"12:00:05","value":-3}"#,
                tail,
            ),
            body(
                r#"{"time":"12:00:00","value":-0},{"time":"12:00:05","value":0.5}"#,
                tail,
            ),
            body("", tail),
            body(r#"{"time":"01:00:00","value":7}"#, ""),
        ];
        for b in &taken {
            assert!(same(b), "{}", String::from_utf8_lossy(b));
        }
        let refused = [
            body(r#"{"time":"00:00:00","value":"61"}"#, tail),
            body(r#"{"time":"00:00:00","value":6.1e1}"#, tail),
            body(r#"{"time":"00:00:00","value":123456789012345678901}"#, tail),
            body(r#"{"time":"00:00:00","value":0.1234567890123456789}"#, tail),
            body(r#"{"time":"00:00:00","value":061}"#, tail),
            body(r#"{"time":"24:00:00","value":61}"#, tail),
            body(r#"{"time":"0:00:00","value":61}"#, tail),
            body(r#"{"time":"00:00:00","value":61,"level":0}"#, tail),
            body(r#"{"time":"00:00:00"}"#, tail),
            body(r#"{"time":"00:00:\u0030","value":61}"#, tail),
            body(r#"{"time":"00:00:00","value":61},"#, tail),
            body(
                r#"{"time":"00:00:00","value":61}"#,
                r#","datasetType":{"x":1}"#,
            ),
            body(r#"{"time":"00:00:00","value":61}"#, tail)[..150].to_vec(),
        ];
        for b in &refused {
            assert!(!same(b), "taken: {}", String::from_utf8_lossy(b));
        }
        // Two intraday objects: serde reads both.
        let two = br#"{"activities-steps":[{"dateTime":"2026-03-08","value":"5"}],
"activities-steps-intraday":{"dataset":[{"time":"00:00:00","value":5}],"datasetInterval":1,"datasetType":"minute"},
"activities-calories-intraday":{"dataset":[{"time":"00:00:00","value":1.5}],"datasetInterval":1,"datasetType":"minute"}}"#;
        assert!(!same(two));
        // Answers as the API and the simulator send them.
        // The package folder at run time (a reused test binary may come from elsewhere).
        let package = std::path::PathBuf::from(
            std::env::var_os("CARGO_MANIFEST_DIR")
                .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
        );
        let dirs = [
            package.join("tests/fixtures/fitbit"),
            package.join("../../../shared/reference/samples/fitbit-web-api"),
        ];
        let mut scanned = 0;
        for d in dirs {
            for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
                let b = std::fs::read(e.path()).unwrap();
                if e.path().extension().is_some_and(|x| x == "json") && same(&b) {
                    scanned += 1;
                }
            }
        }
        assert!(scanned >= 1, "no intraday fixture took the scanner");
    }
}
