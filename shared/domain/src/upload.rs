//! Checking what a client asks to upload. Everything here is enforced server-side: the presigned
//! URL is signed for exactly the validated content type and length.

use crate::job::{AudioOptions, Channels, EncodeSettings, TagsChoice, TrackChoice};
use serde::Deserialize;

/// The longest file name kept, in bytes (most file systems' limit).
pub const MAX_FILENAME_BYTES: usize = 255;

/// The body of `POST /uploads`, as the client sent it.
#[derive(Debug, Clone, Deserialize)]
pub struct UploadRequest {
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    #[serde(default)]
    pub quality: Option<String>,
    #[serde(default)]
    pub bitrate: Option<u16>,
    /// Keep the audio from this second on.
    #[serde(default)]
    pub start: Option<f64>,
    /// Keep the audio up to this second of the source.
    #[serde(default)]
    pub end: Option<f64>,
    /// `mono` or `stereo`.
    #[serde(default)]
    pub channels: Option<String>,
    /// The MP3's sample rate in Hz.
    #[serde(default)]
    pub sample_rate: Option<u32>,
    /// `true` (normalise to -16 LUFS), `false`, or a target in LUFS.
    #[serde(default)]
    pub loudness: Option<Loudness>,
    /// The audio track: its index among the file's audio tracks (from 0) or its language.
    #[serde(default)]
    pub track: Option<TrackChoice>,
    /// `keep` (the default: the source's tags, cover art and chapters) or `strip` (none).
    #[serde(default)]
    pub tags: Option<String>,
    /// Where to POST the job's end (`https`, public addresses only), signed with the user's
    /// webhook key.
    #[serde(default)]
    pub callback_url: Option<String>,
}

/// `loudness` as a client may give it.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Loudness {
    Default(bool),
    Target(f64),
}

/// An upload request that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidUpload {
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    pub settings: EncodeSettings,
    pub options: AudioOptions,
}

/// The highest track index taken.
pub const MAX_TRACK: u32 = 99;

/// The longest a cut may reach into the source, in seconds (a day; the converter's own duration
/// limit is far lower).
pub const MAX_TIME_SECONDS: f64 = 86_400.0;

/// Why an upload request was refused; each message is meant for the person using the client.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValidationError {
    #[error("the file name is empty")]
    EmptyFilename,
    #[error("the file name contains control characters")]
    ControlCharacters,
    #[error("the file name is longer than {MAX_FILENAME_BYTES} bytes")]
    FilenameTooLong,
    #[error("the content type {0:?} is not an audio or video type (audio/* or video/*)")]
    ContentType(String),
    #[error("the file is empty")]
    EmptyFile,
    #[error("the file is {size} bytes; the largest accepted is {max} bytes")]
    TooLarge { size: u64, max: u64 },
    #[error("quality must be one of V0 to V9, not {0:?}")]
    Quality(String),
    #[error("bitrate must be one of 128, 160, 192, 224, 256 or 320 kbit/s, not {0}")]
    Bitrate(u16),
    #[error("give either quality or bitrate, not both")]
    QualityAndBitrate,
    #[error("{field} must be a number of seconds from 0 to {MAX_TIME_SECONDS}, not {value}")]
    Time { field: &'static str, value: f64 },
    #[error("end ({end} s) must be after start ({start} s)")]
    EndBeforeStart { start: f64, end: f64 },
    #[error("channels must be \"mono\" or \"stereo\", not {0:?}")]
    Channels(String),
    #[error(
        "sample_rate must be one of 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100 or 48000 Hz, not {0}"
    )]
    SampleRate(u32),
    #[error(
        "track must be the index of an audio track (0 to {MAX_TRACK}) or a language code such as \"eng\", not {0}"
    )]
    Track(String),
    #[error("loudness must be true (for -16 LUFS) or a target from -50 to -5 LUFS, not {0}")]
    Loudness(f64),
    #[error("tags must be \"keep\" or \"strip\", not {0:?}")]
    Tags(String),
    #[error(
        "a constant bitrate of {kbps} kbit/s needs a sample rate of 32000 Hz or more; below that MP3 carries at most 160 kbit/s"
    )]
    BitrateAtRate { kbps: u16, rate: u32 },
}

