//! Deleting a job (its upload, its MP3 and its item) and a whole account. A converting job is
//! not deleted: its converter would go on to write an MP3 for a job that is gone. The objects
//! go first and the item last, so a deletion cut short leaves the item naming what is left, and
//! asking again finishes it.

use crate::job::{Job, JobStatus};
use crate::ports::{Deletion, JobStore, ObjectStore, PortError, User, UserStore};

/// Where a job's objects are.
#[derive(Debug, Clone)]
pub struct Buckets {
    /// The uploads (`Job::source_key`).
    pub uploads: String,
    /// The MP3s (`Job::output_key`).
    pub mp3: String,
}

/// Why something could not be deleted.
#[derive(Debug, thiserror::Error)]
pub enum EraseError {
    /// The job is being converted now; it can be deleted once that ends.
    #[error("the job is being converted")]
    Converting,
    #[error("a store call failed")]
    Port(#[from] PortError),
}

/// Deletes `job`'s upload, its MP3 and then the job.
pub async fn erase_job(
    jobs: &dyn JobStore,
    objects: &dyn ObjectStore,
    buckets: &Buckets,
    job: &Job,
) -> Result<(), EraseError> {
    if job.status == JobStatus::Converting {
        return Err(EraseError::Converting);
    }
    objects.delete(&buckets.uploads, &job.source_key).await?;
    if let Some(mp3) = &job.output_key {
        objects.delete(&buckets.mp3, mp3).await?;
    }
    match jobs
        .delete_job(&job.user_id, &job.job_id, Deletion::UnlessConverting)
        .await
    {
        Ok(()) => Ok(()),
        // Converting since it was read, or deleted by another request meanwhile.
        Err(PortError::ConditionFailed) => match jobs.job(&job.user_id, &job.job_id).await? {
            Some(_) => Err(EraseError::Converting),
            None => Ok(()),
        },
        Err(other) => Err(other.into()),
    }
}

/// Deletes every job of `user`'s (as [`erase_job`] does), then the user and every item kept
/// about them. Nothing is deleted while one of their jobs is converting.
pub async fn erase_account(
    users: &dyn UserStore,
    jobs: &dyn JobStore,
    objects: &dyn ObjectStore,
    buckets: &Buckets,
    user: &User,
) -> Result<usize, EraseError> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = jobs.jobs(&user.user_id, 100, after.as_ref()).await?;
        all.extend(page.jobs);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    if all.iter().any(|j| j.status == JobStatus::Converting) {
        return Err(EraseError::Converting);
    }
    for job in &all {
        erase_job(jobs, objects, buckets, job).await?;
    }
    users.delete_user(user).await?;
    Ok(all.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::job::{EncodeSettings, JobId, UserId};
    use crate::memory::{MemoryObjects, MemoryStore};
    use crate::upload::ValidUpload;
    use crate::{AccountStore, UserStore};

    fn buckets() -> Buckets {
        Buckets {
            uploads: "up".into(),
            mp3: "mp3".into(),
        }
    }

    async fn job(
        store: &MemoryStore,
        objects: &MemoryObjects,
        user: &UserId,
        status: JobStatus,
    ) -> Job {
        let upload = ValidUpload {
            filename: "a.mp4".into(),
            content_type: "video/mp4".into(),
            size: 3,
            settings: EncodeSettings::Cbr { kbps: 128 },
            options: Default::default(),
        };
        let mut job = Job::awaiting_upload(
            user.clone(),
            JobId::generate(),
            &upload,
            time::OffsetDateTime::now_utc(),
        );
        job.status = status;
        objects.put("up", &job.source_key, vec![1, 2, 3]);
        if status == JobStatus::Done {
            let key = format!("mp3/{user}/{}/a.mp3", job.job_id);
            objects.put("mp3", &key, vec![4]);
            job.output_key = Some(key);
        }
        store.create_job(&job).await.unwrap();
        job
    }

    #[tokio::test]
    async fn a_job_goes_with_its_objects_unless_it_is_converting() {
        let (store, objects) = (MemoryStore::new(), MemoryObjects::new());
        let user = UserId::generate();
        let done = job(&store, &objects, &user, JobStatus::Done).await;
        let busy = job(&store, &objects, &user, JobStatus::Converting).await;
        erase_job(&store, &objects, &buckets(), &done)
            .await
            .unwrap();
        assert_eq!(store.job(&user, &done.job_id).await.unwrap(), None);
        assert_eq!(objects.keys("mp3"), Vec::<String>::new());
        assert_eq!(objects.keys("up"), vec![busy.source_key.clone()]);
        let refused = erase_job(&store, &objects, &buckets(), &busy).await;
        assert!(
            matches!(refused, Err(EraseError::Converting)),
            "{refused:?}"
        );
        assert_eq!(objects.keys("up"), vec![busy.source_key.clone()], "kept");
    }

    #[tokio::test]
    async fn a_job_that_starts_converting_meanwhile_is_kept() {
        let (store, objects) = (MemoryStore::new(), MemoryObjects::new());
        let user = UserId::generate();
        let read = job(&store, &objects, &user, JobStatus::Queued).await;
        let mut now = read.clone();
        now.status = JobStatus::Converting;
        store
            .delete_job(&user, &read.job_id, Deletion::Any)
            .await
            .unwrap();
        store.create_job(&now).await.unwrap();
        let refused = erase_job(&store, &objects, &buckets(), &read).await;
        assert!(
            matches!(refused, Err(EraseError::Converting)),
            "{refused:?}"
        );
        assert!(store.job(&user, &read.job_id).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn an_account_goes_whole_or_not_at_all_while_converting() {
        let (store, objects) = (MemoryStore::new(), MemoryObjects::new());
        let user = User::new(UserId::generate(), "ann@example.com");
        store.create_user(&user, "hash").await.unwrap();
        for _ in 0..3 {
            job(&store, &objects, &user.user_id, JobStatus::Done).await;
        }
        let busy = job(&store, &objects, &user.user_id, JobStatus::Converting).await;
        let refused = erase_account(&store, &store, &objects, &buckets(), &user).await;
        assert!(
            matches!(refused, Err(EraseError::Converting)),
            "{refused:?}"
        );
        assert_eq!(objects.keys("mp3").len(), 3, "nothing deleted");
        let mut ended = busy.clone();
        ended.status = JobStatus::Failed;
        store
            .delete_job(&user.user_id, &busy.job_id, Deletion::Any)
            .await
            .unwrap();
        store.create_job(&ended).await.unwrap();
        store
            .put_reset(
                &user.user_id,
                "r",
                0,
                time::OffsetDateTime::now_utc() + time::Duration::hours(1),
            )
            .await
            .unwrap();
        let erased = erase_account(&store, &store, &objects, &buckets(), &user)
            .await
            .unwrap();
        assert_eq!(erased, 4);
        assert_eq!(objects.keys("mp3"), Vec::<String>::new());
        assert_eq!(objects.keys("up"), Vec::<String>::new());
        assert_eq!(
            store.jobs(&user.user_id, 10, None).await.unwrap().jobs,
            vec![]
        );
        assert_eq!(store.user(&user.user_id).await.unwrap(), None);
        assert!(store.credentials(&user.email).await.unwrap().is_none());
        let now = time::OffsetDateTime::now_utc();
        assert_eq!(
            store.take_reset(&user.user_id, "r", now).await.unwrap(),
            None
        );
    }
}
