import { describe, expect, it } from 'vitest';
import { encodeCopyText, escapeCopyValue } from '../../dialects/postgres/postgres-copy';
import { postgresKeyBatchSql, unwrapQuery } from '../../dialects/postgres/postgres-dialect';

describe('keyset batch SQL', () => {
  it('binds the lower bound and the limit, and quotes the key column', () => {
    expect(postgresKeyBatchSql('SELECT * FROM sales', 'sale_id', true)).toBe(
      'SELECT * FROM (\nSELECT * FROM sales\n) AS dms_src\nWHERE dms_src."sale_id" > $1\nORDER BY dms_src."sale_id"\nLIMIT $2',
    );
  });

  it('reads from the start without a bound', () => {
    expect(postgresKeyBatchSql('SELECT 1 AS k', 'k', false)).toBe('SELECT * FROM (\nSELECT 1 AS k\n) AS dms_src\nORDER BY dms_src."k"\nLIMIT $1');
  });

  it('keeps a trailing line comment of the user query from swallowing the predicate', () => {
    const sql = postgresKeyBatchSql('SELECT * FROM t -- all of it', 'id', true);
    expect(sql.split('\n')[1]).toBe('SELECT * FROM t -- all of it');
    expect(sql).toContain('\nWHERE dms_src."id" > $1');
  });

  it('drops trailing semicolons', () => {
    expect(unwrapQuery('SELECT 1; ;\n ')).toBe('SELECT 1');
  });

  it('never pastes a value into the SQL text', () => {
    const sql = postgresKeyBatchSql('SELECT * FROM t', 'weird"col', true);
    expect(sql).toContain('"weird""col"');
    expect(sql).not.toMatch(/> '/);
  });
});

describe('COPY text encoding', () => {
  it('escapes the characters that end a value or a row, and writes NULL as \\N', () => {
    expect(escapeCopyValue('a\tb\nc\rd\\e')).toBe('a\\tb\\nc\\rd\\\\e');
    expect(escapeCopyValue(null)).toBe('\\N');
    expect(escapeCopyValue('\\N')).toBe('\\\\N');
    expect(escapeCopyValue('é €')).toBe('é €');
  });

  it('writes one line per row and splits large batches into chunks', () => {
    expect([...encodeCopyText([['1', null], ['2', 'x']])]).toEqual(['1\t\\N\n2\tx\n']);
    const rows = Array.from({ length: 5000 }, (_, i) => [String(i), 'y'.repeat(30)]);
    const chunks = [...encodeCopyText(rows)];
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.join('').split('\n')).toHaveLength(5001);
  });
});
