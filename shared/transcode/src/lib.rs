//! The audio engine: reads any container and codec symphonia supports from a seekable source,
//! and writes an MP3 (LAME) to a seekable sink, packet by packet, so memory does not grow with
//! the input's length. Synchronous and free of AWS code.
//!
//! The MP3 starts with a Xing/LAME info frame. LAME writes a blank one first; it is filled in
//! after the flush (frame count, sizes, encoder delay and padding), which is why the sink must
//! be seekable. Without it players guess the length of a VBR file wrongly.

mod decoders;
mod downmix;
mod error;
mod fdk;
mod lame;
mod mkvtracks;
mod mp4edit;
mod names;
mod parallel;
mod plan;
mod repack;
mod resample;
mod tags;

pub use error::TranscodeError;
pub use plan::{Mp4Plan, mp4_audio_plan};
pub use symphonia::core::io::MediaSource;
pub use tags::{ENCODER, Tags};

use mp3lame_encoder::Encoder;
use std::io::{Read, Seek, SeekFrom, Write};
use std::time::Duration;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

/// What the encoder should aim for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quality {
    /// Variable bitrate, LAME `-V0` (best) to `-V9`.
    Vbr(u8),
    /// Constant bitrate in kbit/s (one of LAME's MPEG-1 rates).
    Cbr(u16),
}

impl Default for Quality {
    fn default() -> Self {
        Self::Vbr(2)
    }
}

/// Settings and limits of one conversion.
#[derive(Debug, Clone)]
pub struct Options {
    pub quality: Quality,
    /// Inputs longer than this are refused (checked as audio is decoded).
    pub max_duration: Duration,
    /// Inputs with more channels than this are refused.
    pub max_channels: usize,
    /// Corrupt packets skipped before the input is declared broken.
    pub max_bad_packets: u32,
    /// The ID3 title when the source has none (the upload's file name).
    pub fallback_title: Option<String>,
    /// Encoding threads; 1 encodes on the calling thread as one plain LAME stream.
    pub threads: usize,
    /// MP3 frames per segment when encoding on several threads (256 is about 6.7 s at 44.1 kHz).
    pub segment_frames: usize,
    /// Told the percentage of the audio converted each time it grows by a whole percent, when
    /// the container says how long the audio is.
    pub progress: Option<ProgressSink>,
}

/// Receives conversion progress, in whole percent (0 to 99; the end is the call's return).
#[derive(Clone)]
pub struct ProgressSink(pub std::sync::Arc<dyn Fn(u8) + Send + Sync>);

impl std::fmt::Debug for ProgressSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressSink")
    }
}

impl Default for Options {
    fn default() -> Self {
        Self {
            quality: Quality::default(),
            max_duration: Duration::from_secs(4 * 3600),
            max_channels: 8,
            max_bad_packets: 20,
            fallback_title: None,
            threads: std::thread::available_parallelism().map_or(1, usize::from),
            segment_frames: 256,
            progress: None,
        }
    }
}

/// What was converted.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The tags copied from the source.
    pub tags: Tags,
    /// The container, e.g. `isomp4`.
    pub format: String,
    /// The audio codec, e.g. `aac`.
    pub codec: String,
    pub sample_rate: u32,
    /// Channels in the source.
    pub source_channels: usize,
    /// Channels in the MP3 (1 or 2).
    pub channels: usize,
    /// Samples per channel decoded from the source.
    pub frames: u64,
    /// Packets that could not be decoded and were skipped.
    pub bad_packets: u32,
    pub mp3_bytes: u64,
}

impl Summary {
    /// The source's decoded duration.
    pub fn duration(&self) -> Duration {
        if self.sample_rate == 0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64(self.frames as f64 / f64::from(self.sample_rate))
    }
}

/// A `Read + Seek` source of known length (a ranged reader over remote storage, say) as the
/// [`MediaSource`] [`transcode`] takes.
pub struct SeekableSource<R> {
    inner: R,
    len: u64,
}

impl<R> SeekableSource<R> {
    pub fn new(inner: R, len: u64) -> Self {
        Self { inner, len }
    }
}

impl<R: Read> Read for SeekableSource<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf)
    }
}

impl<R: Seek> Seek for SeekableSource<R> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(to)
    }
}

impl<R: Read + Seek + Send + Sync> MediaSource for SeekableSource<R> {
    fn is_seekable(&self) -> bool {
        true
    }

