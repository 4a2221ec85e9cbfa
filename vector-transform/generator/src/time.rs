//! Time for the generator: instants are `i64` microseconds since the Unix epoch (UTC), converted to
//! calendar fields with Howard Hinnant's `civil_from_days` (no allocation, no time-zone lookups on the
//! hot path), and written in each vendor's own timestamp spelling. Local times (admins' business hours)
//! use a per-day offset table built once from the TZ database.

use chrono::{NaiveDate, Offset, TimeZone};
use chrono_tz::Tz;

/// Microseconds since 1970-01-01T00:00:00Z.
pub type Micros = i64;

/// One second in [`Micros`].
pub const SECOND: Micros = 1_000_000;
/// One minute in [`Micros`].
pub const MINUTE: Micros = 60 * SECOND;
/// One hour in [`Micros`].
pub const HOUR: Micros = 60 * MINUTE;
/// One day in [`Micros`].
pub const DAY: Micros = 24 * HOUR;

/// Calendar fields of an instant in UTC (or of a local wall-clock time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    /// Year.
    pub year: i64,
    /// Month 1-12.
    pub month: u32,
    /// Day of month 1-31.
    pub day: u32,
    /// Hour 0-23.
    pub hour: u32,
    /// Minute 0-59.
    pub minute: u32,
    /// Second 0-59.
    pub second: u32,
    /// Microseconds 0-999,999.
    pub micros: u32,
    /// Day of week, 0 = Monday .. 6 = Sunday.
    pub weekday: u32,
}

/// Days since the epoch of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number since the epoch.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Splits an instant into calendar fields.
pub fn civil(t: Micros) -> Civil {
    let days = t.div_euclid(DAY);
    let rem = t.rem_euclid(DAY);
    let (year, month, day) = civil_from_days(days);
    let secs = rem / SECOND;
    Civil {
        year,
        month,
        day,
        hour: (secs / 3600) as u32,
        minute: ((secs / 60) % 60) as u32,
        second: (secs % 60) as u32,
        micros: (rem % SECOND) as u32,
        // 1970-01-01 was a Thursday (3 with Monday = 0).
        weekday: (days + 3).rem_euclid(7) as u32,
    }
}

/// Midnight UTC of a date.
pub fn midnight(y: i64, m: u32, d: u32) -> Micros {
    days_from_civil(y, m, d) * DAY
}

