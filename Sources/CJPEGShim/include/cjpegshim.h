#ifndef CJPEGSHIM_H
#define CJPEGSHIM_H
/* libjpeg reports fatal errors through error_exit(), which must not return. The only safe way out
   is longjmp, which Swift cannot do, so every libjpeg call lives here, behind setjmp. Nothing in
   this file prints or calls exit(); failures come back as a status code plus a message. */
#include <stddef.h>

/* Status codes returned by cjpeg_decode / cjpeg_encode. */
#define CJPEG_OK 0
#define CJPEG_ERROR (-1)           /* libjpeg error; message in errbuf */
#define CJPEG_TRUNCATED (-2)       /* the data ended early (libjpeg warning JWRN_JPEG_EOF) */
#define CJPEG_TOO_MANY_PIXELS (-3) /* header declares more than max_pixels; info has the size */
#define CJPEG_EMPTY (-4)           /* header declares a zero dimension */
#define CJPEG_NO_MEMORY (-5)

/* What the header said, filled in by cjpeg_decode as far as it got. */
typedef struct {
    int width;
    int height;
    int num_components;     /* in the file: 1 grey, 3 YCbCr/RGB, 4 CMYK/YCCK */
    int jpeg_color_space;   /* J_COLOR_SPACE of the file */
    int progressive;        /* 1 when the file is progressive */
    int saw_adobe_marker;   /* 1 when an Adobe APP14 marker was present */
} cjpeg_info;

/* Decodes a JPEG held in memory to 8-bit RGB, interleaved, row-major (width*height*3 bytes,
   allocated with malloc; release with cjpeg_free). Greyscale becomes R=G=B. CMYK and YCCK are
   converted to RGB: with an Adobe APP14 marker the samples are taken as inverted (as Photoshop
   writes them), R = C*K/255; without it as plain, R = (255-C)*(255-K)/255.
   The size check against max_pixels happens right after jpeg_read_header, before any pixel
   buffer is allocated. A truncated stream is an error (CJPEG_TRUNCATED); other warnings are
   ignored. errbuf receives a NUL-terminated message on failure. */
int cjpeg_decode(const unsigned char *data, unsigned long size, unsigned long long max_pixels,
                 unsigned char **rgb_out, cjpeg_info *info, char *errbuf, size_t errbuf_len);

/* Encodes width*height samples of `components` interleaved 8-bit channels: 1 = greyscale,
   3 = RGB, 4 = CMYK (stored as given, with an Adobe marker). quality 1...100. full_chroma = 1
   turns off chroma subsampling (4:4:4). progressive = 1 writes a progressive JPEG. Huffman tables
   are optimised. No metadata markers are written apart from JFIF APP0 (not for CMYK).
   *out is malloc'ed by libjpeg; release with cjpeg_free. */
int cjpeg_encode(const unsigned char *samples, int width, int height, int components,
                 int quality, int full_chroma, int progressive,
                 unsigned char **out, unsigned long *out_size, char *errbuf, size_t errbuf_len);

void cjpeg_free(void *p);

#endif
