//! A small safe wrapper over the Fraunhofer FDK AAC decoder (`fdk-aac-sys`, built from bundled
//! source). The `fdk-aac` crate's wrapper cannot flush the decoder, and without a flush the last
//! `outputDelay` samples of every stream stay inside the filter banks: the MP3 would come out
//! short. With one call in lame.rs and the Speex decoder (speex.rs), this is the project's only unsafe
//! code; every call is checked.
#![allow(unsafe_code)]

use fdk_aac_sys as sys;

/// What FDK reported when a call failed, in its own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FdkError(sys::AAC_DECODER_ERROR);

fn check(code: sys::AAC_DECODER_ERROR) -> Result<(), FdkError> {
    if code == sys::AAC_DECODER_ERROR_AAC_DEC_OK {
        Ok(())
    } else {
        Err(FdkError(code))
    }
}

/// The stream as FDK sees it after a decoded frame.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct StreamInfo {
    pub sample_rate: u32,
    pub frame_size: usize,
    pub channels: usize,
    pub output_delay: usize,
    /// The AAC core's rate and channels (before SBR doubles the rate or PS makes stereo).
    pub core_rate: u32,
    pub core_channels: usize,
    /// The audio object type (2 = AAC-LC, 5 = SBR, 29 = PS).
    pub object_type: i32,
}

/// One FDK decoder over raw AAC access units.
pub(crate) struct RawDecoder {
    handle: sys::HANDLE_AACDECODER,
}

// SAFETY: the handle is owned by this value alone and FDK keeps no thread-local state; moving it
// to another thread is fine (only `&mut self` methods touch it).
unsafe impl Send for RawDecoder {}

impl RawDecoder {
    /// A decoder configured with an AudioSpecificConfig, giving at most `max_channels` channels
    /// (FDK downmixes the rest, its limiter keeping the sum from clipping).
    pub fn new(audio_specific_config: &[u8], max_channels: i32) -> Result<Self, FdkError> {
        // SAFETY: plain constructor; a null handle is checked below.
        let handle = unsafe { sys::aacDecoder_Open(sys::TRANSPORT_TYPE_TT_MP4_RAW, 1) };
        if handle.is_null() {
            return Err(FdkError(sys::AAC_DECODER_ERROR_AAC_DEC_OUT_OF_MEMORY));
        }
        let decoder = Self { handle };
        let mut conf = audio_specific_config.to_vec();
        let mut conf_ptr = conf.as_mut_ptr();
        let len = u32::try_from(conf.len())
            .map_err(|_| FdkError(sys::AAC_DECODER_ERROR_AAC_DEC_UNSUPPORTED_FORMAT))?;
        // SAFETY: `conf_ptr` points at `len` readable bytes that outlive the call.
        check(unsafe { sys::aacDecoder_ConfigRaw(decoder.handle, &mut conf_ptr, &len) })?;
        // FDK's limiter stays on its default (on where needed): a downmix of loud 5.1 sums
        // several full-scale channels, and without the limiter it saturates (a quarter of the
        // samples of a loud 5.1 test clipped). Its delay is part of outputDelay, dropped below.
        // SAFETY: valid handle, documented parameters.
        check(unsafe {
            sys::aacDecoder_SetParam(
                decoder.handle,
                sys::AACDEC_PARAM_AAC_PCM_MAX_OUTPUT_CHANNELS,
                max_channels,
            )
        })?;
        Ok(decoder)
    }

    /// Gives the decoder one access unit (all of it, in as many calls as FDK wants).
    pub fn fill(&mut self, mut data: &[u8]) -> Result<(), FdkError> {
        while !data.is_empty() {
            let size = u32::try_from(data.len()).unwrap_or(u32::MAX);
            let mut valid = size;
            let mut ptr = data.as_ptr().cast_mut();
            // SAFETY: FDK reads at most `size` bytes from `ptr` (it never writes through it) and
            // reports in `valid` how many it left unread.
            check(unsafe { sys::aacDecoder_Fill(self.handle, &mut ptr, &size, &mut valid) })?;
            let used = (size - valid.min(size)) as usize;
            if used == 0 {
                break;
            }
            data = &data[used..];
        }
        Ok(())
    }

    /// Decodes one frame into `pcm` (interleaved); `flush` discards input and drains the delay
    /// lines instead. Returns the stream information for the frame.
    pub fn decode(&mut self, pcm: &mut [i16], flush: bool) -> Result<StreamInfo, FdkError> {
        let flags = if flush { sys::AACDEC_FLUSH } else { 0 };
        let len = i32::try_from(pcm.len()).unwrap_or(i32::MAX);
        // SAFETY: FDK writes at most `len` samples to `pcm`.
        check(unsafe { sys::aacDecoder_DecodeFrame(self.handle, pcm.as_mut_ptr(), len, flags) })?;
        Ok(self.info())
    }

    fn info(&self) -> StreamInfo {
        // SAFETY: FDK returns a pointer into the decoder instance, valid while the handle is; it
        // is read at once and copied.
        let info = unsafe { sys::aacDecoder_GetStreamInfo(self.handle).as_ref() };
        info.map_or_else(StreamInfo::default, |i| StreamInfo {
            sample_rate: u32::try_from(i.sampleRate).unwrap_or(0),
            frame_size: usize::try_from(i.frameSize).unwrap_or(0),
            channels: usize::try_from(i.numChannels).unwrap_or(0),
            output_delay: usize::try_from(i.outputDelay).unwrap_or(0),
            core_rate: u32::try_from(i.aacSampleRate).unwrap_or(0),
            core_channels: usize::try_from(i.aacNumChannels).unwrap_or(0),
            object_type: i.aot,
        })
    }
}

impl Drop for RawDecoder {
    fn drop(&mut self) {
        // SAFETY: the handle came from aacDecoder_Open and is closed once.
        unsafe { sys::aacDecoder_Close(self.handle) }
    }
}
