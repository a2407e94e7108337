//! What FFmpeg's own tools say of a file: `ffprobe` for the stream's rate and channels, `ffmpeg`
//! to decode it (its MP3 decoder honours the LAME tag's delay and padding, as gapless players do)
//! and to measure loudness. Neither shares code with the encoder or with symphonia.
//!
//! The tools must be installed (`make test` installs Debian's ffmpeg); a missing one fails the
//! test with how to install it, never skips it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A file FFmpeg reads: written to a temporary path that is removed when this is dropped.
pub struct TempFile(PathBuf);

impl TempFile {
    pub fn new(bytes: &[u8], extension: &str) -> Self {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("mp3check-{}-{n}.{extension}", std::process::id()));
        std::fs::write(&path, bytes).expect("writing a temporary file");
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn run(tool: &str, args: &[&std::ffi::OsStr]) -> std::process::Output {
    let output = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!(
            "{tool} could not be run ({e}): install FFmpeg (Debian: apt-get install ffmpeg; \
             `make test` installs it)"
        )
    });
    assert!(
        output.status.success(),
        "{tool} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The first audio stream as ffprobe and ffmpeg see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub codec: String,
    pub sample_rate: u32,
    pub channels: usize,
    /// Samples per channel that ffmpeg decodes (after the gapless trim).
    pub samples: u64,
    /// Those samples, interleaved.
    pub pcm: Vec<f32>,
}

impl Probe {
    pub fn seconds(&self) -> f64 {
        self.samples as f64 / f64::from(self.sample_rate)
    }
}

/// Probes and decodes `mp3` (any file FFmpeg reads; the name's extension is `extension`).
pub fn probe(bytes: &[u8], extension: &str) -> Probe {
    let file = TempFile::new(bytes, extension);
    probe_file(file.path())
}

pub fn probe_file(path: &Path) -> Probe {
    let (codec, sample_rate, channels) = stream_info(path);
    let pcm = decode(path);
    Probe {
        codec,
        sample_rate,
        channels,
        samples: (pcm.len() / channels.max(1)) as u64,
        pcm,
    }
}

