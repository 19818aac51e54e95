// <djcast-player>: the one small script of the listener pages and embeds.
//
//   <script type="module" src="https://djcast.example/player.js"></script>
//   <djcast-player kind="live" src="…/live.m3u8" now-playing-src="…/now-playing.json" title="Friday set"></djcast-player>
//
// Attributes: kind (live | playlist), src (HLS), mp3-src (playlists: the
// continuous MP3 for browsers without HLS), now-playing-src (live: polled
// JSON), title, tracks (playlists: JSON [{title, duration}]), state and
// current (live: what the page was rendered with), engine (auto | native |
// hls.js | mp3). hls.js is loaded only when a live stream is played in a
// browser without native HLS.
//
// Live streams recover by themselves: when the relay reports the stream is
// not live the player lets go of the media and says so; when it is live
// again, or after a media error or a stall, it attaches afresh.

const HLS_SCRIPT = new URL('__DJCAST_HLS_SCRIPT__', import.meta.url).href;
const POLL_MS = 5000;
const STALL_MS = 12000;
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 10000;

const STYLE = `
:host{display:block;font:inherit;color:inherit;--djc-accent:#5a2ee6;--djc-accent-fg:#fff;--djc-muted:#5b5870;--djc-line:#e4e1ee}
@media (prefers-color-scheme:dark){:host{--djc-accent:#a78bfa;--djc-accent-fg:#14121c;--djc-muted:#aaa6bf;--djc-line:#332f45}}
.player{display:flex;align-items:center;gap:12px;min-height:56px}
button{flex:none;width:56px;height:56px;border-radius:50%;border:0;background:var(--djc-accent);color:var(--djc-accent-fg);cursor:pointer;display:grid;place-items:center;padding:0}
button:focus-visible{outline:3px solid var(--djc-accent);outline-offset:3px}
button[disabled]{opacity:.5;cursor:not-allowed}
svg{width:24px;height:24px;fill:currentColor}
.info{min-width:0;flex:1}
.status{font-size:.85rem;color:var(--djc-muted);display:flex;gap:6px;align-items:center}
.dot{width:8px;height:8px;border-radius:50%;background:var(--djc-muted)}
.status[data-live="true"] .dot{background:#dc2626}
.now{font-weight:600;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
`;

const ICON_PLAY = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M8 5v14l11-7z"/></svg>';
const ICON_PAUSE = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M6 5h4v14H6zm8 0h4v14h-4z"/></svg>';

let sheet = null;
function styleSheet() {
  // A constructed stylesheet: no inline <style>, so a strict Content-Security-Policy allows it.
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLE);
  }
  return sheet;
}

let hlsModule = null;
function loadHls() {
  hlsModule ??= import(HLS_SCRIPT).then((m) => m.default);
  return hlsModule;
}

const canPlayNativeHls = (media) => media.canPlayType('application/vnd.apple.mpegurl') !== '';
const canUseMse = () =>
  typeof MediaSource !== 'undefined' && MediaSource.isTypeSupported('audio/mp4; codecs="mp4a.40.2"');

export class DjcastPlayer extends HTMLElement {
  #root;
  #media;
  #button;
  #status;
  #now;
  #hls = null;
  /** The engine in use while attached: native | hls.js | mp3. */
  #engine = null;
  /** The listener pressed play and has not paused. */
  #wanted = false;
  #attached = false;
  #liveState = null;
  #currentTrack = null;
  #pollTimer = null;
  #retryTimer = null;
  #retryMs = RETRY_MIN_MS;
  #stallTimer = null;
  #lastTime = 0;
  #lastProgressAt = 0;
  #tracks = [];

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: 'open' });
    this.#root.adoptedStyleSheets = [styleSheet()];
    this.#root.innerHTML = `
<div class="player">
  <button type="button" part="button" aria-label="Play">${ICON_PLAY}</button>
  <div class="info">
    <div class="status" role="status" aria-live="polite"><span class="dot" aria-hidden="true"></span><span class="state"></span></div>
    <div class="now" aria-live="polite"></div>
  </div>
  <audio preload="none"></audio>
