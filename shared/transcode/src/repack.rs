//! Re-laying the bit reservoir at the start of a segment, so segments can use it.
//!
//! In layer III a frame's main data may begin up to 511 bytes before the frame, in the space
//! earlier frames left unused (`main_data_begin`). A segment encoded after priming frames has
//! its first kept frames pointing into those priming frames, which are dropped. Here the main
//! data of each kept frame is cut out (its length is the sum of the `part2_3_length` fields of
//! the side information) and laid out again from the segment's first byte: every frame's data
//! as early as allowed, `main_data_begin` rewritten, and a frame whose data no longer fits its
//! own space moved up to the next bitrate. The bits of every granule stay as LAME wrote them,
//! so the decoded audio is unchanged.
//!
//! Anything unexpected (CRC-protected frames, free format, data that cannot fit even at the
//! largest frame) returns `None`; the caller then encodes the segment without the reservoir.

use crate::lame;

/// What the header of a frame says, and where the parts of the frame are.
#[derive(Debug, Clone, Copy)]
struct Layout {
    mpeg1: bool,
    mono: bool,
    side_info: usize,
}

impl Layout {
    fn of(header: &[u8]) -> Option<Self> {
        let mpeg1 = (header[1] >> 3) & 3 == 3;
        let protected = header[1] & 1 == 0;
        if protected {
            return None;
        }
        let mono = header[3] >> 6 == 3;
        let side_info = match (mpeg1, mono) {
            (true, true) => 17,
            (true, false) => 32,
            (false, true) => 9,
            (false, false) => 17,
        };
        Some(Self {
            mpeg1,
            mono,
            side_info,
        })
    }

    /// Bits of `main_data_begin`.
    fn mdb_bits(&self) -> u32 {
        if self.mpeg1 { 9 } else { 8 }
    }

    /// Bit offsets of every `part2_3_length` field in the side information.
    fn part23_offsets(&self) -> Vec<usize> {
        let channels = if self.mono { 1 } else { 2 };
        let (start, block, granules) = match (self.mpeg1, self.mono) {
            // main_data_begin, private bits, scfsi (4 per channel).
            (true, true) => (9 + 5 + 4, 59, 2),
            (true, false) => (9 + 3 + 8, 59, 2),
            (false, true) => (8 + 1, 63, 1),
            (false, false) => (8 + 2, 63, 1),
        };
        (0..granules * channels)
            .map(|i| start + i * block)
            .collect()
    }
}

fn read_bits(bytes: &[u8], at: usize, n: u32) -> u32 {
    (0..n as usize).fold(0, |acc, i| {
        let bit = (bytes[(at + i) / 8] >> (7 - (at + i) % 8)) & 1;
        (acc << 1) | u32::from(bit)
    })
}

fn write_bits(bytes: &mut [u8], at: usize, n: u32, value: u32) {
    for i in 0..n as usize {
        let bit = ((value >> (n as usize - 1 - i)) & 1) as u8;
        let (byte, shift) = ((at + i) / 8, 7 - (at + i) % 8);
        bytes[byte] = (bytes[byte] & !(1 << shift)) | (bit << shift);
    }
}

/// One frame, taken apart.
#[derive(Clone)]
struct Frame {
    header: [u8; 4],
    side: Vec<u8>,
    layout: Layout,
    /// This frame's main data.
    data: Vec<u8>,
}

/// The header with the smallest bitrate whose frame has room for `area` bytes of main data,
/// or `None` if even the largest is too small.
fn header_for(header: [u8; 4], layout: Layout, area: usize) -> Option<[u8; 4]> {
    let current = usize::from(header[2] >> 4);
    for index in current..15 {
        for padding in [0u8, 1] {
            let mut h = header;
            h[2] = (h[2] & 0x0d) | ((index as u8) << 4) | (padding << 1);
            let len = lame::frame_len(&h)?;
            if len >= 4 + layout.side_info + area {
                return Some(h);
            }
        }
    }
    None
}

/// Re-lays the main data of `frames_bytes` (a segment's kept frames, taken from a stream whose
/// main data before the first of them is in `before`: the dropped priming frames, back to
/// back) so that nothing refers to bytes before the first kept frame. Returns the new frames,
/// back to back.
///
/// The re-laid stream starts with an empty reservoir where LAME's had the bytes its first kept
/// frames borrowed from the priming frames; in a dense passage that debt can reach a frame
/// whose data then fits no frame size. Then the first kept frames, one more at a time (up to
/// [`MAX_WIDENED`]), are given the largest size, whose room pays the debt (at most 511 bytes)
/// before it is due: a few frames larger, instead of the segment encoded again without the
/// reservoir (twice the work, and every frame larger).
pub(crate) fn relay(before: &[u8], kept: &[u8]) -> Option<Vec<u8>> {
    let frames = kept_frames(before, kept)?;
    (0..=MAX_WIDENED.min(frames.len())).find_map(|widened| {
        let mut frames = frames.clone();
        for frame in frames.iter_mut().take(widened) {
            frame.header = largest(frame.header, frame.layout)?;
        }
        lay_out(frames, kept.len())
    })
}

