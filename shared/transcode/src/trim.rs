//! Which decoded samples are real audio: the encoder priming and padding that an MP4's edit
//! list or iTunes' gapless comment mark are dropped, as players that honour them do.

use crate::mp4;

/// Which decoded samples are real audio: the encoder's priming at the start and its padding at
/// the end are dropped, as players that honour the container's edit list do.
#[derive(Debug, Default, Clone)]
pub(crate) struct Trim {
    pub edit: Option<mp4::TrackEdit>,
    /// (priming, samples) from iTunSMPB, at the track's sample rate.
    pub itunes: Option<(u64, u64)>,
    /// For an MP4 track: its sample table's durations, (count, duration) runs. A packet's media
    /// time is not always the samples decoded before it (each packet decodes to a whole frame,
    /// whatever duration the table gives it: ffmpeg writes 1,025 now and then, a stream-copied
    /// join a short one), so a seek counts packets instead.
    pub durations: Option<std::sync::Arc<Vec<(u32, u32)>>>,
    /// Set from the first decoded buffer: frames still to drop, frames still to keep.
    state: Option<(u64, Option<u64>)>,
}

impl Trim {
    pub fn done(&self) -> bool {
        matches!(self.state, Some((_, Some(0))))
    }

    /// The frames to drop at the start and to keep after them, at `rate`.
    fn plan(&self, rate: u32) -> (u64, Option<u64>) {
        match (self.edit, self.itunes) {
            (Some(edit), _) => edit.at_rate(rate),
            (None, Some((priming, samples))) => (priming, Some(samples)),
            (None, None) => (0, None),
        }
    }

    /// The frames dropped at the start and those kept after them (if the container says), at
    /// `rate`.
    pub fn plan_at(&self, rate: u32) -> (u64, Option<u64>) {
        self.plan(rate)
    }

    /// The same trim, before any frame has been counted.
    pub fn restarted(&self) -> Self {
        Self {
            edit: self.edit,
            itunes: self.itunes,
            durations: self.durations.clone(),
            state: None,
        }
    }

    /// The decoded frames dropped at the start, at `rate`.
    pub fn priming(&self, rate: u32) -> u64 {
        self.plan(rate).0
    }

    /// Drops what is not to be played from interleaved `pcm`; returns the frames kept.
    pub fn apply(&mut self, pcm: &mut Vec<f32>, channels: usize, rate: u32) -> usize {
        let plan = self.plan(rate);
        let (skip, keep) = self.state.get_or_insert(plan);
        cut(pcm, channels, skip, keep)
    }

    /// Counts `frames` decoded frames as gone by undecoded (the reader sought past them);
    /// returns how many of them would have been kept.
    pub fn pass_over(&mut self, frames: u64, rate: u32) -> u64 {
        let plan = self.plan(rate);
        let (skip, keep) = self.state.get_or_insert(plan);
        count(skip, keep, frames)
    }
}

/// The part of the audio the user asked for (`start`/`end`, in seconds), cut sample-exactly at
/// the source's rate after the container's own trim: `start` is the first sample kept, `end` the
/// first one dropped.
#[derive(Debug, Default)]
pub(crate) struct Cut {
    pub start: f64,
    pub end: Option<f64>,
    /// Set from the first buffer: frames still to drop, frames still to keep.
    state: Option<(u64, Option<u64>)>,
}

impl Cut {
    pub fn new(start: f64, end: Option<f64>) -> Self {
        Self {
            start,
            end,
            state: None,
        }
    }

    /// The sample at `seconds` at `rate` (nearest; a time between two samples is rounded).
    pub fn sample(seconds: f64, rate: u32) -> u64 {
        (seconds * f64::from(rate)).round().max(0.0) as u64
    }

    pub fn done(&self) -> bool {
        matches!(self.state, Some((_, Some(0))))
    }

    /// Whether samples were still to be dropped when the audio ended: `start` lies past it.
    pub fn starts_past_the_end(&self) -> bool {
        matches!(self.state, Some((skip, _)) if skip > 0)
    }

    /// The frames the cut will keep at most, at `rate` (for progress), if it ends.
    pub fn kept_at_most(&self, rate: u32) -> Option<u64> {
        self.end
            .map(|end| Self::sample(end, rate).saturating_sub(Self::sample(self.start, rate)))
    }

    /// The frames to drop at the start and to keep after them, at `rate`.
    fn plan(&self, rate: u32) -> (u64, Option<u64>) {
        let first = Self::sample(self.start, rate);
        (
            first,
            self.end
                .map(|end| Self::sample(end, rate).saturating_sub(first)),
        )
    }

