//! Formats symphonia has no reader for: the lossless WavPack (`oxideav-wavpack`), Monkey's Audio
//! (`ape-decoder`) and True Audio (`oxideav-tta`), all pure Rust, each decoding bit-exactly what
//! ffmpeg decodes from the real-world corpus (docs/testing.md); DSD (`crate::dsd`); and the lossy
//! Musepack (`crate::musepack`).
//!
//! Their decoders work on whole frames they find themselves, so [`Reader`] decodes one frame
//! per packet and hands on the samples as interleaved `f32`: the packet's codec is the source's
//! (so the codec is named right wherever tracks are listed), and `crate::decoders` takes such a
//! packet as it is. One frame is held at a time: memory stays flat whatever the file's length.

use crate::error::TranscodeError;
use std::io::{Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex};
use symphonia::core::audio::{Channels, Position};
use symphonia::core::codecs::CodecParameters;
use symphonia::core::codecs::audio::well_known::{
    CODEC_ID_MONKEYS_AUDIO, CODEC_ID_MUSEPACK, CODEC_ID_TTA, CODEC_ID_WAVPACK,
};
use symphonia::core::codecs::audio::{AudioCodecId, AudioCodecParameters};
use symphonia::core::common::FourCc;
use symphonia::core::errors::{Error as SymphoniaError, Result as SymphoniaResult};
use symphonia::core::formats::prelude::*;
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::{Metadata, MetadataLog};
use symphonia::core::packet::Packet;

/// DSD, which symphonia has no id for.
pub(crate) const CODEC_ID_DSD: AudioCodecId = AudioCodecId::new(FourCc::new(*b"DSD "));

/// The codecs whose packets a [`Reader`] has already decoded.
pub(crate) fn decoded_here(codec: AudioCodecId) -> bool {
    [
        Kind::WavPack,
        Kind::MonkeysAudio,
        Kind::Tta,
        Kind::Dsd,
        Kind::Musepack,
    ]
    .iter()
    .any(|k| k.codec() == codec)
}

/// The speakers of `channels` channels in the WAV order these formats use.
pub(crate) fn wav_positions(channels: usize) -> Option<Position> {
    const ORDER: [Position; 8] = [
        Position::FRONT_LEFT,
        Position::FRONT_RIGHT,
        Position::FRONT_CENTER,
        Position::LFE1,
        Position::REAR_LEFT,
        Position::REAR_RIGHT,
        Position::SIDE_LEFT,
        Position::SIDE_RIGHT,
    ];
    match channels {
        3..=8 => Some(
            ORDER[..channels]
                .iter()
                .fold(Position::empty(), |a, &p| a | p),
        ),
        _ => None,
    }
}

/// The source, shared between the frame decoder (which reads it) and the reader (which hands it
/// back when the engine reads the file a second time).
#[derive(Clone)]
struct Shared(Arc<Mutex<MediaSourceStream<'static>>>);

impl Shared {
    fn with<T>(&self, f: impl FnOnce(&mut MediaSourceStream<'static>) -> T) -> T {
        let mut guard = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }
}

impl Read for Shared {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.with(|s| s.read(buf))
    }
}

impl Seek for Shared {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.with(|s| s.seek(pos))
    }
}

impl MediaSource for Shared {
    fn is_seekable(&self) -> bool {
        true
    }

    fn byte_len(&self) -> Option<u64> {
        self.with(|s| s.byte_len())
    }
}

