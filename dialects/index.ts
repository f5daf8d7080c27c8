import type { Dialect } from './dialect';
import { postgresDialect } from './postgres/postgres-dialect';

export * from './dialect';
export { IdentifierError, splitIdentifierList } from './identifiers';

const DIALECTS: Dialect[] = [postgresDialect];

/** The DBTYP values this version can run. */
export const SUPPORTED_DBTYPS = DIALECTS.map((d) => d.dbtyp);

/** The dialect for a DMS_DBCONDTLS.DBTYP value ('POSTGRES', ...), or undefined. */
export function dialectFor(dbtyp: string): Dialect | undefined {
  const wanted = dbtyp.trim().toUpperCase();
  // 'POSTGRESQL' is what people also write; accept it as the same database.
  return DIALECTS.find((d) => d.dbtyp === wanted || (d.dbtyp === 'POSTGRES' && wanted === 'POSTGRESQL'));
}
