// video2mp3 patch: a mapper for Speex in Ogg (the Speex manual's "Ogg file format" section,
// written by speexenc and ffmpeg). Not in symphonia-format-ogg 0.6.1.

use crate::common::SideData;

use super::{MapResult, Mapper, PacketParser};

use symphonia_core::audio::layouts::{CHANNEL_LAYOUT_MONO, CHANNEL_LAYOUT_STEREO};
use symphonia_core::codecs::CodecParameters;
use symphonia_core::codecs::audio::AudioCodecParameters;
use symphonia_core::codecs::audio::well_known::CODEC_ID_SPEEX;
use symphonia_core::errors::Result;
use symphonia_core::formats::Track;
use symphonia_core::io::BufReader;
use symphonia_core::meta::MetadataBuilder;
use symphonia_core::units::Duration;
use symphonia_metadata::embedded::vorbis::{self, VORBIS_COMMENT_METADATA_INFO};

/// The size of the Speex header packet.
const SPEEX_HEADER_SIZE: usize = 80;

/// The most frames one packet may hold (speexenc writes 1 to 10).
const MAX_FRAMES_PER_PACKET: u32 = 64;

/// What the Speex header (the stream's first packet) says.
#[derive(Clone, Copy, Debug)]
struct SpeexHeader {
    rate: u32,
    channels: u32,
    /// Samples per channel in one frame: 160, 320 or 640 (narrowband, wideband, ultra-wideband).
    frame_size: u32,
    frames_per_packet: u32,
    /// Header packets after the comment packet, to skip.
    extra_headers: u32,
}

fn le_u32(buf: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]])
}

impl SpeexHeader {
    /// The header, or `None` when `buf` is not a Speex header this mapper can stand behind.
    fn read(buf: &[u8]) -> Option<Self> {
        if buf.len() < SPEEX_HEADER_SIZE || !buf.starts_with(b"Speex   ") {
            return None;
        }
        let mode = le_u32(buf, 40);
        let header = SpeexHeader {
            rate: le_u32(buf, 36),
            channels: le_u32(buf, 48),
            frame_size: le_u32(buf, 56),
            // speexenc wrote 0 for "one" in its early versions; ffmpeg reads it so.
            frames_per_packet: le_u32(buf, 64).max(1),
            extra_headers: le_u32(buf, 68),
        };
        let valid = mode <= 2
            && header.frame_size == 160 << mode
            && (1..=2).contains(&header.channels)
            && (1000..=192_000).contains(&header.rate)
            && header.frames_per_packet <= MAX_FRAMES_PER_PACKET
            && header.extra_headers <= 16;
        valid.then_some(header)
    }
}

pub fn detect(serial: u32, buf: &[u8]) -> Result<Option<Box<dyn Mapper>>> {
    let Some(header) = SpeexHeader::read(buf)
    else {
        return Ok(None);
    };

    let mut codec_params = AudioCodecParameters::new();
    codec_params
        .for_codec(CODEC_ID_SPEEX)
        .with_sample_rate(header.rate)
        .with_channels(if header.channels == 1 { CHANNEL_LAYOUT_MONO } else { CHANNEL_LAYOUT_STEREO })
        .with_max_frames_per_packet(u64::from(header.frame_size * header.frames_per_packet))
        .with_frames_per_block(u64::from(header.frame_size))
        .with_extra_data(Box::from(&buf[..SPEEX_HEADER_SIZE]));

    let mut track = Track::new(serial);
    track.with_codec_params(CodecParameters::Audio(codec_params));

    Ok(Some(Box::new(SpeexMapper {
        track,
        header,
        need_comment: true,
        extra_headers: header.extra_headers,
    })))
}

struct SpeexPacketParser {
    packet_dur: u64,
}

impl PacketParser for SpeexPacketParser {
    fn parse_next_packet_dur(&mut self, _packet: &[u8]) -> (Duration, Duration) {
        (Duration::new(self.packet_dur), Duration::ZERO)
    }
}

struct SpeexMapper {
    track: Track,
    header: SpeexHeader,
    need_comment: bool,
    /// Extra header packets still to skip.
    extra_headers: u32,
}

impl Mapper for SpeexMapper {
    fn name(&self) -> &'static str {
        "speex"
    }

    fn reset(&mut self) {
        // Nothing to do.
    }

    fn track(&self) -> &Track {
        &self.track
    }

    fn track_mut(&mut self) -> &mut Track {
        &mut self.track
    }

    fn make_parser(&self) -> Option<Box<dyn PacketParser>> {
        Some(Box::new(SpeexPacketParser {
            packet_dur: u64::from(self.header.frame_size * self.header.frames_per_packet),
        }))
    }

    /// Speex's granule positions count from the encoder's input, so the codec's delay puts the
    /// first page's packets before zero: that much is trimmed from the start.
    fn trims_before_zero(&self) -> bool {
        true
    }

    fn map_packet(&mut self, packet: &[u8]) -> Result<MapResult> {
        if self.need_comment {
            // The second packet is a Vorbis comment without the framing bit.
            self.need_comment = false;
            let mut reader = BufReader::new(packet);
            let mut builder = MetadataBuilder::new(VORBIS_COMMENT_METADATA_INFO);
            let mut side_data = Default::default();
            return match vorbis::read_vorbis_comment(&mut reader, &mut builder, &mut side_data) {
                Ok(()) => {
                    let rev = builder.build();
                    Ok(MapResult::SideData { data: SideData::Metadata { rev, side_data } })
                }
                // A damaged comment loses the tags, not the audio.
                Err(_) => Ok(MapResult::Setup),
            };
        }
        if self.extra_headers > 0 {
            self.extra_headers -= 1;
            return Ok(MapResult::Setup);
        }
        let packet_dur = u64::from(self.header.frame_size * self.header.frames_per_packet);
        Ok(MapResult::StreamData { dur: Duration::new(packet_dur), discard: Duration::ZERO })
    }
}
