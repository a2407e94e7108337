//! Encoding on every core. LAME is ~94% of a conversion and encodes one stream on one thread,
//! so the PCM is cut into segments on MP3 frame boundaries and each segment is encoded by its own
//! LAME on a pool of threads, with a bounded queue; the results are joined in order.
//!
//! For the join to be seamless, every segment is encoded on the same frame grid as one encoder
//! over the whole stream would use (frame `g` covers input samples `g*F - D .. (g+1)*F - D`, `F`
//! samples per frame, `D` LAME's delay): a segment after the first starts its encoder
//! `PRIMING_FRAMES` frames early, so that LAME's state has settled by the first frame kept, and
//! runs `LOOKAHEAD_FRAMES` past its end, so that the last frame kept saw the audio after it. The
//! frames outside the segment are dropped. Segments use the bit reservoir; the first frames kept
//! of a segment after the first may borrow bytes from dropped priming frames, so their main data
//! is re-laid from the segment's first byte (`repack`); where that is impossible the segment is
//! encoded again without the reservoir. The Xing/LAME info frame is then rebuilt for
//! the whole stream: frame and byte counts, seek table, padding, music length and both CRCs.
//!
//! Memory is bounded by (threads + queue) segments, whatever the input's length.

use crate::TranscodeError;
use crate::lame::{self, ENCODER_DELAY, Settings};
use crate::repack;
use std::collections::BTreeMap;
use std::io::{Seek, SeekFrom, Write};
use std::sync::mpsc;
use std::thread::JoinHandle;

/// Frames of the audio before a segment that its encoder sees first and are then dropped.
const PRIMING_FRAMES: usize = 3;
/// Frames of the audio after a segment that its encoder sees and are then dropped.
const LOOKAHEAD_FRAMES: usize = 3;
/// The seek table records the byte offset of every this-many frames.
const CHECKPOINT_EVERY: usize = 8;

/// One segment of the PCM for a worker to encode, with the frames around it its encoder needs.
struct Segment {
    index: usize,
    pcm: Vec<f32>,
    /// Frames to drop at the start (priming), after the info frame of the first segment.
    skip: usize,
    /// Frames to keep after those; `None` for the last segment (keep the rest).
    keep: Option<usize>,
}

struct Encoded {
    index: usize,
    /// The kept frames, back to back.
    bytes: Vec<u8>,
    /// Where each kept frame starts in `bytes` (found on the worker, off the writing thread).
    frame_starts: Vec<usize>,
    /// For the first segment: LAME's placeholder info frame and its filled-in info frame.
    info: Option<(Vec<u8>, Vec<u8>)>,
    /// Whether the segment was encoded again without the bit reservoir, its first frames not
    /// re-laid.
    without_reservoir: bool,
}

impl Encoded {
    fn new(
        index: usize,
        bytes: Vec<u8>,
        info: Option<(Vec<u8>, Vec<u8>)>,
    ) -> Result<Self, TranscodeError> {
        let frame_starts = lame::frames(&bytes)?
            .into_iter()
            .map(|(at, _)| at)
            .collect();
        Ok(Self {
            index,
            bytes,
            frame_starts,
            info,
            without_reservoir: false,
        })
    }
}

/// LAME's output for a segment: all its bytes, its frames (start, length) and, for the first
/// segment, the filled-in info frame.
type LameRun = (Vec<u8>, Vec<(usize, usize)>, Option<Vec<u8>>);

/// LAME over one segment's PCM.
fn run_lame(
    settings: &Settings,
    pcm: &[f32],
    info_frame: bool,
    reservoir: bool,
) -> Result<LameRun, TranscodeError> {
    let mut encoder = lame::build(settings, info_frame, reservoir)?;
    let mut out = Vec::new();
    // Feed in slices so LAME's output reservation stays small.
    for chunk in pcm.chunks(16_384 * settings.channels) {
        lame::encode(&mut encoder, chunk, settings.channels, &mut out)?;
    }
    lame::flush(&mut encoder, &mut out)?;
    let frames = lame::frames(&out)?;
    let info = if info_frame {
        Some(
            lame::info_frame(&encoder)
                .ok_or_else(|| TranscodeError::Encoder("LAME gave no info frame".into()))?,
        )
    } else {
        None
    };
    Ok((out, frames, info))
}

