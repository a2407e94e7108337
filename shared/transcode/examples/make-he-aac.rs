//! Fixture maker (used by tools/fixtures/make-fixtures.sh, not by the service): encodes raw s16le stereo
//! PCM from stdin to HE-AAC (AAC-LC core + SBR, as phones record at low bitrates) in ADTS on
//! stdout, with FDK's encoder, since Debian's ffmpeg cannot write HE-AAC.
//! `ffmpeg ... -f s16le -ac 2 -ar 44100 - | cargo run --example make-he-aac -- 44100 > out.aac`

use std::io::{Read, Write};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rate: u32 = std::env::args()
        .nth(1)
        .ok_or("usage: make-he-aac RATE < s16le-stereo > out.aac")?
        .parse()?;
    let encoder = fdk_aac::enc::Encoder::new(fdk_aac::enc::EncoderParams {
        bit_rate: fdk_aac::enc::BitRate::Cbr(48_000),
        sample_rate: rate,
        transport: fdk_aac::enc::Transport::Adts,
        channels: fdk_aac::enc::ChannelMode::Stereo,
        audio_object_type: fdk_aac::enc::AudioObjectType::Mpeg4HeAac,
    })
    .map_err(|e| format!("{e:?}"))?;
    let mut raw = Vec::new();
    std::io::stdin().read_to_end(&mut raw)?;
    let mut pcm: Vec<i16> = raw
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    // FDK holds back its delay; 4096 samples of silence push the real audio out.
    pcm.extend(std::iter::repeat_n(0, 2 * 4096));
    let mut out = std::io::stdout().lock();
    let mut buf = vec![0u8; 8192];
    let mut at = 0;
    while at < pcm.len() {
        let info = encoder
            .encode(&pcm[at..], &mut buf)
            .map_err(|e| format!("{e:?}"))?;
        out.write_all(&buf[..info.output_size])?;
        if info.input_consumed == 0 && info.output_size == 0 {
            break;
        }
        at += info.input_consumed;
    }
    Ok(())
}
