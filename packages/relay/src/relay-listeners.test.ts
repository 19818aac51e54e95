import { describe, expect, it } from 'vitest';
import { icecastClientListUrl, isRelayUserAgent, parseIcecastClientList, RELAY_USER_AGENT } from './relay-listeners.js';

const listClients = `<?xml version="1.0"?>
<icestats><source mount="/live"><Listeners>5</Listeners>
<listener id="3"><IP>127.0.0.1</IP><UserAgent>${RELAY_USER_AGENT}</UserAgent><Connected>40</Connected><ID>3</ID></listener>
<listener id="4"><IP>10.0.0.9</IP><UserAgent>djcast-relay/0.0.9</UserAgent><Connected>38</Connected><ID>4</ID></listener>
<listener id="7"><IP>192.0.2.1</IP><UserAgent>Mozilla/5.0 (X11; Linux) djcast-relay/1.0 spoof</UserAgent><Connected>12</Connected><ID>7</ID></listener>
<listener id="8"><IP>192.0.2.2</IP><UserAgent>VLC/3.0.18 LibVLC/3.0.18</UserAgent><Connected>9</Connected><ID>8</ID></listener>
<listener id="9"><IP>192.0.2.3</IP><Connected>2</Connected><ID>9</ID></listener>
</source></icestats>`;

describe('relay listeners', () => {
  it('counts every djcast relay on the mount (any version) apart from the listeners', () => {
    expect(parseIcecastClientList(listClients)).toEqual({ total: 5, relays: 2 });
  });

  it('recognises only a User-Agent that starts with djcast-relay/', () => {
    expect(isRelayUserAgent(RELAY_USER_AGENT)).toBe(true);
    expect(isRelayUserAgent('djcast-relay/0.1')).toBe(true);
    expect(isRelayUserAgent('Mozilla/5.0 (compatible; djcast-relay/0.1)')).toBe(false); // the stats poller is not a listener at all
    expect(isRelayUserAgent('djcast-relayer/1')).toBe(false);
    expect(isRelayUserAgent(null)).toBe(false);
  });

  it('reads an empty list and rejects what is not a client list', () => {
    expect(parseIcecastClientList('<icestats><source mount="/live"><Listeners>0</Listeners></source></icestats>')).toEqual({
      total: 0,
      relays: 0,
    });
    expect(() => parseIcecastClientList('<html>login</html>')).toThrow(/not an Icecast client list/);
  });

  it('builds the admin URL for the mount of the source', () => {
    expect(icecastClientListUrl('http://radio.example:8000/live?x=1').href).toBe(
      'http://radio.example:8000/admin/listclients?mount=%2Flive',
    );
  });
});