/// The bytes of `frames` (consecutive) in `out`.
fn span<'a>(out: &'a [u8], frames: &[(usize, usize)]) -> &'a [u8] {
    match (frames.first(), frames.last()) {
        (Some(&(start, _)), Some(&(last, len))) => &out[start..last + len],
        _ => &[],
    }
}

fn encode_segment(settings: &Settings, segment: Segment) -> Result<Encoded, TranscodeError> {
    let first = segment.index == 0;
    let pick =
        |frames: &[(usize, usize)], skip: usize| -> Result<Vec<(usize, usize)>, TranscodeError> {
            let frames = frames.get(skip..).unwrap_or(&[]);
            match segment.keep {
                Some(keep) => frames.get(..keep).map(<[_]>::to_vec).ok_or_else(|| {
                    TranscodeError::Encoder(format!(
                        "segment {} gave {} frames, fewer than the {keep} expected",
                        segment.index,
                        frames.len()
                    ))
                }),
                None => Ok(frames.to_vec()),
            }
        };
    if first {
        let (out, frames, filled) = run_lame(settings, &segment.pcm, true, true)?;
        let Some((&(start, len), rest)) = frames.split_first() else {
            return Err(TranscodeError::Encoder("LAME wrote no info frame".into()));
        };
        let kept = pick(rest, segment.skip)?;
        let filled = filled.ok_or_else(|| TranscodeError::Encoder("no info frame".into()))?;
        return Encoded::new(
            segment.index,
            span(&out, &kept).to_vec(),
            Some((out[start..start + len].to_vec(), filled)),
        );
    }
    // With the bit reservoir, then its first frames re-laid so none reaches into the
    // priming frames; if that cannot be done, again without the reservoir.
    let (out, frames, _) = run_lame(settings, &segment.pcm, false, true)?;
    let kept = pick(&frames, segment.skip)?;
    let priming = &frames[..segment.skip.min(frames.len())];
    if let Some(bytes) = repack::relay(span(&out, priming), span(&out, &kept)) {
        return Encoded::new(segment.index, bytes, None);
    }
    let (out, frames, _) = run_lame(settings, &segment.pcm, false, false)?;
    let kept = pick(&frames, segment.skip)?;
    let mut encoded = Encoded::new(segment.index, span(&out, &kept).to_vec(), None)?;
    encoded.without_reservoir = true;
    Ok(encoded)
}

/// The parallel encoder: takes interleaved PCM (1 or 2 channels, at the MP3's rate) and writes
/// the MP3 stream to the sink, starting with the info frame at `start`.
pub(crate) struct Parallel {
    settings: Settings,
    /// Samples per channel per MP3 frame.
    frame: usize,
    /// MP3 frames per segment.
    segment_frames: usize,
    /// Samples from `buf_start` on (interleaved).
    buf: Vec<f32>,
    buf_start: usize,
    /// Samples given so far.
    total: usize,
    next_index: usize,
    segments: Option<mpsc::SyncSender<Segment>>,
    results: mpsc::Receiver<Result<Encoded, TranscodeError>>,
    workers: Vec<JoinHandle<()>>,
    in_flight: usize,
    max_in_flight: usize,
    pending: BTreeMap<usize, Encoded>,
    next_write: usize,
    // What has been written, for the info frame.
    start: u64,
    info: Option<Vec<u8>>,
    frames_written: usize,
    bytes_written: u64,
    music_crc: u16,
    checkpoints: Vec<u64>,
}

