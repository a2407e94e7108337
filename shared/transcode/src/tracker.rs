//! Tracker modules: ProTracker MOD, FastTracker II XM, Scream Tracker 3 S3M and Impulse Tracker
//! IT. They hold notes and instruments rather than sound, so [`Reader`] renders them: `xmrs`
//! loads the module and `xmrsplayer` (both pure Rust) plays it, as ffmpeg does through
//! libopenmpt:
//!
//! - at 48 kHz in stereo (libopenmpt's defaults in ffmpeg);
//! - a MOD at the pitch of ProTracker on a PAL Amiga, as libopenmpt plays it: `xmrs` maps its
//!   notes on FastTracker II's scale (C-4 at 8363 Hz), 15.8 cents higher, so each of its
//!   samples is tuned down by that much ([`tune_to_pal`]);
//! - the song once: a jump back to a row already played ends it;
//! - then 100 ms in which whatever still sounds fades out to silence, as libopenmpt does at the
//!   end of a song (`FadeSong(FADESONGDELAY)`) instead of cutting the notes off. So the MP3 is
//!   as long as ffmpeg's decoding, not 100 ms shorter.
//!
//! The module is read whole (they are small: [`MAX_BYTES`] bounds it); the sound is rendered a
//! packet at a time, so memory stays flat whatever the song's length. The module's title
//! becomes the title tag.

use crate::error::TranscodeError;
use std::io::{Read, Seek, SeekFrom};
use symphonia::core::audio::{Channels, Position};
use symphonia::core::codecs::CodecParameters;
use symphonia::core::codecs::audio::{AudioCodecId, AudioCodecParameters};
use symphonia::core::common::FourCc;
use symphonia::core::errors::{Error as SymphoniaError, Result as SymphoniaResult};
use symphonia::core::formats::prelude::*;
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::{
    Metadata, MetadataBuilder, MetadataId, MetadataInfo, MetadataLog, StandardTag, Tag,
};
use symphonia::core::packet::Packet;
use xmrs::prelude::Module;
use xmrsplayer::xmrsplayer::XmrsPlayer;

/// Rendered modules, already PCM: `crate::decoders` passes their packets through.
pub(crate) const CODEC_ID_MODULE: AudioCodecId = AudioCodecId::new(FourCc::new(*b"MOD "));

/// The rate modules are rendered at (ffmpeg's, through libopenmpt).
pub(crate) const RATE: u32 = 48_000;

/// The largest module read. Real ones are kilobytes to a few megabytes (their samples are short
/// and often 8-bit); this bounds the memory a hostile file can ask for.
pub(crate) const MAX_BYTES: u64 = 64 << 20;

/// The most PCM an IT module's sample headers may declare. `xmrs` makes each IT sample as long
/// as its header says before decoding it, whatever the file holds (a compressed sample of a few
/// bytes can claim 4 GiB), so the lengths are checked first. Real modules declare megabytes.
pub(crate) const MAX_SAMPLE_BYTES: u64 = 512 << 20;

/// The end-of-song fade: 100 ms (libopenmpt's `FADESONGDELAY`).
const FADE: u64 = RATE as u64 / 10;

/// Frames per packet.
const PACKET: usize = 4096;

/// The tracker formats read, by what their header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Mod,
    Xm,
    S3m,
    It,
}

impl Kind {
    /// The format whose signature starts `body` (the first kilobytes of the file): IT's
    /// `IMPM`, XM's `Extended Module: `, S3M's `SCRM` at byte 44, or one of the 4-to-8-channel
    /// ProTracker tags at byte 1080 (a 15-instrument Soundtracker file has no signature and is
    /// not taken).
    pub fn sniff(body: &[u8]) -> Option<Self> {
        let at = |offset: usize, tag: &[u8]| body.get(offset..offset + tag.len()) == Some(tag);
        if at(0, b"IMPM") {
            Some(Self::It)
        } else if at(0, b"Extended Module: ") {
            Some(Self::Xm)
        } else if at(44, b"SCRM") {
            Some(Self::S3m)
        } else if [
            b"M.K.", b"M!K!", b"FLT4", b"FLT8", b"4CHN", b"6CHN", b"8CHN",
        ]
        .iter()
        .any(|tag| at(1080, *tag))
        {
            Some(Self::Mod)
        } else {
            None
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Mod => "ProTracker module (MOD)",
            Self::Xm => "FastTracker II module (XM)",
            Self::S3m => "Scream Tracker 3 module (S3M)",
            Self::It => "Impulse Tracker module (IT)",
        }
    }