impl UploadRequest {
    /// Checks the request against the limits; `max_bytes` is the configured upload maximum.
    pub fn validate(&self, max_bytes: u64) -> Result<ValidUpload, ValidationError> {
        let filename = sanitize_filename(&self.filename)?;
        let content_type = validate_content_type(&self.content_type)?;
        if self.size == 0 {
            return Err(ValidationError::EmptyFile);
        }
        if self.size > max_bytes {
            return Err(ValidationError::TooLarge {
                size: self.size,
                max: max_bytes,
            });
        }
        let settings = match (&self.quality, self.bitrate) {
            (Some(_), Some(_)) => return Err(ValidationError::QualityAndBitrate),
            (Some(q), None) => parse_quality(q)?,
            (None, Some(kbps)) if EncodeSettings::CBR_RATES.contains(&kbps) => {
                EncodeSettings::Cbr { kbps }
            }
            (None, Some(kbps)) => return Err(ValidationError::Bitrate(kbps)),
            (None, None) => EncodeSettings::default(),
        };
        let options = self.options(settings)?;
        Ok(ValidUpload {
            filename,
            content_type,
            size: self.size,
            settings,
            options,
        })
    }

    fn options(&self, settings: EncodeSettings) -> Result<AudioOptions, ValidationError> {
        let time = |field: &'static str, value: Option<f64>| match value {
            Some(v) if !(0.0..=MAX_TIME_SECONDS).contains(&v) || !v.is_finite() => {
                Err(ValidationError::Time { field, value: v })
            }
            _ => Ok(value),
        };
        // A start of 0 is no cut; kept as asked all the same.
        let start = time("start", self.start)?;
        let end = time("end", self.end)?;
        if let Some(end) = end {
            let start = start.unwrap_or(0.0);
            if end <= start {
                return Err(ValidationError::EndBeforeStart { start, end });
            }
        }
        let channels = match self
            .channels
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None => None,
            Some("mono") => Some(Channels::Mono),
            Some("stereo") => Some(Channels::Stereo),
            Some(_) => {
                return Err(ValidationError::Channels(
                    self.channels.clone().unwrap_or_default(),
                ));
            }
        };
        if let Some(rate) = self.sample_rate {
            if !AudioOptions::SAMPLE_RATES.contains(&rate) {
                return Err(ValidationError::SampleRate(rate));
            }
            // MPEG-2 and 2.5 (below 32 kHz) stop at 160 kbit/s.
            if let EncodeSettings::Cbr { kbps } = settings
                && rate < 32_000
                && kbps > 160
            {
                return Err(ValidationError::BitrateAtRate { kbps, rate });
            }
        }
        let loudness = match self.loudness {
            None | Some(Loudness::Default(false)) => None,
            Some(Loudness::Default(true)) => Some(AudioOptions::DEFAULT_LOUDNESS),
            Some(Loudness::Target(t)) if AudioOptions::LOUDNESS_RANGE.contains(&t) => Some(t),
            Some(Loudness::Target(t)) => return Err(ValidationError::Loudness(t)),
        };
        let track = match &self.track {
            Some(TrackChoice::Index(i)) if *i > MAX_TRACK => {
                return Err(ValidationError::Track(i.to_string()));
            }
            Some(TrackChoice::Language(l))
                if !(2..=8).contains(&l.len())
                    || !l.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-') =>
            {
                return Err(ValidationError::Track(format!("{l:?}")));
            }
            other => other.clone(),
        };
        let tags = match self.tags.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("keep") => None,
            Some("strip") => Some(TagsChoice::Strip),
            Some(_) => return Err(ValidationError::Tags(self.tags.clone().unwrap_or_default())),
        };
        Ok(AudioOptions {
            start,
            end,
            channels,
            sample_rate: self.sample_rate,
            loudness,
            track,
            tags,
        })
    }
}

fn parse_quality(q: &str) -> Result<EncodeSettings, ValidationError> {
    let bad = || ValidationError::Quality(q.to_owned());
    let digits = q.strip_prefix(['V', 'v']).ok_or_else(bad)?;
    match digits.parse::<u8>() {
        Ok(quality) if quality <= 9 && digits.len() == 1 => Ok(EncodeSettings::Vbr { quality }),
        _ => Err(bad()),
    }
}

