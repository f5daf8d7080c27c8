import type { Dialect, DriverErrorShape, ErrorReading } from './dialect';
import { mariadbDialect } from './mariadb/mariadb-dialect';
import { oracleDialect } from './oracle/oracle-dialect';
import { postgresDialect } from './postgres/postgres-dialect';

export * from './dialect';
export { IdentifierError, splitIdentifierList } from '../common/identifiers';
export { rowText, type RowValue } from './row-values';

const DIALECTS: Dialect[] = [postgresDialect, mariadbDialect, oracleDialect];

/** The DBTYP values this version can run. */
export const SUPPORTED_DBTYPS = DIALECTS.flatMap((d) => [d.dbtyp, ...(d.aliases ?? [])]);

/** The dialect for a DMS_DBCONDTLS.DBTYP value ('POSTGRES', ...), or undefined. */
export function dialectFor(dbtyp: string): Dialect | undefined {
  const wanted = dbtyp.trim().toUpperCase();
  // 'POSTGRESQL' is what people also write; accept it as the same database.
  return DIALECTS.find((d) => d.dbtyp === wanted || d.aliases?.includes(wanted));
}

/**
 * What the dialects read in an error beyond its SQLSTATE (Dialect.readError): each knows only
 * its own driver's forms, so the first that recognises the error answers; {} when none does.
 */
export function readDatabaseError(err: unknown): ErrorReading {
  const shape = (err ?? {}) as DriverErrorShape;
  for (const dialect of DIALECTS) {
    const reading = dialect.readError?.(shape);
    if (reading) return reading;
  }
  return {};
}
