//! The limits a source must keep, each checked by one function wherever the engine learns the
//! figure: a container's declaration, the track's parameters, the decoded audio.

use crate::error::TranscodeError;
use std::time::Duration;

/// What the engine accepts ([`crate::Options`] sets them).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub max_duration: Duration,
    pub max_channels: usize,
    pub max_bad_packets: u32,
}

impl Limits {
    /// Refuses more than `max_channels` channels.
    pub fn channels(&self, found: usize) -> Result<(), TranscodeError> {
        if found > self.max_channels {
            return Err(TranscodeError::TooManyChannels {
                found,
                limit: self.max_channels,
            });
        }
        Ok(())
    }

    /// Refuses `frames` at `rate` longer than `max_duration`.
    pub fn duration(&self, frames: u64, rate: u32) -> Result<(), TranscodeError> {
        if rate > 0 && frames as f64 > self.max_duration.as_secs_f64() * f64::from(rate) {
            return Err(TranscodeError::TooLong {
                limit: self.max_duration,
            });
        }
        Ok(())
    }

    /// Refuses a source with more than `max_bad_packets` undecodable packets.
    pub fn bad_packets(&self, count: u32) -> bool {
        count > self.max_bad_packets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_limit_refuses_only_what_is_past_it() {
        let limits = Limits {
            max_duration: Duration::from_secs(60),
            max_channels: 8,
            max_bad_packets: 2,
        };
        assert!(limits.channels(8).is_ok());
        assert!(matches!(
            limits.channels(9),
            Err(TranscodeError::TooManyChannels { found: 9, limit: 8 })
        ));
        assert!(limits.duration(60 * 44_100, 44_100).is_ok());
        assert!(matches!(
            limits.duration(60 * 44_100 + 1, 44_100),
            Err(TranscodeError::TooLong { .. })
        ));
        assert!(limits.duration(u64::MAX, 0).is_ok(), "no rate, no length");
        assert!(!limits.bad_packets(2));
        assert!(limits.bad_packets(3));
    }
}
