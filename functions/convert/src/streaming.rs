//! One conversion on a blocking thread: the upload read in ranges, the MP3 streamed to the
//! store, and the outcome sorted into bad input (the user's file), a store failure (the
//! service's) or other I/O.

use std::io::{Read, Seek, SeekFrom};
use std::sync::{Arc, Mutex};
use video2mp3_domain::{ObjectReader, ObjectWriter, PortError};
use video2mp3_transcode::{Mp4Plan, Options, SeekableSource, Summary, TranscodeError};

/// How a conversion on the blocking thread ended.
pub(crate) enum Outcome {
    /// Converted and stored: the summary and the MP3's size.
    Done(Box<Summary>, u64),
    /// The input cannot be converted; the reason is for the user.
    BadInput(TranscodeError),
    /// Reading the upload or storing the MP3 failed.
    Store(PortError),
    /// Anything else of I/O (retried).
    Io(std::io::Error),
}

/// Whether the upload's `moov` was read already (by the fan-out's plan), and what it gave.
pub(crate) enum Mp4Read {
    /// Read it here, if the upload is an MP4.
    NotYet,
    /// Read: the fetch plan, or `None` for an upload that is not an MP4 (or whose audio has
    /// no plan).
    Done(Option<Box<Mp4Plan>>),
}

/// The upload as the fan-out's plan left it, for the single converter to go on with: the same
/// reader (what the plan fetched counts in the job's figures, and the blocks it keeps serve
/// the conversion's first reads) and the MP4 fetch plan it read.
pub(crate) struct Opened {
    pub reader: Box<dyn ObjectReader>,
    pub mp4: Mp4Read,
}

/// Reads the upload in ranges (for an MP4, only its audio and index, as its fetch plan says),
/// converts it, and streams the MP3 to `writer`, which is stored only if everything succeeded.
pub(crate) fn stream_convert(
    mut reader: Box<dyn ObjectReader>,
    size: u64,
    writer: Box<dyn ObjectWriter>,
    extension: Option<&str>,
    options: &Options,
    mp4: Mp4Read,
) -> Outcome {
    let mut options = options.clone();
    let plan = match mp4 {
        Mp4Read::NotYet => {
            video2mp3_transcode::mp4_audio_plan_for(&mut reader, options.track.as_ref())
        }
        Mp4Read::Done(plan) => plan.map(|p| *p),
    };
    if let Some(plan) = plan {
        tracing::info!(
            ranges = plan.ranges.len(),
            bytes = plan.bytes(),
            unused_ranges = plan.unused.len(),
            fragmented = plan.fragmented,
            "MP4 fetch plan"
        );
        reader.set_fetch_plan(plan.ranges, plan.unused);
        // The engine takes the moov as the plan read it, instead of walking it again.
        options.mp4_index = Some(plan.index);
    }
    if let Err(err) = reader.seek(SeekFrom::Start(0)) {
        writer.abort();
        return Outcome::Io(err);
    }
    let mut writer = writer;
    let failure = Arc::new(Mutex::new(None));
    let reader = Watched {
        inner: reader,
        failure: failure.clone(),
    };
    let source = SeekableSource::new(reader, size);
    let result = video2mp3_transcode::transcode(Box::new(source), extension, &mut writer, &options);
    // A failed read is the store's fault whatever the demuxer made of it (symphonia's probe
    // reports a failed read as an unknown format).
    let failure = failure.lock().ok().and_then(|mut f| f.take());
    match (result, failure) {
        (_, Some(port)) => {
            writer.abort();
            Outcome::Store(port)
        }
        (Ok(summary), None) => match writer.finish() {
            Ok(mp3_bytes) => Outcome::Done(Box::new(summary), mp3_bytes),
            Err(err) => Outcome::Store(err),
        },
        (Err(err), None) => {
            writer.abort();
            match err {
                TranscodeError::Io(io) => {
                    match io.into_inner().map(|e| e.downcast::<PortError>()) {
                        Some(Ok(port)) => Outcome::Store(*port),
                        Some(Err(other)) => Outcome::Io(std::io::Error::other(other)),
                        None => Outcome::Io(std::io::Error::other("I/O failed")),
                    }
                }
                other => Outcome::BadInput(other),
            }
        }
    }
}

/// A reader that remembers the first storage error a read or seek met.
struct Watched {
    inner: Box<dyn ObjectReader>,
    failure: Arc<Mutex<Option<PortError>>>,
}

impl Watched {
    fn note<T>(&self, result: std::io::Result<T>) -> std::io::Result<T> {
        if let Err(err) = &result
            && let Some(port) = err.get_ref().and_then(|e| e.downcast_ref::<PortError>())
            && let Ok(mut slot) = self.failure.lock()
        {
            slot.get_or_insert_with(|| copy_port_error(port));
        }
        result
    }
}

impl Read for Watched {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let result = self.inner.read(buf);
        self.note(result)
    }
}

impl Seek for Watched {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let result = self.inner.seek(to);
        self.note(result)
    }
}

/// The same error again (a `PortError` owns its cause, so it cannot be cloned).
fn copy_port_error(err: &PortError) -> PortError {
    match err {
        PortError::ConditionFailed => PortError::ConditionFailed,
        PortError::AlreadyExists => PortError::AlreadyExists,
        PortError::ObjectGone => PortError::ObjectGone,
        PortError::ObjectChanged => PortError::ObjectChanged,
        PortError::Backend {
            operation,
            transient,
            source,
        } => PortError::backend(operation, *transient, source.to_string()),
    }
}

/// The reason to give the user when a storage failure will not go away by retrying; `None` when
/// the message should be retried.
pub(crate) fn store_failure_reason(err: &PortError) -> Option<String> {
    match err {
        PortError::ObjectGone => Some(
            "the uploaded file was deleted while it was being converted; please upload it again"
                .into(),
        ),
        PortError::ObjectChanged => Some(
            "the uploaded file was replaced while it was being converted; please upload it again"
                .into(),
        ),
        err if err.is_transient() => None,
        _ => Some("the MP3 could not be stored; please try again later".into()),
    }
}
