//! Human names for codecs, so an unsupported one is named in the error.

use symphonia::core::codecs::audio::AudioCodecId;
use symphonia::core::codecs::audio::well_known::*;

/// The codec's short name: the decoder's from the registry the engine decodes with, else a
/// well-known name.
pub fn codec_name(id: AudioCodecId) -> String {
    if let Some(registered) = crate::decoders::registry().get_audio_decoder(id) {
        return registered.codec.info.short_name.to_owned();
    }
    let known = [
        (CODEC_ID_OPUS, "Opus"),
        (CODEC_ID_AC3, "AC-3 (Dolby Digital)"),
        (CODEC_ID_EAC3, "E-AC-3 (Dolby Digital Plus)"),
        (CODEC_ID_AC4, "AC-4"),
        (CODEC_ID_DCA, "DTS"),
        (CODEC_ID_WMA, "WMA"),
        (CODEC_ID_SPEEX, "Speex"),
        (CODEC_ID_TRUEHD, "Dolby TrueHD"),
        (CODEC_ID_WAVPACK, "WavPack"),
        (CODEC_ID_MONKEYS_AUDIO, "Monkey's Audio"),
        (CODEC_ID_MUSEPACK, "Musepack"),
        (CODEC_ID_ATRAC3, "ATRAC3"),
        (CODEC_ID_COOK, "RealAudio Cook"),
        (crate::lossless::CODEC_ID_DSD, "DSD (Direct Stream Digital)"),
        (crate::tracker::CODEC_ID_MODULE, "tracker module"),
    ];
    known
        .iter()
        .find(|(k, _)| *k == id)
        .map_or_else(|| format!("with id {id}"), |(_, name)| (*name).to_owned())
}

/// How many bytes the ID3v2 tags at the start of `head` take (0 when there are none): some
/// files in other formats (FLAC, Monkey's Audio, AAC) carry one in front of their own header.
pub fn id3v2_len(head: &[u8]) -> u64 {
    let mut at = 0u64;
    while let Some(header) = usize::try_from(at)
        .ok()
        .and_then(|start| head.get(start..start.checked_add(10)?))
    {
        if &header[0..3] != b"ID3" || header[6..10].iter().any(|b| b & 0x80 != 0) {
            break;
        }
        let size = header[6..10]
            .iter()
            .fold(0u64, |size, &b| (size << 7) | u64::from(b));
        let footer = if header[5] & 0x10 != 0 { 10 } else { 0 };
        at += 10 + size + footer;
    }
    at
}

/// The bytes to read from the start of a file to sniff it: the ID3v2 tags' headers are followed
/// through this many bytes at most.
pub const SNIFF_LEN: usize = 2048;

