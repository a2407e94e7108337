#!/usr/bin/env bash
# Makes the small media files under fixtures/ with ffmpeg. The outputs are committed, so tests
# never need ffmpeg; run this only to change them (apt-get install ffmpeg).
set -euo pipefail
cd "$(dirname "$0")/../fixtures"
ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }

# The demo video: 6 s, 160x90 test pattern, H.264 + AAC-LC 44.1 kHz stereo (a 440/660 Hz pair).
ff -f lavfi -i "testsrc2=size=160x90:rate=15:duration=6" \
   -f lavfi -i "sine=frequency=440:sample_rate=44100:duration=6" \
   -f lavfi -i "sine=frequency=660:sample_rate=44100:duration=6" \
   -filter_complex "[1:a][2:a]join=inputs=2:channel_layout=stereo[a]" \
   -map 0:v -map "[a]" -c:v libx264 -preset veryslow -crf 40 -pix_fmt yuv420p \
   -c:a aac -b:a 48k -movflags +faststart -metadata title="Sample clip" sample.mp4

# A 2 s mono 16-bit WAV tone.
ff -f lavfi -i "sine=frequency=1000:sample_rate=22050:duration=2" -c:a pcm_s16le tone-mono.wav

# A text file that claims to be a video.
printf 'this is not a video, just text\n' > not-a-video.mp4

# The format matrix: one second of a 440/660 Hz stereo pair (or the channels named) in each
# container and codec a person is likely to upload. tests/formats.rs in shared/transcode lists
# what each must give. Kept small: most are under 30 KB.
mkdir -p formats
pair() { # pair RATE -> a stereo lavfi source of 1 s at RATE
  echo "aevalsrc=0.5*sin(2*PI*440*t)|0.5*sin(2*PI*660*t):s=$1:d=1"
}
fmt() { ff -f lavfi -i "$(pair "$1")" "${@:2}"; }
fmt 44100 -c:a alac formats/alac.m4a
fmt 44100 -c:a aac -b:a 64k formats/aac.mov
fmt 22050 -c:a aac -b:a 32k formats/aac.3gp
fmt 44100 -c:a libmp3lame -b:a 96k -f mp4 formats/mp3-in.mp4
fmt 44100 -c:a aac -b:a 64k -f adts formats/adts.aac
fmt 48000 -c:a libopus -b:a 48k formats/opus.webm
fmt 48000 -c:a libvorbis -q:a 1 formats/vorbis.webm
fmt 44100 -c:a flac formats/flac.mkv
fmt 44100 -c:a aac -b:a 64k formats/aac.mkv
fmt 44100 -c:a libvorbis -q:a 1 formats/vorbis.ogg
fmt 48000 -c:a libopus -b:a 48k formats/opus.opus
fmt 44100 -c:a flac formats/flac.ogg
fmt 44100 -c:a flac formats/tone.flac
fmt 96000 -c:a flac -sample_fmt s32 formats/hires-96k.flac
fmt 8000 -c:a pcm_u8 formats/u8.wav
fmt 11025 -c:a pcm_s24le formats/s24.wav
fmt 11025 -c:a pcm_s32le formats/s32.wav
fmt 11025 -c:a pcm_f32le formats/f32.wav
fmt 11025 -c:a pcm_f64le formats/f64.wav
fmt 8000 -c:a pcm_alaw formats/alaw.wav
fmt 8000 -c:a pcm_mulaw formats/mulaw.wav
fmt 22050 -c:a pcm_s16be formats/s16.aiff
fmt 22050 -c:a pcm_s16le formats/s16.caf
fmt 44100 -c:a libmp3lame -q:a 5 formats/lame.mp3
fmt 44100 -c:a mp2 -b:a 128k formats/layer2.mp2
# 5.1 AAC (six different tones), as cameras record: downmixed to stereo.
SIX="aevalsrc=0.3*sin(2*PI*300*t)|0.3*sin(2*PI*400*t)|0.3*sin(2*PI*500*t)|0.1*sin(2*PI*60*t)|0.3*sin(2*PI*700*t)|0.3*sin(2*PI*800*t):s=48000:c=5.1"
ff -f lavfi -i "$SIX:d=1" -c:a aac -b:a 192k formats/aac-5.1.mp4
# The same six tones in the other codecs' channel orders: ADTS, Vorbis, FLAC (half a second, to
# stay small) and Opus (libopus's multistream decoder), in Ogg and in WebM.
ff -f lavfi -i "$SIX:d=1" -c:a aac -b:a 192k formats/aac-5.1.aac
ff -f lavfi -i "$SIX:d=1" -c:a libvorbis -q:a 2 formats/vorbis-5.1.ogg
ff -f lavfi -i "$SIX:d=0.5" -c:a flac -sample_fmt s16 -compression_level 12 formats/flac-5.1.flac
ff -f lavfi -i "$SIX:d=1" -c:a libopus -b:a 128k formats/opus-5.1.opus
ff -f lavfi -i "$SIX:d=0.5" -c:a libopus -b:a 128k formats/opus-5.1.webm
# Opus in channel mapping family 255 (no speaker order): refused by name.
ff -f lavfi -i "$SIX:d=0.2" -c:a libopus -mapping_family 255 -b:a 96k formats/refuse-opus-family255.mkv
# What the engine must refuse with a clear message.
fmt 22050 -c:a pcm_s16le formats/refuse-avi.avi
fmt 44100 -c:a aac -b:a 64k -f mpegts formats/refuse-ts.ts
fmt 44100 -c:a ac3 -b:a 96k formats/refuse-ac3.mkv
fmt 44100 -c:a wmav2 -b:a 64k formats/refuse-wma.wma
# HE-AAC (SBR), as phones record at low bitrates; Debian's ffmpeg cannot write it, so FDK's
# encoder does (examples/make-he-aac.rs). As ADTS (implicit SBR) and in an M4A.
ff -f lavfi -i "$(pair 44100)" -f s16le -ac 2 - \
  | cargo run --quiet -p video2mp3-transcode --example make-he-aac -- 44100 > formats/he-aac.aac
