//! Musepack, stream versions 7 (`MP+`) and 8 (`MPCK`), decoded by `oxideav-musepack`'s frame
//! decoders (pure Rust, MIT). That crate decodes a whole file held in memory; here its frame
//! parsers are driven a frame (SV7) or an audio packet (SV8) at a time from the source, so memory
//! stays flat whatever the file's length. Its synthesis filterbank computes 2048 cosines for
//! every 32 samples; [`Synthesis`] here is the same filter with the matrixing done as a 32-point
//! DCT, equal to it within 1e-9 of a 16-bit step (a 10-minute file converts in 4 s on one
//! thread instead of 40 s).
//!
//! The output is the reference decoder's (`mpcdec`) gapless window: the filterbank's 481
//! samples of priming are dropped, then the encoder's leading silence (SV8), and the stream
//! ends at the length its header gives (SV7's last-frame count, SV8's sample count), the
//! filterbank drained for the tail. ffmpeg decodes whole frames and trims nothing, so its
//! output is up to one frame (1152 samples) longer.

use crate::lossless::fill;
use oxideav_musepack::cns::CnsPrng;
use oxideav_musepack::frame_reconstruct::SubbandMatrix;
use oxideav_musepack::huffman::Sv7BitReader;
use oxideav_musepack::ms_stereo::undo_ms_stereo_pinned;
use oxideav_musepack::packet_stream::{PacketSizeConvention, PacketStream};
use oxideav_musepack::sh_header::StreamHeaderFields;
use oxideav_musepack::sv7_header::Sv7HeaderFields;
use oxideav_musepack::sv7_stereo_frame::{Sv7ScfMemory, decode_sv7_stereo_frame};
use oxideav_musepack::sv8_stereo_frame::{
    Sv8FrameState, decode_sv8_stereo_frame, reconstruct_sv8_stereo_frame,
};
use oxideav_musepack::synthesis::{SYNTHESIS_PRIME_SAMPLES, SYNTHESIS_WINDOW};
use oxideav_musepack::typed_packet::TypedPacket;
use std::io::Read;

/// Samples per channel in a frame.
const FRAME: u64 = 1152;
/// The bits of an SV7 frame's length prefix, and of the last-frame count after the last frame.
const PREFIX_BITS: u8 = 20;
const TRAILER_BITS: u8 = 11;
/// Where an SV7 stream's first frame starts, in bits (the fixed header).
const SV7_HEADER_BITS: u64 = 200;
/// The largest SV8 packet read (real ones hold about a second of audio, a few hundred KB).
const MAX_PACKET: u64 = 16 << 20;
/// The most frames an SV8 audio packet may hold: 1024 frames is 26 s at 44.1 kHz.
const MAX_FRAMES_PER_PACKET: u64 = 1024;
/// How far into an SV8 file its stream header must be.
const MAX_HEADER_SEARCH: u64 = 1 << 20;

/// Why a Musepack stream cannot be opened.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OpenError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Header(String),
    #[error("stream version {0}, which only encoders before 2004 wrote")]
    Version(u8),
}

/// What the decoder gives next.
pub(crate) enum Next {
    /// Interleaved samples, full scale at ±1.
    Samples(Vec<f32>),
    /// A frame that could not be decoded, and how many samples of the output it was.
    Damaged(u64),
}

/// A Musepack stream being decoded.
pub(crate) struct Stream {
    version: Version,
    pub channels: usize,
    pub rate: u32,
    window: Window,
    ended: bool,
}

/// The part of the decoded timeline that is output, in samples per channel.
struct Window {
    start: u64,
    end: u64,
    /// Samples decoded so far.
    at: u64,
}

impl Window {
    /// Of the next `n` decoded samples, the range that is output.
    fn take(&mut self, n: u64) -> std::ops::Range<usize> {
        let (from, to) = (self.at, self.at + n);
        self.at = to;
        let lo = from.max(self.start).min(to);
        let hi = to.min(self.end).max(lo);
        (lo - from) as usize..(hi - from) as usize
    }

    fn full(&self) -> bool {
        self.at >= self.end
    }
}

enum Version {
    Sv7 {
        decoder: Box<Sv7Decoder>,
        bits: Bits,
        frames_left: u32,
        /// Past the declared frames: an undeclared flush frame may follow, then the drain.
        tail: Tail,
    },
    Sv8 {
        decoder: Box<Sv8Decoder>,
        frames_left: u64,
        per_packet: u64,
        draining: bool,
    },
}