/// The file's tags, as these formats keep them: an APEv2 tag at the end (WavPack, Monkey's
/// Audio, TTA; before an ID3v1 tag if there is one), else an ID3v2 tag in front, or where a DSF
/// header points. A tag that cannot be read is left out; the audio does not depend on it.
fn read_tags(source: &Shared, skip: u64, kind: Kind) -> MetadataLog {
    use symphonia::core::meta::{MetadataOptions, MetadataReader};
    let mut log = MetadataLog::default();
    // Where the audio is read from next, put back at the end (WavPack reads on from there).
    let resume = source.clone().stream_position().ok();
    let stream = |at: u64| {
        let mut shared = source.clone();
        shared.seek(SeekFrom::Start(at)).ok()?;
        Some(MediaSourceStream::new(Box::new(shared), Default::default()))
    };
    let bytes_at = |at: u64, n: usize| {
        let mut shared = source.clone();
        shared.seek(SeekFrom::Start(at)).ok()?;
        let mut buf = vec![0u8; n];
        shared.read_exact(&mut buf).ok()?;
        Some(buf)
    };
    let len = source.byte_len().unwrap_or(0);
    let ape = [32u64, 160]
        .into_iter()
        .filter_map(|back| len.checked_sub(back))
        .find(|&at| bytes_at(at, 8).is_some_and(|b| b == b"APETAGEX"))
        .and_then(|at| {
            let reader = symphonia_metadata::ape::ApeReader::try_new(
                stream(at)?,
                MetadataOptions::default(),
            );
            reader.ok()?.read_all().ok()
        });
    // A DSF file says where its ID3v2 tag is (bytes 20 to 28 of its header).
    let dsf_id3 = bytes_at(skip, 28)
        .filter(|h| kind == Kind::Dsd && h.starts_with(b"DSD "))
        .map(|h| u64::from_le_bytes(h[20..28].try_into().unwrap_or_default()))
        .filter(|&at| at > 0 && at < len);
    let id3_at = if skip > 0 { Some(0) } else { dsf_id3 };
    let id3 = || {
        let at = id3_at?;
        let reader = symphonia_metadata::id3v2::Id3v2Reader::try_new(
            stream(at)?,
            MetadataOptions::default(),
        );
        reader.ok()?.read_all().ok()
    };
    if let Some(buffer) = ape.or_else(id3) {
        log.push(buffer.revision);
    }
    if let Some(at) = resume {
        let _ = source.clone().seek(SeekFrom::Start(at));
    }
    log
}

/// Which format, and where its decoding is.
enum Frames {
    /// `dsd`: one decimating filter per channel when the file holds DSD.
    WavPack {
        dsd: Option<Vec<crate::dsd::Decimator>>,
    },
    Ape {
        decoder: Box<ape_decoder::ApeDecoder<Shared>>,
        next: u32,
        bytes_per_sample: usize,
    },
    Tta {
        header: oxideav_tta::StreamHeader,
        frames: std::vec::IntoIter<oxideav_tta::FrameDescriptor>,
    },
    Dsd {
        layout: crate::dsd::Layout,
        filters: Vec<crate::dsd::Decimator>,
        /// Bytes per channel read so far.
        done: u64,
        buf: Vec<u8>,
    },
    Musepack(Box<crate::musepack::Stream>),
}

/// The formats read here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    WavPack,
    MonkeysAudio,
    Tta,
    Dsd,
    Musepack,
}

impl Kind {
    /// What the first bytes (past any ID3v2 tag) say the format is.
    pub fn sniff(body: &[u8]) -> Option<Self> {
        match body.get(..4)? {
            b"wvpk" => Some(Self::WavPack),
            b"MAC " => Some(Self::MonkeysAudio),
            b"TTA1" => Some(Self::Tta),
            b"DSD " => Some(Self::Dsd),
            b"FRM8" if body.get(12..16) == Some(b"DSD ") => Some(Self::Dsd),
            _ if crate::musepack::sniff(body) => Some(Self::Musepack),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::WavPack => "WavPack",
            Self::MonkeysAudio => "Monkey's Audio",
            Self::Tta => "True Audio",
            Self::Dsd => "DSD",
            Self::Musepack => "Musepack",
        }
    }

    fn info(self) -> FormatInfo {
        let (cc, short_name) = match self {
            Self::WavPack => (*b"wvpk", "wavpack"),
            Self::MonkeysAudio => (*b"MAC ", "ape"),
            Self::Tta => (*b"TTA1", "tta"),
            Self::Dsd => (*b"DSD ", "dsd"),
            Self::Musepack => (*b"MPCK", "mpc"),
        };
        FormatInfo {
            format: FormatId::new(FourCc::new(cc)),
            short_name,
            long_name: self.name(),
        }
    }

