//! A conversion fanned out over workers: each part made by its own call of the engine on its
//! own reading of the source, as a separate worker would, then joined by `join_parts` from the
//! parts' figures alone. Checked against the MP3 the engine makes in one process, and by code
//! that is not LAME: the info frame and the LAME tag's CRCs read byte by byte, and the MP3
//! decoded by ffmpeg.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Cursor, Seek, SeekFrom, Write};
use std::path::PathBuf;
use video2mp3_mp3check as mp3check;
use video2mp3_mp3check::ffmpeg;
use video2mp3_transcode::{
    Options, Part, PartFigures, Summary, TranscodeError, join_parts, plan_fanout, transcode,
};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name)
}

fn convert(name: &str, options: &Options) -> Result<(Summary, Vec<u8>), TranscodeError> {
    let path = fixture(name);
    let file = std::fs::File::open(&path).unwrap();
    let ext = path.extension().and_then(|e| e.to_str());
    let mut out = Cursor::new(Vec::new());
    let summary = transcode(Box::new(file), ext, &mut out, options)?;
    Ok((summary, out.into_inner()))
}

/// Part `index` of `name`, as one worker makes it: its bytes and figures.
fn part(name: &str, index: usize, segment_frames: usize) -> (Vec<u8>, PartFigures) {
    part_with(name, index, segment_frames, &Options::default())
}

/// The same with other options.
fn part_with(
    name: &str,
    index: usize,
    segment_frames: usize,
    base: &Options,
) -> (Vec<u8>, PartFigures) {
    let options = Options {
        part: Some(Part {
            index,
            segment_frames,
        }),
        ..base.clone()
    };
    let (summary, bytes) = convert(name, &options).unwrap();
    (bytes, summary.part.expect("a part's figures"))
}

/// Every part of `name`, each made on its own; the count of parts follows from the audio's
/// length (what a planner takes from the probe; here, from converting it whole).
fn parts(name: &str, segment_frames: usize) -> Vec<(Vec<u8>, PartFigures)> {
    parts_with(name, segment_frames, &Options::default())
}

/// The same with other options.
fn parts_with(name: &str, segment_frames: usize, base: &Options) -> Vec<(Vec<u8>, PartFigures)> {
    let (summary, _) = convert(name, base).unwrap();
    let frame = if summary.sample_rate >= 32_000 {
        1152
    } else {
        576
    };
    let count = Part::count(summary.frames, frame, segment_frames);
    (0..count)
        .map(|i| part_with(name, i, segment_frames, base))
        .collect()
}

/// The MP3 the parts make: part 0 with the joined info frame written in, then the others.
fn join(parts: &[(Vec<u8>, PartFigures)]) -> Vec<u8> {
    let figures: Vec<PartFigures> = parts.iter().map(|(_, f)| f.clone()).collect();
    let (at, info) = join_parts(&figures).unwrap();
    let mut out = Cursor::new(parts[0].0.clone());
    out.seek(SeekFrom::Start(at)).unwrap();
    out.write_all(&info).unwrap();
    let mut mp3 = out.into_inner();
    for (bytes, _) in &parts[1..] {
        mp3.extend_from_slice(bytes);
    }
    mp3
}

/// The parts join into the MP3 one process makes with the same segments and `base` options,
/// byte for byte (its ReplayGain too).
fn joins_as_one_process(
    name: &str,
    parts: &[(Vec<u8>, PartFigures)],
    segment_frames: usize,
    base: &Options,
) {
    let one = Options {
        threads: 2,
        segment_frames,
        ..base.clone()
    };
    let (_, whole) = convert(name, &one).unwrap();
    mp3check::assert_joined_as_one(&join(parts), &whole, name);
}

/// A file ffmpeg makes with `args` (its output last) in a directory of the test's own, which
/// the caller removes.
fn made_by_ffmpeg(test: &str, file: &str, args: &[&std::ffi::OsStr]) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("fanout-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(file);
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .arg(&path)
        .status()
        .expect("ffmpeg runs (apt-get install ffmpeg)");
    assert!(status.success(), "ffmpeg could not make {file}");
    (dir, path)
}

