//! When traffic last passed through a route: a lock-free timestamp that requests and
//! websocket data touch, and CHP's way of writing it.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use std::sync::atomic::{AtomicI64, Ordering};

/// Milliseconds since the Unix epoch of the last traffic. Shared (`Arc`) between the route
/// table and every connection forwarding for the route, so touching it needs no lock.
#[derive(Debug)]
pub struct Activity(AtomicI64);

impl Activity {
    pub fn now() -> Self {
        Activity(AtomicI64::new(now_millis()))
    }

    pub fn at(millis: i64) -> Self {
        Activity(AtomicI64::new(millis))
    }

    /// Record traffic now. Cheap on a hot path: one relaxed load, and a store only when the
    /// clock has moved on a millisecond, so a busy websocket does not write per chunk.
    pub fn touch(&self) {
        let now = now_millis();
        if now > self.0.load(Ordering::Relaxed) {
            self.0.fetch_max(now, Ordering::Relaxed);
        }
    }

    pub fn millis(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }

    /// CHP's `last_activity`: JavaScript's `Date.toISOString()`, e.g.
    /// `2026-01-31T12:00:00.123Z` (UTC, milliseconds, `Z`).
    pub fn to_iso(&self) -> String {
        format_millis(self.millis())
    }
}

pub fn now_millis() -> i64 {
    Utc::now().timestamp_millis()
}

pub fn format_millis(millis: i64) -> String {
    let at = Utc
        .timestamp_millis_opt(millis)
        .single()
        .unwrap_or_default();
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parse a timestamp the way the API's `inactive_since` and the routes file need: RFC 3339
/// (`...Z` or an offset), or a date and time without an offset, read as UTC, or a bare date.
pub fn parse_iso(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc());
        }
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_javascript_to_iso_string() {
        assert_eq!(format_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_millis(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }

    #[test]
    fn touch_only_moves_forward() {
        let a = Activity::at(0);
        a.touch();
        let first = a.millis();
        assert!(first > 0);
        let later = Activity::at(i64::MAX - 1);
        later.touch();
        assert_eq!(later.millis(), i64::MAX - 1);
    }

    #[test]
    fn parses_the_timestamps_clients_send() {
        let want = format_millis(1_700_000_000_000);
        for s in [
            "2023-11-14T22:13:20Z",
            "2023-11-14T22:13:20.000Z",
            "2023-11-14T23:13:20+01:00",
            "2023-11-14T22:13:20",
            "2023-11-14T22:13:20.000000",
        ] {
            let t = parse_iso(s).unwrap_or_else(|| panic!("{s}"));
            assert_eq!(format_millis(t.timestamp_millis()), want, "{s}");
        }
        assert!(parse_iso("2023-11-14").is_some());
        assert!(parse_iso("yesterday").is_none());
    }
}
