// Opens the metadata database named by the environment and logs in once, so that a wrong
// URL or password is reported at start-up, naming the variables to fix.
import type { ClientEnv } from '../common/env';
import { EnvError } from '../common/errors';
import { splitPassword } from '../common/url-password';
import { ConnectionUrlError, isTransient, redactedMessage, tlsProblemOf } from '../dialects';
import { postgresTlsFix } from '../dialects/postgres/postgres-connection';
import { Metadata } from './repository';

export async function openMetadata(
  env: Pick<ClientEnv, 'DMS_METADATA_URL' | 'DMS_METADATA_PASSWORD'>,
): Promise<Metadata> {
  let metadata: Metadata;
  try {
    metadata = Metadata.open(env.DMS_METADATA_URL, env.DMS_METADATA_PASSWORD);
  } catch (err) {
    throw metadataLoginError(env.DMS_METADATA_URL, err);
  }
  try {
    await metadata.pool.query('SELECT 1');
    return metadata;
  } catch (err) {
    await metadata.close();
    throw metadataLoginError(env.DMS_METADATA_URL, err);
  }
}

/** Why the metadata database refused us, and what to set; never the password. */
export function metadataLoginError(url: string, err: unknown): EnvError {
  let shown: string;
  try {
    shown = splitPassword(url).url;
  } catch {
    shown = '(a URL that does not parse)';
  }
  if (err instanceof ConnectionUrlError)
    return new EnvError(`DMS_METADATA_URL=${shown} ${err.problem}. Fix: in DMS_METADATA_URL, ${err.fix}`);
  const detail = redactedMessage(err as Error);
  const tls = tlsProblemOf(err);
  if (tls)
    return new EnvError(
      `Cannot open a TLS session with the metadata database at DMS_METADATA_URL=${shown}: ${detail}. Fix: in DMS_METADATA_URL, ${postgresTlsFix(tls)}`,
    );
  if (isTransient(err)) {
    return new EnvError(
      `Cannot reach the metadata database at DMS_METADATA_URL=${shown}: ${detail}. Fix: start it, or point DMS_METADATA_URL at it`,
    );
  }
  return new EnvError(
    `Cannot log in to the metadata database at DMS_METADATA_URL=${shown}: ${detail}. ` +
      'Fix: correct the user and database in DMS_METADATA_URL, and set DMS_METADATA_PASSWORD (or PGPASSWORD) to the password of its user',
  );
}