    fn load(self, bytes: &[u8]) -> Result<Module, xmrs::tracker::import::bin_reader::ImportError> {
        match self {
            Self::Mod => Module::load_mod(bytes),
            Self::Xm => Module::load_xm(bytes),
            Self::S3m => Module::load_s3m(bytes),
            Self::It => Module::load_it(bytes),
        }
    }
}

self_cell::self_cell!(
    /// A loaded module and the player that borrows it.
    struct Song {
        owner: Module,
        #[not_covariant]
        dependent: XmrsPlayer,
    }
);

/// Where the rendering is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Playing the song.
    Song,
    /// Fading out what still sounds after the song's end: frames of the fade done.
    Fade(u64),
    Done,
}

/// A tracker module, rendered a packet at a time.
pub(crate) struct Reader {
    /// The source, kept to hand back when the engine reads the file a second time.
    stream: MediaSourceStream<'static>,
    /// In a mutex only because a format reader must be `Sync` and the player is not; reached
    /// through `get_mut`, never locked.
    song: std::sync::Mutex<Song>,
    stage: Stage,
    tracks: Vec<Track>,
    media_info: MediaInfo,
    metadata: MetadataLog,
    info: FormatInfo,
    /// The next packet's timestamp, in frames.
    ts: u64,
    /// Where rendering stops whatever the player says: a guard against a song that never ends
    /// (twice the length the module's rows add up to, plus a minute).
    cap: u64,
}

/// Why a module cannot be read.
fn damaged(kind: Kind, why: impl std::fmt::Display) -> TranscodeError {
    TranscodeError::Corrupt {
        at: 0.0,
        detail: format!("it looks like a {} but cannot be read ({why})", kind.name()),
    }
}

impl Reader {
    /// Reads and loads the module that starts `skip` bytes in (past an ID3v2 tag), whose
    /// header `kind` was sniffed from.
    pub fn open(
        source: Box<dyn MediaSource>,
        skip: u64,
        kind: Kind,
    ) -> Result<Self, TranscodeError> {
        let mut stream = MediaSourceStream::new(source, Default::default());
        stream.seek(SeekFrom::Start(skip))?;
        let mut bytes = Vec::new();
        (&mut stream).take(MAX_BYTES + 1).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > MAX_BYTES {
            return Err(damaged(
                kind,
                format_args!("it is larger than {} MiB", MAX_BYTES >> 20),
            ));
        }
        stream.seek(SeekFrom::Start(0))?;
        if kind == Kind::It {
            let declared = it_sample_bytes(&bytes);
            if declared > MAX_SAMPLE_BYTES {
                return Err(damaged(
                    kind,
                    format_args!(
                        "its samples claim {} MiB, more than the {} MiB a module may hold",
                        declared >> 20,
                        MAX_SAMPLE_BYTES >> 20
                    ),
                ));
            }
        }
        let mut module = kind.load(&bytes).map_err(|e| damaged(kind, e))?;
        drop(bytes);
        if kind == Kind::Mod {
            tune_to_pal(&mut module);
        }
        let title = module.name.trim().to_owned();
        let song = Song::new(module, |module| {
            let mut player = XmrsPlayer::new(module, RATE, 0);
            // Once through: the first jump back to a row already played ends the song.
            player.set_max_loop_count(1);
            player
        });
        // The length the rows add up to at their tempo (the player's own estimate, exact but for
        // tempo slides within a row): for the duration limit, progress and chapters.
        let seconds = song.with_dependent(|_, player| player.duration_seconds());
        let frames = (seconds.max(0.0) * f64::from(RATE)).round() as u64 + FADE;
        let mut params = AudioCodecParameters::new();
        params
            .for_codec(CODEC_ID_MODULE)
            .with_sample_rate(RATE)
            .with_channels(Channels::Positioned(
                Position::FRONT_LEFT | Position::FRONT_RIGHT,
            ));
        let mut track = Track::new(0);
        track
            .with_codec_params(CodecParameters::Audio(params))
            .with_num_frames(frames);
        if let Some(time_base) = TimeBase::try_new(1, RATE) {
            track.with_time_base(time_base);
        }
        let mut metadata = MetadataLog::default();
        if !title.is_empty() {
            let mut builder = MetadataBuilder::new(METADATA_INFO);
            builder.add_tag(Tag::new_from_parts(
                "title",
                title.clone(),
                Some(StandardTag::TrackTitle(title.into())),
            ));
            metadata.push(builder.build());
        }
        Ok(Self {
            stream,
            song: std::sync::Mutex::new(song),
            stage: Stage::Song,
            media_info: MediaInfo::from_track(&track),
            tracks: vec![track],
            metadata,
            info: FormatInfo {
                format: FormatId::new(FourCc::new(*b"MOD ")),
                short_name: "module",
                long_name: kind.name(),
            },
            ts: 0,
            cap: frames.saturating_mul(2) + 60 * u64::from(RATE),
        })
    }

