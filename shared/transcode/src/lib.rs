//! The audio engine: reads any container and codec symphonia supports from a seekable source,
//! and writes an MP3 (LAME) to a seekable sink, packet by packet, so memory does not grow with
//! the input's length. Synchronous and free of AWS code.
//!
//! The MP3 starts with a Xing/LAME info frame. LAME writes a blank one first; it is filled in
//! after the flush (frame count, sizes, encoder delay and padding), which is why the sink must
//! be seekable. Without it players guess the length of a VBR file wrongly.

//!
//! Three stages, each in its module: [`probe`] (what the source holds, which track, its trim,
//! the early limits), [`decode`] (packets to PCM) and [`encode`] (PCM to MP3), joined here.

mod ac3;
mod decode;
mod decoders;
mod downmix;
mod dsd;
mod encode;
mod error;
mod fdk;
mod lame;
mod limits;
mod lossless;
mod loudness;
mod mkvtracks;
mod mp4;
mod musepack;
mod names;
mod parallel;
mod patch;
mod plan;
mod probe;
mod repack;
mod resample;
mod speex;
mod tags;
mod tracker;
mod trim;
mod wvdsd;

pub use error::TranscodeError;
pub use loudness::PartLoudness;
pub use parallel::{Part, PartFigures, join_parts};
pub use plan::{Mp4Index, Mp4Plan, mp4_audio_plan, mp4_audio_plan_for};
pub use symphonia::core::io::MediaSource;
pub use tags::{Chapter, ENCODER, MAX_PICTURE, Picture, Tags};

use encode::EncodeState;
use limits::Limits;
use std::io::{Read, Seek, SeekFrom, Write};
use std::time::Duration;
use trim::Cut;

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
    /// The source's `moov`, when the caller has read it already ([`Mp4Plan::index`], from the
    /// same source): the engine then does not walk it again.
    pub mp4_index: Option<Mp4Index>,
    /// The first second of the source kept, cut sample-exactly at the source's rate (0 keeps
    /// everything from the start).
    pub start: f64,
    /// Where the part kept ends, in seconds of the source (`None`: at the end).
    pub end: Option<f64>,
    /// Channels of the MP3, 1 or 2 (`None`: the source's, more than two folded to stereo).
    pub channels: Option<usize>,
    /// The MP3's sample rate, one an MP3 can carry (`None`: the source's, or the nearest one an
    /// MP3 can carry).
    pub sample_rate: Option<u32>,
    /// Normalise to this integrated loudness (LUFS, EBU R128), measured in a first,
    /// decode-only pass; peaks over the true-peak ceiling are limited.
    pub loudness: Option<f64>,
    /// The audio track to convert when the file has several (`None`: the one the file marks
    /// as default).
    pub track: Option<TrackChoice>,
    /// Write no ID3 tag: none of the source's tags, cover art or chapters, nor the file name.
    pub strip_tags: bool,
    /// Told the file's audio tracks, and which of them is converted, as soon as the file has
    /// been probed (before any audio is decoded; again on each reading of the source).
    pub probed: Option<ProbedSink>,
    /// Make only this part of the MP3, for a conversion fanned out over several workers
    /// ([`Part`]; the parts are joined by [`join_parts`]). Part 0 writes the ID3 tag and the
    /// info frame's place; the others only their frames.
    pub part: Option<Part>,
}

/// What a [`ProbedSink`] calls: the source's audio tracks and the index of the one converted.
pub type ProbedFn = dyn Fn(&[AudioTrack], usize) + Send + Sync;

/// Receives the source's audio tracks and the index of the one converted.
#[derive(Clone)]
pub struct ProbedSink(pub std::sync::Arc<ProbedFn>);

impl std::fmt::Debug for ProbedSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProbedSink")
    }
}

/// An audio track asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackChoice {
    /// Counting the file's audio tracks from 0, in the file's order (as ffmpeg's `-map 0:a:N`).
    Index(usize),
    /// The language the container gives the track (ISO 639-2, such as `eng`; any case).
    Language(String),
}

