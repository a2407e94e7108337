//! Object keys. The server builds every key; the converter parses the upload key back to find
//! the job, and refuses anything that is not of the form it builds.

use crate::job::{JobId, UserId};

/// `uploads/{user_id}/{job_id}/{filename}`: where the presigned PUT puts the source.
pub fn upload_key(user: &UserId, job: &JobId, filename: &str) -> String {
    format!("uploads/{user}/{job}/{filename}")
}

/// `mp3/{user_id}/{job_id}/{name}.mp3`: where the converter writes the result.
pub fn mp3_key(user: &UserId, job: &JobId, filename: &str) -> String {
    format!("mp3/{user}/{job}/{}", mp3_file_name(filename))
}

/// The source file name with its extension replaced by `.mp3` (`my clip.mov` → `my clip.mp3`).
pub fn mp3_file_name(filename: &str) -> String {
    let stem = match filename.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => filename,
    };
    format!("{stem}.mp3")
}

/// An upload key taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceKey {
    pub user_id: UserId,
    pub job_id: JobId,
    pub filename: String,
}

impl SourceKey {
    /// Parses a decoded object key; `None` when it is not `uploads/{user}/{job}/{name}`.
    pub fn parse(key: &str) -> Option<Self> {
        let mut parts = key.splitn(4, '/');
        if parts.next()? != "uploads" {
            return None;
        }
        let user_id = parts.next()?.parse().ok()?;
        let job_id = parts.next()?.parse().ok()?;
        let filename = parts.next()?;
        if filename.is_empty() || filename.contains('/') {
            return None;
        }
        Some(Self {
            user_id,
            job_id,
            filename: filename.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_keys_round_trip() {
        let user = UserId::generate();
        let job = JobId::generate();
        let key = upload_key(&user, &job, "my clip café.mp4");
        assert_eq!(
            SourceKey::parse(&key),
            Some(SourceKey {
                user_id: user,
                job_id: job,
                filename: "my clip café.mp4".into()
            })
        );
    }

    #[test]
    fn foreign_keys_are_refused() {
        let job = JobId::generate();
        let user = UserId::generate();
        for key in [
            "mp3/x/y/z.mp3".to_string(),
            format!("uploads/{user}/{job}/"),
            format!("uploads/{user}/{job}/a/b.mp4"),
            format!("uploads/not-a-ulid/{job}/a.mp4"),
            format!("uploads/{user}/nope/a.mp4"),
            format!("uploads/{user}/{job}"),
        ] {
            assert_eq!(SourceKey::parse(&key), None, "{key}");
        }
    }

    #[test]
    fn mp3_names_replace_the_extension() {
        assert_eq!(mp3_file_name("a b.mov"), "a b.mp3");
        assert_eq!(mp3_file_name("song"), "song.mp3");
        assert_eq!(mp3_file_name(".hidden"), ".hidden.mp3");
        assert_eq!(mp3_file_name("x.tar.gz"), "x.tar.mp3");
    }
}
