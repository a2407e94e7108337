//! A seekable, synchronous reader over a remote object, fetched with ranged GETs.
//!
//! Made for the converter's blocking thread: `Read + Seek` on the outside, concurrent async
//! fetches on the runtime inside. It never holds the whole object: at most [`MAX_AHEAD`] bytes
//! are fetched ahead of the read position, in requests of at most [`BLOCK`] bytes, with up to
//! [`MAX_IN_FLIGHT`] blocks fetching or waiting to be read, and only the last few blocks read
//! are kept (a demuxer looks at the end of the file, then starts from the front).
//!
//! Two ways to read ahead:
//! - With a *plan* (the byte ranges the demuxer will need, e.g. an MP4's audio samples), only
//!   planned bytes are fetched ahead. Ranges closer than [`MAX_GAP`] are coalesced into one, so
//!   finely interleaved files are streamed whole while files with long runs of video between
//!   the audio skip them. Reads outside the plan (box headers) are served by small fetches.
//! - Without one, the window grows while reads are sequential (from [`MIN_FETCH`] up to
//!   [`MAX_AHEAD`]) and shrinks back on a seek, so a format read front to back streams at full
//!   speed and a few scattered reads cost a few small requests.
//!
//! Errors from the store come out as `io::Error`s whose inner error is the [`PortError`], so the
//! caller can tell a missing object from a network failure.

use async_trait::async_trait;
use bytes::Bytes;
use std::collections::{BTreeMap, VecDeque};
use std::io::{self, Read, Seek, SeekFrom};
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::runtime::Handle;
use tokio::task::JoinHandle;
use video2mp3_domain::PortError;

/// The largest single GET.
pub const BLOCK: u64 = 512 << 10;
/// The smallest GET, for a read the plan did not foresee.
pub const MIN_FETCH: u64 = 16 << 10;
/// Bytes fetched ahead of the read position at most.
pub const MAX_AHEAD: u64 = 4 << 20;
/// Requests in flight at most.
pub const MAX_IN_FLIGHT: usize = 16;
/// Blocks already read from that are kept, in case the reader comes back (a demuxer looks at the
/// end of the file for tags, then starts from the front; a block boundary may cut a packet).
const KEEP_READ_BLOCKS: usize = 2;
/// Planned ranges closer than this are fetched as one. Skipping a gap saves its bytes but costs a
/// request; with requests in flight concurrently the cost is one request's price and header, so
/// the line sits where a gap is worth more than a request: at 256 KiB a phone video's second of
/// video (300 KB to 2 MB) between its audio runs is skipped, while ffmpeg's ~13 KiB interleave
/// is read straight through.
pub const MAX_GAP: u64 = 256 << 10;

/// Fetches byte ranges of one object.
#[async_trait]
pub trait RangeGet: Send + Sync + 'static {
    /// The bytes of `range` (which lies within the object).
    async fn get(&self, range: Range<u64>) -> Result<Bytes, PortError>;
}

/// What a reader has fetched, shared with whoever wants to report it.
#[derive(Debug, Default)]
pub struct ReadStats {
    /// Bytes requested from the store.
    pub bytes: Arc<AtomicU64>,
    requests: AtomicU64,
}

impl ReadStats {
    /// Bytes requested from the store.
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
    /// GET requests made (not counting the SDK's retries).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

enum Block {
    Pending(JoinHandle<Result<Bytes, PortError>>),
    Ready(Bytes),
}

/// See the module documentation.
pub struct RangeReader {
    runtime: Handle,
    source: Arc<dyn RangeGet>,
    len: u64,
    pos: u64,
    /// Fetched or fetching blocks by start offset; they never overlap.
    blocks: BTreeMap<u64, (u64, Block)>,
    plan: Vec<Range<u64>>,
    /// Bytes served as zeros.
    unused: Vec<Range<u64>>,
    /// Blocks still fetching or fetched but not yet read from (at most [`MAX_IN_FLIGHT`]).
    pending: usize,
    /// Blocks read from, oldest first; the oldest are dropped beyond [`KEEP_READ_BLOCKS`].
    ready: VecDeque<u64>,
    /// Read-ahead without a plan; grows while reads go on from block to block.
    window: u64,
    /// The block of the latest read.
    last_block_start: u64,
    last_block_end: u64,
    stats: Arc<ReadStats>,
}

impl RangeReader {
    /// A reader over an object of `len` bytes. Must be created inside a Tokio runtime; reads
    /// must not be made on a runtime worker thread (use `spawn_blocking`).
    pub fn new(source: Arc<dyn RangeGet>, len: u64) -> Self {
        Self {
            runtime: Handle::current(),
            source,
            len,
            pos: 0,
            blocks: BTreeMap::new(),
            plan: Vec::new(),
            unused: Vec::new(),
            pending: 0,
            ready: VecDeque::new(),
            window: MIN_FETCH,
            last_block_start: u64::MAX,
            last_block_end: u64::MAX,
            stats: Arc::new(ReadStats::default()),
        }
    }