#[derive(PartialEq)]
enum Tail {
    No,
    FlushFrame,
    Drain,
}

/// Does `body` (past any ID3v2 tag) start a Musepack stream?
pub(crate) fn sniff(body: &[u8]) -> bool {
    body.starts_with(b"MP+") || body.starts_with(b"MPCK")
}

impl Stream {
    /// Opens the stream `source` starts with (positioned at its magic).
    pub fn open(source: &mut impl Read) -> Result<Self, OpenError> {
        let mut magic = [0u8; 4];
        source.read_exact(&mut magic)?;
        if &magic == b"MPCK" {
            Self::open_sv8(source)
        } else {
            Self::open_sv7(magic, source)
        }
    }

    fn open_sv7(magic: [u8; 4], source: &mut impl Read) -> Result<Self, OpenError> {
        if magic[3] & 0x0f != 7 {
            return Err(OpenError::Version(magic[3] & 0x0f));
        }
        let mut bits = Bits::default();
        bits.push_raw(&magic);
        bits.fill(source, 64)?;
        // The header parser wants the file's bytes as they are; the buffer holds them swapped.
        let raw: Vec<u8> = bits
            .buf
            .chunks(4)
            .flat_map(|w| w.iter().rev())
            .copied()
            .collect();
        let header = Sv7HeaderFields::parse(&raw).map_err(|e| OpenError::Header(e.to_string()))?;
        if header.true_gapless && u64::from(header.last_frame_samples) > FRAME {
            return Err(OpenError::Header(
                "its last frame's sample count is larger than a frame".into(),
            ));
        }
        let rate = header
            .sample_rate_hz()
            .ok_or_else(|| OpenError::Header("no sample rate".into()))?;
        if !(1..=31).contains(&header.max_band) {
            return Err(OpenError::Header(format!("{} subbands", header.max_band)));
        }
        let decoder = Sv7Decoder {
            max_band: header.max_band,
            stream_ms: header.mid_side,
            scf: Sv7ScfMemory::new(),
            cns: CnsPrng::new(),
            synthesis: Synthesis::new(2),
        };
        bits.bit = SV7_HEADER_BITS;
        let prime = SYNTHESIS_PRIME_SAMPLES as u64;
        Ok(Self {
            version: Version::Sv7 {
                decoder: Box::new(decoder),
                bits,
                frames_left: header.frame_count,
                tail: Tail::No,
            },
            channels: 2,
            rate,
            window: Window {
                start: prime,
                end: prime + header.effective_total_samples(),
                at: 0,
            },
            ended: false,
        })
    }

    fn open_sv8(source: &mut impl Read) -> Result<Self, OpenError> {
        let mut read = 4u64;
        let header = loop {
            let Some(packet) = read_packet(source)? else {
                return Err(OpenError::Header("no stream header".into()));
            };
            read += packet.len() as u64;
            if let Some(fields) = stream_header(&packet) {
                break fields?;
            }
            if read > MAX_HEADER_SEARCH {
                return Err(OpenError::Header(
                    "no stream header in its first megabyte".into(),
                ));
            }
        };
        let rate = header
            .sample_rate_hz()
            .ok_or_else(|| OpenError::Header("no sample rate".into()))?;
        let per_packet = header.frames_per_audio_packet();
        if per_packet > MAX_FRAMES_PER_PACKET {
            return Err(OpenError::Header(format!(
                "{per_packet} frames to a packet (at most {MAX_FRAMES_PER_PACKET} are read)"
            )));
        }
        if header.beginning_silence > header.sample_count {
            return Err(OpenError::Header(
                "more leading silence than samples".into(),
            ));
        }
        if !(1..=2).contains(&header.channels) {
            return Err(OpenError::Header(format!("{} channels", header.channels)));
        }
        let decoder = Sv8Decoder {
            max_band: header.max_band,
            stream_ms: header.mid_side,
            channels: usize::from(header.channels),
            state: Sv8FrameState::new(),
            cns: CnsPrng::new(),
            synthesis: Synthesis::new(2),
        };
        let prime = SYNTHESIS_PRIME_SAMPLES as u64;
        Ok(Self {
            channels: usize::from(header.channels),
            rate,
            version: Version::Sv8 {
                decoder: Box::new(decoder),
                frames_left: header.sample_count.div_ceil(FRAME),
                per_packet,
                draining: false,
            },
            window: Window {
                start: prime + header.beginning_silence,
                end: prime + header.sample_count,
                at: 0,
            },
            ended: false,
        })
    }

