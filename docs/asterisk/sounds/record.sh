#!/bin/sh
# Record the Mandarin prompts of prompts.tsv with espeak-ng (Debian: espeak-ng, sox) into zh/.
# A center replaces them with its own voice: record each name in prompts.tsv as 8 kHz 16-bit
# mono WAV (e.g. `sox take.wav -r 8000 -c 1 -b 16 zh/hotline/welcome.wav`) and copy zh/ to
# Asterisk's sounds directory (/var/lib/asterisk/sounds/zh). The dialplan sets the channel's
# language to zh, so Asterisk plays zh/<name>.wav and SAY DIGITS reads zh/digits/<n>.wav.
set -eu
cd "$(dirname "$0")"
grep -v '^#' prompts.tsv | while IFS='	' read -r name text; do
    mkdir -p "zh/$(dirname "$name")"
    espeak-ng -v cmn -s 190 -w /tmp/lianxin-prompt.wav "$text"
    sox /tmp/lianxin-prompt.wav -r 8000 -c 1 -b 16 "zh/$name.wav" norm -3
done
rm -f /tmp/lianxin-prompt.wav