impl Parallel {
    pub fn new(
        settings: Settings,
        threads: usize,
        segment_frames: usize,
        start: u64,
    ) -> Result<Self, TranscodeError> {
        let threads = threads.max(1);
        let (segment_tx, segment_rx) = mpsc::sync_channel::<Segment>(threads);
        let segment_rx = std::sync::Arc::new(std::sync::Mutex::new(segment_rx));
        let (result_tx, results) = mpsc::channel();
        let mut workers = Vec::with_capacity(threads);
        for n in 0..threads {
            let segment_rx = segment_rx.clone();
            let result_tx = result_tx.clone();
            let worker = std::thread::Builder::new()
                .name(format!("mp3-encode-{n}"))
                .spawn(move || {
                    loop {
                        let segment = match segment_rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        let Ok(segment) = segment else { return };
                        if result_tx.send(encode_segment(&settings, segment)).is_err() {
                            return;
                        }
                    }
                })
                .map_err(TranscodeError::Io)?;
            workers.push(worker);
        }
        Ok(Self {
            frame: settings.frame_samples(),
            settings,
            segment_frames: segment_frames.max(PRIMING_FRAMES + 1),
            buf: Vec::new(),
            buf_start: 0,
            total: 0,
            next_index: 0,
            segments: Some(segment_tx),
            results,
            workers,
            in_flight: 0,
            max_in_flight: threads * 2,
            pending: BTreeMap::new(),
            next_write: 0,
            start,
            info: None,
            frames_written: 0,
            bytes_written: 0,
            music_crc: 0,
            checkpoints: Vec::new(),
        })
    }

    /// First input sample of segment `i` (its priming included).
    fn segment_start(&self, i: usize) -> usize {
        self.segment(i).first_sample(self.frame) as usize
    }

    /// One past the last input sample segment `i` needs (its look-ahead included).
    fn segment_end(&self, i: usize) -> usize {
        self.segment(i).end_sample(self.frame) as usize
    }

    /// Segment `i`, as a part of a fanned-out conversion would make it.
    fn segment(&self, index: usize) -> Part {
        Part {
            index,
            segment_frames: self.segment_frames,
        }
    }

    /// Takes interleaved samples; dispatches every segment whose audio is complete.
    pub fn push<W: Write + Seek>(
        &mut self,
        pcm: &[f32],
        out: &mut W,
    ) -> Result<(), TranscodeError> {
        self.buf.extend_from_slice(pcm);
        self.total += pcm.len() / self.settings.channels;
        while self.total >= self.segment_end(self.next_index) {
            let i = self.next_index;
            let (from, to) = (self.segment_start(i), self.segment_end(i));
            let ch = self.settings.channels;
            let slice = self.buf[(from - self.buf_start) * ch..(to - self.buf_start) * ch].to_vec();
            let skip = if i == 0 { 0 } else { PRIMING_FRAMES };
            self.dispatch(
                Segment {
                    index: i,
                    pcm: slice,
                    skip,
                    keep: Some(self.segment_frames),
                },
                out,
            )?;
            // Keep what the next segment starts with.
            let keep_from = self.segment_start(i + 1);
            self.buf.drain(..(keep_from - self.buf_start) * ch);
            self.buf_start = keep_from;
        }
        Ok(())
    }

    fn dispatch<W: Write + Seek>(
        &mut self,
        segment: Segment,
        out: &mut W,
    ) -> Result<(), TranscodeError> {
        while self.in_flight >= self.max_in_flight {
            self.collect_one(out)?;
        }
        let Some(segments) = &self.segments else {
            return Err(TranscodeError::Encoder(
                "the encoder was already finished".into(),
            ));
        };
        segments
            .send(segment)
            .map_err(|_| TranscodeError::Encoder("an encoding thread stopped".into()))?;
        self.in_flight += 1;
        self.next_index += 1;
        Ok(())
    }

    fn collect_one<W: Write + Seek>(&mut self, out: &mut W) -> Result<(), TranscodeError> {
        let encoded = self
            .results
            .recv()
            .map_err(|_| TranscodeError::Encoder("an encoding thread stopped".into()))??;
        self.in_flight -= 1;
        self.pending.insert(encoded.index, encoded);
        while let Some(encoded) = self.pending.remove(&self.next_write) {
            self.write(encoded, out)?;
            self.next_write += 1;
        }
        Ok(())
    }

    fn write<W: Write + Seek>(
        &mut self,
        encoded: Encoded,
        out: &mut W,
    ) -> Result<(), TranscodeError> {
        if let Some((placeholder, filled)) = encoded.info {
            if placeholder.len() != filled.len() {
                return Err(TranscodeError::Encoder(
                    "the info frame changed size".into(),
                ));
            }
            out.write_all(&placeholder)?;
            self.bytes_written += placeholder.len() as u64;
            self.info = Some(filled);
        }
        // Checkpoints of the byte offset (from the info frame) every CHECKPOINT_EVERY frames.
        for (n, &at) in encoded.frame_starts.iter().enumerate() {
            if (self.frames_written + n).is_multiple_of(CHECKPOINT_EVERY) {
                self.checkpoints.push(self.bytes_written + at as u64);
            }
        }
        out.write_all(&encoded.bytes)?;
        self.music_crc = lame::crc16(self.music_crc, &encoded.bytes);
        self.frames_written += encoded.frame_starts.len();
        self.bytes_written += encoded.bytes.len() as u64;
        Ok(())
    }