    /// Samples per channel the stream holds, as its header says.
    pub fn length(&self) -> u64 {
        self.window.end - self.window.start
    }

    /// The next decoded samples; `None` at the end.
    pub fn next(&mut self, source: &mut impl Read) -> std::io::Result<Option<Next>> {
        loop {
            if self.ended || self.window.full() {
                return Ok(None);
            }
            let decoded = match &mut self.version {
                Version::Sv7 {
                    decoder,
                    bits,
                    frames_left,
                    tail,
                } => sv7_next(decoder, bits, frames_left, tail, source)?,
                Version::Sv8 {
                    decoder,
                    frames_left,
                    per_packet,
                    draining,
                } => sv8_next(decoder, frames_left, *per_packet, draining, source)?,
            };
            let channels = self.channels;
            match decoded {
                None => self.ended = true,
                Some(Ok(pcm)) => {
                    let range = self.window.take((pcm.len() / channels) as u64);
                    if !range.is_empty() {
                        let samples = pcm[range.start * channels..range.end * channels]
                            .iter()
                            .map(|&s| (s / 32768.0) as f32)
                            .collect();
                        return Ok(Some(Next::Samples(samples)));
                    }
                }
                Some(Err(frames)) => {
                    let range = self.window.take(frames * FRAME);
                    if !range.is_empty() {
                        return Ok(Some(Next::Damaged(range.len() as u64)));
                    }
                }
            }
        }
    }
}

/// A decoded frame (or packet) as the crate gives it, or how many frames could not be decoded;
/// `None` at the end.
type Decoded = Option<Result<Vec<f64>, u64>>;

fn sv7_next(
    decoder: &mut Sv7Decoder,
    bits: &mut Bits,
    frames_left: &mut u32,
    tail: &mut Tail,
    source: &mut impl Read,
) -> std::io::Result<Decoded> {
    if *tail == Tail::Drain {
        return Ok(Some(Ok(decoder.synthesis.drain(2))));
    }
    if *frames_left == 0 && *tail == Tail::No {
        // The last frame's sample count follows the last frame; the header's is the one used.
        bits.fill(source, 4)?;
        if bits.read(TRAILER_BITS).is_none() {
            return Ok(None);
        }
        *tail = Tail::FlushFrame;
    }
    let flush = *tail == Tail::FlushFrame;
    if flush {
        // mppenc may append a frame it does not count, which holds the tail; padding is not one.
        bits.fill(source, 8)?;
        if bits.real_bits_left() < u64::from(PREFIX_BITS) + 8 {
            *tail = Tail::Drain;
            return Ok(Some(Ok(decoder.synthesis.drain(2))));
        }
    }
    bits.fill(source, 8)?;
    let Some(declared) = bits.read(PREFIX_BITS) else {
        return Ok(None);
    };
    let declared = u64::from(declared);
    bits.fill(source, (declared / 8 + 8) as usize)?;
    if bits.real_bits_left() < declared {
        // Cut short: the audio ends where the file does.
        return Ok(None);
    }
    let start = bits.bit;
    let decoded = bits.decode(|reader| decoder.decode_frame(reader));
    let good = decoded.is_ok() && bits.bit - start == declared;
    bits.bit = start + declared;
    if flush {
        // Another flush frame may follow a good one; after anything else, the drain.
        return Ok(match decoded {
            Ok(pcm) if good => Some(Ok(pcm)),
            _ => {
                *tail = Tail::Drain;
                Some(Ok(decoder.synthesis.drain(2)))
            }
        });
    }
    *frames_left -= 1;
    Ok(Some(match decoded {
        Ok(pcm) if good => Ok(pcm),
        _ => Err(1),
    }))
}

