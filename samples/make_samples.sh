#!/usr/bin/env bash
# Generates the committed sample clips, frame folders, masks and bad inputs with the ffmpeg CLI
# (lavfi sources + drawn shapes; no downloads). Deterministic for a given FFmpeg build: encoders run
# single-threaded and with bitexact flags. Output was committed from FFmpeg 5.1 (Debian 12).
#
#   bash samples/make_samples.sh            # regenerate everything under samples/
#
# Most clips show testsrc2 (moving shapes, a counter) with a 16-pixel BARCODE strip on top: frame
# N of the source paints bit b of N (b = 0..9, left to right) as a white (bit set) or black stripe
# of width W/10, so a decoded frame tells its own source frame number (tests: VideoTests).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p clips frames masks bad
FF=(ffmpeg -hide_banner -loglevel error -y)
BITEXACT=(-fflags +bitexact -flags:v +bitexact -threads 1)

# lavfi input: testsrc2 of size WxH, rate R, N frames.
src() { echo "testsrc2=size=$1x$2:rate=$3,trim=end_frame=$4"; }
# Filter: paint the barcode strip (needs yuv444p so chroma is full size), back to yuv420p.
BAR="format=yuv444p,geq=lum='if(lt(Y\,16)\,if(bitand(N\,pow(2\,floor(X*10/W)))\,235\,16)\,lum(X\,Y))':cb='if(lt(Y\,16)\,128\,cb(X\,Y))':cr='if(lt(Y\,16)\,128\,cr(X\,Y))'"
X264=(-c:v libx264 -preset medium -crf 30 -pix_fmt yuv420p -x264-params "keyint=25:min-keyint=25:scenecut=0:bframes=3")

# 1. barcode clip: h264 High, 300 frames at 25 fps, 1-s GOP with B-frames (seek tests).
"${FF[@]}" -f lavfi -i "$(src 320 240 25 300)" -vf "$BAR,format=yuv420p" "${X264[@]}" "${BITEXACT[@]}" \
    -movflags +faststart clips/barcode.mp4

# 2. the same source in other containers (h264): mkv, mov, mpegts (start time 1.4 s).
"${FF[@]}" -f lavfi -i "$(src 320 240 25 75)" -vf "$BAR,format=yuv420p" "${X264[@]}" "${BITEXACT[@]}" clips/h264.mkv
"${FF[@]}" -f lavfi -i "$(src 320 240 25 75)" -vf "$BAR,format=yuv420p" "${X264[@]}" "${BITEXACT[@]}" clips/h264.mov
"${FF[@]}" -f lavfi -i "$(src 320 240 25 75)" -vf "$BAR,format=yuv420p" "${X264[@]}" "${BITEXACT[@]}" clips/h264.ts

# 3. HEVC 8-bit (open GOP, keyframe every 30) and 10-bit (BT.709 tagged).
"${FF[@]}" -f lavfi -i "$(src 320 240 25 90)" -vf "$BAR,format=yuv420p" -c:v libx265 -preset fast -crf 30 \
    -x265-params "keyint=30:min-keyint=30:scenecut=0:open-gop=1:bframes=4:log-level=error:pools=1:frame-threads=1" \
    -tag:v hvc1 "${BITEXACT[@]}" clips/hevc8.mp4
"${FF[@]}" -f lavfi -i "$(src 320 240 25 50)" -vf "$BAR,format=yuv420p10le" -c:v libx265 -preset fast -crf 30 \
    -x265-params "keyint=25:log-level=error:pools=1:frame-threads=1" -colorspace bt709 -color_primaries bt709 \
    -color_trc bt709 -color_range tv "${BITEXACT[@]}" clips/hevc10.mkv

# 4. VP9 profile 0 (8-bit) and profile 2 (10-bit), WebM.
"${FF[@]}" -f lavfi -i "$(src 320 240 25 50)" -vf "$BAR,format=yuv420p" -c:v libvpx-vp9 -b:v 300k -g 20 \
    -deadline good -cpu-used 8 "${BITEXACT[@]}" clips/vp9_p0.webm
"${FF[@]}" -f lavfi -i "$(src 320 240 25 50)" -vf "$BAR,format=yuv420p10le" -c:v libvpx-vp9 -b:v 300k -g 20 \
    -deadline good -cpu-used 8 "${BITEXACT[@]}" clips/vp9_p2.webm

# 5. AV1 (libaom, fast settings), WebM.
"${FF[@]}" -f lavfi -i "$(src 320 240 25 40)" -vf "$BAR,format=yuv420p" -c:v libaom-av1 -b:v 300k -g 20 \
    -cpu-used 8 -row-mt 0 "${BITEXACT[@]}" clips/av1.webm