</div>`;
    this.#media = this.#root.querySelector('audio');
    this.#button = this.#root.querySelector('button');
    this.#status = this.#root.querySelector('.status');
    this.#now = this.#root.querySelector('.now');
  }

  /** The media element, for pages and tests that want to read its state. */
  get media() {
    return this.#media;
  }

  /** live | offline | reconnecting … as the relay last reported it (live streams). */
  get liveState() {
    return this.#liveState;
  }

  /** The engine the player chose: native | hls.js | mp3, or null before the first play. */
  get engine() {
    return this.#engine;
  }

  get kind() {
    return this.getAttribute('kind') === 'playlist' ? 'playlist' : 'live';
  }

  connectedCallback() {
    this.#liveState = this.getAttribute('state');
    this.#currentTrack = this.getAttribute('current');
    try {
      this.#tracks = JSON.parse(this.getAttribute('tracks') || '[]');
    } catch {
      this.#tracks = [];
    }
    this.#button.addEventListener('click', () => this.toggle());
    // Space and K toggle playback anywhere in the player, as in most players; the button itself handles Enter and Space.
    this.addEventListener('keydown', (event) => {
      if (event.defaultPrevented || event.target === this.#button) return;
      if (event.key === ' ' || event.key === 'k' || event.key === 'K') {
        event.preventDefault();
        this.toggle();
      }
    });
    const m = this.#media;
    m.addEventListener('playing', () => {
      this.#retryMs = RETRY_MIN_MS;
      this.#render();
    });
    m.addEventListener('waiting', () => this.#render('Buffering…'));
    m.addEventListener('pause', () => this.#render());
    m.addEventListener('timeupdate', () => {
      if (m.currentTime !== this.#lastTime) {
        this.#lastTime = m.currentTime;
        this.#lastProgressAt = Date.now();
      }
      if (this.kind === 'playlist') this.#renderNow();
    });
    m.addEventListener('error', () => {
      // hls.js reports its own errors; a native or MP3 error ends this attachment.
      if (this.#engine !== 'hls.js') this.#recover('media error');
    });
    m.addEventListener('ended', () => {
      if (this.kind === 'live') this.#recover('ended');
      else {
        this.#wanted = false;
        this.#render();
      }
    });
    if (this.kind === 'live' && this.getAttribute('now-playing-src')) this.#poll();
    this.#render();
  }

  disconnectedCallback() {
    clearTimeout(this.#pollTimer);
    clearTimeout(this.#retryTimer);
    clearInterval(this.#stallTimer);
    this.#detach();
  }

  toggle() {
    if (this.#wanted) this.pause();
    else this.play();
  }

  play() {
    this.#wanted = true;
    if (this.kind === 'live' && this.#liveState && this.#liveState !== 'live') {
      // Nothing to play yet: start as soon as the relay says the stream is live.
      this.#render();
      return;
    }
    if (!this.#attached) this.#attach();
    else this.#media.play().catch(() => {});
    this.#render();
  }

  pause() {
    this.#wanted = false;
    clearTimeout(this.#retryTimer);
    if (this.kind === 'live') this.#detach();
    else this.#media.pause();
    this.#render();
  }

  #chooseEngine() {
    const wanted = this.getAttribute('engine') || 'auto';
    const mp3 = this.getAttribute('mp3-src');
    if (wanted === 'mp3' && mp3) return 'mp3';
    if (wanted === 'hls.js' && canUseMse()) return 'hls.js';
    if (wanted === 'native' && canPlayNativeHls(this.#media)) return 'native';
    if (canPlayNativeHls(this.#media)) return 'native';
    if (this.kind === 'playlist' && mp3) return 'mp3';
    if (canUseMse()) return 'hls.js';
    return null;
  }

  async #attach() {
    const engine = this.#chooseEngine();
    if (!engine) {
      this.#render('This browser cannot play this stream.');
      return;
    }
    this.#engine = engine;
    this.#attached = true;
    this.#lastProgressAt = Date.now();
    const m = this.#media;
    const src = this.getAttribute('src');
    if (engine === 'hls.js') {
      const Hls = await loadHls();
      if (!this.#attached || this.#hls) return;
      const hls = new Hls({ enableWorker: false, liveDurationInfinity: true });
      this.#hls = hls;
      hls.on(Hls.Events.ERROR, (_event, data) => {
        if (data.fatal) this.#recover(`hls.js ${data.type}: ${data.details}`);
      });
      hls.loadSource(src);
      hls.attachMedia(m);
    } else {
      m.src = engine === 'mp3' ? this.getAttribute('mp3-src') : src;
    }
    m.play().catch(() => {});
    if (this.kind === 'live') {
      clearInterval(this.#stallTimer);
      this.#stallTimer = setInterval(() => this.#checkStall(), 2000);
    }
  }

  #detach() {
    clearInterval(this.#stallTimer);
    this.#attached = false;
    if (this.#hls) {
      this.#hls.destroy();
      this.#hls = null;
    }
    const m = this.#media;
    m.pause();
    if (m.hasAttribute('src')) {
      m.removeAttribute('src');
      m.load();
    }
  }

  /** Lets go of the media and attaches again after a growing pause, while the listener still wants to listen. */
  #recover(reason) {
    this.#detach();
    if (!this.#wanted) return this.#render();
    this.dispatchEvent(new CustomEvent('djcast-recover', { detail: { reason } }));
    this.#render('Reconnecting…');
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => {
      if (this.#wanted && !this.#attached && (this.kind !== 'live' || this.#liveState === 'live' || !this.#liveState)) {
        this.#attach();
        this.#render();
      }
    }, this.#retryMs);
    this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MAX_MS);
  }

  #checkStall() {
    const m = this.#media;
    if (!this.#attached || !this.#wanted || m.paused) return;
    if (Date.now() - this.#lastProgressAt > STALL_MS) this.#recover('stalled');
  }

  async #poll() {
    const url = this.getAttribute('now-playing-src');
    try {
      const res = await fetch(url, { credentials: 'omit' });
      if (res.ok) this.#onNowPlaying(await res.json());
    } catch {
      // Offline or the server is restarting: the next poll tries again.
    }
    this.#pollTimer = setTimeout(() => this.#poll(), POLL_MS);
  }

  #onNowPlaying(info) {
    const was = this.#liveState;
    this.#liveState = info.state;
    this.#currentTrack = info.current_track;
    this.setAttribute('state', info.state);
    if (info.current_track) this.setAttribute('current', info.current_track);
    else this.removeAttribute('current');
    this.dispatchEvent(new CustomEvent('djcast-now-playing', { detail: info }));
    if (info.state !== 'live' && this.#attached) this.#detach();
    if (info.state === 'live' && this.#wanted && !this.#attached && was !== 'live') {
      clearTimeout(this.#retryTimer);
      this.#retryMs = RETRY_MIN_MS;
      this.#attach();
    }
    this.#render();
  }

  #nowText() {
    if (this.kind === 'live') return this.#currentTrack || '';
    const t = this.#media.currentTime;
    let start = 0;
    for (const track of this.#tracks) {
      if (t < start + track.duration) return track.title;
      start += track.duration;
    }
    return this.#tracks.at(-1)?.title ?? this.getAttribute('title') ?? '';
  }

  #renderNow() {
    const text = this.#nowText();
    if (this.#now.textContent !== text) this.#now.textContent = text;
    // Pages show what is playing outside the player too.
    const shown = text || '—';
    for (const el of this.ownerDocument.querySelectorAll('[data-role="now-playing"]')) {
      if (el.textContent !== shown) el.textContent = shown;
    }
  }

  #render(message) {
    const title = this.getAttribute('title') || 'this stream';
    const playing = this.#wanted;
    this.#button.innerHTML = playing ? ICON_PAUSE : ICON_PLAY;
    this.#button.setAttribute('aria-label', `${playing ? 'Pause' : 'Play'} ${title}`);
    this.#button.setAttribute('aria-pressed', String(playing));
    let state;
    if (this.kind === 'live') {
      const live = this.#liveState === 'live' || (!this.#liveState && this.#attached);
      this.#status.dataset.live = String(live);
      if (message) state = message;
      else if (!live) state = this.#liveState === 'reconnecting' ? 'Source reconnecting…' : 'Offline';
      else if (playing && this.#attached && !this.#media.paused && this.#media.readyState >= 3) state = 'Live · playing';
      else if (playing) state = 'Live · buffering…';
      else state = 'Live';
      for (const el of this.ownerDocument.querySelectorAll('[data-role="live-badge"]')) {
        el.textContent = live ? 'Live' : 'Offline';
        el.classList.toggle('live', live);
      }
    } else {
      this.#status.dataset.live = 'false';
      state = message || (playing ? (this.#media.paused ? 'Buffering…' : 'Playing') : 'Playlist');
    }
    this.#status.querySelector('.state').textContent = state;
    this.#renderNow();
  }
}

if (!customElements.get('djcast-player')) customElements.define('djcast-player', DjcastPlayer);