    /// Up to one packet's frames, interleaved left and right.
    fn render(&mut self) -> Vec<f32> {
        let mut pcm = Vec::with_capacity(PACKET * 2);
        let left = (self.cap.saturating_sub(self.ts) as usize).min(PACKET);
        let stage = &mut self.stage;
        let song = self
            .song
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        song.with_dependent_mut(|_, player| {
            let push = |pcm: &mut Vec<f32>, (l, r): (i16, i16), gain: f32| {
                pcm.push(f32::from(l) / 32768.0 * gain);
                pcm.push(f32::from(r) / 32768.0 * gain);
            };
            while pcm.len() < left * 2 {
                match *stage {
                    Stage::Song => match player.sample(true) {
                        Some(frame) => push(&mut pcm, frame, 1.0),
                        None => *stage = Stage::Fade(0),
                    },
                    // A linear ramp from full to silent over the fade, as libopenmpt's.
                    Stage::Fade(done) if done < FADE => {
                        push(
                            &mut pcm,
                            player.ring_out_sample(),
                            1.0 - done as f32 / FADE as f32,
                        );
                        *stage = Stage::Fade(done + 1);
                    }
                    Stage::Fade(_) | Stage::Done => {
                        *stage = Stage::Done;
                        break;
                    }
                }
            }
        });
        pcm
    }
}