    fn byte_len(&self) -> Option<u64> {
        Some(self.len)
    }
}

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

/// Converts the audio of `source` to MP3 written to `out`, starting at `out`'s current position.
/// `extension` (e.g. `"mp4"`) helps pick the container but is not trusted.
///
/// Never panics: a panic inside a third-party parser on a damaged file (symphonia has a few) is
/// caught and reported as [`TranscodeError::DecoderCrashed`].
pub fn transcode<W: Write + Seek>(
    mut source: Box<dyn MediaSource>,
    extension: Option<&str>,
    out: &mut W,
    options: &Options,
) -> Result<Summary, TranscodeError> {
    // A cut-short MP4 fails in the demuxer with words for programmers; say what happened.
    let truncated = if source.is_seekable() {
        mp4edit::truncated(&mut source)
    } else {
        None
    };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        transcode_unguarded(source, extension, out, options)
    }))
    .unwrap_or_else(|panic| {
        let detail = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no detail".into());
        Err(TranscodeError::DecoderCrashed(detail))
    })
    .map_err(|err| match truncated {
        Some((size, expected)) if err.is_input_error() => {
            TranscodeError::Truncated { size, expected }
        }
        _ => err,
    })
}

fn transcode_unguarded<W: Write + Seek>(
    mut source: Box<dyn MediaSource>,
    extension: Option<&str>,
    out: &mut W,
    options: &Options,
) -> Result<Summary, TranscodeError> {
    // symphonia reads MP4 edit lists but does not apply them: read them here, before probing.
    let head = if source.is_seekable() {
        read_head(&mut source)?
    } else {
        Vec::new()
    };
    if let Some(found) = names::declared_channels(&head)
        && found > options.max_channels
    {
        return Err(TranscodeError::TooManyChannels {
            found,
            limit: options.max_channels,
        });
    }
    let mp4 = if looks_like_mp4(&head) {
        mp4edit::tracks(&mut source)
    } else {
        mp4edit::Mp4Tracks::default()
    };
    // The default audio track where the container marks one and symphonia misses it: it
    // cannot tell a Matroska track's absent FlagDefault (meaning default) from 0, and ignores
    // an MP4 track header's enabled flag.
    let marked_default = if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        mkvtracks::default_audio_track(&mut source)
    } else {
        mp4.default_audio
    };
    source.seek(SeekFrom::Start(0))?;
    let mut hint = Hint::new();
    if let Some(ext) = extension {
        hint.with_extension(ext);
    }
    let stream = MediaSourceStream::new(source, Default::default());
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            stream,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|err| match err {
            SymphoniaError::IoError(e) if e.kind() != std::io::ErrorKind::UnexpectedEof => {
                TranscodeError::Io(e)
            }
            _ => names::sniff_container(&head).map_or(
                TranscodeError::UnrecognisedFormat,
                TranscodeError::UnsupportedFormat,
            ),
        })?;
    let format_name = format.format_info().short_name.to_owned();

    let is_audio = |t: &&symphonia::core::formats::Track| {
        t.codec_params.as_ref().and_then(|p| p.audio()).is_some()
    };
    let track = marked_default
        .and_then(|id| format.tracks().iter().filter(is_audio).find(|t| t.id == id))
        .or_else(|| format.default_track(TrackType::Audio))
        .or_else(|| format.tracks().iter().find(is_audio))
        .ok_or(TranscodeError::NoAudioTrack)?;
    let track_id = track.id;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or(TranscodeError::NoAudioTrack)?
        .clone();
    let codec_name = names::codec_name(params.codec);
    let track_frames = track.num_frames;
    let mut trim = Trim::default();
    if format_name == "isomp4" {
        if let Some((_, edit)) = mp4.edits.iter().find(|(id, _)| *id == track_id) {
            trim.edit = Some(*edit);
        } else {
            trim.itunes = itunes_gapless(&mut *format);
        }
    }
    if let (Some(frames), Some(rate)) = (track_frames, params.sample_rate)
        && rate > 0
        && Duration::from_secs_f64(frames as f64 / f64::from(rate)) > options.max_duration
    {
        return Err(TranscodeError::TooLong {
            limit: options.max_duration,
        });
    }
    if let Some(channels) = &params.channels
        && channels.count() > options.max_channels
    {
        return Err(TranscodeError::TooManyChannels {
            found: channels.count(),
            limit: options.max_channels,
        });
    }
    let mut decoder = decoders::Decoder::new(&params).ok_or_else(|| {
        // The decoders here take mono and stereo of every codec, but not every codec in more
        // channels (Opus beyond 8 channels or in a mapping other than the Vorbis order, such
        // as family 255): say which.
        TranscodeError::UnsupportedCodec(match params.channels.as_ref().map(|c| c.count()) {
            Some(n) if n > 2 => format!("{codec_name} in {n} channels"),
            _ => codec_name.clone(),
        })
    })?;

    let start = out.stream_position()?;
    let tags = tags::Tags::from_source(&mut *format, track_id);
    out.write_all(&tags.to_id3(options.fallback_title.as_deref()))?;
    // The info frame LAME fills in after the flush sits right after the tag.
    let audio_start = out.stream_position()?;
    let mut state: Option<EncodeState> = None;
    let mut pcm: Vec<f32> = Vec::new();
    let mut frames: u64 = 0;
    let mut bad_packets = 0u32;
    let max_frames = |rate: u32| options.max_duration.as_secs_f64() * f64::from(rate);
    // Progress against the track's length, in its own sample rate, when the container says it.
    let total_frames = track_frames.filter(|&f| f > 0);
    let mut reported = 0u8;

    // Set when the packets have run out: then the decoder gives what it still holds, once.
    let mut ended = false;
    loop {
        if ended {
            break;
        }
        let packet = match format.next_packet() {
            Ok(Some(packet)) => Some(packet),
            Ok(None) => None,
            // A truncated file ends early; what was decoded so far is kept, as other tools do.
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                None
            }
            Err(SymphoniaError::IoError(e)) => return Err(TranscodeError::Io(e)),
            Err(SymphoniaError::ResetRequired) => {
                return Err(TranscodeError::Corrupt {
                    at: seconds(frames, &state),
                    detail: "the stream changes its format midway".into(),
                });
            }
            Err(err) => {
                return Err(TranscodeError::Corrupt {
                    at: seconds(frames, &state),
                    detail: err.to_string(),
                });
            }
        };
        let decoded = match packet {
            Some(packet) if packet.track_id != track_id => continue,
            Some(packet) => decoder.decode(&packet, &mut pcm),
            None => {
                ended = true;
                Ok(decoder.drain(&mut pcm))
            }
        };
        let spec = match decoded {
            Ok(Some(spec)) => spec,
            Ok(None) => continue,
            Err(SymphoniaError::DecodeError(detail)) => {
                bad_packets += 1;
                if bad_packets > options.max_bad_packets {
                    return Err(TranscodeError::Corrupt {
                        at: seconds(frames, &state),
                        detail: format!(
                            "{bad_packets} packets could not be decoded (last: {detail})"
                        ),
                    });
                }
                continue;
            }
            Err(SymphoniaError::IoError(e)) => return Err(TranscodeError::Io(e)),
            Err(SymphoniaError::Unsupported(what)) => {
                return Err(TranscodeError::UnsupportedCodec(format!(
                    "{codec_name} ({what})"
                )));
            }
            Err(err) => {
                return Err(TranscodeError::Corrupt {
                    at: seconds(frames, &state),
                    detail: err.to_string(),
                });
            }
        };
        let decoders::Spec {
            rate,
            channels,
            positions,
        } = spec;
        if channels == 0 || rate == 0 {
            return Err(TranscodeError::Corrupt {
                at: seconds(frames, &state),
                detail: "a packet has no channels or no sample rate".into(),
            });
        }
        if channels > options.max_channels {
            return Err(TranscodeError::TooManyChannels {
                found: channels,
                limit: options.max_channels,
            });
        }
        if trim.done() {
            break;
        }
        let enc = match &mut state {
            Some(s) => {
                if s.rate != rate || s.source_channels != channels {
                    return Err(TranscodeError::Corrupt {
                        at: seconds(frames, &state),
                        detail: "the sample rate or channel count changes midway".into(),
                    });
                }
                s
            }
            None => state.insert(EncodeState::new(
                rate,
                channels,
                positions,
                options,
                audio_start,
            )?),
        };
        let kept = trim.apply(&mut pcm, channels, rate);
        if kept == 0 {
            continue;
        }
        frames += kept as u64;
        if let (Some(sink), Some(total)) = (&options.progress, total_frames) {
            let percent = u8::try_from((frames.saturating_mul(100) / total).min(99)).unwrap_or(99);
            if percent > reported {
                reported = percent;
                (sink.0)(percent);
            }
        }
        if frames as f64 > max_frames(rate) {
            return Err(TranscodeError::TooLong {
                limit: options.max_duration,
            });
        }
        enc.encode(&mut pcm, out)?;
    }

    let Some(enc) = state else {
        return Err(if bad_packets > 0 {
            TranscodeError::Corrupt {
                at: 0.0,
                detail: "no audio packet could be decoded".into(),
            }
        } else {
            TranscodeError::EmptyAudio
        });
    };
    let (rate, source_channels, out_channels) = (enc.rate, enc.source_channels, enc.out_channels);
    enc.finish(out)?;
    let end = out.stream_position()?;
    Ok(Summary {
        tags,
        format: format_name,
        codec: codec_name,
        sample_rate: rate,
        source_channels,
        channels: out_channels,
        frames,
        bad_packets,
        mp3_bytes: end - start,
    })
}

