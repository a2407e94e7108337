//! The last stage: decoded PCM to MP3. Downmixes more than two channels, resamples a rate MP3
//! cannot carry, clips, and encodes on this thread or in parallel segments; at the end fills in
//! the Xing/LAME info frame.

use crate::loudness::{Leveller, Measured, Meter, PartMeter};
use crate::{Options, TranscodeError, downmix, lame, parallel, resample};
use mp3lame_encoder::Encoder;
use std::io::{Seek, SeekFrom, Write};

/// The sample rates an MP3 can carry.
pub(crate) const MP3_RATES: [u32; 9] =
    [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000];

/// The legal MP3 rate nearest to `rate` (ties go up, so quality is not lost).
pub(crate) fn nearest_mp3_rate(rate: u32) -> u32 {
    MP3_RATES
        .iter()
        .copied()
        .min_by_key(|r| (r.abs_diff(rate), u32::MAX - r))
        .unwrap_or(44100)
}

/// Makes samples safe for LAME, which asserts (and aborts the process) on samples far out of
/// range: a damaged float file can decode to NaN, infinities or 1e30, and a downmix or resampler
/// carries them on. Clipped as any conversion to PCM would; what is not a number becomes silence.
fn clip(samples: &mut [f32]) {
    for sample in samples {
        *sample = if sample.is_finite() {
            sample.clamp(-1.0, 1.0)
        } else {
            0.0
        };
    }
}

/// Where the PCM goes: one LAME on this thread, or the parallel encoder.
enum Sink {
    Plain {
        encoder: Encoder,
        mp3: Vec<u8>,
    },
    Parallel(Box<parallel::Parallel>),
    /// One segment of a conversion fanned out over several workers.
    Part(Box<parallel::PartEncoder>),
}

/// The encoder and what it was set up for.
pub(crate) struct EncodeState {
    sink: Sink,
    /// For a source rate MP3 cannot carry.
    resampler: Option<resample::Resampler>,
    pub rate: u32,
    pub source_channels: usize,
    pub out_channels: usize,
    /// Where the info frame goes (after the ID3 tag).
    start: u64,
    /// From the source's channels to the MP3's.
    remix: Remix,
    /// The gain to the loudness asked for, if any.
    leveller: Option<Leveller>,
    /// Measures what is encoded, for the ReplayGain in the LAME tag.
    meter: Measure,
    stereo: Vec<f32>,
    levelled: Vec<f32>,
    resampled: Vec<f32>,
}

impl EncodeState {
    pub fn new(
        rate: u32,
        source_channels: usize,
        positions: Option<symphonia::core::audio::Position>,
        options: &Options,
        start: u64,
        normalise: Option<(Measured, f64)>,
    ) -> Result<Self, TranscodeError> {
        let out_rate = options
            .sample_rate
            .unwrap_or_else(|| nearest_mp3_rate(rate));
        let channels = options.channels.unwrap_or(source_channels.min(2));
        let settings = lame::Settings {
            in_rate: out_rate,
            out_rate,
            channels,
            quality: options.quality,
        };
        let resampler = if out_rate == rate {
            None
        } else {
            Some(resample::Resampler::new(rate, out_rate, channels)?)
        };
        let sink = if let Some(part) = options.part {
            Sink::Part(Box::new(parallel::PartEncoder::new(settings, part, start)?))
        } else if options.threads > 1 {
            Sink::Parallel(Box::new(parallel::Parallel::new(
                settings,
                options.threads,
                options.segment_frames,
                start,
            )?))
        } else {
            Sink::Plain {
                encoder: lame::build(&settings, true, true)?,
                mp3: Vec::new(),
            }
        };
        Ok(Self {
            sink,
            resampler,
            rate,
            source_channels,
            out_channels: channels,
            start,
            remix: Remix::new(source_channels, positions, channels),
            leveller: normalise
                .map(|(measured, target)| Leveller::new(measured, target, channels, rate)),
            meter: match options.part {
                Some(part) => {
                    let (own_start, own_end) = part.stretch(settings.frame_samples());
                    Measure::Part(PartMeter::new(channels, rate, own_start, own_end)?)
                }
                None => Measure::Whole(Meter::new(channels, rate, false)?),
            },
            stereo: Vec::new(),
            levelled: Vec::new(),
            resampled: Vec::new(),
        })
    }