/// Names the container of a file that no reader here can read, from its first bytes (past any
/// ID3v2 tag), so the user learns what was found ("an AVI video") rather than only that it
/// failed. Checked before the readers try: symphonia's probe searches the whole file for a
/// marker, and finds MP3 frame syncs inside the data of formats it does not know.
pub fn sniff_container(head: &[u8]) -> Option<&'static str> {
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
    if at(0, b"RIFF") && at(8, b"AVI ") {
        return Some("an AVI video");
    }
    if at(0, &[0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11]) {
        return Some("a Windows Media file (ASF: WMA or WMV)");
    }
    if head.len() >= 377 && head[0] == 0x47 && head[188] == 0x47 && head[376] == 0x47 {
        return Some("an MPEG transport stream (TS, as from TV recorders and some cameras)");
    }
    if at(0, &[0x00, 0x00, 0x01, 0xba]) {
        return Some("an MPEG program stream (VOB or MPG)");
    }
    if at(0, b"#!AMR") {
        return Some("an AMR voice recording");
    }
    if at(0, b"FLV") {
        return Some("a Flash video (FLV)");
    }
    if at(0, b".RMF") {
        return Some("a RealMedia file");
    }
    if at(0, b"MThd") {
        return Some("a MIDI file, which holds notes rather than sound");
    }
    if at(0, b"tBaK") {
        return Some("a TAK (Tom's lossless Audio Kompressor) file");
    }
    if at(0, b"OFR ") {
        return Some("an OptimFROG file");
    }
    if at(0, b"%PDF") || at(0, b"PK\x03\x04") || at(0, &[0xff, 0xd8, 0xff]) || at(0, b"\x89PNG") {
        return Some("a document or image, not audio or video");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_are_named_from_their_first_bytes() {
        assert_eq!(
            sniff_container(b"RIFF\0\0\0\0AVI LIST"),
            Some("an AVI video")
        );
        let mut ts = vec![0u8; 400];
        ts[0] = 0x47;
        ts[188] = 0x47;
        ts[376] = 0x47;
        assert!(sniff_container(&ts).is_some_and(|n| n.contains("transport stream")));
        assert_eq!(sniff_container(b"#!AMR\n"), Some("an AMR voice recording"));
        assert_eq!(sniff_container(b"RIFF\0\0\0\0WAVEfmt "), None);
        assert_eq!(sniff_container(b""), None);
        assert_eq!(sniff_container(b"OFR \x0f\0"), Some("an OptimFROG file"));
        let mut speex = b"OggS".to_vec();
        speex.resize(28, 0);
        speex.extend_from_slice(b"Speex   1.1.12");
        // Tracker modules and Ogg Speex, Vorbis and Opus are read, not refused.
        let mut module = vec![0u8; 1084];
        module[1080..].copy_from_slice(b"M.K.");
        assert_eq!(sniff_container(&module), None);
        assert_eq!(sniff_container(&speex), None);
        let mut vorbis = b"OggS".to_vec();
        vorbis.resize(28, 0);
        vorbis.extend_from_slice(b"\x01vorbis");
        assert_eq!(sniff_container(&vorbis), None);
    }

    #[test]
    fn id3v2_tags_in_front_are_measured() {
        // Two tags, one with a footer (flag 0x10): 10 + 5 + 10, then 10 + 0.
        let mut head = b"ID3\x04\0\x10\0\0\0\x05".to_vec();
        head.extend_from_slice(&[0; 15]);
        head.extend_from_slice(b"ID3\x03\0\0\0\0\0\0MAC ");
        assert_eq!(id3v2_len(&head), 35);
        assert_eq!(&head[35..], b"MAC ");
        // A size byte with its top bit set is not a tag header.
        assert_eq!(id3v2_len(b"ID3\x03\0\0\x80\0\0\0"), 0);
        assert_eq!(id3v2_len(b"fLaC"), 0);
        // 0x01 0x00 syncsafe = 128 bytes.
        assert_eq!(id3v2_len(b"ID3\x03\0\0\0\0\x01\0"), 138);
    }
}

/// The channel count a WAV (`fmt `) or AIFF (`COMM`) header declares, read from the first bytes:
/// checked before the container reader sees the file, which (symphonia-format-riff 0.6.1)
/// overflows an integer on a header claiming tens of thousands of channels.
pub fn declared_channels(head: &[u8]) -> Option<usize> {
    let (big_endian, chunk_id, mut at) = match head.get(0..12)? {
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'A', b'V', b'E'] => (false, b"fmt ", 12),
        [
            b'F',
            b'O',
            b'R',
            b'M',
            _,
            _,
            _,
            _,
            b'A',
            b'I',
            b'F',
            b'F' | b'C',
        ] => (true, b"COMM", 12),
        _ => return None,
    };
    while let Some(header) = head.get(at..at + 8) {
        let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let size = if big_endian { size.swap_bytes() } else { size };
        if &header[0..4] == chunk_id {
            // WAV: format tag (2), then channels; AIFF: channels first.
            let offset = if big_endian { at + 8 } else { at + 10 };
            let bytes = head.get(offset..offset + 2)?;
            let channels = if big_endian {
                u16::from_be_bytes([bytes[0], bytes[1]])
            } else {
                u16::from_le_bytes([bytes[0], bytes[1]])
            };
            return Some(usize::from(channels));
        }
        // Chunks are padded to an even size.
        at = at
            .checked_add(8)?
            .checked_add(usize::try_from(size).ok()? + (size as usize & 1))?;
    }
    None
}

#[cfg(test)]
mod channel_tests {
    use super::declared_channels;

    #[test]
    fn wav_and_aiff_headers_give_their_channel_count() {
        let mut wav = b"RIFF\0\0\0\0WAVE".to_vec();
        wav.extend_from_slice(b"LIST\x03\0\0\0abc\0"); // an odd-sized chunk first, padded
        wav.extend_from_slice(b"fmt \x10\0\0\0\x01\0\xff\xff");
        assert_eq!(declared_channels(&wav), Some(65535));
        let mut aiff = b"FORM\0\0\0\0AIFF".to_vec();
        aiff.extend_from_slice(b"COMM\0\0\0\x12\0\x06");
        assert_eq!(declared_channels(&aiff), Some(6));
        assert_eq!(declared_channels(b"RIFF\0\0\0\0WAVEfmt "), None);
        assert_eq!(declared_channels(b"not a header at all"), None);
    }
}
