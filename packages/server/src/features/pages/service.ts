// What a listener page shows, as data: the stream or playlist, the DJ's
// public name, what is playing, and whether this visitor gets a player.
// Knows no HTTP; the routes render the models with templates.ts.

import { DomainError, NotFound } from '../../core/errors.js';
import type { Principal } from '../../core/principal.js';
import type { PlaybackAuthorizer, PlaybackCredentials, PlayableResource } from '../../http/playback.js';
import type { PlaylistsService, PlaylistView } from '../playlists/service.js';
import type { ArtworksService } from '../artworks/service.js';
import type { PodcastsService } from '../podcasts/service.js';
import type { RelaysService } from '../relays/service.js';
import type { StreamsService } from '../streams/service.js';
import type { StreamsTable } from '../../db/tables.js';
import { pageAssets } from './assets.js';
import type { WebSubscribeDeps } from './subscribe-routes.js';
import { appleFeedUrl, type Engine, type LiveState, type PageModel, type PagePlan, type PlayerModel } from './templates.js';
import { EMBED_HEIGHT, EMBED_MAX_WIDTH, embedSnippet, embedUrl, pageUrl, parsePageUrl, type PageKind } from './urls.js';

export interface PagesDeps {
  streams: StreamsService;
  relays: RelaysService;
  playlists: PlaylistsService;
  podcasts: PodcastsService;
  /** Stream and playlist artwork. */
  artworks: Pick<ArtworksService, 'find' | 'url'>;
  /** The DJ's public display name. */
  publicName: (userId: string) => Promise<string | null>;
  playback: PlaybackAuthorizer;
  publicUrl: string;
  /** The DJ's plans on sale that unlock a monetized resource (the billing feature answers). */
  plansFor?: (resource: PlayableResource) => Promise<PagePlan[]>;
  /** The web subscribe flow and the listener's session cookie (absent: pages are anonymous only). */
  web?: WebSubscribeDeps;
}

export interface PageRequest {
  id: string;
  /** A playback token in the page URL (`?token=`): the owner's share link for a private or monetized resource. */
  token?: string | undefined;
  engine: Engine;
  /** Podcasts: the episode in the player (`?episode=`); the newest when absent or not one of the published ones. */
  episode?: string | undefined;
  /** The listener signed in on the pages (session cookie): a subscriber gets a player with a grant of their own. */
  listener?: Principal | null | undefined;
}

/** How long the grant in a signed-in subscriber's page is good for (players re-fetch with it; a reload mints a new one). */
export const LISTENER_GRANT_SECONDS = 60 * 60;

export interface NowPlaying {
  stream_id: string;
  name: string;
  state: LiveState;
  live: boolean;
  current_track: string | null;
  last_heartbeat_at: string | null;
}

export interface OEmbed {
  version: '1.0';
  type: 'rich';
  provider_name: string;
  provider_url: string;
  title: string;
  author_name?: string;
  html: string;
  width: number;
  height: number;
  cache_age: number;
  thumbnail_url?: string;
  thumbnail_width?: number;
  thumbnail_height?: number;
}

/** A page nobody may see without a grant: answered as missing, so a private id is not confirmed. */
export class PageHidden extends NotFound {}

type Access = PageModel['access'];

export class PagesService {
  constructor(private readonly deps: PagesDeps) {}

  async streamPage(req: PageRequest): Promise<PageModel> {
    const row = await this.findStream(req.id);
    const resource = streamResource(row);
    const { access, token } = await this.grant(resource, req);
    const status = await this.deps.relays.status(row);
    const query = tokenQuery(access, token);
    const player: PlayerModel | null =
      access === 'subscribers'
        ? null
        : {
            kind: 'live',
            hlsUrl: `${this.deps.streams.playbackUrl(row.id)}${query}`,
            mp3Url: null,
            nowPlayingUrl: `${this.deps.publicUrl}/streams/${row.id}/now-playing.json${query}`,
            tracks: [],
            engine: req.engine,
          };
    const artist = await this.deps.publicName(row.owner_id);
    const art = await this.artwork(row.artwork_id);
    return this.model('stream', row.id, {
      ...art,
      plans: await this.plans(access, resource),
      title: row.name,
      artist,
      summary: `${row.name}${artist ? ` by ${artist}` : ''}: a live DJ stream on djcast.`,
      live: { state: status.state, currentTrack: status.current_track },
      tracks: [],
      access,
      player,
    });
  }

