// Oracle describes a query's columns but not which table each comes from. AUTO (a unique key
// of the one table SRCQUERY reads) therefore recognises the plain form alone:
//   SELECT * FROM [owner.]table [WHERE …]
//   SELECT col, col, … FROM [owner.]table [WHERE …]
// Anything else (joins, expressions, aliases, GROUP BY, set operators, …) reads as "not one
// table": AUTO then needs CHKPNTCOLUMN, or it takes ROWCOUNT, and says why.
import { resolveOracleIdentifier } from './oracle-names';

export interface SingleTable {
  /** The owner written in the query; null: the session's current schema. */
  owner: string | null;
  name: string;
  /** The returned name of each table column the query selects; null for SELECT *. */
  columns: Map<string, string> | null;
}

const NAME = String.raw`(?:"[^"]+"|[A-Za-z][\w$#]*)`;
const PLAIN = new RegExp(
  String.raw`^\s*SELECT\s+(\*|${NAME}(?:\s*,\s*${NAME})*)\s+FROM\s+(${NAME})(?:\s*\.\s*(${NAME}))?(?:\s+WHERE\s[\s\S]*)?$`,
  'i',
);
const NOT_PLAIN =
  /\b(GROUP\s+BY|CONNECT\s+BY|START\s+WITH|UNION|INTERSECT|MINUS|EXCEPT|MODEL|PIVOT|UNPIVOT|FETCH\s+FIRST|OFFSET|ROWNUM)\b/i;

export function singleTable(query: string): SingleTable | null {
  const text = query.replace(/[\s;/]+$/, '');
  const m = PLAIN.exec(text);
  if (!m || NOT_PLAIN.test(text) || /--|\/\*/.test(text)) return null;
  try {
    const [owner, name] = m[3]
      ? [resolveOracleIdentifier(m[2]), resolveOracleIdentifier(m[3])]
      : [null, resolveOracleIdentifier(m[2])];
    const columns =
      m[1] === '*'
        ? null
        : new Map(
            m[1]
              .split(',')
              .map((c) => resolveOracleIdentifier(c.trim()))
              .map((c) => [c, c]),
          );
    return { owner, name, columns };
  } catch {
    return null;
  }
}
