// Passwords written into connection URLs (user:password@host, or ?password=): CONURL and
// DMS_METADATA_URL should carry none, and the scripts that take a URL with one split it off.

/** A URL split into the URL without its password and that password. Throws if it does not parse. */
export function splitPassword(url: string): { url: string; password?: string } {
  const parsed = new URL(url);
  const password = parsed.password ? decodeURIComponent(parsed.password) : (parsed.searchParams.get('password') ?? '');
  if (!password) return { url };
  parsed.password = '';
  parsed.searchParams.delete('password');
  return { url: parsed.toString(), password };
}

/**
 * The URL with its database (the path) set to `database`, its parameters (sslmode, options, …)
 * kept: the scripts that take one server's URL reach each of their databases this way.
 */
export function urlForDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}
