//! Scanners for the two record layouts that make up almost all of an archive's volume:
//! `[{"dateTime" : "MM/DD/YY HH:MM:SS", "value" : {"bpm" : N, "confidence" : N}}, ...]`
//! (heart rate) and `[{"dateTime" : "MM/DD/YY HH:MM:SS", "value" : "N"}, ...]` (steps,
//! distance, calories, altitude). They read straight into columns, without a general
//! JSON parser; anything unexpected makes them give up (`None`), and the caller falls
//! back to serde, whose errors name the problem.
//!
//! Fitbit writes these files with Jackson's pretty printer, which lays out every record
//! byte for byte like the one before. So the first record is read field by field (any
//! whitespace, either key spelling of the layout), the bytes between its values are kept
//! as the file's *template*, and each later record is matched against the template whole:
//! a few slice comparisons and the digits, no byte-by-byte whitespace skipping. A record
//! that does not match (another layout, a decimal, an absent confidence) is read field by
//! field like the first, so the template only ever decides speed, never the result.

use chrono::{NaiveDate, NaiveDateTime};

/// `MM/DD/YY HH:MM:SS` by hand: this runs once per record of multi-GB archives, and a
/// fixed layout needs no format interpreter. Two-digit years are 20YY (Fitbit began 2007).
pub(super) fn us_time(v: &str) -> Option<NaiveDateTime> {
    us_time_bytes(v.as_bytes())
}

/// [`us_time`] of raw bytes.
fn us_time_bytes(b: &[u8]) -> Option<NaiveDateTime> {
    if b.len() != 17 || b[2] != b'/' || b[5] != b'/' {
        return None;
    }
    let (h, m, s) = hms(&b[8..])?;
    let n = |i: usize| two(b[i], b[i + 1]);
    NaiveDate::from_ymd_opt(2000 + n(6)? as i32, n(0)?, n(3)?)?.and_hms_opt(h, m, s)
}

/// Two ASCII digits as a number.
fn two(a: u8, c: u8) -> Option<u32> {
    let (a, c) = (a.wrapping_sub(b'0'), c.wrapping_sub(b'0'));
    (a < 10 && c < 10).then(|| u32::from(a) * 10 + u32::from(c))
}

/// ` HH:MM:SS` (with its leading space): hours, minutes, seconds, each in range.
fn hms(b: &[u8]) -> Option<(u32, u32, u32)> {
    if b.len() != 9 || b[0] != b' ' || b[3] != b':' || b[6] != b':' {
        return None;
    }
    let (h, m, s) = (two(b[1], b[2])?, two(b[4], b[5])?, two(b[7], b[8])?);
    (h < 24 && m < 60 && s < 60).then_some((h, m, s))
}

/// Microseconds of a naive stamp read as UTC: the wall clock as the file has it.
fn micros(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp_micros()
}

/// Records as columns: the wall-clock stamp (microseconds, read as UTC), the value, and
/// for heart rate the confidence.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Columns {
    pub at: Vec<i64>,
    pub value: Vec<f64>,
    /// Heart rate only: the confidence of each record (0 where it has none).
    pub confidence: Vec<f64>,
    /// Heart rate only: the rows without a confidence, in order.
    pub missing: Vec<usize>,
}

impl Columns {
    fn with_capacity(n: usize, two: bool) -> Self {
        Columns {
            at: Vec::with_capacity(n),
            value: Vec::with_capacity(n),
            confidence: Vec::with_capacity(if two { n } else { 0 }),
            missing: Vec::new(),
        }
    }

    /// Columns of rows read another way (serde).
    pub fn of_rows(
        rows: impl Iterator<Item = (NaiveDateTime, f64, Option<f64>)>,
        heart: bool,
    ) -> Self {
        let mut c = Columns::with_capacity(rows.size_hint().0, heart);
        for (at, v, conf) in rows {
            c.push(micros(at), v, conf, heart);
        }
        c
    }

