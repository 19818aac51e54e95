/** Where a live set's kept segments wait in the blob store until its episode is made (under the stream, so deleting the stream removes them). */
export const archivePrefix = (streamId: string, archiveId: string) => `streams/${streamId}/archive/${archiveId}/`;
