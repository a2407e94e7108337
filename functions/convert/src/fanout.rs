//! One long conversion fanned out over many workers. The converter that takes the upload
//! plans it: where the source's headers say each part can seek to its own segment
//! ([`video2mp3_transcode::plan_fanout`]) and the audio is longer than `FANOUT_MIN_SECONDS`, it
//! starts the MP3's multipart upload and sends one message per part to the segments queue,
//! which this same function takes. Each worker converts its part ([`Options::part`]) and
//! stores its frames and figures under `parts/{user}/{job}/`; the job's item counts the parts
//! in ([`JobStore::record_part`]). The worker that brings the last one in claims the join
//! ([`JobStore::claim_join`]), writes the whole stream's info frame into part 0
//! ([`join_parts`]), assembles the multipart upload (server-side copies of parts of 5 MiB
//! and more, small ones read and sent together) and ends the job as the single converter
//! would.
//!
//! Every step bears a duplicate delivery: a part made twice is the same bytes, counted once; a
//! join whose claimer died is claimed again when its claim runs out. A part whose input is bad
//! fails the job with the reason the single converter gives. Where the container's length
//! was wrong (the parts do not join), the joiner converts the whole upload itself.

use crate::streaming::{Mp4Read, Opened, Outcome, store_failure_reason, stream_convert};
use crate::{ConvertError, Deps, Refusal, engine_options, extension, failure_reason};
use futures_util::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use std::io::{Cursor, Seek, SeekFrom, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use video2mp3_domain::{
    EmailClaim, FailureReason, HeldPart, Job, JobId, JobStatus, Lease, ObjectInfo, ObjectReader,
    ObjectWriter, PortError, UserId,
};
use video2mp3_transcode::{
    FanoutPlan, Part, PartFigures, SeekableSource, TranscodeError, join_parts, plan_fanout,
};

/// S3's smallest multipart part (all but the last).
pub const MIN_PART: u64 = 5 << 20;
/// The most of a part read back by the joiner (part 0, and small parts sent together).
const READ_LIMIT: u64 = 512 << 20;
/// The joiner's calls to S3 at once (figures read, parts copied or sent); parts sent are held
/// in memory meanwhile, a few MB each.
const JOIN_CALLS: usize = 8;
/// The most of a part's figures read back.
const FIGURES_LIMIT: u64 = 4 << 20;

/// Fanning out, as the environment sets it.
#[derive(Debug, Clone)]
pub struct FanoutConfig {
    /// Audio at least this long is fanned out (where its parts can seek).
    pub min_audio: Duration,
    /// MP3 frames per part: 9,600 frames are 250.8 s at 44.1 kHz, about 5.8 MB at 190 kbps.
    pub segment_frames: usize,
    /// The smallest multipart part but the last: S3's [`MIN_PART`] (lower only in tests of the
    /// in-memory store).
    pub min_part: u64,
}

/// The message that asks a worker for one part of a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentMessage {
    pub user_id: UserId,
    pub job_id: JobId,
    /// Which part (from 0).
    pub part: u32,
    /// How many parts the plan made.
    pub parts: u32,
    pub segment_frames: usize,
    /// The MP3's multipart upload.
    pub upload_id: String,
    /// The planner's lease on the job: the joiner ends the job as its holder.
    pub lease_owner: String,
}

/// A part's figures as stored beside its frames, for the joiner; `figures` is `None` for a
/// part that lies past the end of the audio (the container said the audio was longer than it
/// is).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredPart {
    figures: Option<PartFigures>,
    /// The rate of the part's audio, and the bytes of the upload it read.
    #[serde(default)]
    sample_rate: u32,
    #[serde(default)]
    bytes_read: u64,
}

/// Where part `index`'s frames are kept until the join (in the MP3 bucket).
pub fn part_key(user: &UserId, job: &JobId, index: u32) -> String {
    format!("parts/{user}/{job}/{index:05}.mp3")
}

/// Where part `index`'s figures are kept.
fn figures_key(user: &UserId, job: &JobId, index: u32) -> String {
    format!("parts/{user}/{job}/{index:05}.json")
}

/// What the plan decided.
pub(crate) enum Planned {
    /// Sent out in parts: the job stays `converting` until they are joined.
    FannedOut,
    /// For the single converter: the upload as the plan opened it (`None` where fanning out
    /// is not configured and nothing was read).
    Whole(Option<Opened>),
}