/// The first bytes of the source (up to 512), for sniffing; the source is rewound.
fn read_head(source: &mut Box<dyn MediaSource>) -> Result<Vec<u8>, TranscodeError> {
    source.seek(SeekFrom::Start(0))?;
    let mut head = Vec::with_capacity(512);
    source.take(512).read_to_end(&mut head)?;
    source.seek(SeekFrom::Start(0))?;
    Ok(head)
}

/// Whether the source starts like an ISO-BMFF (MP4, MOV, M4A, 3GP) file.
pub(crate) fn looks_like_mp4(head: &[u8]) -> bool {
    matches!(
        head.get(4..8),
        Some(b"ftyp" | b"moov" | b"mdat" | b"free" | b"wide" | b"skip" | b"pnot" | b"styp")
    )
}

/// iTunes' gapless comment (`iTunSMPB`) from the container's metadata, if any.
fn itunes_gapless(format: &mut dyn symphonia::core::formats::FormatReader) -> Option<(u64, u64)> {
    let metadata = format.metadata();
    let revision = metadata.current()?;
    revision.media.tags.iter().find_map(|tag| {
        if !tag.raw.key.ends_with("iTunSMPB") {
            return None;
        }
        match &tag.raw.value {
            symphonia::core::meta::RawValue::String(text) => {
                mp4edit::parse_itunsmpb(text).map(|(priming, _, samples)| (priming, samples))
            }
            _ => None,
        }
    })
}