    fn push(&mut self, at: i64, value: f64, confidence: Option<f64>, heart: bool) {
        self.at.push(at);
        self.value.push(value);
        if heart {
            if confidence.is_none() {
                self.missing.push(self.confidence.len());
            }
            self.confidence.push(confidence.unwrap_or(0.0));
        }
    }

    /// The rows as `(stamp, value, confidence)`.
    pub fn rows(&self) -> impl Iterator<Item = (NaiveDateTime, f64, Option<f64>)> + '_ {
        let mut missing = self.missing.iter().peekable();
        (0..self.at.len()).map(move |i| {
            let at = chrono::DateTime::from_timestamp_micros(self.at[i])
                .expect("stamps come from valid dates")
                .naive_utc();
            let c = if missing.peek() == Some(&&i) {
                missing.next();
                None
            } else {
                self.confidence.get(i).copied()
            };
            (at, self.value[i], c)
        })
    }
}

/// Where the parts of one record lie: `[start, date, value, value end, confidence,
/// confidence end, end]` (the confidence marks equal the value end when it has none).
type Marks = [usize; 7];

/// The bytes between a record's values, as the first record of a file has them.
struct Template<'a> {
    /// From `{` to the first digit of the stamp.
    head: &'a [u8],
    /// From the end of the stamp to the value.
    mid: &'a [u8],
    /// From the end of the value to the confidence (heart rate with a confidence).
    between: Option<&'a [u8]>,
    /// From the end of the last value to the end of the record.
    tail: &'a [u8],
}

impl<'a> Template<'a> {
    fn of(b: &'a [u8], m: &Marks) -> Self {
        let [start, date, value, value_end, conf, conf_end, end] = *m;
        Template {
            head: &b[start..date],
            mid: &b[date + 17..value],
            between: (conf > value_end).then(|| &b[value_end..conf]),
            tail: &b[conf_end..end],
        }
    }

    /// The record at `i` if it has exactly this layout and plain numbers: its stamp's
    /// bytes, value, confidence and end.
    fn read(&self, b: &'a [u8], i: usize) -> Option<(&'a [u8], f64, Option<f64>, usize)> {
        let mut j = i;
        let eat = |lit: &[u8], j: &mut usize| -> Option<()> {
            (b.get(*j..*j + lit.len())? == lit).then(|| *j += lit.len())
        };
        eat(self.head, &mut j)?;
        let stamp = b.get(j..j + 17)?;
        j += 17;
        eat(self.mid, &mut j)?;
        let value = plain_number(b, &mut j)?;
        let confidence = match self.between {
            Some(between) => {
                eat(between, &mut j)?;
                Some(plain_number(b, &mut j)?)
            }
            None => None,
        };
        eat(self.tail, &mut j)?;
        Some((stamp, value, confidence, j))
    }
}

/// `-?digits(.digits)?` with at most 15 digits in all, exactly as Rust's float parser
/// reads it: below 2^53 the digits are exact, as is a power of ten up to 10^15, and one
/// IEEE division of exact operands is correctly rounded. Anything longer or other is
/// left to the field-by-field reader (`None`), as is whatever follows the digits.
fn plain_number(b: &[u8], j: &mut usize) -> Option<f64> {
    let mut k = *j;
    let negative = b.get(k) == Some(&b'-');
    if negative {
        k += 1;
    }
    let mut whole = 0u64;
    let mut digits = 0u32;
    let mut scale = 0u32;
    let mut dot = false;
    while let Some(&c) = b.get(k) {
        match c {
            b'0'..=b'9' => {
                whole = whole * 10 + u64::from(c - b'0');
                digits += 1;
                scale += u32::from(dot);
                if digits > 15 {
                    return None;
                }
            }
            b'.' if !dot && digits > 0 => dot = true,
            _ => break,
        }
        k += 1;
    }
    if digits == 0 || (dot && scale == 0) {
        return None;
    }
    const TENS: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    let v = whole as f64 / TENS[scale as usize];
    *j = k;
    Some(if negative { -v } else { v })
}