/// The most frames at the start of a segment made their largest to re-lay it.
const MAX_WIDENED: usize = 8;

/// `header` at its largest frame size (the highest bitrate, padded).
fn largest(header: [u8; 4], layout: Layout) -> Option<[u8; 4]> {
    let mut best = None;
    for index in usize::from(header[2] >> 4)..15 {
        let mut h = header;
        h[2] = (h[2] & 0x0d) | ((index as u8) << 4) | (1 << 1);
        if lame::frame_len(&h).is_some_and(|len| len > 4 + layout.side_info) {
            best = Some(h);
        }
    }
    best
}

/// Each kept frame with its own main data, gathered from the main-data stream of the priming
/// and kept frames (a frame's data may start in the areas of the frames before it).
fn kept_frames(before: &[u8], kept: &[u8]) -> Option<Vec<Frame>> {
    // The main data stream: the main-data areas of the priming and kept frames, in order,
    // and where each kept frame's area starts in it.
    let mut stream = Vec::with_capacity(before.len() + kept.len());
    let mut area_start = 0;
    for bytes in [before, kept] {
        // After the priming frames: where the first kept frame's area starts.
        area_start = stream.len();
        let mut at = 0;
        while at < bytes.len() {
            let len = lame::frame_len(&bytes[at..])?;
            let layout = Layout::of(&bytes[at..])?;
            stream.extend_from_slice(bytes.get(at + 4 + layout.side_info..at + len)?);
            at += len;
        }
    }
    let mut frames = Vec::new();
    let mut at = 0;
    while at < kept.len() {
        let len = lame::frame_len(&kept[at..])?;
        let layout = Layout::of(&kept[at..])?;
        let header: [u8; 4] = kept[at..at + 4].try_into().ok()?;
        let side = kept[at + 4..at + 4 + layout.side_info].to_vec();
        let mdb = read_bits(&side, 0, layout.mdb_bits()) as usize;
        let bits: usize = layout
            .part23_offsets()
            .iter()
            .map(|&o| read_bits(&side, o, 12) as usize)
            .sum();
        let start = area_start.checked_sub(mdb)?;
        let data = stream.get(start..start + bits.div_ceil(8))?.to_vec();
        frames.push(Frame {
            header,
            side,
            layout,
            data,
        });
        area_start += len - 4 - layout.side_info;
        at += len;
    }
    Some(frames)
}

/// The frames again, their main data laid out from the first frame's own area on (none points
/// back before it); a frame whose data no longer fits its area gets the next larger bitrate.
fn lay_out(mut frames: Vec<Frame>, size_hint: usize) -> Option<Vec<u8>> {
    // Lay the data out again from the first kept frame's area on.
    let mut out = Vec::with_capacity(size_hint + 1024);
    let mut laid: Vec<u8> = Vec::new(); // the new main data stream
    let mut area_begin = 0usize; // where the current frame's area starts in `laid`
    let mut next = 0usize; // first free byte of the stream
    let mut frame_starts = Vec::with_capacity(frames.len());
    let mut areas = Vec::with_capacity(frames.len());
    for frame in &mut frames {
        let max_back = (1usize << frame.layout.mdb_bits()) - 1;
        let start = next.max(area_begin.saturating_sub(max_back));
        let mut area = lame::frame_len(&frame.header)? - 4 - frame.layout.side_info;
        // The data must end within this frame's own area.
        let end = start + frame.data.len();
        if end > area_begin + area {
            frame.header = header_for(frame.header, frame.layout, end - area_begin)?;
            area = lame::frame_len(&frame.header)? - 4 - frame.layout.side_info;
        }
        write_bits(
            &mut frame.side,
            0,
            frame.layout.mdb_bits(),
            u32::try_from(area_begin - start).ok()?,
        );
        if laid.len() < end {
            laid.resize(end, 0);
        }
        laid[start..end].copy_from_slice(&frame.data);
        next = end;
        frame_starts.push(area_begin);
        areas.push(area);
        area_begin += area;
    }
    laid.resize(area_begin, 0);
    for ((frame, &begin), &area) in frames.iter().zip(&frame_starts).zip(&areas) {
        out.extend_from_slice(&frame.header);
        out.extend_from_slice(&frame.side);
        out.extend_from_slice(&laid[begin..begin + area]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_round_trip() {
        let mut bytes = [0u8; 4];
        write_bits(&mut bytes, 3, 9, 0x1a5);
        assert_eq!(read_bits(&bytes, 3, 9), 0x1a5);
        assert_eq!(bytes[0] & 0xe0, 0);
        write_bits(&mut bytes, 3, 9, 0);
        assert_eq!(bytes, [0; 4]);
    }
}
