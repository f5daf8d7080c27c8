import { describe, expect, it } from 'vitest';
import { postgresDialect } from '../../dialects/postgres/postgres-dialect';
import { IdentifierError, splitIdentifierList } from '../../common/identifiers';

describe('PostgreSQL identifiers from metadata', () => {
  const resolve = postgresDialect.resolveIdentifier;

  it('folds plain names to lower case, as PostgreSQL does', () => {
    expect(resolve('TRANSACTION_ID')).toBe('transaction_id');
    expect(resolve('  Sales$2 ')).toBe('sales$2');
  });

  it('takes double-quoted names as written', () => {
    expect(resolve('"Transaction Id"')).toBe('Transaction Id');
    expect(resolve('"a""b"')).toBe('a"b');
    expect(resolve('"Ümlaut"')).toBe('Ümlaut');
  });

  it.each(['id; DROP TABLE x', 'id--', '1abc', '', '""', 'a b', '"unclosed', 'a"b', 'x)'])('refuses %j', (raw) => {
    expect(() => resolve(raw)).toThrow(IdentifierError);
  });

  it('refuses names longer than PostgreSQL keeps', () => {
    expect(() => resolve('a'.repeat(64))).toThrow(/longer than 63 bytes/);
    expect(resolve('a'.repeat(63))).toHaveLength(63);
  });

  it('quotes every name it puts into SQL', () => {
    expect(postgresDialect.quoteIdentifier('a"b')).toBe('"a""b"');
  });

  it('splits comma-separated lists, keeping commas inside quotes', () => {
    expect(splitIdentifierList('REGION_ID, ORDER_ID')).toEqual(['REGION_ID', 'ORDER_ID']);
    expect(splitIdentifierList('"a,b", c')).toEqual(['"a,b"', 'c']);
  });
});