/// The bytes of an MP4's audio the plan's probe reads ahead (it decodes one packet).
const PROBE_AHEAD: u64 = 64 << 10;

/// The first `bytes` of the sorted `ranges`.
fn plan_start(ranges: &[std::ops::Range<u64>], bytes: u64) -> Vec<std::ops::Range<u64>> {
    let mut left = bytes;
    let mut start = Vec::new();
    for r in ranges {
        if left == 0 {
            break;
        }
        let end = r.end.min(r.start.saturating_add(left));
        start.push(r.start..end);
        left -= end - r.start;
    }
    start
}

/// A reader lent to the probe, which takes its source by value, and got back afterwards.
struct Lent(Arc<Mutex<Box<dyn ObjectReader>>>);

impl std::io::Read for Lent {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("reader poisoned"))?
            .read(buf)
    }
}

impl Seek for Lent {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("reader poisoned"))?
            .seek(to)
    }
}

/// Fans the job out if it should be, or leaves it to the single converter. A source the probe
/// cannot read is left to the single converter, which says why. The upload is read once for
/// both: an MP4's `moov` by the fetch plan (the probe takes it from there), and the single
/// converter goes on with the same reader.
pub(crate) async fn plan(
    job: &Job,
    key: &str,
    object: &ObjectInfo,
    out_key: &str,
    lease: &Lease,
    deps: &Deps,
) -> Result<Planned, ConvertError> {
    let (Some(config), Some(queue)) = (&deps.config.fanout, &deps.segments) else {
        return Ok(Planned::Whole(None));
    };
    let mut options = engine_options(job, &deps.config);
    let mut reader = deps.objects.open(&deps.config.uploads_bucket, key, object);
    let size = object.size;
    let ext = extension(job);
    let min_audio = config.min_audio;
    let (probed, opened) = tokio::task::spawn_blocking(move || {
        let mp4 = video2mp3_transcode::mp4_audio_plan_for(&mut reader, options.track.as_ref());
        // An MP4 whose sample table says its audio is short is not probed at all (most
        // uploads are short videos), nor is a fragmented one, whose sample tables are in its
        // fragments: a part could not seek by packet number.
        let skip = mp4.as_ref().is_some_and(|p| {
            p.fragmented || p.audio_seconds.is_some_and(|s| s < min_audio.as_secs_f64())
        });
        let mp4 = mp4.map(Box::new);
        if skip {
            let mp4 = Mp4Read::Done(mp4);
            return (Ok(None), Ok(Opened { reader, mp4 }));
        }
        if let Some(plan) = &mp4 {
            // The probe decodes one packet: read ahead only the start of the audio.
            reader.set_fetch_plan(plan_start(&plan.ranges, PROBE_AHEAD), plan.unused.clone());
            options.mp4_index = Some(plan.index.clone());
        }
        let shared = Arc::new(Mutex::new(reader));
        let probed = match Lent(shared.clone()).seek(SeekFrom::Start(0)) {
            Ok(_) => plan_fanout(
                Box::new(SeekableSource::new(Lent(shared.clone()), size)),
                ext.as_deref(),
                &options,
            ),
            Err(err) => Err(err.into()),
        };
        // The probe has dropped its source: the reader is ours again.
        let reader = match Arc::try_unwrap(shared) {
            Ok(mutex) => mutex.into_inner().map_err(|_| "reader poisoned"),
            Err(_) => Err("the probe kept the reader"),
        };
        let mp4 = Mp4Read::Done(mp4);
        (probed, reader.map(|reader| Opened { reader, mp4 }))
    })
    .await?;
    let opened = match opened {
        Ok(opened) => Some(opened),
        Err(why) => {
            tracing::warn!(
                why,
                "the plan's reader was not given back; opening the upload again"
            );
            None
        }
    };
    let plan: FanoutPlan = match probed {
        Ok(Some(plan)) => plan,
        Ok(None) => return Ok(Planned::Whole(opened)),
        Err(err) => {
            tracing::info!(error = %err, "no fan-out plan; converting in one piece");
            return Ok(Planned::Whole(opened));
        }
    };
    let parts = plan.parts(config.segment_frames);
    if plan.duration() < config.min_audio || parts < 2 {
        return Ok(Planned::Whole(opened));
    }
    let parts = u32::try_from(parts).unwrap_or(u32::MAX);
    let upload_id = deps
        .objects
        .create_multipart(&deps.config.mp3_bucket, out_key, "audio/mpeg")
        .await?;
    let bodies = (0..parts)
        .map(|part| {
            serde_json::to_string(&SegmentMessage {
                user_id: job.user_id.clone(),
                job_id: job.job_id,
                part,
                parts,
                segment_frames: config.segment_frames,
                upload_id: upload_id.clone(),
                lease_owner: lease.owner.clone(),
            })
            .map_err(|e| PortError::backend("encode message", false, e))
        })
        .collect::<Result<Vec<_>, _>>()?;
    queue.send(&bodies).await?;
    tracing::info!(
        parts,
        segment_frames = config.segment_frames,
        audio_seconds = plan.duration().as_secs_f64(),
        "fanned out"
    );
    Ok(Planned::FannedOut)
}

