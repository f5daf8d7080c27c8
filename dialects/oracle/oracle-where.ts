// Which Oracle database a session is in (its unique name and container, the same for every
// session of one pluggable database) and its current schema.
import oracledb from 'oracledb';

const WHERE_AM_I_SQL = `SELECT SYS_CONTEXT('USERENV', 'DB_UNIQUE_NAME') || '/' || SYS_CONTEXT('USERENV', 'CON_NAME'), SYS_CONTEXT('USERENV', 'CURRENT_SCHEMA') FROM DUAL`;

export async function whereAmI(connection: oracledb.Connection): Promise<{ database: string; schema: string }> {
  const rows =
    (await connection.execute<[string, string]>(WHERE_AM_I_SQL, [], { outFormat: oracledb.OUT_FORMAT_ARRAY })).rows ??
    [];
  return { database: String(rows[0]?.[0] ?? ''), schema: String(rows[0]?.[1] ?? '') };
}