impl std::fmt::Display for TrackChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Index(i) => write!(f, "{i}"),
            Self::Language(l) => write!(f, "in {l:?}"),
        }
    }
}

/// One of the source's audio tracks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioTrack {
    /// Counting audio tracks from 0, in the file's order.
    pub index: usize,
    pub codec: String,
    pub channels: Option<usize>,
    pub sample_rate: Option<u32>,
    /// As the container gives it; `None` when unset or `und`.
    pub language: Option<String>,
}

impl std::fmt::Display for AudioTrack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.index, self.codec)?;
        match self.channels {
            Some(1) => f.write_str(", mono")?,
            Some(2) => f.write_str(", stereo")?,
            Some(n) => write!(f, ", {n} channels")?,
            None => {}
        }
        if let Some(language) = &self.language {
            write!(f, ", {language}")?;
        }
        Ok(())
    }
}

/// The true-peak ceiling of normalised output, dBTP.
pub const TRUE_PEAK_CEILING_DB: f64 = loudness::TRUE_PEAK_CEILING_DB;
/// The most normalising raises a recording, dB.
pub const MAX_GAIN_DB: f64 = loudness::MAX_GAIN_DB;

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
            mp4_index: None,
            start: 0.0,
            end: None,
            channels: None,
            sample_rate: None,
            loudness: None,
            track: None,
            strip_tags: false,
            probed: None,
            part: None,
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
    /// Every audio track of the source, in the file's order.
    pub tracks: Vec<AudioTrack>,
    /// The index (in `tracks`) of the one converted.
    pub track: usize,
    /// For one part of a fanned-out conversion ([`Options::part`]): what the join needs.
    pub part: Option<PartFigures>,
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
        mp4::truncated(&mut source)
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
    source: Box<dyn MediaSource>,
    extension: Option<&str>,
    out: &mut W,
    options: &Options,
) -> Result<Summary, TranscodeError> {
    options.check()?;
    let (source, normalise, first_half) = match options.loudness {
        Some(target) => {
            let (source, measured) = measure(source, extension, options, None)?;
            let (source, target) =
                correct_for_limiting(source, extension, options, measured, target)?;
            (source, Some((measured, target)), false)
        }
        None => (source, None, true),
    };
    let limits = options.limits();
    let probe::Probed {
        mut format,
        format_name,
        track_id,
        params,
        codec_name,
        track_frames,
        trim,
        tracks,
        track,
        chapters,
    } = probe::probe(source, extension, &limits, options)?;
    let tags = if options.strip_tags {
        tags::Tags::default()
    } else {
        let mut tags = tags::Tags::from_source(&mut *format, track_id);
        // The length played: an edit list's, else the track's.
        let duration = params.sample_rate.and_then(|rate| {
            let frames = trim
                .edit
                .and_then(|edit| edit.at_rate(rate).1)
                .or(track_frames)?;
            Some(frames as f64 / f64::from(rate))
        });
        tags.take_chapters(&*format, &chapters, options.start, options.end, duration);
        tags
    };
    let decode = decode::Decode::new(format, track_id, &params, codec_name.clone(), limits)?;
    // With a measuring pass first, this pass is the second half of the progress.
    let half = if first_half { Half::All } else { Half::Second };
    let mut pass = Pass::new(decode, trim, options, track_frames, half);

    let start = out.stream_position()?;
    if !options.strip_tags && options.part.is_none_or(|p| p.index == 0) {
        out.write_all(&tags.to_id3(options.fallback_title.as_deref()))?;
    }
    // The info frame LAME fills in after the flush sits right after the tag.
    let audio_start = out.stream_position()?;
    let mut state: Option<EncodeState> = None;
    let mut pcm: Vec<f32> = Vec::new();
    let mut frames: u64 = 0;
    // A part after the first seeks to where its segment's audio is, once the first block has
    // said what the decoder really gives.
    let mut seek = options.part.filter(|p| p.index > 0 && normalise.is_none());
    let mut passed = 0;
    while let Some(spec) = pass.next(&mut pcm)? {
        if let Some(part) = seek.take()
            && let Some(at) = seek_to_part(&mut pass, part, spec, &params, options)?
        {
            (passed, frames) = (at, at);
            continue;
        }
        let enc = match &mut state {
            Some(s) => s,
            None => {
                let enc = state.insert(EncodeState::new(
                    spec.rate,
                    spec.channels,
                    spec.positions,
                    options,
                    audio_start,
                    normalise,
                )?);
                enc.passed_over(passed);
                enc
            }
        };
        if pcm.is_empty() {
            continue;
        }
        frames += (pcm.len() / spec.channels) as u64;
        enc.encode(&mut pcm, out)?;
        // A part stops reading once its segment's audio (and the look-ahead after it) is in.
        if enc.part_complete() {
            break;
        }
    }

    let Some(enc) = state else {
        return Err(pass.decode.nothing_decoded());
    };
    if frames == 0 && pass.cut.starts_past_the_end() {
        return Err(TranscodeError::StartPastTheEnd {
            start: options.start,
            duration: pass.decoded as f64 / f64::from(enc.rate.max(1)),
        });
    }
    let (rate, source_channels, out_channels) = (enc.rate, enc.source_channels, enc.out_channels);
    let part = enc.finish(out)?;
    let end = out.stream_position()?;
    Ok(Summary {
        tags,
        format: format_name,
        codec: codec_name,
        sample_rate: rate,
        source_channels,
        channels: out_channels,
        frames,
        bad_packets: pass.decode.bad_packets(),
        mp3_bytes: end - start,
        tracks,
        track,
        part,
    })
}

