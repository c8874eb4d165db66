#include "cjpegshim.h"
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

/* ---------- error manager: longjmp out on errors and on "premature end of file" ---------- */

struct shim_err {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
    int code;
    char msg[JMSG_LENGTH_MAX];
};

static void shim_error_exit(j_common_ptr cinfo) {
    struct shim_err *e = (struct shim_err *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->msg);
    switch (cinfo->err->msg_code) {
    case JERR_EMPTY_IMAGE: e->code = CJPEG_EMPTY; break;
    case JERR_OUT_OF_MEMORY: e->code = CJPEG_NO_MEMORY; break;
    default: e->code = CJPEG_ERROR; break;
    }
    longjmp(e->jb, 1);
}

/* Warnings (level -1) are ignored except JWRN_JPEG_EOF: libjpeg would fill the rest of the
   image with grey and carry on, which for us is a truncated file. Trace messages (level >= 0)
   are ignored. Nothing is printed. */
static void shim_emit_message(j_common_ptr cinfo, int msg_level) {
    struct shim_err *e = (struct shim_err *)cinfo->err;
    if (msg_level < 0) {
        cinfo->err->num_warnings++;
        if (cinfo->err->msg_code == JWRN_JPEG_EOF) {
            (*cinfo->err->format_message)(cinfo, e->msg);
            e->code = CJPEG_TRUNCATED;
            longjmp(e->jb, 1);
        }
    }
}

static void shim_output_message(j_common_ptr cinfo) { (void)cinfo; }

static void shim_err_init(struct shim_err *e) {
    jpeg_std_error(&e->pub);
    e->pub.error_exit = shim_error_exit;
    e->pub.emit_message = shim_emit_message;
    e->pub.output_message = shim_output_message;
    e->code = CJPEG_ERROR;
    e->msg[0] = 0;
}

static void copy_msg(char *dst, size_t len, const char *src) {
    if (!dst || !len) return;
    strncpy(dst, src, len - 1);
    dst[len - 1] = 0;
}

/* ---------- decode ---------- */

static unsigned char clamp255(unsigned v) { return v > 255 ? 255 : (unsigned char)v; }

int cjpeg_decode(const unsigned char *data, unsigned long size, unsigned long long max_pixels,
                 unsigned char **rgb_out, cjpeg_info *info, char *errbuf, size_t errbuf_len) {
    struct jpeg_decompress_struct d;
    struct shim_err e;
    unsigned char *volatile buf = NULL;   /* volatile: assigned between setjmp and longjmp */
    unsigned char *volatile row4 = NULL;
    memset(&d, 0, sizeof d);
    memset(info, 0, sizeof *info);
    *rgb_out = NULL;
    shim_err_init(&e);
    d.err = &e.pub;
    if (setjmp(e.jb)) {
        copy_msg(errbuf, errbuf_len, e.msg);
        jpeg_destroy_decompress(&d);
        free(buf);
        free(row4);
        return e.code;
    }
    jpeg_create_decompress(&d);
    jpeg_mem_src(&d, data, size);
    jpeg_read_header(&d, TRUE);
    info->width = (int)d.image_width;
    info->height = (int)d.image_height;
    info->num_components = d.num_components;
    info->jpeg_color_space = (int)d.jpeg_color_space;
    info->progressive = d.progressive_mode ? 1 : 0;
    info->saw_adobe_marker = d.saw_Adobe_marker ? 1 : 0;
    if ((unsigned long long)d.image_width * d.image_height > max_pixels) {
        snprintf(e.msg, sizeof e.msg, "%ux%u pixels exceeds the limit", d.image_width, d.image_height);
        e.code = CJPEG_TOO_MANY_PIXELS;
        longjmp(e.jb, 1);
    }
    int cmyk = (d.jpeg_color_space == JCS_CMYK || d.jpeg_color_space == JCS_YCCK);
    d.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    jpeg_start_decompress(&d);
    if (d.output_components != (cmyk ? 4 : 3)) {
        snprintf(e.msg, sizeof e.msg, "unexpected %d output components", d.output_components);
        longjmp(e.jb, 1);
    }
    size_t w = d.output_width, h = d.output_height;
    buf = malloc(w * h * 3);
    if (cmyk) row4 = malloc(w * 4);
    if (!buf || (cmyk && !row4)) {
        snprintf(e.msg, sizeof e.msg, "out of memory for %zux%zu pixels", w, h);
        e.code = CJPEG_NO_MEMORY;
        longjmp(e.jb, 1);
    }
    int inverted = d.saw_Adobe_marker ? 1 : 0;
    while (d.output_scanline < d.output_height) {
        unsigned char *dst = buf + (size_t)d.output_scanline * w * 3;
        JSAMPROW row = cmyk ? row4 : dst;
        jpeg_read_scanlines(&d, &row, 1);
        if (cmyk) {
            for (size_t x = 0; x < w; x++) {
                unsigned c = row4[4 * x], m = row4[4 * x + 1], y = row4[4 * x + 2], k = row4[4 * x + 3];
                if (!inverted) { c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k; }
                dst[3 * x] = clamp255((c * k + 127) / 255);
                dst[3 * x + 1] = clamp255((m * k + 127) / 255);
                dst[3 * x + 2] = clamp255((y * k + 127) / 255);
            }
        }
    }
    jpeg_finish_decompress(&d);
    jpeg_destroy_decompress(&d);
    free(row4);
    *rgb_out = buf;
    return CJPEG_OK;
}