#[test]
fn a_fanned_out_mp3_is_the_one_the_engine_makes_in_one_process() {
    // fixtures/sample.mp4: 6 s of stereo AAC at 44.1 kHz (264,600 samples after its edit
    // list), 231 MP3 frames; in segments of 32 frames, 8 parts.
    const SEGMENT: usize = 32;
    let parts = parts("sample.mp4", SEGMENT);
    assert_eq!(parts.len(), 8);
    // Each part far enough in read only from shortly before its segment (16,384 frames): the
    // container and the decoder were sought, not read through.
    for (_, figures) in &parts[1..] {
        assert!(
            figures.passed_over > 0,
            "part {} read from the start",
            figures.index
        );
    }
    let fanned = join(&parts);
    let one = Options {
        threads: 2,
        segment_frames: SEGMENT,
        ..Options::default()
    };
    let (_, whole) = convert("sample.mp4", &one).unwrap();

    mp3check::assert_joined_as_one(&fanned, &whole, "sample.mp4");
    // The ReplayGain the join worked out from the parts' blocks is the source's loudness as
    // ffmpeg's ebur128 filter measures it (to -18 LUFS), and ffprobe reads it from the tag.
    let (gain, _) = mp3check::lame_replay_gain(&fanned).unwrap();
    let source = std::fs::read(fixture("sample.mp4")).unwrap();
    let measured = mp3check::ffmpeg::loudness(&source, "mp4").integrated;
    assert!(
        (gain - (-18.0 - measured)).abs() <= 0.15,
        "ReplayGain {gain} dB, ffmpeg measures {measured} LUFS"
    );
    assert_eq!(mp3check::ffmpeg::replay_gain(&fanned, "mp3"), Some(gain));

    // Gapless and exact: the info frame says the source's length, the LAME tag's CRCs and
    // music length hold over the joined bytes, and ffmpeg decodes the same samples as from the
    // one-process MP3, as many as the source has.
    let info = mp3check::info_frame(&fanned);
    assert_eq!(
        info.frames * info.samples_per_frame - info.delay - info.padding,
        264_600
    );
    let crcs = mp3check::lame_tag_crcs(&fanned);
    assert!(
        crcs.tag_crc_ok && crcs.music_crc_ok && crcs.music_length_ok,
        "{crcs:?}"
    );
    let (ours, theirs) = (ffmpeg::probe(&fanned, "mp3"), ffmpeg::probe(&whole, "mp3"));
    assert_eq!(ours.samples, 264_600);
    assert!(ours.pcm == theirs.pcm, "the decoded samples differ");
}

#[test]
fn parts_that_seek_join_to_the_one_process_mp3_in_every_format_that_seeks() {
    // A part reads from PART_PREROLL (16,384) frames before its segment where the container
    // and the codec allow it; what it decodes from there must be what reading from the start
    // gives, or its frames would differ. Segments of 8 frames, so that short files have parts
    // far enough in to seek: AAC-LC in MP4 whose edit list drops 1,024 samples of priming and
    // which codes noise bands (PNS), with and without a `start` (which the engine cuts), WAV at
    // 22.05 kHz (576-sample frames) and FLAC at 44.1 kHz. (symphonia's AIFF reader does not
    // seek: its parts read from the start.)
    let cases: &[(&str, f64)] = &[
        ("sample.mp4", 0.0),
        ("sample.mp4", 1.25),
        ("tone-mono.wav", 0.0),
        ("tone-mono.wav", 0.35),
        ("formats/tone.flac", 0.0),
    ];
    for &(name, start) in cases {
        let base = Options {
            start,
            ..Options::default()
        };
        let parts = parts_with(name, 8, &base);
        let sought = parts.iter().filter(|(_, f)| f.passed_over > 0).count();
        assert!(sought >= 1, "{name}: none of {} parts sought", parts.len());
        joins_as_one_process(name, &parts, 8, &base);
    }
}

