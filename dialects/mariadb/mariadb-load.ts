// How rows in their shared text form (dialect.ts, RowBatch) load into MariaDB: LOAD DATA LOCAL
// INFILE reads them as tab-separated text (../tab-text.ts) streamed from the worker, bytes as
// their bytes (loadDataSql), and a column whose text MariaDB would not read as its type is read
// into a variable and converted: bits from a string of bits, PostgreSQL's booleans (t, f) and
// its zoned timestamps, printed in UTC with a +00 suffix that MariaDB's types have no room for.
import { BYTES_TYPES, type TableColumn } from './mariadb-types';
import { quoteMariaDbIdentifier } from './mariadb-sql';

/** The file name LOAD DATA asks the client for; the worker answers with its stream of rows. */
const ROWS_STREAM = 'dms-rows';

/** The expression that turns the text in `v` (a user variable, or its conversion) into the column's value; null: read as is. */
function loadExpression(column: TableColumn, v: string): string | null {
  const type = column.columnType.toLowerCase();
  const dataType = column.dataType.toLowerCase();
  if (/^tinyint\(1\)/.test(type))
    return `CASE ${v} WHEN 't' THEN 1 WHEN 'f' THEN 0 WHEN 'true' THEN 1 WHEN 'false' THEN 0 ELSE ${v} END`;
  if (dataType === 'bit') return `CAST(CONV(${v}, 2, 10) AS UNSIGNED)`;
  if (dataType === 'datetime' || dataType === 'timestamp')
    return `IF(${v} LIKE '%+00', LEFT(${v}, CHAR_LENGTH(${v}) - 3), ${v})`;
  return null;
}

/** Column types whose values LOAD DATA … CHARACTER SET binary would take as bytes, not text: they are converted. */
const CHARACTER_TYPES = new Set([
  'char',
  'varchar',
  'tinytext',
  'text',
  'mediumtext',
  'longtext',
  'enum',
  'set',
  'json',
]);

/** Whether a column holds bytes: its values load as they are, from their bytes (see loadDataSql). */
const holdsBytes = (column: TableColumn | undefined) =>
  column !== undefined && BYTES_TYPES.has(column.dataType.toLowerCase());

/**
 * Which of `columns` the stream writes as bytes (tab-text.ts, RawBytes): every column that holds
 * bytes, or none where the table has none of them.
 */
export function bytesColumns(columns: string[], table: Map<string, TableColumn>): boolean[] {
  return columns.map((name) => holdsBytes(table.get(name)));
}

/**
 * LOAD DATA of `columns` (each described by `table`) into `relation`, from the client's
 * stream: the columns read as they are are named in the list, the others through a variable.
 *
 * Where a column holds bytes, the stream carries them as bytes (bytesColumns) and is read as
 * CHARACTER SET binary: MariaDB takes each value's bytes as they are, with nothing to decode (half
 * the bytes of their hex form, and about half the server's time for a load of documents). Text
 * then arrives as bytes too, so each text column, and each value an expression reads, is
 * converted from the stream's utf8mb4 as the load would have read it.
 */
export function loadDataSql(
  relation: string,
  columns: string[],
  table: Map<string, TableColumn>,
  bytes = bytesColumns(columns, table),
): string {
  const raw = bytes.some(Boolean);
  const list: string[] = [];
  const sets: string[] = [];
  columns.forEach((name, i) => {
    const described = table.get(name);
    const v = `@v${i}`;
    const text = raw ? `CONVERT(${v} USING utf8mb4)` : v;
    const expression = described ? loadExpression(described, text) : null;
    const converted = raw && described !== undefined && CHARACTER_TYPES.has(described.dataType.toLowerCase());
    if (expression !== null || converted) {
      list.push(v);
      sets.push(`${quoteMariaDbIdentifier(name)} = ${expression ?? text}`);
    } else list.push(quoteMariaDbIdentifier(name));
  });
  return (
    `LOAD DATA LOCAL INFILE '${ROWS_STREAM}' INTO TABLE ${relation} CHARACTER SET ${raw ? 'binary' : 'utf8mb4'}\n` +
    `FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n'\n` +
    `(${list.join(', ')})${sets.length ? `\nSET ${sets.join(', ')}` : ''}`
  );
}
