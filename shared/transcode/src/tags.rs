//! The ID3v2.4 tag at the head of the MP3: the source's title (else the file name), artist,
//! album, date, track number and comment, its cover art (APIC) and chapters (CHAP under one
//! CTOC), and the encoder in TSSE. Nothing time-dependent goes in, so the same input gives the
//! same bytes.

use id3::{TagLike, Version};
use symphonia::core::formats::{Attachment, FormatReader};
use symphonia::core::meta::{
    ChapterGroup, ChapterGroupItem, StandardTag, StandardVisualKey, Tag, Visual,
};

/// What is copied from the source.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tags {
    pub title: Option<String>,
    pub artist: Option<String>,
    pub album: Option<String>,
    pub date: Option<String>,
    pub track: Option<u32>,
    pub comment: Option<String>,
    /// The cover art: the source's front cover, else its first picture.
    pub picture: Option<Picture>,
    /// Chapters in the MP3's time (after a cut), in order.
    pub chapters: Vec<Chapter>,
}

/// A picture carried into the MP3 (ID3 APIC, as the front cover).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Picture {
    /// `image/jpeg`, `image/png`...
    pub mime: String,
    pub data: Vec<u8>,
}

/// A chapter, in milliseconds of the MP3 (ID3 CHAP).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chapter {
    pub start_ms: u32,
    pub end_ms: u32,
    pub title: Option<String>,
}

/// Largest picture carried over; a larger one is left out (an MP3 player shows a cover of a
/// few hundred KB; megabytes of it in every copy of the file help nobody).
pub const MAX_PICTURE: usize = 4 << 20;