ff -i formats/he-aac.aac -c copy formats/he-aac.m4a
# Two audio tracks, the second marked default (ffmpeg writes FlagDefault=0 on the first and
# leaves it out, meaning 1, on the second): 440 Hz and 1000 Hz mono.
ff -f lavfi -i "sine=frequency=440:sample_rate=44100:duration=1" \
   -f lavfi -i "sine=frequency=1000:sample_rate=44100:duration=1" \
   -map 0 -map 1 -c:a flac -disposition:a:0 0 -disposition:a:1 default \
   formats/two-tracks-second-default.mkv
# The same in an MP4 (AAC): ffmpeg sets the track header's enabled flag on the default only.
ff -f lavfi -i "sine=frequency=440:sample_rate=44100:duration=1" \
   -f lavfi -i "sine=frequency=1000:sample_rate=44100:duration=1" \
   -map 0 -map 1 -c:a aac -b:a 64k -disposition:a:0 0 -disposition:a:1 default \
   formats/two-tracks-second-default.mp4
# Loud 5.1: every channel near full scale, so a plain downmix would clip.
ff -f lavfi -i "aevalsrc=0.9*sin(2*PI*300*t)|0.9*sin(2*PI*400*t)|0.9*sin(2*PI*500*t)|0.9*sin(2*PI*60*t)|0.9*sin(2*PI*700*t)|0.9*sin(2*PI*800*t):s=48000:d=1:c=5.1" \
   -c:a aac -b:a 192k formats/aac-5.1-loud.mp4

# Streaming: 3 s of a noisy 640x360 test pattern (3 Mbit/s, so a second of video is larger than
# the reader's 256 KiB gap) with 64 kbit/s AAC, in the three MP4 layouts the converter meets:
# ffmpeg's own (audio every ~13 KiB), fragmented (one fragment a second) and re-interleaved in
# one-second runs as phones write them (tools/interleave.py).
mkdir -p streaming
ff -f lavfi -i "testsrc2=size=640x360:rate=25:duration=3" \
   -f lavfi -i "sine=frequency=440:sample_rate=44100:duration=3" \
   -f lavfi -i "sine=frequency=550:sample_rate=44100:duration=3" \
   -filter_complex "[0:v]noise=alls=30:allf=t[v];[1][2]amerge=inputs=2[a]" -map "[v]" -map "[a]" \
   -c:v libx264 -preset ultrafast -b:v 3M -maxrate 3M -bufsize 1M -g 25 \
   -c:a aac -b:a 64k -movflags +faststart streaming/plain.mp4
ff -i streaming/plain.mp4 -c copy -movflags frag_keyframe+empty_moov streaming/frag.mp4
python3 ../tools/interleave.py streaming/plain.mp4 streaming/inter1s.mp4