    fn codec(self) -> AudioCodecId {
        match self {
            Self::WavPack => CODEC_ID_WAVPACK,
            Self::MonkeysAudio => CODEC_ID_MONKEYS_AUDIO,
            Self::Tta => CODEC_ID_TTA,
            Self::Dsd => CODEC_ID_DSD,
            Self::Musepack => CODEC_ID_MUSEPACK,
        }
    }
}

/// A lossless file, one decoded frame per packet.
pub(crate) struct Reader {
    source: Shared,
    frames: Frames,
    tracks: Vec<Track>,
    media_info: MediaInfo,
    metadata: MetadataLog,
    info: FormatInfo,
    channels: usize,
    /// The next packet's timestamp, in samples.
    ts: u64,
}

/// Why a file's header cannot be read.
fn damaged(what: &str, err: impl std::fmt::Display) -> TranscodeError {
    TranscodeError::Corrupt {
        at: 0.0,
        detail: format!("its {what} header cannot be read ({err})"),
    }
}

/// A frame that could not be decoded: how long it was meant to be, in samples.
struct Damaged(u64);

impl Reader {
    /// Opens the file whose stream starts `skip` bytes in (past an ID3v2 tag).
    pub fn open(
        source: Box<dyn MediaSource>,
        skip: u64,
        kind: Kind,
    ) -> Result<Self, TranscodeError> {
        let total_len = source.byte_len();
        let stream = MediaSourceStream::new(source, Default::default());
        let source = Shared(Arc::new(Mutex::new(stream)));
        let mut shared = source.clone();
        shared.seek(SeekFrom::Start(skip))?;
        let mut mask = None;
        let (frames, rate, channels, total) = match kind {
            Kind::WavPack => {
                let (block, first) = loop {
                    let (block, header) = next_block(&mut shared)
                        .map_err(io_error)?
                        .ok_or_else(|| damaged("WavPack", "no audio block"))?;
                    if header.block_samples > 0 {
                        break (block, header);
                    }
                };
                let (parsed, _) =
                    oxideav_wavpack::parse_block(&block).map_err(|e| damaged("WavPack", e))?;
                let rate = parsed
                    .sample_rate()
                    .map_err(|e| damaged("WavPack", e))?
                    .ok_or_else(|| damaged("WavPack", "no sample rate"))?;
                let header = parsed.header();
                let info = oxideav_wavpack::stream_channel_info(&block).ok().flatten();
                let channels = info.map_or(usize::from(header.flags.channels_in_block()), |c| {
                    usize::from(c.count)
                });
                // The speakers, when the file names one for each channel (a WAV channel mask,
                // whose 18 standard bits are symphonia's positions).
                mask = info
                    .filter(|c| c.mask < 1 << 18)
                    .and_then(|c| Position::from_bits(u64::from(c.mask)))
                    .filter(|m| m.bits().count_ones() as usize == channels);
                let total = (header.total_samples != oxideav_wavpack::TOTAL_SAMPLES_UNKNOWN)
                    .then_some(u64::from(header.total_samples));
                shared.seek(SeekFrom::Start(skip))?;
                if first.flags.raw & DSD_FLAG != 0 {
                    // DSD: the header's rate is the byte rate over the block's multiplier, and
                    // each of its samples is one byte of 1-bit audio, which becomes one PCM
                    // sample.
                    let (_, _, shift) = crate::wvdsd::decode_block(&block)
                        .ok_or_else(|| damaged("WavPack", "its first DSD block is damaged"))?;
                    let rate = rate
                        .checked_shl(u32::from(shift))
                        .filter(|r| *r <= 3_072_000)
                        .ok_or_else(|| damaged("WavPack", "its DSD rate"))?;
                    let filters = vec![crate::dsd::Decimator::default(); channels];
                    (
                        Frames::WavPack { dsd: Some(filters) },
                        rate,
                        channels,
                        total.map(|t| t << shift),
                    )
                } else {
                    (Frames::WavPack { dsd: None }, rate, channels, total)
                }
            }
            Kind::MonkeysAudio => {
                shared.seek(SeekFrom::Start(0))?;
                let decoder = ape_decoder::ApeDecoder::new(shared.clone())
                    .map_err(|e| damaged("Monkey's Audio", e))?;
                let info = decoder.info().clone();
                (
                    Frames::Ape {
                        decoder: Box::new(decoder),
                        next: 0,
                        bytes_per_sample: usize::from(info.bits_per_sample).div_ceil(8),
                    },
                    info.sample_rate,
                    usize::from(info.channels),
                    Some(info.total_samples),
                )
            }
            Kind::Dsd => {
                let layout = crate::dsd::layout(&mut shared, skip)?;
                mask = layout.positions;
                let (channels, rate) = (layout.channels, layout.bit_rate / 8);
                let total = layout.bytes_per_channel;
                (
                    Frames::Dsd {
                        filters: vec![crate::dsd::Decimator::default(); channels],
                        layout,
                        done: 0,
                        buf: Vec::new(),
                    },
                    rate,
                    channels,
                    Some(total),
                )
            }
            Kind::Musepack => {
                use crate::musepack::{OpenError, Stream};
                let stream = Stream::open(&mut shared).map_err(|e| match e {
                    OpenError::Version(v) => TranscodeError::UnsupportedCodec(format!(
                        "Musepack stream version {v}, which only encoders before 2004 wrote,"
                    )),
                    e => damaged("Musepack", e),
                })?;
                let (rate, channels, length) = (stream.rate, stream.channels, stream.length());
                (
                    Frames::Musepack(Box::new(stream)),
                    rate,
                    channels,
                    Some(length),
                )
            }
            Kind::Tta => {
                let (header, frames) = tta_frames(&mut shared, skip, total_len)?;
                if header.format != 1 {
                    return Err(TranscodeError::UnsupportedCodec(
                        "True Audio, encrypted".into(),
                    ));
                }
                (
                    Frames::Tta {
                        frames: frames.into_iter(),
                        header,
                    },
                    header.sample_rate,
                    usize::from(header.channels),
                    Some(u64::from(header.total_samples)),
                )
            }
        };
        if rate == 0 || channels == 0 {
            return Err(damaged(kind.name(), "no channels or no sample rate"));
        }
        let mut params = AudioCodecParameters::new();
        params.for_codec(kind.codec()).with_sample_rate(rate);
        params.with_channels(match mask.or_else(|| wav_positions(channels)) {
            Some(positions) => Channels::Positioned(positions),
            None => Channels::Discrete(u16::try_from(channels).unwrap_or(u16::MAX)),
        });
        let mut track = Track::new(0);
        track.with_codec_params(CodecParameters::Audio(params));
        if let Some(time_base) = TimeBase::try_new(1, rate) {
            track.with_time_base(time_base);
        }
        if let Some(total) = total.filter(|&t| t > 0) {
            track.with_num_frames(total);
        }
        let metadata = read_tags(&source, skip, kind);
        Ok(Self {
            source,
            frames,
            media_info: MediaInfo::from_track(&track),
            tracks: vec![track],
            metadata,
            info: kind.info(),
            channels,
            ts: 0,
        })
    }

