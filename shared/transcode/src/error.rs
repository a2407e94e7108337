//! Why a conversion failed, in words a person understands.

use std::time::Duration;

/// Every way a conversion can fail. All but [`TranscodeError::Io`] are about the input itself,
/// so trying again will not help. Exhaustive on purpose: the converter maps each variant to its
/// `FailureReason`, and a new one must get its own.
#[derive(Debug, thiserror::Error)]
pub enum TranscodeError {
    #[error("the file is not an audio or video format we can read")]
    UnrecognisedFormat,
    #[error("the file is {0}; that format is not supported")]
    UnsupportedFormat(&'static str),
    #[error("the file has no audio track")]
    NoAudioTrack,
    #[error("the audio codec {0} is not supported")]
    UnsupportedCodec(String),
    #[error("the audio track is empty")]
    EmptyAudio,
    #[error(
        "the file is incomplete: it ends after {size} bytes but its contents run to {expected} \
         bytes (was the upload or the recording cut short?)"
    )]
    Truncated { size: u64, expected: u64 },
    #[error("the file is damaged near {at:.1} s: {detail}")]
    Corrupt { at: f64, detail: String },
    #[error("the audio is longer than the limit of {}", hours_minutes(*.limit))]
    TooLong { limit: Duration },
    #[error("the audio has {found} channels; at most {limit} are supported")]
    TooManyChannels { found: usize, limit: usize },
    /// A parser panicked; the panic's text (for logs, not for people) is kept.
    #[error("the file is damaged in a way the decoder cannot get past")]
    DecoderCrashed(String),
    #[error(
        "the start asked for ({}) is past the end of the audio, which is {} long",
        seconds(*.start), seconds(*.duration)
    )]
    StartPastTheEnd { start: f64, duration: f64 },
    /// Settings the engine cannot honour (a caller's mistake: the API checks them first).
    #[error("the conversion settings are not possible: {0}")]
    Options(String),
    #[error("the file has no audio track {asked}; its audio tracks are {tracks}")]
    NoSuchTrack { asked: String, tracks: String },
    #[error("the MP3 encoder failed: {0}")]
    Encoder(String),
    #[error("reading or writing failed")]
    Io(#[from] std::io::Error),
}

impl TranscodeError {
    /// Whether the input is at fault (retrying cannot help), rather than the machinery.
    pub fn is_input_error(&self) -> bool {
        !matches!(self, Self::Io(_))
    }
}

/// `75.5` as `1:15.5`, `3723` as `1:02:03`.
fn seconds(s: f64) -> String {
    let whole = s.trunc() as u64;
    let fraction = s - s.trunc();
    let frac = if fraction >= 0.0005 {
        format!("{:.3}", fraction)
            .trim_start_matches('0')
            .trim_end_matches('0')
            .to_owned()
    } else {
        String::new()
    };
    let (h, m, sec) = (whole / 3600, whole / 60 % 60, whole % 60);
    if h > 0 {
        format!("{h}:{m:02}:{sec:02}{frac}")
    } else {
        format!("{m}:{sec:02}{frac}")
    }
}

fn hours_minutes(d: Duration) -> String {
    let minutes = d.as_secs() / 60;
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} minutes"),
        (h, 0) => format!("{h} hours"),
        (h, m) => format!("{h} h {m} min"),
    }
}
