//! Why a job failed, as one closed set: each reason's code is the `Reason` dimension of the
//! converter's `Failures` metric and the `code` of its "job failed" log line, so dashboards and
//! alarms can rely on the names; it is also the job's `error_code` in the API, for clients. What
//! the user reads is a separate sentence, kept on the job as `error`.

use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

/// Why a conversion ended in failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureReason {
    // The upload itself.
    /// The object was gone when the conversion started.
    UploadMissing,
    /// The object's size is not the one announced when the upload URL was issued.
    SizeMismatch,
    /// The object is larger than the converter accepts.
    TooLarge,
    // The input, as the engine found it.
    UnrecognisedFormat,
    UnsupportedFormat,
    NoAudioTrack,
    UnsupportedCodec,
    EmptyAudio,
    Truncated,
    Corrupt,
    TooLong,
    TooManyChannels,
    /// The start asked for lies past the end of the audio.
    StartPastEnd,
    /// The audio track asked for is not in the file.
    NoSuchTrack,
    DecoderCrashed,
    Encoder,
    /// Reading the input failed inside the engine.
    Io,
    // The machinery.
    /// The MP3 could not be stored, for good.
    Store,
    /// A service call failed for good (a refused permission, say).
    Internal,
}

impl FailureReason {
    /// Every reason, in declaration order.
    pub const ALL: [Self; 19] = [
        Self::UploadMissing,
        Self::SizeMismatch,
        Self::TooLarge,
        Self::UnrecognisedFormat,
        Self::UnsupportedFormat,
        Self::NoAudioTrack,
        Self::UnsupportedCodec,
        Self::EmptyAudio,
        Self::Truncated,
        Self::Corrupt,
        Self::TooLong,
        Self::TooManyChannels,
        Self::StartPastEnd,
        Self::NoSuchTrack,
        Self::DecoderCrashed,
        Self::Encoder,
        Self::Io,
        Self::Store,
        Self::Internal,
    ];

    /// The reason's code: snake_case, stable (a metric dimension).
    pub fn code(self) -> &'static str {
        match self {
            Self::UploadMissing => "upload_missing",
            Self::SizeMismatch => "size_mismatch",
            Self::TooLarge => "too_large",
            Self::UnrecognisedFormat => "unrecognised_format",
            Self::UnsupportedFormat => "unsupported_format",
            Self::NoAudioTrack => "no_audio_track",
            Self::UnsupportedCodec => "unsupported_codec",
            Self::EmptyAudio => "empty_audio",
            Self::Truncated => "truncated",
            Self::Corrupt => "corrupt",
            Self::TooLong => "too_long",
            Self::TooManyChannels => "too_many_channels",
            Self::StartPastEnd => "start_past_end",
            Self::NoSuchTrack => "no_such_track",
            Self::DecoderCrashed => "decoder_crashed",
            Self::Encoder => "encoder",
            Self::Io => "io",
            Self::Store => "store",
            Self::Internal => "internal",
        }
    }
}

impl FromStr for FailureReason {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.code() == s)
            .ok_or_else(|| format!("unknown failure reason {s:?}"))
    }
}

impl Serialize for FailureReason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for FailureReason {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::FailureReason;
    use std::collections::HashSet;

    #[test]
    fn every_reason_has_its_own_snake_case_code() {
        let codes: HashSet<&str> = FailureReason::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(codes.len(), FailureReason::ALL.len(), "{codes:?}");
        for code in codes {
            assert!(
                !code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{code}"
            );
        }
    }

    #[test]
    fn codes_parse_back_and_serialise_as_themselves() {
        for reason in FailureReason::ALL {
            assert_eq!(reason.code().parse::<FailureReason>(), Ok(reason));
            assert_eq!(
                serde_json::to_value(reason).ok(),
                Some(serde_json::json!(reason.code()))
            );
        }
        assert!("Corrupt".parse::<FailureReason>().is_err());
    }

    #[test]
    fn all_lists_every_reason() {
        // A new variant must be added to this match, which names each one once, and to ALL.
        let position = |r: FailureReason| match r {
            FailureReason::UploadMissing => 0,
            FailureReason::SizeMismatch => 1,
            FailureReason::TooLarge => 2,
            FailureReason::UnrecognisedFormat => 3,
            FailureReason::UnsupportedFormat => 4,
            FailureReason::NoAudioTrack => 5,
            FailureReason::UnsupportedCodec => 6,
            FailureReason::EmptyAudio => 7,
            FailureReason::Truncated => 8,
            FailureReason::Corrupt => 9,
            FailureReason::TooLong => 10,
            FailureReason::TooManyChannels => 11,
            FailureReason::StartPastEnd => 12,
            FailureReason::NoSuchTrack => 13,
            FailureReason::DecoderCrashed => 14,
            FailureReason::Encoder => 15,
            FailureReason::Io => 16,
            FailureReason::Store => 17,
            FailureReason::Internal => 18,
        };
        for (i, reason) in FailureReason::ALL.iter().enumerate() {
            assert_eq!(position(*reason), i, "{reason:?}");
        }
    }
}