/// The wall-clock stamps of a file, with the day of the last stamp remembered: a file
/// holds one or two days, so the calendar is consulted once per day, not per record.
#[derive(Default)]
struct Clock {
    day: Option<([u8; 8], i64)>,
}

impl Clock {
    fn micros(&mut self, stamp: &[u8]) -> Option<i64> {
        let date: [u8; 8] = stamp.get(..8)?.try_into().ok()?;
        let day = match self.day {
            Some((d, us)) if d == date => us,
            _ => {
                let us = micros(us_time_bytes(stamp)?) - hms_micros(&stamp[8..])?;
                self.day = Some((date, us));
                us
            }
        };
        Some(day + hms_micros(&stamp[8..])?)
    }
}

fn hms_micros(b: &[u8]) -> Option<i64> {
    let (h, m, s) = hms(b)?;
    Some(i64::from(h * 3600 + m * 60 + s) * 1_000_000)
}

/// A cursor for the field-by-field reader.
struct Scan<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scan<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && self.b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn lit(&mut self, l: &[u8]) -> Option<()> {
        self.ws();
        (self.b.get(self.i..self.i + l.len())? == l).then(|| self.i += l.len())
    }

    /// A plain decimal number (digits, `.`, `-`), quoted or not; returns it and where its
    /// digits start and end (inside the quotes).
    fn num(&mut self) -> Option<(f64, usize, usize)> {
        self.ws();
        let quoted = self.b.get(self.i) == Some(&b'"');
        if quoted {
            self.i += 1;
        }
        let start = self.i;
        while self.i < self.b.len() && matches!(self.b[self.i], b'0'..=b'9' | b'.' | b'-') {
            self.i += 1;
        }
        let end = self.i;
        let mut j = start;
        let v = match plain_number(self.b, &mut j) {
            Some(v) if j == end => v,
            // Only ASCII digits, dots and minus signs were taken: valid UTF-8.
            _ => std::str::from_utf8(&self.b[start..end])
                .ok()?
                .parse()
                .ok()?,
        };
        if quoted {
            self.lit(b"\"")?;
        }
        Some((v, start, end))
    }

    /// `{"dateTime" : "MM/DD/YY HH:MM:SS", "value" :`: the start of every record; returns
    /// where the `{` and the stamp are.
    fn record_head(&mut self) -> Option<(usize, usize)> {
        self.lit(b"{")?;
        let start = self.i - 1;
        self.lit(b"\"dateTime\"")?;
        self.lit(b":")?;
        self.lit(b"\"")?;
        let date = self.i;
        us_time_bytes(self.b.get(self.i..self.i + 17)?)?;
        self.i += 17;
        self.lit(b"\"")?;
        self.lit(b",")?;
        self.lit(b"\"value\"")?;
        self.lit(b":")?;
        Some((start, date))
    }

    /// A heart-rate record field by field.
    fn heart(&mut self) -> Option<(f64, Option<f64>, Marks)> {
        let (start, date) = self.record_head()?;
        self.lit(b"{")?;
        self.lit(b"\"bpm\"")?;
        self.lit(b":")?;
        let (bpm, value, value_end) = self.num()?;
        let (confidence, conf, conf_end) = if self.lit(b",").is_some() {
            self.lit(b"\"confidence\"")?;
            self.lit(b":")?;
            let (c, s, e) = self.num()?;
            (Some(c), s, e)
        } else {
            (None, value_end, value_end)
        };
        self.lit(b"}")?;
        self.lit(b"}")?;
        Some((
            bpm,
            confidence,
            [start, date, value, value_end, conf, conf_end, self.i],
        ))
    }

    /// A steps, distance, calories or altitude record field by field.
    fn point(&mut self) -> Option<(f64, Option<f64>, Marks)> {
        let (start, date) = self.record_head()?;
        let (v, value, value_end) = self.num()?;
        self.lit(b"}")?;
        Some((
            v,
            None,
            [start, date, value, value_end, value_end, value_end, self.i],
        ))
    }
}