    /// Encodes what is left, waits for every segment, writes them and the info frame.
    /// Returns the samples encoded.
    pub fn finish<W: Write + Seek>(
        mut self,
        out: &mut W,
        replay_gain: Option<crate::loudness::ReplayGain>,
    ) -> Result<u64, TranscodeError> {
        let i = self.next_index;
        let from = self.segment_start(i);
        let ch = self.settings.channels;
        let rest = self.buf[(from - self.buf_start) * ch..].to_vec();
        let skip = if i == 0 { 0 } else { PRIMING_FRAMES };
        self.dispatch(
            Segment {
                index: i,
                pcm: rest,
                skip,
                keep: None,
            },
            out,
        )?;
        self.buf = Vec::new();
        self.segments = None;
        while self.in_flight > 0 {
            self.collect_one(out)?;
        }
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
        let end = out.stream_position()?;
        let info = self
            .info
            .take()
            .ok_or_else(|| TranscodeError::Encoder("no info frame".into()))?;
        let mut info = rebuild_info(
            info,
            &Whole {
                frames: self.frames_written,
                bytes: self.bytes_written,
                checkpoints: &self.checkpoints,
                samples: self.total,
                music_crc: self.music_crc,
                frame: self.frame,
            },
        )?;
        if let Some(gain) = replay_gain {
            lame::set_replay_gain(&mut info, gain);
        }
        out.seek(SeekFrom::Start(self.start))?;
        out.write_all(&info)?;
        out.seek(SeekFrom::Start(end))?;
        out.flush()?;
        Ok(self.total as u64)
    }
}

impl Drop for Parallel {
    fn drop(&mut self) {
        // On an error midway: stop the workers (they end when the segment queue closes).
        self.segments = None;
        while self.in_flight > 0 && self.results.recv().is_ok() {
            self.in_flight -= 1;
        }
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

/// The whole stream's figures, for its info frame.
struct Whole<'a> {
    frames: usize,
    /// Bytes from the start of the info frame to the end of the last frame.
    bytes: u64,
    /// The byte offset (from the info frame) of every `CHECKPOINT_EVERY`-th frame.
    checkpoints: &'a [u64],
    /// Samples per channel encoded.
    samples: usize,
    music_crc: u16,
    /// Samples per channel per MP3 frame.
    frame: usize,
}

/// LAME's info frame from the first segment, with the whole stream's figures.
fn rebuild_info(mut t: Vec<u8>, whole: &Whole) -> Result<Vec<u8>, TranscodeError> {
    let bad = || TranscodeError::Encoder("the info frame is not the expected layout".into());
    let x = (4..t.len().min(64).saturating_sub(4))
        .find(|&i| &t[i..i + 4] == b"Xing" || &t[i..i + 4] == b"Info")
        .ok_or_else(bad)?;
    let lame = x + 120;
    if t.len() < lame + 36 || &t[lame..lame + 4] != b"LAME" {
        return Err(bad());
    }
    let frames = u32::try_from(whole.frames).map_err(|_| bad())?;
    let music_len = u32::try_from(whole.bytes).map_err(|_| bad())?;
    t[x + 8..x + 12].copy_from_slice(&frames.to_be_bytes());
    t[x + 12..x + 16].copy_from_slice(&music_len.to_be_bytes());
    // Seek table: for each percent of the frames, the byte offset as a fraction of 256.
    for p in 1..100 {
        let frame = whole.frames * p / 100;
        let offset = whole
            .checkpoints
            .get(frame / CHECKPOINT_EVERY)
            .copied()
            .unwrap_or(0);
        t[x + 16 + p] =
            u8::try_from((offset * 256 / u64::from(music_len.max(1))).min(255)).unwrap_or(255);
    }
    t[x + 16] = 0;
    let padding = (whole.frames * whole.frame)
        .checked_sub(ENCODER_DELAY + whole.samples)
        .ok_or_else(|| TranscodeError::Encoder("the segments cover less than the audio".into()))?;
    if padding > 0xfff {
        return Err(TranscodeError::Encoder(format!(
            "padding of {padding} samples"
        )));
    }
    let (delay, padding) = (ENCODER_DELAY as u32, padding as u32);
    t[lame + 21] = (delay >> 4) as u8;
    t[lame + 22] = (((delay & 0xf) << 4) | (padding >> 8)) as u8;
    t[lame + 23] = (padding & 0xff) as u8;
    t[lame + 28..lame + 32].copy_from_slice(&music_len.to_be_bytes());
    t[lame + 32..lame + 34].copy_from_slice(&whole.music_crc.to_be_bytes());
    let tag_crc = lame::crc16(0, &t[..lame + 34]);
    t[lame + 34..lame + 36].copy_from_slice(&tag_crc.to_be_bytes());
    Ok(t)
}

/// One part of a conversion fanned out over several workers (processes or machines), each
/// converting the same source with the same options: which segment of the MP3 this worker
/// encodes. Segment `index` is the MP3's frames `index * segment_frames ..
/// (index + 1) * segment_frames` on the single-stream frame grid, the last segment the frames
/// to the end; each is encoded exactly as [`Parallel`] encodes it on a thread, so the parts
/// joined by [`join_parts`] are the MP3 the engine makes in one process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    pub index: usize,
    /// MP3 frames per segment (at least 4); the same for every part of a conversion.
    pub segment_frames: usize,
}

