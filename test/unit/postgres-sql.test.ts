import { describe, expect, it } from 'vitest';
import {
  decodeCopyTextRow,
  encodeCopyText,
  escapeCopyValue,
  unescapeCopyValue,
} from '../../dialects/postgres/postgres-copy';
import { WIDE_PIECE, WIDE_VALUE } from '../../dialects/tab-text';
import {
  copyRangeSql,
  countNullKeysSql,
  keyCursorSql,
  nextBoundSql,
  orderedCopySql,
  orderedSql,
  proveRangeSql,
  lastKeySql,
  nthKeySql,
  rangeSql,
  summarySql,
  unwrapQuery,
} from '../../dialects/postgres/postgres-sql';

describe('keyset SQL', () => {
  it('finds the upper key of the next batch with bound parameters', () => {
    expect(nthKeySql('SELECT * FROM sales', ['sale_id'], true)).toBe(
      'SELECT dms_src."sale_id" FROM (\nSELECT * FROM sales\n) AS dms_src\nWHERE dms_src."sale_id" IS NOT NULL AND dms_src."sale_id" > $1\nORDER BY dms_src."sale_id"\nOFFSET $2 LIMIT 1',
    );
    expect(nthKeySql('SELECT 1 AS k', ['k'], false)).toBe(
      'SELECT dms_src."k" FROM (\nSELECT 1 AS k\n) AS dms_src\nWHERE dms_src."k" IS NOT NULL\nORDER BY dms_src."k"\nOFFSET $1 LIMIT 1',
    );
  });

  it("bounds the upper key by a partition's end: its parameters after the lower bound's, the offset last", () => {
    expect(nthKeySql('SELECT * FROM o', ['region', 'id'], true, true)).toBe(
      'SELECT dms_src."region", dms_src."id" FROM (\nSELECT * FROM o\n) AS dms_src\nWHERE dms_src."region" IS NOT NULL AND dms_src."id" IS NOT NULL AND (dms_src."region", dms_src."id") > ($1, $2) AND (dms_src."region", dms_src."id") <= ($3, $4)\nORDER BY dms_src."region", dms_src."id"\nOFFSET $5 LIMIT 1',
    );
    expect(nthKeySql('SELECT * FROM s', ['k'], false, true)).toContain(
      'WHERE dms_src."k" IS NOT NULL AND dms_src."k" <= $1\nORDER BY dms_src."k"\nOFFSET $2 LIMIT 1',
    );
    expect(lastKeySql('SELECT * FROM s', ['k'], true, true)).toContain(
      'AND dms_src."k" > $1 AND dms_src."k" <= $2\nORDER BY dms_src."k" DESC\nLIMIT 1',
    );
  });

  it.each([
    [false, false, 'WHERE dms_src."k" IS NOT NULL\nORDER BY dms_src."k"'],
    [true, false, 'WHERE dms_src."k" IS NOT NULL AND dms_src."k" > $1\nORDER BY dms_src."k"'],
    [true, true, 'WHERE dms_src."k" IS NOT NULL AND dms_src."k" > $1 AND dms_src."k" <= $2\nORDER BY dms_src."k"'],
    [false, true, 'WHERE dms_src."k" IS NOT NULL AND dms_src."k" <= $1\nORDER BY dms_src."k"'],
  ])("reads a slice's key cursor in key order (after: %s, up to a range's end: %s)", (hasAfter, hasUpTo, tail) => {
    expect(keyCursorSql('SELECT * FROM s', ['k'], hasAfter, hasUpTo)).toBe(
      `SELECT * FROM (\nSELECT * FROM s\n) AS dms_src\n${tail}`,
    );
  });

  it('compares composite keys as rows, which a btree index serves', () => {
    expect(rangeSql('SELECT * FROM o', ['region', 'id'], true)).toBe(
      'SELECT * FROM (\nSELECT * FROM o\n) AS dms_src\nWHERE dms_src."region" IS NOT NULL AND dms_src."id" IS NOT NULL AND (dms_src."region", dms_src."id") > ($1, $2) AND (dms_src."region", dms_src."id") <= ($3, $4)',
    );
    expect(lastKeySql('SELECT * FROM o', ['region', 'id'], false)).toContain(
      'ORDER BY dms_src."region" DESC, dms_src."id" DESC\nLIMIT 1',
    );
  });

  it('reads up to and including the upper key, so ties stay in one batch', () => {
    expect(rangeSql('SELECT * FROM t', ['ts'], false)).toMatch(/dms_src\."ts" <= \$1$/);
  });

  it('finds rows with a NULL in any key column', () => {
    expect(countNullKeysSql('SELECT * FROM o', ['a', 'b'])).toMatch(
      /WHERE dms_src\."a" IS NULL OR dms_src\."b" IS NULL$/,
    );
  });

  it('keeps a trailing line comment of the user query from swallowing the predicate', () => {
    const sql = rangeSql('SELECT * FROM t -- all of it', ['id'], true);
    expect(sql.split('\n')[1]).toBe('SELECT * FROM t -- all of it');
    expect(sql).toContain('\nWHERE dms_src."id" IS NOT NULL');
  });

  it("numbers verify's range bounds after the bounds present, and counts the whole query without a key", () => {
    expect(summarySql('SELECT * FROM o', ['region', 'id'], { hasAfter: false, hasUpTo: true }, null)).toMatch(
      /WHERE dms_src\."region" IS NOT NULL AND dms_src\."id" IS NOT NULL AND \(dms_src\."region", dms_src\."id"\) <= \(\$1, \$2\)$/,
    );
    expect(summarySql('SELECT * FROM o', ['id'], { hasAfter: true, hasUpTo: true }, null)).toMatch(
      /dms_src\."id" > \$1 AND dms_src\."id" <= \$2$/,
    );
    expect(summarySql('SELECT * FROM o', ['id'], { hasAfter: true, hasUpTo: false }, null)).toMatch(
      /dms_src\."id" > \$1$/,
    );
    expect(summarySql('SELECT * FROM o', ['a', 'b'], 'nullKeys', null)).toMatch(
      /WHERE dms_src\."a" IS NULL OR dms_src\."b" IS NULL$/,
    );
    expect(summarySql('SELECT * FROM o', [], { hasAfter: false, hasUpTo: false }, null)).toBe(
      'SELECT count(*) AS n, NULL::text AS digest FROM (\nSELECT * FROM o\n) AS dms_src',
    );
    expect(summarySql('SELECT * FROM o', ['id'], { hasAfter: false, hasUpTo: false }, ['id', 'note'])).toContain(
      'md5(ROW(dms_src."id", dms_src."note")::text)',
    );
  });

  it('drops trailing semicolons', () => {
    expect(unwrapQuery('SELECT 1; ;\n ')).toBe('SELECT 1');
  });

  it('never pastes a value into the SQL text', () => {
    const sql = rangeSql('SELECT * FROM t', ['weird"col'], true);
    expect(sql).toContain('"weird""col"');
    expect(sql).not.toMatch(/'/);
  });
});

describe('COPY range SQL (no bind parameters in COPY)', () => {
  it('reads the bounds from transaction-local settings, cast to the key types', () => {
    expect(copyRangeSql('SELECT * FROM o', ['region', 'id'], ['text', 'bigint'], true, ['region', 'id', 'amt'])).toBe(
      'SELECT dms_src."region", dms_src."id", dms_src."amt" FROM (\nSELECT * FROM o\n) AS dms_src\n' +
        `WHERE dms_src."region" IS NOT NULL AND dms_src."id" IS NOT NULL AND (dms_src."region", dms_src."id") > (current_setting('dms.after_0')::text, current_setting('dms.after_1')::bigint)` +
        ` AND (dms_src."region", dms_src."id") <= (current_setting('dms.upto_0')::text, current_setting('dms.upto_1')::bigint)`,
    );
  });

  it('has no lower bound for the first batch and keeps the upper key inclusive', () => {
    const sql = copyRangeSql('SELECT * FROM t', ['ts'], ['timestamp with time zone'], false, ['ts']);
    expect(sql).not.toContain('dms.after_');
    expect(sql).toMatch(/dms_src\."ts" <= current_setting\('dms\.upto_0'\)::timestamp with time zone$/);
  });
});

describe("the next batch's upper key inside one database", () => {
  it('is the n-th key after the bound, else the last key, with bound parameters only', () => {
    const sql = nextBoundSql('SELECT * FROM t', ['ts', 'id'], true);
    expect(sql).toContain('AS upto_0, dms_src."id" AS upto_1, true AS more');
    expect(sql).toContain(
      '(dms_src."ts", dms_src."id") > ($1, $2)\nORDER BY dms_src."ts", dms_src."id"\nOFFSET $3 LIMIT 1)',
    );
    expect(sql).toContain('ORDER BY dms_src."ts" DESC, dms_src."id" DESC\nLIMIT 1)');
    expect(sql.endsWith('ORDER BY more DESC LIMIT 1')).toBe(true);
    expect(nextBoundSql('SELECT * FROM t', ['ts'], false)).toContain('OFFSET $1 LIMIT 1');
  });
});

describe('COPY text encoding', () => {
  it('escapes the characters that end a value or a row, and writes NULL as \\N', () => {
    expect(escapeCopyValue('a\tb\nc\rd\\e')).toBe('a\\tb\\nc\\rd\\\\e');
    expect(escapeCopyValue(null)).toBe('\\N');
    expect(escapeCopyValue('\\N')).toBe('\\\\N');
    expect(escapeCopyValue('é €')).toBe('é €');
  });

  it('reads a row back to the values it was written from', () => {
    const row = ['a\tb\nc\rd\\e', null, '\\N', '', 'é € 𝄞', '\\x00ff'];
    const [line] = [...encodeCopyText([row])];
    expect(decodeCopyTextRow(line.slice(0, -1))).toEqual(row);
  });

  it('writes the columns a batch marks plain as they are (the source vouches for them), NULL still as \\N', () => {
    const rows = [
      ['12', 'a\tb', '2026-01-01 00:00:00'],
      [null, null, '\\'],
    ];
    // Column 2 is not plain: escaped. Columns 1 and 3 are taken as the source gave them.
    expect([...encodeCopyText(rows, [true, false, true])].join('')).toBe(
      '12\ta\\tb\t2026-01-01 00:00:00\n\\N\t\\N\t\\\n',
    );
    expect([...encodeCopyText(rows)].join('')).toBe('12\ta\\tb\t2026-01-01 00:00:00\n\\N\t\\N\t\\\\\n');
  });

  it('reads every escape COPY may write: \b \f \v, octal and hex bytes, any other escaped character as itself', () => {
    expect(unescapeCopyValue('\\b\\f\\v')).toBe('\b\f\v');
    expect(unescapeCopyValue('\\101\\x42\\q\\x')).toBe('ABqx');
    expect(unescapeCopyValue('\\N')).toBeNull();
  });

  it("skips ROWCOUNT's committed rows by an offset read from a setting, never pasted", () => {
    expect(orderedCopySql('SELECT * FROM t', ['a', 'b'])).toBe(
      `SELECT * FROM (\nSELECT * FROM t\n) AS dms_src\nORDER BY dms_src."a", dms_src."b"\nOFFSET current_setting('dms.offset')::bigint`,
    );
  });

  it("proves a checkpoint in one query: the range's rows and those of them at its upper key, bound as the range binds them", () => {
    expect(proveRangeSql('SELECT * FROM t', ['a', 'b'], true)).toBe(
      'SELECT count(*) AS n, count(*) FILTER (WHERE (dms_src."a", dms_src."b") = ($3, $4)) AS at FROM (\nSELECT * FROM t\n) AS dms_src\n' +
        'WHERE dms_src."a" IS NOT NULL AND dms_src."b" IS NOT NULL AND (dms_src."a", dms_src."b") > ($1, $2) AND (dms_src."a", dms_src."b") <= ($3, $4)',
    );
    expect(proveRangeSql('SELECT * FROM t', ['id'], false)).toMatch(
      /FILTER \(WHERE dms_src."id" = \$1\).*WHERE dms_src."id" IS NOT NULL AND dms_src."id" <= \$1$/s,
    );
  });

  it("orders ROWCOUNT's rows by every column, then by each row's text in bytes' order, so rows a collation calls equal keep one order", () => {
    expect(orderedCopySql('SELECT * FROM t', ['a', 'b'], true)).toMatch(
      /ORDER BY dms_src."a", dms_src."b", dms_src::text COLLATE "C"\nOFFSET/,
    );
    expect(orderedSql('SELECT * FROM t', ['a'], true)).toMatch(
      /ORDER BY dms_src."a", dms_src::text COLLATE "C"\nOFFSET \$1$/,
    );
    expect(orderedSql('SELECT * FROM t', ['id'])).toMatch(/ORDER BY dms_src."id"\nOFFSET \$1$/);
  });

  it('writes one line per row and splits large batches into chunks', () => {
    expect([
      ...encodeCopyText([
        ['1', null],
        ['2', 'x'],
      ]),
    ]).toEqual(['1\t\\N\n2\tx\n']);
    const rows = Array.from({ length: 5000 }, (_, i) => [String(i), 'y'.repeat(30)]);
    const chunks = [...encodeCopyText(rows)];
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.join('').split('\n')).toHaveLength(5001);
  });

  it.each([
    ['bytes in their hex form', `\\x${'ab'.repeat(WIDE_VALUE)}`, `\\\\x${'ab'.repeat(WIDE_VALUE)}`, 2 * WIDE_VALUE + 1],
    [
      'text with a tab past its first character',
      `a\t${'b'.repeat(WIDE_VALUE)}`,
      `a\\t${'b'.repeat(WIDE_VALUE)}`,
      WIDE_VALUE + 3,
    ],
    ['plain text', 'c'.repeat(WIDE_VALUE), 'c'.repeat(WIDE_VALUE), WIDE_VALUE - 1],
  ])('writes a wide value (%s) as pieces of its own, escaped as any value', (_, value, escaped, widest) => {
    const pieces = [
      ...encodeCopyText([
        ['1', value, 'z'],
        ['2', value, null],
      ]),
    ];
    expect(pieces.join('')).toBe(`1\t${escaped}\tz\n2\t${escaped}\t\\N\n`);
    // The value's text (or its escaped copy) is a piece alone, never within a chunk of others.
    expect(Math.max(...pieces.map((x) => x.length))).toBe(widest);
  });

  it.each([
    ['bytes in their hex form', `\\x${'ab'.repeat(2 * WIDE_PIECE)}`, `\\\\x${'ab'.repeat(2 * WIDE_PIECE)}`],
    [
      "text with a character of two UTF-16 units across a piece's end",
      `${'d'.repeat(WIDE_PIECE)}\u{1F600}${'e'.repeat(WIDE_PIECE)}`,
      null,
    ],
    ['text to escape', `a\t${'b'.repeat(WIDE_PIECE)}`, `a\\t${'b'.repeat(WIDE_PIECE)}`],
  ])(
    'cuts a value longer than WIDE_PIECE (%s) into pieces no longer, none ending inside a character',
    (_, value, escaped) => {
      const pieces = [...encodeCopyText([['1', value]])];
      expect(pieces.join('')).toBe(`1\t${escaped ?? value}\n`);
      expect(Math.max(...pieces.map((x) => x.length))).toBeLessThanOrEqual(WIDE_PIECE);
      expect(pieces.length).toBeGreaterThan(2);
      // A piece becomes bytes alone: half a character would become U+FFFD.
      for (const piece of pieces) expect(Buffer.from(piece, 'utf8').toString('utf8')).toBe(piece);
    },
  );
});
