//! AC-3 (Dolby Digital) and E-AC-3 (Dolby Digital Plus): the sound of DVDs, TV recordings and
//! most films, in Matroska and MP4, and as raw streams (`.ac3`, `.eac3`). Decoded by
//! `oxideav-ac3` (pure Rust, ATSC A/52 with Annex E); its output comes within 0.6 dB of
//! ffmpeg's decoder in SNR against the source (stereo and 5.1, AC-3 and E-AC-3: see
//! docs/testing.md). symphonia has no reader for raw streams, so [`Reader`] is one: it cuts the
//! stream into syncframes (E-AC-3: one independent frame with the dependent frames after it).

use crate::decoders::Spec;
use std::io::{Read, SeekFrom};
use symphonia::core::audio::{Channels, Position};
use symphonia::core::codecs::CodecParameters;
use symphonia::core::codecs::audio::AudioCodecParameters;
use symphonia::core::codecs::audio::well_known::{CODEC_ID_AC3, CODEC_ID_EAC3};
use symphonia::core::common::FourCc;
use symphonia::core::errors::{Error as SymphoniaError, Result as SymphoniaResult};
use symphonia::core::formats::prelude::*;
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::{Metadata, MetadataLog};
use symphonia::core::packet::Packet;

/// What one syncframe's header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    /// The syncframe's length in bytes.
    pub len: usize,
    pub rate: u32,
    /// Samples per channel.
    pub samples: u32,
    /// Audio coding mode: which full-band channels (A/52 table 5.8).
    pub acmod: u8,
    pub lfe: bool,
    /// E-AC-3 (A/52 Annex E) rather than AC-3.
    pub enhanced: bool,
    /// Starts an access unit: every AC-3 frame; an E-AC-3 frame of independent substream 0.
    pub starts_unit: bool,
}

/// The syncword every frame starts with.
const SYNC: [u8; 2] = [0x0b, 0x77];

/// Reads the header at the start of `data`, or `None` when it is not a valid syncframe header.
pub(crate) fn header(data: &[u8]) -> Option<Header> {
    if data.len() < 8 || data[..2] != SYNC {
        return None;
    }
    let bsid = data[5] >> 3;
    if bsid <= 10 {
        // AC-3: the frame size code gives the length (A/52 table 5.18).
        let sync = oxideav_ac3::syncinfo::parse(data).ok()?;
        let mut bits = Bits::new(&data[5..]);
        bits.skip(8); // bsid, bsmod
        let acmod = bits.take(3)? as u8;
        if acmod & 1 != 0 && acmod != 1 {
            bits.skip(2); // cmixlev
        }
        if acmod & 4 != 0 {
            bits.skip(2); // surmixlev
        }
        if acmod == 2 {
            bits.skip(2); // dsurmod
        }
        let lfe = bits.take(1)? == 1;
        Some(Header {
            len: usize::try_from(sync.frame_length).ok()?,
            rate: sync.sample_rate,
            samples: 1536,
            acmod,
            lfe,
            enhanced: false,
            starts_unit: true,
        })
    } else if bsid <= 16 {
        // E-AC-3 (A/52 E.1.2.1): strmtyp, substreamid, frmsiz, fscod, numblkscod or fscod2.
        let strmtyp = data[2] >> 6;
        let substream = (data[2] >> 3) & 7;
        let words = (usize::from(data[2] & 7) << 8 | usize::from(data[3])) + 1;
        let fscod = data[4] >> 6;
        let (rate, blocks) = match (fscod, (data[4] >> 4) & 3) {
            (3, 0) => (24000, 6),
            (3, 1) => (22050, 6),
            (3, 2) => (16000, 6),
            (3, _) => return None,
            (f, n) => (
                [48000, 44100, 32000][usize::from(f)],
                [1, 2, 3, 6][usize::from(n)],
            ),
        };
        if strmtyp == 3 {
            return None;
        }
        Some(Header {
            len: words * 2,
            rate,
            samples: blocks * 256,
            acmod: (data[4] >> 1) & 7,
            lfe: data[4] & 1 == 1,
            enhanced: true,
            starts_unit: strmtyp != 1 && substream == 0,
        })
    } else {
        None
    }
}