    /// The counters of this reader.
    pub fn stats(&self) -> Arc<ReadStats> {
        self.stats.clone()
    }

    /// Reads ahead only the bytes of `ranges` (sorted or not), coalesced across gaps shorter
    /// than [`MAX_GAP`]; reads within `unused` (sorted, disjoint; bytes whose content the caller
    /// will not use) are served as zeros without fetching. An empty plan goes back to sequential
    /// read-ahead.
    pub fn set_fetch_plan(&mut self, mut ranges: Vec<Range<u64>>, unused: Vec<Range<u64>>) {
        ranges.retain(|r| r.start < r.end && r.start < self.len);
        ranges.sort_by_key(|r| r.start);
        let mut plan: Vec<Range<u64>> = Vec::with_capacity(ranges.len());
        for r in ranges {
            let r = r.start..r.end.min(self.len);
            match plan.last_mut() {
                Some(last) if r.start <= last.end.saturating_add(MAX_GAP) => {
                    last.end = last.end.max(r.end);
                }
                _ => plan.push(r),
            }
        }
        self.unused = unused;
        self.plan = plan;
    }

    /// The plan's ranges after coalescing.
    pub fn fetch_plan(&self) -> &[Range<u64>] {
        &self.plan
    }

    /// The block holding `pos`, if fetched or fetching.
    fn block_at(&self, pos: u64) -> Option<u64> {
        let (&start, &(end, _)) = self.blocks.range(..=pos).next_back()?;
        (pos < end).then_some(start)
    }

    /// The planned range holding `pos`, or the index of the next one.
    fn plan_at(&self, pos: u64) -> Result<usize, usize> {
        let i = self.plan.partition_point(|r| r.end <= pos);
        match self.plan.get(i) {
            Some(r) if r.start <= pos => Ok(i),
            _ => Err(i),
        }
    }

    fn fetch(&mut self, range: Range<u64>) {
        let source = self.source.clone();
        self.stats
            .bytes
            .fetch_add(range.end - range.start, Ordering::Relaxed);
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let (start, end) = (range.start, range.end);
        let task = self.runtime.spawn(async move { source.get(range).await });
        self.blocks.insert(start, (end, Block::Pending(task)));
        self.pending += 1;
    }

    /// Fetches the parts of `want` not yet fetched, in blocks of `block` bytes, while fewer than
    /// [`MAX_IN_FLIGHT`] blocks are fetching or waiting to be read. Blocks start below
    /// `want.end` but run on to their full size (or `limit`), so a window that moves by a few
    /// KiB at a time still fetches whole blocks.
    fn fill(&mut self, want: Range<u64>, limit: u64, block: u64) {
        let mut at = want.start;
        while at < want.end && self.pending < MAX_IN_FLIGHT {
            if let Some(start) = self.block_at(at) {
                at = self.blocks[&start].0;
                continue;
            }
            let next_block = self.blocks.range(at..).next().map_or(u64::MAX, |(&s, _)| s);
            let end = limit.min(next_block).min(at + block);
            self.fetch(at..end);
            at = end;
        }
    }

    /// Starts the fetches of what comes next: up to [`MAX_AHEAD`] bytes of the plan after the
    /// position, or the sequential window.
    fn read_ahead(&mut self) {
        if self.plan.is_empty() {
            if self.window <= MIN_FETCH {
                // Scattered reads: fetch what is read, nothing more.
                return;
            }
            let end = self.pos.saturating_add(self.window).min(self.len);
            // Blocks as large as the window: small while reads are scattered.
            self.fill(self.pos..end, self.len, self.window.min(BLOCK));
            return;
        }
        let mut left = MAX_AHEAD;
        let mut i = match self.plan_at(self.pos) {
            Ok(i) | Err(i) => i,
        };
        while left > 0 && self.pending < MAX_IN_FLIGHT {
            let Some(r) = self.plan.get(i) else { break };
            let start = r.start.max(self.pos);
            let end = r.end.min(start.saturating_add(left));
            left -= end - start;
            let limit = r.end;
            self.fill(start..end, limit, BLOCK);
            i += 1;
        }
    }

