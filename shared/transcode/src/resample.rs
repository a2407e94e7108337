//! Sample-rate conversion for sources at a rate MP3 cannot carry (88.2, 96, 176.4, 192 kHz...),
//! with rubato's FFT resampler, streaming: a fixed-size chunk at a time, the resampler's own
//! delay dropped at the start and drained at the end, so the output has exactly
//! `ceil(input * out_rate / in_rate)` samples.

use crate::TranscodeError;
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler as _};

/// Input frames per resampler call.
const CHUNK: usize = 1024;

pub(crate) struct Resampler {
    inner: Fft<f32>,
    channels: usize,
    /// (input rate, output rate), for the exact output length.
    rates: (u64, u64),
    /// Interleaved input not yet resampled (less than one chunk between calls).
    pending: Vec<f32>,
    /// One call's output.
    out: Vec<f32>,
    /// Output frames still to drop (the resampler's delay).
    to_trim: usize,
    frames_in: u64,
    frames_out: u64,
}

fn failed(e: impl std::fmt::Display) -> TranscodeError {
    TranscodeError::Encoder(format!("resampling failed: {e}"))
}

impl Resampler {
    pub fn new(in_rate: u32, out_rate: u32, channels: usize) -> Result<Self, TranscodeError> {
        let inner = Fft::<f32>::new(
            in_rate as usize,
            out_rate as usize,
            CHUNK,
            channels,
            FixedSync::Input,
        )
        .map_err(failed)?;
        let out = vec![0.0; inner.output_frames_max() * channels];
        let to_trim = inner.output_delay();
        Ok(Self {
            inner,
            channels,
            rates: (u64::from(in_rate), u64::from(out_rate)),
            pending: Vec::with_capacity(CHUNK * channels),
            out,
            to_trim,
            frames_in: 0,
            frames_out: 0,
        })
    }

    /// Resamples interleaved `pcm`, appending what is ready to `emit`.
    pub fn process(&mut self, pcm: &[f32], emit: &mut Vec<f32>) -> Result<(), TranscodeError> {
        self.frames_in += (pcm.len() / self.channels) as u64;
        let mut rest = pcm;
        loop {
            let need = self.inner.input_frames_next() * self.channels;
            let take = (need - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.pending.len() < need {
                return Ok(());
            }
            self.run(None, emit)?;
            self.pending.clear();
        }
    }

    /// Resamples what is pending and drains the delay line; appends to `emit`.
    pub fn finish(&mut self, emit: &mut Vec<f32>) -> Result<(), TranscodeError> {
        // In integers: a float ratio can land a hair above a whole count and round it up.
        let (in_rate, out_rate) = self.rates;
        let expected = (self.frames_in * out_rate).div_ceil(in_rate);
        let partial = self.pending.len() / self.channels;
        let need = self.inner.input_frames_next() * self.channels;
        self.pending.resize(need, 0.0);
        self.run(Some(partial), emit)?;
        // Pump silence until the delayed tail is out.
        let mut guard = 0;
        while self.frames_out < expected && guard < 64 {
            self.pending.iter_mut().for_each(|s| *s = 0.0);
            self.run(Some(0), emit)?;
            guard += 1;
        }
        // Whatever came beyond the expected length is the zeros pumped in.
        let extra = self.frames_out.saturating_sub(expected) as usize;
        emit.truncate(emit.len() - extra.min(emit.len() / self.channels) * self.channels);
        self.frames_out -= extra as u64;
        Ok(())
    }

    fn run(&mut self, partial: Option<usize>, emit: &mut Vec<f32>) -> Result<(), TranscodeError> {
        let frames_in = self.pending.len() / self.channels;
        let frames_out = self.out.len() / self.channels;
        let input =
            InterleavedSlice::new(&self.pending[..], self.channels, frames_in).map_err(failed)?;
        let mut output = InterleavedSlice::new_mut(&mut self.out[..], self.channels, frames_out)
            .map_err(failed)?;
        let indexing = Indexing {
            input_offset: 0,
            output_offset: 0,
            active_channels_mask: None,
            partial_len: partial,
        };
        let (_, produced) = self
            .inner
            .process_into_buffer(&input, &mut output, Some(&indexing))
            .map_err(failed)?;
        let trim = self.to_trim.min(produced);
        self.to_trim -= trim;
        emit.extend_from_slice(&self.out[trim * self.channels..produced * self.channels]);
        self.frames_out += (produced - trim) as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tone_keeps_its_pitch_and_length() {
        // 0.75 s of 1 kHz at 96 kHz, fed in odd-sized pieces, to 48 kHz.
        let input: Vec<f32> = (0..72_000)
            .map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 96_000.0).sin() * 0.5)
            .collect();
        let mut r = Resampler::new(96_000, 48_000, 1).unwrap();
        let mut out = Vec::new();
        for piece in input.chunks(777) {
            r.process(piece, &mut out).unwrap();
        }
        r.finish(&mut out).unwrap();
        assert_eq!(out.len(), 36_000);
        // Aligned with a 1 kHz sine at 48 kHz (no delay left): compare away from the edges.
        let error: f32 = (2_000..34_000)
            .map(|i| {
                let want = (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 48_000.0).sin() * 0.5;
                (out[i] - want).abs()
            })
            .fold(0.0, f32::max);
        assert!(error < 0.01, "largest error {error}");
    }
}
