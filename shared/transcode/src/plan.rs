//! Where an MP4's audio lives: the byte ranges of the first sound track's samples, read from the
//! sample tables (`stsz`, `stsc`, `stco`/`co64`) or, in a fragmented file, from each `moof`'s
//! `tfhd`/`trun`. A reader over remote storage fetches these ranges (and what else the demuxer
//! asks for) instead of the whole file: in a phone's video most bytes are video.
//!
//! Only a fetch plan: a wrong or missing plan costs bytes, never correctness, because every read
//! the demuxer makes is still served. Anything malformed gives `None`.

use crate::mp4::{BoxHeader, Movie, be_u32, be_u64, read_body, read_header, walk_samples};
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;

/// Sample tables larger than this are not read (a 4-hour 48 kHz AAC track's `stsz` is 2.7 MB).
const MAX_TABLE: u64 = 32 << 20;
/// Fragments walked at most (a 4-hour file cut every second has 14,400).
const MAX_FRAGMENTS: usize = 200_000;

/// What the plan covers.
#[derive(Debug, Clone, PartialEq)]
pub struct Mp4Plan {
    /// Sorted, disjoint byte ranges the demuxer will read for the audio track: its samples and,
    /// in a fragmented file, each `moof` and the header of every top-level box.
    pub ranges: Vec<Range<u64>>,
    /// Sorted, disjoint byte ranges of the other tracks' samples (the video). The demuxer reads
    /// them too, since it hands out every track's packets, but the converter drops those
    /// packets unread: their bytes do not matter, and a reader may serve anything for them.
    pub unused: Vec<Range<u64>>,
    /// Whether the file is fragmented.
    pub fragmented: bool,
    /// The audio track's length in seconds as its sample table says (before any edit list);
    /// `None` where the table has none (a fragmented file's samples are in its fragments).
    pub audio_seconds: Option<f64>,
    /// The `moov` as read for the plan: give it to the engine ([`crate::Options::mp4_index`])
    /// so it does not walk the `moov` again.
    pub index: Mp4Index,
}

/// An MP4's `moov` as the engine needs it (tracks, kinds, edits, sample tables), read once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mp4Index(pub(crate) std::sync::Arc<Movie>);

impl Mp4Plan {
    /// Bytes covered by the ranges.
    pub fn bytes(&self) -> u64 {
        self.ranges.iter().map(|r| r.end - r.start).sum()
    }
}

/// The fetch plan for an MP4/MOV/3GP source, or `None` if it is not one or cannot be read.
/// Leaves the reader at an unspecified position.
pub fn mp4_audio_plan<R: Read + Seek>(r: &mut R) -> Option<Mp4Plan> {
    mp4_audio_plan_for(r, None)
}

/// The fetch plan for the audio track `track` asks for (the one the file marks as default when
/// `None`); `None` when there is no such track (the whole file is then read, and the engine
/// says which tracks there are).
pub fn mp4_audio_plan_for<R: Read + Seek>(
    r: &mut R,
    track: Option<&crate::TrackChoice>,
) -> Option<Mp4Plan> {
    let len = r.seek(SeekFrom::End(0)).ok()?;
    // Not even a box walk unless the file starts like an MP4: on anything else it would read a
    // header at every offset a stray size field points to.
    let mut head = [0u8; 8];
    r.seek(SeekFrom::Start(0)).ok()?;
    r.read_exact(&mut head).ok()?;
    if !crate::probe::looks_like_mp4(&head) {
        return None;
    }
    let movie = Movie::read(r)?;
    let track_id = match track {
        None => movie.audio_track()?,
        Some(choice) => movie.chosen_audio_track(choice)?,
    };
    let mut ranges = Vec::new();
    let mut others = Vec::new();
    for track in &movie.tracks {
        let Some(stbl) = &track.stbl else { continue };
        let found = sample_ranges(r, stbl).unwrap_or_default();
        if track.id == track_id {
            ranges.extend(found);
        } else {
            others.extend(found);
        }
    }
    let fragmented = movie.mvex.is_some();
    let audio_seconds = movie
        .tracks
        .iter()
        .find(|t| t.id == track_id)
        .and_then(|t| {
            let ticks: u64 = t
                .durations
                .as_ref()?
                .iter()
                .map(|&(count, each)| u64::from(count) * u64::from(each))
                .sum();
            let scale = t.media_timescale.filter(|&s| s > 0)?;
            (ticks > 0).then(|| ticks as f64 / f64::from(scale))
        });
    if let Some(mvex) = &movie.mvex {
        let defaults = trex_default_sizes(r, mvex);
        fragment_ranges(
            r,
            len,
            movie.moov_end,
            track_id,
            &defaults,
            &mut ranges,
            &mut others,
        );
    } else if ranges.is_empty() {
        return None;
    }
    let ranges = merge(ranges);
    let unused = subtract(merge(others), &ranges);
    Some(Mp4Plan {
        ranges,
        unused,
        fragmented,
        audio_seconds,
        index: Mp4Index(std::sync::Arc::new(movie)),
    })
}

