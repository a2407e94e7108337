//! LAME through `mp3lame-encoder`, set up the way ffmpeg and the lame CLI do (LAME's internal
//! quality left at its default), plus the MP3 frame arithmetic the parallel encoder needs.
//! The one setting the crate lacks, turning the bit reservoir off, goes through `mp3lame-sys`.
#![allow(unsafe_code)]

use crate::{Quality, TranscodeError};
use mp3lame_encoder::{Builder, Encoder, FlushGap, InterleavedPcm, MonoPcm};

/// Samples LAME delays its input by (ENCDELAY in LAME 3.100); the info frame's `delay` field.
/// Tests check that the info frame says so.
pub(crate) const ENCODER_DELAY: usize = 576;

/// What one encoder is set up with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Settings {
    /// Rate of the PCM given to LAME.
    pub in_rate: u32,
    /// Rate of the MP3 (LAME resamples when it differs).
    pub out_rate: u32,
    /// 1 or 2.
    pub channels: usize,
    pub quality: Quality,
}

impl Settings {
    /// Samples per channel in one MP3 frame: 1152 for MPEG-1 rates, 576 for MPEG-2 and 2.5.
    pub fn frame_samples(&self) -> usize {
        if self.out_rate >= 32000 { 1152 } else { 576 }
    }
}

fn encoder_error(e: impl std::fmt::Display) -> TranscodeError {
    TranscodeError::Encoder(e.to_string())
}

/// An encoder. `info_frame`: start the output with the Xing/LAME placeholder frame.
/// `reservoir`: let frames borrow bits from earlier ones (off for segments after the first, so
/// each can start a stream of its own).
pub(crate) fn build(
    settings: &Settings,
    info_frame: bool,
    reservoir: bool,
) -> Result<Encoder, TranscodeError> {
    let mut builder = Builder::new().ok_or_else(|| encoder_error("out of memory"))?;
    builder
        .set_num_channels(u8::try_from(settings.channels).map_err(encoder_error)?)
        .map_err(encoder_error)?;
    builder
        .set_sample_rate(settings.in_rate)
        .map_err(encoder_error)?;
    // Always pinned, as ffmpeg does: left unset, LAME picks a lower rate itself for low VBR
    // qualities (V9 at 44.1 kHz comes out at a lower rate), which moves the frame grid.
    builder
        .set_output_sample_rate(std::num::NonZeroU32::new(settings.out_rate))
        .map_err(encoder_error)?;
    builder
        .set_mode(if settings.channels == 1 {
            mp3lame_encoder::Mode::Mono
        } else {
            mp3lame_encoder::Mode::JointStereo
        })
        .map_err(encoder_error)?;
    match settings.quality {
        Quality::Vbr(q) => {
            builder
                .set_vbr_mode(mp3lame_encoder::VbrMode::Mtrh)
                .map_err(encoder_error)?;
            builder
                .set_vbr_quality(vbr_quality(q))
                .map_err(encoder_error)?;
        }
        Quality::Cbr(kbps) => {
            builder
                .set_vbr_mode(mp3lame_encoder::VbrMode::Off)
                .map_err(encoder_error)?;
            builder.set_brate(cbr_rate(kbps)?).map_err(encoder_error)?;
        }
    }
    builder
        .set_to_write_vbr_tag(info_frame)
        .map_err(encoder_error)?;
    if !reservoir {
        // SAFETY: the pointer is the builder's own, valid until `build` consumes it; the call
        // only sets a flag that lame_init_params reads.
        let code = unsafe { mp3lame_sys::lame_set_disable_reservoir(builder.as_ptr(), 1) };
        if code != 0 {
            return Err(encoder_error("could not turn off the bit reservoir"));
        }
    }
    builder.build().map_err(encoder_error)
}

/// Encodes interleaved `pcm` (1 or 2 channels) and appends the MP3 bytes to `out`.
pub(crate) fn encode(
    encoder: &mut Encoder,
    pcm: &[f32],
    channels: usize,
    out: &mut Vec<u8>,
) -> Result<(), TranscodeError> {
    if pcm.is_empty() {
        return Ok(());
    }
    // encode_to_vec writes only into spare capacity: reserve LAME's documented worst case.
    out.reserve(mp3lame_encoder::max_required_buffer_size(
        pcm.len() / channels,
    ));
    let written = if channels == 1 {
        encoder.encode_to_vec(MonoPcm(pcm), out)
    } else {
        encoder.encode_to_vec(InterleavedPcm(pcm), out)
    };
    written.map(drop).map_err(encoder_error)
}

/// Flushes the encoder (the normal flush: the no-gap one drops the last ~2000 samples).
pub(crate) fn flush(encoder: &mut Encoder, out: &mut Vec<u8>) -> Result<(), TranscodeError> {
    out.reserve(7200);
    encoder
        .flush_to_vec::<FlushGap>(out)
        .map(drop)
        .map_err(encoder_error)
}

/// The filled-in Xing/LAME info frame, after the flush.
pub(crate) fn info_frame(encoder: &Encoder) -> Option<Vec<u8>> {
    let mut tag = Vec::with_capacity(encoder.lame_tag_size().max(1));
    encoder.lame_tag_encode_to_vec(&mut tag)?;
    Some(tag)
}