# 6. MPEG-4 part 2 in AVI with B-frames (AVI stores no pts: the reader decodes sequentially).
"${FF[@]}" -f lavfi -i "$(src 320 240 25 60)" -vf "$BAR,format=yuv420p" -c:v mpeg4 -q:v 6 -bf 2 -g 25 \
    "${BITEXACT[@]}" clips/mpeg4.avi

# 7. H.263 in 3GP (H.263 allows only a few sizes: 176x144 here).
"${FF[@]}" -f lavfi -i "$(src 176 144 25 50)" -vf "$BAR,format=yuv420p" -c:v h263 -q:v 6 -g 25 \
    "${BITEXACT[@]}" clips/h263.3gp

# 8. Fragmented MP4 (empty moov: the header has no sample table and no duration).
"${FF[@]}" -f lavfi -i "$(src 320 240 25 75)" -vf "$BAR,format=yuv420p" "${X264[@]}" "${BITEXACT[@]}" \
    -movflags frag_keyframe+empty_moov+default_base_moof clips/fragmented.mp4

# 9. Rotated: display matrix says rotate 90 degrees clockwise (stored 320x240, shown 240x320), and
#    one with a transposing (rotate + flip) matrix. FFmpeg 5.1's CLI cannot write the matrix, so
#    set_mp4_matrix.py patches the track header.
"${FF[@]}" -f lavfi -i "$(src 320 240 25 50)" -vf "$BAR,format=yuv420p" "${X264[@]}" "${BITEXACT[@]}" clips/rotated90.mp4
python3 set_mp4_matrix.py clips/rotated90.mp4 0 1 -1 0
"${FF[@]}" -f lavfi -i "$(src 320 240 25 20)" -vf "$BAR,format=yuv420p" "${X264[@]}" "${BITEXACT[@]}" clips/transposed.mov
python3 set_mp4_matrix.py clips/transposed.mov 0 1 1 0

# 10. Anamorphic: 320x240 stored with sample aspect ratio 4:3 (shown 427x240).
"${FF[@]}" -f lavfi -i "$(src 320 240 25 50)" -vf "$BAR,format=yuv420p,setsar=4/3" "${X264[@]}" "${BITEXACT[@]}" \
    clips/anamorphic.mp4

# 11. Odd size 317x239 (VP9 allows odd 4:2:0 sizes; testsrc2 only makes even sizes, so crop).
"${FF[@]}" -f lavfi -i "$(src 318 240 25 40),crop=317:239:0:0:exact=1" -vf "$BAR,format=yuv420p" -c:v libvpx-vp9 -b:v 300k -g 20 \
    -deadline good -cpu-used 8 "${BITEXACT[@]}" clips/odd_317x239.webm

# 12. Variable frame rate: every 5th frame of a 25 fps source dropped (gaps of 40 and 80 ms).
"${FF[@]}" -f lavfi -i "$(src 320 240 25 100)" -vf "$BAR,format=yuv420p,select='not(eq(mod(n\,5)\,4))'" \
    -fps_mode vfr "${X264[@]}" "${BITEXACT[@]}" clips/vfr.mp4

# 12b. Video with an audio track (AAC) interleaved, audio first in the file: the reader must pick
#      and demux the video stream only.
"${FF[@]}" -f lavfi -i "sine=frequency=330:duration=2" -f lavfi -i "$(src 320 240 25 50)" -map 0:a -map 1:v \
    -vf "$BAR,format=yuv420p" "${X264[@]}" -c:a aac -b:a 32k "${BITEXACT[@]}" clips/with_audio.mp4

# 13. Edit list: stream copy starting between keyframes. The mov demuxer marks the packets before
#     the cut as discarded, so decoding starts at a frame inside a GOP.
tmp=$(mktemp -d)
"${FF[@]}" -f lavfi -i "$(src 320 240 25 100)" -vf "$BAR,format=yuv420p" "${X264[@]}" "${BITEXACT[@]}" "$tmp/src.mp4"
"${FF[@]}" -ss 1.5 -i "$tmp/src.mp4" -t 2 -c copy "${BITEXACT[@]}" clips/editlist.mp4

# 14. A realistic clip for tracking: a textured ball moving over a textured background, 640x360,
#     100 frames; its frame-0 mask in masks/ball_f0.png (same geometry: a circle of radius 40 at
#     the sprite's centre, the sprite's top-left at (40+4t*40, 140+60*sin(t*2)) rounded).
BALL_X="40+160*t"
BALL_Y="140+60*sin(2*t)"
"${FF[@]}" -f lavfi -i "cellauto=s=640x360:rate=25:rule=110:seed=7,trim=end_frame=100" \
    -f lavfi -i "testsrc=s=82x82:rate=25,trim=end_frame=100" -filter_complex \
    "[0:v]format=yuv420p,boxblur=2[bg];[1:v]format=yuva420p,geq=lum='lum(X\,Y)':cb='cb(X\,Y)':cr='cr(X\,Y)':a='if(lt(hypot(X-40.5\,Y-40.5)\,40)\,255\,0)'[ball];[bg][ball]overlay=x='floor($BALL_X)':y='floor($BALL_Y)':eval=frame,format=yuv420p" \
    -c:v libx264 -preset medium -crf 26 -pix_fmt yuv420p -x264-params "keyint=25:scenecut=0" "${BITEXACT[@]}" \
    -movflags +faststart clips/ball.mp4