/// How a conversion can be fanned out over workers ([`Options::part`]), told by a probe of the
/// source's headers before anything is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FanoutPlan {
    /// Samples per channel of the MP3's audio, as the container gives its length. A container
    /// may be wrong: the parts' join ([`join_parts`]) says so.
    pub samples: u64,
    /// Samples per channel per MP3 frame.
    pub frame: usize,
    pub sample_rate: u32,
}

impl FanoutPlan {
    /// The parts of `segment_frames` MP3 frames the audio is cut into ([`Part::count`]).
    pub fn parts(&self, segment_frames: usize) -> usize {
        Part::count(self.samples, self.frame, segment_frames)
    }

    /// The audio's length.
    pub fn duration(&self) -> Duration {
        Duration::from_secs_f64(self.samples as f64 / f64::from(self.sample_rate.max(1)))
    }
}

/// Whether a conversion of `source` with `options` can be fanned out over parts that each seek
/// to their own segment, and on what grid: `None` where each part would have to decode from
/// the start (a codec that does not seek exactly, a resampled MP3, levelling, a cut, a
/// container that does not say its length). Reads the headers only.
pub fn plan_fanout(
    source: Box<dyn MediaSource>,
    extension: Option<&str>,
    options: &Options,
) -> Result<Option<FanoutPlan>, TranscodeError> {
    options.check()?;
    if options.loudness.is_some() || options.start != 0.0 || options.end.is_some() {
        return Ok(None);
    }
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let limits = options.limits();
        let probed = probe::probe(source, extension, &limits, options)?;
        let params = probed.params.clone();
        let Some(rate) = params.sample_rate else {
            return Ok(None);
        };
        let out_rate = options
            .sample_rate
            .unwrap_or_else(|| encode::nearest_mp3_rate(rate));
        let in_mp4 = probed.trim.durations.is_some();
        let (priming, kept) = probed.trim.plan_at(rate);
        let samples = kept.or_else(|| probed.track_frames.map(|f| f.saturating_sub(priming)));
        let decode = decode::Decode::new(
            probed.format,
            probed.track_id,
            &params,
            probed.codec_name,
            limits,
        )?;
        // The first block says which decoder takes the stream (AAC: symphonia's for plain
        // AAC-LC, FDK's otherwise) and at what rate it really decodes (HE-AAC doubles it).
        let mut pass = Pass::new(decode, probed.trim, options, probed.track_frames, Half::All);
        let mut pcm = Vec::new();
        let Some(spec) = pass.next(&mut pcm)? else {
            return Err(pass.decode.nothing_decoded());
        };
        let seeks = spec.rate == rate
            && seeks_exactly(params.codec, pass.decode.by_symphonia())
            && (!in_mp4 || params.codec == AAC_FRAME.0);
        Ok(match samples {
            Some(samples) if seeks && out_rate == rate && samples > 0 => {
                limits.duration(samples, rate)?;
                Some(FanoutPlan {
                    samples,
                    frame: if rate >= 32_000 { 1152 } else { 576 },
                    sample_rate: rate,
                })
            }
            _ => None,
        })
    }))
    .unwrap_or(Ok(None))
}