    /// Whether this is a part whose segment has all the audio it needs.
    pub fn part_complete(&self) -> bool {
        matches!(&self.sink, Sink::Part(part) if part.complete())
    }

    /// For a part that sought past the start: `frames` of the MP3's audio went by undecoded.
    pub fn passed_over(&mut self, frames: u64) {
        if let Sink::Part(part) = &mut self.sink {
            part.passed_over(frames);
        }
        if let Measure::Part(meter) = &mut self.meter {
            meter.passed_over(frames);
        }
    }

    /// Encodes interleaved samples in `pcm` (source channel layout and rate); may clip them.
    pub fn encode<W: Write + Seek>(
        &mut self,
        pcm: &mut [f32],
        out: &mut W,
    ) -> Result<(), TranscodeError> {
        let mut samples = if self.remix.apply(pcm, &mut self.stereo) {
            &mut self.stereo[..]
        } else {
            pcm
        };
        if let Some(leveller) = &mut self.leveller {
            leveller.process(samples, &mut self.levelled);
            samples = &mut self.levelled[..];
        }
        Self::measure_and_encode(
            &mut self.meter,
            &mut self.resampler,
            &mut self.resampled,
            &mut self.sink,
            self.out_channels,
            samples,
            out,
        )
    }

    /// The MP3's channels from here: measured, resampled, clipped, encoded.
    fn measure_and_encode<'a, W: Write + Seek>(
        meter: &mut Measure,
        resampler: &mut Option<resample::Resampler>,
        resampled: &'a mut Vec<f32>,
        sink: &mut Sink,
        channels: usize,
        mut samples: &'a mut [f32],
        out: &mut W,
    ) -> Result<(), TranscodeError> {
        meter.add(samples)?;
        if let Some(resampler) = resampler {
            resampled.clear();
            resampler.process(samples, resampled)?;
            samples = &mut resampled[..];
        }
        clip(samples);
        Self::to_sink(sink, samples, channels, out)
    }

    fn to_sink<W: Write + Seek>(
        sink: &mut Sink,
        samples: &[f32],
        channels: usize,
        out: &mut W,
    ) -> Result<(), TranscodeError> {
        match sink {
            Sink::Plain { encoder, mp3 } => {
                mp3.clear();
                lame::encode(encoder, samples, channels, mp3)?;
                out.write_all(mp3)?;
                Ok(())
            }
            Sink::Parallel(parallel) => parallel.push(samples, out),
            Sink::Part(part) => {
                part.push(samples);
                Ok(())
            }
        }
    }

    /// Drains the limiter and the resampler, flushes and fills in the info frame (with the
    /// ReplayGain of what was encoded); for one part of a fanned-out conversion, encodes its
    /// segment and gives its figures instead (the info frame is the join's to write, and has
    /// no ReplayGain: one part cannot measure the whole).
    pub fn finish<W: Write + Seek>(
        mut self,
        out: &mut W,
    ) -> Result<Option<parallel::PartFigures>, TranscodeError> {
        if let Some(leveller) = &mut self.leveller {
            let mut held = Vec::new();
            leveller.finish(&mut held);
            Self::measure_and_encode(
                &mut self.meter,
                &mut self.resampler,
                &mut self.resampled,
                &mut self.sink,
                self.out_channels,
                &mut held,
                out,
            )?;
        }
        let replay_gain = self.meter.replay_gain();
        if let Some(resampler) = &mut self.resampler {
            self.resampled.clear();
            resampler.finish(&mut self.resampled)?;
            clip(&mut self.resampled);
            Self::to_sink(&mut self.sink, &self.resampled, self.out_channels, out)?;
        }
        match self.sink {
            Sink::Plain {
                mut encoder,
                mut mp3,
            } => {
                mp3.clear();
                lame::flush(&mut encoder, &mut mp3)?;
                out.write_all(&mp3)?;
                if let Some(mut info) = lame::info_frame(&encoder) {
                    if let Some(gain) = replay_gain {
                        lame::set_replay_gain(&mut info, gain);
                    }
                    let end = out.stream_position()?;
                    out.seek(SeekFrom::Start(self.start))?;
                    out.write_all(&info)?;
                    out.seek(SeekFrom::Start(end))?;
                }
                out.flush()?;
                Ok(None)
            }
            Sink::Parallel(parallel) => parallel.finish(out, replay_gain).map(|_| None),
            Sink::Part(part) => {
                let mut figures = part.finish(out)?;
                if let Measure::Part(meter) = self.meter {
                    figures.loudness = meter.finish(figures.last);
                }
                Ok(Some(figures))
            }
        }
    }
}

