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
