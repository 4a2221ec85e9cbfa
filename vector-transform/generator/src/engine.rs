//! The parts every process of the estate shares: the fleet, the record buffer, the sink with per-feed
//! record counters (a record's index in its feed file is the counter before it is written), and the
//! time samplers that give each stream exactly its number of events, in time order, shaped by a daily
//! and weekly rhythm.

use std::rc::Rc;

use sha2::{Digest, Sha256};

use super::buf::Buf;
use super::feeds::{Feed, FeedSink};
use super::fleet::Fleet;
use super::rng::Rng;
use super::time::{DAY, HOUR, Micros};
use crate::GenerateError;

/// Shared state while generating.
pub struct Engine<'a> {
    /// The organisation (device state changes as events happen).
    pub fleet: Fleet,
    /// The record being written.
    pub b: Buf,
    sink: &'a mut dyn FeedSink,
    /// Records written per feed (index of the next record of each feed).
    pub counts: [u64; Feed::ALL.len()],
    /// Records written in total.
    pub written: u64,
    /// When set, the SHA-256 (hex) of every record written is kept in `hashes` (scenario records).
    pub capture: bool,
    /// Hashes of the records written while `capture` was set.
    pub hashes: Vec<String>,
}

impl std::fmt::Debug for Engine<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("counts", &self.counts)
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

impl<'a> Engine<'a> {
    /// Wraps the fleet and the sink.
    pub fn new(fleet: Fleet, sink: &'a mut dyn FeedSink) -> Self {
        Self {
            fleet,
            b: Buf::new(),
            sink,
            counts: [0; Feed::ALL.len()],
            written: 0,
            capture: false,
            hashes: Vec::new(),
        }
    }

    /// Writes the buffer as the next record of `feed` and returns its 0-based index in the feed.
    pub fn emit(&mut self, feed: Feed) -> Result<u64, GenerateError> {
        debug_assert!(
            !self.b.bytes.contains(&b'\n'),
            "a record must be one line: {}",
            self.b.as_str()
        );
        let index = self.counts[feed.index()];
        if self.capture {
            self.hashes.push(hex::encode(Sha256::digest(&self.b.bytes)));
        }
        self.sink.write_record(feed, &self.b.bytes)?;
        self.counts[feed.index()] += 1;
        self.written += 1;
        self.b.clear();
        Ok(index)
    }

    /// Flushes the sink.
    pub fn finish(&mut self) -> Result<(), GenerateError> {
        self.sink.finish()
    }
}

/// An intensity over the period, one weight per hour, as a cumulative table.
#[derive(Debug)]
pub struct Profile {
    start: Micros,
    cdf: Vec<f64>,
}

impl Profile {
    /// Builds the table from `weight(hour_start)` for every hour of `days` days from `start`.
    pub fn new(start: Micros, days: u32, weight: impl Fn(Micros) -> f64) -> Self {
        let hours = days as usize * 24;
        let mut cdf = Vec::with_capacity(hours + 1);
        cdf.push(0.0);
        let mut acc = 0.0;
        for h in 0..hours {
            acc += weight(start + h as i64 * HOUR).max(0.0);
            cdf.push(acc);
        }
        if acc <= 0.0 {
            // Degenerate: fall back to a flat profile.
            for (i, c) in cdf.iter_mut().enumerate() {
                *c = i as f64;
            }
        }
        Self { start, cdf }
    }

    fn total(&self) -> f64 {
        self.cdf[self.cdf.len() - 1]
    }

    fn hours(&self) -> usize {
        self.cdf.len() - 1
    }
}

