//! Loudness: EBU R128 measured with the `ebur128` crate (a port of libebur128), a gain to a
//! target with a lookahead limiter under the true-peak ceiling, and the ReplayGain figures that
//! go in the LAME tag.
//!
//! Normalising takes two passes over the source: the first decodes and measures only (the
//! integrated loudness and true peak of exactly what will be encoded: the cut, remixed to the
//! MP3's channels), the second applies one gain to the whole, so the dynamics stay as they were.
//! Where that gain would lift a peak over the ceiling, a limiter lowers those peaks alone.

use crate::TranscodeError;
use ebur128::{EbuR128, Mode};
use std::collections::VecDeque;

/// The highest true peak a normalised MP3 may reach, in dBTP (EBU R128's recommendation for
/// distribution; MP3 encoding adds overshoot of its own, so the limiter aims lower).
pub const TRUE_PEAK_CEILING_DB: f64 = -1.0;
/// Where the limiter holds sample peaks, in dBFS: under the ceiling by what decoding an MP3 adds
/// between and around samples.
const LIMIT_DB: f64 = -2.0;
/// The most a quiet recording is raised, in dB (more would raise its noise floor to the level
/// of speech).
pub const MAX_GAIN_DB: f64 = 24.0;
/// ReplayGain 2.0's reference loudness.
const REPLAYGAIN_REFERENCE_LUFS: f64 = -18.0;

fn failed(e: impl std::fmt::Display) -> TranscodeError {
    TranscodeError::Encoder(format!("measuring loudness failed: {e}"))
}

/// An EBU R128 meter over interleaved PCM.
pub(crate) struct Meter {
    inner: EbuR128,
    channels: u32,
    true_peak: bool,
}

impl Meter {
    /// `true_peak` measures the peak between samples too (4x oversampled; costs more than the
    /// sample peak).
    pub fn new(channels: usize, rate: u32, true_peak: bool) -> Result<Self, TranscodeError> {
        let channels = u32::try_from(channels).map_err(failed)?;
        let mode = Mode::I
            | if true_peak {
                Mode::TRUE_PEAK
            } else {
                Mode::SAMPLE_PEAK
            };
        Ok(Self {
            inner: EbuR128::new(channels, rate, mode).map_err(failed)?,
            channels,
            true_peak,
        })
    }

    pub fn add(&mut self, pcm: &[f32]) -> Result<(), TranscodeError> {
        self.inner.add_frames_f32(pcm).map_err(failed)
    }

    /// The integrated loudness in LUFS; `None` for silence (nothing above the gate).
    pub fn integrated(&self) -> Option<f64> {
        self.inner.loudness_global().ok().filter(|l| l.is_finite())
    }

    /// The highest peak of any channel, linear (1.0 is full scale).
    pub fn peak(&self) -> f64 {
        (0..self.channels)
            .filter_map(|c| {
                if self.true_peak {
                    self.inner.true_peak(c).ok()
                } else {
                    self.inner.sample_peak(c).ok()
                }
            })
            .fold(0.0, f64::max)
    }

    /// ReplayGain 2.0 of what was measured: the gain to -18 LUFS in dB and the sample peak.
    pub fn replay_gain(&self) -> Option<ReplayGain> {
        self.integrated().map(|loudness| ReplayGain {
            gain_db: REPLAYGAIN_REFERENCE_LUFS - loudness,
            peak: self.peak(),
        })
    }
}

/// BS.1770's absolute gate, -70 LUFS, as a gating block's mean square (the `ebur128` crate's
/// lowest histogram boundary: a block under it is not kept).
fn absolute_gate() -> f64 {
    10f64.powf((-70.0 + 0.691) / 10.0)
}

/// The integrated loudness (LUFS) of gating blocks given by their mean squares, gated as
/// BS.1770 and the `ebur128` crate gate them: the blocks under -70 LUFS out, then those more
/// than 10 LU under the mean of the rest; `None` when none are left (silence).
pub(crate) fn gated_loudness(blocks: impl Iterator<Item = f64> + Clone) -> Option<f64> {
    let floor = absolute_gate();
    let (count, sum) = blocks
        .clone()
        .filter(|&e| e >= floor)
        .fold((0u64, 0.0f64), |(n, s), e| (n + 1, s + e));
    if count == 0 {
        return None;
    }
    let relative = (sum / count as f64) * 10f64.powf(-10.0 / 10.0);
    let (count, sum) = blocks
        .filter(|&e| e >= floor && e >= relative)
        .fold((0u64, 0.0f64), |(n, s), e| (n + 1, s + e));
    let loudness = 10.0 * (sum / count.max(1) as f64).log10() - 0.691;
    loudness.is_finite().then_some(loudness)
}

