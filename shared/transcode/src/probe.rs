//! The first stage: what the source holds. Sniffs the container, reads what symphonia misses
//! (MP4 edit lists; the default-track marks of MP4 and Matroska), probes, chooses the audio
//! track and its trim, and refuses early what the limits refuse, before anything is decoded.

use crate::error::TranscodeError;
use crate::limits::Limits;
use crate::trim::Trim;
use crate::{mkvtracks, mp4, names, patch};
use std::io::{Read, Seek, SeekFrom};
use symphonia::core::codecs::audio::AudioCodecParameters;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;

/// The source, opened at its audio track.
pub(crate) struct Probed {
    pub format: Box<dyn FormatReader>,
    /// symphonia's short name of the container (`isomp4`, `wav`...).
    pub format_name: String,
    pub track_id: u32,
    pub params: AudioCodecParameters,
    /// The codec as people name it.
    pub codec_name: String,
    /// The track's length in its own frames, when the container says it.
    pub track_frames: Option<u64>,
    pub trim: Trim,
    /// Every audio track, and the index of the one chosen among them.
    pub tracks: Vec<crate::AudioTrack>,
    pub track: usize,
    /// Chapters symphonia does not read (an MP4's Nero `chpl`): start in seconds, title.
    pub chapters: Vec<(f64, Option<String>)>,
}

/// Opens `source` (`extension` is a hint, not trusted) at the audio track to convert.
pub(crate) fn probe(
    mut source: Box<dyn MediaSource>,
    extension: Option<&str>,
    limits: &Limits,
    options: &crate::Options,
) -> Result<Probed, TranscodeError> {
    let known = options.mp4_index.as_ref();
    let head = if source.is_seekable() {
        read_head(&mut source)?
    } else {
        Vec::new()
    };
    if let Some(found) = names::declared_channels(&head) {
        limits.channels(found)?;
    }
    // Formats no reader here decodes are refused by name before symphonia's probe, which would
    // search on past their header and could take a stray MP3 frame sync for the start of audio.
    let tagged = names::id3v2_len(&head);
    let body = if tagged > 0 && source.is_seekable() {
        read_at(&mut source, tagged)?
    } else {
        head.clone()
    };
    if let Some(name) = names::sniff_container(&body) {
        return Err(TranscodeError::UnsupportedFormat(name));
    }
    // Sizes a writer left as placeholders, read as the file's real extent.
    if let Some(len) = source.byte_len().filter(|_| source.is_seekable()) {
        let mut patches = patch::wav(&head, len);
        if looks_like_mp4(&head) {
            patches.extend(patch::mp4(&mut *source, len)?);
        }
        if !patches.is_empty() {
            source = Box::new(patch::Patched::new(source, patches));
        }
    }
    // symphonia reads MP4 edit lists but does not apply them: read them here, before probing.
    let movie = match known {
        _ if !looks_like_mp4(&head) => None,
        Some(index) => Some(std::sync::Arc::clone(&index.0)),
        None => mp4::Movie::read(&mut source).map(std::sync::Arc::new),
    };
    // The default audio track where the container marks one and symphonia misses it: it
    // cannot tell a Matroska track's absent FlagDefault (meaning default) from 0, and ignores
    // an MP4 track header's enabled flag.
    let marked_default = if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        mkvtracks::default_audio_track(&mut source)
    } else {
        movie.as_deref().and_then(mp4::Movie::default_audio)
    };
    let mut format: Box<dyn FormatReader> = if let Some(kind) = crate::lossless::Kind::sniff(&body)
    {
        Box::new(crate::lossless::Reader::open(source, tagged, kind)?)
    } else if let Some(kind) = crate::tracker::Kind::sniff(&body) {
        Box::new(crate::tracker::Reader::open(source, tagged, kind)?)
    } else if crate::ac3::header(&body).is_some() {
        // A raw AC-3 or E-AC-3 stream, which symphonia has no reader for.
        let reader =
            crate::ac3::Reader::open(source, tagged).ok_or(TranscodeError::UnrecognisedFormat)?;
        Box::new(reader)
    } else {
        open_format(source, extension)?
    };
    let format_name = format.format_info().short_name.to_owned();

    let mut tracks = audio_tracks(&*format);
    // symphonia leaves an MP4 track's language unset; the mdhd has it.
    if let Some(movie) = &movie {
        for (track, id) in tracks.iter_mut().zip(audio_ids(&*format)) {
            track.language = track.language.take().or_else(|| movie.language(id));
        }
    }
    let (track, (track_id, track_frames, params)) = match &options.track {
        Some(choice) => chosen_track(&*format, &tracks, choice)?,
        None => {
            let chosen = choose_track(&*format, marked_default)?;
            let index = audio_ids(&*format)
                .position(|id| id == chosen.0)
                .unwrap_or(0);
            (index, chosen)
        }
    };
    let mut trim = Trim::default();
    if format_name == "isomp4" {
        trim.durations = Some(
            movie
                .as_ref()
                .and_then(|m| m.durations(track_id))
                .unwrap_or_default(),
        );
        if let Some(edit) = movie.as_ref().and_then(|m| m.edit(track_id)) {
            trim.edit = Some(edit);
        } else {
            trim.itunes = itunes_gapless(&mut *format);
        }
    }
    if let (Some(frames), Some(rate)) = (track_frames, params.sample_rate) {
        limits.duration(frames, rate)?;
    }
    if let Some(channels) = &params.channels {
        limits.channels(channels.count())?;
    }
    if let Some(sink) = &options.probed {
        (sink.0)(&tracks, track);
    }
    Ok(Probed {
        codec_name: names::codec_name(params.codec),
        format,
        format_name,
        track_id,
        params,
        track_frames,
        trim,
        tracks,
        track,
        chapters: movie.map_or_else(Vec::new, |m| {
            m.chapters
                .iter()
                .map(|(start, title)| (*start as f64 / 1e7, title.clone()))
                .collect()
        }),
    })
}