/// Makes one part, records it, and joins the parts if it brought the last one in.
#[tracing::instrument(skip_all, fields(user_id = %msg.user_id, job_id = %msg.job_id, part = msg.part))]
pub(crate) async fn make_part(msg: &SegmentMessage, deps: &Deps) -> Result<(), ConvertError> {
    let Some(job) = deps.jobs.job(&msg.user_id, &msg.job_id).await? else {
        tracing::warn!("no such job; part dropped");
        return Ok(());
    };
    if job.status != JobStatus::Converting {
        tracing::info!(
            status = job.status.as_str(),
            "the job has ended; part dropped"
        );
        return Ok(());
    }
    let lease = Lease {
        owner: msg.lease_owner.clone(),
        expires_at: deps.clock.now() + deps.config.lease,
    };
    let Some(object) = deps
        .objects
        .head(&deps.config.uploads_bucket, &job.source_key)
        .await?
    else {
        let text = "the uploaded file is no longer there; please upload it again";
        return give_up(&job, msg, (FailureReason::UploadMissing, text.into()), deps).await;
    };
    let stored = match convert_part(&job, msg, &object, deps).await? {
        Ok(stored) => stored,
        Err(refusal) => return give_up(&job, msg, refusal, deps).await,
    };
    let (user, id) = (&job.user_id, &job.job_id);
    let text =
        serde_json::to_vec(&stored).map_err(|e| PortError::backend("encode figures", false, e))?;
    deps.objects
        .put_bytes(
            &deps.config.mp3_bucket,
            &figures_key(user, id, msg.part),
            text,
            "application/json",
        )
        .await?;
    let Some(count) = deps.jobs.record_part(user, id, msg.part).await? else {
        tracing::info!("the job ended while the part was made");
        return Ok(());
    };
    tracing::info!(parts_in = count, parts = msg.parts, "part recorded");
    if count < msg.parts {
        // The user sees the parts come in (the join is the last percent). Two workers
        // recording at once may write their figures out of order: a step back, put right by
        // the next part.
        let percent =
            u8::try_from(u64::from(count) * 99 / u64::from(msg.parts.max(1))).unwrap_or(99);
        if let Err(err) = deps.life().record_progress(&job, &lease, percent).await {
            tracing::warn!(error = ?err, "progress not recorded");
        }
        return Ok(());
    }
    match deps
        .jobs
        .claim_join(user, id, deps.clock.now(), deps.config.lease)
        .await?
    {
        EmailClaim::Claimed => join(&job, msg, &object, &lease, deps).await,
        EmailClaim::Busy => {
            // The joiner may have died: this delivery comes back once its claim has run out.
            tracing::info!("another worker is joining the parts");
            Err(ConvertError::Store(PortError::backend(
                "claim join",
                true,
                "another worker holds the join",
            )))
        }
        EmailClaim::AlreadySent | EmailClaim::NoJob => Ok(()),
    }
}