impl Part {
    /// The first sample (per channel, of the MP3's audio) its segment's encoder takes, its
    /// priming included, at `frame` samples per MP3 frame.
    pub(crate) fn first_sample(&self, frame: usize) -> u64 {
        match self.index {
            0 => 0,
            i => ((i * self.segment_frames).saturating_sub(PRIMING_FRAMES) * frame) as u64,
        }
    }

    /// The stretch of the stream whose loudness this part measures: from its segment's first
    /// frame to the next segment's (the last part: to the end of the stream). The stretches
    /// of a conversion's parts follow each other without a gap.
    pub(crate) fn stretch(&self, frame: usize) -> (u64, u64) {
        let at = |i: usize| (i * self.segment_frames * frame) as u64;
        (at(self.index), at(self.index + 1))
    }

    /// One past the last sample its segment's encoder takes, its look-ahead included.
    pub(crate) fn end_sample(&self, frame: usize) -> u64 {
        (((self.index + 1) * self.segment_frames + LOOKAHEAD_FRAMES) * frame - ENCODER_DELAY) as u64
    }

    /// How many parts a stream of `samples` samples per channel, `frame` samples per MP3 frame,
    /// is cut into: a segment is whole when the audio runs past its look-ahead, and the first
    /// that is not is the last.
    pub fn count(samples: u64, frame: usize, segment_frames: usize) -> usize {
        let frame = frame.max(1) as u64;
        let segment = segment_frames.max(PRIMING_FRAMES + 1) as u64;
        // Segment i is whole when samples >= ((i+1)*segment + LOOKAHEAD)*frame - DELAY.
        let reach = (samples + ENCODER_DELAY as u64) / frame;
        let whole = reach.saturating_sub(LOOKAHEAD_FRAMES as u64) / segment;
        whole as usize + 1
    }
}

