//! The real-world corpus: every audio test file of TagLib 1.13 and mutagen 1.47.0 (199 files made
//! by many encoders and muxers, most kept because they once broke a reader), fetched into
//! .local/corpus by tools/fixtures/fetch-corpus.sh (`make corpus`, part of `make test`).
//!
//! FFmpeg is the judge, sharing no code with the engine:
//! - a file in a format the engine reads, which ffmpeg decodes, converts to an MP3 that ffmpeg
//!   decodes to the same length, within one MP3 frame (rates scaled where the MP3's differs);
//! - a file in a format the engine does not read (`REFUSED_BY_NAME`) is refused with an error
//!   that names the format, whether ffmpeg decodes it or not;
//! - a file ffmpeg finds no audio in, or decodes none of, is refused with an error (never a
//!   panic, never an MP3 of noise).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;
use std::path::{Path, PathBuf};
use video2mp3_mp3check::ffmpeg;
use video2mp3_transcode::{Options, transcode};

/// Formats the engine does not decode, by extension, and the name its refusal must give.
const REFUSED_BY_NAME: &[(&[&str], &str)] = &[
    (&["tak"], "TAK"),
    (&["ofr", "ofs"], "OptimFROG"),
    (&["wma"], "Windows Media"),
];

/// Files whose own header or container says how long their audio is, where ffmpeg decodes
/// another length or none (checked against the bytes by hand; each reason says where): the
/// length the MP3 must have, at its rate.
const CONTAINER_SAYS: &[(&str, u64, u32, &str)] = &[
    (
        "no-tags.3g2",
        330_750,
        22050,
        "edit list, mdhd and stts all say 15.0 s (323 AAC frames); ffmpeg decodes the 352 frames \
         of stsz",
    ),
    (
        "mutagen-no-tags.3g2",
        330_750,
        22050,
        "the same file as TagLib's no-tags.3g2",
    ),
    (
        "four_channels.wv",
        169_031,
        44100,
        "the WavPack header says 169031 samples in 4 channels, and the reference decoder \
         (wvunpack 5.6.0) decodes that many, bit for bit as the engine does; ffmpeg refuses \
         every block (\"Channel mask does not match the channel count\")",
    ),
    (
        "mutagen-5644800-2ch-s01-silence.dsf",
        480,
        48000,
        "the fmt chunk's sample count is 56448 one-bit samples, 0.01 s at 5.6448 MHz (the \
         \"s01\" of its name, and the length mutagen's own test expects); the data chunk \
         holds eight times as many bytes, all zero, and ffmpeg decodes them all",
    ),
    (
        "garbage.mp3",
        19_631,
        44100,
        "a cut-out of a longer LAME MP3 behind 2 KB of junk: its first frame is the Info frame \
         (LAME tag: delay 576 + 529), 18 audio frames follow; ffmpeg does not look for the tag \
         after junk, so it decodes the Info frame as audio and keeps the delay",
    ),
    (
        "mutagen-106-short-picture-block-size.flac",
        162_496,
        44100,
        "STREAMINFO's total samples; ffmpeg refuses the whole file over its damaged picture \
         block, the engine skips that block",
    ),
];

/// One MP3 frame, the tolerance on length.
const FRAME: i64 = 1152;

fn corpus() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.local/corpus");
    assert!(
        dir.join(".complete").exists(),
        "the real-world corpus is not in {}: run `make corpus` (tools/fixtures/fetch-corpus.sh), \
         which `make test` does",
        dir.display()
    );
    dir
}

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
}

/// The engine's verdict: the MP3, or the error's text (a panic is reported as one).
fn convert(path: &Path) -> Result<Vec<u8>, String> {
    let ext = extension(path);
    let file = std::fs::File::open(path).unwrap();
    let run = std::panic::catch_unwind(|| {
        let mut out = Cursor::new(Vec::new());
        transcode(
            Box::new(file),
            ext.as_deref(),
            &mut out,
            &Options::default(),
        )
        .map(|_| out.into_inner())
    });
    match run {
        Ok(Ok(mp3)) => Ok(mp3),
        Ok(Err(err)) => Err(err.to_string()),
        Err(panic) => Err(format!(
            "PANIC: {}",
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default()
        )),
    }
}

