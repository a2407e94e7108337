//! The MP4 fetch plan covers every byte the demuxer reads for the audio: with every other byte
//! of the media data blanked, the MP3 is byte-identical to the one made from the whole file.
//! Fixtures: fixtures/streaming (tools/fixtures/make-fixtures.sh).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;
use std::ops::Range;
use std::path::PathBuf;
use video2mp3_transcode::{Options, TrackChoice, mp4_audio_plan, mp4_audio_plan_for, transcode};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The bodies of the top-level `mdat` boxes (read by hand, not by the code under test).
fn mdat_bodies(file: &[u8]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at + 8 <= file.len() {
        let mut size = u32::from_be_bytes(file[at..at + 4].try_into().unwrap()) as usize;
        let mut head = 8;
        if size == 1 {
            size = u64::from_be_bytes(file[at + 8..at + 16].try_into().unwrap()) as usize;
            head = 16;
        }
        if &file[at + 4..at + 8] == b"mdat" {
            out.push(at + head..at + size);
        }
        at += size;
    }
    out
}

fn mp3_of(bytes: Vec<u8>) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    let options = Options {
        threads: 1,
        ..Options::default()
    };
    transcode(
        Box::new(Cursor::new(bytes)),
        Some("mp4"),
        &mut out,
        &options,
    )
    .unwrap();
    out.into_inner()
}

fn check(name: &str, fragmented: bool) {
    let file = fixture(name);
    let plan = mp4_audio_plan(&mut Cursor::new(&file)).expect("a plan");
    assert_eq!(plan.fragmented, fragmented, "{name}");
    for list in [&plan.ranges, &plan.unused] {
        for pair in list.windows(2) {
            assert!(
                pair[0].end <= pair[1].start,
                "{name}: ranges sorted and disjoint"
            );
        }
    }
    for other in &plan.unused {
        assert!(
            !plan
                .ranges
                .iter()
                .any(|r| r.start < other.end && other.start < r.end),
            "{name}: {other:?} is both audio and another track's"
        );
    }
    let others: u64 = plan.unused.iter().map(|r| r.end - r.start).sum();
    let mut blanked = file.clone();
    let mut media = 0usize;
    for body in mdat_bodies(&file) {
        media += body.len();
        for i in body {
            if !plan.ranges.iter().any(|r| r.contains(&(i as u64))) {
                blanked[i] = 0;
            }
        }
    }
    let share = plan.bytes() as f64 / file.len() as f64;
    eprintln!(
        "{name}: plan {} of {} bytes ({:.1}%)",
        plan.bytes(),
        file.len(),
        share * 100.0
    );
    // 64 kbit/s of audio beside 600 kbit/s of video: about a tenth of the file.
    assert!(
        share < 0.15,
        "{name}: the plan covers {:.1}%",
        share * 100.0
    );
    assert!(media > file.len() / 2, "{name}: the media data was found");
    // Every sample of the file is either the audio's or another track's (the video).
    let samples = plan.bytes() + others;
    assert!(
        samples as f64 > 0.98 * media as f64,
        "{name}: {samples} bytes of samples found in {media} bytes of media data"
    );
    assert_eq!(
        mp3_of(blanked),
        mp3_of(file),
        "{name}: the MP3 changed without the video"
    );
}

#[test]
fn the_plan_of_an_ffmpeg_mp4_covers_its_audio() {
    check("streaming/plain.mp4", false);
}

#[test]
fn the_plan_of_a_one_second_interleave_covers_its_audio() {
    check("streaming/inter1s.mp4", false);
}

#[test]
fn the_plan_of_a_fragmented_mp4_covers_its_audio_and_its_fragment_headers() {
    check("streaming/frag.mp4", true);
}