/// What one part of a fanned-out conversion measured for the whole stream's ReplayGain: the
/// gating blocks it owns and the peak of its own samples.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PartLoudness {
    /// The mean square (K-weighted, channels summed) of each 400 ms gating block whose end lies
    /// in the part's stretch of the stream, in order. The blocks are on the grid of one meter
    /// reading the stream from its start: every 100 ms from 400 ms.
    pub blocks: Vec<f64>,
    /// The highest sample of its stretch, linear (1.0 is full scale).
    pub peak: f64,
}

/// The ReplayGain of the stream the parts make, from their measures in order; `None` where a
/// part measured nothing or the stream is silent.
pub(crate) fn parts_replay_gain<'a>(
    parts: impl Iterator<Item = Option<&'a PartLoudness>> + Clone,
) -> Option<ReplayGain> {
    let measured: Option<Vec<&PartLoudness>> = parts.collect();
    let measured = measured?;
    let loudness = gated_loudness(measured.iter().flat_map(|p| p.blocks.iter().copied()))?;
    Some(ReplayGain {
        gain_db: REPLAYGAIN_REFERENCE_LUFS - loudness,
        peak: measured.iter().map(|p| p.peak).fold(0.0, f64::max),
    })
}

/// The meter of one part of a fanned-out conversion: it sees the part's samples (from where the
/// reading started, some way before its stretch) and keeps the gating blocks that end in its
/// stretch, each as one meter reading the whole stream would have measured it. The blocks
/// end every 100 ms from the stream's start; the part's stretch starts at `own_start` and, for
/// every part but the last, ends at `own_end` (the next part's `own_start`), so each block is
/// kept by one part. A block needs the 400 ms before its end: the reading starts well before
/// the stretch (the encoder's priming and the decoder's preroll), and the K-weighting filter
/// has settled by then.
pub(crate) struct PartMeter {
    inner: EbuR128,
    channels: usize,
    /// Samples per channel in 100 ms, as the `ebur128` crate counts them.
    hop: u64,
    /// Where the next sample lies in the stream, and where the first one given lay.
    at: u64,
    first: Option<u64>,
    own_start: u64,
    own_end: u64,
    /// Blocks kept, by where they end.
    blocks: Vec<(u64, f64)>,
    /// The peak before `own_end`, and after it (which counts for the last part only).
    peak: f64,
    peak_after: f64,
    /// A block of the stretch began before the first sample given: it cannot be measured.
    short: bool,
}

impl PartMeter {
    pub fn new(
        channels: usize,
        rate: u32,
        own_start: u64,
        own_end: u64,
    ) -> Result<Self, TranscodeError> {
        let ch = u32::try_from(channels).map_err(failed)?;
        Ok(Self {
            inner: EbuR128::new(ch, rate, Mode::M).map_err(failed)?,
            channels: channels.max(1),
            hop: (u64::from(rate) + 5) / 10,
            at: 0,
            first: None,
            own_start,
            own_end,
            blocks: Vec::new(),
            peak: 0.0,
            peak_after: 0.0,
            short: false,
        })
    }

    /// `frames` samples per channel of the stream went by unseen (the reading sought past them).
    pub fn passed_over(&mut self, frames: u64) {
        self.at += frames;
    }

    pub fn add(&mut self, pcm: &[f32]) -> Result<(), TranscodeError> {
        let ch = self.channels;
        let first = *self.first.get_or_insert(self.at);
        let mut rest = pcm;
        while rest.len() >= ch {
            let boundary = (self.at / self.hop + 1) * self.hop;
            let take = ((boundary - self.at) as usize).min(rest.len() / ch);
            let (now, next) = rest.split_at(take * ch);
            self.inner.add_frames_f32(now).map_err(failed)?;
            for (n, frame) in now.chunks_exact(ch).enumerate() {
                if self.at + (n as u64) < self.own_start {
                    continue;
                }
                let peak = frame.iter().fold(0f64, |m, s| m.max(f64::from(s.abs())));
                if self.at + (n as u64) < self.own_end {
                    self.peak = self.peak.max(peak);
                } else {
                    self.peak_after = self.peak_after.max(peak);
                }
            }
            self.at += take as u64;
            rest = next;
            if self.at == boundary && boundary >= 4 * self.hop && boundary > self.own_start {
                if boundary - 4 * self.hop < first {
                    self.short = true;
                }
                let loudness = self.inner.loudness_momentary().map_err(failed)?;
                let energy = if loudness.is_finite() {
                    10f64.powf((loudness + 0.691) / 10.0)
                } else {
                    0.0
                };
                self.blocks.push((boundary, energy));
            }
        }
        Ok(())
    }

