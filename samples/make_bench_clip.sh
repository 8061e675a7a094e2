#!/usr/bin/env bash
# The benchmark clip of `gar bench decode` (issue 2): 10 minutes of 1280x720 H.264 at 25 fps with a
# 2-second keyframe interval (GOP 50, B-frames), with moving shapes and film-like noise so the
# bitrate is realistic (~1.7 Mbit/s). Written to /tmp (never committed): about 130 MB.
#
#   bash samples/make_bench_clip.sh [OUT]        # default /tmp/gar-bench-720p.mp4
#   gar bench decode /tmp/gar-bench-720p.mp4
set -euo pipefail
out=${1:-/tmp/gar-bench-720p.mp4}
if [ -s "$out" ]; then echo "$out exists"; exit 0; fi
ffmpeg -hide_banner -loglevel error -y \
    -f lavfi -i "testsrc2=size=1280x720:rate=25:duration=600,noise=alls=3:allf=t" \
    -c:v libx264 -preset veryfast -crf 26 -pix_fmt yuv420p \
    -x264-params "keyint=50:min-keyint=50:scenecut=0:bframes=3" -movflags +faststart "$out.part.mp4"
mv "$out.part.mp4" "$out"
ls -la "$out"
