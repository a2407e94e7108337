//! Human names for codecs, so an unsupported one is named in the error.

use symphonia::core::codecs::audio::AudioCodecId;
use symphonia::core::codecs::audio::well_known::*;

/// The codec's short name: the registered decoder's when there is one, else a well-known name.
pub fn codec_name(id: AudioCodecId) -> String {
    if let Some(registered) = symphonia::default::get_codecs().get_audio_decoder(id) {
        return registered.codec.info.short_name.to_owned();
    }
    let known = [
        (CODEC_ID_OPUS, "Opus"),
        (CODEC_ID_AC3, "AC-3 (Dolby Digital)"),
        (CODEC_ID_EAC3, "E-AC-3 (Dolby Digital Plus)"),
        (CODEC_ID_AC4, "AC-4"),
        (CODEC_ID_DCA, "DTS"),
        (CODEC_ID_WMA, "WMA"),
        (CODEC_ID_SPEEX, "Speex"),
        (CODEC_ID_TRUEHD, "Dolby TrueHD"),
        (CODEC_ID_WAVPACK, "WavPack"),
        (CODEC_ID_MONKEYS_AUDIO, "Monkey's Audio"),
        (CODEC_ID_MUSEPACK, "Musepack"),
        (CODEC_ID_ATRAC3, "ATRAC3"),
        (CODEC_ID_COOK, "RealAudio Cook"),
    ];
    known
        .iter()
        .find(|(k, _)| *k == id)
        .map_or_else(|| format!("with id {id}"), |(_, name)| (*name).to_owned())
}