fn sv8_next(
    decoder: &mut Sv8Decoder,
    frames_left: &mut u64,
    per_packet: u64,
    draining: &mut bool,
    source: &mut impl Read,
) -> std::io::Result<Decoded> {
    if *draining {
        return Ok(Some(Ok(decoder.synthesis.drain(decoder.channels))));
    }
    loop {
        let packet = match read_packet(source) {
            Ok(packet) => packet,
            // A packet too large to be real, or a damaged size: nothing more can be found.
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => None,
            Err(e) => return Err(e),
        };
        let Some(packet) = packet else {
            // The end (of the file, or its end packet): what the header promised was all
            // decoded, so the filterbank is drained for the tail; else the file was cut short.
            if *frames_left == 0 {
                *draining = true;
                return Ok(Some(Ok(decoder.synthesis.drain(decoder.channels))));
            }
            return Ok(None);
        };
        let mut walk = PacketStream::new(&packet, PacketSizeConvention::Inclusive);
        let Ok(Some(packet)) = walk.next_packet() else {
            continue;
        };
        match TypedPacket::classify(packet) {
            TypedPacket::Audio(audio) => {
                let frames = (*frames_left).min(per_packet);
                if frames == 0 {
                    continue;
                }
                *frames_left -= frames;
                return Ok(Some(
                    decoder
                        .decode_audio_packet(audio.payload_bytes(), frames)
                        .map_err(|_| frames),
                ));
            }
            TypedPacket::StreamEnd(_) => {
                if *frames_left == 0 {
                    *draining = true;
                    return Ok(Some(Ok(decoder.synthesis.drain(decoder.channels))));
                }
                return Ok(None);
            }
            _ => {}
        }
    }
}

/// The state an SV7 stream carries from frame to frame.
struct Sv7Decoder {
    max_band: u8,
    stream_ms: bool,
    scf: Sv7ScfMemory,
    cns: CnsPrng,
    synthesis: Synthesis,
}

impl Sv7Decoder {
    /// One frame from `reader` (past its length prefix), as interleaved stereo.
    fn decode_frame(
        &mut self,
        reader: &mut Sv7BitReader<'_>,
    ) -> oxideav_musepack::Result<Vec<f64>> {
        let mut frame = decode_sv7_stereo_frame(
            reader,
            self.max_band,
            self.stream_ms,
            &mut self.scf,
            &mut self.cns,
        )?;
        undo_ms_stereo_pinned(&mut frame.channels, &frame.ms_flags)?;
        Ok(self.synthesis.frame(&frame.channels, 2))
    }
}

/// The state an SV8 stream carries from packet to packet.
struct Sv8Decoder {
    max_band: u8,
    stream_ms: bool,
    channels: usize,
    state: Sv8FrameState,
    cns: CnsPrng,
    synthesis: Synthesis,
}

impl Sv8Decoder {
    /// The `frames` frames of an audio packet (and a flush frame the encoder may add past the
    /// last), interleaved. The crate's `Sv8StreamDecoder::decode_audio_packet`, with this
    /// module's filterbank.
    fn decode_audio_packet(
        &mut self,
        payload: &[u8],
        frames: u64,
    ) -> oxideav_musepack::Result<Vec<f64>> {
        // The decoder looks 16 bits ahead of every code.
        let payload_bits = payload.len() as u64 * 8;
        let mut framed = payload.to_vec();
        framed.extend_from_slice(&[0, 0]);
        let mut reader = Sv7BitReader::new(&framed);
        let total_bits = reader.bits_remaining();
        // Every packet opens with a key frame.
        self.state.reset();
        let mut pcm = Vec::with_capacity(frames.min(64) as usize * FRAME as usize * self.channels);
        let mut f = 0u64;
        loop {
            // Past the counted frames, 8 bits or more left are one more (the flush frame).
            if f >= frames && payload_bits.saturating_sub(total_bits - reader.bits_remaining()) < 8
            {
                break;
            }
            let frame = decode_sv8_stereo_frame(
                &mut reader,
                self.max_band,
                f == 0,
                self.stream_ms,
                &mut self.state,
                &mut self.cns,
            )?;
            let mut stereo = reconstruct_sv8_stereo_frame(&frame)?;
            undo_ms_stereo_pinned(&mut stereo, &frame.ms_flags)?;
            pcm.extend_from_slice(&self.synthesis.frame(&stereo, self.channels));
            f += 1;
        }
        Ok(pcm)
    }
}

