//! Damaged input never panics or hangs: every fixture truncated at many points and with bytes
//! flipped (a fixed pseudo-random sequence, so failures reproduce), plus every input under
//! fixtures/fuzz (what the fuzzer found or was seeded with), each through one and two threads.
//! Each must end in an MP3 or an error, quickly.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use video2mp3_transcode::{Options, transcode};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// xorshift64*: a fixed sequence, so a failing case can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Runs one input; returns how long it took. A panic fails the test with the case named.
fn survive(name: &str, bytes: Vec<u8>, ext: Option<&str>) -> Duration {
    let started = Instant::now();
    for threads in [1, 2] {
        let options = Options {
            max_duration: Duration::from_secs(60),
            threads,
            segment_frames: 8,
            ..Options::default()
        };
        let mut out = Cursor::new(Vec::new());
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            transcode(
                Box::new(Cursor::new(bytes.clone())),
                ext,
                &mut out,
                &options,
            )
        }));
        assert!(result.is_ok(), "{name} ({threads} threads) panicked");
    }
    started.elapsed()
}

#[test]
fn damaged_files_end_in_an_mp3_or_an_error() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut cases = 0;
    let mut slowest = (Duration::ZERO, String::new());
    let mut inputs = files(&fixtures().join("formats"));
    inputs.push(fixtures().join("sample.mp4"));
    for path in inputs {
        let bytes = std::fs::read(&path).unwrap();
        let ext = path.extension().and_then(|e| e.to_str());
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut variants: Vec<(String, Vec<u8>)> = Vec::new();
        for cut in [0, 1, 4, 8, 12, 64, 100, 500, 1000] {
            let at = bytes.len().min(cut).max(bytes.len() * cut / 1000);
            variants.push((format!("{name} cut at {at}"), bytes[..at].to_vec()));
        }
        for round in 0..6 {
            let mut damaged = bytes.clone();
            // Flip a burst of bytes near the start (headers) and some anywhere.
            for _ in 0..8 {
                let at = (rng.next() as usize) % damaged.len().clamp(1, 4096).min(damaged.len());
                damaged[at] ^= (rng.next() as u8) | 1;
            }
            for _ in 0..32 {
                let at = (rng.next() as usize) % damaged.len();
                damaged[at] = rng.next() as u8;
            }
            variants.push((format!("{name} damaged #{round}"), damaged));
        }
        for (case, input) in variants {
            let took = survive(&case, input, ext);
            cases += 1;
            if took > slowest.0 {
                slowest = (took, case);
            }
        }
    }
    let fuzz = fixtures().join("fuzz");
    for path in files(&fuzz) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let took = survive(&name, std::fs::read(&path).unwrap(), None);
        cases += 1;
        if took > slowest.0 {
            slowest = (took, name);
        }
    }
    eprintln!(
        "{cases} damaged inputs survived; slowest {:?} ({})",
        slowest.0, slowest.1
    );
    // Debug builds are slow; each input is at most a few seconds of audio.
    assert!(
        slowest.0 < Duration::from_secs(20),
        "{} took {:?}",
        slowest.1,
        slowest.0
    );
}
