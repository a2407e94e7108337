//! The one MP4/MOV box reader: box headers and bodies read with seeks (so only headers and a few
//! small boxes are touched), and the `moov` read into a [`Movie`]: each track's id, kind,
//! enabled flag, edit list and sample tables. The engine takes what symphonia misses from it
//! (the edit lists, which symphonia parses but does not apply, so an AAC track would otherwise
//! keep its 1024 or 2112 priming samples and its padding; the default track's mark), and the
//! fetch plan (`plan.rs`) takes the sample tables from the same reader.
//!
//! Best effort by design: anything malformed gives `None`, and the audio is then kept whole.

use std::io::{Read, Seek, SeekFrom};

/// What to keep of one track, in the track's media timescale (for audio, usually the sample rate)
/// and the movie timescale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TrackEdit {
    /// Media time of the first presented sample, in `media_timescale` units.
    pub media_time: u64,
    pub media_timescale: u32,
    /// Presented duration in `movie_timescale` units; `None` when the edit does not say
    /// (fragmented files write 0).
    pub duration: Option<u64>,
    pub movie_timescale: u32,
}

impl TrackEdit {
    /// Samples to drop at the start and, if known, samples to keep, at `rate`.
    pub fn at_rate(&self, rate: u32) -> (u64, Option<u64>) {
        let scale = |v: u64, from: u32| -> u64 {
            if from == 0 {
                return 0;
            }
            ((u128::from(v) * u128::from(rate) + u128::from(from) / 2) / u128::from(from))
                .try_into()
                .unwrap_or(u64::MAX)
        };
        (
            scale(self.media_time, self.media_timescale),
            self.duration.map(|d| scale(d, self.movie_timescale)),
        )
    }
}

/// Nesting and box-count bounds, so a hostile file cannot make this loop for long.
pub(crate) const MAX_BOXES: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BoxHeader {
    pub kind: [u8; 4],
    /// Offset of the body.
    pub body: u64,
    /// End of the box (exclusive).
    pub end: u64,
}

pub(crate) fn read_header<R: Read + Seek>(r: &mut R, at: u64, limit: u64) -> Option<BoxHeader> {
    if at.checked_add(8)? > limit {
        return None;
    }
    r.seek(SeekFrom::Start(at)).ok()?;
    let mut head = [0u8; 8];
    r.read_exact(&mut head).ok()?;
    let size = u64::from(u32::from_be_bytes(head[..4].try_into().ok()?));
    let kind: [u8; 4] = head[4..].try_into().ok()?;
    let (body, end) = match size {
        0 => (at + 8, limit),
        1 => {
            let mut large = [0u8; 8];
            r.read_exact(&mut large).ok()?;
            (at + 16, at.checked_add(u64::from_be_bytes(large))?)
        }
        n => (at + 8, at.checked_add(n)?),
    };
    (end >= body && end <= limit).then_some(BoxHeader { kind, body, end })
}

/// The children of the box spanning `body..end`.
pub(crate) fn children<R: Read + Seek>(
    r: &mut R,
    body: u64,
    end: u64,
    budget: &mut usize,
) -> Vec<BoxHeader> {
    let mut out = Vec::new();
    let mut at = body;
    while let Some(header) = read_header(r, at, end) {
        *budget = budget.saturating_sub(1);
        if *budget == 0 || header.end <= at {
            break;
        }
        at = header.end;
        out.push(header);
    }
    out
}

pub(crate) fn read_body<R: Read + Seek>(r: &mut R, b: &BoxHeader, max: u64) -> Option<Vec<u8>> {
    let len = b.end - b.body;
    if len > max {
        return None;
    }
    r.seek(SeekFrom::Start(b.body)).ok()?;
    let mut buf = vec![0u8; usize::try_from(len).ok()?];
    r.read_exact(&mut buf).ok()?;
    Some(buf)
}

pub(crate) fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

pub(crate) fn be_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// The timescale of an `mvhd` or `mdhd` body (both put it at the same place).
fn timescale(body: &[u8]) -> Option<u32> {
    match body.first()? {
        0 => be_u32(body, 12),
        1 => be_u32(body, 20),
        _ => None,
    }
}