/// Most-significant-first bits of a few bytes.
struct Bits<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Self {
        Self { data, at: 0 }
    }

    fn skip(&mut self, n: usize) {
        self.at += n;
    }

    fn take(&mut self, n: usize) -> Option<u32> {
        let mut value = 0;
        for _ in 0..n {
            let byte = self.data.get(self.at / 8)?;
            value = value << 1 | u32::from(byte >> (7 - self.at % 8) & 1);
            self.at += 1;
        }
        Some(value)
    }
}

/// The speakers of the decoder's output channels, in its order: the full-band channels of
/// `acmod` with the centre moved after left and right, then the LFE, which the decoder puts
/// after the front channels when there is a centre and last otherwise.
fn output_order(acmod: u8, lfe: bool) -> Vec<Position> {
    use Position as P;
    let (front, rest): (&[Position], &[Position]) = match acmod {
        0 | 2 => (&[P::FRONT_LEFT, P::FRONT_RIGHT], &[]),
        1 => (&[P::FRONT_CENTER], &[]),
        3 => (&[P::FRONT_LEFT, P::FRONT_RIGHT, P::FRONT_CENTER], &[]),
        4 => (&[P::FRONT_LEFT, P::FRONT_RIGHT], &[P::REAR_CENTER]),
        5 => (
            &[P::FRONT_LEFT, P::FRONT_RIGHT, P::FRONT_CENTER],
            &[P::REAR_CENTER],
        ),
        6 => (
            &[P::FRONT_LEFT, P::FRONT_RIGHT],
            &[P::SIDE_LEFT, P::SIDE_RIGHT],
        ),
        _ => (
            &[P::FRONT_LEFT, P::FRONT_RIGHT, P::FRONT_CENTER],
            &[P::SIDE_LEFT, P::SIDE_RIGHT],
        ),
    };
    let mut order = front.to_vec();
    if acmod == 7 && lfe {
        order.push(P::LFE1);
    }
    order.extend_from_slice(rest);
    if acmod != 7 && lfe {
        order.push(P::LFE1);
    }
    order
}

/// The channels a header describes, for the track's parameters.
fn channels(head: &Header) -> Channels {
    match (head.acmod, head.lfe) {
        // Dual mono (1+1) is heard as a stereo pair.
        (0 | 2, false) => Channels::Positioned(Position::FRONT_LEFT | Position::FRONT_RIGHT),
        (1, false) => Channels::Positioned(Position::FRONT_LEFT),
        (acmod, lfe) => Channels::Positioned(
            output_order(acmod, lfe)
                .into_iter()
                .fold(Position::empty(), |all, p| all | p),
        ),
    }
}

/// An AC-3 or E-AC-3 decoder.
pub(crate) struct Ac3 {
    decoder: Box<dyn oxideav_core::Decoder>,
}

impl Ac3 {
    pub fn new(params: &AudioCodecParameters) -> Option<Self> {
        if params.codec != CODEC_ID_AC3 && params.codec != CODEC_ID_EAC3 {
            return None;
        }
        // No channel count asked for: every channel comes out, and the engine's own downmix
        // folds them as it does every other codec's.
        let ours = oxideav_core::CodecParameters::audio(oxideav_core::CodecId::new("ac3"));
        Some(Self {
            decoder: oxideav_ac3::decoder::make_decoder(&ours).ok()?,
        })
    }

