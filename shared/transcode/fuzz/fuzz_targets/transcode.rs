//! The whole decode -> encode path over arbitrary bytes: it must return (an MP3 or an error)
//! without panicking, hanging or running out of memory. The first byte picks the extension
//! hint and the thread count, so both the probe paths and the parallel encoder are reached.
//!
//! `transcode` turns a panic inside a parser into `DecoderCrashed`, so libFuzzer would never
//! see one: the target judges the result itself. A crash in a known, reported upstream bug is
//! let through; any other caught panic, and any `Encoder` error (a worker thread that died, a
//! malformed frame of our own making), aborts so libFuzzer records the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::cell::RefCell;
use std::io::Cursor;
use std::sync::Once;
use std::time::Duration;
use video2mp3_transcode::{Options, TranscodeError, transcode};

const HINTS: [&str; 12] = [
    "mp4", "mkv", "webm", "ogg", "flac", "wav", "aiff", "caf", "mp3", "aac", "m4a", "bin",
];

/// Upstream panics already known (file:line of the panic).
const KNOWN: [&str; 2] = [
    // symphonia-format-riff 0.6.1: shift overflow in fix_wave_channel_mask
    // (fixtures/fuzz/riff-channel-mask-shift.wav).
    "symphonia-format-riff-0.6.1/src/wave/chunks.rs:690",
    // symphonia-bundle-flac 0.6.1: add overflow in the LPC predictor on a corrupt FLAC frame
    // (fixtures/fuzz/flac-lpc-add-overflow.bin). Wraps silently where overflow checks are off.
    "symphonia-bundle-flac-0.6.1/src/decoder.rs:750",
];

thread_local! {
    static LAST_PANIC: RefCell<String> = const { RefCell::new(String::new()) };
}

fuzz_target!(|data: &[u8]| {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let at = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_default();
            LAST_PANIC.with(|p| *p.borrow_mut() = at);
        }));
    });
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let options = Options {
        // Bounded work per input: a header claiming hours is refused, not decoded.
        max_duration: Duration::from_secs(30),
        threads: 1 + usize::from(selector & 1),
        segment_frames: 8,
        ..Options::default()
    };
    let hint = HINTS[usize::from(selector >> 1) % HINTS.len()];
    let mut out = Cursor::new(Vec::new());
    LAST_PANIC.with(|p| p.borrow_mut().clear());
    match transcode(Box::new(Cursor::new(bytes.to_vec())), Some(hint), &mut out, &options) {
        Err(TranscodeError::DecoderCrashed(detail)) => {
            let at = LAST_PANIC.with(|p| p.borrow().clone());
            if !KNOWN.iter().any(|k| at.ends_with(k)) {
                eprintln!("new panic at {at}: {detail}");
                std::process::abort();
            }
        }
        Err(TranscodeError::Encoder(detail)) => {
            eprintln!("encoder error: {detail}");
            std::process::abort();
        }
        _ => {}
    }
});
