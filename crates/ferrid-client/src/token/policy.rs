//! When a [`super::TokenSource`] refreshes and how it backs off.

use std::time::Duration;

/// Refresh and retry settings of a token source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshPolicy {
    /// Refresh this long before expiry, at most half the token's lifetime. Default 60 s.
    pub margin: Duration,
    /// Lifetime assumed when the response has no `expires_in` and the token is not a JWT
    /// with an `exp`. Default 5 minutes.
    pub default_lifetime: Duration,
    /// Extra attempts after a retryable failure, within one refresh. Default 2.
    pub retries: u32,
    /// Back-off after the first failure; doubles with each consecutive failure, with
    /// jitter (each delay is drawn from its upper half). Default 250 ms.
    pub backoff_initial: Duration,
    /// Longest back-off. Default 30 s.
    pub backoff_max: Duration,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        RefreshPolicy {
            margin: Duration::from_secs(60),
            default_lifetime: Duration::from_secs(300),
            retries: 2,
            backoff_initial: Duration::from_millis(250),
            backoff_max: Duration::from_secs(30),
        }
    }
}

impl RefreshPolicy {
    /// The delay after `streak` consecutive failures (1 = the first), jittered in
    /// `[d/2, d]` where `d = min(max, initial · 2^(streak-1))`.
    pub fn backoff(&self, streak: u32) -> Duration {
        let d = self.backoff_ceiling(streak);
        d / 2 + d.mul_f64(random_unit() / 2.0)
    }

    fn backoff_ceiling(&self, streak: u32) -> Duration {
        let doublings = streak.saturating_sub(1).min(30);
        self.backoff_initial.saturating_mul(1 << doublings).min(self.backoff_max)
    }

    /// When to refresh a token of `lifetime`: `lifetime - min(margin, lifetime / 2)`.
    pub fn refresh_after(&self, lifetime: Duration) -> Duration {
        lifetime - self.margin.min(lifetime / 2)
    }
}

/// A uniform draw from `[0, 1)`.
fn random_unit() -> f64 {
    let mut b = [0u8; 4];
    crate::env::fill_random(&mut b);
    f64::from(u32::from_le_bytes(b)) / (f64::from(u32::MAX) + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_caps() {
        let p = RefreshPolicy {
            backoff_initial: Duration::from_millis(100),
            backoff_max: Duration::from_secs(1),
            ..Default::default()
        };
        for (streak, ceiling) in [(1, 100), (2, 200), (3, 400), (4, 800), (5, 1000), (40, 1000)] {
            for _ in 0..50 {
                let d = p.backoff(streak).as_millis();
                assert!(d >= ceiling / 2 && d <= ceiling, "streak {streak}: {d} ms");
            }
        }
    }

    #[test]
    fn margin_is_clamped_to_half_the_lifetime() {
        let p = RefreshPolicy { margin: Duration::from_secs(60), ..Default::default() };
        assert_eq!(p.refresh_after(Duration::from_secs(3600)), Duration::from_secs(3540));
        assert_eq!(p.refresh_after(Duration::from_secs(2)), Duration::from_secs(1));
    }
}
