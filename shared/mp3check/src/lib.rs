//! Checks of an MP3 that do not trust the encoder: the first frame header and the Xing/LAME info
//! frame are read byte by byte, and the file is decoded by symphonia's MP3 decoder (not LAME).

// Test support: a failed check panics with what is wrong, as an assertion does.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;

/// What the bytes of an MP3's first frame say.
#[derive(Debug)]
pub struct InfoFrame {
    pub sample_rate: u32,
    pub channels: usize,
    pub samples_per_frame: u64,
    /// Audio frames after the info frame, from the Xing/Info header.
    pub frames: u64,
    pub encoder: String,
    pub delay: u64,
    pub padding: u64,
}

impl InfoFrame {
    /// The duration a gapless player plays.
    pub fn duration(&self) -> f64 {
        (self.frames * self.samples_per_frame - self.delay - self.padding) as f64
            / f64::from(self.sample_rate)
    }
}

pub mod ffmpeg;

/// Parses the first frame after any ID3v2 tag; panics with what is wrong.
pub fn info_frame(mp3: &[u8]) -> InfoFrame {
    let mut at = 0;
    if mp3.starts_with(b"ID3") {
        let size = mp3[6..10]
            .iter()
            .fold(0usize, |acc, b| (acc << 7) | usize::from(b & 0x7f));
        at = 10 + size;
    }
    let h = &mp3[at..at + 4];
    assert!(
        h[0] == 0xff && h[1] & 0xe0 == 0xe0,
        "no frame sync at {at}: {h:02x?}"
    );
    let version = (h[1] >> 3) & 3; // 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5
    assert_eq!((h[1] >> 1) & 3, 1, "not layer III");
    let rates: [u32; 3] = match version {
        3 => [44100, 48000, 32000],
        2 => [22050, 24000, 16000],
        0 => [11025, 12000, 8000],
        _ => panic!("reserved MPEG version"),
    };
    let sample_rate = rates[usize::from((h[2] >> 2) & 3)];
    let channels = if h[3] >> 6 == 3 { 1 } else { 2 };
    let side_info = match (version == 3, channels) {
        (true, 1) => 17,
        (true, _) => 32,
        (false, 1) => 9,
        (false, _) => 17,
    };
    let x = at + 4 + side_info;
    let tag = &mp3[x..x + 4];
    assert!(
        tag == b"Xing" || tag == b"Info",
        "no Xing/Info header: {tag:02x?}"
    );
    let flags = u32::from_be_bytes(mp3[x + 4..x + 8].try_into().unwrap());
    assert_eq!(
        flags & 0xf,
        0xf,
        "the info frame should carry frames, bytes, TOC and quality"
    );
    let frames = u64::from(u32::from_be_bytes(mp3[x + 8..x + 12].try_into().unwrap()));
    let lame = x + 120;
    let encoder = String::from_utf8_lossy(&mp3[lame..lame + 9]).into_owned();
    assert!(encoder.starts_with("LAME"), "no LAME tag: {encoder:?}");
    let d = &mp3[lame + 21..lame + 24];
    let delay = (u64::from(d[0]) << 4) | (u64::from(d[1]) >> 4);
    let padding = (u64::from(d[1] & 0x0f) << 8) | u64::from(d[2]);
    InfoFrame {
        sample_rate,
        channels,
        samples_per_frame: if version == 3 { 1152 } else { 576 },
        frames,
        encoder,
        delay,
        padding,
    }
}

/// What an independent decoder hears in an MP3.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub sample_rate: u32,
    pub channels: usize,
    /// Samples per channel, after the gapless trim of the info frame.
    pub frames: u64,
    /// RMS level of each channel (full scale = 1.0).
    pub rms: Vec<f64>,
    /// Upward crossings per second of each channel (with hysteresis, so low-level noise in
    /// silent stretches does not count): the frequency of a pure tone.
    pub frequency: Vec<f64>,
}

/// Decodes the whole MP3 with symphonia; returns (sample rate, channels, frames per channel).
/// Panics on any decode error.
pub fn decode(mp3: Vec<u8>) -> (u32, usize, u64) {
    let a = analyse(mp3);
    (a.sample_rate, a.channels, a.frames)
}