/// What a part's worker made, besides its bytes: what [`join_parts`] needs to write the info
/// frame of the whole MP3 without reading the parts again. Serialisable, for workers that hand
/// them to the joiner through storage.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PartFigures {
    pub index: usize,
    /// Whether the audio ended in this part's segment.
    pub last: bool,
    /// MP3 frames in the part (every part but the last: exactly `segment_frames`).
    pub frames: usize,
    /// Bytes of those frames (part 0: after its ID3 tag and info frame).
    pub bytes: u64,
    /// Within those bytes, where each frame whose number in the whole stream is a multiple of 8
    /// starts: the whole stream's seek table is built from these.
    pub checkpoints: Vec<u64>,
    /// CRC-16 (LAME's music CRC) of those bytes.
    pub crc: u16,
    /// Samples per channel of the audio up to where this worker stopped reading: the end of
    /// its segment's look-ahead, or for the last part the stream's length.
    pub samples: u64,
    /// Part 0: where its info frame starts in its output (after the ID3 tag), and LAME's
    /// filled-in info frame, whose figures [`join_parts`] replaces with the whole stream's.
    pub info: Option<(u64, Vec<u8>)>,
    /// Samples per channel per MP3 frame.
    pub frame: usize,
    pub segment_frames: usize,
    /// Samples of the MP3's audio before the segment that the worker did not decode: it sought
    /// past them (0 where it read from the start).
    pub passed_over: u64,
    /// Whether the part was encoded a second time, without the bit reservoir, because its
    /// first frames could not be re-laid (twice the CPU, a larger part).
    pub without_reservoir: bool,
    /// Its share of the whole stream's ReplayGain; `None` where it could not be measured (the
    /// join then writes none).
    #[serde(default)]
    pub loudness: Option<crate::loudness::PartLoudness>,
}

/// The encoder of one part: keeps only the PCM its segment needs (priming and look-ahead
/// included) and encodes it at the end.
pub(crate) struct PartEncoder {
    settings: Settings,
    part: Part,
    frame: usize,
    /// The segment's PCM, interleaved.
    buf: Vec<f32>,
    /// Samples per channel given so far.
    total: usize,
    /// Where the info frame goes (part 0).
    start: u64,
    /// Samples passed over undecoded.
    passed_over: u64,
}

impl PartEncoder {
    pub fn new(settings: Settings, part: Part, start: u64) -> Result<Self, TranscodeError> {
        if part.segment_frames <= PRIMING_FRAMES {
            return Err(TranscodeError::Options(format!(
                "a segment of {} MP3 frames is shorter than the {} its encoder primes with",
                part.segment_frames,
                PRIMING_FRAMES + 1
            )));
        }
        Ok(Self {
            frame: settings.frame_samples(),
            settings,
            part,
            buf: Vec::new(),
            total: 0,
            start,
            passed_over: 0,
        })
    }

    /// The segment's first input sample (its priming included), as [`Parallel`] cuts it.
    fn first(&self) -> usize {
        self.part.first_sample(self.frame) as usize
    }

    /// `frames` samples per channel went by without being given (the reading sought past
    /// them): they must all lie before the segment.
    pub fn passed_over(&mut self, frames: u64) {
        self.total += usize::try_from(frames).unwrap_or(usize::MAX);
        self.passed_over += frames;
    }

    /// One past the segment's last input sample (its look-ahead included).
    fn end(&self) -> usize {
        self.part.end_sample(self.frame) as usize
    }

    /// Whether the segment has all its audio, the look-ahead after it included.
    pub fn complete(&self) -> bool {
        self.total >= self.end()
    }

    /// Takes interleaved samples; keeps those of the segment.
    pub fn push(&mut self, pcm: &[f32]) {
        let ch = self.settings.channels;
        let n = pcm.len() / ch;
        let (from, to) = (self.first(), self.end());
        let (lo, hi) = (self.total.max(from), (self.total + n).min(to));
        if lo < hi {
            self.buf
                .extend_from_slice(&pcm[(lo - self.total) * ch..(hi - self.total) * ch]);
        }
        self.total += n;
    }

