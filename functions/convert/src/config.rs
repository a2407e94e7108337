//! The converter's settings, read from the environment at cold start.

use std::time::Duration;
use video2mp3_aws::{ConfigError, Env};

/// Settings read at cold start.
#[derive(Debug, Clone)]
pub struct Config {
    pub uploads_bucket: String,
    pub mp3_bucket: String,
    pub max_audio: Duration,
    /// Uploads larger than this fail without being read.
    pub max_source_bytes: u64,
    /// How long a conversion holds its job: longer than the function's timeout, so a live
    /// converter never loses its job, short enough that a crashed one's job is taken over on
    /// the next delivery (the queue's visibility timeout is longer still).
    pub lease: Duration,
    /// How often a running conversion writes its progress to the job.
    pub progress_every: Duration,
    /// Encoder threads, from the function's memory ([`encoder_threads`]).
    pub threads: usize,
    /// Fanning long jobs out over workers, when the segments queue is set.
    pub fanout: Option<crate::FanoutConfig>,
}

/// Lambda's CPU share per MB of memory: 1,769 MB is one vCPU-second per second.
const MB_PER_VCPU: f64 = 1769.0;

/// Encoder threads for a function of `memory_mb` (Lambda's `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`;
/// `None` off Lambda) on `cores` cores. Lambda gives CPU time in proportion to memory while the
/// function sees two cores up to 3,008 MB, so a second thread only pays once the share is well
/// above one vCPU. Measured by `make bench-lambda` (per hour of audio, 2026-12-03): at 1,024,
/// 1,769 and 2,048 MB one thread finished 7-18% sooner than two and used 8-20% less CPU; at
/// 2,560 MB (1.45 vCPU) two threads finished 18% sooner, at 3,008 MB 30%; a third thread on
/// two cores changed nothing.
pub fn encoder_threads(memory_mb: Option<u32>, cores: usize) -> usize {
    let cores = cores.max(1);
    let Some(memory) = memory_mb else {
        return cores;
    };
    let share = f64::from(memory) / MB_PER_VCPU;
    if share < 1.3 {
        1
    } else {
        (share.ceil() as usize).clamp(1, cores)
    }
}

impl Config {
    /// Reads `UPLOADS_BUCKET`, `MP3_BUCKET`, `MAX_AUDIO_SECONDS` (default 4 h),
    /// `MAX_UPLOAD_BYTES` (default 20 GiB, as `upload-url`), `LEASE_SECONDS` (default 960: the 900 s function
    /// timeout and a minute), `PROGRESS_MILLIS` (default 2000) and Lambda's own
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` (the encoder's threads follow it). With
    /// `SEGMENTS_QUEUE_URL` set, audio of `FANOUT_MIN_SECONDS` (default 1,200) or more is fanned
    /// out in parts of `FANOUT_SEGMENT_FRAMES` MP3 frames (default 9,600; at least 64).
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let fanout = match env.required("SEGMENTS_QUEUE_URL") {
            Ok(_) => {
                let segment_frames = env.parsed_or("FANOUT_SEGMENT_FRAMES", 9600usize)?;
                if segment_frames < 64 {
                    return Err(ConfigError::Invalid {
                        name: "FANOUT_SEGMENT_FRAMES",
                        value: segment_frames.to_string(),
                        reason: "a part is at least 64 MP3 frames".into(),
                    });
                }
                Some(crate::FanoutConfig {
                    min_audio: Duration::from_secs(env.parsed_or("FANOUT_MIN_SECONDS", 1200)?),
                    segment_frames,
                    min_part: crate::MIN_PART,
                })
            }
            Err(_) => None,
        };
        Ok(Self {
            fanout,
            uploads_bucket: env.required("UPLOADS_BUCKET")?,
            mp3_bucket: env.required("MP3_BUCKET")?,
            max_audio: Duration::from_secs(env.parsed_or("MAX_AUDIO_SECONDS", 4 * 3600)?),
            max_source_bytes: env.parsed_or("MAX_UPLOAD_BYTES", 20 << 30)?,
            lease: Duration::from_secs(env.parsed_or("LEASE_SECONDS", 960)?),
            progress_every: Duration::from_millis(env.parsed_or("PROGRESS_MILLIS", 2000)?),
            threads: encoder_threads(
                Some(env.parsed_or("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", 0u32)?).filter(|m| *m > 0),
                std::thread::available_parallelism().map_or(1, usize::from),
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoder_threads_follow_the_cpu_share_lambda_gives() {
        // Off Lambda: every core.
        assert_eq!(encoder_threads(None, 8), 8);
        // Up to about 1.3 vCPU a second thread costs CPU and time.
        assert_eq!(encoder_threads(Some(1024), 2), 1);
        assert_eq!(encoder_threads(Some(2048), 2), 1);
        assert_eq!(encoder_threads(Some(2560), 2), 2);
        assert_eq!(encoder_threads(Some(3008), 2), 2);
        // 10,240 MB is six vCPUs on six cores; never more threads than cores.
        assert_eq!(encoder_threads(Some(10240), 6), 6);
        assert_eq!(encoder_threads(Some(10240), 2), 2);
        assert_eq!(encoder_threads(Some(5307), 6), 3);
    }
}
