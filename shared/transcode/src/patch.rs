//! Sizes that a writer never filled in, as readers that play such files take them: a recorder or
//! a streaming muxer writes a header before it knows how long the file will be, and a file closed
//! early (a crash, a full disk, a pipe) keeps the placeholder. FFmpeg and players read such a WAV
//! or MP4 to its end; symphonia refuses it. The placeholders are replaced by the real size in a
//! view of the source ([`Patched`]); the file itself is not changed.
//! - WAV: a `data` chunk of size 0, and a `RIFF` size too small to reach the `data` chunk;
//! - ISO-BMFF (MP4, M4A, MOV): a top-level box of size 0, which means "to the end of the file"
//!   (ISO/IEC 14496-12, 4.2) and which symphonia takes as empty.

use std::io::{Read, Seek, SeekFrom};
use symphonia::core::io::MediaSource;

/// Bytes to show in place of the source's: (offset, bytes).
pub(crate) type Patches = Vec<(u64, Vec<u8>)>;

/// The placeholders in a WAV whose first bytes are `head` and whose length is `len`.
pub(crate) fn wav(head: &[u8], len: u64) -> Patches {
    let mut patches = Patches::new();
    if head.get(0..4) != Some(b"RIFF") || head.get(8..12) != Some(b"WAVE") {
        return patches;
    }
    let riff = u64::from(u32::from_le_bytes([head[4], head[5], head[6], head[7]]));
    let mut at = 12u64;
    while let Some(header) = usize::try_from(at)
        .ok()
        .and_then(|start| head.get(start..start.checked_add(8)?))
    {
        let size = u64::from(u32::from_le_bytes([
            header[4], header[5], header[6], header[7],
        ]));
        if &header[0..4] == b"data" {
            let real = len.saturating_sub(at + 8);
            if size == 0 && real > 0 {
                patches.push((at + 4, clamp_u32(real).to_le_bytes().to_vec()));
            }
            if riff != u64::from(u32::MAX) && riff + 8 < at + 8 {
                patches.push((4, clamp_u32(len - 8).to_le_bytes().to_vec()));
            }
            break;
        }
        at += 8 + size + (size & 1);
    }
    patches
}

/// The top-level ISO-BMFF box of size 0, if any, patched to run to the end: its header is read
/// box by box from `source` (which is rewound).
pub(crate) fn mp4(source: &mut dyn MediaSource, len: u64) -> std::io::Result<Patches> {
    let mut at = 0u64;
    let mut patches = Patches::new();
    while at + 8 <= len {
        source.seek(SeekFrom::Start(at))?;
        let mut header = [0u8; 16];
        source.read_exact(&mut header[..8])?;
        let size = u64::from(u32::from_be_bytes([
            header[0], header[1], header[2], header[3],
        ]));
        let size = match size {
            0 => {
                let real = len - at;
                if real <= u64::from(u32::MAX) {
                    patches.push((at, clamp_u32(real).to_be_bytes().to_vec()));
                }
                break;
            }
            1 if at + 16 <= len => {
                source.read_exact(&mut header[8..16])?;
                u64::from_be_bytes([
                    header[8], header[9], header[10], header[11], header[12], header[13],
                    header[14], header[15],
                ])
            }
            size => size,
        };
        if size < 8 {
            break;
        }
        at = at.saturating_add(size);
    }
    source.seek(SeekFrom::Start(0))?;
    Ok(patches)
}

fn clamp_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX - 1)
}

/// The source with `patches` laid over it.
pub(crate) struct Patched {
    inner: Box<dyn MediaSource>,
    patches: Patches,
    pos: u64,
}

impl Patched {
    pub fn new(inner: Box<dyn MediaSource>, patches: Patches) -> Self {
        Self {
            inner,
            patches,
            pos: 0,
        }
    }
}

impl Read for Patched {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let (start, end) = (self.pos, self.pos + n as u64);
        for (offset, bytes) in &self.patches {
            let (from, to) = (*offset, *offset + bytes.len() as u64);
            let (lo, hi) = (from.max(start), to.min(end));
            if lo < hi {
                buf[(lo - start) as usize..(hi - start) as usize]
                    .copy_from_slice(&bytes[(lo - from) as usize..(hi - from) as usize]);
            }
        }
        self.pos = end;
        Ok(n)
    }
}

impl Seek for Patched {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.pos = self.inner.seek(pos)?;
        Ok(self.pos)
    }
}

impl MediaSource for Patched {
    fn is_seekable(&self) -> bool {
        self.inner.is_seekable()
    }

    fn byte_len(&self) -> Option<u64> {
        self.inner.byte_len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn wav_with(riff: u32, data: u32, pcm: usize) -> Vec<u8> {
        let mut file = b"RIFF".to_vec();
        file.extend_from_slice(&riff.to_le_bytes());
        file.extend_from_slice(
            b"WAVEfmt \x10\0\0\0\x01\0\x01\0\x44\xac\0\0\x88\x58\x01\0\x02\0\x10\0",
        );
        file.extend_from_slice(b"data");
        file.extend_from_slice(&data.to_le_bytes());
        file.resize(file.len() + pcm, 0);
        file
    }

    #[test]
    fn a_wav_whose_sizes_were_never_written_is_read_to_its_end() {
        let file = wav_with(0, 0, 1000);
        let patches = wav(&file, file.len() as u64);
        assert_eq!(
            patches,
            vec![
                (40, 1000u32.to_le_bytes().to_vec()),
                (4, (file.len() as u32 - 8).to_le_bytes().to_vec())
            ]
        );
        // Sizes that are there, and the streaming placeholder symphonia reads, are left alone.
        let whole = wav_with(1036, 1000, 1000);
        assert!(wav(&whole, whole.len() as u64).is_empty());
        let streamed = wav_with(u32::MAX, u32::MAX, 1000);
        assert!(wav(&streamed, streamed.len() as u64).is_empty());
    }

    #[test]
    fn an_mp4_box_of_size_zero_runs_to_the_end() {
        let mut file = b"\0\0\0\x10ftypisom\0\0\0\0".to_vec();
        file.extend_from_slice(b"\0\0\0\x0cfree\0\0\0\0");
        file.extend_from_slice(b"\0\0\0\0mdat");
        file.resize(file.len() + 100, 7);
        let len = file.len() as u64;
        let mut source: Box<dyn MediaSource> = Box::new(Cursor::new(file.clone()));
        let patches = mp4(&mut *source, len).unwrap();
        assert_eq!(patches, vec![(28, 108u32.to_be_bytes().to_vec())]);
        // The view shows the patch, across reads that split it.
        let mut view = Patched::new(source, patches);
        let mut seen = Vec::new();
        let mut chunk = [0u8; 7];
        loop {
            let n = view.read(&mut chunk).unwrap();
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&chunk[..n]);
        }
        assert_eq!(&seen[28..32], &[0, 0, 0, 108]);
        assert_eq!(&seen[..28], &file[..28]);
        assert_eq!(&seen[32..], &file[32..]);
    }
}
