//! One decoder interface over symphonia's own decoders and the ones it lacks: AC-3 and E-AC-3
//! (`crate::ac3`), libopus (Opus,
//! through libopus's multistream decoder from `opusic-c`, for any channel count: the
//! `symphonia-adapter-libopus` decoder drops a stream's pre-skip from its first packet only, so a
//! pre-skip longer than one packet was heard) and Fraunhofer FDK AAC for the AAC that symphonia's
//! decoder refuses (HE-AAC with SBR/PS, more than two channels). Both C libraries are built from
//! bundled source, so nothing has to be installed where the converter runs.
//!
//! AAC goes to FDK: symphonia's AAC decoder takes only stereo AAC-LC, and worse, given HE-AAC
//! signalled implicitly (as in every ADTS stream) it decodes only the core at half the rate
//! without an error. symphonia's decoder remains the fallback when FDK refuses a configuration.

use crate::fdk;
use std::ops::Range;
use std::sync::OnceLock;
use symphonia::core::audio::{Channels, Position};
use symphonia::core::codecs::audio::well_known::{CODEC_ID_AAC, CODEC_ID_OPUS, CODEC_ID_SPEEX};
use symphonia::core::codecs::audio::{AudioCodecParameters, AudioDecoder, AudioDecoderOptions};
use symphonia::core::codecs::registry::CodecRegistry;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::packet::Packet;

/// symphonia's enabled codecs plus Opus.
pub(crate) fn registry() -> &'static CodecRegistry {
    static REGISTRY: OnceLock<CodecRegistry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut registry = CodecRegistry::new();
        symphonia::default::register_enabled_codecs(&mut registry);
        registry.register_audio_decoder::<symphonia_adapter_libopus::OpusDecoder>();
        registry
    })
}

/// Decoded audio of one packet: interleaved samples, their rate and channel count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Spec {
    pub rate: u32,
    pub channels: usize,
    /// The channels' speaker positions, when the decoder names them (in plane order).
    pub positions: Option<Position>,
}

pub(crate) enum Decoder {
    Symphonia(Box<dyn AudioDecoder>),
    Fdk(FdkAac),
    /// Opus, in any number of channels.
    Opus(Box<Opus>),
    /// AC-3 and E-AC-3.
    Ac3(Box<crate::ac3::Ac3>),
    /// Speex, through libspeex.
    Speex(Box<crate::speex::Speex>),
    /// Packets a reader here has decoded already (`crate::lossless`): interleaved `f32`.
    Decoded(Spec),
    /// AAC before its first packet: FDK decodes it and tells what the stream really is.
    AacFirst(FdkAac, AudioCodecParameters),
    /// Only while `AacFirst` is being replaced.
    Switching,
}

impl Decoder {
    /// A decoder for `params`, or `None` when nothing here decodes that codec.
    pub fn new(params: &AudioCodecParameters) -> Option<Self> {
        if params.codec == CODEC_ID_AAC
            && let Some(fdk) = FdkAac::new(params)
        {
            return Some(Self::AacFirst(fdk, params.clone()));
        }
        if params.codec == CODEC_ID_OPUS
            && let Some(opus) = Opus::new(params)
        {
            return Some(Self::Opus(Box::new(opus)));
        }
        if crate::lossless::decoded_here(params.codec)
            || params.codec == crate::tracker::CODEC_ID_MODULE
        {
            let channels = params.channels.as_ref()?;
            return Some(Self::Decoded(Spec {
                rate: params.sample_rate?,
                channels: channels.count(),
                positions: match channels {
                    Channels::Positioned(positions) if channels.count() > 2 => Some(*positions),
                    _ => None,
                },
            }));
        }
        if params.codec == CODEC_ID_SPEEX {
            return crate::speex::Speex::new(params).map(|s| Self::Speex(Box::new(s)));
        }
        if let Some(ac3) = crate::ac3::Ac3::new(params) {
            return Some(Self::Ac3(Box::new(ac3)));
        }
        let inner = registry()
            .make_audio_decoder(params, &AudioDecoderOptions::default())
            .ok()?;
        Some(Self::Symphonia(inner))
    }

