//! Folding more than two channels down to stereo.
//!
//! Channels arrive in symphonia's order (front left, front right, front centre, LFE, then the
//! surrounds). The fold follows ITU-R BS.775: centre and surrounds at -3 dB (0.7071) into their
//! side, LFE dropped, the sum scaled so a full-scale signal in every channel cannot clip.

const MINUS_3DB: f32 = std::f32::consts::FRAC_1_SQRT_2;

/// Writes the stereo fold of interleaved `pcm` with `channels` channels into `stereo`.
pub fn to_stereo(pcm: &[f32], channels: usize, stereo: &mut Vec<f32>) {
    stereo.clear();
    stereo.reserve(pcm.len() / channels * 2);
    // Weights per source channel for (left, right).
    let weights: Vec<(f32, f32)> = (0..channels)
        .map(|c| match c {
            0 => (1.0, 0.0),
            1 => (0.0, 1.0),
            2 if channels != 4 => (MINUS_3DB, MINUS_3DB), // centre (a 4-channel layout is quad: no centre)
            3 if channels >= 5 => (0.0, 0.0),             // LFE
            c if c % 2 == 0 => (MINUS_3DB, 0.0),          // left-side surrounds
            _ => (0.0, MINUS_3DB),                        // right-side surrounds
        })
        .collect();
    let norm = 1.0 / weights.iter().map(|w| w.0).sum::<f32>().max(1.0);
    for frame in pcm.chunks_exact(channels) {
        let (mut l, mut r) = (0.0f32, 0.0f32);
        for (sample, (wl, wr)) in frame.iter().zip(&weights) {
            l += sample * wl;
            r += sample * wr;
        }
        stereo.push(l * norm);
        stereo.push(r * norm);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_one_keeps_every_channel_but_lfe_and_never_clips() {
        // FL FR FC LFE SL SR, all at full scale.
        let pcm = [1.0f32; 6];
        let mut out = Vec::new();
        to_stereo(&pcm, 6, &mut out);
        assert_eq!(out.len(), 2);
        assert!(
            (out[0] - 1.0).abs() < 1e-6 && (out[1] - 1.0).abs() < 1e-6,
            "{out:?}"
        );

        // Only the centre: it reaches both sides equally.
        let mut centre = [0.0f32; 6];
        centre[2] = 1.0;
        to_stereo(&centre, 6, &mut out);
        assert!(out[0] > 0.2 && (out[0] - out[1]).abs() < 1e-6);

        // Only the LFE: dropped.
        let mut lfe = [0.0f32; 6];
        lfe[3] = 1.0;
        to_stereo(&lfe, 6, &mut out);
        assert_eq!(out, vec![0.0, 0.0]);

        // Only the right surround: right side only.
        let mut rs = [0.0f32; 6];
        rs[5] = 1.0;
        to_stereo(&rs, 6, &mut out);
        assert!(out[0] == 0.0 && out[1] > 0.2);
    }
}