/// Decodes the whole MP3 with symphonia and measures each channel. Panics on any decode error.
pub fn analyse(mp3: Vec<u8>) -> Analysis {
    let (rate, channels, pcm) = decode_pcm(mp3);
    let frames = (pcm.len() / channels.max(1)) as u64;
    // A crossing counts when a channel goes from below -HYSTERESIS to above +HYSTERESIS.
    const HYSTERESIS: f32 = 0.02;
    let mut energy = vec![0f64; channels];
    let mut crossings = vec![0u64; channels];
    let mut armed = vec![false; channels];
    for frame in pcm.chunks_exact(channels.max(1)) {
        for (c, &x) in frame.iter().enumerate() {
            energy[c] += f64::from(x) * f64::from(x);
            if x < -HYSTERESIS {
                armed[c] = true;
            } else if x > HYSTERESIS && armed[c] {
                armed[c] = false;
                crossings[c] += 1;
            }
        }
    }
    let seconds = frames as f64 / f64::from(rate.max(1));
    Analysis {
        sample_rate: rate,
        channels,
        frames,
        rms: energy
            .iter()
            .map(|e| (e / frames.max(1) as f64).sqrt())
            .collect(),
        frequency: crossings.iter().map(|&n| n as f64 / seconds).collect(),
    }
}

/// The RMS of the difference of two decoded signals in dB relative to full scale.
pub fn difference_dbfs(a: &[f32], b: &[f32]) -> f64 {
    assert_eq!(a.len(), b.len(), "the signals differ in length");
    let energy: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from(x - y) * f64::from(x - y))
        .sum();
    10.0 * (energy / a.len().max(1) as f64).max(1e-20).log10()
}

/// Decodes the whole MP3 with symphonia: (rate, channels, interleaved samples after the gapless
/// trim). Panics on any decode error.
pub fn decode_pcm(mp3: Vec<u8>) -> (u32, usize, Vec<f32>) {
    let stream = MediaSourceStream::new(Box::new(std::io::Cursor::new(mp3)), Default::default());
    let mut hint = Hint::new();
    hint.with_extension("mp3");
    let mut format = symphonia::default::get_probe()
        .probe(&hint, stream, FormatOptions::default(), Default::default())
        .expect("symphonia recognises the MP3");
    let track = format
        .default_track(TrackType::Audio)
        .expect("an audio track");
    let id = track.id;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .expect("audio params")
        .clone();
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &AudioDecoderOptions::default())
        .expect("an MP3 decoder");
    let (mut rate, mut channels) = (0, 0);
    let mut out: Vec<f32> = Vec::new();
    let mut pcm: Vec<f32> = Vec::new();
    while let Some(packet) = format.next_packet().expect("reading MP3 packets") {
        if packet.track_id != id {
            continue;
        }
        let buffer = decoder.decode(&packet).expect("every MP3 frame decodes");
        rate = buffer.spec().rate();
        channels = buffer.spec().channels().count();
        buffer.copy_to_vec_interleaved::<f32>(&mut pcm);
        out.extend_from_slice(&pcm);
    }
    (rate, channels, out)
}

/// The text frames of an ID3v2.4 tag at the start of `mp3`, read byte by byte: (frame id, text).
/// Panics if the tag is not ID3v2.4 or a frame overruns it.
pub fn id3v24_text_frames(mp3: &[u8]) -> Vec<(String, String)> {
    text_frames(&id3v24_frames(mp3))
}

fn syncsafe(b: &[u8]) -> usize {
    b.iter()
        .fold(0usize, |acc, x| (acc << 7) | usize::from(x & 0x7f))
}

/// Every frame of the ID3v2.4 tag at the start of `mp3`, read byte by byte: (frame id, body).
/// Panics if the tag is not ID3v2.4 or a frame overruns it.
pub fn id3v24_frames(mp3: &[u8]) -> Vec<(String, Vec<u8>)> {
    assert!(mp3.starts_with(b"ID3"), "no ID3v2 tag at the start");
    assert_eq!(mp3[3], 4, "ID3v2.{} rather than 2.4", mp3[3]);
    let end = 10 + syncsafe(&mp3[6..10]);
    frames_in(&mp3[10..end])
}

