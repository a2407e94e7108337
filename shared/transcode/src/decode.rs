//! The middle stage: the chosen track's packets decoded to interleaved PCM of one rate and
//! channel count. Damaged packets are skipped up to the limit; every other problem becomes one
//! of the engine's errors, with where in the audio a damaged spot is, worked out in one place.

use crate::decoders::{Decoder, Spec};
use crate::error::TranscodeError;
use crate::limits::Limits;
use symphonia::core::codecs::audio::AudioCodecParameters;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::FormatReader;

/// The decoding of one track.
/// The longest damaged packet replaced by silence, in frames: longer ones (a packet whose
/// duration is itself damaged) are skipped.
const MAX_CONCEALED: u64 = 8192;

pub(crate) struct Decode {
    format: Box<dyn FormatReader>,
    decoder: Decoder,
    track_id: u32,
    codec_name: String,
    limits: Limits,
    /// The format of the first decoded block; every later block must keep it.
    first: Option<Spec>,
    /// Frames decoded so far (before any trim), to say where a damaged spot is.
    frames: u64,
    bad_packets: u32,
    /// Set when the packets have run out: the decoder then gives what it still holds, once.
    ended: bool,
}

impl Decode {
    /// A decoder for `params`; [`TranscodeError::UnsupportedCodec`] when nothing here decodes it.
    pub fn new(
        format: Box<dyn FormatReader>,
        track_id: u32,
        params: &AudioCodecParameters,
        codec_name: String,
        limits: Limits,
    ) -> Result<Self, TranscodeError> {
        let decoder = Decoder::new(params).ok_or_else(|| {
            // The decoders here take mono and stereo of every codec, but not every codec in
            // more channels (Opus beyond 8 channels or in a mapping other than the Vorbis
            // order, such as family 255): say which.
            TranscodeError::UnsupportedCodec(match params.channels.as_ref().map(|c| c.count()) {
                Some(n) if n > 2 => format!("{codec_name} in {n} channels"),
                _ => codec_name.clone(),
            })
        })?;
        Ok(Self {
            format,
            decoder,
            track_id,
            codec_name,
            limits,
            first: None,
            frames: 0,
            bad_packets: 0,
            ended: false,
        })
    }

    /// Moves to decoded frame `frame` of the track, or the packet that holds it, with a new
    /// decoder (whose first block lacks what an earlier packet would have given it: the caller
    /// seeks early enough to drop that). Returns the frame the next block starts at; `None`,
    /// back at the start, where the container cannot seek there exactly or counts time in
    /// other units than the track's samples. What was decoded before is forgotten either way
    /// but for the stream's format (the decoder is new from the next packet on).
    pub fn seek(
        &mut self,
        frame: u64,
        params: &AudioCodecParameters,
    ) -> Result<Option<u64>, TranscodeError> {
        use symphonia::core::formats::{SeekMode, SeekTo};
        use symphonia::core::units::Timestamp;
        let rate = params.sample_rate.unwrap_or(0);
        let in_samples = self
            .format
            .tracks()
            .iter()
            .find(|t| t.id == self.track_id)
            .and_then(|t| t.time_base)
            .is_some_and(|tb| tb.numer.get() == 1 && tb.denom.get() == rate);
        let Ok(ts) = i64::try_from(frame) else {
            return Ok(None);
        };
        if !in_samples {
            return Ok(None);
        }
        let to = SeekTo::Timestamp {
            ts: Timestamp::new(ts),
            track_id: self.track_id,
        };
        let landed = self
            .format
            .seek(SeekMode::Accurate, to)
            .ok()
            .and_then(|s| u64::try_from(s.actual_ts.get()).ok())
            .filter(|&actual| actual <= frame);
        let Some(actual) = landed else {
            // Back to the start, as if nothing had been tried.
            let start = SeekTo::Timestamp {
                ts: Timestamp::new(0),
                track_id: self.track_id,
            };
            return match self.format.seek(SeekMode::Accurate, start) {
                Ok(s) if s.actual_ts.get() == 0 => Ok(None),
                _ => Err(self.corrupt("the reader cannot go back to the start")),
            };
        };
        self.decoder = Decoder::new(params)
            .ok_or_else(|| TranscodeError::UnsupportedCodec(self.codec_name.clone()))?;
        self.frames = actual;
        Ok(Some(actual))
    }