    /// The part's measure: every block ending in its stretch (`last`: to the end of the
    /// stream); `None` where the reading started too late to measure them.
    pub fn finish(self, last: bool) -> Option<PartLoudness> {
        if self.short {
            return None;
        }
        let end = if last { u64::MAX } else { self.own_end };
        Some(PartLoudness {
            blocks: self
                .blocks
                .into_iter()
                .filter(|&(at, _)| at <= end)
                .map(|(_, e)| e)
                .collect(),
            peak: if last {
                self.peak.max(self.peak_after)
            } else {
                self.peak
            },
        })
    }
}

/// A track's ReplayGain, as the LAME tag carries it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ReplayGain {
    pub gain_db: f64,
    /// Linear, 1.0 is full scale.
    pub peak: f64,
}

/// The first pass's findings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Measured {
    /// LUFS; `None` for silence.
    pub integrated: Option<f64>,
    /// Linear true peak.
    pub true_peak: f64,
}

/// One gain for the whole stream, and the limiter when that gain would pass the ceiling.
pub(crate) struct Leveller {
    gain: f32,
    limiter: Option<Limiter>,
}

impl Leveller {
    /// The gain that brings `measured` to `target` LUFS (silence stays as it is; at most
    /// [`MAX_GAIN_DB`] up).
    pub fn new(measured: Measured, target: f64, channels: usize, rate: u32) -> Self {
        let gain_db = measured
            .integrated
            .map_or(0.0, |loudness| (target - loudness).min(MAX_GAIN_DB));
        let gain = 10f64.powf(gain_db / 20.0);
        let peak_after = measured.true_peak * gain;
        let limiter = (peak_after > 10f64.powf(LIMIT_DB / 20.0))
            .then(|| Limiter::new(channels, rate, 10f64.powf(LIMIT_DB / 20.0) as f32));
        Self {
            gain: gain as f32,
            limiter,
        }
    }

    /// Whether bringing `measured` to `target` needs the limiter.
    pub fn limits(measured: Measured, target: f64) -> bool {
        Self::new(measured, target, 1, 8000).limiter.is_some()
    }

    /// Applies the gain (and the limiter) to interleaved `pcm` into `out`; the limiter delays
    /// its output, so `out` may hold fewer frames than `pcm` until [`Leveller::finish`].
    pub fn process(&mut self, pcm: &[f32], out: &mut Vec<f32>) {
        out.clear();
        match &mut self.limiter {
            Some(limiter) => limiter.process(pcm, self.gain, out),
            None => out.extend(pcm.iter().map(|s| s * self.gain)),
        }
    }

    /// What the limiter still holds.
    pub fn finish(&mut self, out: &mut Vec<f32>) {
        out.clear();
        if let Some(limiter) = &mut self.limiter {
            limiter.finish(out);
        }
    }
}

/// A lookahead peak limiter that keeps every sample under `threshold` without a click: the
/// gain each frame needs is taken as the minimum over the lookahead before it, then averaged
/// over the lookahead after it, so the gain is already down, smoothly, when a peak arrives (the
/// average of minima that each cover a frame is at most that frame's need); it rises again
/// slowly. The output is the input delayed by the lookahead; [`Limiter::finish`] drains it, so
/// no sample is lost or added.
struct Limiter {
    channels: usize,
    threshold: f32,
    lookahead: usize,
    /// Input frames (gain applied) waiting for their smoothed gain.
    delay: VecDeque<f32>,
    /// (index, need) with increasing needs: the minimum over the last `lookahead + 1` frames.
    minima: VecDeque<(u64, f32)>,
    /// The last `lookahead + 1` minima, and their sum.
    window: VecDeque<f32>,
    sum: f64,
    index: u64,
    /// The gain last applied, and how fast it may rise per frame.
    envelope: f32,
    release: f32,
}

impl Limiter {
    fn new(channels: usize, rate: u32, threshold: f32) -> Self {
        let lookahead = (rate as usize / 200).max(1); // 5 ms
        Self {
            channels,
            threshold,
            lookahead,
            delay: VecDeque::with_capacity((lookahead + 1) * channels),
            minima: VecDeque::new(),
            window: VecDeque::with_capacity(lookahead + 1),
            sum: 0.0,
            index: 0,
            envelope: 1.0,
            // Back up by 1 - 1/e of the way in 50 ms.
            release: 1.0 - (-1.0 / (0.05 * f64::from(rate))).exp() as f32,
        }
    }

