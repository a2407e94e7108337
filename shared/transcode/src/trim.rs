//! Which decoded samples are real audio: the encoder priming and padding that an MP4's edit
//! list or iTunes' gapless comment mark are dropped, as players that honour them do.

use crate::mp4;

/// Which decoded samples are real audio: the encoder's priming at the start and its padding at
/// the end are dropped, as players that honour the container's edit list do.
#[derive(Debug, Default)]
pub(crate) struct Trim {
    pub edit: Option<mp4::TrackEdit>,
    /// (priming, samples) from iTunSMPB, at the track's sample rate.
    pub itunes: Option<(u64, u64)>,
    /// Set from the first decoded buffer: frames still to drop, frames still to keep.
    state: Option<(u64, Option<u64>)>,
}

impl Trim {
    pub fn done(&self) -> bool {
        matches!(self.state, Some((_, Some(0))))
    }

    /// Drops what is not to be played from interleaved `pcm`; returns the frames kept.
    pub fn apply(&mut self, pcm: &mut Vec<f32>, channels: usize, rate: u32) -> usize {
        let (skip, keep) = self
            .state
            .get_or_insert_with(|| match (self.edit, self.itunes) {
                (Some(edit), _) => edit.at_rate(rate),
                (None, Some((priming, samples))) => (priming, Some(samples)),
                (None, None) => (0, None),
            });
        let frames = pcm.len() / channels;
        let drop = usize::try_from(*skip).unwrap_or(usize::MAX).min(frames);
        *skip -= drop as u64;
        pcm.drain(..drop * channels);
        let mut kept = frames - drop;
        if let Some(left) = keep {
            kept = kept.min(usize::try_from(*left).unwrap_or(usize::MAX));
            *left -= kept as u64;
            pcm.truncate(kept * channels);
        }
        kept
    }
}