/* ---------- encode: growable memory destination (own, so error paths free exactly once) ---------- */

struct shim_dest {
    struct jpeg_destination_mgr pub;
    unsigned char *buf;
    size_t cap;
};

static void dest_init(j_compress_ptr c) {
    struct shim_dest *d = (struct shim_dest *)c->dest;
    d->cap = 65536;
    d->buf = malloc(d->cap);
    if (!d->buf) ERREXIT1(c, JERR_OUT_OF_MEMORY, 0);
    d->pub.next_output_byte = d->buf;
    d->pub.free_in_buffer = d->cap;
}

static boolean dest_empty(j_compress_ptr c) {
    struct shim_dest *d = (struct shim_dest *)c->dest;
    size_t ncap = d->cap * 2;
    unsigned char *nb = realloc(d->buf, ncap);
    if (!nb) ERREXIT1(c, JERR_OUT_OF_MEMORY, 1);
    d->buf = nb;
    d->pub.next_output_byte = nb + d->cap;   /* libjpeg hands back a full buffer */
    d->pub.free_in_buffer = ncap - d->cap;
    d->cap = ncap;
    return TRUE;
}

static void dest_term(j_compress_ptr c) { (void)c; }

int cjpeg_encode(const unsigned char *samples, int width, int height, int components,
                 int quality, int full_chroma, int progressive,
                 unsigned char **out, unsigned long *out_size, char *errbuf, size_t errbuf_len) {
    struct jpeg_compress_struct c;
    struct shim_err e;
    struct shim_dest dest;
    memset(&c, 0, sizeof c);
    memset(&dest, 0, sizeof dest);
    *out = NULL;
    *out_size = 0;
    shim_err_init(&e);
    c.err = &e.pub;
    if (setjmp(e.jb)) {
        copy_msg(errbuf, errbuf_len, e.msg);
        jpeg_destroy_compress(&c);
        free(dest.buf);
        return e.code;
    }
    jpeg_create_compress(&c);
    dest.pub.init_destination = dest_init;
    dest.pub.empty_output_buffer = dest_empty;
    dest.pub.term_destination = dest_term;
    c.dest = &dest.pub;
    c.image_width = (JDIMENSION)width;
    c.image_height = (JDIMENSION)height;
    c.input_components = components;
    c.in_color_space = components == 1 ? JCS_GRAYSCALE : components == 4 ? JCS_CMYK : JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, quality, TRUE);
    if (full_chroma) {
        for (int i = 0; i < c.num_components; i++) {
            c.comp_info[i].h_samp_factor = 1;
            c.comp_info[i].v_samp_factor = 1;
        }
    }
    c.optimize_coding = TRUE;
    if (progressive) jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    size_t stride = (size_t)width * components;
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(samples + (size_t)c.next_scanline * stride);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    *out_size = (unsigned long)(dest.cap - dest.pub.free_in_buffer);
    *out = dest.buf;
    jpeg_destroy_compress(&c);
    return CJPEG_OK;
}

void cjpeg_free(void *p) { free(p); }