/// A chapter as the source gives it, in seconds of the source.
#[derive(Debug, Clone)]
struct SourceChapter {
    start: f64,
    end: Option<f64>,
    title: Option<String>,
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
        tags.picture = tags.read_metadata(format, track_id);
        if tags.picture.is_none() {
            tags.picture = attached_picture(format.attachments());
        }
        tags
    }

    /// Takes the text tags of the latest metadata revision and returns its cover picture.
    fn read_metadata(&mut self, format: &mut dyn FormatReader, track_id: u32) -> Option<Picture> {
        let mut metadata = format.metadata();
        let revision = metadata.skip_to_latest()?;
        let per_track = revision
            .per_track
            .iter()
            .filter(|t| t.track_id == u64::from(track_id))
            .flat_map(|t| t.metadata.tags.iter());
        for tag in revision.media.tags.iter().chain(per_track) {
            self.take(tag);
        }
        let per_track_visuals = revision
            .per_track
            .iter()
            .filter(|t| t.track_id == u64::from(track_id))
            .flat_map(|t| t.metadata.visuals.iter());
        let visuals: Vec<&Visual> = revision
            .media
            .visuals
            .iter()
            .chain(per_track_visuals)
            .collect();
        visuals
            .iter()
            .find(|v| v.usage == Some(StandardVisualKey::FrontCover))
            .or_else(|| visuals.first())
            .and_then(|v| picture(v.media_type.as_deref(), &v.data))
    }

    /// The source's chapters (from `format`), moved into the MP3's time: only the part from
    /// `start` to `end` (seconds of the source) is kept, and it starts at 0. `duration` (of the
    /// source, when known) ends the last chapter when the source does not say where it ends.
    /// `others` are chapters read elsewhere (an MP4's `chpl`), taken when symphonia gives none.
    pub(crate) fn take_chapters(
        &mut self,
        format: &dyn FormatReader,
        others: &[(f64, Option<String>)],
        start: f64,
        end: Option<f64>,
        duration: Option<f64>,
    ) {
        let mut found = Vec::new();
        if let Some(group) = format.chapters() {
            flatten(group, &mut found);
        }
        if found.is_empty() {
            found = others
                .iter()
                .map(|(start, title)| SourceChapter {
                    start: *start,
                    end: None,
                    title: title.as_deref().and_then(clean),
                })
                .collect();
        }
        self.chapters = place_chapters(found, start, end, duration);
    }

    fn take(&mut self, tag: &Tag) {
        let Some(std) = &tag.std else {
            self.take_list(tag);
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

    /// An APEv2 item with several values (kept by symphonia as a list, without a standard
    /// meaning): the names people tag twice, such as two artists, joined with "; ".
    fn take_list(&mut self, tag: &Tag) {
        let symphonia::core::meta::RawValue::StringList(values) = &tag.raw.value else {
            return;
        };
        let joined = values.join("; ");
        let slot = match tag.raw.key.to_ascii_lowercase().as_str() {
            "title" => &mut self.title,
            "artist" => &mut self.artist,
            "album" => &mut self.album,
            "comment" => &mut self.comment,
            _ => return,
        };
        if slot.is_none() {
            *slot = clean(&joined);
        }
    }

    /// The ID3v2.4 tag bytes, with `fallback_title` (the file name) when the source has none.
    pub fn to_id3(&self, fallback_title: Option<&str>) -> Vec<u8> {
        let tag = self.id3_tag(fallback_title);
        let mut bytes = Vec::new();
        // Writing to a Vec cannot fail; an empty tag would only lose the names.
        if tag.write_to(&mut bytes, Version::Id3v24).is_err() {
            bytes.clear();
        }
        bytes
    }

    fn id3_tag(&self, fallback_title: Option<&str>) -> id3::Tag {
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
        if let Some(picture) = &self.picture {
            tag.add_frame(id3::frame::Picture {
                mime_type: picture.mime.clone(),
                picture_type: id3::frame::PictureType::CoverFront,
                description: String::new(),
                data: picture.data.clone(),
            });
        }
        if !self.chapters.is_empty() {
            let ids: Vec<String> = (0..self.chapters.len()).map(|i| format!("ch{i}")).collect();
            for (chapter, id) in self.chapters.iter().zip(&ids) {
                let frames = chapter
                    .title
                    .iter()
                    .map(|t| id3::Frame::text("TIT2", t.clone()))
                    .collect();
                tag.add_frame(id3::frame::Chapter {
                    element_id: id.clone(),
                    start_time: chapter.start_ms,
                    end_time: chapter.end_ms,
                    // No byte offsets: players use the times.
                    start_offset: u32::MAX,
                    end_offset: u32::MAX,
                    frames,
                });
            }
            tag.add_frame(id3::frame::TableOfContents {
                element_id: "toc".into(),
                top_level: true,
                ordered: true,
                elements: ids,
                frames: Vec::new(),
            });
        }
        tag.set_text("TSSE", ENCODER);
        tag
    }
}

/// A picture worth carrying: known image data within [`MAX_PICTURE`]; the type is taken from
/// the bytes when the container gives none.
fn picture(media_type: Option<&str>, data: &[u8]) -> Option<Picture> {
    if data.is_empty() || data.len() > MAX_PICTURE {
        return None;
    }
    let sniffed = if data.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if data.starts_with(b"\x89PNG") {
        Some("image/png")
    } else {
        None
    };
    let mime = media_type
        .filter(|m| m.starts_with("image/"))
        .or(sniffed)?
        .to_owned();
    Some(Picture {
        mime,
        data: data.to_vec(),
    })
}

/// A Matroska cover: an attached image, one named `cover.*` first (the Matroska convention).
fn attached_picture(attachments: &[Attachment]) -> Option<Picture> {
    let images: Vec<_> = attachments
        .iter()
        .filter_map(|a| match a {
            Attachment::File(file) => Some(file),
            _ => None,
        })
        .filter_map(|f| picture(f.media_type.as_deref(), &f.data).map(|p| (f.name.as_str(), p)))
        .collect();
    let is_cover = |name: &str| name.to_ascii_lowercase().starts_with("cover");
    images
        .iter()
        .find(|(name, _)| is_cover(name))
        .or_else(|| images.first())
        .map(|(_, p)| p.clone())
}

/// Every chapter of `group` and its subgroups, in the order given.
fn flatten(group: &ChapterGroup, out: &mut Vec<SourceChapter>) {
    for item in &group.items {
        match item {
            ChapterGroupItem::Group(inner) => flatten(inner, out),
            ChapterGroupItem::Chapter(chapter) => {
                let title = chapter.tags.iter().find_map(|t| match &t.std {
                    Some(StandardTag::ChapterTitle(v) | StandardTag::TrackTitle(v)) => clean(v),
                    _ => None,
                });
                out.push(SourceChapter {
                    start: chapter.start_time.as_secs_f64(),
                    end: chapter.end_time.map(|t| t.as_secs_f64()),
                    title,
                });
            }
        }
    }
}

/// Longest chapter list carried over.
const MAX_CHAPTERS: usize = 1000;

/// The chapters in the MP3's time: sorted, each ending where it says or where the next begins
/// (the last at `duration`), clipped to `start..end` and shifted by `start`; chapters outside
/// the cut, or empty after it, are dropped.
fn place_chapters(
    mut found: Vec<SourceChapter>,
    start: f64,
    end: Option<f64>,
    duration: Option<f64>,
) -> Vec<Chapter> {
    found.retain(|c| c.start.is_finite() && c.start >= 0.0);
    found.sort_by(|a, b| a.start.total_cmp(&b.start));
    let stop = match (end, duration) {
        (Some(e), Some(d)) => Some(e.min(d)),
        (e, d) => e.or(d),
    };
    let ms = |seconds: f64| {
        (seconds * 1000.0)
            .round()
            .clamp(0.0, f64::from(u32::MAX - 1)) as u32
    };
    let mut chapters = Vec::new();
    for (i, chapter) in found.iter().enumerate() {
        let next = found.get(i + 1).map(|c| c.start);
        let Some(chapter_end) = chapter.end.filter(|e| *e > chapter.start).or(next).or(stop) else {
            continue;
        };
        let from = chapter.start.max(start);
        let to = stop.map_or(chapter_end, |s| chapter_end.min(s));
        if to <= from || chapters.len() == MAX_CHAPTERS {
            continue;
        }
        chapters.push(Chapter {
            start_ms: ms(from - start),
            end_ms: ms(to - start),
            title: chapter.title.clone(),
        });
    }
    chapters
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
            ..Tags::default()
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

    fn at(start: f64, end: Option<f64>, title: &str) -> SourceChapter {
        SourceChapter {
            start,
            end,
            title: Some(title.into()),
        }
    }

    #[test]
    fn chapters_end_at_the_next_one_or_the_end_and_follow_a_cut() {
        // Given out of order, without ends: each ends where the next starts, the last at the
        // source's end.
        let found = vec![
            at(60.0, None, "b"),
            at(0.0, None, "a"),
            at(150.0, None, "c"),
        ];
        let placed = place_chapters(found.clone(), 0.0, None, Some(200.0));
        let spans: Vec<_> = placed.iter().map(|c| (c.start_ms, c.end_ms)).collect();
        assert_eq!(
            spans,
            vec![(0, 60_000), (60_000, 150_000), (150_000, 200_000)]
        );
        // Cut 30 s to 160 s: shifted by 30 s, the last cut at 160 s.
        let placed = place_chapters(found.clone(), 30.0, Some(160.0), Some(200.0));
        let spans: Vec<_> = placed.iter().map(|c| (c.start_ms, c.end_ms)).collect();
        assert_eq!(
            spans,
            vec![(0, 30_000), (30_000, 120_000), (120_000, 130_000)]
        );
        // A cut inside one chapter keeps that one alone.
        let placed = place_chapters(found.clone(), 70.0, Some(80.0), None);
        assert_eq!(placed.len(), 1);
        assert_eq!((placed[0].start_ms, placed[0].end_ms), (0, 10_000));
        assert_eq!(placed[0].title.as_deref(), Some("b"));
        // The last chapter with no end and no known duration cannot be placed.
        assert_eq!(
            place_chapters(vec![at(5.0, None, "x")], 0.0, None, None),
            Vec::new()
        );
        // Explicit ends are kept; negative or NaN starts are dropped.
        let placed = place_chapters(
            vec![
                at(f64::NAN, None, "n"),
                at(-1.0, None, "m"),
                at(1.0, Some(2.0), "ok"),
            ],
            0.0,
            None,
            None,
        );
        assert_eq!(placed.len(), 1);
        assert_eq!((placed[0].start_ms, placed[0].end_ms), (1000, 2000));
    }

    #[test]
    fn pictures_are_typed_from_their_bytes_and_kept_within_the_limit() {
        let jpeg = [0xff, 0xd8, 0xff, 0xe0, 1, 2];
        assert_eq!(
            picture(None, &jpeg).map(|p| p.mime),
            Some("image/jpeg".into())
        );
        assert_eq!(
            picture(Some("image/webp"), b"RIFF....WEBP").map(|p| p.mime),
            Some("image/webp".into())
        );
        assert_eq!(picture(Some("text/plain"), b"hello"), None);
        assert_eq!(picture(None, &[]), None);
        let mut big = jpeg.to_vec();
        big.resize(MAX_PICTURE + 1, 0);
        assert_eq!(picture(None, &big), None);
    }

    #[test]
    fn control_characters_and_blank_values_are_dropped() {
        assert_eq!(clean("  a\u{0}b\n "), Some("ab".into()));
        assert_eq!(clean(" \t "), None);
        assert_eq!(clean(&"x".repeat(5000)).map(|s| s.len()), Some(MAX_TEXT));
    }
}
