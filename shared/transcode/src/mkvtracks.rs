//! Which audio track of a Matroska/WebM file is the default one: the first audio `TrackEntry`
//! whose `FlagDefault` is 1 or absent (its schema default is 1). symphonia reads the flag only
//! when it is written, and muxers such as ffmpeg write it only when it is 0, so through symphonia
//! the default track looks like any other and the first one would be taken.
//!
//! Reads the EBML element headers from the start up to the first `Cluster`; anything malformed
//! gives `None` (then the first audio track is taken).

use std::io::{Read, Seek, SeekFrom};

const EBML: u32 = 0x1A45_DFA3;
const SEGMENT: u32 = 0x1853_8067;
const TRACKS: u32 = 0x1654_AE6B;
const TRACK_ENTRY: u32 = 0xAE;
const TRACK_NUMBER: u32 = 0xD7;
const TRACK_TYPE: u32 = 0x83;
const FLAG_DEFAULT: u32 = 0x88;
const FLAG_ENABLED: u32 = 0xB9;
const CLUSTER: u32 = 0x1F43_B675;
/// `TrackType` of an audio track.
const AUDIO: u64 = 2;
/// Elements looked at, at most.
const MAX_ELEMENTS: usize = 4096;

/// An element: its id, where its body starts and where it ends (`None`: unknown size).
struct Element {
    id: u32,
    body: u64,
    end: Option<u64>,
}

fn read_byte<R: Read>(r: &mut R) -> Option<u8> {
    let mut b = [0u8; 1];
    r.read_exact(&mut b).ok()?;
    Some(b[0])
}

/// A variable-length integer; `keep_marker` for element ids. Returns (value, all bits set).
fn vint<R: Read>(r: &mut R, keep_marker: bool) -> Option<(u64, bool)> {
    let first = read_byte(r)?;
    let len = first.leading_zeros() as usize + 1;
    if len > 8 {
        return None;
    }
    let marker = 0x80u8 >> (len - 1);
    let mut value = u64::from(if keep_marker { first } else { first & !marker });
    let low = marker - 1;
    let mut all_ones = first & low == low;
    for _ in 1..len {
        let b = read_byte(r)?;
        all_ones &= b == 0xFF;
        value = (value << 8) | u64::from(b);
    }
    Some((value, all_ones && !keep_marker))
}

fn element<R: Read + Seek>(r: &mut R, at: u64) -> Option<Element> {
    r.seek(SeekFrom::Start(at)).ok()?;
    let (id, _) = vint(r, true)?;
    let (size, unknown) = vint(r, false)?;
    let body = r.stream_position().ok()?;
    Some(Element {
        id: u32::try_from(id).ok()?,
        body,
        end: if unknown {
            None
        } else {
            body.checked_add(size)
        },
    })
}

fn read_uint<R: Read + Seek>(r: &mut R, e: &Element) -> Option<u64> {
    let len = e.end? - e.body;
    if len > 8 {
        return None;
    }
    r.seek(SeekFrom::Start(e.body)).ok()?;
    let mut value = 0u64;
    for _ in 0..len {
        value = (value << 8) | u64::from(read_byte(r)?);
    }
    Some(value)
}

/// The track number (symphonia's track id) of the default audio track, if the file is a
/// Matroska/WebM file that says which one it is.
pub(crate) fn default_audio_track<R: Read + Seek>(r: &mut R) -> Option<u32> {
    let len = r.seek(SeekFrom::End(0)).ok()?;
    let header = element(r, 0)?;
    if header.id != EBML {
        return None;
    }
    let segment = element(r, header.end?)?;
    if segment.id != SEGMENT {
        return None;
    }
    let segment_end = segment.end.unwrap_or(len).min(len);
    let mut budget = MAX_ELEMENTS;
    let mut at = segment.body;
    let tracks = loop {
        let e = element(r, at)?;
        budget = budget.checked_sub(1)?;
        match e.id {
            TRACKS => break e,
            CLUSTER => return None,
            _ => at = e.end.filter(|end| *end > at && *end <= segment_end)?,
        }
    };
    let tracks_end = tracks.end?.min(segment_end);
    let mut candidates = Vec::new();
    let mut at = tracks.body;
    while at < tracks_end {
        let entry = element(r, at)?;
        budget = budget.checked_sub(1)?;
        let entry_end = entry.end.filter(|end| *end > at && *end <= tracks_end)?;
        if entry.id == TRACK_ENTRY {
            let (mut number, mut kind, mut default, mut enabled) = (None, None, 1, 1);
            let mut inner = entry.body;
            while inner < entry_end {
                let e = element(r, inner)?;
                budget = budget.checked_sub(1)?;
                match e.id {
                    TRACK_NUMBER => number = read_uint(r, &e),
                    TRACK_TYPE => kind = read_uint(r, &e),
                    FLAG_DEFAULT => default = read_uint(r, &e).unwrap_or(1),
                    FLAG_ENABLED => enabled = read_uint(r, &e).unwrap_or(1),
                    _ => {}
                }
                inner = e.end.filter(|end| *end > inner && *end <= entry_end)?;
            }
            if kind == Some(AUDIO) && enabled != 0 {
                candidates.push((number.and_then(|n| u32::try_from(n).ok())?, default != 0));
            }
        }
        at = entry_end;
    }
    candidates
        .iter()
        .find(|(_, default)| *default)
        .or(candidates.first())
        .map(|(number, _)| *number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn el(id: &[u8], body: &[u8]) -> Vec<u8> {
        let mut v = id.to_vec();
        v.push(0x80 | body.len() as u8);
        v.extend_from_slice(body);
        v
    }

    fn track(number: u8, kind: u8, default: Option<u8>) -> Vec<u8> {
        let mut body = el(&[0xD7], &[number]);
        body.extend(el(&[0x83], &[kind]));
        if let Some(d) = default {
            body.extend(el(&[0x88], &[d]));
        }
        el(&[0xAE], &body)
    }

    fn file(tracks: &[Vec<u8>]) -> Vec<u8> {
        let mut f = el(&[0x1A, 0x45, 0xDF, 0xA3], &el(&[0x42, 0x82], b"webm"));
        let mut segment = el(&[0x15, 0x49, 0xA9, 0x66], &[0; 4]);
        segment.extend(el(&[0x16, 0x54, 0xAE, 0x6B], &tracks.concat()));
        segment.extend(el(&[0x1F, 0x43, 0xB6, 0x75], &[0; 8]));
        f.extend(el(&[0x18, 0x53, 0x80, 0x67], &segment));
        f
    }

    #[test]
    fn an_absent_flag_default_means_default() {
        // Video 1, audio 2 marked not default, audio 3 with no flag: 3 is the default.
        let f = file(&[track(1, 1, None), track(2, 2, Some(0)), track(3, 2, None)]);
        assert_eq!(default_audio_track(&mut Cursor::new(f)), Some(3));
    }

    #[test]
    fn without_a_default_the_first_audio_track_is_taken() {
        let f = file(&[track(1, 2, Some(0)), track(2, 2, Some(0))]);
        assert_eq!(default_audio_track(&mut Cursor::new(f)), Some(1));
    }

    #[test]
    fn anything_else_gives_nothing() {
        assert_eq!(
            default_audio_track(&mut Cursor::new(b"RIFF....WAVE".to_vec())),
            None
        );
        assert_eq!(default_audio_track(&mut Cursor::new(Vec::new())), None);
        let mut f = file(&[track(1, 2, None)]);
        f.truncate(30);
        assert_eq!(default_audio_track(&mut Cursor::new(f)), None);
    }
}
