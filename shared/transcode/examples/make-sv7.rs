//! Fixture maker (used by tools/fixtures/make-fixtures.sh, not by the service): encodes raw
//! s16le stereo 44.1 kHz PCM from stdin to Musepack SV7 on stdout, with oxideav-musepack's
//! encoder, since today's `mpcenc` writes only SV8 and ffmpeg writes neither. ffmpeg's own SV7
//! decoder is the check that the file is sound (make-fixtures.sh runs it).
//! `ffmpeg ... -f s16le -ac 2 -ar 44100 - | cargo run --example make-sv7 > out.mpc`

use std::io::{Read, Write};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut raw = Vec::new();
    std::io::stdin().read_to_end(&mut raw)?;
    let pcm: Vec<i16> = raw
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    let settings = oxideav_musepack::sv7_pcm_encode::Sv7EncoderSettings {
        quality: Some(7.0),
        ..Default::default()
    };
    // Rate index 0 is 44.1 kHz.
    let stream = oxideav_musepack::sv7_pcm_encode::encode_sv7_from_pcm_s16(&pcm, 2, 0, &settings)
        .map_err(|e| format!("{e:?}"))?;
    std::io::stdout().lock().write_all(&stream.bytes)?;
    Ok(())
}