  async playlistPage(req: PageRequest): Promise<PageModel> {
    const playlist = await this.findPlaylist(req.id);
    const resource = playlistResource(playlist);
    const { access, token } = await this.grant(resource, req);
    const query = tokenQuery(access, token);
    const ready = playlist.items.filter((i) => i.status === 'ready');
    const player: PlayerModel | null =
      access === 'subscribers' || ready.length === 0
        ? null
        : {
            kind: 'playlist',
            hlsUrl: `${playlist.stream_m3u8_url}${query}`,
            mp3Url: `${playlist.stream_mp3_url}${query}`,
            nowPlayingUrl: null,
            tracks: ready.map((i) => ({ title: i.title ?? 'Untitled', duration: i.duration_seconds ?? 0 })),
            engine: req.engine,
          };
    const artist = await this.deps.publicName(playlist.owner_id);
    const count = ready.length === 1 ? '1 track' : `${ready.length} tracks`;
    const art = await this.artwork(playlist.artwork_id);
    return this.model('playlist', playlist.id, {
      ...art,
      plans: await this.plans(access, resource),
      title: playlist.title,
      artist,
      summary: `${playlist.title}${artist ? ` by ${artist}` : ''}: ${count}, ${Math.round(playlist.duration_seconds / 60)} min on djcast.`,
      live: null,
      tracks: ready.map((i) => ({ title: i.title ?? 'Untitled', durationSeconds: i.duration_seconds })),
      access,
      player,
    });
  }

  /**
   * A podcast's page: its artwork, author, description, subscribe links and
   * published episodes (newest first); the player holds one episode, its
   * enclosure URL (the counting media route). Subscribers of a monetized
   * podcast listen through their personal feed, so a page never grants.
   */
  async podcastPage(req: PageRequest): Promise<PageModel> {
    const { podcast, episodes } = await this.deps.podcasts.pageData(req.id);
    const resource: PlayableResource = {
      id: podcast.id,
      ownerId: podcast.owner_id,
      visibility: podcast.visibility,
      monetized: podcast.monetization_enabled,
    };
    // A signed-in subscriber (or the owner) gets the private-feed form, not the plans.
    const shown = this.access(resource, undefined);
    const subscribed = shown === 'subscribers' && req.listener && (await this.deps.playback.mayPlay(req.listener, resource));
    const access: Access = subscribed ? 'granted' : shown;
    const open = access === 'open';
    const current = open ? (episodes.find((e) => e.id === req.episode) ?? episodes[0]) : undefined;
    const player: PlayerModel | null = current
      ? {
          kind: 'playlist',
          hlsUrl: current.enclosure.url,
          mp3Url: current.enclosure.url,
          nowPlayingUrl: null,
          tracks: [{ title: current.title, duration: current.duration_seconds ?? 0 }],
          // An enclosure is one MP3: the audio element plays it whatever engine was asked for.
          engine: 'mp3',
        }
      : null;
    const page = pageUrl(this.deps.publicUrl, 'podcast', podcast.id);
    const count = episodes.length === 1 ? '1 episode' : `${episodes.length} episodes`;
    return {
      ...this.model('podcast', podcast.id, {
        plans: await this.plans(access, resource),
        title: podcast.title,
        artist: podcast.author,
        summary: `${podcast.title} by ${podcast.author}: a podcast on djcast, ${count}.`,
        live: null,
        tracks: [],
        access,
        player,
      }),
      artworkUrl: podcast.artwork_url,
      podcast: {
        description: podcast.description,
        feedUrl: podcast.feed_url,
        appleUrl: appleFeedUrl(podcast.feed_url),
        guid: podcast.podcast_guid,
        playing: current?.title ?? null,
        episodes: episodes.map((e) => ({
          id: e.id,
          title: e.title,
          notes: e.description,
          publishedAt: e.published_at,
          durationSeconds: e.duration_seconds,
          playUrl: open ? `${page}?episode=${encodeURIComponent(e.id)}#player` : null,
          current: e.id === current?.id,
        })),
      },
    };
  }

  /** Mints the signed-in listener's own feed URL of a monetized podcast (403 naming the plans unless they subscribe). */
  async mintPrivateFeed(listener: Principal, podcastId: string): Promise<string> {
    return (await this.deps.podcasts.mintOwnFeedToken(listener, podcastId)).feed_url;
  }

  /** The live state and current track of a stream, for players; the caller has been authorized for playback. */
  async nowPlaying(id: string, credentials: PlaybackCredentials): Promise<{ body: NowPlaying; open: boolean }> {
    const row = await this.deps.streams.findPlayable(id);
    const resource = streamResource(row);
    await this.deps.playback.authorizeCredentials(credentials, resource, 'stream');
    const status = await this.deps.relays.status(row);
    return {
      open: resource.visibility === 'public' && !resource.monetized,
      body: {
        stream_id: row.id,
        name: row.name,
        state: status.state,
        live: status.state === 'live',
        current_track: status.current_track,
        last_heartbeat_at: status.last_heartbeat_at,
      },
    };
  }