/// `[record, record, ...]` to the end of the input, each record through the file's
/// template where it fits, else `field` (which also gives the template, from the first).
fn records<'a>(
    b: &'a [u8],
    heart: bool,
    field: impl Fn(&mut Scan<'a>) -> Option<(f64, Option<f64>, Marks)>,
) -> Option<Columns> {
    let mut cols = Columns::with_capacity(b.len() / if heart { 90 } else { 60 }, heart);
    let mut clock = Clock::default();
    let mut s = Scan { b, i: 0 };
    let mut template: Option<Template<'a>> = None;
    s.lit(b"[")?;
    s.ws();
    if b.get(s.i) == Some(&b']') {
        s.i += 1;
    } else {
        loop {
            let fast = template.as_ref().and_then(|t| t.read(b, s.i));
            let (at, value, confidence) = match fast {
                Some((stamp, v, c, end)) => {
                    s.i = end;
                    (clock.micros(stamp)?, v, c)
                }
                None => {
                    let (v, c, marks) = field(&mut s)?;
                    if template.is_none() {
                        template = Some(Template::of(b, &marks));
                    }
                    (clock.micros(&b[marks[1]..marks[1] + 17])?, v, c)
                }
            };
            cols.push(at, value, confidence, heart);
            s.ws();
            match b.get(s.i)? {
                b',' => s.i += 1,
                b']' => {
                    s.i += 1;
                    break;
                }
                _ => return None,
            }
            s.ws();
        }
    }
    s.ws();
    (s.i == b.len()).then_some(cols)
}

/// A heart-rate file as columns, or `None` for anything but its known layout (other keys
/// or order, escapes, a cut-off file).
pub(super) fn heart_rate(b: &[u8]) -> Option<Columns> {
    records(b, true, Scan::heart)
}

