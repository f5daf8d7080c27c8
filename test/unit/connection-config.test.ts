// How a connection's URL and its separately kept password become a driver configuration.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ClientEnv, readEnv } from '../../common/env';
import { splitPassword, urlForDatabase } from '../../common/url-password';
import { PasswordRequiredError } from '../../dialects';
import { postgresPoolConfig } from '../../dialects/postgres/postgres-connection';

/** What node-postgres itself makes of a configuration: the parameters a client connects with. */
function clientParameters(config: pg.PoolConfig) {
  const client = new pg.Client(config);
  return {
    user: client.user,
    host: client.host,
    port: client.port,
    database: client.database,
    password: client.password,
    ssl: client.ssl,
  };
}

describe('PostgreSQL pool configuration', () => {
  it('keeps the password given beside a URL that has none', () => {
    const config = postgresPoolConfig('postgres://etl@db.example:6543/sales?sslmode=disable', {
      password: 'pw from PWDENV',
      fallBack: false,
    });
    expect(config.connectionString).toBeUndefined();
    expect(clientParameters(config)).toEqual({
      user: 'etl',
      host: 'db.example',
      port: 6543,
      database: 'sales',
      password: 'pw from PWDENV',
      ssl: false,
    });
  });

  it('keeps the URL’s options, with its own settings after them', () => {
    const config = postgresPoolConfig(
      'postgres://etl@h/db?options=-c%20search_path%3Dstage&application_name=x',
      { password: 'p', fallBack: false },
      { options: '-c TimeZone=UTC', application_name: 'dms-etl source' },
    );
    expect(config.options).toBe('-c search_path=stage -c TimeZone=UTC');
    expect(config.application_name).toBe('dms-etl source');
  });

  it('offers no password from anywhere else when the connection has none', async () => {
    const config = postgresPoolConfig('postgres://etl@h/db', { fallBack: false });
    expect(typeof config.password).toBe('function');
    expect(() => (config.password as () => string)()).toThrow(PasswordRequiredError);
  });

  it('lets the metadata database fall back on PGPASSWORD, as libpq does', () => {
    const config = postgresPoolConfig('postgres://meta@h/dms', { fallBack: true });
    expect(config.password).toBeFalsy();
    const before = process.env.PGPASSWORD;
    process.env.PGPASSWORD = 'from PGPASSWORD';
    try {
      expect(clientParameters(config).password).toBe('from PGPASSWORD');
    } finally {
      if (before === undefined) delete process.env.PGPASSWORD;
      else process.env.PGPASSWORD = before;
    }
  });

  it('keeps a password written in the URL when none is given beside it', () => {
    expect(clientParameters(postgresPoolConfig('postgres://meta:in%20url@h/dms', { fallBack: true })).password).toBe(
      'in url',
    );
  });
});

describe('passwords in URLs', () => {
  it('splits the password off a URL', () => {
    expect(splitPassword('postgres://etl:s%3Acret@h:5432/db?sslmode=require')).toEqual({
      url: 'postgres://etl@h:5432/db?sslmode=require',
      password: 's:cret',
    });
    expect(splitPassword('postgres://etl@h/db?password=x&sslmode=require')).toEqual({
      url: 'postgres://etl@h/db?sslmode=require',
      password: 'x',
    });
    expect(splitPassword('postgres://etl@h/db')).toEqual({ url: 'postgres://etl@h/db' });
  });

  it('points a server URL at one of its databases, keeping its parameters', () => {
    expect(urlForDatabase('postgres://etl@h:5432/?sslmode=require&sslrootcert=/ca.pem', 'dms_demo_src')).toBe(
      'postgres://etl@h:5432/dms_demo_src?sslmode=require&sslrootcert=/ca.pem',
    );
    expect(urlForDatabase('postgres://etl@h:5432/postgres', 'dms_demo_meta')).toBe(
      'postgres://etl@h:5432/dms_demo_meta',
    );
    expect(urlForDatabase('postgres://etl@h', 'd')).toBe('postgres://etl@h/d');
  });

  it('takes the metadata password from DMS_METADATA_PASSWORD, but not from both it and the URL', () => {
    expect(
      readEnv(ClientEnv, { DMS_METADATA_URL: 'postgres://meta@h/dms', DMS_METADATA_PASSWORD: 'p' })
        .DMS_METADATA_PASSWORD,
    ).toBe('p');
    expect(() =>
      readEnv(ClientEnv, { DMS_METADATA_URL: 'postgres://meta:q@h/dms', DMS_METADATA_PASSWORD: 'p' }),
    ).toThrow(
      /DMS_METADATA_PASSWORD is set and DMS_METADATA_URL carries a password too: remove the password from DMS_METADATA_URL/,
    );
    expect(() => readEnv(ClientEnv, { DMS_METADATA_URL: 'postgres://meta@h/dms', DMS_METADATA_PASSWORD: '' })).toThrow(
      /DMS_METADATA_PASSWORD is empty/,
    );
  });
});
