#!/bin/sh
# Regenerates xline's prompts (freeswitch/sounds/xline/*.wav): 8 kHz, mono, 16-bit PCM, made with
# espeak-ng and sox so they can be rebuilt anywhere; an operator may replace them with recordings
# of their own (keep the names). FreeSWITCH finds them as xline/<name>.wav under its -sounds dir.
# Mandarin uses the cmn-latn-pinyin voice: plain "cmn" reads the tone digits out in English.
#
#   sh freeswitch/sounds/generate-prompts.sh            # Mandarin (default)
#   XLINE_PROMPT_LANG=en sh freeswitch/sounds/generate-prompts.sh
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out="$here/xline"
lang=${XLINE_PROMPT_LANG:-cmn}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

command -v espeak-ng >/dev/null || { echo "espeak-ng not found (apt-get install espeak-ng)" >&2; exit 1; }
command -v sox >/dev/null || { echo "sox not found (apt-get install sox)" >&2; exit 1; }

case "$lang" in
  cmn) voice=cmn-latn-pinyin; speed=190 ;;
  en) voice=en-us; speed=170 ;;
  *) echo "XLINE_PROMPT_LANG must be cmn or en" >&2; exit 1 ;;
esac

# say <name> <mandarin text> <english text>
say() {
  name=$1
  if [ "$lang" = cmn ]; then text=$2; else text=$3; fi
  espeak-ng -v "$voice" -s "$speed" -w "$tmp/raw.wav" "$text"
  # Trim espeak's leading/trailing silence, keep a short tail, resample to telephone rate and
  # normalise: the prompts should sound the same level as each other.
  sox "$tmp/raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$out/$name.wav" \
    silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse pad 0 0.15 gain -n -4
  printf '%-22s %5ss  %s\n' "$name.wav" "$(soxi -D "$out/$name.wav")" "$text"
}

say enter-extension  '请输入分机号，按井号键结束' 'Please enter the extension, then press hash.'
say retry            '分机号有误，请重新输入' 'Invalid extension. Please try again.'
say invalid-goodbye  '分机号有误，再见' 'Invalid extension. Goodbye.'
say no-input-goodbye '未收到按键，再见' 'No digits received. Goodbye.'
say busy             '您拨打的用户正忙，请稍后再拨' 'The number you dialled is busy. Please call later.'
say no-answer        '您拨打的用户暂时无人接听' 'The number you dialled does not answer.'
say unavailable      '您拨打的用户暂时无法接通' 'The number you dialled cannot be reached.'
say goodbye          '再见' 'Goodbye.'