/// What measures the encoded audio: one meter for the whole stream, or a part's share of it.
enum Measure {
    Whole(Meter),
    Part(PartMeter),
}

impl Measure {
    fn add(&mut self, pcm: &[f32]) -> Result<(), TranscodeError> {
        match self {
            Self::Whole(meter) => meter.add(pcm),
            Self::Part(meter) => meter.add(pcm),
        }
    }

    /// The whole stream's ReplayGain (a part's is the join's to work out).
    fn replay_gain(&self) -> Option<crate::loudness::ReplayGain> {
        match self {
            Self::Whole(meter) => meter.replay_gain(),
            Self::Part(_) => None,
        }
    }
}

/// From the source's channels to the MP3's one or two.
pub(crate) enum Remix {
    /// The channels stay as they are.
    Keep,
    /// More than two folded to stereo (ITU-R BS.775), then to mono if `mono`.
    Fold {
        downmix: downmix::Downmix,
        mono: bool,
        folded: Vec<f32>,
    },
    /// Stereo to mono: the mean of the two.
    Mono,
    /// Mono to stereo: the channel in both.
    Duplicate,
}

impl Remix {
    pub fn new(
        source: usize,
        positions: Option<symphonia::core::audio::Position>,
        out: usize,
    ) -> Self {
        match (source, out) {
            (s, o) if s > 2 => Self::Fold {
                downmix: downmix::Downmix::new(s, positions),
                mono: o == 1,
                folded: Vec::new(),
            },
            (2, 1) => Self::Mono,
            (1, 2) => Self::Duplicate,
            _ => Self::Keep,
        }
    }

    /// Writes the remixed `pcm` into `out`; false (and `out` untouched) when it stays as is.
    pub fn apply(&mut self, pcm: &[f32], out: &mut Vec<f32>) -> bool {
        match self {
            Self::Keep => return false,
            Self::Fold {
                downmix,
                mono: false,
                ..
            } => downmix.apply(pcm, out),
            Self::Fold {
                downmix,
                mono: true,
                folded,
            } => {
                downmix.apply(pcm, folded);
                to_mono(folded, out);
            }
            Self::Mono => to_mono(pcm, out),
            Self::Duplicate => {
                out.clear();
                out.extend(pcm.iter().flat_map(|&s| [s, s]));
            }
        }
        true
    }
}

/// The mean of each interleaved stereo pair.
fn to_mono(stereo: &[f32], out: &mut Vec<f32>) {
    out.clear();
    out.extend(stereo.chunks_exact(2).map(|p| 0.5 * (p[0] + p[1])));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_are_remixed_to_what_was_asked() {
        let stereo = [1.0, 0.0, 0.5, 0.5, -1.0, 1.0];
        let mut out = Vec::new();
        assert!(Remix::new(2, None, 1).apply(&stereo, &mut out));
        assert_eq!(out, [0.5, 0.5, 0.0]);
        assert!(Remix::new(1, None, 2).apply(&[0.25, -0.5], &mut out));
        assert_eq!(out, [0.25, 0.25, -0.5, -0.5]);
        assert!(!Remix::new(2, None, 2).apply(&stereo, &mut out));
        // 5.1 with only the centre: both sides carry it, and so does the mono mean.
        let centre = [0.0, 0.0, 0.8, 0.0, 0.0, 0.0];
        let mut folded = Vec::new();
        Remix::new(6, None, 2).apply(&centre, &mut folded);
        assert!(Remix::new(6, None, 1).apply(&centre, &mut out));
        assert_eq!(out.len(), 1);
        assert!((out[0] - folded[0]).abs() < 1e-6 && folded[0] > 0.0);
    }

    #[test]
    fn rates_map_to_the_nearest_legal_mp3_rate() {
        assert_eq!(nearest_mp3_rate(44100), 44100);
        assert_eq!(nearest_mp3_rate(96000), 48000);
        assert_eq!(nearest_mp3_rate(88200), 48000);
        assert_eq!(nearest_mp3_rate(192000), 48000);
        assert_eq!(nearest_mp3_rate(7000), 8000);
        assert_eq!(nearest_mp3_rate(64000), 48000);
    }
}