/// The first edit that presents media: (media_time, summed duration of the media edits).
fn parse_elst(body: &[u8]) -> Option<(u64, u64)> {
    let version = *body.first()?;
    let count = be_u32(body, 4)? as usize;
    let entry = if version == 1 { 20 } else { 12 };
    let mut first: Option<u64> = None;
    let mut total = 0u64;
    for i in 0..count.min(1024) {
        let at = 8 + i * entry;
        let (duration, media_time) = if version == 1 {
            (be_u64(body, at)?, be_u64(body, at + 8)? as i64)
        } else {
            (
                u64::from(be_u32(body, at)?),
                i64::from(be_u32(body, at + 4)? as i32),
            )
        };
        if media_time < 0 {
            // An empty edit (a pause before the track starts): nothing to drop.
            continue;
        }
        first.get_or_insert(media_time as u64);
        total = total.saturating_add(duration);
    }
    first.map(|t| (t, total))
}

/// How many top-level boxes [`truncated`] looks at.
pub(crate) const TRUNCATION_BOXES: usize = 16;

/// For an MP4 whose top-level boxes run past the end of the file (an upload or a recording cut
/// short): the file's length and where its boxes say it ends. The reader is rewound. Only the
/// first [`TRUNCATION_BOXES`] boxes are looked at (each is a read, and over S3 a request): enough
/// for the usual `ftyp`, `moov`, `mdat` (either order), not for every fragment of a fragmented
/// file, whose cut-short end the demuxer meets as the end of the stream.
pub(crate) fn truncated<R: Read + Seek>(r: &mut R) -> Option<(u64, u64)> {
    let len = r.seek(SeekFrom::End(0)).ok()?;
    let mut head = [0u8; 8];
    r.seek(SeekFrom::Start(0)).ok()?;
    let found = (|| {
        r.read_exact(&mut head).ok()?;
        if !crate::probe::looks_like_mp4(&head) {
            return None;
        }
        let mut at = 0u64;
        for _ in 0..TRUNCATION_BOXES {
            if at.checked_add(8)? > len {
                return None;
            }
            // Read without a limit, to see where the box says it ends.
            let header = read_header(r, at, u64::MAX)?;
            if header.end == u64::MAX {
                return None; // size 0: runs to the end of the file, whatever its length
            }
            if header.end > len {
                return Some((len, header.end));
            }
            at = header.end;
        }
        None
    })();
    r.seek(SeekFrom::Start(0)).ok()?;
    found
}

/// The first top-level box of `kind`, walking box headers from the start and stopping there
/// (a fragmented file has thousands of top-level boxes after its `moov`; none of them is read).
pub(crate) fn find_top_level<R: Read + Seek>(
    r: &mut R,
    len: u64,
    kind: &[u8; 4],
    budget: &mut usize,
) -> Option<BoxHeader> {
    let mut at = 0;
    while let Some(header) = read_header(r, at, len) {
        *budget = budget.saturating_sub(1);
        if &header.kind == kind {
            return Some(header);
        }
        if *budget == 0 || header.end <= at {
            return None;
        }
        at = header.end;
    }
    None
}

/// The body (at most `max` bytes) of the first box of `kind` among `boxes`.
pub(crate) fn body_of<R: Read + Seek>(
    r: &mut R,
    boxes: &[BoxHeader],
    kind: &[u8; 4],
    max: u64,
) -> Option<Vec<u8>> {
    read_body(r, boxes.iter().find(|b| &b.kind == kind)?, max)
}

/// The children of the first box of `kind` among `boxes`.
pub(crate) fn child<R: Read + Seek>(
    r: &mut R,
    boxes: &[BoxHeader],
    kind: &[u8; 4],
    budget: &mut usize,
) -> Option<Vec<BoxHeader>> {
    let parent = boxes.iter().find(|b| &b.kind == kind)?;
    Some(children(r, parent.body, parent.end, budget))
}