    /// After the last packet: audio still held inside the decoder, if any.
    pub fn drain(&mut self, pcm: &mut Vec<f32>) -> Option<Spec> {
        match self {
            Self::Fdk(fdk) | Self::AacFirst(fdk, _) => fdk.drain(pcm),
            Self::Symphonia(_)
            | Self::Opus(_)
            | Self::Ac3(_)
            | Self::Speex(_)
            | Self::Decoded(_)
            | Self::Switching => None,
        }
    }

    /// Decodes one packet into `pcm` (interleaved f32, replacing its contents). `Ok(None)` when the
    /// packet gave no audio (a decoder warming up).
    pub fn decode(
        &mut self,
        packet: &Packet,
        pcm: &mut Vec<f32>,
    ) -> Result<Option<Spec>, SymphoniaError> {
        match self {
            Self::Symphonia(inner) => {
                let buffer = inner.decode(packet)?;
                if buffer.frames() == 0 {
                    return Ok(None);
                }
                let spec = Spec {
                    rate: buffer.spec().rate(),
                    channels: buffer.spec().channels().count(),
                    positions: match buffer.spec().channels() {
                        Channels::Positioned(positions) => Some(*positions),
                        _ => None,
                    },
                };
                buffer.copy_to_vec_interleaved::<f32>(pcm);
                Ok(Some(spec))
            }
            Self::Fdk(fdk) => fdk.decode(packet, pcm),
            Self::Opus(opus) => opus.decode(packet, pcm),
            Self::Ac3(ac3) => ac3.decode(packet, pcm),
            Self::Speex(speex) => speex.decode(packet, pcm),
            Self::Decoded(spec) => {
                if packet.data.is_empty() {
                    return Err(SymphoniaError::DecodeError("a frame is damaged"));
                }
                pcm.clear();
                pcm.extend(
                    packet
                        .data
                        .chunks_exact(4)
                        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
                );
                Ok(Some(*spec))
            }
            Self::Switching => Err(SymphoniaError::Unsupported("the AAC decoder is not ready")),
            Self::AacFirst(..) => {
                let Self::AacFirst(mut fdk, params) = std::mem::replace(self, Self::Switching)
                else {
                    return Err(SymphoniaError::Unsupported("the AAC decoder is not ready"));
                };
                let result = fdk.decode(packet, pcm);
                // Plain AAC-LC: symphonia's decoder (patched to take the standard multichannel
                // layouts, see shared/patched) is several times faster than FDK and has no
                // delay. Everything else (SBR, PS, implicit SBR that only the first frame
                // reveals, layouts from a program config element) stays with FDK; so does
                // anything symphonia's decoder refuses.
                let plain = fdk.info.is_some_and(|i| {
                    i.object_type == AOT_AAC_LC
                        && i.sample_rate == i.core_rate
                        && !(i.core_channels == 1 && i.channels == 2)
                });
                if plain
                    && let Ok(inner) =
                        registry().make_audio_decoder(&params, &AudioDecoderOptions::default())
                {
                    *self = Self::Symphonia(inner);
                    return self.decode(packet, pcm);
                }
                *self = Self::Fdk(fdk);
                result
            }
        }
    }
}

/// The most samples one FDK frame can give: 2048 per channel (HE-AAC), 8 channels.
const FDK_MAX_FRAME: usize = 2048 * 8;

/// FDK AAC over raw AAC access units, configured with the track's AudioSpecificConfig. FDK
/// downmixes more than two channels to stereo itself (ITU-R BS.775 coefficients unless the
/// stream carries its own downmix metadata). Its output is late by `outputDelay` samples: that
/// many are dropped at the start and drained from the filter banks at the end, so the decoded
/// length equals the coded length, as with a decoder that has no delay.
pub(crate) struct FdkAac {
    decoder: fdk::RawDecoder,
    pcm: Vec<i16>,
    /// FDK's output delay still to drop (read after the first frame).
    delay: Option<usize>,
    /// Samples per channel still owed at the end: the delay dropped at the start.
    owed: usize,
    /// What the last decoded frame said.
    info: Option<fdk::StreamInfo>,
}

