//! What a running conversion tells the job: the engine gives the file's audio tracks once it
//! has probed it, and a percentage on every packet. One task writes the tracks at once; another
//! writes the latest percentage at most once per interval.

use std::sync::Arc;
use std::time::Duration;
use video2mp3_domain::{Job, JobLife, Lease, SourceTrack};
use video2mp3_transcode::{Options, ProbedSink, ProgressSink};

/// The tasks [`report_progress`] starts.
pub(crate) struct Reporters {
    /// Writes the percentage; aborted when the conversion ends.
    pub progress: tokio::task::JoinHandle<()>,
    /// Writes the tracks; awaited when the conversion ends, which it does at once then (the
    /// engine's sink is gone, so it either has the tracks to write or never will).
    pub tracks: tokio::task::JoinHandle<()>,
}

/// Hands the engine a progress sink and a tracks sink, and starts the tasks that write them to
/// the job: the tracks as soon as the file is probed, the latest percentage every
/// `progress_every` (not on every packet: one write per interval at most).
pub(crate) fn report_progress(
    life: JobLife,
    job: &Job,
    lease: &Lease,
    every: Duration,
    mut options: Options,
) -> (Reporters, Options) {
    let (sender, mut receiver) = tokio::sync::watch::channel(0u8);
    options.progress = Some(ProgressSink(Arc::new(move |percent| {
        let _ = sender.send(percent);
    })));
    // The first probe's tracks (a normalised job reads the source more than once).
    let (tracks_sender, mut tracks) = tokio::sync::watch::channel(None::<Vec<SourceTrack>>);
    options.probed = Some(ProbedSink(Arc::new(move |found, converted| {
        tracks_sender.send_if_modified(|slot| {
            let first = slot.is_none();
            if first {
                *slot = Some(crate::source_tracks(found, converted));
            }
            first
        });
    })));
    let tracks_task = {
        let (life, job, lease) = (life.clone(), job.clone(), lease.clone());
        tokio::spawn(async move {
            if tracks.changed().await.is_err() {
                return;
            }
            let found = tracks.borrow_and_update().clone();
            if let Some(found) = found
                && let Err(err) = life.record_tracks(&job, &lease, &found).await
            {
                tracing::warn!(error = ?err, "writing the tracks failed");
            }
        })
    };
    let (job, lease) = (job.clone(), lease.clone());
    let progress_task = tokio::spawn(async move {
        let mut written = 0u8;
        loop {
            tokio::time::sleep(every).await;
            if receiver.has_changed().is_err() {
                return;
            }
            let percent = *receiver.borrow_and_update();
            if percent <= written {
                continue;
            }
            match life.record_progress(&job, &lease, percent).await {
                Ok(true) => written = percent,
                Ok(false) => return,
                Err(err) => tracing::warn!(error = ?err, "writing progress failed"),
            }
        }
    });
    (
        Reporters {
            progress: progress_task,
            tracks: tracks_task,
        },
        options,
    )
}