/// AAC, and the samples each of its packets decodes to.
const AAC_FRAME: (symphonia::core::codecs::audio::AudioCodecId, u64) = (
    symphonia::core::codecs::audio::well_known::CODEC_ID_AAC,
    1024,
);

/// Decoded frames read before the frame a part's audio must be exact from: the first blocks
/// after a seek lack what the packets before would have given the decoder.
const PART_PREROLL: u64 = 16_384;

/// Whether decoding `codec` from a seek gives, after [`PART_PREROLL`] frames, exactly the samples
/// decoding from the start gives (checked in `tests/fanout.rs`): PCM, FLAC, and AAC-LC where
/// symphonia's decoder takes it (`plain_aac`), whose noise substitution is patched to start each
/// packet afresh (`shared/patched/symphonia-codec-aac/PATCHED.md`). Not FDK's AAC (HE-AAC,
/// other layouts), whose noise generator runs on from packet to packet.
fn seeks_exactly(codec: symphonia::core::codecs::audio::AudioCodecId, plain_aac: bool) -> bool {
    use symphonia::core::codecs::audio::well_known::*;
    (CODEC_ID_PCM_S32LE..=CODEC_ID_PCM_MULAW).contains(&codec)
        || codec == CODEC_ID_FLAC
        || (codec == CODEC_ID_AAC && plain_aac)
}

/// For `part` of a fanned-out conversion, after the first decoded block (`spec`): moves the
/// reading to [`PART_PREROLL`] frames before the first sample its segment needs, where that
/// gives the samples a reading from the start would (the MP3 at the source's rate, no
/// levelling, a codec in [`seeks_exactly`]), and counts what was passed over through the
/// container's trim and the cut. Returns the MP3's samples passed over, or `None` (the block
/// kept, nothing moved) where the part reads from the start.
fn seek_to_part(
    pass: &mut Pass,
    part: Part,
    spec: decoders::Spec,
    params: &symphonia::core::codecs::audio::AudioCodecParameters,
    options: &Options,
) -> Result<Option<u64>, TranscodeError> {
    let rate = spec.rate;
    let out_rate = options
        .sample_rate
        .unwrap_or_else(|| encode::nearest_mp3_rate(rate));
    if params.sample_rate != Some(rate)
        || out_rate != rate
        || !seeks_exactly(params.codec, pass.decode.by_symphonia())
    {
        return Ok(None);
    }
    let frame = if rate >= 32_000 { 1152 } else { 576 };
    let target =
        part.first_sample(frame) + trim::Cut::sample(options.start, rate) + pass.trim.priming(rate);
    let Some(from) = target.checked_sub(PART_PREROLL) else {
        return Ok(None);
    };
    // In an MP4 a packet's media time is not the samples decoded before it: AAC gives 1,024
    // a packet, so the seek goes by packet numbers (other codecs in MP4 read from the start).
    let packets = pass.trim.durations.clone();
    if packets.is_some() && params.codec != AAC_FRAME.0 {
        return Ok(None);
    }
    // From here the block decoded is dropped: the reading starts again, at `from` or at 0.
    let at = match &packets {
        None => pass.decode.seek(from, params)?,
        Some(runs) => {
            let time = mp4::sample_time(runs, from / AAC_FRAME.1).unwrap_or(0);
            match pass.decode.seek(time, params)? {
                Some(landed) => match mp4::sample_at(runs, landed) {
                    Some(index) => Some(index * AAC_FRAME.1),
                    // Not on a packet's start: back to the start.
                    None => pass.decode.seek(0, params)?,
                },
                None => None,
            }
        }
    }
    .unwrap_or(0);
    pass.trim = pass.trim.restarted();
    pass.cut = trim::Cut::new(options.start, options.end);
    let kept = pass.trim.pass_over(at, rate);
    pass.decoded = kept;
    Ok(Some(pass.cut.pass_over(kept, rate)))
}

