// C shim over FFmpeg for Swift. Swift cannot import function-like macros
// (AVERROR(e), AVERROR_EOF, av_err2str, ...), so every such need is wrapped here
// as a `static inline` function. Nothing else belongs in this file.
#ifndef GAR_CFFMPEG_SHIM_H
#define GAR_CFFMPEG_SHIM_H

#include <errno.h>
#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavutil/imgutils.h>
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>

static inline int cff_averror_eof(void) { return AVERROR_EOF; }
static inline int cff_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int cff_averror(int e) { return AVERROR(e); }
static inline int64_t cff_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline int cff_time_base(void) { return AV_TIME_BASE; }

/// Writes the message for an FFmpeg error code into buf (like av_err2str).
static inline const char *cff_err2str(int errnum, char *buf, size_t size) {
    av_strerror(errnum, buf, size);
    return buf;
}

#endif
