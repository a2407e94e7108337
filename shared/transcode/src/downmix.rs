//! Folding more than two channels down to stereo.
//!
//! The fold follows ITU-R BS.775: centre and surrounds at -3 dB (0.7071) into their side, a
//! single rear centre at -3 dB into both surrounds (so -6 dB into each side), LFE dropped, and
//! the sum scaled so that a full-scale signal in every channel cannot clip. Channels are placed
//! by their speaker positions when the decoder names them (symphonia's planes follow its
//! canonical position order, whatever order the codec sends them in); otherwise by the usual
//! order: front left, front right, front centre, LFE, then the surrounds left and right in turn.

use symphonia::core::audio::Position;

const MINUS_3DB: f32 = std::f32::consts::FRAC_1_SQRT_2;
const MINUS_6DB: f32 = 0.5;

/// Per-channel weights for (left, right), worked out once per stream, the scaling included.
#[derive(Debug, Clone)]
pub struct Downmix {
    left: Vec<f32>,
    right: Vec<f32>,
}

impl Downmix {
    /// The fold for `channels` channels, placed by `positions` when the decoder gave them.
    pub fn new(channels: usize, positions: Option<Position>) -> Self {
        let weights: Vec<(f32, f32)> = match positions {
            Some(positions) if positions.bits().count_ones() as usize == channels => {
                positions.iter().map(weight_of_position).collect()
            }
            _ => (0..channels)
                .map(|c| weight_of_index(c, channels))
                .collect(),
        };
        // Each side's weights sum to the same (the layouts are symmetric); take the larger.
        let left: f32 = weights.iter().map(|w| w.0).sum();
        let right: f32 = weights.iter().map(|w| w.1).sum();
        let norm = 1.0 / left.max(right).max(1.0);
        Self {
            left: weights.iter().map(|w| w.0 * norm).collect(),
            right: weights.iter().map(|w| w.1 * norm).collect(),
        }
    }

    /// Writes the stereo fold of interleaved `pcm` into `stereo`.
    pub fn apply(&self, pcm: &[f32], stereo: &mut Vec<f32>) {
        // A loop over a known channel count unrolls; 5.1 is the common case by far.
        match self.left.len() {
            3 => self.fold::<3>(pcm, stereo),
            4 => self.fold::<4>(pcm, stereo),
            5 => self.fold::<5>(pcm, stereo),
            6 => self.fold::<6>(pcm, stereo),
            7 => self.fold::<7>(pcm, stereo),
            8 => self.fold::<8>(pcm, stereo),
            _ => self.fold_any(pcm, stereo),
        }
    }

    fn fold_any(&self, pcm: &[f32], stereo: &mut Vec<f32>) {
        stereo.clear();
        stereo.extend(pcm.chunks_exact(self.left.len()).flat_map(|frame| {
            let l = frame
                .iter()
                .zip(&self.left)
                .map(|(s, w)| s * w)
                .sum::<f32>();
            let r = frame
                .iter()
                .zip(&self.right)
                .map(|(s, w)| s * w)
                .sum::<f32>();
            [l, r]
        }));
    }

    fn fold<const N: usize>(&self, pcm: &[f32], stereo: &mut Vec<f32>) {
        let (Ok(left), Ok(right)) = (
            <[f32; N]>::try_from(&self.left[..]),
            <[f32; N]>::try_from(&self.right[..]),
        ) else {
            return self.fold_any(pcm, stereo);
        };
        let frames = pcm.len() / N;
        stereo.clear();
        stereo.resize(frames * 2, 0.0);
        for (frame, out) in pcm.chunks_exact(N).zip(stereo.chunks_exact_mut(2)) {
            let (mut l, mut r) = (0.0f32, 0.0f32);
            for c in 0..N {
                l += frame[c] * left[c];
                r += frame[c] * right[c];
            }
            out[0] = l;
            out[1] = r;
        }
    }
}

