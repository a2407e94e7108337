//! Speex (in Ogg) through libspeex 1.2.1, the reference decoder, built from bundled source
//! (`shared/patched/speex-sys`): narrowband, wideband and ultra-wideband, mono or in-band
//! intensity stereo, at the rate the stream's header gives. The Ogg demuxer (patched, see
//! `shared/patched/symphonia-format-ogg`) hands on one packet of `frames_per_packet` frames at a
//! time with the trims its granule positions give: the codec's delay at the start, the padding
//! of the last frame at the end.
#![allow(unsafe_code)]

use crate::decoders::Spec;
use speex_sys as ffi;
use std::ffi::{c_char, c_int, c_void};
use std::ptr::NonNull;
use symphonia::core::codecs::audio::AudioCodecParameters;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::packet::Packet;

/// The largest packet handed to libspeex (a frame is at most a few hundred bytes).
const MAX_PACKET: usize = 1 << 16;

/// libspeex's output is on the 16-bit scale.
const SCALE: f32 = 1.0 / 32768.0;

pub(crate) struct Speex {
    state: NonNull<c_void>,
    bits: Box<ffi::SpeexBits>,
    /// Only for stereo streams; owned, freed on drop.
    stereo: Option<NonNull<ffi::SpeexStereoState>>,
    /// Kept alive as long as the decoder refers to it.
    _callback: Option<Box<ffi::SpeexCallback>>,
    rate: u32,
    channels: usize,
    frame_size: usize,
    frames_per_packet: usize,
    /// One frame, room for stereo.
    frame: Vec<f32>,
}

// The decoder's state is only touched through `&mut self`.
unsafe impl Send for Speex {}

/// A little-endian `u32` of the Speex header.
fn field(header: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(header.get(at..at + 4)?.try_into().ok()?))
}

impl Speex {
    /// From the 80-byte Speex header in the track's extra data (what the Ogg demuxer checked).
    pub(crate) fn new(params: &AudioCodecParameters) -> Option<Self> {
        let header = params.extra_data.as_deref()?;
        if !header.starts_with(b"Speex   ") {
            return None;
        }
        let (rate, mode, channels) = (field(header, 36)?, field(header, 40)?, field(header, 48)?);
        let frames_per_packet = field(header, 64)?.clamp(1, 64) as usize;
        let mode_id = match mode {
            0 => ffi::SPEEX_MODEID_NB,
            1 => ffi::SPEEX_MODEID_WB,
            2 => ffi::SPEEX_MODEID_UWB,
            _ => return None,
        };
        if !(1..=2).contains(&channels) || rate == 0 {
            return None;
        }
        // SAFETY: the mode id is one of the three the library has tables for; every pointer the
        // library returns is checked before use and owned by `Self`, which frees it on drop.
        unsafe {
            let table = ffi::speex_lib_get_mode(mode_id);
            if table.is_null() {
                return None;
            }
            let state = NonNull::new(ffi::speex_decoder_init(table))?;
            let mut bits = Box::new(std::mem::zeroed::<ffi::SpeexBits>());
            ffi::speex_bits_init(&raw mut *bits);
            let mut frame_size: c_int = 0;
            ffi::speex_decoder_ctl(
                state.as_ptr(),
                ffi::SPEEX_GET_FRAME_SIZE,
                (&raw mut frame_size).cast(),
            );
            let mut speex = Self {
                state,
                bits,
                stereo: None,
                _callback: None,
                rate,
                channels: channels as usize,
                frame_size: usize::try_from(frame_size).ok().filter(|&n| n > 0)?,
                frames_per_packet,
                frame: vec![0.0; usize::try_from(frame_size).ok()? * 2],
            };
            if channels == 2 {
                // In-band stereo: the handler reads each frame's balance into the stereo state.
                let stereo = NonNull::new(ffi::speex_stereo_state_init())?;
                speex.stereo = Some(stereo);
                let mut callback = Box::new(ffi::SpeexCallback {
                    callback_id: ffi::SPEEX_INBAND_STEREO,
                    func: Some(ffi::speex_std_stereo_request_handler),
                    data: stereo.as_ptr().cast(),
                    reserved1: std::ptr::null_mut(),
                    reserved2: 0,
                });
                ffi::speex_decoder_ctl(
                    state.as_ptr(),
                    ffi::SPEEX_SET_HANDLER,
                    (&raw mut *callback).cast(),
                );
                speex._callback = Some(callback);
            }
            Some(speex)
        }
    }

    /// Decodes one packet's frames into `pcm` (interleaved), less the packet's trims.
    pub(crate) fn decode(
        &mut self,
        packet: &Packet,
        pcm: &mut Vec<f32>,
    ) -> Result<Option<Spec>, SymphoniaError> {
        if packet.data.is_empty() || packet.data.len() > MAX_PACKET {
            return Err(SymphoniaError::DecodeError("a Speex packet is damaged"));
        }
        let ch = self.channels;
        pcm.clear();
        // SAFETY: the bits reader copies the packet (its length fits a c_int, checked above);
        // each frame is written into `self.frame`, which holds a stereo frame of the decoder's
        // own frame size.
        unsafe {
            ffi::speex_bits_read_from(
                &raw mut *self.bits,
                packet.data.as_ptr().cast::<c_char>(),
                packet.data.len() as c_int,
            );
            for _ in 0..self.frames_per_packet {
                let status = ffi::speex_decode(
                    self.state.as_ptr(),
                    &raw mut *self.bits,
                    self.frame.as_mut_ptr(),
                );
                if status == -1 {
                    // The stream's terminator: no more frames in this packet.
                    break;
                }
                if status != 0 {
                    return Err(SymphoniaError::DecodeError("a Speex frame is damaged"));
                }
                if let Some(stereo) = self.stereo {
                    ffi::speex_decode_stereo(
                        self.frame.as_mut_ptr(),
                        self.frame_size as c_int,
                        stereo.as_ptr(),
                    );
                }
                pcm.extend(self.frame[..self.frame_size * ch].iter().map(|s| s * SCALE));
            }
        }
        let frames = pcm.len() / ch;
        let std::ops::Range { start, end } = crate::decoders::kept(packet, 0, frames);
        pcm.truncate(end * ch);
        pcm.drain(..start * ch);
        Ok((end > start).then_some(Spec {
            rate: self.rate,
            channels: ch,
            positions: None,
        }))
    }
}

impl Drop for Speex {
    fn drop(&mut self) {
        // SAFETY: each was made by the library in `new` and is freed once, here.
        unsafe {
            ffi::speex_decoder_destroy(self.state.as_ptr());
            ffi::speex_bits_destroy(&raw mut *self.bits);
            if let Some(stereo) = self.stereo {
                ffi::speex_stereo_state_destroy(stereo.as_ptr());
            }
        }
    }
}