  /** The oEmbed answer for a page or embed URL of a public stream, playlist or podcast. */
  async oembed(url: string, max: { width?: number | undefined; height?: number | undefined }): Promise<OEmbed> {
    const target = parsePageUrl(this.deps.publicUrl, url);
    if (!target) {
      throw new DomainError('not_found', `${url} is not a djcast stream, playlist or podcast page.`, { resource: 'page' });
    }
    const load = { stream: this.streamPage, playlist: this.playlistPage, podcast: this.podcastPage }[target.kind];
    const model = await load.call(this, { id: target.id, engine: 'auto' });
    const width = Math.min(max.width ?? EMBED_MAX_WIDTH, EMBED_MAX_WIDTH);
    const height = Math.min(max.height ?? EMBED_HEIGHT, EMBED_HEIGHT);
    return {
      version: '1.0',
      type: 'rich',
      provider_name: 'djcast',
      provider_url: this.deps.publicUrl,
      title: model.title,
      ...(model.artist ? { author_name: model.artist } : {}),
      html: embedSnippet(this.deps.publicUrl, target.kind, target.id, model.title, { width, height }),
      width,
      height,
      cache_age: 300,
      ...(model.artworkUrl && model.artworkSize
        ? {
            thumbnail_url: model.artworkUrl,
            thumbnail_width: model.artworkSize.width,
            thumbnail_height: model.artworkSize.height,
          }
        : {}),
    };
  }

  /** A stream's or playlist's artwork, for the page, its share tags and oEmbed. */
  private async artwork(artworkId: string | null): Promise<Pick<PageModel, 'artworkUrl' | 'artworkSize'>> {
    const art = artworkId ? await this.deps.artworks.find(artworkId) : null;
    if (!art) return { artworkUrl: null };
    return { artworkUrl: this.deps.artworks.url(art.id), artworkSize: { width: art.width, height: art.height } };
  }

  private async plans(access: Access, resource: PlayableResource): Promise<PagePlan[] | undefined> {
    return access === 'subscribers' && this.deps.plansFor ? this.deps.plansFor(resource) : undefined;
  }

  /**
   * The access rule, then the signed-in listener: on a monetized page a
   * listener who may play it (a subscriber, the owner) gets the player, with
   * a grant signed for them. Private pages stay for `?token=` links only.
   */
  private async grant(resource: PlayableResource, req: PageRequest): Promise<{ access: Access; token: string | undefined }> {
    const access = this.access(resource, req.token);
    if (access === 'subscribers' && req.listener && (await this.deps.playback.mayPlay(req.listener, resource))) {
      const { token } = this.deps.playback.sign(resource.id, req.listener.userId, LISTENER_GRANT_SECONDS);
      return { access: 'granted', token };
    }
    return { access, token: req.token };
  }

  /** Public and free: open. A valid `?token=` for this resource: granted. Monetized: the page says subscribe. Private: hidden. */
  private access(resource: PlayableResource, token: string | undefined): Access {
    if (token && this.deps.playback.verify(token, resource.id)) return 'granted';
    if (resource.visibility === 'private')
      throw new PageHidden(
        resource.id.startsWith('str_') ? 'Stream' : resource.id.startsWith('pod_') ? 'Podcast' : 'Playlist',
        resource.id,
      );
    return resource.monetized ? 'subscribers' : 'open';
  }

  private async findStream(id: string): Promise<StreamsTable> {
    return this.deps.streams.findPlayable(id);
  }

  private async findPlaylist(id: string): Promise<PlaylistView> {
    return this.deps.playlists.findViewable(id);
  }

  private model(
    kind: PageKind,
    id: string,
    rest: Pick<PageModel, 'title' | 'artist' | 'summary' | 'live' | 'tracks' | 'access' | 'player' | 'plans'> &
      Partial<Pick<PageModel, 'artworkUrl' | 'artworkSize'>>,
  ): PageModel {
    const { publicUrl } = this.deps;
    const assets = pageAssets();
    return {
      kind,
      id,
      artworkUrl: null,
      ...rest,
      pageUrl: pageUrl(publicUrl, kind, id),
      embedUrl: embedUrl(publicUrl, kind, id),
      oembedUrl: `${publicUrl}/oembed?format=json&url=${encodeURIComponent(pageUrl(publicUrl, kind, id))}`,
      assets: { player: assets.player.path, hls: assets.hls.path },
      embedSnippet: embedSnippet(publicUrl, kind, id, rest.title),
    };
  }
}

function streamResource(row: StreamsTable): PlayableResource {
  return { id: row.id, ownerId: row.owner_id, visibility: row.visibility, monetized: row.monetization_enabled === 1 };
}

function playlistResource(p: PlaylistView): PlayableResource {
  return { id: p.id, ownerId: p.owner_id, visibility: p.visibility, monetized: p.monetization_enabled };
}

function tokenQuery(access: Access, token: string | undefined): string {
  return access === 'granted' && token ? `?token=${encodeURIComponent(token)}` : '';
}