fn audio_params(track: &symphonia::core::formats::Track) -> Option<&AudioCodecParameters> {
    track.codec_params.as_ref().and_then(|p| p.audio())
}

/// The ids of the audio tracks, in the file's order.
fn audio_ids(format: &dyn FormatReader) -> impl Iterator<Item = u32> + '_ {
    format
        .tracks()
        .iter()
        .filter(|t| audio_params(t).is_some())
        .map(|t| t.id)
}

/// The audio tracks as people are shown them.
fn audio_tracks(format: &dyn FormatReader) -> Vec<crate::AudioTrack> {
    format
        .tracks()
        .iter()
        .filter_map(|t| audio_params(t).map(|p| (t, p)))
        .enumerate()
        .map(|(index, (track, params))| crate::AudioTrack {
            index,
            codec: names::codec_name(params.codec),
            channels: params.channels.as_ref().map(|c| c.count()),
            sample_rate: params.sample_rate,
            language: track
                .language
                .clone()
                .filter(|l| !l.is_empty() && !l.eq_ignore_ascii_case("und")),
        })
        .collect()
}

/// A chosen track: its id, its length in frames when known, its codec parameters.
type Picked = (u32, Option<u64>, AudioCodecParameters);

/// The track the user asked for, or why there is none: the file's audio tracks, listed.
fn chosen_track(
    format: &dyn FormatReader,
    tracks: &[crate::AudioTrack],
    choice: &crate::TrackChoice,
) -> Result<(usize, Picked), TranscodeError> {
    let index = match choice {
        crate::TrackChoice::Index(i) => Some(*i).filter(|&i| i < tracks.len()),
        crate::TrackChoice::Language(language) => tracks.iter().position(|t| {
            t.language
                .as_deref()
                .is_some_and(|l| l.eq_ignore_ascii_case(language))
        }),
    };
    let missing = || TranscodeError::NoSuchTrack {
        asked: choice.to_string(),
        tracks: tracks
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; "),
    };
    let index = index.ok_or_else(missing)?;
    let id = audio_ids(format).nth(index).ok_or_else(missing)?;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.id == id)
        .ok_or_else(missing)?;
    let params = audio_params(track).ok_or_else(missing)?.clone();
    Ok((index, (id, track.num_frames, params)))
}