/// The 32-band polyphase synthesis filterbank (ISO 11172-3 Annex A, Figure A.2), one filter per
/// channel. The matrixing `V[i] = Σk cos((16 + i)(2k + 1)π/64)·S[k]` is `c(16 + i)` of the
/// 32-point DCT-II `c(m) = Σk cos(m(2k + 1)π/64)·S[k]`, unfolded by `c(32) = 0`,
/// `c(64 - m) = -c(m)` and `c(64 + m) = -c(m)`; the FIFO is a ring instead of a shift.
struct Synthesis {
    channels: Vec<Filter>,
}

struct Filter {
    v: Box<[f64; 1024]>,
    /// Where `V[0]` is in `v`.
    at: usize,
}

impl Synthesis {
    fn new(channels: usize) -> Self {
        Self {
            channels: (0..channels)
                .map(|_| Filter {
                    v: Box::new([0.0; 1024]),
                    at: 0,
                })
                .collect(),
        }
    }

    /// One frame of both channels' subband samples, as `output` interleaved channels (one: the
    /// first channel only, as SV8 mono streams code two).
    fn frame(&mut self, matrices: &[SubbandMatrix; 2], output: usize) -> Vec<f64> {
        let mut pcm = vec![0.0; FRAME as usize * output];
        let mut out = [0.0; 32];
        let channels = self.channels.iter_mut().zip(matrices).take(output);
        for (c, (filter, matrix)) in channels.enumerate() {
            for slot in 0..36 {
                let samples: [f64; 32] = std::array::from_fn(|k| matrix[k][slot]);
                filter.slot(&samples, &mut out);
                for (j, &o) in out.iter().enumerate() {
                    pcm[(slot * 32 + j) * output + c] = o;
                }
            }
        }
        pcm
    }

    /// A frame of silence in, the filters' overlap out (`output` channels, as [`Self::frame`]):
    /// the tail of the last frames.
    fn drain(&mut self, output: usize) -> Vec<f64> {
        let zero = [[0.0; 36]; 32];
        self.frame(&[zero, zero], output)
    }
}

impl Filter {
    fn slot(&mut self, samples: &[f64; 32], out: &mut [f64; 32]) {
        let mut c = *samples;
        dct2(&mut c, &mut [0.0; 32]);
        self.at = (self.at + 1024 - 64) & 1023;
        for i in 0..64 {
            let m = 16 + i;
            let value = match m {
                16..=31 => c[m],
                32 => 0.0,
                33..=63 => -c[64 - m],
                64 => -c[0],
                _ => -c[m - 64],
            };
            self.v[(self.at + i) & 1023] = value;
        }
        // U[64n + j] = V[128n + j], U[64n + 32 + j] = V[128n + 96 + j]; out[j] = Σ U·D over
        // j + 32i.
        for (j, o) in out.iter_mut().enumerate() {
            let mut acc = 0.0;
            for i in 0..16 {
                let vi = (i / 2) * 128 + if i % 2 == 0 { j } else { 96 + j };
                acc += self.v[(self.at + vi) & 1023] * SYNTHESIS_WINDOW[j + 32 * i];
            }
            *o = acc;
        }
    }
}

/// `1 / (2 cos(π(2k + 1) / 2n))` for `k < n / 2`, for each size `n` of [`dct2`]'s recursion.
fn dct_factors(n: usize) -> &'static [f64] {
    static TABLES: std::sync::OnceLock<[Vec<f64>; 6]> = std::sync::OnceLock::new();
    let tables = TABLES.get_or_init(|| {
        std::array::from_fn(|log| {
            let n = 1usize << log;
            (0..n / 2)
                .map(|k| {
                    let angle = std::f64::consts::PI * (2 * k + 1) as f64 / (2 * n) as f64;
                    0.5 / angle.cos()
                })
                .collect()
        })
    });
    &tables[n.trailing_zeros() as usize]
}