/// FDK's audio object type for AAC-LC.
const AOT_AAC_LC: i32 = 2;

impl FdkAac {
    fn new(params: &AudioCodecParameters) -> Option<Self> {
        let asc = match &params.extra_data {
            Some(asc) if asc.len() >= 2 => asc.to_vec(),
            // No config (ADTS): describe plain AAC-LC; FDK finds implicit SBR/PS itself.
            _ => lc_config(params.sample_rate?, params.channels.as_ref()?.count())?,
        };
        Some(Self {
            decoder: fdk::RawDecoder::new(&asc, 2).ok()?,
            pcm: vec![0; FDK_MAX_FRAME],
            delay: None,
            owed: 0,
            info: None,
        })
    }

    fn decode(
        &mut self,
        packet: &Packet,
        pcm: &mut Vec<f32>,
    ) -> Result<Option<Spec>, SymphoniaError> {
        // FDK's error codes say little a person could use; the packet is damaged either way.
        let corrupt = |_| SymphoniaError::DecodeError("an AAC frame could not be decoded");
        self.decoder.fill(&packet.data).map_err(corrupt)?;
        let info = self.decoder.decode(&mut self.pcm, false).map_err(corrupt)?;
        Ok(self.emit(info, pcm))
    }

    /// The samples still inside the decoder after the last packet.
    fn drain(&mut self, pcm: &mut Vec<f32>) -> Option<Spec> {
        pcm.clear();
        let mut spec = None;
        while self.owed > 0 {
            let info = self.decoder.decode(&mut self.pcm, true).ok()?;
            let channels = info.channels;
            if channels == 0 || info.frame_size == 0 || info.frame_size * channels > self.pcm.len()
            {
                break;
            }
            let take = info.frame_size.min(self.owed);
            self.owed -= take;
            pcm.extend(
                self.pcm[..take * channels]
                    .iter()
                    .map(|&s| f32::from(s) / 32768.0),
            );
            spec = Some(Spec {
                rate: info.sample_rate,
                channels,
                positions: None,
            });
        }
        spec.filter(|_| !pcm.is_empty())
    }

    fn emit(&mut self, info: fdk::StreamInfo, pcm: &mut Vec<f32>) -> Option<Spec> {
        self.info = Some(info);
        let fdk::StreamInfo {
            sample_rate: rate,
            frame_size: frame,
            channels,
            output_delay,
            ..
        } = info;
        if channels == 0 || rate == 0 || frame == 0 || frame * channels > self.pcm.len() {
            return None;
        }
        let delay = self.delay.get_or_insert_with(|| {
            self.owed = output_delay;
            output_delay
        });
        let skip = (*delay).min(frame);
        *delay -= skip;
        pcm.clear();
        pcm.extend(
            self.pcm[skip * channels..frame * channels]
                .iter()
                .map(|&s| f32::from(s) / 32768.0),
        );
        (!pcm.is_empty()).then_some(Spec {
            rate,
            channels,
            positions: None,
        })
    }
}

/// Of the `frames` a packet decoded to, the ones to keep: after the first `skip` (a decoder's
/// own delay) and the container's trims of the packet's start and end (empty when they cover
/// it all).
pub(crate) fn kept(packet: &Packet, skip: usize, frames: usize) -> Range<usize> {
    let trim_start = usize::try_from(packet.trim_start.get()).unwrap_or(usize::MAX);
    let trim_end = usize::try_from(packet.trim_end.get()).unwrap_or(usize::MAX);
    let start = skip.saturating_add(trim_start).min(frames);
    let end = frames.saturating_sub(trim_end).max(start);
    start..end
}

/// The longest Opus packet: 120 ms at 48 kHz.
const OPUS_MAX_FRAME: usize = 5760;

