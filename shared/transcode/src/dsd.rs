//! DSD (Direct Stream Digital, the 1-bit audio of SACDs and hi-res downloads) in its two file
//! formats, DSF (Sony) and DSDIFF (`.dff`, Philips), uncompressed. No crate decodes it, so this
//! does, as every player does: a linear-phase low-pass FIR over the 1-bit stream, taken every 8th
//! bit (2.8224 MHz DSD64 becomes 352.8 kHz PCM), with the filter applied a byte at a time through
//! lookup tables. The engine's resampler then brings it to an MP3 rate, and its anti-alias
//! filter removes the rest of DSD's shaped noise above the audio band. DST-compressed DSDIFF is
//! refused by name (ffmpeg has no decoder for it either).

use crate::error::TranscodeError;
use std::io::{Read, Seek, SeekFrom};
use std::sync::OnceLock;
use symphonia::core::audio::Position;

/// Where and how a file holds its DSD stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    pub channels: usize,
    /// The 1-bit rate (2822400 for DSD64).
    pub bit_rate: u32,
    /// Where the sound data starts.
    pub data_start: u64,
    /// Bytes per channel (8 one-bit samples each).
    pub bytes_per_channel: u64,
    /// DSF: each channel in turn, in blocks of this many bytes; DSDIFF: one byte per channel
    /// in turn (`None`).
    pub block: Option<usize>,
    /// DSF with 1 bit per sample keeps the earliest bit in the least significant place.
    pub lsb_first: bool,
    /// The speakers, when the file names them.
    pub positions: Option<Position>,
}

fn bad(why: &str) -> TranscodeError {
    TranscodeError::Corrupt {
        at: 0.0,
        detail: format!("its DSD header cannot be read ({why})"),
    }
}

fn read_array<const N: usize>(source: &mut impl Read) -> Result<[u8; N], TranscodeError> {
    let mut buf = [0u8; N];
    source
        .read_exact(&mut buf)
        .map_err(|_| bad("it is cut short"))?;
    Ok(buf)
}

/// The highest DSD rate taken: DSD512 (22.5792 MHz).
const MAX_BIT_RATE: u32 = 24_576_000;

/// Reads a DSF or DSDIFF header from the start of `source` (`skip` bytes in).
pub(crate) fn layout(source: &mut (impl Read + Seek), skip: u64) -> Result<Layout, TranscodeError> {
    source.seek(SeekFrom::Start(skip))?;
    let id = read_array::<4>(source)?;
    let layout = match &id {
        b"DSD " => dsf(source, skip)?,
        b"FRM8" => dsdiff(source, skip)?,
        _ => return Err(bad("no DSF or DSDIFF header")),
    };
    if layout.channels == 0 || layout.channels > 8 {
        return Err(bad("its channel count"));
    }
    if !(1_000_000..=MAX_BIT_RATE).contains(&layout.bit_rate) {
        return Err(bad("its sample rate"));
    }
    Ok(layout)
}

/// DSF: a `DSD ` chunk, a `fmt ` chunk, then `data`, all little-endian.
fn dsf(source: &mut (impl Read + Seek), skip: u64) -> Result<Layout, TranscodeError> {
    let head = read_array::<24>(source)?;
    let size = u64::from_le_bytes(head[0..8].try_into().unwrap_or_default());
    let fmt_at = skip + size;
    source.seek(SeekFrom::Start(fmt_at))?;
    let fmt = read_array::<52>(source)?;
    if &fmt[0..4] != b"fmt " {
        return Err(bad("no fmt chunk"));
    }
    let fmt_size = u64::from_le_bytes(fmt[4..12].try_into().unwrap_or_default());
    let u32_at = |i: usize| u32::from_le_bytes(fmt[i..i + 4].try_into().unwrap_or_default());
    if u32_at(16) != 0 {
        return Err(TranscodeError::UnsupportedCodec(
            "DSD in a DSF file that is not plain DSD".into(),
        ));
    }
    let channel_type = u32_at(20);
    let channels = u32_at(24) as usize;
    let bit_rate = u32_at(28);
    let bits = u32_at(32);
    let samples = u64::from_le_bytes(fmt[36..44].try_into().unwrap_or_default());
    let block = u32_at(44) as usize;
    if !(1..=1 << 20).contains(&block) || !(bits == 1 || bits == 8) {
        return Err(bad("its block size or bit order"));
    }
    source.seek(SeekFrom::Start(fmt_at + fmt_size))?;
    let data = read_array::<12>(source)?;
    if &data[0..4] != b"data" {
        return Err(bad("no data chunk"));
    }
    let data_len =
        u64::from_le_bytes(data[4..12].try_into().unwrap_or_default()).saturating_sub(12);
    use Position as P;
    let positions = match channel_type {
        3 => Some(P::FRONT_LEFT | P::FRONT_RIGHT | P::FRONT_CENTER),
        4 => Some(P::FRONT_LEFT | P::FRONT_RIGHT | P::REAR_LEFT | P::REAR_RIGHT),
        5 => Some(P::FRONT_LEFT | P::FRONT_RIGHT | P::FRONT_CENTER | P::LFE1),
        6 => Some(P::FRONT_LEFT | P::FRONT_RIGHT | P::FRONT_CENTER | P::REAR_LEFT | P::REAR_RIGHT),
        7 => Some(
            P::FRONT_LEFT
                | P::FRONT_RIGHT
                | P::FRONT_CENTER
                | P::LFE1
                | P::REAR_LEFT
                | P::REAR_RIGHT,
        ),
        _ => None,
    }
    .filter(|p| p.bits().count_ones() as usize == channels);
    // The sample count says where the audio ends; the last block is padded. A count past the
    // data (a file cut short) stops where the data does.
    let per_channel = (data_len / channels.max(1) as u64).min(samples / 8);
    Ok(Layout {
        channels,
        bit_rate,
        data_start: fmt_at + fmt_size + 12,
        bytes_per_channel: per_channel,
        block: Some(block),
        lsb_first: bits == 1,
        positions,
    })
}