/// Reduces a client's file name to a safe base name: the last path component (some browsers
/// send `C:\Users\...\clip.mp4`), trimmed of spaces and dots at the ends. Names that are empty
/// afterwards, that hold control characters, or that are too long are refused.
pub fn sanitize_filename(raw: &str) -> Result<String, ValidationError> {
    if raw.chars().any(char::is_control) {
        return Err(ValidationError::ControlCharacters);
    }
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let name = base.trim().trim_matches('.').trim();
    if name.is_empty() {
        return Err(ValidationError::EmptyFilename);
    }
    if name.len() > MAX_FILENAME_BYTES {
        return Err(ValidationError::FilenameTooLong);
    }
    Ok(name.to_owned())
}

fn validate_content_type(raw: &str) -> Result<String, ValidationError> {
    let ct = raw.trim().to_ascii_lowercase();
    let bad = || ValidationError::ContentType(raw.to_owned());
    let (kind, subtype) = ct.split_once('/').ok_or_else(bad)?;
    let token = |s: &str| {
        !s.is_empty()
            && s.len() <= 100
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
    };
    if matches!(kind, "audio" | "video") && token(subtype) {
        Ok(ct)
    } else {
        Err(bad())
    }
}

/// The smallest part of a multipart upload (S3 takes 5 MiB; 8 MiB keeps the count down): an
/// upload of at most this size is one presigned PUT, anything larger goes in parts.
pub const MIN_PART_BYTES: u64 = 8 * 1024 * 1024;
/// The most parts S3 takes in one upload.
pub const MAX_PARTS: u64 = 10_000;

/// How an upload of `size` bytes is cut into parts: all `part_size` long but the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartPlan {
    pub size: u64,
    pub part_size: u64,
    pub parts: u32,
}

/// What a multipart upload still lacks before it can be completed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartsError {
    #[error("{} of {total} parts are not uploaded yet (part {})", .missing.len(), .missing[0])]
    Missing { missing: Vec<u32>, total: u32 },
    #[error("part {number} is {size} bytes; it must be {expected}")]
    WrongSize {
        number: u32,
        size: u64,
        expected: u64,
    },
}

impl PartPlan {
    /// The parts for `size` bytes: at least [`MIN_PART_BYTES`] each (whole MiB), at most
    /// [`MAX_PARTS`]; `None` when one PUT carries it.
    pub fn for_size(size: u64) -> Option<Self> {
        if size <= MIN_PART_BYTES {
            return None;
        }
        const MIB: u64 = 1024 * 1024;
        let needed = size.div_ceil(MAX_PARTS).div_ceil(MIB) * MIB;
        let part_size = needed.max(MIN_PART_BYTES);
        let parts = u32::try_from(size.div_ceil(part_size)).ok()?;
        Some(Self {
            size,
            part_size,
            parts,
        })
    }

    /// The length of part `number` (1-based).
    pub fn part_len(&self, number: u32) -> u64 {
        if number == self.parts {
            self.size - self.part_size * u64::from(self.parts - 1)
        } else {
            self.part_size
        }
    }