/// The unscaled DCT-II in place, `X[m] = Σk x[k] cos(πm(2k + 1) / 2n)`, for `n` a power of two
/// up to 32 (Lee's recursion); `tmp` is scratch of the same length.
fn dct2(x: &mut [f64], tmp: &mut [f64]) {
    let n = x.len();
    if n == 1 {
        return;
    }
    let h = n / 2;
    let factors = dct_factors(n);
    for k in 0..h {
        let (a, b) = (x[k], x[n - 1 - k]);
        tmp[k] = a + b;
        tmp[h + k] = (a - b) * factors[k];
    }
    let (even, odd) = tmp.split_at_mut(h);
    let (scratch_even, scratch_odd) = x.split_at_mut(h);
    dct2(even, scratch_even);
    dct2(odd, scratch_odd);
    for r in 0..h {
        x[2 * r] = even[r];
        x[2 * r + 1] = odd[r] + if r + 1 < h { odd[r + 1] } else { 0.0 };
    }
}

/// The fields of an SV8 stream header packet; `None` for another packet.
fn stream_header(packet: &[u8]) -> Option<Result<StreamHeaderFields, OpenError>> {
    let mut walk = PacketStream::new(packet, PacketSizeConvention::Inclusive);
    match TypedPacket::classify(walk.next_packet().ok()??) {
        TypedPacket::StreamHeader(sh) => {
            Some(sh.fields().map_err(|e| OpenError::Header(e.to_string())))
        }
        _ => None,
    }
}

/// The next SV8 packet, whole (its two-letter key, its size, its payload); `None` at the end of
/// the file.
fn read_packet(source: &mut impl Read) -> std::io::Result<Option<Vec<u8>>> {
    let mut packet = vec![0u8; 2];
    if !fill(source, &mut packet)? {
        return Ok(None);
    }
    // The size: a big-endian varint of 7 bits a byte, counting the whole packet.
    let mut size = 0u64;
    loop {
        let mut byte = [0u8; 1];
        if !fill(source, &mut byte)? {
            return Ok(None);
        }
        packet.push(byte[0]);
        size = (size << 7) | u64::from(byte[0] & 0x7f);
        if byte[0] & 0x80 == 0 {
            break;
        }
        if packet.len() > 10 {
            return Err(invalid("a packet size longer than 8 bytes"));
        }
    }
    if size > MAX_PACKET {
        return Err(invalid("a packet larger than 16 MiB"));
    }
    let header = packet.len();
    let Some(rest) = (size as usize).checked_sub(header) else {
        return Err(invalid("a packet smaller than its own header"));
    };
    packet.resize(header + rest, 0);
    if !fill(source, &mut packet[header..])? {
        return Ok(None);
    }
    Ok(Some(packet))
}

fn invalid(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what)
}

/// An SV7 bitstream: the file's 32-bit little-endian words, each turned to big-endian so the
/// bits read in order, held a window at a time.
#[derive(Default)]
struct Bits {
    /// Swapped bytes, from some point of the stream on.
    buf: Vec<u8>,
    /// Where the next bit is, in bits from the start of `buf`.
    bit: u64,
    /// How many bytes of `buf` are the file's (the rest is zero padding, once the file ended).
    real: usize,
    ended: bool,
    /// The bytes read from the source, before they are turned.
    raw: Vec<u8>,
}

impl Bits {
    /// How many bytes are read from the source at a time.
    const CHUNK: usize = 64 << 10;

    fn push_raw(&mut self, raw: &[u8]) {
        for word in raw.chunks(4) {
            let mut w = [0u8; 4];
            w[..word.len()].copy_from_slice(word);
            w.reverse();
            self.buf.extend_from_slice(&w);
        }
        self.real += raw.len();
    }