/// DSDIFF: an IFF-style `FRM8` form of big-endian chunks; `PROP` holds the rate, channels and
/// compression, `DSD ` the interleaved sound data.
fn dsdiff(source: &mut (impl Read + Seek), skip: u64) -> Result<Layout, TranscodeError> {
    let head = read_array::<12>(source)?;
    if &head[8..12] != b"DSD " {
        return Err(bad("not a DSD form"));
    }
    let form_end = skip + 12 + u64::from_be_bytes(head[0..8].try_into().unwrap_or_default());
    let (mut bit_rate, mut channels, mut positions) = (0, 0, None);
    let mut at = skip + 16;
    // At most this many chunks are looked at, whatever sizes a damaged file claims.
    for _ in 0..64 {
        if at + 12 > form_end {
            break;
        }
        source.seek(SeekFrom::Start(at))?;
        let chunk = read_array::<12>(source)?;
        let size = u64::from_be_bytes(chunk[4..12].try_into().unwrap_or_default());
        let body = at + 12;
        match &chunk[0..4] {
            b"PROP" => {
                let kind = read_array::<4>(source)?;
                if &kind != b"SND " {
                    return Err(bad("its properties are not sound"));
                }
                let mut sub = body + 4;
                while sub + 12 <= body + size {
                    source.seek(SeekFrom::Start(sub))?;
                    let s = read_array::<12>(source)?;
                    let s_size = u64::from_be_bytes(s[4..12].try_into().unwrap_or_default());
                    match &s[0..4] {
                        b"FS  " => bit_rate = u32::from_be_bytes(read_array::<4>(source)?),
                        b"CHNL" => {
                            channels = usize::from(u16::from_be_bytes(read_array::<2>(source)?));
                            let mut all = Position::empty();
                            for _ in 0..channels.min(8) {
                                all |= match &read_array::<4>(source)? {
                                    b"SLFT" | b"MLFT" => Position::FRONT_LEFT,
                                    b"SRGT" | b"MRGT" => Position::FRONT_RIGHT,
                                    b"C   " => Position::FRONT_CENTER,
                                    b"LFE " => Position::LFE1,
                                    b"LS  " => Position::REAR_LEFT,
                                    b"RS  " => Position::REAR_RIGHT,
                                    _ => Position::empty(),
                                };
                            }
                            positions =
                                Some(all).filter(|p| p.bits().count_ones() as usize == channels);
                        }
                        b"CMPR" => {
                            let compression = read_array::<4>(source)?;
                            if &compression != b"DSD " {
                                return Err(TranscodeError::UnsupportedCodec(
                                    "DSD compressed with DST".into(),
                                ));
                            }
                        }
                        _ => {}
                    }
                    sub = sub
                        .saturating_add(12)
                        .saturating_add(s_size)
                        .saturating_add(s_size & 1);
                }
            }
            b"DSD " => {
                if channels == 0 || bit_rate == 0 {
                    return Err(bad("no properties before the sound data"));
                }
                return Ok(Layout {
                    channels,
                    bit_rate,
                    data_start: body,
                    bytes_per_channel: size.min(form_end.saturating_sub(body)) / channels as u64,
                    block: None,
                    lsb_first: false,
                    positions: positions.filter(|_| channels > 2),
                });
            }
            b"DST " => {
                return Err(TranscodeError::UnsupportedCodec(
                    "DSD compressed with DST".into(),
                ));
            }
            _ => {}
        }
        at = body.saturating_add(size).saturating_add(size & 1);
    }
    Err(bad("no sound data"))
}