/// `ranges` without any byte of `keep` (both sorted and disjoint).
fn subtract(ranges: Vec<Range<u64>>, keep: &[Range<u64>]) -> Vec<Range<u64>> {
    let mut out = Vec::with_capacity(ranges.len());
    let mut k = 0;
    for r in ranges {
        let mut start = r.start;
        while k < keep.len() && keep[k].end <= start {
            k += 1;
        }
        let mut j = k;
        while start < r.end {
            match keep.get(j) {
                Some(cut) if cut.start < r.end => {
                    if cut.start > start {
                        out.push(start..cut.start);
                    }
                    start = start.max(cut.end);
                    j += 1;
                }
                _ => {
                    out.push(start..r.end);
                    break;
                }
            }
        }
    }
    out
}

/// One range per chunk of the track (`stco`/`co64` offsets, `stsc` samples per chunk, `stsz`
/// sizes).
fn sample_ranges<R: Read + Seek>(r: &mut R, stbl: &[BoxHeader]) -> Option<Vec<Range<u64>>> {
    let mut ranges: Vec<Range<u64>> = Vec::new();
    let mut last_chunk = None;
    walk_samples(r, stbl, MAX_TABLE, |chunk, offset, size| {
        match ranges.last_mut() {
            Some(range) if last_chunk == Some(chunk) => range.end = offset.saturating_add(size),
            _ if size > 0 => {
                ranges.push(offset..offset.saturating_add(size));
                last_chunk = Some(chunk);
            }
            _ => {}
        }
        true
    })?;
    Some(ranges)
}

/// Each track's default sample size from its `trex`.
fn trex_default_sizes<R: Read + Seek>(r: &mut R, mvex: &[BoxHeader]) -> Vec<(u32, u32)> {
    mvex.iter()
        .filter(|b| &b.kind == b"trex")
        .filter_map(|b| read_body(r, b, 64))
        .filter_map(|body| Some((be_u32(&body, 4)?, be_u32(&body, 16)?)))
        .collect()
}

/// Walks the top-level boxes after the `moov`: each `moof`, and the runs of each track in it.
fn fragment_ranges<R: Read + Seek>(
    r: &mut R,
    len: u64,
    from: u64,
    track_id: u32,
    defaults: &[(u32, u32)],
    out: &mut Vec<Range<u64>>,
    others: &mut Vec<Range<u64>>,
) {
    let mut at = from;
    let mut fragments = 0;
    while let Some(header) = read_header(r, at, len) {
        if header.end <= at || fragments >= MAX_FRAGMENTS {
            break;
        }
        // The demuxer reads every top-level box header on its way from fragment to fragment.
        out.push(at..header.body);
        if &header.kind == b"moof" {
            fragments += 1;
            out.push(at..header.end);
            if let Some(moof) = read_body(r, &header, 4 << 20) {
                traf_ranges(&moof, at, track_id, defaults, out, others);
            }
        }
        at = header.end;
    }
}

/// Box headers inside an in-memory body.
fn boxes_in(body: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        let size = be_u32(body, at)? as usize;
        let kind: [u8; 4] = body.get(at + 4..at + 8)?.try_into().ok()?;
        let inner = body.get(at + 8..at.checked_add(size)?)?;
        if size < 8 {
            return None;
        }
        at += size;
        Some((kind, inner))
    })
}

