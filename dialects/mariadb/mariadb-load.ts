// How rows in their shared text form (dialect.ts, RowBatch) load into MariaDB: LOAD DATA LOCAL
// INFILE reads them as tab-separated text (../tab-text.ts) streamed from the worker, and a
// column whose text MariaDB would not read as its type is read into a variable and converted:
// bytes from their hex form, bits from a string of bits, PostgreSQL's booleans (t, f) and its
// zoned timestamps, printed in UTC with a +00 suffix that MariaDB's types have no room for.
import type { TableColumn } from './mariadb-types';
import { quoteMariaDbIdentifier } from './mariadb-sql';

/** The file name LOAD DATA asks the client for; the worker answers with its stream of rows. */
export const ROWS_STREAM = 'dms-rows';

/** The expression that turns the text in `v` (a user variable) into the column's value; null: read as is. */
export function loadExpression(column: TableColumn, v: string): string | null {
  const type = column.columnType.toLowerCase();
  const dataType = column.dataType.toLowerCase();
  if (/^tinyint\(1\)/.test(type)) return `CASE ${v} WHEN 't' THEN 1 WHEN 'f' THEN 0 WHEN 'true' THEN 1 WHEN 'false' THEN 0 ELSE ${v} END`;
  if (/binary|blob/.test(dataType)) {
    // A value that is not in the hex form fails (a cast that warns, and any warning fails the
    // load) rather than load as something else.
    return `IF(LEFT(${v}, 2) = '\\\\x', UNHEX(SUBSTRING(${v}, 3)), CAST(CONCAT('not hex: ', ${v}) AS DECIMAL))`;
  }
  if (dataType === 'bit') return `CAST(CONV(${v}, 2, 10) AS UNSIGNED)`;
  if (dataType === 'datetime' || dataType === 'timestamp') return `IF(${v} LIKE '%+00', LEFT(${v}, CHAR_LENGTH(${v}) - 3), ${v})`;
  return null;
}

/**
 * LOAD DATA of `columns` (each described by `table`) into `relation`, from the client's
 * stream: the columns read as they are are named in the list, the others through a variable.
 */
export function loadDataSql(relation: string, columns: string[], table: Map<string, TableColumn>): string {
  const list: string[] = [];
  const sets: string[] = [];
  columns.forEach((name, i) => {
    const described = table.get(name);
    const expression = described ? loadExpression(described, `@v${i}`) : null;
    if (expression === null) list.push(quoteMariaDbIdentifier(name));
    else {
      list.push(`@v${i}`);
      sets.push(`${quoteMariaDbIdentifier(name)} = ${expression}`);
    }
  });
  return (
    `LOAD DATA LOCAL INFILE '${ROWS_STREAM}' INTO TABLE ${relation} CHARACTER SET utf8mb4\n` +
    `FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n'\n` +
    `(${list.join(', ')})${sets.length ? `\nSET ${sets.join(', ')}` : ''}`
  );
}