    /// Drops what lies outside the cut from interleaved `pcm`; returns the frames kept.
    pub fn apply(&mut self, pcm: &mut Vec<f32>, channels: usize, rate: u32) -> usize {
        let plan = self.plan(rate);
        let (skip, keep) = self.state.get_or_insert(plan);
        cut(pcm, channels, skip, keep)
    }

    /// Counts `frames` frames as gone by undecoded; returns how many of them it would have
    /// kept.
    pub fn pass_over(&mut self, frames: u64, rate: u32) -> u64 {
        let plan = self.plan(rate);
        let (skip, keep) = self.state.get_or_insert(plan);
        count(skip, keep, frames)
    }
}

/// [`cut`] without the samples: counts `frames` against `skip` then `keep`; returns those kept.
fn count(skip: &mut u64, keep: &mut Option<u64>, frames: u64) -> u64 {
    let drop = (*skip).min(frames);
    *skip -= drop;
    let mut kept = frames - drop;
    if let Some(left) = keep {
        kept = kept.min(*left);
        *left -= kept;
    }
    kept
}

/// Drops `skip` frames from the front of `pcm` and keeps at most `keep`, counting both down.
fn cut(pcm: &mut Vec<f32>, channels: usize, skip: &mut u64, keep: &mut Option<u64>) -> usize {
    let frames = pcm.len() / channels;
    let drop = usize::try_from(*skip).unwrap_or(usize::MAX).min(frames);
    *skip -= drop as u64;
    pcm.drain(..drop * channels);
    let mut kept = frames - drop;
    if let Some(left) = keep {
        kept = kept.min(usize::try_from(*left).unwrap_or(usize::MAX));
        *left -= kept as u64;
        pcm.truncate(kept * channels);
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(frames: usize, channels: usize) -> Vec<f32> {
        (0..frames * channels).map(|i| i as f32).collect()
    }

    #[test]
    fn a_cut_keeps_exactly_the_asked_samples_across_buffers() {
        // 1.5 s to 3.25 s at 1000 Hz: samples 1500..3250, fed in buffers of 700 frames.
        let mut cut = Cut::new(1.5, Some(3.25));
        let mut kept = Vec::new();
        for buffer in 0..10 {
            let mut pcm: Vec<f32> = (buffer * 700..(buffer + 1) * 700)
                .flat_map(|f| [f as f32, -(f as f32)])
                .collect();
            cut.apply(&mut pcm, 2, 1000);
            kept.extend(pcm);
            if cut.done() {
                break;
            }
        }
        assert!(cut.done());
        assert_eq!(kept.len(), 1750 * 2);
        assert_eq!(kept[0], 1500.0);
        assert_eq!(kept[1], -1500.0);
        assert_eq!(kept[kept.len() - 2], 3249.0);
    }

    #[test]
    fn frames_passed_over_count_as_if_they_had_been_cut() {
        // 1.5 s to 3.25 s at 1000 Hz: passing over the first 2000 frames keeps 500 of them,
        // and the buffer after starts at frame 2000, all kept until frame 3250.
        let mut cut = Cut::new(1.5, Some(3.25));
        assert_eq!(cut.pass_over(2000, 1000), 500);
        let mut pcm: Vec<f32> = (2000..4000).map(|f| f as f32).collect();
        assert_eq!(cut.apply(&mut pcm, 1, 1000), 1250);
        assert_eq!((pcm[0], pcm[1249]), (2000.0, 3249.0));
        assert!(cut.done());
        // The same through a trim that drops 100 frames of priming.
        let mut trim = Trim {
            itunes: Some((100, 10_000)),
            ..Trim::default()
        };
        assert_eq!(trim.priming(1000), 100);
        assert_eq!(trim.pass_over(2000, 1000), 1900);
        let mut restarted = trim.restarted();
        assert_eq!(restarted.pass_over(50, 1000), 0);
    }

    #[test]
    fn a_start_past_the_end_is_noticed() {
        let mut cut = Cut::new(2.0, None);
        let mut pcm = ramp(1000, 1);
        assert_eq!(cut.apply(&mut pcm, 1, 1000), 0);
        assert!(cut.starts_past_the_end());
        let mut open = Cut::new(0.5, None);
        let mut pcm = ramp(1000, 1);
        assert_eq!(open.apply(&mut pcm, 1, 1000), 500);
        assert!(!open.starts_past_the_end() && !open.done());
        assert_eq!(pcm[0], 500.0);
    }
}
