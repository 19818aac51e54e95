// Embedding the SDK: list your streams and their listen URLs, with live status.
//   DJCAST_API_URL=http://localhost:8787 DJCAST_TOKEN=djc_… node examples/sdk-embed.mjs
import { createDjcastClient, DjcastApiError } from '@djcast/sdk';

const djcast = createDjcastClient({
  baseUrl: process.env.DJCAST_API_URL ?? 'http://localhost:8787',
  token: process.env.DJCAST_TOKEN,
});

try {
  const me = await djcast.me();
  console.log(`signed in as ${me.email} (${me.role})`);
  let count = 0;
  for await (const stream of djcast.streams.iterate()) {
    const status = await djcast.streams.status(stream.id);
    console.log(
      `${stream.id}  ${status.state.padEnd(12)}  ${String(status.listener_count).padStart(4)} listening  ${stream.playback_url}`,
    );
    count += 1;
  }
  if (count === 0) console.log('no streams yet');
} catch (error) {
  if (error instanceof DjcastApiError) {
    console.error(`djcast: ${error.detail} (${error.code}, request ${error.requestId})`);
    process.exit(1);
  }
  throw error;
}