fn weight_of_position(position: Position) -> (f32, f32) {
    let left = Position::FRONT_LEFT | Position::FRONT_LEFT_CENTER | Position::FRONT_LEFT_WIDE;
    let right = Position::FRONT_RIGHT | Position::FRONT_RIGHT_CENTER | Position::FRONT_RIGHT_WIDE;
    let surround_left = Position::REAR_LEFT
        | Position::SIDE_LEFT
        | Position::TOP_FRONT_LEFT
        | Position::TOP_REAR_LEFT
        | Position::TOP_SIDE_LEFT
        | Position::BOTTOM_FRONT_LEFT;
    let surround_right = Position::REAR_RIGHT
        | Position::SIDE_RIGHT
        | Position::TOP_FRONT_RIGHT
        | Position::TOP_REAR_RIGHT
        | Position::TOP_SIDE_RIGHT
        | Position::BOTTOM_FRONT_RIGHT;
    let centre = Position::FRONT_CENTER
        | Position::TOP_CENTER
        | Position::TOP_FRONT_CENTER
        | Position::BOTTOM_FRONT_CENTER;
    if left.contains(position) {
        (1.0, 0.0)
    } else if right.contains(position) {
        (0.0, 1.0)
    } else if centre.contains(position) {
        (MINUS_3DB, MINUS_3DB)
    } else if surround_left.contains(position) {
        (MINUS_3DB, 0.0)
    } else if surround_right.contains(position) {
        (0.0, MINUS_3DB)
    } else if position == Position::REAR_CENTER || position == Position::TOP_REAR_CENTER {
        (MINUS_6DB, MINUS_6DB)
    } else {
        // LFE1, LFE2.
        (0.0, 0.0)
    }
}

fn weight_of_index(c: usize, channels: usize) -> (f32, f32) {
    match c {
        0 => (1.0, 0.0),
        1 => (0.0, 1.0),
        2 if channels != 4 => (MINUS_3DB, MINUS_3DB), // centre (a 4-channel layout is quad: no centre)
        3 if channels >= 5 => (0.0, 0.0),             // LFE
        c if c % 2 == 0 => (MINUS_3DB, 0.0),          // left-side surrounds
        _ => (0.0, MINUS_3DB),                        // right-side surrounds
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fold(downmix: &Downmix, frame: &[f32]) -> (f32, f32) {
        let mut out = Vec::new();
        downmix.apply(frame, &mut out);
        assert_eq!(out.len(), 2);
        (out[0], out[1])
    }

    fn only(channel: usize, channels: usize) -> Vec<f32> {
        let mut frame = vec![0.0; channels];
        frame[channel] = 1.0;
        frame
    }

    #[test]
    fn five_one_keeps_every_channel_but_lfe_and_never_clips() {
        for downmix in [
            Downmix::new(6, None),
            Downmix::new(
                6,
                Some(
                    Position::FRONT_LEFT
                        | Position::FRONT_RIGHT
                        | Position::FRONT_CENTER
                        | Position::LFE1
                        | Position::REAR_LEFT
                        | Position::REAR_RIGHT,
                ),
            ),
        ] {
            // FL FR FC LFE SL SR, all at full scale.
            let (l, r) = fold(&downmix, &[1.0; 6]);
            assert!((l - 1.0).abs() < 1e-6 && (r - 1.0).abs() < 1e-6, "{l} {r}");
            // Only the centre: it reaches both sides equally.
            let (l, r) = fold(&downmix, &only(2, 6));
            assert!(l > 0.2 && (l - r).abs() < 1e-6);
            // Only the LFE: dropped.
            assert_eq!(fold(&downmix, &only(3, 6)), (0.0, 0.0));
            // Only the right surround: right side only.
            let (l, r) = fold(&downmix, &only(5, 6));
            assert!(l == 0.0 && r > 0.2);
        }
    }

    #[test]
    fn positions_decide_the_side_not_the_index() {
        // 4.0 with a centre (FL FR FC RC): index order would call FC a left surround.
        let downmix = Downmix::new(
            4,
            Some(
                Position::FRONT_LEFT
                    | Position::FRONT_RIGHT
                    | Position::FRONT_CENTER
                    | Position::REAR_CENTER,
            ),
        );
        let (l, r) = fold(&downmix, &only(2, 4));
        assert!(l > 0.2 && (l - r).abs() < 1e-6, "centre {l} {r}");
        let (l, r) = fold(&downmix, &only(3, 4));
        assert!(l > 0.1 && (l - r).abs() < 1e-6, "rear centre {l} {r}");
        let (l, r) = fold(&downmix, &[1.0; 4]);
        assert!(l <= 1.0 + 1e-6 && r <= 1.0 + 1e-6, "{l} {r}");
    }
}
