//! The engine on real files, its output checked by code that is not LAME: the info frame read
//! byte by byte and the MP3 decoded by symphonia's MP3 decoder.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;
use std::path::PathBuf;
use video2mp3_mp3check as mp3check;
use video2mp3_transcode::{Options, Quality, Summary, TranscodeError, transcode};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name)
}

fn convert(name: &str, options: &Options) -> Result<(Summary, Vec<u8>), TranscodeError> {
    let path = fixture(name);
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let ext = path.extension().and_then(|e| e.to_str());
    let mut out = Cursor::new(Vec::new());
    let summary = transcode(Box::new(file), ext, &mut out, options)?;
    Ok((summary, out.into_inner()))
}

/// Decoded length according to the info frame and according to another decoder; both must agree.
fn decoded_frames(mp3: &[u8]) -> (mp3check::InfoFrame, u64) {
    let info = mp3check::info_frame(mp3);
    let (rate, channels, frames) = mp3check::decode(mp3.to_vec());
    assert_eq!((rate, channels), (info.sample_rate, info.channels));
    let gapless = info.frames * info.samples_per_frame - info.delay - info.padding;
    assert_eq!(
        frames, gapless,
        "the decoder and the info frame disagree: {info:?}"
    );
    (info, frames)
}

#[test]
fn an_mp4_converts_to_exactly_the_presented_samples() {
    // fixtures/sample.mp4: 6.000 s of AAC at 44.1 kHz, with 1024 priming samples and padding
    // that its edit list tells players to drop.
    let (summary, mp3) = convert("sample.mp4", &Options::default()).unwrap();
    assert_eq!(
        (summary.format.as_str(), summary.codec.as_str()),
        ("isomp4", "aac")
    );
    assert_eq!(summary.frames, 264_600);
    let (info, frames) = decoded_frames(&mp3);
    assert_eq!((info.sample_rate, info.channels), (44100, 2));
    assert_eq!(frames, 264_600, "{info:?}");
    assert_eq!(summary.mp3_bytes, mp3.len() as u64);
}

#[test]
fn the_mp3_is_tagged_with_the_source_title_and_the_encoder() {
    let (summary, mp3) = convert("sample.mp4", &Options::default()).unwrap();
    assert_eq!(summary.tags.title.as_deref(), Some("Sample clip"));
    let frames = mp3check::id3v24_text_frames(&mp3);
    let get = |id: &str| {
        frames
            .iter()
            .find(|(f, _)| f == id)
            .map(|(_, t)| t.as_str())
    };
    assert_eq!(get("TIT2"), Some("Sample clip"), "{frames:?}");
    assert_eq!(
        get("TSSE"),
        Some(video2mp3_transcode::ENCODER),
        "{frames:?}"
    );
    // The info frame follows the tag: its length arithmetic is checked by decoded_frames.
    decoded_frames(&mp3);

    // A source without a title gets the file name.
    let options = Options {
        fallback_title: Some("holiday café.wav".into()),
        ..Options::default()
    };
    let (_, mp3) = convert("tone-mono.wav", &options).unwrap();
    let frames = mp3check::id3v24_text_frames(&mp3);
    assert!(
        frames.contains(&("TIT2".into(), "holiday café.wav".into())),
        "{frames:?}"
    );
}

#[test]
fn mono_stays_mono_at_its_rate() {
    let (summary, mp3) = convert("tone-mono.wav", &Options::default()).unwrap();
    assert_eq!(summary.channels, 1);
    let (info, frames) = decoded_frames(&mp3);
    assert_eq!((info.sample_rate, info.channels), (22050, 1));
    assert_eq!(frames, 44_100);
}

#[test]
fn output_is_deterministic() {
    let options = Options {
        quality: Quality::Cbr(192),
        ..Options::default()
    };
    let (_, first) = convert("sample.mp4", &options).unwrap();
    let (_, second) = convert("sample.mp4", &options).unwrap();
    assert!(first == second, "two runs gave different bytes");
    let (_, vbr) = convert("sample.mp4", &Options::default()).unwrap();
    assert!(first != vbr, "CBR and VBR outputs should differ");
}

