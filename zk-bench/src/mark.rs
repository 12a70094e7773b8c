//! A mark: the instant of an event outside the benchmark (for W6, the SIGKILL of an ensemble's
//! leader), handed over in a file as a Unix time, so a run can report how long clients waited from
//! that instant to their first successful write.
//!
//! The orchestrator writes the file after the event (e.g. `time.time()` right after `kill`); the
//! workload reads it once its measured phase is over and maps the wall-clock time onto its own
//! monotonic clock through an anchor taken at the start of the run. Both processes read the same
//! system clock, so the mapping is exact up to a clock step during the run.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

/// The same moment on the monotonic and the wall clock, taken together at the start of a run.
#[derive(Debug, Clone, Copy)]
pub struct Anchor {
    /// The monotonic instant.
    pub instant: Instant,
    /// The wall-clock time.
    pub wall: SystemTime,
}

impl Anchor {
    /// Now, on both clocks.
    pub fn now() -> Anchor {
        Anchor { instant: Instant::now(), wall: SystemTime::now() }
    }

    /// The monotonic instant of wall-clock time `wall` (clamped to what `Instant` can represent).
    pub fn instant_of(&self, wall: SystemTime) -> Instant {
        match wall.duration_since(self.wall) {
            Ok(after) => self.instant.checked_add(after).unwrap_or(self.instant),
            Err(before) => self.instant.checked_sub(before.duration()).unwrap_or(self.instant),
        }
    }
}

/// Parses a mark file's text: a Unix time in seconds, decimal fractions allowed (what Python's
/// `time.time()` prints), surrounding whitespace ignored. `None` for anything else.
pub fn parse_unix_time(text: &str) -> Option<SystemTime> {
    let secs: f64 = text.trim().parse().ok()?;
    let since_epoch = Duration::try_from_secs_f64(secs).ok()?;
    UNIX_EPOCH.checked_add(since_epoch)
}

/// Reads a mark file; `None` when it is missing or does not hold a Unix time.
pub fn read_mark_file(path: &Path) -> Option<SystemTime> {
    let text = std::fs::read_to_string(path).ok()?;
    parse_unix_time(&text)
}

/// One successful operation: when its request was sent and when its reply arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Success {
    /// Request sent.
    pub sent: Instant,
    /// Reply received.
    pub done: Instant,
}

/// How successful operations fell around a mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AroundMark {
    /// From the mark to the reply of the first successful request *sent after* it (to the end of
    /// the run if there was none). Replies that arrive after the mark to requests sent before it
    /// were decided before the event (a write the killed leader had already committed), so they do
    /// not end the outage.
    pub first_success_after: Duration,
    /// The gap that spans the mark: from the last reply at or before it (or the start of the run) to
    /// that first success.
    pub gap: Duration,
    /// Successful requests sent after the mark.
    pub successes_after: usize,
    /// Successful requests sent at or before the mark whose replies came after it.
    pub in_flight_at_mark: usize,
}

