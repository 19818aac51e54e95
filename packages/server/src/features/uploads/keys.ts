// Where an upload's objects live in the blob store. One folder per upload,
// so deleting an upload is one deletePrefix.

export const uploadPrefix = (uploadId: string) => `uploads/audio/${uploadId}/`;
export const originalKey = (uploadId: string) => `uploads/audio/${uploadId}/original.mp3`;
export const uploadHlsPrefix = (uploadId: string) => `uploads/audio/${uploadId}/hls/`;

/** Segment and playlist file names FFmpeg writes; anything else is not served. */
export const HLS_FILE = /^[A-Za-z0-9_-]{1,100}\.(m3u8|ts|aac|m4s|mp4)$/;