    /// Drops the blocks `stale` picks, cancelling their fetches.
    fn drop_blocks(&mut self, stale: impl Fn(u64, u64) -> bool) {
        let drop: Vec<u64> = self
            .blocks
            .iter()
            .filter(|(start, (end, _))| stale(**start, *end))
            .map(|(start, _)| *start)
            .collect();
        self.ready.retain(|s| !drop.contains(s));
        for start in drop {
            if let Some((_, Block::Pending(task))) = self.blocks.remove(&start) {
                task.abort();
                self.pending -= 1;
            }
        }
    }

    /// Makes sure the block holding `pos` is fetched and returns its start.
    fn ready_block(&mut self, pos: u64) -> io::Result<u64> {
        let start = match self.block_at(pos) {
            Some(start) => start,
            None => {
                if pos != self.last_block_end {
                    self.window = MIN_FETCH;
                }
                if self.plan.is_empty() {
                    // A seek: what was read ahead for the old position is not wanted now.
                    self.drop_blocks(|start, _| start > pos);
                }
                let end = match self.plan_at(pos) {
                    Ok(i) => self.plan[i].end.min(pos + BLOCK),
                    Err(i) if !self.plan.is_empty() => {
                        let next = self.plan.get(i).map_or(u64::MAX, |r| r.start);
                        (pos + MIN_FETCH).min(next)
                    }
                    Err(_) => pos + MIN_FETCH,
                };
                self.fetch(pos..end.min(self.len));
                pos
            }
        };
        if start != self.last_block_start {
            // Reads went on from one block into the next: sequential, so read further ahead.
            if pos == self.last_block_end {
                self.window = (self.window * 2).min(MAX_AHEAD);
            }
            self.last_block_start = start;
            self.last_block_end = self.blocks.get(&start).map_or(0, |(end, _)| *end);
        }
        self.read_ahead();
        let task = match self.blocks.get_mut(&start) {
            Some((_, Block::Ready(_))) => return Ok(start),
            Some((end, Block::Pending(_))) => {
                let end = *end;
                match self.blocks.remove(&start) {
                    Some((_, Block::Pending(task))) => (end, task),
                    _ => return Err(io::Error::other("read-ahead block vanished")),
                }
            }
            None => return Err(io::Error::other("read-ahead block vanished")),
        };
        let (end, task) = task;
        self.pending -= 1;
        let data = match self.runtime.block_on(task) {
            Ok(Ok(data)) => data,
            Ok(Err(err)) => return Err(io::Error::other(err)),
            Err(join) => return Err(io::Error::other(join)),
        };
        if data.len() as u64 != end - start {
            return Err(io::Error::other(PortError::backend(
                "GetObject",
                true,
                format!(
                    "asked for {} bytes at {start}, got {}",
                    end - start,
                    data.len()
                ),
            )));
        }
        self.blocks.insert(start, (end, Block::Ready(data)));
        self.ready.push_back(start);
        while self.ready.len() > KEEP_READ_BLOCKS {
            if let Some(old) = self.ready.pop_front() {
                self.blocks.remove(&old);
            }
        }
        Ok(start)
    }
}

impl Read for RangeReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() || self.pos >= self.len {
            return Ok(0);
        }
        let unused = self.unused.partition_point(|r| r.end <= self.pos);
        if let Some(r) = self.unused.get(unused).filter(|r| r.start <= self.pos) {
            // Bytes the caller drops unread (another track's samples): not fetched.
            let n = buf
                .len()
                .min(usize::try_from(r.end - self.pos).unwrap_or(usize::MAX));
            buf[..n].fill(0);
            self.pos += n as u64;
            return Ok(n);
        }
        let start = self.ready_block(self.pos)?;
        let Some((_, Block::Ready(data))) = self.blocks.get(&start) else {
            return Err(io::Error::other("read-ahead block not ready"));
        };
        let from = usize::try_from(self.pos - start).map_err(io::Error::other)?;
        let n = buf.len().min(data.len() - from);
        buf[..n].copy_from_slice(&data[from..from + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for RangeReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(self.pos)
    }
}

impl Drop for RangeReader {
    fn drop(&mut self) {
        for (_, block) in self.blocks.values() {
            if let Block::Pending(task) = block {
                task.abort();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// An object in memory that records the ranges asked for.
    struct Memory {
        data: Bytes,
        asked: Mutex<Vec<Range<u64>>>,
        fail_at: Option<u64>,
    }

    #[async_trait]
    impl RangeGet for Memory {
        async fn get(&self, range: Range<u64>) -> Result<Bytes, PortError> {
            self.asked.lock().unwrap().push(range.clone());
            if self.fail_at.is_some_and(|at| range.contains(&at)) {
                return Err(PortError::backend("GetObject", true, "injected"));
            }
            Ok(self.data.slice(range.start as usize..range.end as usize))
        }
    }

    fn object(len: usize, fail_at: Option<u64>) -> Arc<Memory> {
        Arc::new(Memory {
            data: (0..len)
                .map(|i| (i * 7 % 251) as u8)
                .collect::<Vec<_>>()
                .into(),
            asked: Mutex::new(Vec::new()),
            fail_at,
        })
    }

    fn on_runtime<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async { tokio::task::spawn_blocking(f).await.unwrap() })
    }

    #[test]
    fn sequential_reads_return_the_object_and_grow_the_requests() {
        let mem = object(20 << 20, None);
        let m = mem.clone();
        let (read, stats) = on_runtime(move || {
            let mut r = RangeReader::new(m, 20 << 20);
            let mut out = Vec::new();
            r.read_to_end(&mut out).unwrap();
            (out, r.stats())
        });
        assert_eq!(read, mem.data);
        let asked = mem.asked.lock().unwrap();
        assert!(asked.iter().all(|r| r.end - r.start <= BLOCK));
        let full: u64 = asked
            .iter()
            .filter(|r| r.end - r.start == BLOCK)
            .map(|r| r.end - r.start)
            .sum();
        assert!(
            full >= 18 << 20,
            "after the ramp-up, whole blocks: {} requests, {full} bytes in full blocks",
            asked.len()
        );
        assert_eq!(stats.bytes(), 20 << 20, "each byte fetched once");
    }

    #[test]
    fn with_a_plan_only_planned_bytes_and_the_reads_outside_are_fetched() {
        let len = 50u64 << 20;
        let mem = object(len as usize, None);
        let m = mem.clone();
        // 1 s of audio (16 KB) every 1 MB, as a phone writes it.
        let runs: Vec<Range<u64>> = (0..50).map(|i| i << 20..(i << 20) + 16_000).collect();
        let plan = runs.clone();
        let (read, stats) = on_runtime(move || {
            let mut r = RangeReader::new(m, len);
            r.set_fetch_plan(plan.clone(), Vec::new());
            let mut out = Vec::new();
            for run in &plan {
                r.seek(SeekFrom::Start(run.start)).unwrap();
                let mut buf = vec![0; (run.end - run.start) as usize];
                r.read_exact(&mut buf).unwrap();
                out.push(buf);
            }
            // A read outside the plan is served too.
            r.seek(SeekFrom::Start(len - 10)).unwrap();
            let mut tail = Vec::new();
            r.read_to_end(&mut tail).unwrap();
            out.push(tail);
            (out, r.stats())
        });
        for (run, got) in runs.iter().zip(&read) {
            assert_eq!(got[..], mem.data[run.start as usize..run.end as usize]);
        }
        assert_eq!(read.last().unwrap()[..], mem.data[len as usize - 10..]);
        assert!(
            stats.bytes() < 50 * 16_000 + 2 * MIN_FETCH,
            "{} bytes",
            stats.bytes()
        );
    }

    #[test]
    fn close_ranges_coalesce_and_far_ones_do_not() {
        let mem = object(10, None);
        let plan = on_runtime(move || {
            let mut r = RangeReader::new(mem, 10 << 20);
            r.set_fetch_plan(
                vec![0..100, 200..300, 300 + MAX_GAP + 1..400 + MAX_GAP],
                Vec::new(),
            );
            r.fetch_plan().to_vec()
        });
        assert_eq!(plan, vec![0..300, 300 + MAX_GAP + 1..400 + MAX_GAP]);
    }

    #[test]
    fn a_failed_fetch_is_an_io_error_carrying_the_port_error() {
        let mem = object(4 << 20, Some(3 << 20));
        let err = on_runtime(move || {
            let mut r = RangeReader::new(mem, 4 << 20);
            let mut out = Vec::new();
            r.read_to_end(&mut out).unwrap_err()
        });
        let port = err.get_ref().and_then(|e| e.downcast_ref::<PortError>());
        assert!(port.is_some_and(PortError::is_transient), "{err:?}");
    }

    #[test]
    fn memory_stays_bounded_on_a_long_object() {
        let len = 64u64 << 20;
        let mem = object(len as usize, None);
        let most = on_runtime(move || {
            let mut r = RangeReader::new(mem, len);
            let mut buf = vec![0; 64 << 10];
            let mut most = 0u64;
            while r.read(&mut buf).unwrap() > 0 {
                let held: u64 = r.blocks.iter().map(|(s, (e, _))| e - s).sum();
                most = most.max(held);
            }
            most
        });
        let kept = (KEEP_READ_BLOCKS as u64 + 1) * BLOCK;
        assert!(most <= MAX_AHEAD + kept, "held {most} bytes");
    }
}