/// Produces a stream's event times, ascending, exactly `count` of them.
#[derive(Debug)]
pub enum Sampler {
    /// `count` times drawn from `profile`, generated already sorted: the descending maxima of uniform
    /// samples (`v_k = v_{k+1} * U^(1/k)`) give the ascending order statistics `1 - v`, which the
    /// profile's inverse CDF maps to instants. O(1) memory whatever the count.
    Sorted {
        /// The intensity.
        profile: Rc<Profile>,
        /// Current maximum.
        v: f64,
        /// Times still to produce.
        left: u64,
        /// Current hour bucket (only moves forward).
        ptr: usize,
    },
    /// A daily batch: `count` records spread evenly over the days, all at `offset` after midnight UTC.
    Batch {
        /// Period start.
        start: Micros,
        /// Days in the period.
        days: i64,
        /// Records per day (the first `extra` days get one more).
        base: u64,
        /// Days that get one more record.
        extra: u64,
        /// Time of day of the batch.
        offset: Micros,
        /// Current day (-1 before the first).
        day: i64,
        /// Records left today.
        left_today: u64,
    },
}

impl Sampler {
    /// A sorted sampler of `count` times.
    pub fn sorted(profile: Rc<Profile>, count: u64) -> Self {
        Sampler::Sorted {
            profile,
            v: 1.0,
            left: count,
            ptr: 0,
        }
    }

    /// A daily batch sampler of `count` records.
    pub fn batch(start: Micros, days: u32, count: u64, offset: Micros) -> Self {
        let days = i64::from(days.max(1));
        Sampler::Batch {
            start,
            days,
            base: count / days as u64,
            extra: count % days as u64,
            offset,
            day: -1,
            left_today: 0,
        }
    }

    /// The next time, or `None` when the stream is done.
    pub fn next(&mut self, rng: &mut Rng) -> Option<Micros> {
        match self {
            Sampler::Sorted {
                profile,
                v,
                left,
                ptr,
            } => {
                if *left == 0 {
                    return None;
                }
                let u = 1.0 - rng.f64(); // (0, 1]
                *v *= u.powf(1.0 / *left as f64);
                *left -= 1;
                let x = (1.0 - *v) * profile.total();
                let hours = profile.hours();
                while *ptr + 1 < hours && profile.cdf[*ptr + 1] <= x {
                    *ptr += 1;
                }
                let lo = profile.cdf[*ptr];
                let hi = profile.cdf[*ptr + 1];
                let frac = if hi > lo {
                    ((x - lo) / (hi - lo)).clamp(0.0, 0.999_999_99)
                } else {
                    0.0
                };
                Some(profile.start + *ptr as i64 * HOUR + (frac * HOUR as f64) as i64)
            }
            Sampler::Batch {
                start,
                days,
                base,
                extra,
                offset,
                day,
                left_today,
            } => {
                while *left_today == 0 {
                    *day += 1;
                    if *day >= *days {
                        return None;
                    }
                    *left_today = *base + u64::from((*day as u64) < *extra);
                }
                *left_today -= 1;
                Some(*start + *day * DAY + *offset)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_sampler_gives_exactly_count_ascending_times_in_the_period() {
        let start = 1_000 * DAY;
        // Weight only 09:00-17:00.
        let profile = Rc::new(Profile::new(start, 3, |t| {
            let h = (t - start) / HOUR % 24;
            if (9..17).contains(&h) { 1.0 } else { 0.0 }
        }));
        let mut s = Sampler::sorted(profile, 5_000);
        let mut rng = Rng::new(3);
        let mut last = i64::MIN;
        let mut n = 0;
        while let Some(t) = s.next(&mut rng) {
            assert!(t >= last, "not ascending");
            assert!((start..start + 3 * DAY).contains(&t));
            let h = (t - start) / HOUR % 24;
            assert!((9..17).contains(&h), "outside the profile: hour {h}");
            last = t;
            n += 1;
        }
        assert_eq!(n, 5_000);
        // Spread over all three days.
        assert!(last >= start + 2 * DAY);
    }

    #[test]
    fn batch_sampler_spreads_count_over_days() {
        let mut s = Sampler::batch(0, 3, 7, HOUR);
        let mut rng = Rng::new(1);
        let times: Vec<Micros> = std::iter::from_fn(|| s.next(&mut rng)).collect();
        assert_eq!(
            times,
            vec![
                HOUR,
                HOUR,
                HOUR,
                DAY + HOUR,
                DAY + HOUR,
                2 * DAY + HOUR,
                2 * DAY + HOUR
            ]
        );
    }
}