/// Opus through libopus's multistream decoder: one or two channels (mapping family 0), or three
/// to eight (family 1, in Vorbis channel order), handed on in symphonia's plane order with their
/// positions, so the downmix places each one as for any other codec.
pub(crate) struct Opus {
    decoder: opusic_c::multistream::Decoder,
    channels: usize,
    /// None for one or two channels: mono, or left and right.
    positions: Option<Position>,
    /// For each decoded channel (Vorbis order), its plane in symphonia's order.
    plane: Vec<usize>,
    /// The header's output gain as a factor.
    gain: f32,
    /// Samples at the start still to drop (the header's pre-skip).
    pre_skip: usize,
    buf: Vec<f32>,
}

impl Opus {
    /// From the `OpusHead` (RFC 7845, section 5.1) in the track's extra data.
    fn new(params: &AudioCodecParameters) -> Option<Self> {
        let head = params.extra_data.as_deref()?;
        if head.len() < 19 || !head.starts_with(b"OpusHead") {
            return None;
        }
        let channels = usize::from(head[9]);
        let pre_skip = usize::from(u16::from_le_bytes([head[10], head[11]]));
        let gain_db = f32::from(i16::from_le_bytes([head[16], head[17]])) / 256.0;
        let (decoder, positions, plane) = match (head.get(18).copied()?, channels) {
            (0, 1) => (multistream_decoder(1, 0, &[0])?, None, vec![0]),
            (0, 2) => (multistream_decoder(1, 1, &[0, 1])?, None, vec![0, 1]),
            (1, 3..=8) => {
                let (streams, coupled) = (*head.get(19)?, *head.get(20)?);
                let mapping = head.get(21..21 + channels)?;
                let (positions, plane) = planes(vorbis_order(channels)?);
                (
                    multistream_decoder(streams, coupled, mapping)?,
                    Some(positions),
                    plane,
                )
            }
            _ => return None,
        };
        Some(Self {
            decoder,
            channels,
            positions,
            plane,
            gain: 10f32.powf(gain_db / 20.0),
            pre_skip,
            buf: vec![0.0; OPUS_MAX_FRAME * channels],
        })
    }

    fn decode(
        &mut self,
        packet: &Packet,
        pcm: &mut Vec<f32>,
    ) -> Result<Option<Spec>, SymphoniaError> {
        let frames = self
            .decoder
            .decode_float_to_slice(&packet.data, &mut self.buf, false)
            .map_err(|_| SymphoniaError::DecodeError("an Opus packet could not be decoded"))?;
        // What the container trims (as the one- and two-channel adapter does), and the stream's
        // pre-skip, which may run over more than one packet.
        let skip = self.pre_skip.min(frames);
        self.pre_skip -= skip;
        let Range { start, end } = kept(packet, skip, frames);
        let ch = self.channels;
        pcm.clear();
        pcm.resize((end - start) * ch, 0.0);
        for (from, to) in self.buf[start * ch..end * ch]
            .chunks_exact(ch)
            .zip(pcm.chunks_exact_mut(ch))
        {
            for (&sample, &plane) in from.iter().zip(&self.plane) {
                to[plane] = sample * self.gain;
            }
        }
        Ok((end > start).then_some(Spec {
            rate: 48000,
            channels: ch,
            positions: self.positions,
        }))
    }
}

/// The speaker of each channel in Vorbis channel order (RFC 7845, section 5.1.1.2).
fn vorbis_order(channels: usize) -> Option<&'static [Position]> {
    const FL: Position = Position::FRONT_LEFT;
    const FR: Position = Position::FRONT_RIGHT;
    const FC: Position = Position::FRONT_CENTER;
    const LFE: Position = Position::LFE1;
    const RL: Position = Position::REAR_LEFT;
    const RR: Position = Position::REAR_RIGHT;
    const RC: Position = Position::REAR_CENTER;
    const SL: Position = Position::SIDE_LEFT;
    const SR: Position = Position::SIDE_RIGHT;
    Some(match channels {
        3 => &[FL, FC, FR],
        4 => &[FL, FR, RL, RR],
        5 => &[FL, FC, FR, RL, RR],
        6 => &[FL, FC, FR, RL, RR, LFE],
        7 => &[FL, FC, FR, SL, SR, RC, LFE],
        8 => &[FL, FC, FR, SL, SR, RL, RR, LFE],
        _ => return None,
    })
}

