//! The time the rules run on, as a port: the functions read the system clock; tests move a
//! manual one (`memory::ManualClock`) past a lease or a hold instead of sleeping.

use time::OffsetDateTime;

/// Tells the time.
pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

/// The system clock (UTC).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}