#[test]
fn the_plan_follows_the_track_asked_for() {
    // eng (default, mono) and fra (stereo): asked for fra, the plan fetches fra's samples only,
    // and the MP3 is the same with everything else blanked.
    let file = fixture("formats/two-languages.mp4");
    for choice in [TrackChoice::Index(1), TrackChoice::Language("fra".into())] {
        let plan = mp4_audio_plan_for(&mut Cursor::new(&file), Some(&choice)).expect("a plan");
        let default = mp4_audio_plan(&mut Cursor::new(&file)).expect("a plan");
        assert_ne!(plan.ranges, default.ranges, "{choice:?}");
        let mut blanked = file.clone();
        for body in mdat_bodies(&file) {
            for i in body {
                if !plan.ranges.iter().any(|r| r.contains(&(i as u64))) {
                    blanked[i] = 0;
                }
            }
        }
        let convert = |bytes: Vec<u8>| {
            let mut out = Cursor::new(Vec::new());
            let options = Options {
                threads: 1,
                track: Some(choice.clone()),
                ..Options::default()
            };
            transcode(
                Box::new(Cursor::new(bytes)),
                Some("mp4"),
                &mut out,
                &options,
            )
            .unwrap();
            out.into_inner()
        };
        assert_eq!(convert(blanked), convert(file.clone()), "{choice:?}");
    }
    // A track that is not there: no plan (the engine reads the file and names the tracks).
    assert_eq!(
        mp4_audio_plan_for(&mut Cursor::new(&file), Some(&TrackChoice::Index(2))),
        None
    );
}

#[test]
fn the_plan_follows_the_default_track_not_the_first() {
    // Two sound tracks, the second marked default (440 Hz, then 1000 Hz): the plan must fetch
    // the one the engine decodes, or the MP3 would be made of the zeros served for the other.
    let file = fixture("formats/two-tracks-second-default.mp4");
    let plan = mp4_audio_plan(&mut Cursor::new(&file)).expect("a plan");
    let mut blanked = file.clone();
    for body in mdat_bodies(&file) {
        for i in body {
            if !plan.ranges.iter().any(|r| r.contains(&(i as u64))) {
                blanked[i] = 0;
            }
        }
    }
    assert!(!plan.unused.is_empty(), "the first track is another's");
    assert_eq!(
        mp3_of(blanked),
        mp3_of(file),
        "the MP3 changed without the first track"
    );
}

#[test]
fn files_that_are_not_mp4_have_no_plan() {
    assert_eq!(
        mp4_audio_plan(&mut Cursor::new(fixture("formats/tone.flac"))),
        None
    );
    assert_eq!(
        mp4_audio_plan(&mut Cursor::new(fixture("not-a-video.mp4"))),
        None
    );
    assert_eq!(mp4_audio_plan(&mut Cursor::new(Vec::new())), None);
}

/// A reader that counts the reads made through it.
struct Counting {
    inner: Cursor<Vec<u8>>,
    reads: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl std::io::Read for Counting {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.inner.read(buf)
    }
}

impl std::io::Seek for Counting {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(to)
    }
}

/// The MP3 of `file`, and the reads the engine made for it, given the plan's index or not.
fn convert_counting(file: &[u8], index: Option<video2mp3_transcode::Mp4Index>) -> (Vec<u8>, usize) {
    let reads = std::sync::Arc::default();
    let source = video2mp3_transcode::SeekableSource::new(
        Counting {
            inner: Cursor::new(file.to_vec()),
            reads: std::sync::Arc::clone(&reads),
        },
        file.len() as u64,
    );
    let mut out = Cursor::new(Vec::new());
    let options = Options {
        threads: 1,
        mp4_index: index,
        ..Options::default()
    };
    transcode(Box::new(source), Some("mp4"), &mut out, &options).unwrap();
    let n = reads.load(std::sync::atomic::Ordering::Relaxed);
    (out.into_inner(), n)
}

#[test]
fn given_the_plans_index_the_engine_does_not_walk_the_moov_again() {
    for name in [
        "streaming/inter1s.mp4",
        "streaming/frag.mp4",
        "formats/two-tracks-second-default.mp4",
    ] {
        let file = fixture(name);
        let plan = mp4_audio_plan(&mut Cursor::new(&file)).expect("a plan");
        let (alone, reads_alone) = convert_counting(&file, None);
        let (given, reads_given) = convert_counting(&file, Some(plan.index));
        assert_eq!(given, alone, "{name}: the same MP3 either way");
        assert!(
            reads_given < reads_alone,
            "{name}: {reads_given} reads with the index, {reads_alone} without"
        );
        eprintln!("{name}: {reads_alone} reads without the index, {reads_given} with it");
    }
}