/// The positions of channels sent in `order`, and each one's plane in symphonia's order (the
/// order of the positions' bits).
pub(crate) fn planes(order: &[Position]) -> (Position, Vec<usize>) {
    let positions = order.iter().fold(Position::empty(), |all, &p| all | p);
    let plane = order
        .iter()
        .map(|p| (positions.bits() & (p.bits() - 1)).count_ones() as usize)
        .collect();
    (positions, plane)
}

/// libopus's multistream decoder at 48 kHz for `mapping.len()` output channels.
fn multistream_decoder(
    streams: u8,
    coupled: u8,
    mapping: &[u8],
) -> Option<opusic_c::multistream::Decoder> {
    fn make<const CH: usize>(
        streams: u8,
        coupled: u8,
        mapping: &[u8],
    ) -> Option<opusic_c::multistream::Decoder> {
        let config = opusic_c::multistream::Config::<CH>::try_new(
            streams,
            coupled,
            mapping.try_into().ok()?,
        )?;
        opusic_c::multistream::Decoder::new(config, opusic_c::SampleRate::Hz48000).ok()
    }
    match mapping.len() {
        1 => make::<1>(streams, coupled, mapping),
        2 => make::<2>(streams, coupled, mapping),
        3 => make::<3>(streams, coupled, mapping),
        4 => make::<4>(streams, coupled, mapping),
        5 => make::<5>(streams, coupled, mapping),
        6 => make::<6>(streams, coupled, mapping),
        7 => make::<7>(streams, coupled, mapping),
        8 => make::<8>(streams, coupled, mapping),
        _ => None,
    }
}

/// A two-byte AudioSpecificConfig for AAC-LC at `rate` with `channels` (1 to 7 or 8).
fn lc_config(rate: u32, channels: usize) -> Option<Vec<u8>> {
    const RATES: [u32; 13] = [
        96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
    ];
    let index = RATES.iter().position(|&r| r == rate)? as u16;
    let config: u16 = match channels {
        1..=6 => channels as u16,
        8 => 7,
        _ => return None,
    };
    let bits: u16 = (2 << 11) | (index << 7) | (config << 3);
    Some(bits.to_be_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vorbis_order_lands_on_symphonias_planes() {
        // symphonia's planes: FL FR FC LFE RL RR, then (7.1) SL SR after them.
        let five_one = vorbis_order(6).map(planes);
        assert_eq!(five_one.map(|p| p.1), Some(vec![0, 2, 1, 4, 5, 3]));
        // FL FC FR SL SR RL RR LFE -> FL FR FC LFE RL RR SL SR.
        let seven_one = vorbis_order(8).map(planes);
        assert_eq!(seven_one.map(|p| p.1), Some(vec![0, 2, 1, 6, 7, 4, 5, 3]));
        for channels in 3..=8 {
            let (positions, plane) = vorbis_order(channels).map(planes).unwrap_or_default();
            assert_eq!(positions.bits().count_ones() as usize, channels);
            let mut sorted = plane.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, (0..channels).collect::<Vec<_>>(), "{channels}");
        }
        assert!(vorbis_order(2).is_none() && vorbis_order(9).is_none());
    }

    #[test]
    fn lc_config_matches_the_standard_layout() {
        // AAC-LC, 44.1 kHz (index 4), stereo: 0x12 0x10, as every encoder writes it.
        assert_eq!(lc_config(44100, 2), Some(vec![0x12, 0x10]));
        // 48 kHz (index 3), 5.1 (config 6): 0x11 0xb0.
        assert_eq!(lc_config(48000, 6), Some(vec![0x11, 0xb0]));
        assert_eq!(lc_config(44000, 2), None);
        assert_eq!(lc_config(44100, 0), None);
    }
}
