//! Progress of a running conversion: the engine reports a percentage on every packet; a task
//! writes the latest one to the job at most once per interval.

use std::sync::Arc;
use std::time::Duration;
use video2mp3_domain::{Job, JobLife, Lease};
use video2mp3_transcode::{Options, ProgressSink};

/// Hands the engine a progress sink and starts a task that writes the latest percentage to the
/// job every `progress_every` (not on every packet: one write per interval at most).
pub(crate) fn report_progress(
    life: JobLife,
    job: &Job,
    lease: &Lease,
    every: Duration,
    mut options: Options,
) -> (tokio::task::JoinHandle<()>, Options) {
    let (sender, mut receiver) = tokio::sync::watch::channel(0u8);
    options.progress = Some(ProgressSink(Arc::new(move |percent| {
        let _ = sender.send(percent);
    })));
    let (job, lease) = (job.clone(), lease.clone());
    let task = tokio::spawn(async move {
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
    (task, options)
}