/// What FFmpeg makes of any file, damaged or not: `None` when ffprobe finds no audio stream in
/// it, else the stream's codec, rate and channels and how many samples per channel ffmpeg decodes
/// from it (0 when it decodes none), errors on the way notwithstanding.
pub fn lenient_probe(path: &Path) -> Option<(String, u32, usize, u64)> {
    let tool = |name: &str, args: &[&std::ffi::OsStr]| {
        Command::new(name).args(args).output().unwrap_or_else(|e| {
            panic!("{name} could not be run ({e}): install FFmpeg (Debian: apt-get install ffmpeg)")
        })
    };
    let out = tool(
        "ffprobe",
        &[
            "-v".as_ref(),
            "quiet".as_ref(),
            "-select_streams".as_ref(),
            "a:0".as_ref(),
            "-show_entries".as_ref(),
            "stream=codec_name,sample_rate,channels".as_ref(),
            "-of".as_ref(),
            "default=noprint_wrappers=1".as_ref(),
            path.as_os_str(),
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .map(str::to_owned)
    };
    let codec = field("codec_name")?;
    let rate = field("sample_rate")?.parse().ok()?;
    let channels: usize = field("channels")?.parse().ok()?;
    let out = tool(
        "ffmpeg",
        &[
            "-v".as_ref(),
            "quiet".as_ref(),
            "-i".as_ref(),
            path.as_os_str(),
            "-map".as_ref(),
            "0:a:0".as_ref(),
            "-f".as_ref(),
            "f32le".as_ref(),
            "-".as_ref(),
        ],
    );
    let samples = (out.stdout.len() / 4 / channels.max(1)) as u64;
    Some((codec, rate, channels, samples))
}

/// The chapters ffprobe reads from `bytes` (a file with `extension`): start and end in
/// milliseconds, and the title.
pub fn chapters(bytes: &[u8], extension: &str) -> Vec<(u64, u64, Option<String>)> {
    let file = TempFile::new(bytes, extension);
    let out = run(
        "ffprobe",
        &[
            "-v".as_ref(),
            "error".as_ref(),
            "-show_chapters".as_ref(),
            "-of".as_ref(),
            "compact=nokey=0".as_ref(),
            file.path().as_os_str(),
        ],
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("chapter|"))
        .map(|line| {
            let field = |name: &str| {
                line.split('|')
                    .find_map(|f| f.strip_prefix(&format!("{name}=")))
                    .map(str::to_owned)
            };
            let ms = |name: &str| {
                field(name)
                    .and_then(|v| v.parse::<f64>().ok())
                    .map_or(0, |s| (s * 1000.0).round() as u64)
            };
            (ms("start_time"), ms("end_time"), field("tag:title"))
        })
        .collect()
}

/// The codec of the attached picture ffprobe finds in `bytes` (`mjpeg`, `png`), if any.
pub fn cover(bytes: &[u8], extension: &str) -> Option<String> {
    let file = TempFile::new(bytes, extension);
    let out = run(
        "ffprobe",
        &[
            "-v".as_ref(),
            "error".as_ref(),
            "-show_entries".as_ref(),
            "stream=codec_name:stream_disposition=attached_pic".as_ref(),
            "-of".as_ref(),
            "compact".as_ref(),
            file.path().as_os_str(),
        ],
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.contains("attached_pic=1"))
        .and_then(|l| {
            l.split('|')
                .find_map(|f| f.strip_prefix("codec_name="))
                .map(str::to_owned)
        })
}

/// Decodes the first audio stream to interleaved f32 with ffmpeg, channels and rate unchanged.
fn decode(path: &Path) -> Vec<f32> {
    let out = run(
        "ffmpeg",
        &[
            "-v".as_ref(),
            "error".as_ref(),
            "-i".as_ref(),
            path.as_os_str(),
            "-map".as_ref(),
            "0:a:0".as_ref(),
            "-f".as_ref(),
            "f32le".as_ref(),
            "-".as_ref(),
        ],
    );
    out.stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// The samples per channel ffmpeg decodes from `bytes` (any file it reads; the name's extension
/// is `extension`), and the channels: counted as its PCM streams by, so an hours-long file
/// costs no memory (`probe` holds the PCM).
pub fn decoded_samples(bytes: &[u8], extension: &str) -> (u64, usize) {
    use std::io::Read;
    let file = TempFile::new(bytes, extension);
    let (_, _, channels) = stream_info(file.path());
    let mut child = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(file.path())
        .args(["-map", "0:a:0", "-f", "s16le", "-"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("ffmpeg could not be run ({e}): install FFmpeg (Debian: apt-get install ffmpeg)")
        });
    let mut stdout = child.stdout.take().expect("ffmpeg's stdout");
    let (mut bytes_out, mut buf) = (0u64, vec![0u8; 1 << 20]);
    loop {
        match stdout.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => bytes_out += n as u64,
            Err(e) => panic!("reading ffmpeg's output: {e}"),
        }
    }
    assert!(
        child.wait().expect("ffmpeg ran").success(),
        "ffmpeg failed to decode"
    );
    (bytes_out / (2 * channels.max(1) as u64), channels)
}

/// The first audio stream's codec, sample rate and channels, as ffprobe reads them.
fn stream_info(path: &Path) -> (String, u32, usize) {
    let out = run(
        "ffprobe",
        &[
            "-v".as_ref(),
            "error".as_ref(),
            "-select_streams".as_ref(),
            "a:0".as_ref(),
            "-show_entries".as_ref(),
            "stream=codec_name,sample_rate,channels".as_ref(),
            "-of".as_ref(),
            "default=noprint_wrappers=1".as_ref(),
            path.as_os_str(),
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("ffprobe gave no {name}: {text}"))
            .to_owned()
    };
    (
        field("codec_name"),
        field("sample_rate").parse().expect("ffprobe's sample rate"),
        field("channels").parse().expect("ffprobe's channels"),
    )
}

/// EBU R128 figures from ffmpeg's `ebur128` filter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Loudness {
    /// Integrated loudness, LUFS.
    pub integrated: f64,
    /// True peak, dBTP.
    pub true_peak: f64,
}

/// Measures `bytes` (a file FFmpeg reads) with `ebur128=peak=true`.
pub fn loudness(bytes: &[u8], extension: &str) -> Loudness {
    let file = TempFile::new(bytes, extension);
    let out = run(
        "ffmpeg",
        &[
            "-nostats".as_ref(),
            "-hide_banner".as_ref(),
            "-i".as_ref(),
            file.path().as_os_str(),
            "-map".as_ref(),
            "0:a:0".as_ref(),
            "-af".as_ref(),
            "ebur128=peak=true".as_ref(),
            "-f".as_ref(),
            "null".as_ref(),
            "-".as_ref(),
        ],
    );
    // The summary comes last on stderr: "I:  -16.0 LUFS" and "Peak:  -1.2 dBFS".
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    let summary = &text[text.rfind("Summary:").expect("ebur128's summary")..];
    let value = |label: &str| -> f64 {
        summary
            .lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {label} in ebur128's summary: {summary}"))
    };
    Loudness {
        integrated: value("I:"),
        true_peak: value("Peak:"),
    }
}

/// The track gain ffprobe reads from the file's ReplayGain (the LAME tag's, for an MP3), dB.
pub fn replay_gain(bytes: &[u8], extension: &str) -> Option<f64> {
    let file = TempFile::new(bytes, extension);
    let out = run(
        "ffprobe",
        &["-hide_banner".as_ref(), file.path().as_os_str()],
    );
    // "replaygain: track gain - 0.800000, track peak - ..."
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    let at = text.find("track gain - ")?;
    text[at + "track gain - ".len()..]
        .split(',')
        .next()
        .and_then(|v| v.trim().parse().ok())
}
