//! Time and waiting, injectable so tests and the demo never really sleep.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

/// What the client reads the time from and waits with.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
    /// Waits `d` (or makes `d` pass).
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// The system clock and real sleeps.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(d.to_std().unwrap_or_default()))
    }
}

/// Makes simulated time pass.
type Advance = Box<dyn Fn(Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// A clock whose waits are passed on to a function (the simulator's clock control), so
/// waiting an hour for a rate-limit reset takes no real time.
pub struct ExternalClock {
    now: Box<dyn Fn() -> DateTime<Utc> + Send + Sync>,
    advance: Advance,
}

impl ExternalClock {
    /// A clock reading `now` and waiting by calling `advance`.
    pub fn new(
        now: impl Fn() -> DateTime<Utc> + Send + Sync + 'static,
        advance: impl Fn(Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync + 'static,
    ) -> Arc<Self> {
        Arc::new(Self {
            now: Box::new(now),
            advance: Box::new(advance),
        })
    }
}

impl Clock for ExternalClock {
    fn now(&self) -> DateTime<Utc> {
        (self.now)()
    }
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        (self.advance)(d)
    }
}
