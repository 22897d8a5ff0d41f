//! Login attempts are limited per user name and per client address, so passwords cannot be
//! guessed at speed. Failures are counted in a sliding window in memory.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed per user name within [`WINDOW`].
pub const PER_USER: usize = 10;
/// Failures allowed per address within [`WINDOW`] (an address may serve many users).
pub const PER_ADDRESS: usize = 30;
pub const WINDOW: Duration = Duration::from_secs(300);

#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl LoginThrottle {
    /// `Err(wait)` if `user` or `address` failed too often lately.
    pub fn check(&self, user: &str, address: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut map = self
            .failures
            .lock()
            .expect("never poisoned: no panics while held");
        let mut wait = None;
        for (key, limit) in [
            (format!("user:{user}"), PER_USER),
            (format!("addr:{address}"), PER_ADDRESS),
        ] {
            if let Some(times) = map.get_mut(&key) {
                times.retain(|t| now.duration_since(*t) < WINDOW);
                if times.len() >= limit {
                    let oldest = times[0];
                    wait = Some(WINDOW.saturating_sub(now.duration_since(oldest)));
                }
            }
        }
        wait.map_or(Ok(()), Err)
    }

    pub fn failed(&self, user: &str, address: &str) {
        let now = Instant::now();
        let mut map = self
            .failures
            .lock()
            .expect("never poisoned: no panics while held");
        for key in [format!("user:{user}"), format!("addr:{address}")] {
            map.entry(key).or_default().push(now);
        }
        // Keep the map from growing without bound under a spray of names.
        if map.len() > 100_000 {
            map.retain(|_, times| times.iter().any(|t| now.duration_since(*t) < WINDOW));
        }
    }

    pub fn succeeded(&self, user: &str) {
        self.failures
            .lock()
            .expect("never poisoned: no panics while held")
            .remove(&format!("user:{user}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_user_and_per_address() {
        let t = LoginThrottle::default();
        for _ in 0..PER_USER {
            assert!(t.check("ann", "1.1.1.1").is_ok());
            t.failed("ann", "1.1.1.1");
        }
        assert!(
            t.check("ann", "2.2.2.2").is_err(),
            "the user is limited from anywhere"
        );
        assert!(t.check("bob", "2.2.2.2").is_ok());
        for i in 0..PER_ADDRESS {
            t.failed(&format!("u{i}"), "3.3.3.3");
        }
        assert!(
            t.check("carl", "3.3.3.3").is_err(),
            "the address is limited for anyone"
        );
        t.succeeded("ann");
        assert!(t.check("ann", "2.2.2.2").is_ok());
    }
}
