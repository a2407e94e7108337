//! The ID3v2.4 tag at the head of the MP3: the source's title (else the file name), artist,
//! album, date, track number and comment, and the encoder in TSSE. Nothing time-dependent goes
//! in, so the same input gives the same bytes.

use id3::{TagLike, Version};
use symphonia::core::formats::FormatReader;
use symphonia::core::meta::{StandardTag, Tag};

/// What is copied from the source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tags {
    pub title: Option<String>,
    pub artist: Option<String>,
    pub album: Option<String>,
    pub date: Option<String>,
    pub track: Option<u32>,
    pub comment: Option<String>,
}

/// The encoder, as TSSE names it.
pub const ENCODER: &str = "video2mp3 (LAME 3.100)";

/// Longest text copied into a frame; longer source values are cut (at a character boundary).
const MAX_TEXT: usize = 1024;

fn clean(text: &str) -> Option<String> {
    let text: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_TEXT)
        .collect();
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

impl Tags {
    /// Reads the tags of the container (and of `track_id`), first value of each kind winning.
    pub fn from_source(format: &mut dyn FormatReader, track_id: u32) -> Self {
        let mut tags = Self::default();
        let mut metadata = format.metadata();
        let Some(revision) = metadata.skip_to_latest() else {
            return tags;
        };
        let per_track = revision
            .per_track
            .iter()
            .filter(|t| t.track_id == u64::from(track_id))
            .flat_map(|t| t.metadata.tags.iter());
        for tag in revision.media.tags.iter().chain(per_track) {
            tags.take(tag);
        }
        tags
    }

    fn take(&mut self, tag: &Tag) {
        let Some(std) = &tag.std else {
            return;
        };
        let slot = |slot: &mut Option<String>, value: &str| {
            if slot.is_none() {
                *slot = clean(value);
            }
        };
        match std {
            StandardTag::TrackTitle(v) => slot(&mut self.title, v),
            StandardTag::Artist(v) => slot(&mut self.artist, v),
            StandardTag::AlbumArtist(v) if self.artist.is_none() => slot(&mut self.artist, v),
            StandardTag::Album(v) => slot(&mut self.album, v),
            StandardTag::RecordingDate(v) | StandardTag::ReleaseDate(v) => slot(&mut self.date, v),
            StandardTag::RecordingYear(y) | StandardTag::ReleaseYear(y) => {
                slot(&mut self.date, &y.to_string());
            }
            StandardTag::TrackNumber(n) if self.track.is_none() => {
                self.track = u32::try_from(*n).ok().filter(|n| *n > 0);
            }
            StandardTag::Comment(v) => slot(&mut self.comment, v),
            _ => {}
        }
    }

    /// The ID3v2.4 tag bytes, with `fallback_title` (the file name) when the source has none.
    pub fn to_id3(&self, fallback_title: Option<&str>) -> Vec<u8> {
        let mut tag = id3::Tag::new();
        if let Some(title) = self
            .title
            .clone()
            .or_else(|| fallback_title.and_then(clean))
        {
            tag.set_title(title);
        }
        if let Some(artist) = &self.artist {
            tag.set_artist(artist.clone());
        }
        if let Some(album) = &self.album {
            tag.set_album(album.clone());
        }
        if let Some(date) = &self.date {
            // ID3v2.4 wants an ISO 8601 prefix; anything else is dropped rather than mangled.
            if let Ok(timestamp) = date.get(..date.len().min(19)).unwrap_or("").parse() {
                tag.set_date_recorded(timestamp);
            }
        }
        if let Some(track) = self.track {
            tag.set_track(track);
        }
        if let Some(comment) = &self.comment {
            tag.add_frame(id3::frame::Comment {
                lang: "eng".into(),
                description: String::new(),
                text: comment.clone(),
            });
        }
        tag.set_text("TSSE", ENCODER);
        let mut bytes = Vec::new();
        // Writing to a Vec cannot fail; an empty tag would only lose the names.
        if tag.write_to(&mut bytes, Version::Id3v24).is_err() {
            bytes.clear();
        }
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_round_trips_through_an_id3_reader() {
        let tags = Tags {
            title: None,
            artist: Some("Ann Example".into()),
            album: Some("Holidays".into()),
            date: Some("2024-07-14".into()),
            track: Some(3),
            comment: Some("shot on a phone".into()),
        };
        let bytes = tags.to_id3(Some("my clip.mp4"));
        let read = id3::Tag::read_from2(std::io::Cursor::new(&bytes)).unwrap();
        assert_eq!(read.version(), Version::Id3v24);
        assert_eq!(read.title(), Some("my clip.mp4"));
        assert_eq!(read.artist(), Some("Ann Example"));
        assert_eq!(read.album(), Some("Holidays"));
        assert_eq!(read.track(), Some(3));
        assert_eq!(read.date_recorded().map(|d| d.year), Some(2024));
        assert_eq!(
            read.get("TSSE").and_then(|f| f.content().text()),
            Some(ENCODER)
        );
        assert_eq!(
            read.comments().next().map(|c| c.text.as_str()),
            Some("shot on a phone")
        );
    }

    #[test]
    fn control_characters_and_blank_values_are_dropped() {
        assert_eq!(clean("  a\u{0}b\n "), Some("ab".into()));
        assert_eq!(clean(" \t "), None);
        assert_eq!(clean(&"x".repeat(5000)).map(|s| s.len()), Some(MAX_TEXT));
    }
}