/// Filter length in bytes of the 1-bit stream (8 taps each): 96 taps.
const TAP_BYTES: usize = 12;

/// For each byte of the filter's span, the filter's sum over that byte's 8 bits for every value
/// the byte can have (earliest bit most significant).
fn tables() -> &'static [[f32; 256]; TAP_BYTES] {
    static TABLES: OnceLock<Box<[[f32; 256]; TAP_BYTES]>> = OnceLock::new();
    TABLES.get_or_init(|| {
        let taps = TAP_BYTES * 8;
        // Windowed sinc (4-term Blackman-Harris, -92 dB side lobes): the pass band reaches
        // 0.3 of the decimated rate (106 kHz at DSD64), and everything that would fold into the
        // audio band once every 8th sample is kept (from 0.93 of the decimated rate on) is
        // well inside the stop band.
        let cutoff = 0.3 / 8.0;
        let centre = (taps - 1) as f64 / 2.0;
        let mut h: Vec<f64> = (0..taps)
            .map(|i| {
                let x = i as f64 - centre;
                let sinc = if x == 0.0 {
                    2.0 * cutoff
                } else {
                    (2.0 * std::f64::consts::PI * cutoff * x).sin() / (std::f64::consts::PI * x)
                };
                let w = 2.0 * std::f64::consts::PI * i as f64 / (taps - 1) as f64;
                let window = 0.35875 - 0.48829 * w.cos() + 0.14128 * (2.0 * w).cos()
                    - 0.01168 * (3.0 * w).cos();
                sinc * window
            })
            .collect();
        let sum: f64 = h.iter().sum();
        h.iter_mut().for_each(|c| *c /= sum);
        let mut tables = Box::new([[0f32; 256]; TAP_BYTES]);
        for (k, table) in tables.iter_mut().enumerate() {
            for (byte, value) in table.iter_mut().enumerate() {
                *value = (0..8)
                    .map(|bit| {
                        let one = byte >> (7 - bit) & 1 == 1;
                        let c = h[k * 8 + bit];
                        if one { c } else { -c }
                    })
                    .sum::<f64>() as f32;
            }
        }
        tables
    })
}

/// One channel's filter state: its last [`TAP_BYTES`] bytes.
#[derive(Clone)]
pub(crate) struct Decimator {
    history: [u8; TAP_BYTES],
    at: usize,
}

/// DSD's idle pattern, which decodes to silence: the filter starts on it.
const SILENCE: u8 = 0x69;

impl Default for Decimator {
    fn default() -> Self {
        Self {
            history: [SILENCE; TAP_BYTES],
            at: 0,
        }
    }
}

impl Decimator {
    /// Takes the next byte (earliest bit most significant) and gives one PCM sample.
    pub fn push(&mut self, byte: u8) -> f32 {
        self.history[self.at] = byte;
        self.at = (self.at + 1) % TAP_BYTES;
        let tables = tables();
        // The oldest byte meets the filter's first 8 taps.
        let mut sum = 0.0;
        for (k, table) in tables.iter().enumerate() {
            sum += table[usize::from(self.history[(self.at + k) % TAP_BYTES])];
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A first-order sigma-delta modulator: 1-bit samples of `signal`.
    fn modulate(signal: impl Iterator<Item = f64>) -> Vec<u8> {
        let mut integral = 0.0;
        let mut bits = Vec::new();
        for x in signal {
            let out = if integral >= 0.0 { 1.0 } else { -1.0 };
            integral += x - out;
            bits.push(out > 0.0);
        }
        bits.chunks(8)
            .map(|c| c.iter().fold(0u8, |b, &one| b << 1 | u8::from(one)))
            .collect()
    }

    #[test]
    fn a_modulated_tone_comes_back_at_its_level_and_the_idle_pattern_as_silence() {
        let rate = 2_822_400.0;
        let bytes = modulate(
            (0..rate as usize / 10)
                .map(|i| 0.5 * (2.0 * std::f64::consts::PI * 1000.0 * i as f64 / rate).sin()),
        );
        let mut d = Decimator::default();
        let pcm: Vec<f32> = bytes.iter().map(|&b| d.push(b)).collect();
        // Past the filter's start: RMS of a 0.5 sine is 0.354.
        let tail = &pcm[1000..];
        let rms =
            (tail.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / tail.len() as f64).sqrt();
        assert!((rms - 0.3536).abs() < 0.01, "rms {rms}");
        let mut idle = Decimator::default();
        let quiet = (0..1000)
            .map(|_| idle.push(SILENCE).abs())
            .fold(0f32, f32::max);
        assert!(quiet < 1e-3, "idle pattern gives {quiet}");
    }
}