#[test]
fn every_real_world_file_converts_to_the_right_length_or_is_refused_by_name() {
    let dir = corpus();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && !p.ends_with(".complete"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 190,
        "only {} files in {}",
        files.len(),
        dir.display()
    );

    let (mut converted, mut named, mut undecodable) = (0, 0, 0);
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let judged = ffmpeg::lenient_probe(path).filter(|(.., samples)| *samples > 0);
        let refused_as = extension(path).and_then(|ext| {
            REFUSED_BY_NAME
                .iter()
                .find(|(exts, _)| exts.contains(&ext.as_str()))
                .map(|(_, name)| *name)
        });
        let ours = convert(path);
        if let Some((_, length, rate, why)) = CONTAINER_SAYS.iter().find(|c| c.0 == name) {
            match ours {
                Ok(mp3) => {
                    let out = ffmpeg::probe(&mp3, "mp3");
                    if out.sample_rate != *rate
                        || (out.samples as i64 - *length as i64).abs() > FRAME
                    {
                        failures.push(format!(
                            "{name}: {} samples at {} Hz where the file says {length} at {rate}                              Hz ({why})",
                            out.samples, out.sample_rate
                        ));
                    } else {
                        converted += 1;
                    }
                }
                Err(err) => failures.push(format!("{name}: refused: {err} ({why})")),
            }
            continue;
        }
        match (refused_as, &judged, ours) {
            (_, _, Err(err)) if err.starts_with("PANIC") => failures.push(format!("{name}: {err}")),
            (_, None, Err(_)) => undecodable += 1,
            (_, None, Ok(mp3)) => failures.push(format!(
                "{name}: ffmpeg decodes no audio from it, yet it became an MP3 of {} bytes",
                mp3.len()
            )),
            (Some(format), Some(_), Err(err)) if err.contains(format) => named += 1,
            (Some(format), Some(_), verdict) => failures.push(format!(
                "{name}: should be refused as {format}, got {:?}",
                verdict.map(|mp3| mp3.len())
            )),
            (None, Some((codec, ..)), Err(err)) => {
                failures.push(format!(
                    "{name} ({codec}, ffmpeg decodes it): refused: {err}"
                ));
            }
            (None, Some((codec, rate, _, samples)), Ok(mp3)) => {
                let out = ffmpeg::probe(&mp3, "mp3");
                let expected =
                    (*samples as f64 * f64::from(out.sample_rate) / f64::from(*rate)).round();
                let got = out.samples as i64;
                if (got - expected as i64).abs() > FRAME {
                    failures.push(format!(
                        "{name} ({codec}): {got} samples at {} Hz, ffmpeg decodes {samples} at \
                         {rate} Hz ({expected} at the MP3's rate)",
                        out.sample_rate
                    ));
                } else {
                    converted += 1;
                }
            }
        }
    }
    println!(
        "corpus: {} files: {converted} converted to the right length, {named} refused by name \
         (formats not read), {undecodable} refused that ffmpeg decodes no audio from either, \
         {} failed",
        files.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} corpus files failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

/// ffprobe's reading of a file's title and artist.
fn ffprobe_tags(path: &Path) -> (Option<String>, Option<String>) {
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format_tags=title,artist",
            "-of",
        ])
        .arg("default=noprint_wrappers=1")
        .arg(path)
        .output()
        .expect("ffprobe runs (apt-get install ffmpeg)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    // APE keys keep the file's case ("Title"); the value follows the first '='.
    let field = |key: &str| {
        text.lines().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            k.eq_ignore_ascii_case(&format!("TAG:{key}"))
                .then(|| v.to_owned())
        })
    };
    (field("title"), field("artist"))
}

#[test]
fn the_tags_of_the_formats_read_by_the_engines_own_readers_are_carried_over() {
    // APEv2 at the end (WavPack, TTA), ID3v2 in front (Monkey's Audio), ID3v2 where the DSF
    // header points: the MP3's ID3v2.4 title and artist are what ffprobe reads from the source.
    let dir = corpus();
    for name in [
        "tagged.wv",
        "tagged.tta",
        "mac-399-id3v2.ape",
        "mutagen-with-id3.dsf",
        "mutagen-silence-44-s.wv",
    ] {
        let path = dir.join(name);
        let (title, artist) = ffprobe_tags(&path);
        let mp3 = match convert(&path) {
            Ok(mp3) => mp3,
            // mutagen-with-id3.dsf holds no audio: its tags cannot be carried by an MP3.
            Err(err) if name == "mutagen-with-id3.dsf" => {
                assert!(!err.starts_with("PANIC"), "{name}: {err}");
                continue;
            }
            Err(err) => panic!("{name}: {err}"),
        };
        let frames = video2mp3_mp3check::id3v24_text_frames(&mp3);
        let frame = |id: &str| frames.iter().find(|(k, _)| k == id).map(|(_, v)| v.clone());
        // Several values of one item are joined with "; " (ffprobe shows only the first).
        let first = |v: Option<String>| v.map(|v| v.split("; ").next().unwrap_or("").to_owned());
        assert_eq!(first(frame("TIT2")), title, "{name}: {frames:?}");
        assert_eq!(first(frame("TPE1")), artist, "{name}: {frames:?}");
        if name == "mutagen-silence-44-s.wv" {
            assert_eq!(frame("TPE1").as_deref(), Some("piman; jzig"), "{frames:?}");
        }
    }
}
