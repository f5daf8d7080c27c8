import { describe, expect, it } from 'vitest';
import { CheckpointFormatError, decodeCheckpoint, encodeCheckpoint } from '../../checkpoint';

describe('checkpoint text', () => {
  it('keeps a single key value as it is', () => {
    expect(encodeCheckpoint(['9007199254740993'])).toBe('9007199254740993');
    expect(decodeCheckpoint('["not json', 1)).toEqual(['["not json']);
  });

  it('writes composite keys as a JSON array and reads them back exactly', () => {
    const key = ['Zürich "Nord"', '2026-03-08 02:30:00.000001', '12345678901234567890.123'];
    expect(decodeCheckpoint(encodeCheckpoint(key), 3)).toEqual(key);
    expect(encodeCheckpoint(['EU', '7'])).toBe('["EU","7"]');
  });

  it('refuses a checkpoint that does not fit the key', () => {
    expect(() => decodeCheckpoint('["a"]', 2)).toThrow(CheckpointFormatError);
    expect(() => decodeCheckpoint('[1,2]', 2)).toThrow(CheckpointFormatError);
    expect(() => decodeCheckpoint('x', 2)).toThrow(CheckpointFormatError);
  });
});