    /// Whether the parts held (number, size) make the whole upload, each of its length.
    pub fn check(&self, held: &[(u32, u64)]) -> Result<(), PartsError> {
        for &(number, size) in held {
            let expected = self.part_len(number);
            if number >= 1 && number <= self.parts && size != expected {
                return Err(PartsError::WrongSize {
                    number,
                    size,
                    expected,
                });
            }
        }
        let missing: Vec<u32> = (1..=self.parts)
            .filter(|n| !held.iter().any(|(h, _)| h == n))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(PartsError::Missing {
                missing,
                total: self.parts,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(filename: &str, content_type: &str, size: u64) -> UploadRequest {
        UploadRequest {
            filename: filename.into(),
            content_type: content_type.into(),
            size,
            quality: None,
            bitrate: None,
            start: None,
            end: None,
            channels: None,
            sample_rate: None,
            loudness: None,
            track: None,
            tags: None,
            callback_url: None,
        }
    }

    #[test]
    fn a_plain_request_gets_the_default_v2() {
        let v = request("clip.mp4", "video/mp4", 10).validate(100);
        assert_eq!(
            v,
            Ok(ValidUpload {
                filename: "clip.mp4".into(),
                content_type: "video/mp4".into(),
                size: 10,
                settings: EncodeSettings::Vbr { quality: 2 },
                options: AudioOptions::default(),
            })
        );
    }

    #[test]
    fn file_names_are_reduced_to_a_safe_base_name() {
        assert_eq!(
            sanitize_filename("C:\\Users\\me\\clip.mp4").as_deref(),
            Ok("clip.mp4")
        );
        assert_eq!(
            sanitize_filename("../../etc/passwd").as_deref(),
            Ok("passwd")
        );
        assert_eq!(
            sanitize_filename("  my video café.mov ").as_deref(),
            Ok("my video café.mov")
        );
        assert_eq!(sanitize_filename(".."), Err(ValidationError::EmptyFilename));
        assert_eq!(
            sanitize_filename("dir/"),
            Err(ValidationError::EmptyFilename)
        );
        assert_eq!(sanitize_filename(""), Err(ValidationError::EmptyFilename));
        assert_eq!(
            sanitize_filename("a\nb.mp4"),
            Err(ValidationError::ControlCharacters)
        );
        assert_eq!(
            sanitize_filename(&"x".repeat(300)),
            Err(ValidationError::FilenameTooLong)
        );
    }

    #[test]
    fn limits_and_types_are_enforced() {
        assert_eq!(
            request("a.mp4", "video/mp4", 101).validate(100),
            Err(ValidationError::TooLarge {
                size: 101,
                max: 100
            })
        );
        assert_eq!(
            request("a.mp4", "video/mp4", 0).validate(100),
            Err(ValidationError::EmptyFile)
        );
        for ct in [
            "text/plain",
            "video",
            "video/",
            "application/mp4",
            "video/mp4\r\nx: y",
        ] {
            assert!(
                matches!(
                    request("a.mp4", ct, 1).validate(100),
                    Err(ValidationError::ContentType(_))
                ),
                "{ct:?} should be refused"
            );
        }
        assert!(request("a.mp3", "Audio/MPEG", 1).validate(100).is_ok());
    }

    #[test]
    fn quality_and_bitrate_are_checked() {
        let mut r = request("a.wav", "audio/wav", 1);
        r.quality = Some("V0".into());
        assert_eq!(
            r.validate(9).map(|v| v.settings),
            Ok(EncodeSettings::Vbr { quality: 0 })
        );
        r.quality = Some("V10".into());
        assert_eq!(r.validate(9), Err(ValidationError::Quality("V10".into())));
        r.quality = None;
        r.bitrate = Some(192);
        assert_eq!(
            r.validate(9).map(|v| v.settings),
            Ok(EncodeSettings::Cbr { kbps: 192 })
        );
        r.bitrate = Some(150);
        assert_eq!(r.validate(9), Err(ValidationError::Bitrate(150)));
        r.quality = Some("V2".into());
        r.bitrate = Some(192);
        assert_eq!(r.validate(9), Err(ValidationError::QualityAndBitrate));
    }

    #[test]
    fn cut_channels_and_rate_are_checked() {
        let mut r = request("clip.mp4", "video/mp4", 10);
        r.start = Some(1.5);
        r.end = Some(3.25);
        r.channels = Some("Mono".into());
        r.sample_rate = Some(22050);
        let options = r.validate(100).map(|v| v.options);
        assert_eq!(
            options,
            Ok(AudioOptions {
                start: Some(1.5),
                end: Some(3.25),
                channels: Some(Channels::Mono),
                sample_rate: Some(22050),
                loudness: None,
                track: None,
                tags: None,
            })
        );
        r.end = Some(1.5);
        assert_eq!(
            r.validate(100),
            Err(ValidationError::EndBeforeStart {
                start: 1.5,
                end: 1.5
            })
        );
        r.end = None;
        r.start = Some(-1.0);
        assert!(matches!(
            r.validate(100),
            Err(ValidationError::Time { field: "start", .. })
        ));
        r.start = Some(f64::NAN);
        assert!(r.validate(100).is_err(), "NaN");
        r.start = None;
        r.end = Some(0.0);
        assert!(matches!(
            r.validate(100),
            Err(ValidationError::EndBeforeStart { .. })
        ));
        r.end = None;
        r.channels = Some("5.1".into());
        assert_eq!(
            r.validate(100),
            Err(ValidationError::Channels("5.1".into()))
        );
        r.channels = None;
        r.sample_rate = Some(44000);
        assert_eq!(r.validate(100), Err(ValidationError::SampleRate(44000)));
        r.sample_rate = Some(22050);
        r.bitrate = Some(160);
        assert!(r.validate(100).is_ok(), "MPEG-2 carries 160 kbit/s");
        r.bitrate = Some(192);
        assert_eq!(
            r.validate(100),
            Err(ValidationError::BitrateAtRate {
                kbps: 192,
                rate: 22050
            })
        );
        r.bitrate = None;
        for (given, target) in [
            ("true", Some(-16.0)),
            ("false", None),
            ("-23", Some(-23.0)),
            ("-14.5", Some(-14.5)),
        ] {
            r.loudness = serde_json::from_str(given).unwrap();
            assert_eq!(
                r.validate(100).map(|v| v.options.loudness),
                Ok(target),
                "{given}"
            );
        }
        for (given, expected) in [
            ("strip", Some(TagsChoice::Strip)),
            ("Strip", Some(TagsChoice::Strip)),
            ("keep", None),
        ] {
            r.tags = Some(given.into());
            assert_eq!(
                r.validate(100).map(|v| v.options.tags),
                Ok(expected),
                "{given}"
            );
        }
        r.tags = Some("remove".into());
        assert_eq!(r.validate(100), Err(ValidationError::Tags("remove".into())));
        assert_eq!(
            ValidationError::Tags("remove".into()).to_string(),
            "tags must be \"keep\" or \"strip\", not \"remove\""
        );
        r.tags = None;
        for given in ["0", "-60", "3"] {
            r.loudness = serde_json::from_str(given).unwrap();
            assert!(
                matches!(r.validate(100), Err(ValidationError::Loudness(_))),
                "{given}"
            );
        }
        r.loudness = None;
        for (given, ok) in [
            ("1", true),
            ("\"fra\"", true),
            ("100", false),
            ("\"\"", false),
            ("\"e n\"", false),
        ] {
            r.track = serde_json::from_str(given).unwrap();
            assert_eq!(r.validate(100).is_ok(), ok, "{given}");
        }
        let message = ValidationError::SampleRate(44000).to_string();
        assert!(
            message.contains("44100") && message.contains("44000"),
            "{message}"
        );
    }

    #[test]
    fn large_uploads_are_cut_into_parts_s3_takes() {
        assert_eq!(PartPlan::for_size(MIN_PART_BYTES), None, "one PUT");
        let plan = PartPlan::for_size(MIN_PART_BYTES + 1).unwrap();
        assert_eq!((plan.part_size, plan.parts), (MIN_PART_BYTES, 2));
        assert_eq!((plan.part_len(1), plan.part_len(2)), (MIN_PART_BYTES, 1));
        // 5 TiB: 10,000 parts of 525 MiB at most.
        let huge = PartPlan::for_size(5 * 1024u64.pow(4)).unwrap();
        assert!(huge.parts as u64 <= MAX_PARTS, "{huge:?}");
        assert_eq!(huge.part_size % (1024 * 1024), 0);
        assert_eq!(
            huge.part_size * u64::from(huge.parts - 1) + huge.part_len(huge.parts),
            huge.size
        );
        for size in [
            MIN_PART_BYTES * 3,
            MIN_PART_BYTES * 3 + 7,
            200 * 1024 * 1024 * 1024,
        ] {
            let p = PartPlan::for_size(size).unwrap();
            let total: u64 = (1..=p.parts).map(|n| p.part_len(n)).sum();
            assert_eq!(total, size);
            assert!(p.part_len(p.parts) > 0 && p.part_len(p.parts) <= p.part_size);
        }
    }

    #[test]
    fn a_multipart_upload_is_whole_only_with_every_part_of_its_length() {
        let plan = PartPlan::for_size(MIN_PART_BYTES * 2 + 10).unwrap();
        let m = MIN_PART_BYTES;
        assert_eq!(plan.check(&[(1, m), (2, m), (3, 10)]), Ok(()));
        assert_eq!(
            plan.check(&[(1, m), (3, 10)]),
            Err(PartsError::Missing {
                missing: vec![2],
                total: 3
            })
        );
        assert_eq!(
            plan.check(&[(1, m), (2, m - 1), (3, 10)]),
            Err(PartsError::WrongSize {
                number: 2,
                size: m - 1,
                expected: m
            })
        );
        assert_eq!(
            plan.check(&[(1, m), (2, m), (3, 11)]),
            Err(PartsError::WrongSize {
                number: 3,
                size: 11,
                expected: 10
            })
        );
    }
}
