//! `transcode INPUT -o OUTPUT.mp3 [--quality V2 | --bitrate 192]`: converts one local file and
//! prints a one-line summary (`--part N`: one part of a fanned-out conversion, and its
//! figures). Exit 0 on success, 2 with `error: ...` on a bad input, 1 on I/O.

use clap::Parser;
use std::{fs::File, io::BufWriter, path::PathBuf, process::ExitCode, time::Instant};
use video2mp3_transcode::{Options, Quality, TranscodeError, transcode};

#[derive(Parser)]
#[command(version, about = "Convert the audio of a video or audio file to MP3")]
struct Args {
    /// The file to convert.
    input: PathBuf,
    /// Where to write the MP3.
    #[arg(short, long)]
    output: PathBuf,
    /// VBR quality, V0 (best) to V9.
    #[arg(long, conflicts_with = "bitrate", value_parser = parse_quality)]
    quality: Option<u8>,
    /// Constant bitrate in kbit/s (128, 160, 192, 224, 256, 320).
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(["128", "160", "192", "224", "256", "320"]))]
    bitrate: Option<String>,
    /// Encoding threads (default: one per core; 1 = a single plain LAME stream).
    #[arg(long)]
    threads: Option<usize>,
    /// MP3 frames per segment when encoding on several threads.
    #[arg(long, default_value_t = 256)]
    segment_frames: usize,
    /// Keep the audio from this second on (sample-exact).
    #[arg(long, default_value_t = 0.0)]
    start: f64,
    /// Keep the audio up to this second of the source.
    #[arg(long)]
    end: Option<f64>,
    /// Channels of the MP3: 1 (mono) or 2 (stereo); default the source's.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=2))]
    channels: Option<u8>,
    /// The MP3's sample rate in Hz; default the source's (or the nearest an MP3 can carry).
    #[arg(long)]
    sample_rate: Option<u32>,
    /// Normalise to this integrated loudness in LUFS (e.g. -16), in two passes.
    #[arg(long, allow_hyphen_values = true)]
    loudness: Option<f64>,
    /// The audio track: its index among the file's audio tracks (from 0) or its language.
    #[arg(long)]
    track: Option<String>,
    /// Write no ID3 tag: none of the source's tags, cover art or chapters.
    #[arg(long)]
    strip_tags: bool,
    /// Make only this part (from 0) of a conversion fanned out over workers, in segments of
    /// --segment-frames; prints the part's figures.
    #[arg(long)]
    part: Option<usize>,
}

fn parse_quality(s: &str) -> Result<u8, String> {
    let digits = s.strip_prefix(['V', 'v']).unwrap_or(s);
    match digits.parse::<u8>() {
        Ok(q) if q <= 9 => Ok(q),
        _ => Err(format!("{s:?} is not V0..V9")),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let quality = match (
        args.quality,
        args.bitrate.as_deref().and_then(|b| b.parse().ok()),
    ) {
        (_, Some(kbps)) => Quality::Cbr(kbps),
        (Some(q), None) => Quality::Vbr(q),
        (None, None) => Quality::default(),
    };
    let defaults = Options::default();
    let options = Options {
        quality,
        threads: args.threads.unwrap_or(defaults.threads).max(1),
        segment_frames: args.segment_frames,
        // As the service does: the title is the source's, else the file's name.
        fallback_title: args
            .input
            .file_name()
            .map(|n| n.to_string_lossy().into_owned()),
        start: args.start,
        end: args.end,
        channels: args.channels.map(usize::from),
        sample_rate: args.sample_rate,
        loudness: args.loudness,
        track: args.track.map(|t| match t.parse() {
            Ok(index) => video2mp3_transcode::TrackChoice::Index(index),
            Err(_) => video2mp3_transcode::TrackChoice::Language(t),
        }),
        strip_tags: args.strip_tags,
        part: args.part.map(|index| video2mp3_transcode::Part {
            index,
            segment_frames: args.segment_frames,
        }),
        ..defaults
    };
    let started = Instant::now();
    let result = (|| -> Result<_, TranscodeError> {
        let input = File::open(&args.input)?;
        let mut output = BufWriter::new(File::create(&args.output)?);
        let ext = args.input.extension().and_then(|e| e.to_str());
        transcode(Box::new(input), ext, &mut output, &options)
    })();
    match result {
        Ok(summary) => {
            let secs = summary.duration().as_secs_f64();
            let elapsed = started.elapsed().as_secs_f64().max(1e-6);
            println!(
                "{}: {} {} Hz {} ch, {:.2} s -> {} ({} bytes) in {:.2} s, {:.0}x realtime",
                summary.format,
                summary.codec,
                summary.sample_rate,
                summary.source_channels,
                secs,
                args.output.display(),
                summary.mp3_bytes,
                elapsed,
                secs / elapsed
            );
            if let Some(part) = &summary.part {
                println!(
                    "part {}{}: {} frames, {} bytes, {} samples passed over undecoded{}",
                    part.index,
                    if part.last { " (the last)" } else { "" },
                    part.frames,
                    part.bytes,
                    part.passed_over,
                    if part.without_reservoir {
                        "; encoded again without the bit reservoir"
                    } else {
                        ""
                    },
                );
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            let _ = std::fs::remove_file(&args.output);
            match &err {
                TranscodeError::Io(e) => {
                    eprintln!("error: {}: {e}", args.input.display());
                    ExitCode::from(1)
                }
                _ => {
                    eprintln!("error: {}: {err}", args.input.display());
                    ExitCode::from(2)
                }
            }
        }
    }
}