/// When the gain to `target` needs the limiter, the limited peaks take some loudness with them:
/// a second decode-only pass measures the levelled audio, and the target is moved by what it
/// fell short. Without limiting, the gain is exact and nothing is read again.
fn correct_for_limiting(
    source: Box<dyn MediaSource>,
    extension: Option<&str>,
    options: &Options,
    measured: loudness::Measured,
    target: f64,
) -> Result<(Box<dyn MediaSource>, f64), TranscodeError> {
    if !loudness::Leveller::limits(measured, target) {
        return Ok((source, target));
    }
    let (source, levelled) = measure(source, extension, options, Some((measured, target)))?;
    let corrected = match levelled.integrated {
        Some(reached) => target + (target - reached),
        None => target,
    };
    Ok((source, corrected))
}

/// A decode-only pass: decodes what will be encoded (the cut, remixed to the MP3's channels,
/// levelled by `level` if given) and measures it; gives the source back, rewound.
fn measure(
    source: Box<dyn MediaSource>,
    extension: Option<&str>,
    options: &Options,
    level: Option<(loudness::Measured, f64)>,
) -> Result<(Box<dyn MediaSource>, loudness::Measured), TranscodeError> {
    let limits = options.limits();
    let probe::Probed {
        format,
        track_id,
        params,
        codec_name,
        track_frames,
        trim,
        ..
    } = probe::probe(source, extension, &limits, options)?;
    let decode = decode::Decode::new(format, track_id, &params, codec_name, limits)?;
    let mut pass = Pass::new(decode, trim, options, track_frames, Half::First);
    let (mut pcm, mut mixed, mut levelled) = (Vec::new(), Vec::new(), Vec::new());
    let mut meter: Option<(encode::Remix, Option<loudness::Leveller>, loudness::Meter)> = None;
    while let Some(spec) = pass.next(&mut pcm)? {
        if pcm.is_empty() {
            continue;
        }
        let (remix, leveller, meter) = match &mut meter {
            Some(m) => m,
            None => {
                let channels = options.channels.unwrap_or(spec.channels.min(2));
                meter.insert((
                    encode::Remix::new(spec.channels, spec.positions, channels),
                    level
                        .map(|(m, target)| loudness::Leveller::new(m, target, channels, spec.rate)),
                    loudness::Meter::new(channels, spec.rate, true)?,
                ))
            }
        };
        let samples = if remix.apply(&pcm, &mut mixed) {
            &mixed
        } else {
            &pcm
        };
        match leveller {
            Some(leveller) => {
                leveller.process(samples, &mut levelled);
                meter.add(&levelled)?;
            }
            None => meter.add(samples)?,
        }
    }
    if let Some((_, Some(leveller), meter)) = &mut meter {
        leveller.finish(&mut levelled);
        meter.add(&levelled)?;
    }
    let measured = meter.map_or(
        loudness::Measured {
            integrated: None,
            true_peak: 0.0,
        },
        |(_, _, meter)| loudness::Measured {
            integrated: meter.integrated(),
            true_peak: meter.peak(),
        },
    );
    let mut stream = pass.decode.into_format().into_inner();
    stream.seek(SeekFrom::Start(0))?;
    Ok((Box::new(stream), measured))
}

/// One reading of the source: decoded, the container's trim applied, the duration limit
/// checked, progress told, and the user's cut made; the same for the measuring and the encoding
/// passes.
struct Pass {
    decode: decode::Decode,
    trim: trim::Trim,
    cut: Cut,
    limits: Limits,
    progress: Progress,
    start: f64,
    /// Frames decoded after the container's trim (the work done, which the limit counts).
    decoded: u64,
}