    /// Whether symphonia's own decoder decodes the track (for AAC: plain AAC-LC, not FDK).
    pub fn by_symphonia(&self) -> bool {
        matches!(self.decoder, Decoder::Symphonia(_))
    }

    /// The container reader back, to read the source again.
    pub fn into_format(self) -> Box<dyn FormatReader> {
        self.format
    }

    /// Packets that could not be decoded and were skipped.
    pub fn bad_packets(&self) -> u32 {
        self.bad_packets
    }

    /// The input is damaged here.
    fn corrupt(&self, detail: impl Into<String>) -> TranscodeError {
        let rate = self.first.map_or(0, |s| s.rate);
        TranscodeError::Corrupt {
            at: if rate > 0 {
                self.frames as f64 / f64::from(rate)
            } else {
                0.0
            },
            detail: detail.into(),
        }
    }

    /// Why a track that ended without giving any audio failed.
    pub fn nothing_decoded(&self) -> TranscodeError {
        if self.bad_packets > 0 {
            self.corrupt("no audio packet could be decoded")
        } else {
            TranscodeError::EmptyAudio
        }
    }

    /// Decodes the next block of audio into `pcm` (interleaved, replacing its contents); `None`
    /// once the track has ended. A truncated file ends early: what was decoded is kept, as other
    /// tools do.
    pub fn next(&mut self, pcm: &mut Vec<f32>) -> Result<Option<Spec>, TranscodeError> {
        loop {
            if self.ended {
                return Ok(None);
            }
            let packet = match self.format.next_packet() {
                Ok(packet) => packet,
                Err(SymphoniaError::IoError(e))
                    if e.kind() == std::io::ErrorKind::UnexpectedEof =>
                {
                    None
                }
                Err(SymphoniaError::IoError(e)) => return Err(TranscodeError::Io(e)),
                Err(SymphoniaError::ResetRequired) => {
                    return Err(self.corrupt("the stream changes its format midway"));
                }
                Err(err) => return Err(self.corrupt(err.to_string())),
            };
            // A damaged packet's place is kept as silence once the stream's layout is known,
            // as FFmpeg conceals it, so the audio after it stays in time (with the video too).
            let mut lost = 0;
            let decoded = match packet {
                Some(packet) if packet.track_id != self.track_id => continue,
                Some(packet) => {
                    lost = packet.dur.get();
                    self.decoder.decode(&packet, pcm)
                }
                None => {
                    self.ended = true;
                    Ok(self.decoder.drain(pcm))
                }
            };
            let spec = match decoded {
                Ok(Some(spec)) => spec,
                Ok(None) => continue,
                Err(SymphoniaError::DecodeError(detail)) => {
                    self.bad_packets += 1;
                    if self.limits.bad_packets(self.bad_packets) {
                        return Err(self.corrupt(format!(
                            "{} packets could not be decoded (last: {detail})",
                            self.bad_packets
                        )));
                    }
                    match self.first {
                        Some(spec) if lost > 0 && lost <= MAX_CONCEALED => {
                            pcm.clear();
                            pcm.resize(lost as usize * spec.channels, 0.0);
                            spec
                        }
                        _ => continue,
                    }
                }
                Err(SymphoniaError::IoError(e)) => return Err(TranscodeError::Io(e)),
                Err(SymphoniaError::Unsupported(what)) => {
                    return Err(TranscodeError::UnsupportedCodec(format!(
                        "{} ({what})",
                        self.codec_name
                    )));
                }
                Err(err) => return Err(self.corrupt(err.to_string())),
            };
            if spec.channels == 0 || spec.rate == 0 {
                return Err(self.corrupt("a packet has no channels or no sample rate"));
            }
            self.limits.channels(spec.channels)?;
            match self.first {
                None => self.first = Some(spec),
                Some(first) if first.rate != spec.rate || first.channels != spec.channels => {
                    return Err(self.corrupt("the sample rate or channel count changes midway"));
                }
                Some(_) => {}
            }
            self.frames += (pcm.len() / spec.channels) as u64;
            return Ok(Some(spec));
        }
    }
}
