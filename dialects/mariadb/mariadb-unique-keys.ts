// The unique keys of a MariaDB table that can identify a row: its primary key and each unique
// index whose columns are all NOT NULL (rows with a NULL in a unique index never conflict, so
// such an index neither orders a KEY load nor matches an UPSERT). Shared by the source (AUTO)
// and the target (TRGKEYCOLS).
import type { RowDataPacket } from 'mysql2';

export type Rows = (sql: string, values: unknown[]) => Promise<RowDataPacket[]>;

/**
 * The keys of `schema`.`table`, primary first, each as the names `named` gives its columns
 * (a key with a column `named` does not know is left out).
 */
export async function uniqueKeysOfTable(
  rows: Rows,
  schema: string,
  table: string,
  named: (column: string) => string | undefined = (c) => c,
): Promise<string[][]> {
  const found = await rows(
    `SELECT s.INDEX_NAME AS idx, s.COLUMN_NAME AS col, c.IS_NULLABLE AS nullable
       FROM information_schema.STATISTICS s
       JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = s.TABLE_SCHEMA AND c.TABLE_NAME = s.TABLE_NAME AND c.COLUMN_NAME = s.COLUMN_NAME
      WHERE s.TABLE_SCHEMA = ? AND s.TABLE_NAME = ? AND s.NON_UNIQUE = 0
      ORDER BY s.INDEX_NAME = 'PRIMARY' DESC, s.INDEX_NAME, s.SEQ_IN_INDEX`,
    [schema, table],
  );
  const indexes = new Map<string, { cols: string[]; ok: boolean }>();
  for (const r of found) {
    const entry = indexes.get(String(r.idx)) ?? { cols: [], ok: true };
    const name = named(String(r.col));
    if (name === undefined || r.nullable !== 'NO') entry.ok = false;
    else entry.cols.push(name);
    indexes.set(String(r.idx), entry);
  }
  return [...indexes.values()].filter((i) => i.ok).map((i) => i.cols);
}
