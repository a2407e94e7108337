//! Every container and codec in fixtures/formats (made by tools/fixtures/make-fixtures.sh: one second of
//! 440 Hz on the left and 660 Hz on the right, at half scale) converts to an MP3 that another
//! decoder hears as the same thing: the right rate, channels, length, level and tone per channel.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;
use std::path::PathBuf;
use video2mp3_mp3check as mp3check;
use video2mp3_mp3check::ffmpeg;
use video2mp3_transcode::{Options, TranscodeError, transcode};

struct Case {
    file: &'static str,
    /// Rate of the MP3.
    rate: u32,
    /// Extra samples allowed beyond one second: 0 where the container says where the audio
    /// starts and ends (Opus in WebM through DiscardPadding, which the patched Matroska demuxer
    /// passes on); a codec frame or two where it cannot (ADTS, MP2, and Vorbis and AAC in
    /// Matroska, which ffmpeg writes without an end mark: ffmpeg decodes them as long).
    slack: u64,
}

const fn case(file: &'static str, rate: u32, slack: u64) -> Case {
    Case { file, rate, slack }
}

const CASES: &[Case] = &[
    case("alac.m4a", 44100, 0),
    case("aac.mov", 44100, 0),
    case("aac.3gp", 22050, 0),
    case("mp3-in.mp4", 44100, 0),
    case("adts.aac", 44100, 2048),
    case("aac.mkv", 44100, 2048),
    case("opus.webm", 48000, 0),
    case("vorbis.webm", 48000, 1024),
    case("flac.mkv", 44100, 0),
    case("vorbis.ogg", 44100, 0),
    case("opus.opus", 48000, 0),
    case("flac.ogg", 44100, 0),
    case("tone.flac", 44100, 0),
    case("hires-96k.flac", 48000, 0),
    case("u8.wav", 8000, 0),
    case("s24.wav", 11025, 0),
    case("s32.wav", 11025, 0),
    case("f32.wav", 11025, 0),
    case("f64.wav", 11025, 0),
    case("alaw.wav", 8000, 0),
    case("mulaw.wav", 8000, 0),
    case("s16.aiff", 22050, 0),
    case("s16.caf", 22050, 0),
    case("lame.mp3", 44100, 0),
    case("layer2.mp2", 44100, 1152),
    // AC-3 and E-AC-3 frames are 1536 samples, and ffmpeg marks no end in any of these.
    case("ac3.mkv", 44100, 1536),
    case("ac3.mp4", 48000, 1536),
    case("ac3.ac3", 44100, 1536),
    case("eac3.mkv", 48000, 1536),
    case("eac3.mp4", 48000, 1536),
    case("eac3.eac3", 32000, 1536),
    case("wavpack.wv", 44100, 0),
    case("wavpack-float.wv", 22050, 0),
    case("ape.ape", 44100, 0),
    case("tta.tta", 44100, 0),
    // Musepack: the reference decoder's gapless length (ffmpeg's is whole frames, up to 1152
    // samples longer).
    case("musepack.mpc", 44100, 0),
    case("musepack-sv7.mpc", 44100, 0),
];

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/formats")
        .join(name)
}

fn convert(name: &str) -> Result<Vec<u8>, TranscodeError> {
    let path = path(name);
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let ext = path.extension().and_then(|e| e.to_str());
    let mut out = Cursor::new(Vec::new());
    transcode(Box::new(file), ext, &mut out, &Options::default())?;
    Ok(out.into_inner())
}