/// Writes `gain` into the LAME tag of the info frame `info` (ReplayGain 2.0's figures in the
/// tag's "Radio" field: name 1, originator 3, "determined automatically"; the peak as a
/// fraction of full scale in 9.23 fixed point) and renews the tag's CRC. An info frame of
/// another layout is left as it is.
pub(crate) fn set_replay_gain(info: &mut [u8], gain: crate::loudness::ReplayGain) {
    let Some(x) = (4..info.len().min(64).saturating_sub(4))
        .find(|&i| &info[i..i + 4] == b"Xing" || &info[i..i + 4] == b"Info")
    else {
        return;
    };
    let lame = x + 120;
    if info.len() < lame + 36 || &info[lame..lame + 4] != b"LAME" {
        return;
    }
    let peak = (gain.peak.clamp(0.0, 255.0) * f64::from(1u32 << 23)).round() as u32;
    info[lame + 11..lame + 15].copy_from_slice(&peak.to_be_bytes());
    let tenths = (gain.gain_db * 10.0).round().clamp(-511.0, 511.0) as i32;
    let field: u16 =
        (1 << 13) | (3 << 10) | (u16::from(tenths < 0) << 9) | tenths.unsigned_abs() as u16;
    info[lame + 15..lame + 17].copy_from_slice(&field.to_be_bytes());
    let tag_crc = crc16(0, &info[..lame + 34]);
    info[lame + 34..lame + 36].copy_from_slice(&tag_crc.to_be_bytes());
}

/// The length of the layer III frame whose header starts `bytes`, if it is one.
pub(crate) fn frame_len(bytes: &[u8]) -> Option<usize> {
    let h = bytes.get(..4)?;
    if h[0] != 0xff || h[1] & 0xe0 != 0xe0 || (h[1] >> 1) & 3 != 1 {
        return None;
    }
    let version = (h[1] >> 3) & 3; // 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5
    let bitrate_index = usize::from(h[2] >> 4);
    let rate_index = usize::from((h[2] >> 2) & 3);
    let padding = usize::from((h[2] >> 1) & 1);
    const V1: [usize; 15] = [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ];
    const V2: [usize; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
    let rates: [usize; 3] = match version {
        3 => [44100, 48000, 32000],
        2 => [22050, 24000, 16000],
        0 => [11025, 12000, 8000],
        _ => return None,
    };
    let rate = *rates.get(rate_index)?;
    let (kbps, per) = if version == 3 {
        (*V1.get(bitrate_index)?, 144)
    } else {
        (*V2.get(bitrate_index)?, 72)
    };
    (kbps > 0).then(|| per * kbps * 1000 / rate + padding)
}

/// Splits LAME output into its frames: (start, length) of each.
pub(crate) fn frames(bytes: &[u8]) -> Result<Vec<(usize, usize)>, TranscodeError> {
    let mut out = Vec::with_capacity(bytes.len() / 200);
    let mut at = 0;
    while at < bytes.len() {
        let len = frame_len(&bytes[at..])
            .filter(|len| at + len <= bytes.len())
            .ok_or_else(|| {
                encoder_error(format!(
                    "LAME wrote something that is not a frame at byte {at}"
                ))
            })?;
        out.push((at, len));
        at += len;
    }
    Ok(out)
}

fn vbr_quality(q: u8) -> mp3lame_encoder::Quality {
    use mp3lame_encoder::Quality::*;
    match q {
        0 => Best,
        1 => SecondBest,
        2 => NearBest,
        3 => VeryNice,
        4 => Nice,
        5 => Good,
        6 => Decent,
        7 => Ok,
        8 => SecondWorst,
        _ => Worst,
    }
}

fn cbr_rate(kbps: u16) -> Result<mp3lame_encoder::Bitrate, TranscodeError> {
    use mp3lame_encoder::Bitrate::*;
    Ok(match kbps {
        128 => Kbps128,
        160 => Kbps160,
        192 => Kbps192,
        224 => Kbps224,
        256 => Kbps256,
        320 => Kbps320,
        other => {
            return Err(encoder_error(format!(
                "{other} kbit/s is not an offered bitrate"
            )));
        }
    })
}

/// CRC-16/ARC, as the LAME tag uses it for its own bytes and for the music after it. Run over
/// every byte of the output, so a byte at a time from a table, as LAME does.
pub(crate) fn crc16(crc: u16, bytes: &[u8]) -> u16 {
    const TABLE: [u16; 256] = {
        let mut table = [0u16; 256];
        let mut i = 0;
        while i < 256 {
            let mut crc = i as u16;
            let mut bit = 0;
            while bit < 8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xa001
                } else {
                    crc >> 1
                };
                bit += 1;
            }
            table[i] = crc;
            i += 1;
        }
        table
    };
    bytes.iter().fold(crc, |crc, &b| {
        (crc >> 8) ^ TABLE[usize::from((crc ^ u16::from(b)) & 0xff)]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_lengths_follow_the_header() {
        // MPEG-1 layer III, 128 kbit/s, 44.1 kHz, no padding: 417 bytes; with padding 418.
        assert_eq!(frame_len(&[0xff, 0xfb, 0x90, 0x00]), Some(417));
        assert_eq!(frame_len(&[0xff, 0xfb, 0x92, 0x00]), Some(418));
        // MPEG-2 layer III, 64 kbit/s, 22.05 kHz: 72 * 64000 / 22050 = 208.
        assert_eq!(frame_len(&[0xff, 0xf3, 0x80, 0x00]), Some(208));
        assert_eq!(
            frame_len(&[0xff, 0xfb, 0xf0, 0x00]),
            None,
            "bad bitrate index"
        );
        assert_eq!(frame_len(b"ID3\x04"), None);
    }

    #[test]
    fn crc16_is_arc() {
        // The check value of CRC-16/ARC.
        assert_eq!(crc16(0, b"123456789"), 0xbb3d);
    }
}