#[test]
fn cbr_frames_carry_the_asked_bitrate() {
    let options = Options {
        quality: Quality::Cbr(320),
        ..Options::default()
    };
    let (_, mp3) = convert("sample.mp4", &options).unwrap();
    decoded_frames(&mp3);
    // MPEG-1 layer III bitrate index 14 is 320 kbit/s; look at a frame in the middle.
    let at = mp3.len() / 2;
    let sync = (at..mp3.len() - 3)
        .find(|&i| mp3[i] == 0xff && mp3[i + 1] == 0xfb && mp3[i + 2] >> 4 != 0xf)
        .unwrap();
    assert_eq!(
        mp3[sync + 2] >> 4,
        14,
        "bitrate index of the frame at {sync}"
    );
}

#[test]
fn a_text_file_is_refused_with_a_clear_error() {
    let err = convert("not-a-video.mp4", &Options::default()).unwrap_err();
    assert!(matches!(err, TranscodeError::UnrecognisedFormat), "{err:?}");
    assert!(err.is_input_error());
    assert_eq!(
        err.to_string(),
        "the file is not an audio or video format we can read"
    );
}

#[test]
fn the_duration_limit_is_enforced() {
    let options = Options {
        max_duration: std::time::Duration::from_secs(2),
        ..Options::default()
    };
    let err = convert("sample.mp4", &options).unwrap_err();
    assert!(matches!(err, TranscodeError::TooLong { .. }), "{err:?}");
}

fn with_threads(threads: usize, segment_frames: usize) -> Options {
    Options {
        threads,
        segment_frames,
        ..Options::default()
    }
}

#[test]
fn parallel_segments_join_seamlessly() {
    // Segments of 8 frames (~0.2 s): the 6 s sample crosses about 28 joins.
    let (_, plain) = convert("sample.mp4", &with_threads(1, 8)).unwrap();
    let (summary, parallel) = convert("sample.mp4", &with_threads(2, 8)).unwrap();
    // Segments keep the bit reservoir (their first frames re-laid): even with a join every
    // 0.2 s the stream is hardly larger than one encoder's (without the reservoir: +12.7%).
    let overhead = parallel.len() as f64 / plain.len() as f64 - 1.0;
    assert!(
        overhead < 0.04,
        "parallel output is {:.1}% larger",
        overhead * 100.0
    );
    assert_eq!(summary.frames, 264_600);
    // The rebuilt info frame agrees with the frames (checked by another decoder) ...
    let (info, frames) = decoded_frames(&parallel);
    assert_eq!(frames, 264_600, "{info:?}");
    assert_eq!(info.delay, 576);
    // ... its CRCs are right ...
    let tag = mp3check::lame_tag_crcs(&parallel);
    assert!(
        tag.tag_crc_ok && tag.music_crc_ok && tag.music_length_ok,
        "{tag:?}"
    );
    // ... and the joins are inaudible: the decoded audio matches one encoder's within -50 dBFS.
    let (_, _, a) = mp3check::decode_pcm(plain);
    let (_, _, b) = mp3check::decode_pcm(parallel);
    let db = mp3check::difference_dbfs(&a, &b);
    eprintln!("parallel vs single-thread: {db:.1} dBFS");
    assert!(
        db < -50.0,
        "parallel and single-thread audio differ by {db:.1} dBFS"
    );
}

#[test]
fn parallel_output_does_not_depend_on_the_thread_count() {
    let (_, two) = convert("sample.mp4", &with_threads(2, 8)).unwrap();
    let (_, four) = convert("sample.mp4", &with_threads(4, 8)).unwrap();
    assert!(two == four, "2 and 4 threads gave different bytes");
    let (_, again) = convert("sample.mp4", &with_threads(2, 8)).unwrap();
    assert!(two == again, "two runs gave different bytes");
}

