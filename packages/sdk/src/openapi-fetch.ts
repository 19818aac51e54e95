import createClientExport from 'openapi-fetch';

/**
 * openapi-fetch's createClient in both of our builds. Its ESM build exports
 * it as `default`; its CommonJS build sets `exports.default`, and a CommonJS
 * bundle of this ESM package imports that module the way Node does (the
 * whole `module.exports` as the default), so the function sits one level down.
 */
export const createClient: typeof createClientExport =
  (createClientExport as unknown as { default?: typeof createClientExport }).default ?? createClientExport;
