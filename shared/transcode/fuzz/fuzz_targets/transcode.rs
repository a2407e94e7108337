//! The whole decode -> encode path over arbitrary bytes: it must return (an MP3 or an error)
//! without panicking, hanging or running out of memory. The first byte picks the extension
//! hint and the thread count, so both the probe paths and the parallel encoder are reached.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Cursor;
use std::time::Duration;
use video2mp3_transcode::{Options, transcode};

const HINTS: [&str; 12] = [
    "mp4", "mkv", "webm", "ogg", "flac", "wav", "aiff", "caf", "mp3", "aac", "m4a", "bin",
];

fuzz_target!(|data: &[u8]| {
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
    let _ = transcode(Box::new(Cursor::new(bytes.to_vec())), Some(hint), &mut out, &options);
});
