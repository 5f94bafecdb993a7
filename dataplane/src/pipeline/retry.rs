//! Retry policy: exponential backoff with full jitter, capped; an endpoint's Retry-After
//! is honoured (up to a cap). Retryable errors are retried until they succeed: a block is
//! never dropped because an endpoint is down or slow.

use std::time::Duration;

use model::endpoints::sink::{Acknowledged, DeliveryError, OutgoingBlock, Sink};

#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    pub initial: Duration,
    pub max: Duration,
    /// The longest Retry-After honoured.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `attempt` (1 = the first retry).
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(asked) = retry_after {
            return asked.min(self.max_retry_after);
        }
        let ceiling = self
            .initial
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20))
            .min(self.max);
        // Full jitter: spreads the retries of many streams after a shared outage.
        ceiling.mul_f64(fastrand::f64())
    }
}

/// Delivers `block` through the sink `sink()` gives at each attempt, retrying what can
/// succeed later. Returns the acknowledgement, or the terminal error; `on_attempt` hears
/// of every attempt (its number, outcome and duration).
pub async fn deliver_with_retries(
    sink: impl Fn() -> std::sync::Arc<dyn Sink>,
    block: &OutgoingBlock,
    policy: &RetryPolicy,
    mut on_attempt: impl FnMut(u32, &Result<Acknowledged, DeliveryError>, Duration),
) -> Result<Acknowledged, DeliveryError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let started = std::time::Instant::now();
        let outcome = sink().deliver(block).await;
        on_attempt(attempt, &outcome, started.elapsed());
        match outcome {
            Ok(acknowledged) => return Ok(acknowledged),
            Err(error @ DeliveryError::Terminal { .. }) => return Err(error),
            Err(DeliveryError::Retryable { retry_after, .. }) => {
                tokio::time::sleep(policy.delay(attempt, retry_after)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_the_cap_with_jitter_and_honours_retry_after() {
        let policy = RetryPolicy::default();
        for attempt in 1..40 {
            let d = policy.delay(attempt, None);
            assert!(d <= policy.max, "{d:?}");
            let ceiling = policy
                .initial
                .saturating_mul(1 << (attempt - 1).min(20))
                .min(policy.max);
            assert!(d <= ceiling);
        }
        assert_eq!(
            policy.delay(3, Some(Duration::from_secs(7))),
            Duration::from_secs(7)
        );
        assert_eq!(
            policy.delay(1, Some(Duration::from_secs(9999))),
            policy.max_retry_after
        );
    }
}