/// Which decoded samples are real audio: the encoder's priming at the start and its padding at
/// the end are dropped, as players that honour the container's edit list do.
#[derive(Debug, Default)]
struct Trim {
    edit: Option<mp4edit::TrackEdit>,
    /// (priming, samples) from iTunSMPB, at the track's sample rate.
    itunes: Option<(u64, u64)>,
    /// Set from the first decoded buffer: frames still to drop, frames still to keep.
    state: Option<(u64, Option<u64>)>,
}

impl Trim {
    fn done(&self) -> bool {
        matches!(self.state, Some((_, Some(0))))
    }

    /// Drops what is not to be played from interleaved `pcm`; returns the frames kept.
    fn apply(&mut self, pcm: &mut Vec<f32>, channels: usize, rate: u32) -> usize {
        let (skip, keep) = self
            .state
            .get_or_insert_with(|| match (self.edit, self.itunes) {
                (Some(edit), _) => edit.at_rate(rate),
                (None, Some((priming, samples))) => (priming, Some(samples)),
                (None, None) => (0, None),
            });
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
}

fn seconds(frames: u64, state: &Option<EncodeState>) -> f64 {
    state
        .as_ref()
        .map_or(0.0, |s| frames as f64 / f64::from(s.rate))
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
struct EncodeState {
    sink: Sink,
    /// For a source rate MP3 cannot carry.
    resampler: Option<resample::Resampler>,
    rate: u32,
    source_channels: usize,
    out_channels: usize,
    /// Where the info frame goes (after the ID3 tag).
    start: u64,
    /// For more than two channels.
    downmix: Option<downmix::Downmix>,
    stereo: Vec<f32>,
    resampled: Vec<f32>,
}

impl EncodeState {
    fn new(
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
    fn encode<W: Write + Seek>(
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
    fn finish<W: Write + Seek>(mut self, out: &mut W) -> Result<(), TranscodeError> {
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