    fn process(&mut self, pcm: &[f32], gain: f32, out: &mut Vec<f32>) {
        for frame in pcm.chunks_exact(self.channels) {
            let peak = frame.iter().fold(0f32, |m, s| m.max((s * gain).abs()));
            let need = if peak > self.threshold {
                self.threshold / peak
            } else {
                1.0
            };
            self.delay.extend(frame.iter().map(|s| s * gain));
            self.push(need, out);
        }
    }

    fn finish(&mut self, out: &mut Vec<f32>) {
        // Silent frames after the end push the held ones out; they are not emitted themselves.
        for _ in 0..self.delay.len() / self.channels {
            self.delay.extend(std::iter::repeat_n(0.0, self.channels));
            self.push(1.0, out);
        }
        self.delay.clear();
    }

    fn push(&mut self, need: f32, out: &mut Vec<f32>) {
        let i = self.index;
        self.index += 1;
        while self.minima.back().is_some_and(|&(_, n)| n >= need) {
            self.minima.pop_back();
        }
        self.minima.push_back((i, need));
        while self
            .minima
            .front()
            .is_some_and(|&(j, _)| j + (self.lookahead as u64) < i)
        {
            self.minima.pop_front();
        }
        let minimum = self.minima.front().map_or(1.0, |&(_, n)| n);
        self.window.push_back(minimum);
        self.sum += f64::from(minimum);
        if self.window.len() > self.lookahead + 1 {
            self.sum -= f64::from(self.window.pop_front().unwrap_or(1.0));
        }
        // The frame `lookahead` back now has every minimum covering it.
        if self.delay.len() / self.channels > self.lookahead {
            let smoothed = (self.sum / self.window.len() as f64) as f32;
            self.envelope = smoothed.min(self.envelope + (1.0 - self.envelope) * self.release);
            for _ in 0..self.channels {
                let s = self.delay.pop_front().unwrap_or(0.0);
                out.push(s * self.envelope);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 30 s of stereo at 44.1 kHz: a tone whose level steps every 2 s (some steps under the
    /// relative gate, one silent), so the gating decides something.
    fn stepped() -> Vec<f32> {
        let levels = [0.5f32, 0.05, 0.3, 0.0, 0.8, 0.01, 0.4, 0.2];
        (0..30 * 44_100)
            .flat_map(|n| {
                let t = n as f32 / 44_100.0;
                let level = levels[(n / 88_200) % levels.len()];
                let s = level * (2.0 * std::f32::consts::PI * 440.0 * t).sin();
                [s, 0.5 * s]
            })
            .collect()
    }

    #[test]
    fn parts_measured_apart_give_the_replay_gain_of_one_meter() {
        let pcm = stepped();
        let frames = (pcm.len() / 2) as u64;
        let mut whole = Meter::new(2, 44_100, false).unwrap();
        for chunk in pcm.chunks(3_000) {
            whole.add(chunk).unwrap();
        }
        let expected = whole.replay_gain().unwrap();
        // Stretches of uneven length, each read from some way before it (as a part reads from
        // its preroll) in uneven chunks.
        let cuts = [0u64, 301_000, 555_555, 910_000, frames];
        let parts: Vec<PartLoudness> = cuts
            .windows(2)
            .enumerate()
            .map(|(i, w)| {
                let (own_start, own_end) = (w[0], w[1]);
                let from = own_start.saturating_sub(20_000 + i as u64 * 777);
                let last = own_end == frames;
                let to = if last { frames } else { own_end + 3_000 };
                let mut meter = PartMeter::new(2, 44_100, own_start, own_end).unwrap();
                meter.passed_over(from);
                for chunk in pcm[from as usize * 2..to as usize * 2].chunks(2_222) {
                    meter.add(chunk).unwrap();
                }
                meter.finish(last).unwrap()
            })
            .collect();
        // Every block once: 30 s has blocks ending at 0.4 s, 0.5 s, ... 30.0 s.
        let blocks: usize = parts.iter().map(|p| p.blocks.len()).sum();
        assert_eq!(blocks, 297);
        let joined = parts_replay_gain(parts.iter().map(Some)).unwrap();
        assert!(
            (joined.gain_db - expected.gain_db).abs() < 1e-9,
            "{joined:?} against {expected:?}"
        );
        assert_eq!(joined.peak, expected.peak);
        // A part missing its measure: no ReplayGain rather than a wrong one.
        assert_eq!(
            parts_replay_gain(parts.iter().enumerate().map(|(i, p)| (i != 2).then_some(p))),
            None
        );
    }

    #[test]
    fn a_part_read_from_too_late_measures_nothing() {
        let pcm = stepped();
        // Its first block (ending 100 ms into its stretch) needs 300 ms before the stretch.
        let (own_start, own_end) = (441_000u64, 882_000u64);
        let mut meter = PartMeter::new(2, 44_100, own_start, own_end).unwrap();
        let from = own_start - 4_410;
        meter.passed_over(from);
        meter
            .add(&pcm[from as usize * 2..(own_end as usize + 4_410) * 2])
            .unwrap();
        assert_eq!(meter.finish(false), None);
    }

    #[test]
    fn silence_has_no_replay_gain() {
        let blocks = [0.0, 1e-12, 0.0];
        assert_eq!(gated_loudness(blocks.iter().copied()), None);
        // One block at -23 LUFS: that is the loudness.
        let e = 10f64.powf((-23.0 + 0.691) / 10.0);
        let l = gated_loudness([e].iter().copied()).unwrap();
        assert!((l + 23.0).abs() < 1e-9, "{l}");
    }

    fn run(limiter: &mut Limiter, input: &[f32], gain: f32, piece: usize) -> Vec<f32> {
        let mut out = Vec::new();
        let mut chunk = Vec::new();
        for part in input.chunks(piece) {
            chunk.clear();
            limiter.process(part, gain, &mut chunk);
            out.extend_from_slice(&chunk);
        }
        chunk.clear();
        limiter.finish(&mut chunk);
        out.extend_from_slice(&chunk);
        out
    }

    #[test]
    fn the_limiter_holds_every_sample_and_keeps_the_length() {
        // A 440 Hz tone at -20 dBFS with a full-scale click every 1000 frames, raised 12 dB.
        let input: Vec<f32> = (0..20_000)
            .flat_map(|i| {
                let s = if i % 1000 == 500 {
                    1.0
                } else {
                    0.1 * (i as f32 * 440.0 * std::f32::consts::TAU / 8000.0).sin()
                };
                [s, -s]
            })
            .collect();
        let mut limiter = Limiter::new(2, 8000, 0.5);
        let out = run(&mut limiter, &input, 4.0, 778);
        assert_eq!(out.len(), input.len());
        let peak = out.iter().fold(0f32, |m, s| m.max(s.abs()));
        assert!(peak <= 0.5 + 1e-6, "peak {peak}");
        // Away from the clicks the tone is only raised: frame 300 is 200 frames before one.
        for frame in [300, 5300, 19_300] {
            let want = input[frame * 2] * 4.0;
            assert!(
                (out[frame * 2] - want).abs() < 1e-4,
                "{frame}: {} vs {want}",
                out[frame * 2]
            );
        }
    }

    #[test]
    fn under_the_threshold_the_limiter_only_delays_and_gives_back() {
        let input: Vec<f32> = (0..5000)
            .map(|i| ((i % 97) as f32 - 48.0) / 1000.0)
            .collect();
        let mut limiter = Limiter::new(1, 44_100, 0.9);
        assert_eq!(
            run(&mut limiter, &input, 2.0, 64),
            input.iter().map(|s| s * 2.0).collect::<Vec<_>>()
        );
    }

    #[test]
    fn the_gain_is_the_distance_to_the_target_capped_and_silence_stays() {
        let quiet = Measured {
            integrated: Some(-30.0),
            true_peak: 0.05,
        };
        let leveller = Leveller::new(quiet, -16.0, 2, 44_100);
        assert!((f64::from(leveller.gain) - 10f64.powf(14.0 / 20.0)).abs() < 1e-4);
        assert!(
            leveller.limiter.is_none(),
            "0.05 raised 14 dB stays under the limit"
        );
        let very_quiet = Measured {
            integrated: Some(-60.0),
            true_peak: 0.001,
        };
        let capped = Leveller::new(very_quiet, -16.0, 2, 44_100);
        assert!((f64::from(capped.gain) - 10f64.powf(MAX_GAIN_DB / 20.0)).abs() < 1e-3);
        let peaky = Measured {
            integrated: Some(-30.0),
            true_peak: 0.9,
        };
        assert!(Leveller::new(peaky, -16.0, 2, 44_100).limiter.is_some());
        let silence = Measured {
            integrated: None,
            true_peak: 0.0,
        };
        assert_eq!(Leveller::new(silence, -16.0, 2, 44_100).gain, 1.0);
    }
}
