//! The cut (`start`/`end`), `channels` and `sample_rate`, checked by FFmpeg: ffprobe says the
//! rate and channels, ffmpeg decodes the MP3 (gapless, as players do) and the samples are
//! compared with the source's own.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::f32::consts::PI;
use std::io::Cursor;
use video2mp3_mp3check::ffmpeg;
use video2mp3_transcode::{Options, TranscodeError, transcode};

const RATE: u32 = 44_100;

/// Four seconds of stereo at 44.1 kHz: 3 kHz on the left, 1.7 kHz on the right, so that a
/// sample's shift and a mix of the two both show.
fn source() -> Vec<[f32; 2]> {
    (0..4 * RATE as usize)
        .map(|i| {
            let t = i as f32 / RATE as f32;
            [
                0.5 * (2.0 * PI * 3000.0 * t).sin(),
                0.3 * (2.0 * PI * 1700.0 * t).sin(),
            ]
        })
        .collect()
}

/// A float WAV (format 3) of `frames` at `rate`.
fn wav(frames: &[[f32; 2]], rate: u32) -> Vec<u8> {
    let data_len = (frames.len() * 8) as u32;
    let mut wav = Vec::new();
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&3u16.to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&rate.to_le_bytes());
    wav.extend_from_slice(&(rate * 8).to_le_bytes());
    wav.extend_from_slice(&8u16.to_le_bytes());
    wav.extend_from_slice(&32u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    for frame in frames {
        for s in frame {
            wav.extend_from_slice(&s.to_le_bytes());
        }
    }
    wav
}

fn convert(input: Vec<u8>, ext: &str, options: &Options) -> Result<Vec<u8>, TranscodeError> {
    let mut out = Cursor::new(Vec::new());
    transcode(Box::new(Cursor::new(input)), Some(ext), &mut out, options)?;
    Ok(out.into_inner())
}

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The RMS difference, in dB against the reference's RMS, between `decoded` and `reference`
/// shifted by `shift` samples, over the middle of both (the edges of an MP3 are not exact).
fn error_db(decoded: &[f32], reference: &[f32], shift: isize) -> f64 {
    let margin = 2048;
    let (mut err, mut energy) = (0f64, 0f64);
    for i in margin..decoded.len() - margin {
        let r = f64::from(reference[(i as isize + shift) as usize]);
        let d = f64::from(decoded[i]);
        err += (d - r) * (d - r);
        energy += r * r;
    }
    10.0 * (err / energy).log10()
}

fn options(start: f64, end: Option<f64>, threads: usize) -> Options {
    Options {
        start,
        end,
        threads,
        segment_frames: 16,
        ..Options::default()
    }
}

#[test]
fn a_cut_keeps_exactly_the_asked_samples_in_place() {
    let source = source();
    let input = wav(&source, RATE);
    // 1.25 s to 2.5 s is samples 55,125 to 110,250; 0.1 s to 0.3 s, 4,410 to 13,230.
    for (start, end, threads) in [(1.25, 2.5, 1), (1.25, 2.5, 2), (0.1, 0.3, 1)] {
        let mp3 = convert(input.clone(), "wav", &options(start, Some(end), threads)).unwrap();
        let probe = ffmpeg::probe(&mp3, "mp3");
        let first = (start * f64::from(RATE)).round() as usize;
        let last = (end * f64::from(RATE)).round() as usize;
        assert_eq!((probe.sample_rate, probe.channels), (RATE, 2));
        assert_eq!(
            probe.samples,
            (last - first) as u64,
            "{start}..{end} s on {threads} thread(s)"
        );
        let left: Vec<f32> = probe.pcm.chunks(2).map(|f| f[0]).collect();
        let reference: Vec<f32> = source.iter().map(|f| f[0]).collect();
        let here = |shift| error_db(&left, &reference[first..], shift);
        let aligned = here(0);
        // A 3 kHz tone one sample off differs by about -8 dB; the MP3 itself by far less.
        assert!(
            aligned < -25.0,
            "{start}..{end}: {aligned:.1} dB from the source"
        );
        for shift in [1, -1] {
            let off = error_db(&left, &reference[first + 1..], shift - 1);
            assert!(
                off > aligned + 10.0,
                "one sample off ({shift}) is as close: {off:.1} dB"
            );
        }
    }
}