#[test]
fn a_part_seeks_by_packets_across_where_an_mp4_joins_two_streams() {
    // sample.mp4's audio three times over, stream-copied by ffmpeg: the last packet of each
    // copy lasts less than a frame in the sample table, so past the first join the media time
    // is no longer the samples decoded from the start (1,024 a packet). Parts count packets,
    // not media time: every part far enough in seeks, and they join into the one-process MP3.
    let sample = fixture("sample.mp4");
    let args = ["-stream_loop", "2", "-i"].map(std::ffi::OsStr::new);
    let copy = ["-vn", "-c", "copy"].map(std::ffi::OsStr::new);
    let args: Vec<&std::ffi::OsStr> = args
        .into_iter()
        .chain([sample.as_os_str()])
        .chain(copy)
        .collect();
    let (dir, looped) = made_by_ffmpeg("joins", "looped.m4a", &args);
    let name = looped.to_str().unwrap();
    let parts = parts(name, 32);
    assert!(parts.len() > 20);
    for (_, figures) in &parts[1..] {
        assert!(
            figures.passed_over > 0,
            "part {} did not seek",
            figures.index
        );
    }
    joins_as_one_process(name, &parts, 32, &Options::default());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_part_keeps_the_bit_reservoir_even_where_its_start_is_dense() {
    // Half a minute of the bench's FLAC music (two gliding tones and a pulsing one), in
    // segments of 8 frames: at 3 of the 120 joins the bytes the first kept frames borrowed from
    // the dropped priming frames come due in a frame that no frame size holds once re-laid.
    // Widening the first frames pays that debt early at two of them (parts 41 and 94). At the
    // third (part 111) the first kept frame's own main data is 1,041 bytes, more than the
    // largest frame holds (1,008 at 320 kbit/s): only that part is encoded again without the
    // reservoir.
    let left = "0.25*sin(2*PI*(220+110*sin(2*PI*0.1*t))*t)+0.15*sin(2*PI*330*t)*sin(2*PI*0.5*t)";
    let right =
        "0.2*sin(2*PI*(330+90*sin(2*PI*0.07*t))*t)+0.1*sin(2*PI*1760*t)*gt(sin(2*PI*2*t)\\,0.6)";
    let source = format!("aevalsrc={left}|{right}:s=44100:d=30");
    let args = ["-f", "lavfi", "-i", &source].map(std::ffi::OsStr::new);
    let (dir, music) = made_by_ffmpeg("dense", "music.wav", &args);
    let name = music.to_str().unwrap();
    let parts = parts(name, 8);
    let again: Vec<usize> = parts
        .iter()
        .filter(|(_, f)| f.without_reservoir)
        .map(|(_, f)| f.index)
        .collect();
    assert_eq!(again, [111], "parts encoded without the reservoir");
    joins_as_one_process(name, &parts, 8, &Options::default());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_part_made_again_after_its_worker_died_is_the_same() {
    let (bytes, figures) = part("sample.mp4", 3, 32);
    let (again, figures_again) = part("sample.mp4", 3, 32);
    assert!(bytes == again && figures == figures_again);
    assert_eq!(figures.bytes, bytes.len() as u64);
    assert!(!figures.last && figures.info.is_none());
}

#[test]
fn parts_that_do_not_make_the_whole_are_not_joined() {
    let parts = parts("sample.mp4", 64);
    let figures: Vec<PartFigures> = parts.iter().map(|(_, f)| f.clone()).collect();
    assert_eq!(figures.len(), 4);
    let refused = |figures: &[PartFigures]| join_parts(figures).err().map(|e| e.to_string());
    // One missing in the middle; the last missing (the audio goes on); one given twice.
    let without_1 = [&figures[..1], &figures[2..]].concat();
    assert!(refused(&without_1).is_some_and(|e| e.contains("part 1 is missing")));
    let without_last = &figures[..3];
    assert!(refused(without_last).is_some_and(|e| e.contains("goes on after part 2")));
    let twice = [&figures[..], &figures[1..2]].concat();
    assert!(refused(&twice).is_some_and(|e| e.contains("given twice")));
    // In any order, they join.
    let mut shuffled = figures.clone();
    shuffled.reverse();
    assert_eq!(
        join_parts(&shuffled).unwrap(),
        join_parts(&figures).unwrap()
    );
    // A part past the end of the audio is refused, with the count of parts there are.
    let options = Options {
        part: Some(Part {
            index: 9,
            segment_frames: 64,
        }),
        ..Options::default()
    };
    let err = convert("sample.mp4", &options).err().map(|e| e.to_string());
    assert!(err.is_some_and(|e| e.contains("4 parts")));
}

#[test]
fn the_plan_from_the_headers_gives_the_length_one_process_decodes() {
    // A planner cuts the parts from the probe alone (no decoding): the count it gets must be
    // the count converting the file whole gives, in every container and codec that seeks.
    for name in ["sample.mp4", "tone-mono.wav", "formats/tone.flac"] {
        let path = fixture(name);
        let ext = path.extension().and_then(|e| e.to_str());
        let file = std::fs::File::open(&path).unwrap();
        let plan = plan_fanout(Box::new(file), ext, &Options::default())
            .unwrap()
            .unwrap_or_else(|| panic!("{name}: no plan"));
        let (summary, _) = convert(name, &Options::default()).unwrap();
        assert_eq!(plan.samples, summary.frames, "{name}");
        assert_eq!(plan.sample_rate, summary.sample_rate, "{name}");
        assert_eq!(plan.parts(8), parts(name, 8).len(), "{name}");
    }
    // No plan where a part could not seek to its segment: a codec whose decode from a seek is
    // not exact (MP3; HE-AAC, which FDK decodes), levelling (which reads the whole first), a resampled MP3, a cut.
    let refused = [
        ("formats/lame.mp3", Options::default()),
        ("formats/he-aac.m4a", Options::default()),
        (
            "formats/tone.flac",
            Options {
                loudness: Some(-16.0),
                ..Options::default()
            },
        ),
        (
            "formats/tone.flac",
            Options {
                sample_rate: Some(22_050),
                ..Options::default()
            },
        ),
        (
            "formats/tone.flac",
            Options {
                start: 0.5,
                ..Options::default()
            },
        ),
    ];
    for (name, options) in refused {
        let path = fixture(name);
        let ext = path.extension().and_then(|e| e.to_str());
        let file = std::fs::File::open(&path).unwrap();
        let plan = plan_fanout(Box::new(file), ext, &options).unwrap();
        assert_eq!(plan, None, "{name} {options:?}");
    }
}