#[test]
fn one_segment_rebuilds_lames_own_info_frame() {
    // One segment through the parallel path is one LAME stream: the bytes equal the plain
    // encoder's, but for the seek table (computed from byte offsets, not LAME's estimate) and
    // the tag CRC that covers it.
    let (_, plain) = convert("sample.mp4", &with_threads(1, 1000)).unwrap();
    let (_, rebuilt) = convert("sample.mp4", &with_threads(2, 1000)).unwrap();
    assert_eq!(plain.len(), rebuilt.len());
    let info = mp3check::info_frame_offset(&plain);
    let toc = info + 16..info + 116;
    let tag_crc = info + 154..info + 156;
    let differing: Vec<usize> = (0..plain.len())
        .filter(|&i| plain[i] != rebuilt[i] && !toc.contains(&i) && !tag_crc.contains(&i))
        .collect();
    assert!(differing.is_empty(), "bytes differ at {differing:?}");
    assert!(mp3check::lame_tag_crcs(&rebuilt).tag_crc_ok);
}

/// A float WAV (format 3), mono, 8 kHz, holding `samples`.
fn float_wav(samples: &[f32]) -> Vec<u8> {
    let data_len = (samples.len() * 4) as u32;
    let mut wav = Vec::new();
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&3u16.to_le_bytes()); // IEEE float
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&8000u32.to_le_bytes());
    wav.extend_from_slice(&32000u32.to_le_bytes());
    wav.extend_from_slice(&4u16.to_le_bytes());
    wav.extend_from_slice(&32u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        wav.extend_from_slice(&s.to_le_bytes());
    }
    wav
}

#[test]
fn wild_float_samples_are_clipped_not_fatal() {
    // LAME aborts the whole process on samples like these (an assertion in vbrquantize.c);
    // found by tests/robustness.rs on a damaged f32 WAV.
    let mut samples: Vec<f32> = (0..8000).map(|i| (i as f32 * 0.05).sin() * 0.5).collect();
    for (i, wild) in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 1e30, -1e30, 3.0]
        .into_iter()
        .enumerate()
    {
        samples[1000 + i * 997] = wild;
    }
    let mut out = Cursor::new(Vec::new());
    let summary = transcode(
        Box::new(Cursor::new(float_wav(&samples))),
        Some("wav"),
        &mut out,
        &Options::default(),
    )
    .unwrap();
    assert_eq!(summary.frames, 8000);
    let (_, frames) = decoded_frames(&out.into_inner());
    assert_eq!(frames, 8000);
}

#[test]
fn a_flac_predictor_overflow_is_an_error_not_a_crash() {
    // Found by `make fuzz`: a damaged M4A holding FLAC whose LPC predictor overflows an i32 in
    // symphonia-bundle-flac 0.6.1 (a panic where overflow checks are on, as in tests).
    if let Err(err) = convert("fuzz/flac-lpc-add-overflow.bin", &Options::default()) {
        assert!(err.is_input_error(), "{err:?}");
    }
}

#[test]
fn a_parser_panic_becomes_an_error() {
    // 512 bytes of a damaged 24-bit WAV (found by tests/robustness.rs): an extensible header
    // claiming 253 channels with a 2-bit mask makes symphonia-format-riff 0.6.1 shift past 32
    // bits in fix_wave_channel_mask, which panics where overflow checks are on.
    let err = convert("fuzz/riff-channel-mask-shift.wav", &Options::default())
        .expect_err("the damaged header is refused");
    assert!(err.is_input_error(), "{err:?}");
}

#[test]
fn every_quality_keeps_the_rate_and_joins_seamlessly() {
    // Left to itself LAME lowers the rate for low VBR qualities; the rate is pinned, so every
    // quality keeps 44.1 kHz, the exact length, and parallel joins.
    for quality in [
        Quality::Vbr(0),
        Quality::Vbr(9),
        Quality::Cbr(128),
        Quality::Cbr(320),
    ] {
        let options = |threads| Options {
            quality,
            threads,
            segment_frames: 8,
            ..Options::default()
        };
        let (_, plain) = convert("sample.mp4", &options(1)).unwrap();
        let (_, parallel) = convert("sample.mp4", &options(2)).unwrap();
        for mp3 in [&plain, &parallel] {
            let (info, frames) = decoded_frames(mp3);
            assert_eq!((info.sample_rate, frames), (44100, 264_600), "{quality:?}");
        }
        let (_, _, a) = mp3check::decode_pcm(plain);
        let (_, _, b) = mp3check::decode_pcm(parallel);
        let db = mp3check::difference_dbfs(&a, &b);
        assert!(db < -60.0, "{quality:?}: joins differ by {db:.1} dBFS");
    }
}