/// The ranges of each track's samples in one `moof` starting at `moof_start`: `track_id`'s
/// into `out`, the others' into `others`.
fn traf_ranges(
    moof: &[u8],
    moof_start: u64,
    track_id: u32,
    defaults: &[(u32, u32)],
    out: &mut Vec<Range<u64>>,
    others: &mut Vec<Range<u64>>,
) {
    for (kind, traf) in boxes_in(moof) {
        if &kind != b"traf" {
            continue;
        }
        let Some((_, tfhd)) = boxes_in(traf).find(|(k, _)| k == b"tfhd") else {
            continue;
        };
        let Some(flags) = be_u32(tfhd, 0).map(|v| v & 0x00ff_ffff) else {
            continue;
        };
        let Some(this_track) = be_u32(tfhd, 4) else {
            continue;
        };
        let default_size = defaults
            .iter()
            .find(|(id, _)| *id == this_track)
            .map_or(0, |(_, size)| *size);
        let mut at = 8;
        let mut base = moof_start;
        if flags & 0x01 != 0 {
            let Some(offset) = be_u64(tfhd, at) else {
                continue;
            };
            base = offset;
            at += 8;
        }
        for (bit, width) in [(0x02, 4), (0x08, 4)] {
            if flags & bit != 0 {
                at += width;
            }
        }
        let mut track_default = default_size;
        if flags & 0x10 != 0 {
            track_default = be_u32(tfhd, at).unwrap_or(default_size);
        }
        let mut next = base;
        for (_, trun) in boxes_in(traf).filter(|(k, _)| k == b"trun") {
            let Some(run) = trun_range(trun, base, next, track_default) else {
                continue;
            };
            next = run.end;
            if run.end > run.start {
                if this_track == track_id {
                    out.push(run);
                } else {
                    others.push(run);
                }
            }
        }
    }
}

/// The bytes of one `trun`: from `base` + its data offset (or `next` without one), summed sizes.
fn trun_range(trun: &[u8], base: u64, next: u64, default_size: u32) -> Option<Range<u64>> {
    let flags = be_u32(trun, 0)? & 0x00ff_ffff;
    let count = be_u32(trun, 4)? as usize;
    let mut at = 8;
    let start = if flags & 0x01 != 0 {
        let offset = i64::from(be_u32(trun, at)? as i32);
        at += 4;
        base.checked_add_signed(offset)?
    } else {
        next
    };
    if flags & 0x04 != 0 {
        at += 4;
    }
    let fields = [0x100, 0x200, 0x400, 0x800];
    let stride = fields.iter().filter(|f| flags & **f != 0).count() * 4;
    let size_at = if flags & 0x100 != 0 { 4 } else { 0 };
    let mut bytes = 0u64;
    for i in 0..count {
        bytes += if flags & 0x200 != 0 {
            u64::from(be_u32(trun, at + i * stride + size_at)?)
        } else {
            u64::from(default_size)
        };
    }
    Some(start..start.checked_add(bytes)?)
}

/// Sorts and joins ranges that overlap or touch.
fn merge(mut ranges: Vec<Range<u64>>) -> Vec<Range<u64>> {
    ranges.sort_by_key(|r| r.start);
    let mut out: Vec<Range<u64>> = Vec::with_capacity(ranges.len());
    for range in ranges {
        match out.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => out.push(range),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_joins_touching_and_overlapping_ranges() {
        assert_eq!(merge(vec![10..20, 0..5, 5..8, 15..30]), vec![0..8, 10..30]);
    }

    #[test]
    fn subtract_cuts_the_kept_bytes_out() {
        assert_eq!(
            subtract(vec![0..10, 20..30, 40..50], &[5..8, 25..45]),
            vec![0..5, 8..10, 20..25, 45..50]
        );
        let whole = vec![Range { start: 0, end: 10 }];
        assert_eq!(subtract(whole.clone(), &[]), whole);
        let inside = vec![Range { start: 3, end: 4 }];
        assert_eq!(subtract(inside, &whole), Vec::<Range<u64>>::new());
    }

    #[test]
    fn trun_sizes_come_from_the_entries_or_the_default() {
        // flags: data offset + sample size; 2 samples of 100 and 50 bytes; offset 16.
        let mut trun = vec![0, 0, 0x02, 0x01, 0, 0, 0, 2, 0, 0, 0, 16];
        trun.extend(100u32.to_be_bytes());
        trun.extend(50u32.to_be_bytes());
        assert_eq!(trun_range(&trun, 1000, 0, 7), Some(1016..1166));
        // No sizes: 3 samples of the default 7 bytes, following the previous run.
        let trun = [0, 0, 0, 0, 0, 0, 0, 3];
        assert_eq!(trun_range(&trun, 1000, 1166, 7), Some(1166..1187));
    }
}
