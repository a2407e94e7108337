//! Cover art and chapters carried from each container that holds them (fixtures/tags, made by
//! tools/fixtures/make-fixtures.sh) into ID3 APIC, CHAP and CTOC frames, checked twice: the
//! frames read byte by byte (`video2mp3_mp3check`, sharing no code with the `id3` crate that
//! writes them) and the file read by ffprobe. A cut moves the chapters; `strip_tags` drops all.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;
use std::path::PathBuf;
use video2mp3_mp3check::{self as mp3check, Chap, ffmpeg};
use video2mp3_transcode::{Options, transcode};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/tags")
        .join(name)
}

fn convert(name: &str, options: &Options) -> Vec<u8> {
    let path = fixture(name);
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let ext = path.extension().and_then(|e| e.to_str());
    let mut out = Cursor::new(Vec::new());
    transcode(Box::new(file), ext, &mut out, options).unwrap();
    out.into_inner()
}

fn chap(id: &str, start_ms: u32, end_ms: u32, title: &str) -> Chap {
    Chap {
        id: id.into(),
        start_ms,
        end_ms,
        title: Some(title.into()),
    }
}

/// The three chapters of the fixtures (0-1, 1-2.5, 2.5-4 s).
fn whole() -> Vec<Chap> {
    vec![
        chap("ch0", 0, 1000, "Opening"),
        chap("ch1", 1000, 2500, "Middle part"),
        chap("ch2", 2500, 4000, "The end"),
    ]
}

fn assert_cover(mp3: &[u8], mime: &str, source: &str, ffprobe_codec: &str) {
    let pictures = mp3check::id3v24_pictures(mp3);
    assert_eq!(pictures.len(), 1, "one APIC");
    assert_eq!(pictures[0].mime, mime);
    assert_eq!(pictures[0].picture_type, 3, "front cover");
    assert_eq!(
        pictures[0].data,
        std::fs::read(fixture(source)).unwrap(),
        "the picture's bytes, unchanged"
    );
    assert_eq!(ffmpeg::cover(mp3, "mp3").as_deref(), Some(ffprobe_codec));
}

fn assert_chapters(mp3: &[u8], expected: &[Chap]) {
    let (chapters, toc) = mp3check::id3v24_chapters(mp3);
    assert_eq!(chapters, expected);
    assert_eq!(
        toc,
        Some(expected.iter().map(|c| c.id.clone()).collect()),
        "one top-level, ordered CTOC listing every chapter"
    );
    let seen: Vec<_> = ffmpeg::chapters(mp3, "mp3");
    let wanted: Vec<_> = expected
        .iter()
        .map(|c| (u64::from(c.start_ms), u64::from(c.end_ms), c.title.clone()))
        .collect();
    assert_eq!(seen, wanted, "ffprobe's chapters");
}

#[test]
fn matroska_chapters_and_attached_cover_are_carried_over() {
    let mp3 = convert("chapters.mkv", &Options::default());
    assert_cover(&mp3, "image/jpeg", "cover.jpg", "mjpeg");
    assert_chapters(&mp3, &whole());
    // The tags beside them are carried over as before.
    let text = mp3check::id3v24_text_frames(&mp3);
    assert!(
        text.contains(&("TPE1".into(), "Ann Example".into())),
        "{text:?}"
    );
}

#[test]
fn mp4_cover_and_nero_chapters_are_carried_over() {
    let mp3 = convert("chapters.m4a", &Options::default());
    assert_cover(&mp3, "image/jpeg", "cover.jpg", "mjpeg");
    assert_chapters(&mp3, &whole());
}

#[test]
fn an_mp4_quicktime_chapter_track_alone_is_read() {
    let mp3 = convert("chapter-track.m4a", &Options::default());
    let source = std::fs::read(fixture("chapter-track.m4a")).unwrap();
    assert!(
        !source.windows(4).any(|w| w == b"chpl"),
        "the fixture has no Nero chapters"
    );
    assert_chapters(&mp3, &whole());
}

#[test]
fn flac_and_ogg_pictures_become_the_cover() {
    let flac = convert("picture.flac", &Options::default());
    assert_cover(&flac, "image/png", "cover.png", "png");
    let ogg = convert("picture.ogg", &Options::default());
    assert_cover(&ogg, "image/jpeg", "cover.jpg", "mjpeg");
    assert_eq!(mp3check::id3v24_chapters(&flac), (Vec::new(), None));
}

#[test]
fn a_cut_moves_the_chapters_and_drops_those_outside_it() {
    // 1.5 s to 3.2 s: the first chapter is outside, the second starts before the cut, the third
    // ends after it.
    let options = Options {
        start: 1.5,
        end: Some(3.2),
        ..Options::default()
    };
    for name in ["chapters.mkv", "chapters.m4a", "chapter-track.m4a"] {
        let mp3 = convert(name, &options);
        assert_chapters(
            &mp3,
            &[
                chap("ch0", 0, 1000, "Middle part"),
                chap("ch1", 1000, 1700, "The end"),
            ],
        );
    }
}

#[test]
fn strip_drops_every_tag_the_cover_and_the_chapters() {
    let options = Options {
        strip_tags: true,
        fallback_title: Some("my upload.mkv".into()),
        ..Options::default()
    };
    let mp3 = convert("chapters.mkv", &options);
    // No ID3 tag at all: the file starts with the Xing/Info frame's header.
    assert_eq!(
        (mp3[0], mp3[1] & 0xe0),
        (0xff, 0xe0),
        "an MP3 frame sync first"
    );
    assert!(!mp3.windows(4).any(|w| w == b"APIC" || w == b"CHAP"));
    assert_eq!(ffmpeg::cover(&mp3, "mp3"), None);
    assert!(ffmpeg::chapters(&mp3, "mp3").is_empty());
    // Still the whole audio.
    assert_eq!(ffmpeg::probe(&mp3, "mp3").samples, 4 * 22050);
}