    /// Makes at least `ahead` bytes readable past the position (unless the file ends first),
    /// dropping the bytes already read.
    fn fill(&mut self, source: &mut impl Read, ahead: usize) -> std::io::Result<()> {
        let at = (self.bit / 8) as usize;
        if self.buf.len() - at >= ahead + 4 || self.ended {
            return Ok(());
        }
        // The bytes are already in reading order: those before the position can go.
        let drop = at.min(self.real);
        self.buf.drain(..drop);
        self.real -= drop;
        self.bit -= drop as u64 * 8;
        let at = (self.bit / 8) as usize;
        while self.buf.len() - at < ahead + 4 && !self.ended {
            // Whole words, so that each is turned as the file has it.
            let want = (ahead + 4).max(Self::CHUNK).next_multiple_of(4);
            let mut raw = std::mem::take(&mut self.raw);
            raw.resize(want, 0);
            let mut got = 0;
            while got < want {
                match source.read(&mut raw[got..]) {
                    Ok(0) => break,
                    Ok(n) => got += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            // The last word, if the file ends inside one, is padded with zeros.
            self.push_raw(&raw[..got]);
            self.raw = raw;
            if got < want {
                self.ended = true;
                // Slack for the decoder's 16-bit look-ahead past the last code.
                self.buf.extend_from_slice(&[0; 4]);
            }
        }
        Ok(())
    }

    /// Bits of the file left past the position (the padding of its last word counts, as the
    /// encoder's flush frame may end in it).
    fn real_bits_left(&self) -> u64 {
        (self.real.next_multiple_of(4) as u64 * 8).saturating_sub(self.bit)
    }

    /// Runs `f` on a reader at the position, and moves past what it read.
    fn decode<T>(
        &mut self,
        f: impl FnOnce(&mut Sv7BitReader<'_>) -> oxideav_musepack::Result<T>,
    ) -> oxideav_musepack::Result<T> {
        let byte = ((self.bit / 8) as usize).min(self.buf.len());
        let mut reader = Sv7BitReader::new(&self.buf[byte..]);
        let offset = (self.bit % 8) as u8;
        if offset > 0 {
            reader.read_bits(offset)?;
        }
        let before = reader.bits_remaining();
        let out = f(&mut reader);
        self.bit += before - reader.bits_remaining();
        out
    }

    /// The next `n` bits (up to 32), or `None` past the end.
    fn read(&mut self, n: u8) -> Option<u32> {
        self.decode(|reader| {
            let hi = u32::from(reader.read_bits(n.min(16))?);
            if n <= 16 {
                return Ok(hi);
            }
            let lo = u32::from(reader.read_bits(n - 16)?);
            Ok((hi << (n - 16)) | lo)
        })
        .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filterbank_is_the_crates_own_to_a_billionth_of_a_step() {
        let mut theirs = oxideav_musepack::synthesis::SynthesisFilter::new();
        let mut ours = Synthesis::new(1);
        let mut seed = 1u64;
        let mut worst = 0f64;
        for _ in 0..500 {
            let samples: [f64; 32] = std::array::from_fn(|_| {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                ((seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 20000.0
            });
            let want = theirs.synthesize(&samples);
            let mut got = [0.0; 32];
            ours.channels[0].slot(&samples, &mut got);
            for (a, b) in want.iter().zip(got) {
                worst = worst.max((a - b).abs());
            }
        }
        assert!(worst < 1e-9, "differs by {worst}");
    }

    #[test]
    fn a_mono_stream_drains_one_channel() {
        let mut synthesis = Synthesis::new(2);
        let tone = std::array::from_fn(|_| std::array::from_fn(|t| (t as f64).sin() * 1000.0));
        let left = synthesis.frame(&[tone, tone], 1);
        assert_eq!(left.len(), 1152);
        assert_eq!(synthesis.drain(1).len(), 1152);
        assert_eq!(synthesis.drain(2).len(), 2304);
    }

    #[test]
    fn the_window_keeps_only_what_falls_inside_it() {
        let mut w = Window {
            start: 481,
            end: 481 + 2000,
            at: 0,
        };
        assert_eq!(w.take(1152), 481..1152);
        assert_eq!(w.take(1152), 0..1152);
        assert_eq!(w.take(1152), 0..177);
        assert!(w.full());
        assert_eq!(w.take(1152), 0..0);
    }

    #[test]
    fn bits_are_read_across_refills_in_the_files_word_order() {
        // Words 0x01020304 and so on, little-endian on disk: read back as big-endian numbers.
        let words: Vec<u32> = (0..100_000u32)
            .map(|i| i.wrapping_mul(2_654_435_761))
            .collect();
        let raw: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let mut bits = Bits::default();
        let mut source = std::io::Cursor::new(raw);
        for (i, &w) in words.iter().enumerate() {
            bits.fill(&mut source, 8).unwrap();
            // Odd offsets too: read 20 bits, then 12.
            let hi = bits.read(20).unwrap();
            let lo = bits.read(12).unwrap();
            assert_eq!((hi << 12) | lo, w, "word {i}");
        }
        bits.fill(&mut source, 8).unwrap();
        assert_eq!(bits.real_bits_left(), 0);
        assert!(
            bits.buf.len() < 3 * Bits::CHUNK,
            "the buffer is not kept whole"
        );
    }
}