    /// The next frame's samples, interleaved, as `f32` (or how long the frame was, when it
    /// cannot be decoded); `None` at the end.
    fn next_frame(&mut self) -> SymphoniaResult<Option<Result<Vec<f32>, Damaged>>> {
        match &mut self.frames {
            Frames::WavPack { dsd } => {
                let mut shared = self.source.clone();
                loop {
                    // One frame: the blocks from an initial block to a final one (one block
                    // unless there are more than two channels).
                    let Some((mut frame, header)) = next_block(&mut shared)? else {
                        return Ok(None);
                    };
                    let mut last = header;
                    while !last.flags.is_final_block() {
                        let Some((more, h)) = next_block(&mut shared)? else {
                            break;
                        };
                        frame.extend_from_slice(&more);
                        last = h;
                    }
                    if header.block_samples == 0 {
                        continue;
                    }
                    let damaged = Damaged(u64::from(header.block_samples));
                    return Ok(Some(match dsd {
                        Some(filters) => wavpack_dsd_frame(&frame, filters).ok_or(damaged),
                        None => {
                            wavpack_frame(&frame, header.flags.bytes_per_sample()).ok_or(damaged)
                        }
                    }));
                }
            }
            Frames::Ape {
                decoder,
                next,
                bytes_per_sample,
            } => {
                if *next >= decoder.total_frames() {
                    return Ok(None);
                }
                let info = decoder.info();
                let length = if *next + 1 == info.total_frames {
                    info.final_frame_blocks
                } else {
                    info.blocks_per_frame
                };
                let pcm = decoder.decode_frame(*next);
                *next += 1;
                Ok(Some(
                    pcm.map(|pcm| pcm_to_f32(&pcm, *bytes_per_sample))
                        .map_err(|_| Damaged(u64::from(length))),
                ))
            }
            Frames::Dsd {
                layout,
                filters,
                done,
                buf,
            } => {
                // DSF: one block of each channel in turn; DSDIFF: as many bytes of each channel,
                // interleaved a byte at a time.
                let per_channel = layout.block.unwrap_or(4096);
                let take = (layout.bytes_per_channel - *done).min(per_channel as u64) as usize;
                if take == 0 {
                    return Ok(None);
                }
                let channels = layout.channels;
                let offset = match layout.block {
                    Some(block) => *done / block as u64 * (block * channels) as u64,
                    None => *done * channels as u64,
                };
                buf.resize(per_channel * channels, 0);
                let len = match layout.block {
                    Some(_) => per_channel * channels,
                    None => take * channels,
                };
                let mut shared = self.source.clone();
                shared.seek(SeekFrom::Start(layout.data_start + offset))?;
                if !fill(&mut shared, &mut buf[..len])? {
                    return Ok(None);
                }
                *done += take as u64;
                let mut pcm = vec![0f32; take * channels];
                for (c, filter) in filters.iter_mut().enumerate() {
                    for i in 0..take {
                        let byte = match layout.block {
                            Some(block) => buf[c * block + i],
                            None => buf[i * channels + c],
                        };
                        // DSF keeps the earliest bit in the least significant place.
                        let byte = if layout.lsb_first {
                            byte.reverse_bits()
                        } else {
                            byte
                        };
                        pcm[i * channels + c] = filter.push(byte);
                    }
                }
                Ok(Some(Ok(pcm)))
            }
            Frames::Musepack(stream) => {
                use crate::musepack::Next;
                let mut shared = self.source.clone();
                Ok(stream.next(&mut shared)?.map(|next| match next {
                    Next::Samples(samples) => Ok(samples),
                    Next::Damaged(length) => Err(Damaged(length)),
                }))
            }
            Frames::Tta { header, frames } => {
                let Some(frame) = frames.next() else {
                    return Ok(None);
                };
                let mut shared = self.source.clone();
                shared.seek(SeekFrom::Start(frame.file_offset))?;
                let mut bytes = vec![0; frame.disk_size as usize];
                // A file cut short ends where it was cut.
                if !fill(&mut shared, &mut bytes)? {
                    return Ok(None);
                }
                let scale = 1.0 / f32::powi(2.0, i32::from(header.bits_per_sample) - 1);
                Ok(Some(
                    oxideav_tta::decode_frame(header, &frame, &bytes)
                        .map(|samples| samples.iter().map(|&s| s as f32 * scale).collect())
                        .map_err(|_| Damaged(u64::from(frame.sample_count))),
                ))
            }
        }
    }
}