/// The frames laid one after another in `bytes` (a tag's body, or a CHAP's sub-frames).
fn frames_in(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut at = 0;
    let mut frames = Vec::new();
    while at + 10 <= bytes.len() && bytes[at] != 0 {
        let id = String::from_utf8_lossy(&bytes[at..at + 4]).into_owned();
        let size = syncsafe(&bytes[at + 4..at + 8]);
        assert!(at + 10 + size <= bytes.len(), "frame {id} overruns the tag");
        frames.push((id, bytes[at + 10..at + 10 + size].to_vec()));
        at += 10 + size;
    }
    frames
}

fn text_frames(frames: &[(String, Vec<u8>)]) -> Vec<(String, String)> {
    frames
        .iter()
        .filter(|(id, body)| id.starts_with('T') && !body.is_empty())
        .map(|(id, body)| {
            // Encoding 3 is UTF-8, 0 is Latin-1 (the same for ASCII); v2.4 text ends with a NUL.
            let text = match body[0] {
                0 | 3 => String::from_utf8_lossy(&body[1..]).into_owned(),
                other => panic!("frame {id} uses text encoding {other}"),
            };
            (id.clone(), text.trim_end_matches('\0').to_owned())
        })
        .collect()
}

/// A string ended by a NUL at `at`: (the string, where the byte after the NUL is).
fn cstr(body: &[u8], at: usize) -> (String, usize) {
    let len = body[at..]
        .iter()
        .position(|&b| b == 0)
        .expect("a string without its NUL");
    (
        String::from_utf8_lossy(&body[at..at + len]).into_owned(),
        at + len + 1,
    )
}

/// An attached picture (APIC), read byte by byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Apic {
    pub mime: String,
    /// 3 is the front cover.
    pub picture_type: u8,
    pub data: Vec<u8>,
}

/// The APIC frames of the tag at the start of `mp3`. Panics on a description that is not
/// Latin-1 or UTF-8 (the encoder writes an empty one).
pub fn id3v24_pictures(mp3: &[u8]) -> Vec<Apic> {
    id3v24_frames(mp3)
        .into_iter()
        .filter(|(id, _)| id == "APIC")
        .map(|(_, body)| {
            assert!(matches!(body[0], 0 | 3), "APIC text encoding {}", body[0]);
            let (mime, at) = cstr(&body, 1);
            let picture_type = body[at];
            let (_description, at) = cstr(&body, at + 1);
            Apic {
                mime,
                picture_type,
                data: body[at..].to_vec(),
            }
        })
        .collect()
}

/// A chapter (CHAP), read byte by byte: its id, start and end in ms, and its title (TIT2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chap {
    pub id: String,
    pub start_ms: u32,
    pub end_ms: u32,
    pub title: Option<String>,
}

/// The CHAP frames of the tag at the start of `mp3`, in the tag's order, and the children of
/// its top-level CTOC (`None` when it has none). Panics on a CTOC that is not top-level and
/// ordered.
pub fn id3v24_chapters(mp3: &[u8]) -> (Vec<Chap>, Option<Vec<String>>) {
    let frames = id3v24_frames(mp3);
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    let chapters = frames
        .iter()
        .filter(|(id, _)| id == "CHAP")
        .map(|(_, body)| {
            let (id, at) = cstr(body, 0);
            let sub = frames_in(&body[at + 16..]);
            Chap {
                id,
                start_ms: be(&body[at..]),
                end_ms: be(&body[at + 4..]),
                title: text_frames(&sub)
                    .into_iter()
                    .find(|(id, _)| id == "TIT2")
                    .map(|(_, t)| t),
            }
        })
        .collect();
    let toc = frames.iter().find(|(id, _)| id == "CTOC").map(|(_, body)| {
        let (_, at) = cstr(body, 0);
        assert_eq!(body[at] & 0x03, 0x03, "CTOC not top-level and ordered");
        let count = usize::from(body[at + 1]);
        let mut children = Vec::new();
        let mut next = at + 2;
        for _ in 0..count {
            let (child, after) = cstr(body, next);
            children.push(child);
            next = after;
        }
        children
    });
    (chapters, toc)
}

/// Offset of the Xing/Info header in `mp3` (after the ID3v2 tag and the frame's side info).
pub fn info_frame_offset(mp3: &[u8]) -> usize {
    let at = id3_len(mp3);
    (at + 4..at + 40)
        .find(|&i| &mp3[i..i + 4] == b"Xing" || &mp3[i..i + 4] == b"Info")
        .expect("a Xing/Info header in the first frame")
}