#[test]
fn a_cut_from_a_start_runs_to_the_end() {
    let input = wav(&source(), RATE);
    let mp3 = convert(input, "wav", &options(3.0, None, 1)).unwrap();
    assert_eq!(ffmpeg::probe(&mp3, "mp3").samples, u64::from(RATE));
}

#[test]
fn a_start_past_the_end_is_refused_in_words() {
    let input = wav(&source(), RATE);
    let err = convert(input, "wav", &options(5.0, Some(6.0), 1)).unwrap_err();
    assert!(
        matches!(err, TranscodeError::StartPastTheEnd { .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "the start asked for (0:05) is past the end of the audio, which is 0:04 long"
    );
}

#[test]
fn mono_is_the_mean_of_both_channels() {
    let source = source();
    let input = wav(&source, RATE);
    for threads in [1, 2] {
        let mp3 = convert(
            input.clone(),
            "wav",
            &Options {
                channels: Some(1),
                ..options(0.0, None, threads)
            },
        )
        .unwrap();
        let probe = ffmpeg::probe(&mp3, "mp3");
        assert_eq!((probe.channels, probe.samples), (1, source.len() as u64));
        let mean: Vec<f32> = source.iter().map(|f| 0.5 * (f[0] + f[1])).collect();
        let error = error_db(&probe.pcm, &mean, 0);
        assert!(error < -20.0, "{error:.1} dB from the mean of the channels");
    }
}

#[test]
fn a_mono_source_becomes_stereo_when_asked() {
    let mp3 = convert(
        fixture("tone-mono.wav"),
        "wav",
        &Options {
            channels: Some(2),
            ..Options::default()
        },
    )
    .unwrap();
    let probe = ffmpeg::probe(&mp3, "mp3");
    assert_eq!(
        (probe.channels, probe.sample_rate, probe.samples),
        (2, 22_050, 44_100)
    );
    let (left, right): (Vec<f32>, Vec<f32>) = probe.pcm.chunks(2).map(|f| (f[0], f[1])).unzip();
    assert!(
        error_db(&right, &left, 0) < -40.0,
        "both channels carry the source"
    );
}

#[test]
fn surround_folds_to_mono() {
    let stereo = ffmpeg::probe(
        &convert(fixture("formats/aac-5.1.mp4"), "mp4", &Options::default()).unwrap(),
        "mp3",
    );
    let mono = convert(
        fixture("formats/aac-5.1.mp4"),
        "mp4",
        &Options {
            channels: Some(1),
            ..Options::default()
        },
    )
    .unwrap();
    let mono = ffmpeg::probe(&mono, "mp3");
    assert_eq!((stereo.channels, mono.channels), (2, 1));
    assert_eq!(mono.samples, stereo.samples);
}

/// Upward zero crossings per second of the left channel.
fn frequency(pcm: &[f32], channels: usize, rate: u32) -> f64 {
    let left: Vec<f32> = pcm.chunks(channels).map(|f| f[0]).collect();
    let crossings = left
        .windows(2)
        .filter(|w| w[0] < 0.0 && w[1] >= 0.0)
        .count();
    crossings as f64 * f64::from(rate) / left.len() as f64
}

#[test]
fn the_sample_rate_is_the_one_asked_and_the_pitch_stays() {
    let source = source();
    let input = wav(&source, RATE);
    for (rate, kbps) in [
        (22_050, None),
        (48_000, None),
        (16_000, Some(128)),
        (32_000, None),
    ] {
        let mp3 = convert(
            input.clone(),
            "wav",
            &Options {
                sample_rate: Some(rate),
                quality: kbps.map_or(Default::default(), video2mp3_transcode::Quality::Cbr),
                ..options(1.25, Some(2.5), 1)
            },
        )
        .unwrap();
        let probe = ffmpeg::probe(&mp3, "mp3");
        assert_eq!((probe.sample_rate, probe.channels), (rate, 2));
        let expected = (55_125.0 * f64::from(rate) / f64::from(RATE)).ceil() as u64;
        assert_eq!(probe.samples, expected, "1.25 s at {rate} Hz");
        let hz = frequency(&probe.pcm, 2, rate);
        assert!(
            (hz - 3000.0).abs() < 15.0,
            "{rate} Hz: the 3 kHz tone came out at {hz:.0} Hz"
        );
    }
}

#[test]
fn impossible_settings_are_refused() {
    let input = wav(&source(), RATE);
    for bad in [
        Options {
            sample_rate: Some(44_000),
            ..Options::default()
        },
        Options {
            channels: Some(3),
            ..Options::default()
        },
        Options {
            start: -1.0,
            ..Options::default()
        },
        options(2.0, Some(1.0), 1),
    ] {
        let err = convert(input.clone(), "wav", &bad).unwrap_err();
        assert!(
            matches!(err, TranscodeError::Options(_)),
            "{bad:?}: {err:?}"
        );
    }
}

fn normalised(input: Vec<u8>, ext: &str, target: f64, threads: usize) -> Vec<u8> {
    convert(
        input,
        ext,
        &Options {
            loudness: Some(target),
            ..options(0.0, None, threads)
        },
    )
    .unwrap()
}

#[test]
fn loudness_reaches_the_target_under_the_true_peak_ceiling() {
    for (target, threads) in [(-16.0, 1), (-23.0, 2), (-12.0, 1)] {
        let mp3 = normalised(fixture("sample.mp4"), "mp4", target, threads);
        let measured = ffmpeg::loudness(&mp3, "mp3");
        assert!(
            (measured.integrated - target).abs() <= 1.0,
            "asked {target} LUFS, ffmpeg measures {measured:?}"
        );
        assert!(
            measured.true_peak <= video2mp3_transcode::TRUE_PEAK_CEILING_DB,
            "{measured:?}"
        );
        assert_eq!(ffmpeg::probe(&mp3, "mp3").samples, 6 * u64::from(RATE));
    }
}

#[test]
fn peaks_a_quiet_recording_would_push_over_the_ceiling_are_limited() {
    // A 440 Hz tone at -30 dBFS with a full-scale click every half second: raising it to
    // -16 LUFS would lift the clicks 14 dB over full scale.
    let frames: Vec<[f32; 2]> = (0..3 * RATE as usize)
        .map(|i| {
            let s = if i % (RATE as usize / 2) == 1000 {
                1.0
            } else {
                0.0316 * (2.0 * PI * 440.0 * i as f32 / RATE as f32).sin()
            };
            [s, s]
        })
        .collect();
    for threads in [1, 2] {
        let mp3 = normalised(wav(&frames, RATE), "wav", -16.0, threads);
        let measured = ffmpeg::loudness(&mp3, "mp3");
        eprintln!("limited, {threads} thread(s): {measured:?}");
        assert!((measured.integrated + 16.0).abs() <= 1.0, "{measured:?}");
        assert!(
            measured.true_peak <= video2mp3_transcode::TRUE_PEAK_CEILING_DB,
            "{measured:?}"
        );
        assert_eq!(ffmpeg::probe(&mp3, "mp3").samples, frames.len() as u64);
    }
}

#[test]
fn silence_is_left_as_it_is() {
    let silence = vec![[0.0f32; 2]; RATE as usize];
    let mp3 = normalised(wav(&silence, RATE), "wav", -16.0, 1);
    let probe = ffmpeg::probe(&mp3, "mp3");
    assert_eq!(probe.samples, u64::from(RATE));
    assert!(probe.pcm.iter().all(|s| s.abs() < 1e-3));
    assert_eq!(
        video2mp3_mp3check::lame_replay_gain(&mp3),
        None,
        "no gain for silence"
    );
}

#[test]
fn every_mp3_carries_its_replay_gain_in_the_lame_tag() {
    for threads in [1, 2] {
        let mp3 = convert(fixture("sample.mp4"), "mp4", &options(0.0, None, threads)).unwrap();
        let measured = ffmpeg::loudness(&mp3, "mp3");
        // ReplayGain 2.0: the gain that brings the track to -18 LUFS.
        let read_by_ffprobe = ffmpeg::replay_gain(&mp3, "mp3").expect("ffprobe finds a track gain");
        assert!(
            (read_by_ffprobe - (-18.0 - measured.integrated)).abs() <= 0.5,
            "the tag says {read_by_ffprobe} dB; ffmpeg measures {measured:?}"
        );
        let (gain, peak) = video2mp3_mp3check::lame_replay_gain(&mp3).expect("the gain field set");
        assert!((gain - read_by_ffprobe).abs() < 0.05);
        // The peak is the sample peak before encoding; the MP3's own is within a dB or two.
        let peak_db = 20.0 * peak.log10();
        assert!(
            (peak_db - measured.true_peak).abs() < 2.0,
            "peak {peak_db:.1} dBFS vs {measured:?}"
        );
        assert!(
            video2mp3_mp3check::lame_tag_crcs(&mp3).tag_crc_ok,
            "the tag's CRC renewed"
        );
    }
}

#[test]
fn a_track_is_chosen_by_index_or_language_and_every_track_is_listed() {
    use video2mp3_transcode::{AudioTrack, TrackChoice};
    for ext in ["mkv", "mp4"] {
        let input = fixture(&format!("formats/two-languages.{ext}"));
        let run = |track: Option<TrackChoice>| {
            let mut out = Cursor::new(Vec::new());
            let summary = transcode(
                Box::new(Cursor::new(input.clone())),
                Some(ext),
                &mut out,
                &Options {
                    track,
                    ..Options::default()
                },
            )?;
            Ok::<_, TranscodeError>((summary, ffmpeg::probe(&out.into_inner(), "mp3")))
        };
        // The default is the first, marked so: 1 s of 440 Hz mono at 44.1 kHz.
        let (summary, first) = run(None).unwrap();
        assert_eq!(
            (first.channels, first.sample_rate, first.samples),
            (1, 44_100, 44_100),
            "{ext}"
        );
        assert_eq!(summary.track, 0);
        let codec = if ext == "mkv" { "flac" } else { "aac" };
        let listed: Vec<(usize, Option<usize>, Option<&str>)> = summary
            .tracks
            .iter()
            .map(|t: &AudioTrack| (t.index, t.channels, t.language.as_deref()))
            .collect();
        assert_eq!(
            listed,
            [(0, Some(1), Some("eng")), (1, Some(2), Some("fra"))],
            "{ext}"
        );
        assert!(
            summary.tracks.iter().all(|t| t.codec.contains(codec)),
            "{ext}: {:?}",
            summary.tracks
        );
        // The second, by index and by language (any case): 1.5 s of 1 kHz stereo at 48 kHz.
        for choice in [TrackChoice::Index(1), TrackChoice::Language("FRA".into())] {
            let (summary, second) = run(Some(choice.clone())).unwrap();
            assert_eq!(summary.track, 1, "{ext} {choice:?}");
            assert_eq!(
                (second.channels, second.sample_rate, second.samples),
                (2, 48_000, 72_000),
                "{ext} {choice:?}"
            );
            let hz = frequency(&second.pcm, 2, 48_000);
            assert!((hz - 1000.0).abs() < 10.0, "{ext}: {hz} Hz");
        }
        // One that is not there: said so, with the tracks there are.
        for (choice, asked) in [
            (TrackChoice::Index(2), "track 2"),
            (TrackChoice::Language("deu".into()), "track in \"deu\""),
        ] {
            let err = run(Some(choice)).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!(
                    "the file has no audio {asked}; its audio tracks are 0: {codec}, mono, eng; \
                     1: {codec}, stereo, fra"
                ),
                "{ext}"
            );
        }
    }
}
