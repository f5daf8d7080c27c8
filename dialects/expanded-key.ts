// A keyset's lower bound on a key of several columns, in the expanded form
//   (a > ?) OR (a = ? AND b > ?) OR (a = ? AND b = ? AND c > ?)
// for databases whose row-value comparison either uses no index (MariaDB: only = and IN do) or
// does not exist (Oracle: ORA-01796). Each dialect renders its columns and binds.

/**
 * key > bound, expanded. `bind` is called once per placeholder, in the order the placeholders
 * appear in the text (a dialect that numbers its binds counts there); their values, in that
 * order, are expandValues(bound).
 */
export function expandedGreaterThan<P>(key: P[], column: (part: P) => string, bind: (part: P) => string): string {
  const terms = key.map((part, i) =>
    [...key.slice(0, i).map((p) => `${column(p)} = ${bind(p)}`), `${column(part)} > ${bind(part)}`].join(' AND '),
  );
  return `(${terms.map((t) => `(${t})`).join(' OR ')})`;
}

/** The values expandedGreaterThan binds for a key value: each prefix, then the column itself. */
export function expandValues(value: string[]): string[] {
  return value.flatMap((_, i) => value.slice(0, i + 1));
}