"${FF[@]}" -f lavfi -i "color=black:s=640x360:d=1,format=gray" -frames:v 1 \
    -vf "geq=lum='if(lt(hypot(X-40-40.5\,Y-140-40.5)\,40)\,255\,0)'" "${BITEXACT[@]}" masks/ball_f0.png

# 14b. Two objects crossing (the square passes in front of the ball around t = 2 s), 640x360, 100
#     frames, with one frame-0 mask per object: the ball (disc of radius 40 at the sprite centre,
#     sprite top-left (40+120t, 150)) and the square (90x90, top-left (520-120t, 130+20*sin(3t))).
"${FF[@]}" -f lavfi -i "cellauto=s=640x360:rate=25:rule=30:seed=3,trim=end_frame=100" \
    -f lavfi -i "testsrc=s=82x82:rate=25,trim=end_frame=100" \
    -f lavfi -i "rgbtestsrc=s=90x90:rate=25,trim=end_frame=100" -filter_complex \
    "[0:v]format=yuv420p,boxblur=3[bg];[1:v]format=yuva420p,geq=lum='lum(X\,Y)':cb='cb(X\,Y)':cr='cr(X\,Y)':a='if(lt(hypot(X-40.5\,Y-40.5)\,40)\,255\,0)'[ball];[bg][ball]overlay=x='floor(40+120*t)':y=150:eval=frame[a];[a][2:v]overlay=x='floor(520-120*t)':y='floor(130+20*sin(3*t))':eval=frame,format=yuv420p" \
    -c:v libx264 -preset medium -crf 26 -pix_fmt yuv420p -x264-params "keyint=25:scenecut=0" "${BITEXACT[@]}" \
    -movflags +faststart clips/two_objects.mp4
"${FF[@]}" -f lavfi -i "color=black:s=640x360:d=1,format=gray" -frames:v 1 \
    -vf "geq=lum='if(lt(hypot(X-40-40.5\,Y-150-40.5)\,40)\,255\,0)'" "${BITEXACT[@]}" masks/two_objects_f0_ball.png
"${FF[@]}" -f lavfi -i "color=black:s=640x360:d=1,format=gray" -frames:v 1 \
    -vf "geq=lum='if(between(X\,520\,609)*between(Y\,130\,219)\,255\,0)'" "${BITEXACT[@]}" masks/two_objects_f0_square.png

# 15. Frame folders: 12 PNGs f1..f12 (natural sort needed: f1, f2, ..., f10) and 10 JPEGs.
rm -rf frames/png_seq frames/jpg_seq
mkdir -p frames/png_seq frames/jpg_seq
"${FF[@]}" -i clips/barcode.mp4 -frames:v 12 -vf scale=160:120 -start_number 1 "${BITEXACT[@]}" frames/png_seq/f%d.png
"${FF[@]}" -i clips/barcode.mp4 -frames:v 10 -q:v 3 -start_number 1 "${BITEXACT[@]}" frames/jpg_seq/img_%d.jpg

# 16. Bad inputs.
: > bad/empty.mp4
printf 'this is not a video\n' > bad/not_video.mp4
"${FF[@]}" -f lavfi -i "sine=frequency=440:duration=0.5" -c:a aac -b:a 32k "${BITEXACT[@]}" bad/audio_only.m4a
size=$(stat -c %s clips/barcode.mp4)
head -c $((size * 2 / 5)) clips/barcode.mp4 > bad/truncated.mp4        # moov first: partly decodable
"${FF[@]}" -f lavfi -i "$(src 320 240 25 50)" -vf "$BAR,format=yuv420p" "${X264[@]}" "${BITEXACT[@]}" "$tmp/moov_last.mp4"
head -c $(( $(stat -c %s "$tmp/moov_last.mp4") / 2 )) "$tmp/moov_last.mp4" > bad/truncated_no_moov.mp4
cp clips/barcode.mp4 bad/corrupt.mp4                                       # 16 KiB of 0xAB in the middle
python3 -c "import sys; f=open(sys.argv[1],'r+b'); f.seek(int(sys.argv[2])); f.write(b'\xab'*16384)" \
    bad/corrupt.mp4 $((size / 2)) 2>/dev/null \
  || printf '\xab%.0s' $(seq 16384) | dd of=bad/corrupt.mp4 bs=1 seek=$((size / 2)) conv=notrunc status=none
rm -rf "$tmp"
ls -la clips masks bad
du -sh clips frames masks bad
