import { describe, expect, it } from 'vitest';
import { CheckpointFormatError, decodeCheckpoint, encodeCheckpoint } from '../../common/checkpoint';
import { chooseStrategy, compatibleTypes } from '../../activities/job-plan';
import { parseMapping } from '../../common/mapping';

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

describe('type compatibility of source and target columns', () => {
  const t = (type: string, category: string) => ({ name: 'c', type, category });
  it.each([
    [t('bigint', 'N'), t('numeric', 'N'), true],
    [t('integer', 'N'), t('text', 'S'), true],
    [t('date', 'D'), t('timestamp without time zone', 'D'), true],
    [t('text', 'S'), t('integer', 'N'), false],
    [t('boolean', 'B'), t('integer', 'N'), false],
    [t('integer[]', 'A'), t('integer[]', 'A'), true],
    [t('integer[]', 'A'), t('text[]', 'A'), false],
  ])('%o into %o: %s', (source, target, ok) => {
    expect(compatibleTypes(source, target)).toBe(ok);
  });
});

describe('strategy choice', () => {
  const spec = (strategy: string, column: string | null, enabled = 'Y') =>
    parseMapping({ mapref: 'M', srcconid: 'S', srcquery: 'SELECT 1', trgconid: 'T', trgschm: 's', trgtbnm: 't', loadmode: 'APPEND', bulklmt: 10, chkpntstrategy: strategy, chkpntcolumn: column, chkpntenabled: enabled });
  it.each([
    ['KEY', 'ID', [], ['id'], 'KEY', ['id']],
    ['AUTO', 'ID', [['pk']], ['id'], 'KEY', ['id']],
    ['AUTO', null, [['pk']], [], 'KEY', ['pk']],
    ['AUTO', null, [], [], 'ROWCOUNT', []],
    ['ROWCOUNT', 'ID', [['pk']], ['id'], 'ROWCOUNT', []],
    ['PYTHON', null, [], [], 'ROWCOUNT', []],
    ['NONE', null, [['pk']], [], 'NONE', []],
  ])('%s with CHKPNTCOLUMN %s and unique keys %j: %s', (strategy, column, unique, named, expected, key) => {
    const choice = chooseStrategy(spec(strategy as string, column as string | null), named as string[], unique as string[][]);
    expect(choice.strategy).toBe(expected);
    expect(choice.userKey).toEqual(key);
  });

  it("treats CHKPNTENABLED = 'N' as NONE", () => {
    expect(chooseStrategy(spec('KEY', 'ID', 'N'), ['id'], []).strategy).toBe('NONE');
  });
});