/// Little-endian PCM of 1 (unsigned) to 4 bytes a sample, as `f32`.
fn pcm_to_f32(pcm: &[u8], bytes: usize) -> Vec<f32> {
    match bytes {
        1 => pcm
            .iter()
            .map(|&b| (f32::from(b) - 128.0) / 128.0)
            .collect(),
        2 => pcm
            .chunks_exact(2)
            .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
            .collect(),
        3 => pcm
            .chunks_exact(3)
            .map(|b| (i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8) as f32 / 8_388_608.0)
            .collect(),
        _ => pcm
            .chunks_exact(4)
            .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32 / 2_147_483_648.0)
            .collect(),
    }
}

/// Decodes one WavPack frame (its blocks) to `f32`; `None` when it is damaged.
fn wavpack_frame(frame: &[u8], bytes_per_sample: u8) -> Option<Vec<f32>> {
    let first = oxideav_wavpack::parse_block(frame).ok()?.0;
    if first.is_float() {
        return oxideav_wavpack::decode_multichannel_stream_f32(frame)
            .ok()
            .map(|s| s.samples);
    }
    let stream = oxideav_wavpack::decode_multichannel_stream(frame).ok()?;
    let scale = 1.0 / f32::powi(2.0, 8 * i32::from(bytes_per_sample) - 1);
    Some(stream.samples.iter().map(|&s| s as f32 * scale).collect())
}

