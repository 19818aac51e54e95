import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatValue, renderRecord, renderTable, transferStatus } from './format.js';

describe('renderTable', () => {
  const columns = [
    { header: 'id', get: (r: { id: string; name: string; tags: string[] }) => r.id },
    { header: 'name', get: (r: { id: string; name: string; tags: string[] }) => r.name },
    { header: 'tags', get: (r: { id: string; name: string; tags: string[] }) => r.tags },
  ];

  it('aligns every column to its widest cell, with an upper-case header and no trailing spaces', () => {
    const text = renderTable(
      [
        { id: 'str_1', name: 'Friday set', tags: ['a', 'b'] },
        { id: 'str_22', name: 'Sunday\nmorning', tags: [] },
      ],
      columns,
    );
    expect(text.split('\n')).toEqual([
      'ID      NAME            TAGS',
      'str_1   Friday set      a, b',
      'str_22  Sunday morning  -',
    ]);
  });

  it('prints the header alone for no rows', () => {
    expect(renderTable([], columns)).toBe('ID  NAME  TAGS');
  });
});

describe('renderRecord', () => {
  it('aligns keys and shows empty values as a dash', () => {
    const user = { id: 'usr_1', display_name: null, scopes: ['streams:read', 'streams:write'] };
    const text = renderRecord(user, [
      { header: 'id', get: (u) => u.id },
      { header: 'display name', get: (u) => u.display_name },
      { header: 'scopes', get: (u) => u.scopes },
    ]);
    expect(text.split('\n')).toEqual(['id:           usr_1', 'display name: -', 'scopes:       streams:read, streams:write']);
  });
});

describe('formatValue', () => {
  it('renders nested objects as key=value pairs and booleans as words', () => {
    expect(formatValue({ database: 'sqlite', storage: 'local' })).toBe('database=sqlite, storage=local');
    expect(formatValue(false)).toBe('false');
    expect(formatValue(undefined)).toBe('-');
  });
});

describe('upload progress in human units', () => {
  it('formats bytes in binary units and durations in s/m/h', () => {
    expect([0, 512, 1536, 48.3 * 1024 * 1024, 1.25 * 1024 ** 3].map(formatBytes)).toEqual([
      '0 B',
      '512 B',
      '1.5 KiB',
      '48.3 MiB',
      '1.3 GiB',
    ]);
    expect([0.4, 45, 185, 3720].map(formatDuration)).toEqual(['0s', '45s', '3m 05s', '1h 02m']);
  });

  it('shows sent of total, the rate and the time left, once there is a rate', () => {
    const MiB = 1024 * 1024;
    expect(transferStatus(0, 48 * MiB, 0)).toBe('0 B of 48.0 MiB');
    expect(transferStatus(12 * MiB, 48 * MiB, 200)).toBe('12.0 MiB of 48.0 MiB');
    expect(transferStatus(12 * MiB, 48 * MiB, 5000)).toBe('12.0 MiB of 48.0 MiB  2.4 MiB/s  ETA 15s');
    expect(transferStatus(48 * MiB, 48 * MiB, 10_000)).toBe('48.0 MiB of 48.0 MiB  4.8 MiB/s  done');
  });
});
