import { createHash } from 'node:crypto';
import { ConfigError } from '../common/errors';
import { urlFailure } from './connection-failures';
import {
  ConnectionUrlError,
  dialectFor,
  SUPPORTED_DBTYPS,
  type Closeable,
  type ConnectionSpec,
  type Dialect,
  type SessionOptions,
  type SourceDatabase,
  type TargetDatabase,
} from '../dialects';

/** Opens each connection once per worker and keeps its pool; closes them all at shutdown. */
export class DatabaseRegistry {
  private readonly sources = new Map<string, SourceDatabase & Closeable>();
  private readonly targets = new Map<string, TargetDatabase & Closeable>();

  constructor(private readonly session: SessionOptions) {}

  dialect(mapref: string, field: string, spec: ConnectionSpec): Dialect {
    const dialect = dialectFor(spec.dbtyp);
    if (!dialect) {
      throw new ConfigError(
        mapref,
        field,
        `uses connection '${spec.conid}' of DBTYP '${spec.dbtyp}', which this version cannot run`,
        `use a connection of DBTYP ${SUPPORTED_DBTYPS.join(', ')}`,
      );
    }
    return dialect;
  }

  source(mapref: string, spec: ConnectionSpec): SourceDatabase {
    const dialect = this.dialect(mapref, 'SRCCONID', spec);
    return cached(this.sources, spec, () =>
      opened(mapref, 'SRCCONID', spec, () => dialect.openSource(spec, this.session)),
    );
  }

  target(mapref: string, spec: ConnectionSpec): TargetDatabase {
    const dialect = this.dialect(mapref, 'TRGCONID', spec);
    const open = dialect.openTarget?.bind(dialect);
    if (!open) {
      const targets = SUPPORTED_DBTYPS.filter((t) => dialectFor(t)?.openTarget);
      throw new ConfigError(
        mapref,
        'TRGCONID',
        `uses connection '${spec.conid}' of DBTYP '${spec.dbtyp}', which this version can read from but not yet load into`,
        `load into a connection of DBTYP ${targets.join(', ')}`,
      );
    }
    return cached(this.targets, spec, () => opened(mapref, 'TRGCONID', spec, () => open(spec, this.session)));
  }

  async close(): Promise<void> {
    const all = [...this.sources.values(), ...this.targets.values()];
    this.sources.clear();
    this.targets.clear();
    await Promise.allSettled(all.map((db) => db.close()));
  }
}

/** A pool opened for a connection; a CONURL the dialect cannot use is a ConfigError naming the connection. */
function opened<T>(mapref: string, field: string, spec: ConnectionSpec, open: () => T): T {
  try {
    return open();
  } catch (err) {
    if (err instanceof ConnectionUrlError) throw urlFailure(mapref, field, spec.conid, err);
    throw err;
  }
}

function cached<T extends Closeable>(map: Map<string, T>, spec: ConnectionSpec, open: () => T): T {
  // A changed URL or password opens a new pool; the key never holds the password itself.
  const key = createHash('sha256')
    .update(JSON.stringify([spec.conid, spec.dbtyp, spec.url, spec.password ?? '']))
    .digest('hex');
  let db = map.get(key);
  if (!db) {
    db = open();
    map.set(key, db);
  }
  return db;
}