impl Pass {
    fn new(
        decode: decode::Decode,
        trim: trim::Trim,
        options: &Options,
        track_frames: Option<u64>,
        half: Half,
    ) -> Self {
        Self {
            decode,
            trim,
            cut: Cut::new(options.start, options.end),
            limits: options.limits(),
            progress: Progress::new(options.progress.clone(), track_frames, half),
            start: options.start,
            decoded: 0,
        }
    }

    /// The next decoded block into `pcm`, holding only the frames kept (possibly none); `None`
    /// at the end of the audio or of the cut.
    fn next(&mut self, pcm: &mut Vec<f32>) -> Result<Option<decoders::Spec>, TranscodeError> {
        if self.trim.done() || self.cut.done() {
            return Ok(None);
        }
        let Some(spec) = self.decode.next(pcm)? else {
            return Ok(None);
        };
        self.decoded += self.trim.apply(pcm, spec.channels, spec.rate) as u64;
        self.limits.duration(self.decoded, spec.rate)?;
        self.progress.total_at_most(
            self.cut
                .kept_at_most(spec.rate)
                .map(|k| k + Cut::sample(self.start, spec.rate)),
        );
        self.progress.report(self.decoded);
        self.cut.apply(pcm, spec.channels, spec.rate);
        Ok(Some(spec))
    }
}

impl Options {
    /// Refuses settings the engine cannot honour (the API checks them first, in words).
    fn check(&self) -> Result<(), TranscodeError> {
        let bad = |what: String| Err(TranscodeError::Options(what));
        if !self.start.is_finite() || self.start < 0.0 {
            return bad(format!("start {} is not a time in the audio", self.start));
        }
        if let Some(end) = self.end
            && (!end.is_finite() || end <= self.start)
        {
            return bad(format!("end {end} is not after start {}", self.start));
        }
        if let Some(channels) = self.channels
            && !(1..=2).contains(&channels)
        {
            return bad(format!("an MP3 has 1 or 2 channels, not {channels}"));
        }
        if let Some(target) = self.loudness
            && !(-70.0..=0.0).contains(&target)
        {
            return bad(format!("a loudness of {target} LUFS is not a target"));
        }
        if let Some(rate) = self.sample_rate
            && !encode::MP3_RATES.contains(&rate)
        {
            return bad(format!("an MP3 cannot carry a sample rate of {rate} Hz"));
        }
        Ok(())
    }

    fn limits(&self) -> Limits {
        Limits {
            max_duration: self.max_duration,
            max_channels: self.max_channels,
            max_bad_packets: self.max_bad_packets,
        }
    }
}

/// Progress against the track's length (in its own rate, when the container says it), told to
/// the sink only when the whole percentage grows; 100 is left for the caller, once stored.
struct Progress {
    sink: Option<ProgressSink>,
    total: Option<u64>,
    reported: u8,
    half: Half,
}

/// Which part of the whole a pass is: the only one, or one of two (measuring, then encoding).
#[derive(Clone, Copy)]
enum Half {
    All,
    First,
    Second,
}

impl Progress {
    fn new(sink: Option<ProgressSink>, total: Option<u64>, half: Half) -> Self {
        Self {
            sink,
            total: total.filter(|&f| f > 0),
            reported: 0,
            half,
        }
    }

    /// Lowers the total to `frames` when the part kept ends earlier than the track.
    fn total_at_most(&mut self, frames: Option<u64>) {
        if let Some(frames) = frames.filter(|&f| f > 0) {
            self.total = Some(self.total.map_or(frames, |t| t.min(frames)));
        }
    }

    fn report(&mut self, frames: u64) {
        if let (Some(sink), Some(total)) = (&self.sink, self.total) {
            let done = (frames.saturating_mul(100) / total).min(99);
            let done = match self.half {
                Half::All => done,
                Half::First => done / 2,
                Half::Second => 50 + done / 2,
            };
            let percent = u8::try_from(done.min(99)).unwrap_or(99);
            if percent > self.reported {
                self.reported = percent;
                (sink.0)(percent);
            }
        }
    }
}