/// A steps, distance, calories or altitude file as columns (the value quoted or not).
pub(super) fn points(b: &[u8]) -> Option<Columns> {
    records(b, false, Scan::point)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_numbers_are_read_as_the_float_parser_reads_them() {
        for text in [
            "0",
            "7",
            "61",
            "-3.5",
            "0.25",
            "112",
            "0.54",
            "1234.5678",
            "-0.1",
            "99.99",
            "0.3",
            "123456789012345",
            "0.00000000000001",
            "3.14159265358979",
        ] {
            let mut j = 0;
            let got = plain_number(text.as_bytes(), &mut j).unwrap();
            assert_eq!(got, text.parse::<f64>().unwrap(), "{text}");
            assert_eq!(j, text.len(), "{text}");
        }
        // And 200,000 random ones: up to 15 digits, the dot anywhere, either sign.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..200_000 {
            let len = 1 + (next() % 15) as usize;
            let mut text: String = (0..len)
                .map(|_| char::from(b'0' + (next() % 10) as u8))
                .collect();
            let dot = (next() % (len as u64 + 1)) as usize;
            if dot > 0 && dot < len {
                text.insert(dot, '.');
            }
            if next() % 4 == 0 {
                text.insert(0, '-');
            }
            let mut j = 0;
            let got = plain_number(text.as_bytes(), &mut j).unwrap();
            assert_eq!(
                got.to_bits(),
                text.parse::<f64>().unwrap().to_bits(),
                "{text}"
            );
        }
        for left in ["1234567890123456", "-", ".5", "5.", "x"] {
            let mut j = 0;
            let got = plain_number(left.as_bytes(), &mut j);
            assert!(got.is_none() || j < left.len(), "{left}");
        }
    }

    #[test]
    fn a_record_off_the_template_is_read_field_by_field() {
        // The first record sets the template; the second has no confidence, the third a
        // decimal and another spacing, the fourth the template again.
        let body = br#"[{
  "dateTime" : "07/09/17 14:00:04",
  "value" : {
    "bpm" : 61,
    "confidence" : 3
  }
},{
  "dateTime" : "07/09/17 14:00:09",
  "value" : {
    "bpm" : 62
  }
},{"dateTime":"07/10/17 00:00:01","value":{"bpm":60.5,"confidence":1}},{
  "dateTime" : "07/10/17 00:00:06",
  "value" : {
    "bpm" : 59,
    "confidence" : 2
  }
}]"#;
        let cols = heart_rate(body).unwrap();
        let rows: Vec<_> = cols.rows().collect();
        let at = |s: &str| us_time(s).unwrap();
        assert_eq!(
            rows,
            vec![
                (at("07/09/17 14:00:04"), 61.0, Some(3.0)),
                (at("07/09/17 14:00:09"), 62.0, None),
                (at("07/10/17 00:00:01"), 60.5, Some(1.0)),
                (at("07/10/17 00:00:06"), 59.0, Some(2.0)),
            ]
        );
        assert_eq!(cols.missing, vec![1]);
    }

    #[test]
    fn a_bad_stamp_is_refused_on_the_template_path_too() {
        let record = |t: &str| {
            format!("{{\n  \"dateTime\" : \"{t}\",\n  \"value\" : {{\n    \"bpm\" : 61,\n    \"confidence\" : 3\n  }}\n}}")
        };
        for bad in [
            "07/09/17 24:00:00",
            "07/32/17 10:00:00",
            "07/09/17 10:60:00",
            "07/09/17 10-00-00",
        ] {
            let body = format!("[{},{}]", record("07/09/17 14:00:04"), record(bad));
            assert!(heart_rate(body.as_bytes()).is_none(), "{bad}");
        }
    }

    #[test]
    fn thousands_of_records_agree_with_serde_in_every_layout_mix() {
        use super::super::{Bpm, Point};
        // Jackson's layout mostly, with records that leave it now and then: no
        // confidence, a decimal, compact spacing, a quoted number.
        let mut seed = 7u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed >> 33
        };
        let mut body = String::from("[");
        for i in 0..5_000u64 {
            let t = 1_500_000_000 + i * 7;
            let at = chrono::DateTime::from_timestamp(t as i64, 0).unwrap();
            let stamp = at.format("%m/%d/%y %H:%M:%S");
            let bpm = 40 + next() % 150;
            let conf = next() % 4;
            if i > 0 {
                body.push(',');
            }
            match next() % 20 {
                0 => body.push_str(&format!(
                    "{{\n  \"dateTime\" : \"{stamp}\",\n  \"value\" : {{\n    \"bpm\" : {bpm}\n  }}\n}}"
                )),
                1 => body.push_str(&format!(
                    "{{\"dateTime\":\"{stamp}\",\"value\":{{\"bpm\":{bpm}.5,\"confidence\":{conf}}}}}"
                )),
                2 => body.push_str(&format!(
                    "{{ \"dateTime\" : \"{stamp}\", \"value\" : {{ \"bpm\" : \"{bpm}\", \"confidence\" : {conf} }} }}"
                )),
                _ => body.push_str(&format!(
                    "{{\n  \"dateTime\" : \"{stamp}\",\n  \"value\" : {{\n    \"bpm\" : {bpm},\n    \"confidence\" : {conf}\n  }}\n}}"
                )),
            }
        }
        body.push(']');
        let fast: Vec<_> = heart_rate(body.as_bytes()).unwrap().rows().collect();
        let slow: Vec<Point<Bpm>> = crate::from_json(body.as_bytes()).unwrap();
        let slow: Vec<_> = slow
            .iter()
            .map(|p| {
                (
                    p.date_time.0,
                    p.value.bpm.0,
                    p.value.confidence.map(|c| c.0),
                )
            })
            .collect();
        assert_eq!(fast.len(), 5_000);
        assert_eq!(fast, slow);
    }
}