    /// Decodes the syncframes of one packet (AC-3: one or more frames; E-AC-3: one or more
    /// access units) into `pcm`, interleaved in symphonia's plane order.
    pub fn decode(
        &mut self,
        packet: &Packet,
        pcm: &mut Vec<f32>,
    ) -> Result<Option<Spec>, SymphoniaError> {
        const DAMAGED: SymphoniaError = SymphoniaError::DecodeError("an AC-3 frame is damaged");
        pcm.clear();
        let data = &packet.data;
        let mut spec: Option<Spec> = None;
        let mut at = 0;
        while at < data.len() {
            let head = header(&data[at..]).ok_or(DAMAGED)?;
            // An access unit: this frame and, for E-AC-3, the dependent frames after it.
            let mut end = at
                .checked_add(head.len)
                .filter(|&e| e <= data.len())
                .ok_or(DAMAGED)?;
            while let Some(next) = header(&data[end..]).filter(|h| h.enhanced && !h.starts_unit) {
                end = end
                    .checked_add(next.len)
                    .filter(|&e| e <= data.len())
                    .ok_or(DAMAGED)?;
            }
            let unit = oxideav_core::Packet::new(
                0,
                oxideav_core::TimeBase::new(1, i64::from(head.rate)),
                data[at..end].to_vec(),
            );
            self.decoder.send_packet(&unit).map_err(|_| DAMAGED)?;
            let frame = match self.decoder.receive_frame() {
                Ok(oxideav_core::Frame::Audio(frame)) => frame,
                _ => return Err(DAMAGED),
            };
            let bytes = frame.data.first().ok_or(DAMAGED)?;
            let samples = frame.samples as usize;
            if samples == 0 || bytes.len() % (2 * samples) != 0 {
                return Err(DAMAGED);
            }
            let count = bytes.len() / (2 * samples);
            let order = output_order(head.acmod, head.lfe);
            // Positions where the decoder gave the channels the header describes and there is
            // more than a plain pair; a count the header does not explain (E-AC-3 extended to
            // 7.1 by a dependent substream) goes on without them, as other unnamed layouts do.
            let (positions, plane) = if count == order.len() && count > 2 {
                let (positions, plane) = crate::decoders::planes(&order);
                (Some(positions), plane)
            } else {
                (None, (0..count).collect())
            };
            let this = Spec {
                rate: head.rate,
                channels: count,
                positions,
            };
            if spec.is_some_and(|s| s != this) {
                return Err(SymphoniaError::DecodeError(
                    "the AC-3 stream changes its layout within a packet",
                ));
            }
            spec = Some(this);
            let start = pcm.len();
            pcm.resize(start + samples * count, 0.0);
            for (from, to) in bytes
                .chunks_exact(2 * count)
                .zip(pcm[start..].chunks_exact_mut(count))
            {
                for (sample, &p) in from.chunks_exact(2).zip(&plane) {
                    to[p] = f32::from(i16::from_le_bytes([sample[0], sample[1]])) / 32768.0;
                }
            }
            at = end;
        }
        // What the container trims (its packets' start and end marks).
        let Some(spec) = spec else { return Ok(None) };
        let frames = pcm.len() / spec.channels;
        let std::ops::Range { start, end } = crate::decoders::kept(packet, 0, frames);
        if (start, end) != (0, frames) {
            pcm.truncate(end * spec.channels);
            pcm.drain(..start * spec.channels);
        }
        Ok((end > start).then_some(spec))
    }
}

const FORMAT_INFO: FormatInfo = FormatInfo {
    format: FormatId::new(FourCc::new(*b"ac-3")),
    short_name: "ac3",
    long_name: "AC-3 / E-AC-3 elementary stream",
};

/// How far past damage the reader looks for the next syncframe before calling the stream ended.
const RESYNC_WINDOW: usize = 64 * 1024;

/// A raw AC-3 or E-AC-3 stream, one access unit per packet.
pub(crate) struct Reader {
    stream: MediaSourceStream<'static>,
    tracks: Vec<Track>,
    media_info: MediaInfo,
    metadata: MetadataLog,
    /// The next packet's timestamp, in samples.
    ts: u64,
    /// A frame read ahead (the one after an access unit).
    ahead: Option<(Header, Vec<u8>)>,
}

impl Reader {
    /// Opens the stream that starts `skip` bytes into `source` (past an ID3v2 tag).
    pub fn open(mut source: Box<dyn MediaSource>, skip: u64) -> Option<Self> {
        let len = source.byte_len();
        source.seek(SeekFrom::Start(skip)).ok()?;
        let mut stream = MediaSourceStream::new(source, Default::default());
        let first = read_frame(&mut stream)?;
        let head = first.0;
        let mut params = AudioCodecParameters::new();
        params
            .for_codec(if head.enhanced {
                CODEC_ID_EAC3
            } else {
                CODEC_ID_AC3
            })
            .with_sample_rate(head.rate)
            .with_channels(channels(&head));
        let mut track = Track::new(0);
        track.with_codec_params(CodecParameters::Audio(params));
        if let Some(time_base) = TimeBase::try_new(1, head.rate) {
            track.with_time_base(time_base);
        }
        // The length, from the size as if every unit were as long as the first (AC-3 and
        // E-AC-3 streams are constant bitrate): for the progress and the duration limit.
        if let Some(len) = len {
            let units = len.saturating_sub(skip) / head.len as u64;
            track.with_num_frames(units * u64::from(head.samples));
        }
        Some(Self {
            stream,
            media_info: MediaInfo::from_track(&track),
            tracks: vec![track],
            metadata: MetadataLog::default(),
            ts: 0,
            ahead: Some(first),
        })
    }
}