#[test]
fn every_common_format_converts_faithfully() {
    let mut failures = Vec::new();
    for case in CASES {
        let mp3 = match convert(case.file) {
            Ok(mp3) => mp3,
            Err(err) => {
                failures.push(format!("{}: {err}", case.file));
                continue;
            }
        };
        let a = mp3check::analyse(mp3);
        let want = u64::from(case.rate);
        let mut problems = Vec::new();
        if (a.sample_rate, a.channels) != (case.rate, 2) {
            problems.push(format!("{} Hz {} ch", a.sample_rate, a.channels));
        }
        if a.frames < want || a.frames > want + case.slack {
            problems.push(format!(
                "{} samples, wanted {want} (+{})",
                a.frames, case.slack
            ));
        }
        // Half-scale sines: RMS 0.3536, kept within 1 dB (lossless ones within 0.01 dB of it
        // in practice); the 3GP is 32 kbit/s AAC, whose coding noise adds about 1 dB.
        let limit_db = if case.file == "aac.3gp" { 1.5 } else { 1.0 };
        let levels_db: Vec<f64> = a.rms.iter().map(|r| 20.0 * (r / 0.3536).log10()).collect();
        if levels_db.iter().any(|db| db.abs() > limit_db) {
            problems.push(format!("levels {levels_db:?} dB"));
        }
        // Left 440 Hz, right 660 Hz: a swapped, mixed or garbled channel shows here.
        let tones = [440.0, 660.0];
        if a.frequency
            .iter()
            .zip(tones)
            .any(|(f, want)| (f - want).abs() > want * 0.06)
        {
            problems.push(format!("tones {:?}", a.frequency));
        }
        if !problems.is_empty() {
            failures.push(format!("{}: {}", case.file, problems.join(", ")));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn speex_converts_to_its_granule_length_at_the_level_ffmpeg_decodes() {
    // speexenc's output of one second of 440 Hz: narrowband mono at half scale, and wideband
    // in-band stereo (the same sine at 0.5 left, 0.25 right). The Ogg granule positions say the
    // first page starts one frame (the codec's delay) before zero and the audio ends at one
    // second: the MP3 is exactly that long. Speex is a speech codec and renders a pure sine
    // quietly (narrowband: about 18 dB low); what it renders must reach the MP3 at the level
    // ffmpeg's own decoding of the file gives, channel by channel.
    for (file, rate, channels) in [("speex-nb.spx", 8000, 1), ("speex-wb-stereo.spx", 16000, 2)] {
        let source = std::fs::read(path(file)).unwrap();
        let reference = ffmpeg::probe(&source, "spx");
        assert_eq!(reference.codec, "speex", "{file}");
        let a = mp3check::analyse(convert(file).unwrap());
        assert_eq!((a.sample_rate, a.channels), (rate, channels), "{file}");
        assert_eq!(a.frames, u64::from(rate), "{file}: length");
        for (ch, rms) in a.rms.iter().enumerate() {
            let want = channel_rms(&reference.pcm, reference.channels, ch);
            let db = 20.0 * (rms / want).log10();
            assert!(
                db.abs() < 0.5,
                "{file}: channel {ch} at {db:.2} dB of ffmpeg's level"
            );
        }
        for f in &a.frequency {
            assert!(
                (f - 440.0).abs() < 440.0 * 0.06,
                "{file}: {:?}",
                a.frequency
            );
        }
    }
}

#[test]
fn a_tracker_module_renders_as_ffmpeg_renders_it_through_libopenmpt() {
    // make-module.py's ProTracker module: 64 rows at 125 BPM and speed 6 (7.68 s), a sine at
    // 259.0 Hz on the left from row 0 and at 517.9 Hz on the right from row 32, both still
    // sounding when the song ends. ffmpeg (libopenmpt) renders it at 48 kHz and fades what
    // still sounds over 100 ms after the end: 7.78 s. The MP3 must have that length to the
    // sample, and each channel its level in each stretch: before the second note, after it,
    // and in the fade.
    let source = std::fs::read(path("tracker.mod")).unwrap();
    let reference = ffmpeg::probe(&source, "mod");
    assert_eq!(reference.sample_rate, 48000);
    assert_eq!(
        reference.samples, 373_440,
        "ffmpeg's own length has changed"
    );
    let mp3 = convert("tracker.mod").unwrap();
    let ours = ffmpeg::probe(&mp3, "mp3");
    assert_eq!((ours.sample_rate, ours.channels), (48000, 2));
    assert_eq!(ours.samples, reference.samples, "length");
    let stretch = |pcm: &[f32], from: f64, to: f64| {
        pcm[(from * 48000.0) as usize * 2..(to * 48000.0) as usize * 2].to_vec()
    };
    for (from, to) in [(0.2, 3.0), (4.0, 7.6), (7.68, 7.78)] {
        let (a, b) = (
            stretch(&ours.pcm, from, to),
            stretch(&reference.pcm, from, to),
        );
        for ch in 0..2 {
            let db = 20.0 * (channel_rms(&a, 2, ch) / channel_rms(&b, 2, ch)).log10();
            assert!(
                db.abs() < 0.5,
                "{from}-{to} s, channel {ch}: {db:.2} dB from ffmpeg's level"
            );
        }
    }
    // The fade ends near silence (its last 10 ms at least 20 dB under the 10 ms before it),
    // and the notes are at their pitch.
    let before = channel_rms(&stretch(&ours.pcm, 7.67, 7.68), 2, 0);
    let last = channel_rms(&stretch(&ours.pcm, 7.77, 7.78), 2, 0);
    assert!(
        20.0 * (last / before).log10() < -20.0,
        "the fade ends at {last} from {before}"
    );
    // ProTracker's pitch on a PAL Amiga, as libopenmpt's: all of a channel's level is in its
    // note's tone (Goertzel over 2.8 s resolves well under the 2.4 Hz by which FastTracker II's
    // scale would be sharp).
    let in_tone = |from: f64, to: f64, ch: usize, freq: f64| {
        let pcm = stretch(&ours.pcm, from, to);
        let level = 20.0 * (channel_rms(&pcm, 2, ch) * 2f64.sqrt()).log10();
        tone_db(&pcm, ch, 48000, freq) - level
    };
    for (from, to, ch, freq) in [(0.2, 3.0, 0, 259.0), (4.5, 7.3, 1, 517.9)] {
        let db = in_tone(from, to, ch, freq);
        assert!(
            db.abs() < 1.0,
            "{from}-{to} s, channel {ch}: {freq} Hz is {db:.1} dB from the channel's level"
        );
    }
    // The module's title is the MP3's.
    let frames = mp3check::id3v24_text_frames(&mp3);
    assert!(
        frames
            .iter()
            .any(|(id, text)| id == "TIT2" && text == "video2mp3 tone"),
        "{frames:?}"
    );
}

/// The RMS level of one channel of interleaved `pcm`.
fn channel_rms(pcm: &[f32], channels: usize, channel: usize) -> f64 {
    let samples: Vec<f64> = pcm
        .iter()
        .skip(channel)
        .step_by(channels)
        .map(|&s| f64::from(s))
        .collect();
    (samples.iter().map(|s| s * s).sum::<f64>() / samples.len().max(1) as f64).sqrt()
}

#[test]
fn the_default_track_of_a_matroska_or_mp4_file_is_taken() {
    // Track 1: 440 Hz, not default. Track 2: 1000 Hz, default: in Matroska FlagDefault left
    // out (which means 1); in MP4 the track header's enabled flag set on track 2 only.
    for file in [
        "two-tracks-second-default.mkv",
        "two-tracks-second-default.mp4",
    ] {
        let a = mp3check::analyse(convert(file).unwrap());
        assert_eq!(a.channels, 1, "{file}: {a:?}");
        assert!((a.frequency[0] - 1000.0).abs() < 60.0, "{file}: {a:?}");
    }
}

/// The level of `freq` in one channel of interleaved stereo `pcm`, in dB relative to a
/// full-scale sine (Goertzel, over a Hann window).
fn tone_db(pcm: &[f32], channel: usize, rate: u32, freq: f64) -> f64 {
    let samples: Vec<f64> = pcm
        .iter()
        .skip(channel)
        .step_by(2)
        .map(|&s| f64::from(s))
        .collect();
    let n = samples.len() as f64;
    let w = 2.0 * std::f64::consts::PI * freq / f64::from(rate);
    let (mut s1, mut s2) = (0.0, 0.0);
    for (i, x) in samples.iter().enumerate() {
        let hann = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n).cos();
        let s0 = x * hann + 2.0 * w.cos() * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - 2.0 * w.cos() * s1 * s2;
    // A full-scale sine gives |X| = n/4 under a Hann window.
    20.0 * (power.sqrt() / (n / 4.0)).max(1e-12).log10()
}

#[test]
fn five_one_is_downmixed_with_every_channel_on_its_side() {
    // Six tones at 0.3 (LFE 0.1): L 300, R 400, C 500, LFE 60, Ls 700, Rs 800 Hz. BS.775 puts
    // L and Ls on the left, R and Rs on the right, C on both, and drops the LFE. Each codec
    // sends the channels in its own order (AAC: C L R Ls Rs LFE; FLAC: L R C LFE Ls Rs; Vorbis:
    // L C R Ls Rs LFE, Opus too), so a channel put in the wrong place shows up here. It did for
    // Vorbis: symphonia's decoder undid the coupling in the wrong order
    // (shared/patched/symphonia-codec-vorbis). Opus goes through libopus's multistream decoder.
    let files = [
        "aac-5.1.mp4",
        "aac-5.1.aac",
        "flac-5.1.flac",
        "vorbis-5.1.ogg",
        "opus-5.1.opus",
        "opus-5.1.webm",
        "ac3-5.1.mkv",
        "eac3-5.1.eac3",
        "wavpack-5.1.wv",
    ];
    let mut failures = Vec::new();
    for file in files {
        let mp3 = match convert(file) {
            Ok(mp3) => mp3,
            Err(err) => {
                failures.push(format!("{file}: {err}"));
                continue;
            }
        };
        let (rate, channels, pcm) = mp3check::decode_pcm(mp3);
        if (rate, channels) != (48000, 2) {
            failures.push(format!("{file}: {rate} Hz, {channels} channels"));
            continue;
        }
        // (frequency, heard on the left, heard on the right)
        let expected = [
            (300.0, true, false),
            (400.0, false, true),
            (500.0, true, true),
            (60.0, false, false),
            (700.0, true, false),
            (800.0, false, true),
        ];
        for (freq, left, right) in expected {
            for (channel, wanted) in [(0, left), (1, right)] {
                let db = tone_db(&pcm, channel, rate, freq);
                // Present: at most 16 dB under 0.3 (-10.5 dBFS) after the fold's scaling
                // (-7.7 dB) and -3 dB; absent: 40 dB under that.
                let ok = if wanted { db > -30.0 } else { db < -60.0 };
                if !ok {
                    let side = if channel == 0 { "left" } else { "right" };
                    failures.push(format!("{file}: {freq} Hz on the {side} at {db:.1} dB"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn a_loud_five_one_downmix_does_not_clip() {
    // Six channels near full scale: summed as BS.775 says they reach twice full scale. FDK's
    // limiter (left on) keeps them in range; with it off a quarter of the samples clipped.
    let (_, _, pcm) = mp3check::decode_pcm(convert("aac-5.1-loud.mp4").unwrap());
    assert_eq!(pcm.len(), 2 * 48000);
    let clipped = pcm.iter().filter(|s| s.abs() >= 0.98).count();
    assert!(
        clipped * 50 < pcm.len(),
        "{clipped} of {} samples at full scale",
        pcm.len()
    );
}

#[test]
fn formats_that_cannot_be_read_are_named() {
    let cases = [
        (
            "refuse-avi.avi",
            "the file is an AVI video; that format is not supported",
        ),
        ("refuse-ts.ts", "MPEG transport stream"),
        ("refuse-wma.wma", "Windows Media"),
        (
            "refuse-opus-family255.mkv",
            "the audio codec opus in 6 channels is not supported",
        ),
        ("refuse-dts.mkv", "the audio codec DTS is not supported"),
    ];
    for (file, message) in cases {
        let err = convert(file).expect_err(file);
        assert!(err.is_input_error(), "{file}: {err:?}");
        assert!(
            err.to_string().contains(message),
            "{file}: {err} (wanted {message:?})"
        );
    }
}

#[test]
fn he_aac_is_decoded_with_its_spectral_band_replication() {
    // HE-AAC carries a 22.05 kHz core plus SBR; a decoder without SBR would give 22.05 kHz
    // audio with nothing above 11 kHz. Made by FDK's encoder, with its delay and a flush tail
    // of silence (the encoder cannot flush), so the length has slack.
    for file in ["he-aac.aac", "he-aac.m4a"] {
        let a = mp3check::analyse(convert(file).unwrap());
        assert_eq!((a.sample_rate, a.channels), (44100, 2), "{file}: {a:?}");
        assert!(
            (44_100..=44_100 + 8192).contains(&a.frames),
            "{file}: {} samples",
            a.frames
        );
        for (f, want) in a.frequency.iter().zip([440.0, 660.0]) {
            assert!(
                (f - want).abs() < want * 0.12,
                "{file}: tones {:?}",
                a.frequency
            );
        }
    }
}

#[test]
fn a_cut_short_mp4_is_called_incomplete() {
    let whole = std::fs::read(path("../sample.mp4")).unwrap();
    let cut = whole[..whole.len() / 3].to_vec();
    let mut out = Cursor::new(Vec::new());
    let err = transcode(
        Box::new(Cursor::new(cut)),
        Some("mp4"),
        &mut out,
        &Options::default(),
    )
    .expect_err("a third of an MP4");
    assert!(matches!(err, TranscodeError::Truncated { .. }), "{err:?}");
    assert!(err.to_string().contains("incomplete"), "{err}");
    // The whole file is not called incomplete.
    let mut out = Cursor::new(Vec::new());
    transcode(
        Box::new(Cursor::new(whole)),
        Some("mp4"),
        &mut out,
        &Options::default(),
    )
    .unwrap();
}

#[test]
fn formats_with_readers_of_their_own_are_read_twice_when_levelled() {
    // Loudness is measured in a first pass, then the source is read again from its start: a
    // reader that could not hand the source back, or gave it back where it stopped, would make
    // the second pass short or empty.
    for file in [
        "wavpack.wv",
        "ape.ape",
        "tta.tta",
        "ac3.ac3",
        "eac3.eac3",
        "musepack.mpc",
        "musepack-sv7.mpc",
    ] {
        let plain = mp3check::analyse(convert(file).unwrap());
        let path = path(file);
        let source = std::fs::File::open(&path).unwrap();
        let mut out = Cursor::new(Vec::new());
        let levelled = Options {
            loudness: Some(-16.0),
            ..Options::default()
        };
        transcode(
            Box::new(source),
            path.extension().and_then(|e| e.to_str()),
            &mut out,
            &levelled,
        )
        .unwrap_or_else(|e| panic!("{file}: {e}"));
        let a = mp3check::analyse(out.into_inner());
        assert_eq!(a.frames, plain.frames, "{file}");
        assert!(a.frames >= u64::from(a.sample_rate), "{file}: {a:?}");
    }
}

/// One second of the 440/660 Hz pair at half scale as 1-bit DSD64 (2.8224 MHz), through a
/// second-order sigma-delta modulator: per channel, bytes with the earliest bit first.
fn dsd_pair() -> Vec<Vec<u8>> {
    let rate = 2_822_400.0;
    [440.0, 660.0]
        .iter()
        .map(|freq| {
            let (mut i1, mut i2, mut y) = (0.0, 0.0, 1.0);
            let bits: Vec<bool> = (0..rate as usize)
                .map(|n| {
                    let x = 0.5 * (2.0 * std::f64::consts::PI * freq * n as f64 / rate).sin();
                    i1 += x - y;
                    i2 += i1 - y;
                    y = if i2 >= 0.0 { 1.0 } else { -1.0 };
                    y > 0.0
                })
                .collect();
            bits.chunks(8)
                .map(|c| c.iter().fold(0u8, |b, &one| b << 1 | u8::from(one)))
                .collect()
        })
        .collect()
}

/// A DSF file (Sony's layout: 4096-byte blocks of each channel in turn, least significant bit
/// first, the last block padded).
fn dsf(channels: &[Vec<u8>]) -> Vec<u8> {
    const BLOCK: usize = 4096;
    let per_channel = channels[0].len();
    let blocks = per_channel.div_ceil(BLOCK);
    let mut data = Vec::new();
    for b in 0..blocks {
        for ch in channels {
            let mut block: Vec<u8> = ch[b * BLOCK..((b + 1) * BLOCK).min(per_channel)]
                .iter()
                .map(|x| x.reverse_bits())
                .collect();
            block.resize(BLOCK, 0);
            data.extend(block);
        }
    }
    // An ID3v2.3 tag after the data, where the header points, with a title.
    let text = b"\0DSD pair";
    let mut id3 = b"ID3\x03\0\0".to_vec();
    id3.extend([0, 0, 0, 10 + text.len() as u8]);
    id3.extend(b"TIT2");
    id3.extend((text.len() as u32).to_be_bytes());
    id3.extend([0, 0]);
    id3.extend(text);
    let mut out = Vec::new();
    let tag_at = 28 + 52 + 12 + data.len() as u64;
    let total = tag_at + id3.len() as u64;
    out.extend(b"DSD ");
    out.extend(28u64.to_le_bytes());
    out.extend(total.to_le_bytes());
    out.extend(tag_at.to_le_bytes());
    out.extend(b"fmt ");
    out.extend(52u64.to_le_bytes());
    for v in [1u32, 0, 2, channels.len() as u32, 2_822_400, 1] {
        out.extend(v.to_le_bytes());
    }
    out.extend((per_channel as u64 * 8).to_le_bytes());
    out.extend((BLOCK as u32).to_le_bytes());
    out.extend(0u32.to_le_bytes());
    out.extend(b"data");
    out.extend((12 + data.len() as u64).to_le_bytes());
    out.extend(data);
    out.extend(id3);
    out
}

/// A DSDIFF file (Philips' layout: big-endian chunks, the channels' bytes interleaved, most
/// significant bit first).
fn dff(channels: &[Vec<u8>]) -> Vec<u8> {
    let chunk = |id: &[u8], body: &[u8]| {
        let mut c = id.to_vec();
        c.extend((body.len() as u64).to_be_bytes());
        c.extend(body);
        c
    };
    let mut chnl = (channels.len() as u16).to_be_bytes().to_vec();
    chnl.extend(b"SLFTSRGT");
    let mut prop = b"SND ".to_vec();
    prop.extend(chunk(b"FS  ", &2_822_400u32.to_be_bytes()));
    prop.extend(chunk(b"CHNL", &chnl));
    prop.extend(chunk(b"CMPR", b"DSD \x0enot compressed\0"));
    let sound: Vec<u8> = (0..channels[0].len())
        .flat_map(|i| channels.iter().map(move |c| c[i]))
        .collect();
    let mut form = b"DSD ".to_vec();
    form.extend(chunk(b"FVER", &0x0105_0000u32.to_be_bytes()));
    form.extend(chunk(b"PROP", &prop));
    form.extend(chunk(b"DSD ", &sound));
    chunk(b"FRM8", &form)
}

#[test]
fn dsd_becomes_pcm_at_the_level_and_tones_another_decoder_hears() {
    // One second made here as DSF and DSDIFF; 0.2 s of the same made by tools/fixtures/
    // make-dsd.py and compressed by WavPack in its fast and its high mode.
    let pair = dsd_pair();
    let fixture = |name: &str| std::fs::read(path(name)).unwrap();
    for (ext, file, seconds) in [
        ("dsf", dsf(&pair), 1.0),
        ("dff", dff(&pair), 1.0),
        ("wv", fixture("wavpack-dsd-fast.wv"), 0.2),
        ("wv", fixture("wavpack-dsd-high.wv"), 0.2),
    ] {
        let mut out = Cursor::new(Vec::new());
        transcode(
            Box::new(Cursor::new(file.clone())),
            Some(ext),
            &mut out,
            &Options::default(),
        )
        .unwrap_or_else(|e| panic!("{ext}: {e}"));
        let mp3 = out.into_inner();
        if ext == "dsf" {
            let frames = mp3check::id3v24_text_frames(&mp3);
            assert!(
                frames.contains(&("TIT2".to_owned(), "DSD pair".to_owned())),
                "the DSF's own tag: {frames:?}"
            );
        }
        let a = mp3check::analyse(mp3.clone());
        // 352.8 kHz after the 1-bit filter, resampled to the nearest MP3 rate.
        let frames = (48000.0 * seconds) as u64;
        assert_eq!(
            (a.sample_rate, a.channels, a.frames),
            (48000, 2, frames),
            "{ext}"
        );
        let levels_db: Vec<f64> = a.rms.iter().map(|r| 20.0 * (r / 0.3536).log10()).collect();
        assert!(
            levels_db.iter().all(|db| db.abs() < 0.5),
            "{ext}: {levels_db:?} dB"
        );
        assert!(
            (a.frequency[0] - 440.0).abs() < 20.0 && (a.frequency[1] - 660.0).abs() < 30.0,
            "{ext}: {:?}",
            a.frequency
        );
        // ffmpeg's DSD decoder, given the same file, hears the same loudness.
        let theirs = ffmpeg::loudness(&file, ext);
        let ours = ffmpeg::loudness(&mp3, "mp3");
        assert!(
            (theirs.integrated - ours.integrated).abs() < 0.5,
            "{ext}: ffmpeg {theirs:?}, ours {ours:?}"
        );
    }
}

#[test]
fn the_tracks_are_told_before_any_audio_is_decoded() {
    use std::sync::{Arc, Mutex};
    // (tracks told, the converted one's index, progress reports seen before the tracks)
    type Seen = (Vec<String>, usize, usize);
    let seen: Arc<Mutex<Option<Seen>>> = Arc::new(Mutex::new(None));
    let progress_reports = Arc::new(Mutex::new(0usize));
    let options = Options {
        track: Some(video2mp3_transcode::TrackChoice::Language("fra".into())),
        probed: Some(video2mp3_transcode::ProbedSink(Arc::new({
            let seen = Arc::clone(&seen);
            let progress_reports = Arc::clone(&progress_reports);
            move |tracks, converted| {
                let mut seen = seen.lock().unwrap();
                if seen.is_none() {
                    let before = *progress_reports.lock().unwrap();
                    *seen = Some((
                        tracks.iter().map(|t| t.to_string()).collect(),
                        converted,
                        before,
                    ));
                }
            }
        }))),
        progress: Some(video2mp3_transcode::ProgressSink(Arc::new({
            let progress_reports = Arc::clone(&progress_reports);
            move |_| *progress_reports.lock().unwrap() += 1
        }))),
        ..Options::default()
    };
    // The two-language files list both tracks; the 6-second sample (whose container gives its
    // length, so progress is reported) shows that the tracks come first.
    for file in ["two-languages.mkv", "two-languages.mp4", "../sample.mp4"] {
        *seen.lock().unwrap() = None;
        *progress_reports.lock().unwrap() = 0;
        let options = Options {
            track: (!file.contains("sample"))
                .then(|| options.track.clone())
                .flatten(),
            ..options.clone()
        };
        let path = path(file);
        let mut out = Cursor::new(Vec::new());
        transcode(
            Box::new(std::fs::File::open(&path).unwrap()),
            path.extension().and_then(|e| e.to_str()),
            &mut out,
            &options,
        )
        .unwrap();
        let (tracks, converted, before) = seen.lock().unwrap().clone().expect(file);
        assert_eq!(before, 0, "{file}: progress came before the tracks");
        if file.contains("sample") {
            assert_eq!((tracks.len(), converted), (1, 0), "{file}: {tracks:?}");
            assert!(
                *progress_reports.lock().unwrap() > 0,
                "{file}: no progress at all"
            );
        } else {
            assert_eq!(tracks.len(), 2, "{file}: {tracks:?}");
            assert!(tracks[1].contains("fra"), "{file}: {tracks:?}");
            assert_eq!(converted, 1, "{file}");
        }
    }
}