/// Converts the part and stores its frames; its figures, or why the job fails.
async fn convert_part(
    job: &Job,
    msg: &SegmentMessage,
    object: &ObjectInfo,
    deps: &Deps,
) -> Result<Result<StoredPart, Refusal>, ConvertError> {
    let mut options = engine_options(job, &deps.config);
    options.part = Some(Part {
        index: msg.part as usize,
        segment_frames: msg.segment_frames,
    });
    // A part is one segment: one encoder thread.
    options.threads = 1;
    let reader = deps
        .objects
        .open(&deps.config.uploads_bucket, &job.source_key, object);
    let bytes_read = reader.bytes_read();
    let (writer, buffer) = PartBuffer::new();
    let size = object.size;
    let ext = extension(job);
    let span = tracing::Span::current();
    let outcome = tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        stream_convert(
            reader,
            size,
            Box::new(writer),
            ext.as_deref(),
            &options,
            Mp4Read::NotYet,
        )
    })
    .await?;
    let read = bytes_read.load(std::sync::atomic::Ordering::Relaxed);
    let summary = match outcome {
        Outcome::Done(summary, _) => summary,
        // The container promised more audio than there is: this part has none.
        Outcome::BadInput(TranscodeError::Options(why)) if why.contains("after the end") => {
            tracing::warn!(%why, "the part lies past the end of the audio");
            return Ok(Ok(StoredPart {
                figures: None,
                sample_rate: 0,
                bytes_read: read,
            }));
        }
        Outcome::BadInput(err) => {
            tracing::info!(reason = %err, detail = ?err, "the input cannot be converted");
            return Ok(Err((failure_reason(&err), err.to_string())));
        }
        Outcome::Store(err) => {
            return match store_failure_reason(&err) {
                Some(reason) => Ok(Err((FailureReason::Store, reason))),
                None => Err(err.into()),
            };
        }
        Outcome::Io(err) => return Err(err.into()),
    };
    let Some(figures) = summary.part.clone() else {
        return Err(ConvertError::Store(PortError::backend(
            "convert part",
            false,
            "the engine gave no part figures",
        )));
    };
    let bytes = buffer.take();
    tracing::info!(
        frames = figures.frames,
        bytes = figures.bytes,
        passed_over = figures.passed_over,
        bytes_read = read,
        without_reservoir = figures.without_reservoir,
        "part made"
    );
    deps.objects
        .put_bytes(
            &deps.config.mp3_bucket,
            &part_key(&job.user_id, &job.job_id, msg.part),
            bytes,
            "audio/mpeg",
        )
        .await?;
    Ok(Ok(StoredPart {
        figures: Some(figures),
        sample_rate: summary.sample_rate,
        bytes_read: read,
    }))
}

/// Fails the job for good (a part's input is bad, or the upload went): the upload is given up.
async fn give_up(
    job: &Job,
    msg: &SegmentMessage,
    (reason, text): Refusal,
    deps: &Deps,
) -> Result<(), ConvertError> {
    let lease = Lease {
        owner: msg.lease_owner.clone(),
        expires_at: deps.clock.now(),
    };
    crate::fail(job, reason, text, Some(&lease), deps).await?;
    let out_key = video2mp3_domain::mp3_key(&job.user_id, &job.job_id, &job.filename);
    deps.objects
        .abort_multipart(&deps.config.mp3_bucket, &out_key, &msg.upload_id)
        .await?;
    clean_up(job, msg.parts, deps).await;
    Ok(())
}

