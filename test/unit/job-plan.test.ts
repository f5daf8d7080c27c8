import { describe, expect, it } from 'vitest';
import { chooseStrategy, compatibleTypes } from '../../plan/job-plan';
import { parseMapping } from '../../common/mapping';
import type { TypeFamily } from '../../dialects';

describe('type compatibility of source and target columns', () => {
  const t = (type: string, family: TypeFamily) => ({ name: 'c', type, family });
  it.each([
    [t('bigint', 'number'), t('numeric', 'number'), true],
    [t('integer', 'number'), t('text', 'string'), true],
    [t('date', 'datetime'), t('timestamp without time zone', 'datetime'), true],
    [t('text', 'string'), t('integer', 'number'), false],
    [t('boolean', 'boolean'), t('integer', 'number'), false],
    [t('integer[]', 'other'), t('integer[]', 'other'), true],
    [t('integer[]', 'other'), t('text[]', 'other'), false],
    // Across engines: one neutral family, whatever the names.
    [t('varbinary', 'bytes'), t('bytea', 'bytes'), true],
    [t('json', 'json'), t('jsonb', 'json'), true],
    [t('json', 'json'), t('bytea', 'bytes'), false],
    [t('tinyint', 'boolean'), t('boolean', 'boolean'), true],
  ])('%o into %o: %s', (source, target, ok) => {
    expect(compatibleTypes(source, target)).toBe(ok);
  });
});

describe('strategy choice', () => {
  const spec = (strategy: string, column: string | null, enabled = 'Y') =>
    parseMapping({
      mapref: 'M',
      srcconid: 'S',
      srcquery: 'SELECT 1',
      trgconid: 'T',
      trgschm: 's',
      trgtbnm: 't',
      loadmode: 'APPEND',
      bulklmt: 10,
      chkpntstrategy: strategy,
      chkpntcolumn: column,
      chkpntenabled: enabled,
    });
  it.each([
    ['KEY', 'ID', [], ['id'], 'KEY', ['id']],
    ['AUTO', 'ID', [['pk']], ['id'], 'KEY', ['id']],
    ['AUTO', null, [['pk']], [], 'KEY', ['pk']],
    ['AUTO', null, [], [], 'ROWCOUNT', []],
    ['ROWCOUNT', 'ID', [['pk']], ['id'], 'ROWCOUNT', []],
    ['PYTHON', null, [], [], 'ROWCOUNT', []],
    ['NONE', null, [['pk']], [], 'NONE', []],
  ])('%s with CHKPNTCOLUMN %s and unique keys %j: %s', (strategy, column, unique, named, expected, key) => {
    const choice = chooseStrategy(
      spec(strategy as string, column as string | null),
      named as string[],
      unique as string[][],
    );
    expect(choice.strategy).toBe(expected);
    expect(choice.userKey).toEqual(key);
  });

  it("treats CHKPNTENABLED = 'N' as NONE", () => {
    expect(chooseStrategy(spec('KEY', 'ID', 'N'), ['id'], []).strategy).toBe('NONE');
  });
});
