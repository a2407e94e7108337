//! The last stage: decoded PCM to MP3. Downmixes more than two channels, resamples a rate MP3
//! cannot carry, clips, and encodes on this thread or in parallel segments; at the end fills in
//! the Xing/LAME info frame.

use crate::{Options, TranscodeError, downmix, lame, parallel, resample};
use mp3lame_encoder::Encoder;
use std::io::{Seek, SeekFrom, Write};

/// The sample rates an MP3 can carry.
const MP3_RATES: [u32; 9] = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000];

/// The legal MP3 rate nearest to `rate` (ties go up, so quality is not lost).
fn nearest_mp3_rate(rate: u32) -> u32 {
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
    Plain { encoder: Encoder, mp3: Vec<u8> },
    Parallel(Box<parallel::Parallel>),
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
    /// For more than two channels.
    downmix: Option<downmix::Downmix>,
    stereo: Vec<f32>,
    resampled: Vec<f32>,
}

impl EncodeState {
    pub fn new(
        rate: u32,
        source_channels: usize,
        positions: Option<symphonia::core::audio::Position>,
        options: &Options,
        start: u64,
    ) -> Result<Self, TranscodeError> {
        let out_rate = nearest_mp3_rate(rate);
        let channels = source_channels.min(2);
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
        let sink = if options.threads > 1 {
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
            downmix: (source_channels > 2)
                .then(|| downmix::Downmix::new(source_channels, positions)),
            stereo: Vec::new(),
            resampled: Vec::new(),
        })
    }

    /// Encodes interleaved samples in `pcm` (source channel layout and rate); may clip them.
    pub fn encode<W: Write + Seek>(
        &mut self,
        pcm: &mut [f32],
        out: &mut W,
    ) -> Result<(), TranscodeError> {
        let mut samples = if let Some(downmix) = &self.downmix {
            downmix.apply(pcm, &mut self.stereo);
            &mut self.stereo[..]
        } else {
            pcm
        };
        if let Some(resampler) = &mut self.resampler {
            self.resampled.clear();
            resampler.process(samples, &mut self.resampled)?;
            samples = &mut self.resampled[..];
        }
        clip(samples);
        Self::to_sink(&mut self.sink, samples, self.out_channels, out)
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
        }
    }

    /// Drains the resampler, flushes and fills in the info frame.
    pub fn finish<W: Write + Seek>(mut self, out: &mut W) -> Result<(), TranscodeError> {
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
                if let Some(info) = lame::info_frame(&encoder) {
                    let end = out.stream_position()?;
                    out.seek(SeekFrom::Start(self.start))?;
                    out.write_all(&info)?;
                    out.seek(SeekFrom::Start(end))?;
                }
                out.flush()?;
                Ok(())
            }
            Sink::Parallel(parallel) => parallel.finish(out).map(drop),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
