/*
 * lib/media/media: what an uploaded file is, from its first bytes. Images are
 * recognised by lib/media/image; videos here (MP4/MOV/3GP, Matroska/WebM, AVI,
 * MPEG transport and program streams, FLV, Ogg, ASF/WMV).
 *
 * May use: media/ (image).
 */
#ifndef DZ_MEDIA_H
#define DZ_MEDIA_H

#include <stddef.h>
#include <stdint.h>

/* Bytes worth reading to decide. */
#define DZ_MEDIA_SNIFF_BYTES 512

/* A MIME type ("image/jpeg", "video/mp4", ...) or NULL if neither. */
const char *dz_media_sniff(const uint8_t *head, size_t len);

/* 1 if the MIME type is a video one. */
int dz_media_is_video(const char *mime);

#endif