/// Where the mark falls among the `successes` of a run from `start` to `end`. A mark outside the
/// run is clamped into it.
pub fn around_mark(start: Instant, successes: &[Success], mark: Instant, end: Instant) -> AroundMark {
    let end = end.max(start);
    let mark = mark.clamp(start, end);
    let last_before = successes.iter().map(|s| s.done).filter(|done| *done <= mark).max().unwrap_or(start).max(start);
    let after = successes.iter().filter(|s| s.sent > mark);
    let first_after = after.clone().map(|s| s.done).min().unwrap_or(end).max(mark);
    AroundMark {
        first_success_after: first_after.saturating_duration_since(mark),
        gap: first_after.saturating_duration_since(last_before),
        successes_after: after.count(),
        in_flight_at_mark: successes.iter().filter(|s| s.sent <= mark && s.done > mark).count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_python_time_and_rejects_junk() {
        assert_eq!(parse_unix_time("1700000000.25\n"), Some(UNIX_EPOCH + Duration::from_millis(1_700_000_000_250)));
        assert_eq!(parse_unix_time(" 12 "), Some(UNIX_EPOCH + Duration::from_secs(12)));
        for junk in ["", "abc", "-1", "NaN", "inf", "1e400", "12 13", "\u{0}"] {
            assert_eq!(parse_unix_time(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn missing_file_is_no_mark() {
        let dir = std::env::temp_dir().join(format!("zk-bench-mark-{}", std::process::id()));
        assert_eq!(read_mark_file(&dir.join("absent")), None);
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("mark");
        std::fs::write(&file, "100.5").unwrap();
        assert_eq!(read_mark_file(&file), Some(UNIX_EPOCH + Duration::from_millis(100_500)));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn anchor_maps_wall_time_both_ways() {
        let anchor = Anchor::now();
        let later = anchor.wall + Duration::from_millis(1500);
        assert_eq!(anchor.instant_of(later), anchor.instant + Duration::from_millis(1500));
        let earlier = anchor.wall - Duration::from_millis(20);
        assert_eq!(anchor.instant_of(earlier) + Duration::from_millis(20), anchor.instant);
        // Decades before the run: still no panic (clamped if the monotonic clock cannot go back so far).
        assert!(anchor.instant_of(UNIX_EPOCH) <= anchor.instant);
    }

    fn ok(sent: Instant, done: Instant) -> Success {
        Success { sent, done }
    }

    #[test]
    fn gap_spans_the_mark() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let successes =
            [ok(ms(5), ms(10)), ok(ms(15), ms(20)), ok(ms(25), ms(30)), ok(ms(240), ms(250)), ok(ms(255), ms(260))];
        let around = around_mark(t0, &successes, ms(100), ms(300));
        assert_eq!(around.first_success_after, Duration::from_millis(150));
        assert_eq!(around.gap, Duration::from_millis(220));
        assert_eq!((around.successes_after, around.in_flight_at_mark), (2, 0));

        // A reply exactly at the mark is before it.
        let around = around_mark(t0, &successes, ms(30), ms(300));
        assert_eq!((around.first_success_after, around.gap), (Duration::from_millis(220), Duration::from_millis(220)));
    }

    #[test]
    fn replies_to_requests_sent_before_the_mark_do_not_end_the_outage() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        // Sent at 95 and 98, answered just after the mark at 100 (decided before it); the first
        // request sent after the mark succeeds at 400.
        let successes = [ok(ms(80), ms(90)), ok(ms(95), ms(103)), ok(ms(98), ms(105)), ok(ms(350), ms(400))];
        let around = around_mark(t0, &successes, ms(100), ms(500));
        assert_eq!(around.first_success_after, Duration::from_millis(300));
        assert_eq!(around.gap, Duration::from_millis(310));
        assert_eq!((around.successes_after, around.in_flight_at_mark), (1, 2));
    }

    #[test]
    fn nothing_after_the_mark_runs_to_the_end() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let around = around_mark(t0, &[ok(ms(5), ms(10))], ms(100), ms(400));
        let expected = AroundMark {
            first_success_after: Duration::from_millis(300),
            gap: Duration::from_millis(390),
            successes_after: 0,
            in_flight_at_mark: 0,
        };
        assert_eq!(around, expected);
        let around = around_mark(t0, &[], ms(100), ms(400));
        assert_eq!((around.first_success_after, around.gap), (Duration::from_millis(300), Duration::from_millis(400)));
    }

    #[test]
    fn marks_outside_the_run_are_clamped() {
        let t0 = Instant::now() + Duration::from_secs(1);
        let ms = |n| t0 + Duration::from_millis(n);
        let successes = [ok(ms(45), ms(50)), ok(ms(55), ms(60))];
        let before = around_mark(t0, &successes, t0 - Duration::from_millis(500), ms(100));
        assert_eq!((before.first_success_after, before.gap, before.successes_after), (ms(50) - t0, ms(50) - t0, 2));
        let after = around_mark(t0, &successes, ms(5000), ms(100));
        assert_eq!((after.first_success_after, after.gap, after.successes_after), (Duration::ZERO, ms(40) - t0, 0));
    }
}