/// How many bytes of PCM the sample headers of an IT file declare: each sample's length in
/// frames, times 2 if 16-bit, times 2 if stereo. The header gives the counts at 0x20 (orders,
/// instruments, samples); the sample headers' offsets follow the orders and the instruments'
/// offsets from 0xC0; in each sample header, the flags are at 0x12 and the length at 0x30.
fn it_sample_bytes(bytes: &[u8]) -> u64 {
    let u16_at = |at: usize| {
        bytes
            .get(at..at + 2)
            .map_or(0, |b| usize::from(u16::from_le_bytes([b[0], b[1]])))
    };
    let u32_at = |at: usize| {
        bytes
            .get(at..at + 4)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let (orders, instruments, samples) = (u16_at(0x20), u16_at(0x22), u16_at(0x24));
    let table = 0xC0 + orders + 4 * instruments;
    (0..samples)
        .map(|i| {
            let at = u32_at(table + 4 * i) as usize;
            let flags = bytes.get(at + 0x12).copied().unwrap_or(0);
            let width = if flags & 2 != 0 { 2 } else { 1 };
            let channels = if flags & 4 != 0 { 2 } else { 1 };
            u64::from(u32_at(at + 0x30)) * width * channels
        })
        .sum()
}

/// How much higher, in semitones, FastTracker II's scale (period 428 at 8363 Hz) is than
/// ProTracker's on a PAL Amiga (period 428 at 7,093,789.2 / 856 = 8287.1 Hz): 12 × log2(8363 /
/// 8287.1).
const FT2_OVER_PAL: f32 = 0.157_77;

/// Tunes every sample of a MOD down from FastTracker II's scale to a PAL Amiga's, through its
/// finetune (a fraction of a semitone either way), borrowing a semitone from its transpose
/// where the finetune would leave its range.
fn tune_to_pal(module: &mut Module) {
    use xmrs::core::fixed::units::Finetune;
    use xmrs::prelude::InstrumentType;
    for instrument in &mut module.instrument {
        if let InstrumentType::Default(default) = &mut instrument.instr_type {
            for sample in default.sample.iter_mut().flatten() {
                let mut fine = sample.finetune.to_f32() - FT2_OVER_PAL;
                if fine < -1.0 {
                    fine += 1.0;
                    sample.relative_pitch = sample.relative_pitch.saturating_sub(1);
                }
                sample.finetune = Finetune::from_f32(fine);
            }
        }
    }
}

/// The module's own title, as a tag.
const METADATA_INFO: MetadataInfo = MetadataInfo {
    metadata: MetadataId::new(FourCc::new(*b"MOD ")),
    short_name: "module",
    long_name: "Tracker module title",
};

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
        let pcm = self.render();
        if pcm.is_empty() {
            return Ok(None);
        }
        let frames = (pcm.len() / 2) as u64;
        let ts = self.ts;
        self.ts += frames;
        Ok(Some(Packet::new(
            0,
            Timestamp::new(i64::try_from(ts).unwrap_or(i64::MAX)),
            Duration::new(frames),
            pcm.iter()
                .flat_map(|s| s.to_le_bytes())
                .collect::<Vec<u8>>(),
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
    fn the_four_formats_are_told_by_their_signatures() {
        let mut module = vec![0u8; 1084];
        assert_eq!(Kind::sniff(&module), None);
        module[1080..].copy_from_slice(b"M.K.");
        assert_eq!(Kind::sniff(&module), Some(Kind::Mod));
        module[44..48].copy_from_slice(b"SCRM");
        assert_eq!(Kind::sniff(&module), Some(Kind::S3m));
        assert_eq!(Kind::sniff(b"Extended Module: tune"), Some(Kind::Xm));
        assert_eq!(Kind::sniff(b"IMPMtune"), Some(Kind::It));
        assert_eq!(Kind::sniff(b"IMP"), None);
    }

    #[test]
    fn an_it_module_whose_samples_claim_more_than_the_limit_is_refused_before_loading() {
        // One 16-bit stereo compressed sample of 2^32 - 1 frames (16 GiB of PCM) in a file of
        // 400 bytes: xmrs would allocate all of it.
        let mut bytes = vec![0u8; 400];
        bytes[..4].copy_from_slice(b"IMPM");
        bytes[0x24] = 1; // one sample, no orders, no instruments
        bytes[0xC0..0xC4].copy_from_slice(&0xD0u32.to_le_bytes());
        bytes[0xD0..0xD4].copy_from_slice(b"IMPS");
        bytes[0xD0 + 0x12] = 1 | 2 | 4 | 8;
        bytes[0xD0 + 0x30..0xD0 + 0x34].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(it_sample_bytes(&bytes), u64::from(u32::MAX) * 4);
        let err = Reader::open(Box::new(std::io::Cursor::new(bytes.clone())), 0, Kind::It)
            .err()
            .map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(|e| e.contains("16383 MiB")),
            "{err:?}"
        );
        // The same sample at 1,000 frames is let through to the loader.
        bytes[0xD0 + 0x30..0xD0 + 0x34].copy_from_slice(&1000u32.to_le_bytes());
        assert_eq!(it_sample_bytes(&bytes), 4000);
    }

    #[test]
    fn a_module_that_cannot_be_loaded_is_refused_as_damaged_and_named() {
        let mut bytes = b"Extended Module: ".to_vec();
        bytes.resize(100, 0);
        let err = Reader::open(Box::new(std::io::Cursor::new(bytes)), 0, Kind::Xm)
            .err()
            .map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("FastTracker II module (XM)")),
            "{err:?}"
        );
    }
}
