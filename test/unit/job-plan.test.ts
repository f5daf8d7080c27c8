import { describe, expect, it } from 'vitest';
import { chooseStrategy, compatibleTypes } from '../../activities/job-plan';
import { parseMapping } from '../../common/mapping';

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
    // Across engines: one neutral family, whatever the names.
    [{ ...t('varbinary', 'U'), family: 'bytes' as const }, { ...t('bytea', 'U'), family: 'bytes' as const }, true],
    [{ ...t('json', 'U'), family: 'json' as const }, { ...t('jsonb', 'U'), family: 'json' as const }, true],
    [{ ...t('json', 'U'), family: 'json' as const }, { ...t('bytea', 'U'), family: 'bytes' as const }, false],
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