/// The next syncframe: its header and bytes. Damage between frames is skipped (up to
/// [`RESYNC_WINDOW`] bytes); `None` at the end of the stream or when no frame follows.
fn read_frame(stream: &mut MediaSourceStream<'static>) -> Option<(Header, Vec<u8>)> {
    let mut head = [0u8; 8];
    stream.read_exact(&mut head).ok()?;
    let mut skipped = 0;
    let header = loop {
        if let Some(h) = header(&head).filter(|h| h.len >= head.len()) {
            break h;
        }
        skipped += 1;
        if skipped > RESYNC_WINDOW {
            return None;
        }
        head.copy_within(1.., 0);
        let mut byte = [0u8; 1];
        stream.read_exact(&mut byte).ok()?;
        head[7] = byte[0];
    };
    let mut frame = head.to_vec();
    frame.resize(header.len, 0);
    // A frame cut off by the end of the file ends the stream.
    stream.read_exact(&mut frame[head.len()..]).ok()?;
    Some((header, frame))
}

impl FormatReader for Reader {
    fn format_info(&self) -> &FormatInfo {
        &FORMAT_INFO
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
        let Some((head, mut data)) = self.ahead.take().or_else(|| read_frame(&mut self.stream))
        else {
            return Ok(None);
        };
        // The dependent frames and other substreams of this access unit.
        loop {
            match read_frame(&mut self.stream) {
                Some((next, bytes)) if head.enhanced && next.enhanced && !next.starts_unit => {
                    data.extend_from_slice(&bytes);
                }
                next => {
                    self.ahead = next;
                    break;
                }
            }
        }
        let ts = self.ts;
        self.ts += u64::from(head.samples);
        Ok(Some(Packet::new(
            0,
            Timestamp::new(i64::try_from(ts).unwrap_or(i64::MAX)),
            Duration::new(u64::from(head.samples)),
            data,
        )))
    }

    fn into_inner<'s>(self: Box<Self>) -> MediaSourceStream<'s>
    where
        Self: 's,
    {
        self.stream
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_give_length_rate_and_layout() {
        // AC-3, 48 kHz (fscod 0), 192 kbit/s (frmsizecod 20): 384 words; bsid 8, acmod 7
        // (3/2) with cmixlev and surmixlev, then lfeon set.
        let mut frame = vec![0x0b, 0x77, 0, 0, 20, 8 << 3, 0b1110_1001, 0];
        frame.resize(800, 0);
        let h = header(&frame).unwrap();
        assert_eq!((h.len, h.rate, h.samples), (768, 48000, 1536));
        assert_eq!(
            (h.acmod, h.lfe, h.enhanced, h.starts_unit),
            (7, true, false, true)
        );
        // acmod 2 (stereo): dsurmod, then lfeon clear.
        frame[6] = 0b0100_0000;
        let h = header(&frame).unwrap();
        assert_eq!((h.acmod, h.lfe), (2, false));
        // E-AC-3, independent substream 0, 384 words, 44.1 kHz, 6 blocks, acmod 2, no LFE.
        let eac3 = [0x0b, 0x77, 0x01, 0x7f, 0b0111_0100, 16 << 3, 0, 0];
        let h = header(&eac3).unwrap();
        assert_eq!((h.len, h.rate, h.samples), (768, 44100, 1536));
        assert_eq!(
            (h.acmod, h.lfe, h.enhanced, h.starts_unit),
            (2, false, true, true)
        );
        // A dependent substream (strmtyp 1) does not start a unit.
        let dependent = [0x0b, 0x77, 0x41, 0x7f, 0b0111_0100, 16 << 3, 0, 0];
        assert!(!header(&dependent).unwrap().starts_unit);
        assert_eq!(header(b"\x0b\x78\0\0\0\0\0\0"), None);
        assert_eq!(header(&frame[..7]), None);
    }

    #[test]
    fn every_layout_lists_each_channel_once() {
        for acmod in 0..8 {
            for lfe in [false, true] {
                let order = output_order(acmod, lfe);
                assert_eq!(
                    order.len(),
                    oxideav_ac3::wave_order::output_channels(acmod, lfe),
                    "acmod {acmod} lfe {lfe}"
                );
                let all = order.iter().fold(Position::empty(), |a, &p| a | p);
                assert_eq!(all.bits().count_ones() as usize, order.len());
            }
        }
    }
}