fn id3_len(mp3: &[u8]) -> usize {
    if mp3.starts_with(b"ID3") {
        10 + mp3[6..10]
            .iter()
            .fold(0usize, |acc, b| (acc << 7) | usize::from(b & 0x7f))
    } else {
        0
    }
}

/// Whether the LAME tag's two CRC-16s (of the info frame's first 190 bytes, and of the music
/// after the info frame) match the bytes.
#[derive(Debug)]
pub struct LameCrcs {
    pub tag_crc_ok: bool,
    pub music_crc_ok: bool,
    pub music_length_ok: bool,
}

pub fn lame_tag_crcs(mp3: &[u8]) -> LameCrcs {
    fn crc16(bytes: &[u8]) -> u16 {
        bytes.iter().fold(0u16, |mut crc, &b| {
            crc ^= u16::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xa001
                } else {
                    crc >> 1
                };
            }
            crc
        })
    }
    let frame = id3_len(mp3);
    let lame = info_frame_offset(mp3) + 120;
    let be16 = |at: usize| u16::from_be_bytes([mp3[at], mp3[at + 1]]);
    let music_len = u32::from_be_bytes(mp3[lame + 28..lame + 32].try_into().unwrap()) as usize;
    // The info frame's own length, from the byte count: what follows it is the music.
    let info_len = {
        let h = &mp3[frame..frame + 4];
        let kbps = [
            0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
        ][usize::from(h[2] >> 4)];
        let rate = [44100, 48000, 32000][usize::from((h[2] >> 2) & 3)];
        144 * kbps * 1000 / rate + usize::from((h[2] >> 1) & 1)
    };
    LameCrcs {
        tag_crc_ok: crc16(&mp3[frame..lame + 34]) == be16(lame + 34),
        music_crc_ok: crc16(&mp3[frame + info_len..]) == be16(lame + 32),
        music_length_ok: music_len == mp3.len() - frame,
    }
}

/// The LAME tag's ReplayGain, read byte by byte: the "Radio" (track) gain in dB and the peak
/// (1.0 is full scale), if the gain field is set.
pub fn lame_replay_gain(mp3: &[u8]) -> Option<(f64, f64)> {
    let lame = info_frame_offset(mp3) + 120;
    assert_eq!(
        &mp3[lame..lame + 4],
        b"LAME",
        "a LAME tag after the Xing header"
    );
    let peak = u32::from_be_bytes(mp3[lame + 11..lame + 15].try_into().unwrap());
    let field = u16::from_be_bytes([mp3[lame + 15], mp3[lame + 16]]);
    // Name code 1 (radio) in the top three bits; 0 means the field is not set.
    if field >> 13 != 1 {
        return None;
    }
    let tenths = f64::from(field & 0x1ff);
    let gain = if field & 0x200 != 0 { -tenths } else { tenths } / 10.0;
    Some((gain, f64::from(peak) / f64::from(1u32 << 23)))
}

/// Asserts that `made` (an MP3 made in parts and joined) is `expected` (the MP3 one process
/// makes) byte for byte, its LAME tag's ReplayGain included, and that the tag has a
/// ReplayGain; where the bytes differ, says where.
pub fn assert_joined_as_one(made: &[u8], expected: &[u8], what: &str) {
    if made != expected {
        let lame = info_frame_offset(expected) + 120;
        let differ: Vec<usize> = (0..made.len().min(expected.len()))
            .filter(|&i| made[i] != expected[i])
            .collect();
        let shown: Vec<String> = differ
            .iter()
            .take(12)
            .map(|&i| match i.checked_sub(lame) {
                Some(11..=18) => format!("{i} (the LAME tag's ReplayGain)"),
                Some(34..=35) => format!("{i} (the LAME tag's CRC)"),
                _ => i.to_string(),
            })
            .collect();
        panic!(
            "{what}: the joined MP3 ({} bytes) is not the one-process MP3 ({} bytes); they differ \
             at {} bytes: {}",
            made.len(),
            expected.len(),
            differ.len(),
            shown.join(", ")
        );
    }
    assert!(
        lame_replay_gain(made).is_some(),
        "{what}: the joined MP3's LAME tag has no ReplayGain"
    );
}
