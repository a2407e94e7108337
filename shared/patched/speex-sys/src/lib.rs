//! The decoder side of libspeex 1.2.1 (`speex/include/speex/*.h`), declared by hand: decoder
//! state, bit unpacking, in-band stereo. The library is built in its floating point
//! configuration: `speex_decode` writes `f32` samples on the 16-bit scale (±32768).

#![allow(non_camel_case_types, non_snake_case)]

use std::ffi::{c_char, c_int, c_void};

/// `SpeexMode` is opaque here: only pointers to the library's own mode tables are passed.
#[repr(C)]
pub struct SpeexMode {
    _private: [u8; 0],
}

/// `speex_bits.h`: the bit-stream reader a decoder takes its frames from.
#[repr(C)]
pub struct SpeexBits {
    pub chars: *mut c_char,
    pub nbBits: c_int,
    pub charPtr: c_int,
    pub bitPtr: c_int,
    pub owner: c_int,
    pub overflow: c_int,
    pub buf_size: c_int,
    pub reserved1: c_int,
    pub reserved2: *mut c_void,
}

/// `speex_stereo.h`: the state of in-band intensity stereo (allocated by the library).
#[repr(C)]
pub struct SpeexStereoState {
    _private: [u8; 0],
}

/// `speex_callbacks.h`: a handler for an in-band request.
pub type speex_callback_func = Option<
    unsafe extern "C" fn(bits: *mut SpeexBits, state: *mut c_void, data: *mut c_void) -> c_int,
>;

/// `speex_callbacks.h`: one in-band handler, registered with [`SPEEX_SET_HANDLER`].
#[repr(C)]
pub struct SpeexCallback {
    pub callback_id: c_int,
    pub func: speex_callback_func,
    pub data: *mut c_void,
    pub reserved1: *mut c_void,
    pub reserved2: c_int,
}

/// Narrowband (8 kHz, 160-sample frames).
pub const SPEEX_MODEID_NB: c_int = 0;
/// Wideband (16 kHz, 320-sample frames).
pub const SPEEX_MODEID_WB: c_int = 1;
/// Ultra-wideband (32 kHz, 640-sample frames).
pub const SPEEX_MODEID_UWB: c_int = 2;

/// `speex_decoder_ctl`: perceptual enhancement on (1) or off (0).
pub const SPEEX_SET_ENH: c_int = 0;
/// `speex_decoder_ctl`: samples per frame.
pub const SPEEX_GET_FRAME_SIZE: c_int = 3;
/// `speex_decoder_ctl`: registers a [`SpeexCallback`].
pub const SPEEX_SET_HANDLER: c_int = 20;
/// `speex_decoder_ctl`: the codec's delay in samples.
pub const SPEEX_GET_LOOKAHEAD: c_int = 39;
/// The in-band request that carries intensity stereo.
pub const SPEEX_INBAND_STEREO: c_int = 9;

extern "C" {
    /// The mode table for a `SPEEX_MODEID_*`, or null.
    pub fn speex_lib_get_mode(mode: c_int) -> *const SpeexMode;

    pub fn speex_decoder_init(mode: *const SpeexMode) -> *mut c_void;
    pub fn speex_decoder_destroy(state: *mut c_void);
    /// Decodes one frame: 0 on success, -1 at the end of the stream, -2 for a corrupt stream.
    pub fn speex_decode(state: *mut c_void, bits: *mut SpeexBits, out: *mut f32) -> c_int;
    pub fn speex_decoder_ctl(state: *mut c_void, request: c_int, ptr: *mut c_void) -> c_int;

    pub fn speex_bits_init(bits: *mut SpeexBits);
    pub fn speex_bits_destroy(bits: *mut SpeexBits);
    /// Copies `len` bytes in as the bits to decode next (the buffer grows as needed).
    pub fn speex_bits_read_from(bits: *mut SpeexBits, bytes: *const c_char, len: c_int);
    pub fn speex_bits_remaining(bits: *mut SpeexBits) -> c_int;

    pub fn speex_stereo_state_init() -> *mut SpeexStereoState;
    pub fn speex_stereo_state_destroy(stereo: *mut SpeexStereoState);
    /// Expands `frame_size` mono samples at the start of `data` into `frame_size` interleaved
    /// stereo pairs, by the balance the stream's in-band stereo requests gave.
    pub fn speex_decode_stereo(data: *mut f32, frame_size: c_int, stereo: *mut SpeexStereoState);
    /// The handler for [`SPEEX_INBAND_STEREO`]; its `data` is the `SpeexStereoState`.
    pub fn speex_std_stereo_request_handler(
        bits: *mut SpeexBits,
        state: *mut c_void,
        data: *mut c_void,
    ) -> c_int;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The declarations match the library: a decoder made from each mode's table reports that
    /// mode's frame size.
    #[test]
    fn every_mode_has_its_frame_size() {
        for (mode, size) in [
            (SPEEX_MODEID_NB, 160),
            (SPEEX_MODEID_WB, 320),
            (SPEEX_MODEID_UWB, 640),
        ] {
            unsafe {
                let table = speex_lib_get_mode(mode);
                assert!(!table.is_null());
                let state = speex_decoder_init(table);
                assert!(!state.is_null());
                let mut frame: c_int = 0;
                speex_decoder_ctl(state, SPEEX_GET_FRAME_SIZE, (&raw mut frame).cast());
                assert_eq!(frame, size);
                speex_decoder_destroy(state);
            }
        }
    }
}