/// Joins the parts into the MP3 and ends the job.
async fn join(
    job: &Job,
    msg: &SegmentMessage,
    object: &ObjectInfo,
    lease: &Lease,
    deps: &Deps,
) -> Result<(), ConvertError> {
    let started = std::time::Instant::now();
    let (user, id) = (&job.user_id, &job.job_id);
    let bucket = &deps.config.mp3_bucket;
    let out_key = video2mp3_domain::mp3_key(user, id, &job.filename);
    let texts: Vec<(u32, Option<Vec<u8>>)> = futures_util::stream::iter(0..msg.parts)
        .map(|index| async move {
            let key = figures_key(user, id, index);
            let text = deps.objects.get_bytes(bucket, &key, FIGURES_LIMIT).await?;
            Ok::<_, PortError>((index, text))
        })
        .buffered(JOIN_CALLS)
        .try_collect()
        .await?;
    let mut stored: Vec<StoredPart> = Vec::new();
    for (index, text) in texts {
        let Some(text) = text else {
            return Err(ConvertError::Store(PortError::backend(
                "join",
                true,
                format!("part {index}'s figures are not there yet"),
            )));
        };
        let part: StoredPart = serde_json::from_slice(&text)
            .map_err(|e| PortError::backend("decode figures", false, e))?;
        stored.push(part);
    }
    let bytes_read: u64 = stored.iter().map(|p| p.bytes_read).sum();
    let rate = stored
        .iter()
        .rev()
        .find_map(|p| p.figures.as_ref().map(|_| p.sample_rate))
        .unwrap_or(0);
    let figures: Vec<PartFigures> = stored.into_iter().filter_map(|p| p.figures).collect();
    let (at, info) = match join_parts(&figures) {
        Ok(joined) => joined,
        Err(err) => {
            // The container's length was not the audio's: convert it whole instead.
            tracing::warn!(error = %err, "the parts do not join; converting in one piece");
            deps.objects
                .abort_multipart(bucket, &out_key, &msg.upload_id)
                .await?;
            clean_up(job, msg.parts, deps).await;
            return crate::convert_whole(job.clone(), &job.source_key, object, lease, deps, None)
                .await;
        }
    };
    // Part 0 with the whole stream's info frame, then the others; each multipart part at
    // least MIN_PART but the last: a part that large alone is copied within S3, smaller ones
    // are read and sent with their neighbours.
    let min_part = deps.config.fanout.as_ref().map_or(MIN_PART, |f| f.min_part);
    let sizes: Vec<u64> = figures.iter().map(|p| p.bytes).collect();
    let pieces = assemble(&sizes, min_part);
    let head = (at, info.as_slice());
    let held: Vec<HeldPart> = futures_util::stream::iter(pieces.into_iter().enumerate())
        .map(|(n, piece)| {
            let number = u32::try_from(n + 1).unwrap_or(u32::MAX);
            send_piece(job, msg, &out_key, number, piece, head, deps)
        })
        .buffered(JOIN_CALLS)
        .try_collect()
        .await?;
    let mp3_bytes: u64 = held.iter().map(|p| p.size).sum();
    deps.objects
        .complete_multipart(bucket, &out_key, &msg.upload_id, &held)
        .await?;
    let audio_seconds = figures
        .last()
        .map_or(0.0, |p| p.samples as f64 / f64::from(rate.max(1)));
    let stats = video2mp3_domain::JobStats {
        source_bytes: object.size,
        bytes_read,
        mp3_bytes,
        audio_seconds,
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        peak_rss_bytes: crate::peak_rss_bytes(),
        tracks: Vec::new(),
        parts: Some(u32::try_from(figures.len()).unwrap_or(u32::MAX)),
    };
    tracing::info!(
        parts = figures.len(),
        multipart_parts = held.len(),
        mp3_bytes,
        audio_seconds,
        without_reservoir = figures.iter().filter(|p| p.without_reservoir).count(),
        replay_gain = figures.iter().all(|p| p.loudness.is_some()),
        "parts joined"
    );
    crate::metrics::emit(&crate::metrics::conversion(
        &stats,
        crate::metrics::now_ms(),
    ));
    match deps.life().finish(job, lease, out_key, stats).await? {
        video2mp3_domain::Ended::Recorded => {}
        video2mp3_domain::Ended::Refused => {
            tracing::warn!("the job was taken over before its parts were joined; result dropped");
        }
    }
    clean_up(job, msg.parts, deps).await;
    Ok(())
}

/// What goes into one part of the MP3's multipart upload.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// The fanned-out part of this index, copied within S3.
    Copy(usize),
    /// These fanned-out parts, read and sent together (part 0 with its info frame written in).
    Send(Vec<usize>),
}

/// The multipart upload's parts, from the fanned-out parts' sizes: each at least `min_part`
/// but the last. A part that large alone is copied within S3 (never part 0, whose info frame
/// is written in here); smaller ones are read and sent with the parts after them.
fn assemble(sizes: &[u64], min_part: u64) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let (mut pending, mut pending_bytes) = (Vec::new(), 0u64);
    for (index, &bytes) in sizes.iter().enumerate() {
        if index > 0 && pending.is_empty() && bytes >= min_part {
            pieces.push(Piece::Copy(index));
            continue;
        }
        pending.push(index);
        pending_bytes += bytes;
        if pending_bytes >= min_part {
            pieces.push(Piece::Send(std::mem::take(&mut pending)));
            pending_bytes = 0;
        }
    }
    if !pending.is_empty() {
        pieces.push(Piece::Send(pending));
    }
    pieces
}