    /// Encodes the segment and writes its frames (part 0: after the placeholder info frame
    /// LAME wrote); returns what [`join_parts`] needs.
    pub fn finish<W: Write + Seek>(self, out: &mut W) -> Result<PartFigures, TranscodeError> {
        let last = self.total < self.end();
        if self.part.index > 0 && self.total <= self.first() + PRIMING_FRAMES * self.frame {
            return Err(TranscodeError::Options(format!(
                "part {} starts after the end of the audio ({} samples: {} parts)",
                self.part.index,
                self.total,
                Part::count(self.total as u64, self.frame, self.part.segment_frames)
            )));
        }
        let index = self.part.index;
        let encoded = encode_segment(
            &self.settings,
            Segment {
                index,
                pcm: self.buf,
                skip: if index == 0 { 0 } else { PRIMING_FRAMES },
                keep: (!last).then_some(self.part.segment_frames),
            },
        )?;
        let info = match encoded.info {
            Some((placeholder, filled)) => {
                if placeholder.len() != filled.len() {
                    return Err(TranscodeError::Encoder(
                        "the info frame changed size".into(),
                    ));
                }
                out.write_all(&placeholder)?;
                Some((self.start, filled))
            }
            None => None,
        };
        out.write_all(&encoded.bytes)?;
        let first_frame = index * self.part.segment_frames;
        Ok(PartFigures {
            index,
            last,
            frames: encoded.frame_starts.len(),
            bytes: encoded.bytes.len() as u64,
            checkpoints: encoded
                .frame_starts
                .iter()
                .enumerate()
                .filter(|(n, _)| (first_frame + n).is_multiple_of(CHECKPOINT_EVERY))
                .map(|(_, &at)| at as u64)
                .collect(),
            crc: lame::crc16(0, &encoded.bytes),
            samples: self.total as u64,
            info,
            frame: self.frame,
            segment_frames: self.part.segment_frames,
            passed_over: self.passed_over,
            without_reservoir: encoded.without_reservoir,
            loudness: None,
        })
    }
}

/// The info frame of the MP3 that parts `0..n` make when joined (part 0's output, then each
/// other part's in order), and where it goes in part 0's output: checks that the parts are
/// one conversion's, all there once, and end with the audio.
pub fn join_parts(parts: &[PartFigures]) -> Result<(u64, Vec<u8>), TranscodeError> {
    let bad = |why: String| {
        Err(TranscodeError::Encoder(format!(
            "the parts do not join: {why}"
        )))
    };
    let mut sorted: Vec<&PartFigures> = parts.iter().collect();
    sorted.sort_by_key(|p| p.index);
    let Some(first) = sorted.first() else {
        return bad("there are none".into());
    };
    for (n, part) in sorted.iter().enumerate() {
        if part.index != n {
            return bad(format!("part {n} is missing or given twice"));
        }
        if (part.frame, part.segment_frames) != (first.frame, first.segment_frames) {
            return bad(format!("part {n} was cut on another grid"));
        }
        let is_last = n + 1 == sorted.len();
        if part.last != is_last {
            return bad(match is_last {
                true => format!("the audio goes on after part {n}, the last given"),
                false => format!("the audio ended in part {n}, before the last"),
            });
        }
        if !is_last && part.frames != part.segment_frames {
            return bad(format!(
                "part {n} has {} frames, not {}",
                part.frames, part.segment_frames
            ));
        }
    }
    let Some((_, template)) = &first.info else {
        return bad("part 0 has no info frame".into());
    };
    let info_len = template.len() as u64;
    let (mut bytes, mut music_crc, mut checkpoints) = (info_len, 0u16, Vec::new());
    for part in &sorted {
        checkpoints.extend(part.checkpoints.iter().map(|at| bytes + at));
        // CRC-16 of A then B, from the CRCs of each: A's register run on over B's length of
        // zero bytes, then B's CRC added (the CRC is linear and starts at 0).
        music_crc = zeros_crc(music_crc, part.bytes) ^ part.crc;
        bytes += part.bytes;
    }
    let last = sorted.last().map_or(first, |p| p);
    let mut info = rebuild_info(
        template.clone(),
        &Whole {
            frames: sorted.iter().map(|p| p.frames).sum(),
            bytes,
            checkpoints: &checkpoints,
            samples: usize::try_from(last.samples).unwrap_or(usize::MAX),
            music_crc,
            frame: first.frame,
        },
    )?;
    // The whole stream's ReplayGain, from the blocks each part measured of its stretch.
    if let Some(gain) =
        crate::loudness::parts_replay_gain(sorted.iter().map(|p| p.loudness.as_ref()))
    {
        lame::set_replay_gain(&mut info, gain);
    }
    Ok((first.info.as_ref().map_or(0, |(at, _)| *at), info))
}

/// LAME's CRC-16 register `crc` run on over `len` zero bytes.
fn zeros_crc(mut crc: u16, mut len: u64) -> u16 {
    const ZEROS: [u8; 4096] = [0; 4096];
    while len > 0 {
        let n = len.min(ZEROS.len() as u64) as usize;
        crc = lame::crc16(crc, &ZEROS[..n]);
        len -= n as u64;
    }
    crc
}