/// Parses `YYYY-MM-DD` (UTC midnight).
pub fn parse_date(s: &str) -> Option<Micros> {
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?;
    Some(midnight(
        i64::from(chrono::Datelike::year(&d)),
        chrono::Datelike::month(&d),
        chrono::Datelike::day(&d),
    ))
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
fn push_num(out: &mut Vec<u8>, v: u64, width: usize) {
    let mut b = itoa::Buffer::new();
    let s = b.format(v);
    for _ in s.len()..width {
        out.push(b'0');
    }
    out.extend_from_slice(s.as_bytes());
}

fn push_date(out: &mut Vec<u8>, c: &Civil, sep: u8) {
    push_num(out, c.year as u64, 4);
    out.push(sep);
    push_num(out, u64::from(c.month), 2);
    out.push(sep);
    push_num(out, u64::from(c.day), 2);
}

fn push_hms(out: &mut Vec<u8>, c: &Civil) {
    push_num(out, u64::from(c.hour), 2);
    out.push(b':');
    push_num(out, u64::from(c.minute), 2);
    out.push(b':');
    push_num(out, u64::from(c.second), 2);
}

/// `2026-03-04T22:17:03.5520981Z`: Graph and Azure Monitor (7 fraction digits; `tick` is the
/// 100-ns digit below the microseconds).
pub fn iso7(out: &mut Vec<u8>, t: Micros, tick: u8) {
    let c = civil(t);
    push_date(out, &c, b'-');
    out.push(b'T');
    push_hms(out, &c);
    out.push(b'.');
    push_num(out, u64::from(c.micros), 6);
    out.push(b'0' + tick % 10);
    out.push(b'Z');
}

/// `2024-12-02T08:01:17.412907361Z`: RFC 3339 with nanoseconds (Jamf Log Stream envelope).
pub fn rfc3339_nanos(out: &mut Vec<u8>, t: Micros, extra_nanos: u16) {
    let c = civil(t);
    push_date(out, &c, b'-');
    out.push(b'T');
    push_hms(out, &c);
    out.push(b'.');
    push_num(
        out,
        u64::from(c.micros) * 1000 + u64::from(extra_nanos % 1000),
        9,
    );
    out.push(b'Z');
}

/// `2026-03-15T19:58:31Z`: whole seconds (Graph managedDevice times).
pub fn iso_secs_z(out: &mut Vec<u8>, t: Micros) {
    let c = civil(t);
    push_date(out, &c, b'-');
    out.push(b'T');
    push_hms(out, &c);
    out.push(b'Z');
}

/// `2025-11-24T08:05:12.000Z`: milliseconds (RFC 5424 syslog header).
pub fn iso_millis_z(out: &mut Vec<u8>, t: Micros) {
    let c = civil(t);
    push_date(out, &c, b'-');
    out.push(b'T');
    push_hms(out, &c);
    out.push(b'.');
    push_num(out, u64::from(c.micros / 1000), 3);
    out.push(b'Z');
}

/// `2024-12-04T10:22:45,940`: Jamf access / change-management header (comma millis, no zone).
pub fn jamf_header(out: &mut Vec<u8>, t: Micros) {
    let c = civil(t);
    push_date(out, &c, b'-');
    out.push(b'T');
    push_hms(out, &c);
    out.push(b',');
    push_num(out, u64::from(c.micros / 1000), 3);
}

/// `2024-12-04T10:22:45.940+0000`: the ISO time that ends a change-management header.
pub fn jamf_iso_offset(out: &mut Vec<u8>, t: Micros) {
    let c = civil(t);
    push_date(out, &c, b'-');
    out.push(b'T');
    push_hms(out, &c);
    out.push(b'.');
    push_num(out, u64::from(c.micros / 1000), 3);
    out.extend_from_slice(b"+0000");
}

/// `3/10/2026 6:00:14 PM`: Intune diagnostic `ActivityDate` (UTC, 12-hour clock).
pub fn us_date_12h(out: &mut Vec<u8>, t: Micros) {
    let c = civil(t);
    push_num(out, u64::from(c.month), 1);
    out.push(b'/');
    push_num(out, u64::from(c.day), 1);
    out.push(b'/');
    push_num(out, c.year as u64, 4);
    out.push(b' ');
    let h12 = match c.hour % 12 {
        0 => 12,
        h => h,
    };
    push_num(out, u64::from(h12), 1);
    out.push(b':');
    push_num(out, u64::from(c.minute), 2);
    out.push(b':');
    push_num(out, u64::from(c.second), 2);
    out.extend_from_slice(if c.hour < 12 { b" AM" } else { b" PM" });
}

/// `3/16/2026 7:12 AM`: the date part of Intune's managed-device names.
pub fn us_date_12h_minutes(out: &mut Vec<u8>, t: Micros) {
    let mut tmp = Vec::with_capacity(24);
    us_date_12h(&mut tmp, t);
    // Drop the seconds (":SS" before " AM").
    let n = tmp.len();
    out.extend_from_slice(&tmp[..n - 6]);
    out.extend_from_slice(&tmp[n - 3..]);
}

/// `November 21, 2025 16:42:09`: Workspace ONE syslog `Event Timestamp` (no zone).
pub fn ws1_syslog(out: &mut Vec<u8>, t: Micros) {
    let c = civil(t);
    out.extend_from_slice(MONTHS[(c.month - 1) as usize].as_bytes());
    out.push(b' ');
    push_num(out, u64::from(c.day), 1);
    out.extend_from_slice(b", ");
    push_num(out, c.year as u64, 4);
    out.push(b' ');
    push_hms(out, &c);
}

/// `2026-03-15 22:41:08.3355621`: Log Analytics style date-time (7 fraction digits, no zone).
pub fn la_datetime(out: &mut Vec<u8>, t: Micros, tick: u8) {
    let c = civil(t);
    push_date(out, &c, b'-');
    out.push(b' ');
    push_hms(out, &c);
    out.push(b'.');
    push_num(out, u64::from(c.micros), 6);
    out.push(b'0' + tick % 10);
}

/// Epoch milliseconds (Jamf webhook `eventTimestamp`, 13 digits).
pub fn epoch_millis(t: Micros) -> i64 {
    t.div_euclid(1000)
}

/// Epoch seconds (the 10-digit `eventTimestamp` some Jamf webhooks send).
pub fn epoch_secs(t: Micros) -> i64 {
    t.div_euclid(SECOND)
}

/// UTC offsets of the time zones the estate uses, per day of the simulated period (DST included), so
/// local wall-clock times are a table lookup.
#[derive(Debug, Clone)]
pub struct TzTable {
    start: Micros,
    /// `offsets[zone][day]` in seconds east of UTC, at local noon of that day.
    offsets: Vec<Vec<i32>>,
    names: Vec<&'static str>,
}

impl TzTable {
    /// Builds the table for `zones` over `days` days from `start` (UTC midnight), one spare day each side.
    pub fn new(zones: &[&'static str], start: Micros, days: u32) -> Self {
        let offsets = zones
            .iter()
            .map(|name| {
                let tz: Tz = name.parse().unwrap_or(chrono_tz::UTC);
                (-1..=i64::from(days) + 1)
                    .map(|d| {
                        let noon = start + d * DAY + 12 * HOUR;
                        let secs = noon.div_euclid(SECOND);
                        tz.timestamp_opt(secs, 0)
                            .single()
                            .map_or(0, |dt| dt.offset().fix().local_minus_utc())
                    })
                    .collect()
            })
            .collect();
        Self {
            start,
            offsets,
            names: zones.to_vec(),
        }
    }

    /// The zone's TZ database name.
    pub fn name(&self, zone: usize) -> &'static str {
        self.names[zone]
    }

    /// The index of a zone by its TZ database name.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| *n == name)
    }

    /// The offset (seconds east of UTC) of `zone` around instant `t`.
    pub fn offset(&self, zone: usize, t: Micros) -> i32 {
        let table = &self.offsets[zone];
        let day = (t - self.start).div_euclid(DAY) + 1;
        let idx = day.clamp(0, table.len() as i64 - 1) as usize;
        table[idx]
    }

    /// `t` as local wall-clock fields in `zone`.
    pub fn local(&self, zone: usize, t: Micros) -> Civil {
        civil(t + i64::from(self.offset(zone, t)) * SECOND)
    }

    /// The UTC instant of local wall-clock time `hour:minute` on the local date of day `day` (0-based
    /// from the period start) in `zone`.
    pub fn at_local(&self, zone: usize, day: i64, hour: u32, minute: u32) -> Micros {
        let (y, m, d) = civil_from_days(self.start.div_euclid(DAY) + day);
        let local = midnight(y, m, d) + i64::from(hour) * HOUR + i64::from(minute) * MINUTE;
        let guess = local - i64::from(self.offset(zone, local)) * SECOND;
        local - i64::from(self.offset(zone, guess)) * SECOND
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Datelike, Timelike, Utc};

    fn text(f: impl Fn(&mut Vec<u8>)) -> String {
        let mut v = Vec::new();
        f(&mut v);
        String::from_utf8(v).expect("ascii")
    }

    #[test]
    fn civil_agrees_with_chrono_over_centuries() {
        let mut t: Micros = -2_208_988_800 * SECOND; // 1900
        while t < 4_102_444_800 * SECOND {
            let c = civil(t);
            let d = DateTime::<Utc>::from_timestamp_micros(t).expect("in range");
            assert_eq!(
                (c.year, c.month, c.day, c.hour, c.minute, c.second, c.micros),
                (
                    i64::from(d.year()),
                    d.month(),
                    d.day(),
                    d.hour(),
                    d.minute(),
                    d.second(),
                    d.timestamp_subsec_micros()
                )
            );
            assert_eq!(c.weekday, d.weekday().num_days_from_monday());
            assert_eq!(days_from_civil(c.year, c.month, c.day), t.div_euclid(DAY));
            t += 86_399_123_457;
        }
    }

    #[test]
    fn vendor_spellings() {
        let t = midnight(2026, 3, 10) + 18 * HOUR + 14 * SECOND + 915_123;
        assert_eq!(text(|o| iso7(o, t, 4)), "2026-03-10T18:00:14.9151234Z");
        assert_eq!(text(|o| us_date_12h(o, t)), "3/10/2026 6:00:14 PM");
        assert_eq!(
            text(|o| us_date_12h(o, midnight(2026, 3, 10))),
            "3/10/2026 12:00:00 AM"
        );
        assert_eq!(text(|o| us_date_12h_minutes(o, t)), "3/10/2026 6:00 PM");
        assert_eq!(text(|o| jamf_header(o, t)), "2026-03-10T18:00:14,915");
        assert_eq!(
            text(|o| jamf_iso_offset(o, t)),
            "2026-03-10T18:00:14.915+0000"
        );
        assert_eq!(text(|o| ws1_syslog(o, t)), "March 10, 2026 18:00:14");
        assert_eq!(
            text(|o| rfc3339_nanos(o, t, 77)),
            "2026-03-10T18:00:14.915123077Z"
        );
        assert_eq!(text(|o| iso_secs_z(o, t)), "2026-03-10T18:00:14Z");
        assert_eq!(text(|o| iso_millis_z(o, t)), "2026-03-10T18:00:14.915Z");
        assert_eq!(
            text(|o| la_datetime(o, t, 9)),
            "2026-03-10 18:00:14.9151239"
        );
        assert_eq!(epoch_millis(t), 1_773_165_614_915);
        assert_eq!(epoch_secs(t), 1_773_165_614);
        assert_eq!(parse_date("2026-03-10"), Some(midnight(2026, 3, 10)));
        assert_eq!(parse_date("2026-13-10"), None);
    }

    #[test]
    fn local_time_follows_dst() {
        let start = midnight(2026, 3, 2);
        let table = TzTable::new(&["America/New_York", "Europe/Berlin"], start, 30);
        // New York is UTC-5 before 2026-03-08, UTC-4 after.
        assert_eq!(table.offset(0, start), -5 * 3600);
        assert_eq!(table.offset(0, start + 10 * DAY), -4 * 3600);
        assert_eq!(table.offset(1, start), 3600);
        let t = table.at_local(0, 0, 4, 30);
        assert_eq!(t, start + 9 * HOUR + 30 * MINUTE);
        let local = table.local(0, t);
        assert_eq!((local.hour, local.minute, local.day), (4, 30, 2));
        let t = table.at_local(0, 10, 4, 30);
        assert_eq!(table.local(0, t).hour, 4);
    }
}