/// Stores `piece` as part `number` of the MP3's upload; `head` is where part 0's info frame
/// goes and the frame.
async fn send_piece(
    job: &Job,
    msg: &SegmentMessage,
    out_key: &str,
    number: u32,
    piece: Piece,
    (at, info): (u64, &[u8]),
    deps: &Deps,
) -> Result<HeldPart, ConvertError> {
    let (user, id, bucket) = (&job.user_id, &job.job_id, &deps.config.mp3_bucket);
    let key = |index: usize| part_key(user, id, u32::try_from(index).unwrap_or(u32::MAX));
    let indexes = match piece {
        Piece::Copy(index) => {
            return Ok(deps
                .objects
                .copy_part(bucket, out_key, &msg.upload_id, number, &key(index))
                .await?);
        }
        Piece::Send(indexes) => indexes,
    };
    let mut body = Vec::new();
    for index in indexes {
        let Some(mut bytes) = deps
            .objects
            .get_bytes(bucket, &key(index), READ_LIMIT)
            .await?
        else {
            return Err(ConvertError::Store(PortError::backend(
                "join",
                false,
                format!("part {index} is gone"),
            )));
        };
        if index == 0 {
            let at = usize::try_from(at).unwrap_or(usize::MAX);
            let Some(place) = bytes.get_mut(at..at.saturating_add(info.len())) else {
                return Err(ConvertError::Store(PortError::backend(
                    "join",
                    false,
                    "part 0 is shorter than its info frame's place",
                )));
            };
            place.copy_from_slice(info);
        }
        body.append(&mut bytes);
    }
    Ok(deps
        .objects
        .upload_part(bucket, out_key, &msg.upload_id, number, body)
        .await?)
}

/// Deletes the parts' frames and figures; what is left (a failed delete) the bucket's
/// lifecycle rule removes.
async fn clean_up(job: &Job, parts: u32, deps: &Deps) {
    for index in 0..parts {
        for key in [
            part_key(&job.user_id, &job.job_id, index),
            figures_key(&job.user_id, &job.job_id, index),
        ] {
            if let Err(err) = deps.objects.delete(&deps.config.mp3_bucket, &key).await {
                tracing::warn!(key, error = ?err, "a part could not be deleted");
            }
        }
    }
}

/// An [`ObjectWriter`] into memory: a part's frames, a few MB.
struct PartBuffer {
    out: Cursor<Vec<u8>>,
    done: Arc<Mutex<Vec<u8>>>,
}

/// Where a [`PartBuffer`]'s bytes are once finished.
struct Finished(Arc<Mutex<Vec<u8>>>);

impl Finished {
    fn take(&self) -> Vec<u8> {
        self.0
            .lock()
            .map(|mut b| std::mem::take(&mut *b))
            .unwrap_or_default()
    }
}

impl PartBuffer {
    fn new() -> (Self, Finished) {
        let done = Arc::new(Mutex::new(Vec::new()));
        (
            Self {
                out: Cursor::new(Vec::new()),
                done: done.clone(),
            },
            Finished(done),
        )
    }
}

impl Write for PartBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Seek for PartBuffer {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.out.seek(to)
    }
}

impl ObjectWriter for PartBuffer {
    fn finish(self: Box<Self>) -> Result<u64, PortError> {
        let bytes = self.out.into_inner();
        let len = bytes.len() as u64;
        if let Ok(mut done) = self.done.lock() {
            *done = bytes;
        }
        Ok(len)
    }

    fn abort(self: Box<Self>) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_uploads_parts_are_each_at_least_the_floor_but_the_last() {
        use Piece::{Copy, Send};
        // Part 0 is always read (its info frame is written in); a large part alone is copied.
        assert_eq!(
            assemble(&[6, 6, 6, 2], 5),
            [Send(vec![0]), Copy(1), Copy(2), Send(vec![3])]
        );
        // Small parts go with the ones after them until the floor is reached, large or not.
        assert_eq!(
            assemble(&[2, 2, 9, 1, 1, 6, 1], 5),
            [Send(vec![0, 1, 2]), Send(vec![3, 4, 5]), Send(vec![6])]
        );
        // One part, or all small: one piece.
        assert_eq!(assemble(&[3], 5), [Send(vec![0])]);
        assert_eq!(assemble(&[1, 1, 1], 5), [Send(vec![0, 1, 2])]);
        // Every piece but the last reaches the floor, and each part is in one piece, in order.
        let sizes = [7, 1, 4, 5, 9, 2, 2, 2, 8, 1];
        let pieces = assemble(&sizes, 5);
        let mut order = Vec::new();
        for (n, piece) in pieces.iter().enumerate() {
            let indexes = match piece {
                Copy(i) => vec![*i],
                Send(v) => v.clone(),
            };
            let total: u64 = indexes.iter().map(|&i| sizes[i]).sum();
            assert!(n + 1 == pieces.len() || total >= 5, "{pieces:?}");
            order.extend(indexes);
        }
        assert_eq!(order, (0..sizes.len()).collect::<Vec<_>>());
    }
}
