import { describe, expect, it } from 'vitest';
import { closestCommand, editDistance } from './command-not-found.js';

describe('the closest command to a typo', () => {
  it('counts single-character edits', () => {
    expect(editDistance('strem:list', 'stream:list')).toBe(1);
    expect(editDistance('stream:lst', 'stream:list')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  it('suggests the nearest command, and nothing when no command is near', () => {
    const ids = ['stream:list', 'stream:get', 'upload:list', 'playlist:list', 'login'];
    expect(closestCommand('strem:list', ids)).toBe('stream:list');
    expect(closestCommand('uplod:list', ids)).toBe('upload:list');
    expect(closestCommand('logn', ids)).toBe('login');
    expect(closestCommand('zzzzzz', ids)).toBeNull();
  });
});