/// One `trak` of a [`Movie`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mp4Track {
    /// The `tkhd` track id (the id symphonia gives the track).
    pub id: u32,
    /// Whether its handler is `soun`.
    pub sound: bool,
    /// The `tkhd` enabled flag.
    pub enabled: bool,
    /// Its first media edit, when it has a usable edit list.
    pub edit: Option<TrackEdit>,
    /// The children of its `stbl` (the sample tables), when it has them.
    pub stbl: Option<Vec<BoxHeader>>,
    /// The `mdhd` language (ISO 639-2), when set and not `und`.
    pub language: Option<String>,
    /// The `mdhd` timescale.
    pub media_timescale: Option<u32>,
    /// The first track its `tref/chap` names: a QuickTime chapter track (text samples).
    pub chapter_track: Option<u32>,
    /// A sound track's `stts`: runs of (sample count, sample duration), for turning media time
    /// into sample (packet) numbers.
    pub durations: Option<std::sync::Arc<Vec<(u32, u32)>>>,
}

/// An MP4's `moov`, read once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Movie {
    pub tracks: Vec<Mp4Track>,
    /// Where the `moov` ends (a fragmented file's fragments come after it).
    pub moov_end: u64,
    /// The children of the `mvex` box: present in a fragmented file.
    pub mvex: Option<Vec<BoxHeader>>,
    /// The chapters, start in 100 ns units and title, in the file's order: from the QuickTime
    /// chapter track a sound track names (as Apple writes them), else Nero's `moov/udta/chpl`.
    pub chapters: Vec<(u64, Option<String>)>,
}

impl Movie {
    /// Reads the `moov`; `None` when there is none. The reader is rewound.
    pub fn read<R: Read + Seek>(r: &mut R) -> Option<Self> {
        let len = r.seek(SeekFrom::End(0)).ok()?;
        let mut budget = MAX_BOXES;
        let moov = find_top_level(r, len, b"moov", &mut budget)?;
        let moov_children = children(r, moov.body, moov.end, &mut budget);
        let movie_timescale = body_of(r, &moov_children, b"mvhd", 256).and_then(|b| timescale(&b));
        let tracks: Vec<Mp4Track> = moov_children
            .iter()
            .filter(|b| &b.kind == b"trak")
            .filter_map(|trak| read_track(r, trak, movie_timescale, &mut budget))
            .collect();
        let mvex = child(r, &moov_children, b"mvex", &mut budget);
        let chapters = quicktime_chapters(r, &tracks)
            .filter(|c| !c.is_empty())
            .or_else(|| {
                child(r, &moov_children, b"udta", &mut budget)
                    .and_then(|udta| body_of(r, &udta, b"chpl", 1 << 20))
                    .map(|body| parse_chpl(&body))
            })
            .unwrap_or_default();
        let _ = r.seek(SeekFrom::Start(0));
        Some(Self {
            tracks,
            moov_end: moov.end,
            mvex,
            chapters,
        })
    }

    /// Track `id`'s sample durations (see [`Mp4Track::durations`]).
    pub fn durations(&self, id: u32) -> Option<std::sync::Arc<Vec<(u32, u32)>>> {
        self.tracks.iter().find(|t| t.id == id)?.durations.clone()
    }

    /// The sound track the file marks as its default, when it tells them apart.
    pub fn default_audio(&self) -> Option<u32> {
        marked_default(&self.sound_tracks())
    }

    /// The sound track to convert: the marked default, else the first.
    pub fn audio_track(&self) -> Option<u32> {
        let sound = self.sound_tracks();
        marked_default(&sound).or(sound.first().map(|s| s.0))
    }

    /// The sound track `choice` names: the n-th in file order, or the first in that language.
    pub fn chosen_audio_track(&self, choice: &crate::TrackChoice) -> Option<u32> {
        let mut sound = self.tracks.iter().filter(|t| t.sound);
        match choice {
            crate::TrackChoice::Index(i) => sound.nth(*i).map(|t| t.id),
            crate::TrackChoice::Language(language) => sound
                .find(|t| {
                    t.language
                        .as_deref()
                        .is_some_and(|l| l.eq_ignore_ascii_case(language))
                })
                .map(|t| t.id),
        }
    }