/// Decodes one WavPack DSD frame (its blocks, each of one or two channels) to PCM through one
/// filter per channel; `None` when a block is damaged or the channels are not the file's.
fn wavpack_dsd_frame(frame: &[u8], filters: &mut [crate::dsd::Decimator]) -> Option<Vec<f32>> {
    let mut parts = Vec::new();
    let mut rest = frame;
    while rest.len() >= 8 {
        let size = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]) as usize + 8;
        let block = rest.get(..size)?;
        parts.push(crate::wvdsd::decode_block(block)?);
        rest = &rest[size..];
    }
    let channels: usize = parts.iter().map(|(_, c, _)| c).sum();
    let bytes = parts.first().map(|(b, c, _)| b.len() / c)?;
    if channels != filters.len() || parts.iter().any(|(b, c, _)| b.len() != bytes * c) {
        return None;
    }
    let mut pcm = vec![0f32; bytes * channels];
    let mut channel = 0;
    for (data, count, _) in &parts {
        for c in 0..*count {
            let filter = &mut filters[channel + c];
            for i in 0..bytes {
                pcm[i * channels + channel + c] = filter.push(data[i * count + c]);
            }
        }
        channel += count;
    }
    Some(pcm)
}

/// WavPack's flag for 1-bit (DSD) audio.
const DSD_FLAG: u32 = 0x8000_0000;

/// A read that failed, as the engine reports it.
fn io_error(err: SymphoniaError) -> TranscodeError {
    match err {
        SymphoniaError::IoError(e) => TranscodeError::Io(e),
        other => damaged("WavPack", other),
    }
}

/// The longest WavPack block taken (the format's own limit is 16 MiB; real blocks are well
/// under 1 MiB).
const MAX_BLOCK: u32 = 16 << 20;

/// How far past damage or a tag the reader looks for the next WavPack block.
const RESYNC_WINDOW: usize = 1 << 20;

/// The next WavPack block from `source` and its header, skipping what is not one (an APEv2 or
/// ID3v1 tag at the end); `None` at the end.
fn next_block(
    source: &mut Shared,
) -> SymphoniaResult<Option<(Vec<u8>, oxideav_wavpack::WavPackBlockHeader)>> {
    let mut head = [0u8; 32];
    if !fill(source, &mut head)? {
        return Ok(None);
    }
    let mut skipped = 0;
    loop {
        if &head[..4] == b"wvpk"
            && let Ok((header, _)) = oxideav_wavpack::parse_block_header(&head)
            && header.ck_size <= MAX_BLOCK
        {
            let mut block = head.to_vec();
            block.resize(header.ck_size as usize + 8, 0);
            if !fill(source, &mut block[32..])? {
                return Ok(None);
            }
            return Ok(Some((block, header)));
        }
        skipped += 1;
        if skipped > RESYNC_WINDOW {
            return Ok(None);
        }
        head.copy_within(1.., 0);
        if !fill(source, &mut head[31..])? {
            return Ok(None);
        }
    }
}