/// symphonia's reader for the container (rewound first).
fn open_format(
    mut source: Box<dyn MediaSource>,
    extension: Option<&str>,
) -> Result<Box<dyn FormatReader>, TranscodeError> {
    source.seek(SeekFrom::Start(0))?;
    let mut hint = Hint::new();
    if let Some(ext) = extension {
        hint.with_extension(ext);
    }
    let stream = MediaSourceStream::new(source, Default::default());
    symphonia::default::get_probe()
        .probe(
            &hint,
            stream,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|err| match err {
            SymphoniaError::IoError(e) if e.kind() != std::io::ErrorKind::UnexpectedEof => {
                TranscodeError::Io(e)
            }
            _ => TranscodeError::UnrecognisedFormat,
        })
}

/// The audio track to convert: the one the container marks as default (`marked`, read here
/// where symphonia misses it), else symphonia's default, else the first audio track. Its id,
/// its length in frames when known, and its codec parameters.
fn choose_track(format: &dyn FormatReader, marked: Option<u32>) -> Result<Picked, TranscodeError> {
    let is_audio = |t: &&symphonia::core::formats::Track| {
        t.codec_params.as_ref().and_then(|p| p.audio()).is_some()
    };
    let track = marked
        .and_then(|id| format.tracks().iter().filter(is_audio).find(|t| t.id == id))
        .or_else(|| format.default_track(TrackType::Audio))
        .or_else(|| format.tracks().iter().find(is_audio))
        .ok_or(TranscodeError::NoAudioTrack)?;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or(TranscodeError::NoAudioTrack)?
        .clone();
    Ok((track.id, track.num_frames, params))
}

/// The first bytes of the source (up to [`names::SNIFF_LEN`]), for sniffing; the source is
/// rewound.
fn read_head(source: &mut Box<dyn MediaSource>) -> Result<Vec<u8>, TranscodeError> {
    read_at(source, 0)
}

/// Up to [`names::SNIFF_LEN`] bytes from `offset`; the source is rewound.
fn read_at(source: &mut Box<dyn MediaSource>, offset: u64) -> Result<Vec<u8>, TranscodeError> {
    source.seek(SeekFrom::Start(offset))?;
    let mut head = Vec::with_capacity(names::SNIFF_LEN);
    source
        .take(names::SNIFF_LEN as u64)
        .read_to_end(&mut head)?;
    source.seek(SeekFrom::Start(0))?;
    Ok(head)
}

/// Whether the source starts like an ISO-BMFF (MP4, MOV, M4A, 3GP) file.
pub(crate) fn looks_like_mp4(head: &[u8]) -> bool {
    matches!(
        head.get(4..8),
        Some(b"ftyp" | b"moov" | b"mdat" | b"free" | b"wide" | b"skip" | b"pnot" | b"styp")
    )
}

/// iTunes' gapless comment (`iTunSMPB`) from the container's metadata, if any.
fn itunes_gapless(format: &mut dyn symphonia::core::formats::FormatReader) -> Option<(u64, u64)> {
    let metadata = format.metadata();
    let revision = metadata.current()?;
    revision.media.tags.iter().find_map(|tag| {
        if !tag.raw.key.ends_with("iTunSMPB") {
            return None;
        }
        match &tag.raw.value {
            symphonia::core::meta::RawValue::String(text) => {
                mp4::parse_itunsmpb(text).map(|(priming, _, samples)| (priming, samples))
            }
            _ => None,
        }
    })
}