    /// The language of track `id`, if it has one.
    pub fn language(&self, id: u32) -> Option<String> {
        self.tracks
            .iter()
            .find(|t| t.id == id)
            .and_then(|t| t.language.clone())
    }

    /// The edit of track `id`, if it has one.
    pub fn edit(&self, id: u32) -> Option<TrackEdit> {
        self.tracks.iter().find(|t| t.id == id).and_then(|t| t.edit)
    }

    /// `(track id, enabled)` of each sound track, in file order.
    fn sound_tracks(&self) -> Vec<(u32, bool)> {
        self.tracks
            .iter()
            .filter(|t| t.sound)
            .map(|t| (t.id, t.enabled))
            .collect()
    }
}

/// A sound track's `stts` larger than this is not read (a few entries in real files; one per
/// change of sample duration).
const MAX_STTS: u64 = 1 << 20;

/// The (count, duration) runs of an `stts` body.
fn parse_stts(stts: &[u8]) -> Option<Vec<(u32, u32)>> {
    let entries = be_u32(stts, 4)? as usize;
    (0..entries)
        .map(|i| Some((be_u32(stts, 8 + 8 * i)?, be_u32(stts, 12 + 8 * i)?)))
        .collect()
}

/// The media time at which sample `index` starts, from `stts` runs.
pub(crate) fn sample_time(runs: &[(u32, u32)], mut index: u64) -> Option<u64> {
    let mut time = 0u64;
    for &(count, duration) in runs {
        let n = index.min(u64::from(count));
        time += n * u64::from(duration);
        index -= n;
        if index == 0 {
            return Some(time);
        }
    }
    None
}

/// The number of the sample that starts exactly at media time `time`, from `stts` runs.
pub(crate) fn sample_at(runs: &[(u32, u32)], time: u64) -> Option<u64> {
    let (mut start, mut index) = (0u64, 0u64);
    for &(count, duration) in runs {
        let span = u64::from(count) * u64::from(duration);
        if time < start + span {
            let into = time - start;
            return (duration > 0 && into.is_multiple_of(u64::from(duration)))
                .then(|| index + into / u64::from(duration));
        }
        start += span;
        index += u64::from(count);
    }
    (time == start).then_some(index)
}

/// Chapters read from a QuickTime chapter track at most.
const MAX_CHAPTER_SAMPLES: usize = 1000;
/// Sample tables of a chapter track larger than this are not read.
const MAX_CHAPTER_TABLE: u64 = 1 << 20;

/// The chapters of the QuickTime chapter track the first sound track names in its `tref/chap`:
/// each text sample is a title (a 16-bit length, then UTF-8 or UTF-16 with its byte-order
/// mark), starting where the sample's time (`stts`) does.
fn quicktime_chapters<R: Read + Seek>(
    r: &mut R,
    tracks: &[Mp4Track],
) -> Option<Vec<(u64, Option<String>)>> {
    let id = tracks
        .iter()
        .filter(|t| t.sound)
        .find_map(|t| t.chapter_track)?;
    let text = tracks.iter().find(|t| t.id == id && !t.sound)?;
    let stbl = text.stbl.as_ref()?;
    let timescale = u64::from(text.media_timescale.filter(|&t| t > 0)?);
    let stts = body_of(r, stbl, b"stts", MAX_CHAPTER_TABLE)?;
    let entries = be_u32(&stts, 4)? as usize;
    let mut starts = Vec::new();
    let mut time = 0u64;
    'entries: for i in 0..entries {
        let (count, delta) = (be_u32(&stts, 8 + 8 * i)?, be_u32(&stts, 12 + 8 * i)?);
        for _ in 0..count {
            if starts.len() == MAX_CHAPTER_SAMPLES {
                break 'entries;
            }
            starts.push(time);
            time = time.saturating_add(u64::from(delta));
        }
    }
    let mut samples = Vec::new();
    walk_samples(r, stbl, MAX_CHAPTER_TABLE, |_, offset, size| {
        samples.push((offset, size));
        samples.len() < starts.len()
    })?;
    let chapters = starts
        .iter()
        .zip(samples)
        .map(|(&start, (offset, size))| {
            let title = read_at(r, offset, size.min(1024)).and_then(|b| chapter_title(&b));
            let start = u128::from(start) * 10_000_000 / u128::from(timescale);
            (u64::try_from(start).unwrap_or(u64::MAX), title)
        })
        .collect();
    Some(chapters)
}

