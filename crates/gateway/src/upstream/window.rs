//! Counts over a sliding time window, kept in a fixed number of buckets:
//! memory stays the same however busy an account is, and a bucket older
//! than the window is forgotten (its slot reused) as time moves on.

use std::time::Duration;

use tokio::time::Instant;

/// Buckets per window: the window slides in steps of a tenth of its span,
/// so it covers between nine and ten tenths of it.
const BUCKETS: usize = 10;

#[derive(Debug)]
pub struct SlidingWindow<T> {
    origin: Instant,
    bucket: Duration,
    /// Each slot: the number of the bucket it holds, and its counts.
    slots: [(u64, T); BUCKETS],
}

impl<T: Copy + Default> SlidingWindow<T> {
    pub fn new(span: Duration) -> SlidingWindow<T> {
        SlidingWindow {
            origin: Instant::now(),
            bucket: (span / BUCKETS as u32).max(Duration::from_millis(1)),
            // No bucket is numbered u64::MAX before the heat death of the universe.
            slots: [(u64::MAX, T::default()); BUCKETS],
        }
    }

    fn number(&self, now: Instant) -> u64 {
        let elapsed = now.saturating_duration_since(self.origin).as_nanos();
        u64::try_from(elapsed / self.bucket.as_nanos()).unwrap_or(u64::MAX - 1)
    }

    /// The counts of the bucket `now` falls in, started afresh when its
    /// slot still holds an older bucket.
    pub fn at(&mut self, now: Instant) -> &mut T {
        let number = self.number(now);
        let slot = &mut self.slots[(number % BUCKETS as u64) as usize];
        if slot.0 != number {
            *slot = (number, T::default());
        }
        &mut slot.1
    }

    /// The counts of every bucket still inside the window at `now`.
    pub fn live(&self, now: Instant) -> impl Iterator<Item = &T> {
        let number = self.number(now);
        self.slots
            .iter()
            .filter(move |(n, _)| *n <= number && number - *n < BUCKETS as u64)
            .map(|(_, counts)| counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn total(window: &SlidingWindow<u32>) -> u32 {
        window.live(Instant::now()).sum()
    }

    #[tokio::test(start_paused = true)]
    async fn old_buckets_age_out() {
        let mut window = SlidingWindow::<u32>::new(Duration::from_secs(10));
        *window.at(Instant::now()) += 3;
        tokio::time::advance(Duration::from_secs(5)).await;
        *window.at(Instant::now()) += 4;
        assert_eq!(total(&window), 7);
        // The first bucket leaves the window; the second is still in it.
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(total(&window), 4);
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(total(&window), 0);
        // A slot that comes round again starts from nothing.
        *window.at(Instant::now()) += 1;
        assert_eq!(total(&window), 1);
    }
}