/// Fills `buf`; false when the source ends first.
pub(crate) fn fill(source: &mut impl Read, buf: &mut [u8]) -> std::io::Result<bool> {
    match source.read_exact(buf) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

/// A TTA file's header and its frames, from the seek table.
fn tta_frames(
    source: &mut Shared,
    skip: u64,
    file_len: Option<u64>,
) -> Result<(oxideav_tta::StreamHeader, Vec<oxideav_tta::FrameDescriptor>), TranscodeError> {
    let mut raw = [0u8; 22];
    source.seek(SeekFrom::Start(skip))?;
    source
        .read_exact(&mut raw)
        .map_err(|_| damaged("True Audio", "it is cut short"))?;
    let u16_at = |i: usize| u16::from_le_bytes([raw[i], raw[i + 1]]);
    let u32_at = |i: usize| u32::from_le_bytes([raw[i], raw[i + 1], raw[i + 2], raw[i + 3]]);
    let header = oxideav_tta::StreamHeader {
        format: u16_at(4),
        channels: u16_at(6),
        bits_per_sample: u16_at(8),
        sample_rate: u32_at(10),
        total_samples: u32_at(14),
    };
    let bad = |why: &str| damaged("True Audio", why);
    if !(1..=8).contains(&header.channels)
        || !(8..=24).contains(&header.bits_per_sample)
        || header.sample_rate == 0
    {
        return Err(bad("its header is damaged"));
    }
    let (count, last) = header.frame_geometry();
    let regular = header.regular_frame_samples();
    // The seek table: each frame's size, then a CRC.
    let count = usize::try_from(count).map_err(|_| bad("too many frames"))?;
    // Each frame takes 4 bytes of the table: a count the file cannot hold is a damaged header,
    // not a table to allocate.
    if count > (1 << 24) || file_len.is_some_and(|len| count as u64 * 4 > len) {
        return Err(bad("it claims more frames than the file can hold"));
    }
    let mut table = vec![0u8; count * 4 + 4];
    source
        .read_exact(&mut table)
        .map_err(|_| damaged("True Audio", "its seek table is cut short"))?;
    let mut offset = skip + 22 + table.len() as u64;
    let frames = table
        .chunks_exact(4)
        .take(count)
        .enumerate()
        .map(|(i, size)| {
            let disk_size = u32::from_le_bytes([size[0], size[1], size[2], size[3]]);
            let is_last = i + 1 == count;
            let frame = oxideav_tta::FrameDescriptor {
                file_offset: offset,
                disk_size,
                sample_count: if is_last { last } else { regular },
                is_last,
            };
            offset += u64::from(disk_size);
            frame
        })
        .collect();
    Ok((header, frames))
}

impl FormatReader for Reader {
    fn format_info(&self) -> &FormatInfo {
        &self.info
    }

    fn media_info(&self) -> &MediaInfo {
        &self.media_info
    }

    fn metadata(&mut self) -> Metadata<'_> {
        self.metadata.metadata()
    }

    fn seek(&mut self, _mode: SeekMode, _to: SeekTo) -> SymphoniaResult<SeekedTo> {
        Err(SymphoniaError::SeekError(
            symphonia::core::errors::SeekErrorKind::Unseekable,
        ))
    }

    fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    fn next_packet(&mut self) -> SymphoniaResult<Option<Packet>> {
        // A damaged frame is an empty packet as long as the frame: the decoder reports it
        // damaged, and the engine keeps its place as silence, as for any codec.
        let (frames, data): (u64, Vec<u8>) = match self.next_frame()? {
            None => return Ok(None),
            Some(Ok(samples)) => (
                (samples.len() / self.channels) as u64,
                samples.iter().flat_map(|s| s.to_le_bytes()).collect(),
            ),
            Some(Err(Damaged(frames))) => (frames, Vec::new()),
        };
        let ts = self.ts;
        self.ts += frames;
        Ok(Some(Packet::new(
            0,
            Timestamp::new(i64::try_from(ts).unwrap_or(i64::MAX)),
            Duration::new(frames),
            data,
        )))
    }

    fn into_inner<'s>(self: Box<Self>) -> MediaSourceStream<'s>
    where
        Self: 's,
    {
        let Self { source, frames, .. } = *self;
        drop(frames);
        match Arc::try_unwrap(source.0) {
            Ok(stream) => stream
                .into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
            // Not reached: the frame decoder held the only other handle and is gone.
            Err(shared) => {
                let mut guard = shared
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                std::mem::replace(
                    &mut *guard,
                    MediaSourceStream::new(
                        Box::new(std::io::Cursor::new(Vec::<u8>::new())),
                        Default::default(),
                    ),
                )
            }
        }
    }
}