/// `len` bytes at `offset`.
fn read_at<R: Read + Seek>(r: &mut R, offset: u64, len: u64) -> Option<Vec<u8>> {
    r.seek(SeekFrom::Start(offset)).ok()?;
    let mut bytes = Vec::with_capacity(len as usize);
    r.take(len).read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

/// The title in a QuickTime text sample: a 16-bit length, then the text, UTF-16 when it starts
/// with a byte-order mark, else UTF-8.
fn chapter_title(sample: &[u8]) -> Option<String> {
    let len = usize::from(u16::from_be_bytes([*sample.first()?, *sample.get(1)?]));
    let text = sample.get(2..(2 + len).min(sample.len()))?;
    let title = match text {
        [0xFE, 0xFF, rest @ ..] => String::from_utf16_lossy(
            &rest
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect::<Vec<_>>(),
        ),
        [0xFF, 0xFE, rest @ ..] => String::from_utf16_lossy(
            &rest
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect::<Vec<_>>(),
        ),
        _ => String::from_utf8_lossy(text).into_owned(),
    };
    let title = title.trim_matches(|c: char| c == '\0' || c.is_whitespace());
    (!title.is_empty()).then(|| title.to_owned())
}

/// Calls `f(chunk, offset, size)` for each sample of a track in order, from its `stsz`, `stsc`
/// and `stco`/`co64` (each read only if at most `max_table` bytes); stops when `f` returns
/// false. `None` when a table is missing or malformed.
pub(crate) fn walk_samples<R: Read + Seek>(
    r: &mut R,
    stbl: &[BoxHeader],
    max_table: u64,
    mut f: impl FnMut(usize, u64, u64) -> bool,
) -> Option<()> {
    let stsz = body_of(r, stbl, b"stsz", max_table)?;
    let fixed = be_u32(&stsz, 4)?;
    let count = be_u32(&stsz, 8)? as usize;
    let size = |i: usize| -> Option<u64> {
        if fixed != 0 {
            Some(u64::from(fixed))
        } else {
            be_u32(&stsz, 12 + 4 * i).map(u64::from)
        }
    };
    let offsets: Vec<u64> = if let Some(co) = body_of(r, stbl, b"stco", max_table) {
        let n = be_u32(&co, 4)? as usize;
        (0..n)
            .map(|i| be_u32(&co, 8 + 4 * i).map(u64::from))
            .collect::<Option<_>>()?
    } else {
        let co = body_of(r, stbl, b"co64", max_table)?;
        let n = be_u32(&co, 4)? as usize;
        (0..n)
            .map(|i| be_u64(&co, 8 + 8 * i))
            .collect::<Option<_>>()?
    };
    let stsc = body_of(r, stbl, b"stsc", max_table)?;
    let entries = be_u32(&stsc, 4)? as usize;
    // (first chunk, samples per chunk), chunks numbered from 1.
    let runs: Vec<(usize, usize)> = (0..entries)
        .map(|i| {
            Some((
                be_u32(&stsc, 8 + 12 * i)? as usize,
                be_u32(&stsc, 12 + 12 * i)? as usize,
            ))
        })
        .collect::<Option<_>>()?;
    let mut sample = 0usize;
    let mut run = 0usize;
    for (chunk, &offset) in offsets.iter().enumerate() {
        let number = chunk + 1;
        while runs.get(run + 1).is_some_and(|(first, _)| *first <= number) {
            run += 1;
        }
        let per_chunk = runs.get(run).filter(|(first, _)| *first <= number)?.1;
        let mut at = offset;
        for _ in 0..per_chunk {
            if sample >= count {
                return Some(());
            }
            let bytes = size(sample)?;
            if !f(chunk, at, bytes) {
                return Some(());
            }
            at = at.checked_add(bytes)?;
            sample += 1;
        }
    }
    Some(())
}

/// Nero's chapter list (`chpl`, as ffmpeg reads and writes it): version and flags, 4 reserved
/// bytes in version 1, a count, then each chapter's start (100 ns units) and a title of at most
/// 255 bytes. What cannot be read ends the list.
fn parse_chpl(body: &[u8]) -> Vec<(u64, Option<String>)> {
    let mut chapters = Vec::new();
    let mut at = if body.first() == Some(&1) { 8 } else { 4 };
    let Some(&count) = body.get(at) else {
        return chapters;
    };
    at += 1;
    for _ in 0..count {
        let (Some(start), Some(&len)) = (be_u64(body, at), body.get(at + 8)) else {
            break;
        };
        let Some(title) = body.get(at + 9..at + 9 + usize::from(len)) else {
            break;
        };
        let title = String::from_utf8_lossy(title).trim().to_owned();
        chapters.push((start, (!title.is_empty()).then_some(title)));
        at += 9 + usize::from(len);
    }
    chapters
}

/// One `trak`; `None` without a readable `tkhd`.
fn read_track<R: Read + Seek>(
    r: &mut R,
    trak: &BoxHeader,
    movie_timescale: Option<u32>,
    budget: &mut usize,
) -> Option<Mp4Track> {
    let parts = children(r, trak.body, trak.end, budget);
    let tkhd = body_of(r, &parts, b"tkhd", 256)?;
    // tkhd puts the track id where mvhd and mdhd put the timescale.
    let id = timescale(&tkhd)?;
    let enabled = tkhd.get(3).is_some_and(|flags| flags & 1 == 1);
    let mdia = child(r, &parts, b"mdia", budget);
    let sound = mdia
        .as_ref()
        .and_then(|mdia| body_of(r, mdia, b"hdlr", 1024))
        .is_some_and(|body| body.get(8..12) == Some(b"soun"));
    let elst = child(r, &parts, b"edts", budget)
        .and_then(|edts| body_of(r, &edts, b"elst", 64 * 1024))
        .and_then(|body| parse_elst(&body));
    let mdhd = mdia
        .as_ref()
        .and_then(|mdia| body_of(r, mdia, b"mdhd", 256));
    let media_timescale = mdhd.as_deref().and_then(timescale);
    let language = mdhd.as_deref().and_then(mdhd_language);
    let chapter_track = child(r, &parts, b"tref", budget)
        .and_then(|tref| body_of(r, &tref, b"chap", 1024))
        .and_then(|body| be_u32(&body, 0))
        .filter(|&id| id != 0);
    let edit = match (elst, media_timescale, movie_timescale) {
        (Some((media_time, duration)), Some(media_timescale), Some(movie_timescale))
            if media_timescale > 0 =>
        {
            Some(TrackEdit {
                media_time,
                media_timescale,
                duration: (duration > 0).then_some(duration),
                movie_timescale,
            })
        }
        _ => None,
    };
    let stbl = mdia
        .as_ref()
        .and_then(|mdia| child(r, mdia, b"minf", budget))
        .and_then(|minf| child(r, &minf, b"stbl", budget));
    let durations = stbl
        .as_ref()
        .filter(|_| sound)
        .and_then(|stbl| body_of(r, stbl, b"stts", MAX_STTS))
        .and_then(|stts| parse_stts(&stts))
        .map(std::sync::Arc::new);
    Some(Mp4Track {
        id,
        sound,
        enabled,
        edit,
        stbl,
        durations,
        language,
        media_timescale,
        chapter_track,
    })
}

/// The language of an `mdhd` body: three letters of five bits each (plus 0x60), after the
/// durations; `None` when unset or `und`.
fn mdhd_language(body: &[u8]) -> Option<String> {
    let at = match body.first()? {
        0 => 20,
        1 => 32,
        _ => return None,
    };
    let packed = u16::from_be_bytes([*body.get(at)?, *body.get(at + 1)?]);
    let letters: String = [10, 5, 0]
        .iter()
        .map(|shift| char::from(((packed >> shift) & 0x1f) as u8 + 0x60))
        .collect();
    (letters.chars().all(|c| c.is_ascii_lowercase()) && letters != "und").then_some(letters)
}

/// Of the sound tracks `(track id, tkhd enabled)` in file order: the first enabled one when the
/// flag tells them apart (some are not enabled), else `None` (take the first).
pub(crate) fn marked_default(sound: &[(u32, bool)]) -> Option<u32> {
    if sound.iter().all(|(_, enabled)| *enabled) {
        return None;
    }
    sound
        .iter()
        .find(|(_, enabled)| *enabled)
        .map(|(id, _)| *id)
}

/// Gapless information from iTunes' `iTunSMPB` comment: (priming, padding, samples).
pub(crate) fn parse_itunsmpb(value: &str) -> Option<(u64, u64, u64)> {
    let fields: Vec<u64> = value
        .split_whitespace()
        .take(4)
        .map(|f| u64::from_str_radix(f, 16).ok())
        .collect::<Option<_>>()?;
    match fields[..] {
        [_, priming, padding, samples] if samples > 0 => Some((priming, padding, samples)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_times_and_numbers_follow_the_runs() {
        // 3 packets of 1024, one of 1025, then 2 of 1024 (as ffmpeg writes now and then).
        let runs = [(3, 1024), (1, 1025), (2, 1024)];
        assert_eq!(sample_time(&runs, 0), Some(0));
        assert_eq!(sample_time(&runs, 3), Some(3072));
        assert_eq!(sample_time(&runs, 4), Some(4097));
        assert_eq!(sample_time(&runs, 6), Some(6145));
        assert_eq!(sample_time(&runs, 7), None);
        assert_eq!(sample_at(&runs, 4097), Some(4));
        assert_eq!(sample_at(&runs, 5121), Some(5));
        assert_eq!(sample_at(&runs, 5120), None);
        assert_eq!(sample_at(&runs, 6145), Some(6));
        assert_eq!(sample_at(&runs, 9999), None);
    }
    use std::io::Cursor;

    fn bx(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(body);
        v
    }

    fn hd(timescale: u32) -> Vec<u8> {
        let mut b = vec![0u8; 24];
        b[12..16].copy_from_slice(&timescale.to_be_bytes());
        b
    }

    fn elst(entries: &[(u32, i32)]) -> Vec<u8> {
        let mut b = vec![0, 0, 0, 0];
        b.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        for (d, t) in entries {
            b.extend_from_slice(&d.to_be_bytes());
            b.extend_from_slice(&t.to_be_bytes());
            b.extend_from_slice(&[0, 1, 0, 0]);
        }
        b
    }

    fn movie(traks: &[Vec<u8>]) -> Vec<u8> {
        let mut moov = bx(b"mvhd", &hd(1000));
        for t in traks {
            moov.extend(t);
        }
        let mut file = bx(b"ftyp", b"isom\0\0\0\0");
        file.extend(bx(b"mdat", &[0u8; 100]));
        file.extend(bx(b"moov", &moov));
        file
    }

    fn trak(id: u32, media_timescale: u32, edits: Option<&[(u32, i32)]>) -> Vec<u8> {
        let mut body = bx(b"tkhd", &hd(id));
        if let Some(e) = edits {
            body.extend(bx(b"edts", &bx(b"elst", &elst(e))));
        }
        body.extend(bx(b"mdia", &bx(b"mdhd", &hd(media_timescale))));
        bx(b"trak", &body)
    }

    #[test]
    fn reads_each_tracks_first_media_edit() {
        let file = movie(&[
            trak(1, 15360, Some(&[(6000, 0)])),
            trak(2, 44100, Some(&[(500, -1), (6000, 1024)])),
            trak(3, 48000, None),
        ]);
        let movie = Movie::read(&mut Cursor::new(file)).unwrap();
        let edited: Vec<u32> = movie
            .tracks
            .iter()
            .filter(|t| t.edit.is_some())
            .map(|t| t.id)
            .collect();
        assert_eq!(edited, [1, 2]);
        let audio = movie.edit(2).unwrap();
        assert_eq!(audio.media_time, 1024);
        assert_eq!(audio.duration, Some(6000));
        assert_eq!(audio.at_rate(44100), (1024, Some(264_600)));
    }

    #[test]
    fn garbage_gives_nothing_and_never_panics() {
        for len in 0..64 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 % 251) as u8).collect();
            assert!(Movie::read(&mut Cursor::new(bytes)).is_none_or(|m| m.tracks.is_empty()));
        }
        // A box claiming to be larger than the file.
        let mut lying = bx(b"moov", &[]);
        lying[..4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(Movie::read(&mut Cursor::new(lying)).is_none_or(|m| m.tracks.is_empty()));
    }

    #[test]
    fn nero_chapters_are_read() {
        let mut body = vec![1, 0, 0, 0, 0, 0, 0, 0, 2];
        body.extend_from_slice(&0u64.to_be_bytes());
        body.extend_from_slice(b"\x05Intro");
        body.extend_from_slice(&25_000_000u64.to_be_bytes());
        body.extend_from_slice(b"\x00");
        assert_eq!(
            parse_chpl(&body),
            vec![(0, Some("Intro".to_owned())), (25_000_000, None)]
        );
        // Cut short: what was read is kept.
        assert_eq!(parse_chpl(&body[..25]), vec![(0, Some("Intro".to_owned()))]);
        assert!(parse_chpl(&[]).is_empty());
    }

    #[test]
    fn quicktime_chapter_tracks_are_read() {
        // Two titles in the mdat (at 24 and 31): UTF-8, then UTF-16 with its byte-order mark.
        let mut mdat = b"\0\x05Intro".to_vec();
        mdat.extend_from_slice(b"\0\x08\xFE\xFF\0O\0u\0t");
        let hdlr = |kind: &[u8; 4]| {
            let mut b = vec![0u8; 8];
            b.extend_from_slice(kind);
            b.extend_from_slice(&[0u8; 13]);
            bx(b"hdlr", &b)
        };
        let table =
            |words: &[u32]| -> Vec<u8> { words.iter().flat_map(|w| w.to_be_bytes()).collect() };
        let mut sound = bx(b"tkhd", &hd(1));
        sound.extend(bx(b"tref", &bx(b"chap", &2u32.to_be_bytes())));
        let mut mdia = bx(b"mdhd", &hd(44100));
        mdia.extend(hdlr(b"soun"));
        sound.extend(bx(b"mdia", &mdia));
        let mut stbl = bx(b"stts", &table(&[0, 2, 1, 2500, 1, 1500]));
        stbl.extend(bx(b"stsz", &table(&[0, 0, 2, 7, 10])));
        stbl.extend(bx(b"stsc", &table(&[0, 1, 1, 2, 1])));
        stbl.extend(bx(b"stco", &table(&[0, 1, 24])));
        let mut mdia = bx(b"mdhd", &hd(1000));
        mdia.extend(hdlr(b"text"));
        mdia.extend(bx(b"minf", &bx(b"stbl", &stbl)));
        let mut text = bx(b"tkhd", &hd(2));
        text.extend(bx(b"mdia", &mdia));
        let mut moov = bx(b"mvhd", &hd(1000));
        moov.extend(bx(b"trak", &sound));
        moov.extend(bx(b"trak", &text));
        let mut file = bx(b"ftyp", b"isom\0\0\0\0");
        file.extend(bx(b"mdat", &mdat));
        file.extend(bx(b"moov", &moov));
        let movie = Movie::read(&mut Cursor::new(file)).unwrap();
        assert_eq!(
            movie.chapters,
            vec![
                (0, Some("Intro".to_owned())),
                (25_000_000, Some("Out".to_owned()))
            ]
        );
        assert_eq!(chapter_title(b"\0\0"), None);
        assert_eq!(chapter_title(b"\0\x09cut"), Some("cut".to_owned()));
    }

    #[test]
    fn itunsmpb_is_read() {
        assert_eq!(
            parse_itunsmpb(" 00000000 00000840 000001CA 00000000003F31F6 00000000 00000000"),
            Some((0x840, 0x1CA, 0x3F31F6))
        );
        assert_eq!(parse_itunsmpb("nonsense"), None);
    }
}
